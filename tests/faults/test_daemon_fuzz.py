"""Hypothesis against a live editor daemon: frames with bodies nested thousands deep, invalid
UTF-8, JSON of every wrong type, ids that are arrays, objects, booleans or floats, garbage between
frames. After each one a well-formed request must still be answered: the daemon stays up, writes
nothing but frames on stdout, and no error carries a Python traceback (local paths)."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from support import ROOT


class Daemon:
    """``livyd --stdio --standalone`` over plain pipes, with a strict LSP frame reader."""

    def __init__(self, tmp: Path) -> None:
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("LIVY")},
               "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               "XDG_CONFIG_HOME": str(tmp / "xdg-config"), "XDG_STATE_HOME": str(tmp / "xdg-state")}
        self.proc = subprocess.Popen([sys.executable, "-m", "livyd", "--stdio", "--standalone"], cwd=tmp,
                                     env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL)
        self.buf = b""
        self.next_id = 0
        self.frames: list[dict[str, Any]] = []

    def send(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def frame(self, body: bytes) -> None:
        self.send(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def _read_more(self, deadline: float) -> None:
        import time

        assert self.proc.stdout is not None
        left = deadline - time.monotonic()
        if left <= 0 or self.proc.poll() is not None:
            raise AssertionError(f"the daemon did not answer (exit status {self.proc.poll()})")
        ready, _, _ = select.select([self.proc.stdout], [], [], left)
        if ready:
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if not chunk:
                raise AssertionError("the daemon closed stdout")
            self.buf += chunk

    def read_frame(self, deadline: float) -> dict[str, Any]:
        while b"\r\n\r\n" not in self.buf:
            self._read_more(deadline)
        head, _, rest = self.buf.partition(b"\r\n\r\n")
        headers = dict(line.split(": ", 1) for line in head.decode("ascii").split("\r\n"))
        length = int(headers["Content-Length"])  # anything else on stdout breaks this: not a frame
        while len(rest) < length:
            self._read_more(deadline)
            head, _, rest = self.buf.partition(b"\r\n\r\n")
        body, self.buf = rest[:length], rest[length:]
        message: dict[str, Any] = json.loads(body)
        self.frames.append(message)
        return message

    def request(self, method: str, params: Any = None) -> dict[str, Any]:
        import time

        self.next_id += 1
        ident = f"marker-{self.next_id}"
        self.frame(json.dumps({"jsonrpc": "2.0", "id": ident, "method": method, "params": params}).encode())
        deadline = time.monotonic() + 20
        while True:
            message = self.read_frame(deadline)
            if message.get("id") == ident and "method" not in message:
                return message

    def rss(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    tmp = tmp_path_factory.mktemp("fuzz-daemon")
    d = Daemon(tmp)
    first = d.request("initialize", {"processId": None, "rootUri": None, "capabilities": {},
                                     "initializationOptions": {"profile": None, "settings": {
                                         "url": "http://127.0.0.1:9", "stateDir": str(tmp / "state")}}})
    assert "result" in first, first
    d.frame(json.dumps({"jsonrpc": "2.0", "method": "initialized", "params": {}}).encode())
    yield d
    d.close()


ids = st.one_of(st.integers(), st.text(max_size=5), st.none(), st.booleans(), st.floats(),
                st.lists(st.integers(), max_size=2),
                st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))
# ("shutdown" is left out: after it every request is refused by design, which would leave the rest
# of the run nothing to find; test_requests_after_shutdown_are_refused_not_dropped covers it)
methods = st.one_of(st.sampled_from(["livy/execute", "livy/cancel", "livy/status", "livy/listSessions",
                                     "livy/readLog", "initialize", "$/cancelRequest",
                                     "livy/nope", ""]),
                    st.integers(), st.none(), st.lists(st.text(max_size=3)))
leaves = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                   st.text(max_size=10))
params = st.recursive(leaves, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=10)


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["request", "deep", "binary", "value", "utf8", "garbage-then-frame"]))
    if kind == "request":
        message: dict[str, Any] = {"jsonrpc": draw(st.sampled_from(["2.0", "1.0", 2])),
                                   "method": draw(methods)}
        if draw(st.booleans()):
            message["id"] = draw(ids)
        if draw(st.booleans()):
            message["params"] = draw(params)
        return json.dumps(message).encode()
    if kind == "deep":
        n = draw(st.integers(min_value=50, max_value=6000))
        open_, close = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
        inner = "1" if open_.startswith("{") else ""
        return (open_ * n + inner + close * n).encode()
    if kind == "binary":
        return draw(st.binary(min_size=1, max_size=60))
    if kind == "utf8":
        return b'{"jsonrpc": "2.0", "id": 1, "method": "livy/execute", "params": {"code": "\xff\xfe"}}'
    if kind == "garbage-then-frame":
        return b"\x00garbage\r\n\r\n"  # sent raw, without a header, by the test
    return json.dumps(draw(params)).encode()


# No shrinking: one daemon serves every example, so once it stops answering every later example
# fails too, and shrinking would try (each for its whole deadline) for ever; the first failing
# frame is reported as it is.
@settings(max_examples=300, deadline=None, database=None,
          phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=bodies())
def test_every_frame_is_answered_and_the_daemon_stays_up(daemon: Daemon, body: bytes) -> None:
    seen = len(daemon.frames)
    if body.startswith(b"\x00garbage"):
        daemon.send(body)
    else:
        daemon.frame(body)
    answer = daemon.request("livy/status", {})  # still answering, in order
    assert "result" in answer or "error" in answer
    for message in daemon.frames[seen:]:
        error = message.get("error")
        if error is not None:
            data = json.dumps(error.get("data"))
            assert 'File \\"/' not in data and "Traceback" not in data, error  # no local paths


def test_rss_under_the_fuzzing(daemon: Daemon) -> None:
    """A figure, not a limit: the daemon's resident memory after the fuzzing above."""
    print(f"daemon RSS after fuzzing: {daemon.rss() / 2**20:.1f} MiB, {len(daemon.frames)} frames answered")
    assert daemon.proc.poll() is None
