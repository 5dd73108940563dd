"""A real ``livyd --stdio`` keeps answering after whatever garbage reaches its stdin.

Each case sends one kind of broken input, then a well-formed request that must be answered:
before the sans-IO frame parser, stray bytes, a non-numeric ``Content-Length`` or a truncated
body made the daemon read every later frame out of step, so it never answered again.
"""

from __future__ import annotations

import json
import random
from typing import Any

import anyio
import pytest

pytestmark = pytest.mark.anyio


def frame(obj: object) -> bytes:
    body = json.dumps(obj).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


STATUS = {"jsonrpc": "2.0", "id": 424242, "method": "livy/status", "params": {}}

CASES: dict[str, bytes] = {
    "stray bytes": bytes([0x9C, 0x11, 0xFF, 0x00, 0x41]),
    "non-numeric length": b"Content-Length: abc\r\n\r\n{}",
    "negative length": b"Content-Length: -3\r\n\r\n",
    "truncated body": frame(STATUS)[:-9],
    "header without length": b"Content-Type: x\r\n\r\n",
    "random noise": bytes(random.Random(7).getrandbits(8) for _ in range(3000)),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_the_daemon_answers_after_garbage(spawn_daemon: Any, case: str) -> None:
    async with spawn_daemon() as client:
        await client.send_raw(CASES[case])
        with anyio.fail_after(15):
            status = await client.request("livy/status", {})
        assert status["pid"] == client.process.pid
        parse_errors = [m.raw for m in client.messages
                        if m.raw.get("id") is None and m.raw.get("error", {}).get("code") == -32700]
        assert parse_errors, "the garbage was not reported"
        assert client.stdout_violations == []
        assert await client.close() == 0


async def test_a_message_pygls_cannot_read_costs_one_log_line(spawn_daemon: Any) -> None:
    """pygls logs such messages with a whole exception-group traceback; the daemon keeps one line."""
    from livyd.daemon.harness import DaemonRequestError

    async with spawn_daemon() as client:
        with pytest.raises(DaemonRequestError):
            await client.request("textDocument/codeLens", {"bogus": 1})
        await client.request("livy/status", {})
        await client.wait_until(lambda: "Unable to deserialize message" in client.stderr,
                                timeout=10, what="the log line")
        line = next(ln for ln in client.stderr.splitlines() if "Unable to deserialize message" in ln)
        assert "KeyError: 'textDocument'" in line
        assert "Traceback" not in client.stderr
        assert await client.close() == 0


_ODD_VALUES: list[Any] = [None, 0, -1, 2**63, 1.5, "", "x", "../../etc/passwd", [], {}, [1, "a"],
                          {"a": None}, True, "\x00", "é" * 10, {"sessionId": -5}]
_KEYS = ["sessionId", "taskId", "code", "profile", "kind", "batchId", "from", "size", "uri",
         "range", "waitSeconds", "settings", "textDocument", "position", "command", "junk"]


def _mutate(rng: random.Random, obj: Any, depth: int = 0) -> Any:
    if rng.random() < 0.3 or depth > 3:
        return rng.choice(_ODD_VALUES)
    if isinstance(obj, dict):
        out = {k: _mutate(rng, v, depth + 1) if rng.random() < 0.5 else v for k, v in obj.items()}
        if rng.random() < 0.3:
            out[rng.choice(_KEYS)] = rng.choice(_ODD_VALUES)
        return out
    return obj


@pytest.mark.parametrize("seed", [1, 2])
async def test_fuzzed_requests_are_each_answered_once_and_the_daemon_lives(
    spawn_daemon: Any, sandbox_factory: Any, seed: int
) -> None:
    """Every livy/* and LSP method with mangled params, interleaved with framing garbage: every
    request gets exactly one answer (result or error), stdout holds nothing but frames, and the
    daemon still works afterwards. Methods that end or reset the daemon are left out.

    It gets a sandbox of its own: fuzzed kill/cancel requests must not touch other tests' sessions."""
    from livyd.protocol import METHODS

    rng = random.Random(seed)
    methods = sorted({m.name for m in METHODS} - {"livy/killAllSessions"})
    methods += ["textDocument/codeLens", "textDocument/completion", "workspace/executeCommand",
                "workspace/didChangeConfiguration", "window/workDoneProgress/cancel",
                "$/cancelRequest", "textDocument/didOpen", "nonsense/method"]
    own = sandbox_factory("--session-timeout", "900")
    async with spawn_daemon(url=own.livy_url) as client:
        sent = []
        for _ in range(120):
            roll = rng.random()
            if roll < 0.08:
                await client.send_raw(bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 60))))
            elif roll < 0.12:
                await client.send_raw(b"Content-Length: 12\r\n\r\n{\"jsonrpc\":")  # cut short
            else:
                base = {"code": "1 + 1", "sessionId": 0, "taskId": "t1", "profile": None}
                sent.append(await client.send_request(rng.choice(methods), _mutate(rng, base)))
        answered = 0
        for msg_id in sent:
            try:
                await client.response(msg_id, timeout=60)
            except Exception as exc:  # an error answer is fine; no answer is not
                assert "DaemonRequestError" in type(exc).__name__, (msg_id, exc)
            answered += 1
        assert answered == len(sent)
        ids = [m.raw.get("id") for m in client.messages if "result" in m.raw or "error" in m.raw]
        assert all(ids.count(i) == 1 for i in sent), "a request was answered twice"
        status = await client.request("livy/status", {})
        assert status["pid"] == client.process.pid
        assert client.stdout_violations == []
        assert await client.close() == 0
