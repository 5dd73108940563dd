"""Secrets through the editor daemon (``livyd --stdio``) at debug level: the bearer token is shown
to reach the server (a token-protected sandbox answers; the proxy saw the header), then it, a URL's
userinfo and the Authorization header appear in no notification, response, error, stderr line,
output log or state file."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from proxy import FaultProxy
from support import ROOT, SandboxProcess, start_sandbox

from livyd.daemon.harness import DaemonClient, DaemonRequestError

TOKEN = "tok-Rr62-daemon-canary"
USERINFO = "ui-Pq18-daemon-canary"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIVY", "PROXY_USER", "AD_USER"))}
    env.update(PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               XDG_CONFIG_HOME=str(tmp_path / "xdg-config"), XDG_STATE_HOME=str(tmp_path / "xdg-state"),
               HOME=str(tmp_path), LIVYD_LOG_LEVEL="debug", **extra)
    return env


def _everything(client: DaemonClient, state: Path) -> str:
    frames = "\n".join(json.dumps(m.raw) for m in client.messages)
    files = "\n".join(p.read_bytes().decode("utf-8", "replace") for p in state.rglob("*") if p.is_file())
    return "\n".join([frames, client.stderr, files])


@pytest.mark.anyio
@pytest.mark.timeout(150)
async def test_daemon_keeps_the_token_and_userinfo_out_of_everything(tmp_path: Path) -> None:
    sb: SandboxProcess = start_sandbox(env={"LIVYD_SANDBOX_TOKEN": TOKEN})
    state = tmp_path / "state"
    try:
        with FaultProxy(sb.livy_url) as proxy:
            cmd = [sys.executable, "-m", "livyd", "--stdio", "--standalone"]
            async with DaemonClient.spawn(cmd, env=_env(tmp_path, LIVY_AUTH="bearer", LIVY_TOKEN=TOKEN),
                                          cwd=str(tmp_path)) as client:
                await client.initialize({"profile": None, "workspace": str(tmp_path), "settings": {
                    "url": proxy.url, "stateDir": str(state), "pollInterval": 0.1,
                    "deleteSessionsOnExit": True}})
                started = await client.request("livy/execute", {"code": "print(6 * 7)"})
                out = await client.wait_for_notification(
                    "livy/output", lambda p: p["taskId"] == started["taskId"], timeout=90)
                assert out["data"]["text/plain"] == "42"  # the token was accepted: it reached the server
                assert f"Bearer {TOKEN}" in [r.headers.get("authorization") for r in proxy.requests]
                assert "debug" in client.stderr  # LIVYD_LOG_LEVEL=debug traced the exchanges
            assert TOKEN not in _everything(client, state)

            async with DaemonClient.spawn(cmd, env=_env(tmp_path), cwd=str(tmp_path)) as client:
                await client.initialize({"profile": None, "workspace": str(tmp_path), "settings": {
                    "url": f"http://alice:{USERINFO}@127.0.0.1:9", "stateDir": str(state),
                    "pollInterval": 0.1}})
                try:  # nothing listens there: the error (and its traceback at debug) must not carry it
                    started = await client.request("livy/execute", {"code": "1"})
                    await client.wait_for_notification(
                        "livy/taskChanged", lambda p: p["taskId"] == started["taskId"]
                        and p["state"] == "failed", timeout=60)
                except DaemonRequestError as exc:
                    assert USERINFO not in str(exc)
                assert USERINFO not in _everything(client, state)
    finally:
        sb.stop()
