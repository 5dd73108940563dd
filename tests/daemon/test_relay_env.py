"""A shared daemon serves each editor with that editor's configuration environment.

Editors started with different ``LIVY_*`` (or Kerberos, proxy, ...) variables get daemons of their
own, each talking to its own Livy with its own secrets; editors started with the same ones share
one daemon. Two real sandboxes, relays spawned as subprocesses, the daemons they start.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from daemon_helpers import output_of

from livyd.daemon._relay import config_environment, env_fingerprint
from livyd.daemon.harness import DaemonClient

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "relay-env-test-token-5f1c0a"

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def _editor(
    tmp_path: Path, run_dir: Path, name: str, env: dict[str, str]
) -> AsyncIterator[DaemonClient]:
    """``livyd --stdio`` (the relay) with *env* and no ``url`` setting: the environment decides."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("LIVY_", "LIVYD_"))}
    full = {
        **base,
        "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        "XDG_RUNTIME_DIR": str(run_dir),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg-config"),
        "XDG_STATE_HOME": str(tmp_path / "xdg-state"),
        "LIVYD_DAEMON_IDLE_EXIT": "1",
        **env,
    }
    opts = {
        "profile": None,
        "workspace": str(tmp_path),
        "settings": {
            "stateDir": str(tmp_path / f"state-{name}"),
            "pollInterval": 0.1,
            "deleteSessionsOnExit": True,
        },
    }
    cmd = [sys.executable, "-m", "livyd", "--stdio"]
    async with DaemonClient.spawn(cmd, env=full, cwd=str(tmp_path)) as client:
        await client.initialize(opts)
        yield client
        assert client.stdout_violations == []


async def _served_by(client: DaemonClient) -> int:
    """The pid of the sandbox whose session ran the code (a REPL's parent is its sandbox)."""
    started = await client.request("livy/execute", {"code": "import os; os.getppid()"})
    out: dict[str, Any] = await output_of(client, started["taskId"])
    return int(out["data"]["text/plain"])


async def test_editors_share_a_daemon_only_with_the_same_configuration_environment(
    sandbox: Any, sandbox_factory: Any, tmp_path: Path
) -> None:
    run_dir = Path(tempfile.mkdtemp(prefix="lre-", dir="/tmp"))  # AF_UNIX paths: at most 107 bytes
    try:
        await _three_editors(sandbox, sandbox_factory, tmp_path, run_dir)
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


async def _three_editors(sandbox: Any, sandbox_factory: Any, tmp_path: Path, run_dir: Path) -> None:
    other = sandbox_factory("--cancel-timeout", "3", "--token", TOKEN)
    env_a = {"LIVY_URL": sandbox.livy_url}
    env_b = {"LIVY_URL": other.livy_url, "LIVY_AUTH": "bearer", "LIVY_TOKEN": TOKEN}
    async with (
        _editor(tmp_path, run_dir, "a1", env_a) as a1,
        _editor(tmp_path, run_dir, "a2", env_a) as a2,
        _editor(tmp_path, run_dir, "b", env_b) as b,
    ):
        pids = [(await c.request("livy/status", {}))["pid"] for c in (a1, a2, b)]
        assert pids[0] == pids[1], "same environment: one shared daemon"
        assert pids[2] != pids[0], "another LIVY_URL/LIVY_TOKEN: a daemon of its own"
        assert not {a1.process.pid, a2.process.pid, b.process.pid} & set(pids)  # relays, not daemons
        sockets = sorted((run_dir / "livyd").glob("daemon-*.sock"))
        assert len(sockets) == 2
        assert all(TOKEN not in s.name for s in sockets)

        assert await _served_by(a1) == sandbox.proc.pid
        assert await _served_by(b) == other.proc.pid  # B's daemon holds B's token, from B's env
        assert await _served_by(a2) == sandbox.proc.pid

        # The token reached B's daemon through its environment, never a log or A's daemon.
        for client in (a1, a2, b):
            assert TOKEN not in client.stderr
        log = run_dir / "livyd" / "daemon.log"
        assert not log.exists() or TOKEN not in log.read_text(errors="replace")
    # Both daemons idle out once their editors left.
    with anyio.fail_after(20):
        while any((run_dir / "livyd").glob("daemon-*.sock")):  # noqa: ASYNC110 - files
            await anyio.sleep(0.1)
    # The other sandbox really required the token: what B's daemon sent it was its own secret.
    async with httpx.AsyncClient() as http:
        assert (await http.get(f"{other.livy_url}/sessions")).status_code == 401


def test_config_environment_takes_livy_kerberos_proxy_and_referenced_variables(tmp_path: Path) -> None:
    (tmp_path / "livyd.toml").write_text('profile_variable = "TEAM_ENV"\nurl = "${GATEWAY_URL}"\n')
    env = {
        "LIVY_URL": "http://a",
        "LIVYD_PROFILE": "p",
        "KRB5CCNAME": "FILE:/tmp/k",
        "HTTPS_PROXY": "http://p",
        "TEAM_ENV": "prod",
        "GATEWAY_URL": "https://g",
        "TERM": "xterm",
        "VSCODE_PID": "1",
        "LIVYD_DAEMON_HANDSHAKE_TIMEOUT": "3",
        "XDG_CONFIG_HOME": str(tmp_path / "none"),
    }
    got = config_environment(env, tmp_path)
    assert set(got) == {
        "LIVY_URL",
        "LIVYD_PROFILE",
        "KRB5CCNAME",
        "HTTPS_PROXY",
        "TEAM_ENV",
        "GATEWAY_URL",
        "XDG_CONFIG_HOME",
    }
    key = b"k" * 32
    same = env_fingerprint({**env, "TERM": "dumb"}, tmp_path, key=key)
    assert env_fingerprint(env, tmp_path, key=key) == same  # an editor's own variables do not split
    assert env_fingerprint({**env, "TEAM_ENV": "dev"}, tmp_path, key=key) != same
    assert env_fingerprint({**env, "KRB5CCNAME": "FILE:/tmp/j"}, tmp_path, key=key) != same
    assert env_fingerprint(env, tmp_path, key=b"x" * 32) != same  # keyed: nothing to guess from


class _ScriptedStream:
    """The daemon's side of a relay connection: records what the relay sends, answers once."""

    def __init__(self, answer: dict[str, Any]) -> None:
        body = json.dumps(answer).encode()
        self.inbox = [b"Content-Length: %d\r\n\r\n" % len(body) + body]
        self.sent = b""

    async def send(self, data: bytes) -> None:
        self.sent += data

    async def receive(self) -> bytes:
        if not self.inbox:
            await anyio.sleep_forever()
        return self.inbox.pop(0)


@pytest.mark.parametrize("theirs", ["0123456789abcdef", "fedcba9876543210"])
async def test_the_relay_sends_no_environment_and_refuses_a_daemon_of_another(
    theirs: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from livyd.daemon._relay import HELLO_ID, _say_hello

    monkeypatch.setenv("LIVY_TOKEN", TOKEN)
    monkeypatch.setenv("LIVY_URL", "http://user:pw-in-url@livy.example:8998")
    stream = _ScriptedStream({"jsonrpc": "2.0", "id": HELLO_ID, "result": {"pid": 1, "env": theirs}})
    ours = "0123456789abcdef"
    if theirs == ours:
        assert await _say_hello(stream, 5.0, ours) == b""  # type: ignore[arg-type]
    else:
        with pytest.raises(ConnectionError, match="another configuration environment"):
            await _say_hello(stream, 5.0, ours)  # type: ignore[arg-type]
    assert TOKEN.encode() not in stream.sent and b"pw-in-url" not in stream.sent
    assert b"LIVY" not in stream.sent  # only the relay's livyd version travels
