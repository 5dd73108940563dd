"""The editor daemon behind the fault proxy: statement POSTs that land unseen (connection reset
after the server got them, a gateway's 502/504 after it) run once, counted inside the REPL, and
their output reaches the editor; the daemon stays up and speaks only frames on stdout."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import anyio
import pytest
from fault_fixtures import RunCounter
from proxy import FaultProxy
from support import ROOT, SandboxProcess, start_sandbox

from livyd.daemon.harness import DaemonClient


def _env(tmp_path: Path) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if not k.startswith("LIVY")},
            "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
            "XDG_CONFIG_HOME": str(tmp_path / "xdg-config"), "XDG_STATE_HOME": str(tmp_path / "xdg-state")}


@pytest.mark.anyio
@pytest.mark.timeout(150)
async def test_landed_posts_run_once_and_their_output_arrives(sandbox: SandboxProcess,
                                                              tmp_path: Path) -> None:
    counters = [RunCounter(tmp_path / f"runs-{i}.txt") for i in range(3)]
    delivered: list[str] = []
    env = _env(tmp_path)
    with FaultProxy(sandbox.livy_url) as proxy:
        cmd = [sys.executable, "-m", "livyd", "--stdio", "--standalone"]
        async with DaemonClient.spawn(cmd, env=env, cwd=str(tmp_path)) as client:
            await client.initialize({"profile": None, "workspace": str(tmp_path), "settings": {
                "url": proxy.url, "stateDir": str(tmp_path / "state"), "pollInterval": 0.1,
                "deleteSessionsOnExit": True}})
            first = await client.request("livy/execute", {"code": "'warm'"})  # the session, untouched
            await client.wait_for_notification("livy/output", lambda p: p["taskId"] == first["taskId"],
                                               timeout=90)
            for counter, (action, status) in zip(counters, [("reset-after", 0), ("status-after", 502),
                                                             ("status-after", 504)], strict=True):
                proxy.add("POST", r"/statements$", action, status=status)
                started = await client.request("livy/execute", {"code": counter.code("'landed once'")})
                out = await client.wait_for_notification(
                    "livy/output", lambda p, t=started["taskId"]: p["taskId"] == t, timeout=90)
                assert out["data"]["text/plain"] == "'landed once'"
                assert counter.runs == 1, action
                delivered.append(started["taskId"])
            assert client.stdout_violations == []
    # no completed output is lost: each one is in the output log (written before it is notified)
    log_lines = (tmp_path / "state" / "outputs.jsonl").read_text(encoding="utf-8").splitlines()
    logged = {json.loads(line).get("taskId") for line in log_lines}
    assert set(delivered) <= logged, (delivered, logged)


@pytest.mark.anyio
@pytest.mark.timeout(150)
async def test_a_restart_where_someone_else_gets_session_0(tmp_path: Path) -> None:
    """Issue 11, defect 1 on the daemon: a task runs on session 0, the server is replaced by one
    where another user's session 0 ran their statement 0. The task must not get their output, and
    the next livy/execute must not run in their session."""
    first = start_sandbox("--cancel-timeout", "2")
    second = start_sandbox("--cancel-timeout", "2")
    flag = tmp_path / "release"
    counter = RunCounter(tmp_path / "runs.txt")
    try:
        theirs = _someone_elses_session_0(second.livy_url)
        with FaultProxy(first.livy_url) as proxy:
            cmd = [sys.executable, "-m", "livyd", "--stdio", "--standalone"]
            async with DaemonClient.spawn(cmd, env=_env(tmp_path), cwd=str(tmp_path)) as client:
                await client.initialize({"profile": None, "workspace": str(tmp_path), "settings": {
                    "url": proxy.url, "stateDir": str(tmp_path / "state"), "pollInterval": 0.1}})
                started = await client.request("livy/execute", {"code": counter.blocking(flag)})
                for _ in range(600):
                    if counter.runs:
                        break
                    await anyio.sleep(0.05)
                proxy.upstream = second.livy_url
                switched = len(proxy.forwarded)
                ended = await client.wait_for_notification(
                    "livy/taskChanged", lambda p: p["taskId"] == started["taskId"]
                    and p["state"] in ("failed", "available", "cancelled"), timeout=60)
                outputs = [p for p in client.notifications("livy/output")
                           if p["taskId"] == started["taskId"]]
                assert "their report" not in json.dumps(outputs) + json.dumps(ended)
                assert ended["state"] == "failed", ended
                # the editor is told what happened, in the library's words (not just "replaced")
                assert "the server restarted" in (ended.get("message") or ""), ended
                nxt = await client.request("livy/execute", {"code": "'mine'"})
                await client.wait_for_notification(
                    "livy/taskChanged", lambda p: p["taskId"] == nxt["taskId"]
                    and p["state"] in ("failed", "available"), timeout=90)
                touched = [f"{r.method} {r.path}" for r in proxy.forwarded[switched:]
                           if r.method != "GET" and r.path.startswith(f"/sessions/{theirs['id']}")]
                assert touched == []  # no statement, cancel or DELETE reached their session
            flag.touch()
        assert _name_of(second.livy_url, theirs["id"]) == "nightly-etl"
    finally:
        flag.touch()
        first.stop()
        second.stop()


def _someone_elses_session_0(url: str) -> dict[str, object]:
    import httpx

    h = {"X-Requested-By": "test"}
    theirs: dict[str, object] = httpx.post(f"{url}/sessions", headers=h, timeout=10,
                                           json={"kind": "pyspark", "name": "nightly-etl"}).json()
    for _ in range(600):
        if httpx.get(f"{url}/sessions/{theirs['id']}", timeout=10).json()["state"] == "idle":
            break
        time.sleep(0.05)
    httpx.post(f"{url}/sessions/{theirs['id']}/statements", json={"code": "print('their report')"},
               headers=h, timeout=10)
    return theirs


def _name_of(url: str, sid: object) -> object:
    import httpx

    return httpx.get(f"{url}/sessions/{sid}", timeout=10).json()["name"]


@pytest.mark.anyio
@pytest.mark.timeout(150)
async def test_code_with_a_lone_surrogate_fails_its_task_not_the_session(sandbox: SandboxProcess,
                                                                          tmp_path: Path) -> None:
    """Issue 11, item 6 on the daemon: such code once crashed the poller and abandoned the session."""
    cmd = [sys.executable, "-m", "livyd", "--stdio", "--standalone"]
    async with DaemonClient.spawn(cmd, env=_env(tmp_path), cwd=str(tmp_path)) as client:
        await client.initialize({"profile": None, "workspace": str(tmp_path), "settings": {
            "url": sandbox.livy_url, "stateDir": str(tmp_path / "state"), "pollInterval": 0.1,
            "deleteSessionsOnExit": True}})
        # a JSON escape: the daemon gets a str with a lone surrogate, which UTF-8 cannot carry
        params = '{"code": "x = \'\\ud800\'"}'
        body = ('{"jsonrpc": "2.0", "id": 901, "method": "livy/execute", "params": ' + params + "}").encode()
        await client.send_raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        failed = await client.wait_for_notification(
            "livy/taskChanged", lambda p: p["state"] == "failed", timeout=90)
        assert "lone surrogate U+D800 at line 1, column 6" in failed["message"]
        after = await client.request("livy/execute", {"code": "'the session lives on'"})
        out = await client.wait_for_notification("livy/output", lambda p: p["taskId"] == after["taskId"],
                                                 timeout=90)
        assert out["data"]["text/plain"] == "'the session lives on'"
        assert out["sessionId"] == failed["sessionId"]


@pytest.mark.anyio
@pytest.mark.timeout(150)
async def test_a_restarted_daemon_never_reattaches_to_someone_elses_session_0(tmp_path: Path) -> None:
    """Issue 11, defect 1 across a daemon restart: the daemon's state file names session 0; while
    the daemon was away the server was replaced and another user's session 0 exists. The restarted
    daemon says the session is gone, does not reattach, and runs nothing in it."""
    first = start_sandbox("--cancel-timeout", "2")
    second = start_sandbox("--cancel-timeout", "2")
    cmd = [sys.executable, "-m", "livyd", "--stdio", "--standalone"]
    try:
        theirs = _someone_elses_session_0(second.livy_url)
        with FaultProxy(first.livy_url) as proxy:
            options = {"profile": None, "workspace": str(tmp_path), "settings": {
                "url": proxy.url, "stateDir": str(tmp_path / "state"), "pollInterval": 0.1}}
            async with DaemonClient.spawn(cmd, env=_env(tmp_path), cwd=str(tmp_path)) as client:
                await client.initialize(options)
                mine = await client.request("livy/execute", {"code": "'mine'"})
                await client.wait_for_notification("livy/output", lambda p: p["taskId"] == mine["taskId"],
                                                   timeout=90)
                assert mine["sessionId"] == theirs["id"]  # both servers numbered from 0
            proxy.upstream = second.livy_url  # the daemon exited keeping its session; Livy restarted
            switched = len(proxy.forwarded)
            async with DaemonClient.spawn(cmd, env=_env(tmp_path), cwd=str(tmp_path)) as client:
                await client.initialize(options)
                told = await client.wait_for_notification(
                    "window/showMessage", lambda p: "server restarted" in p["message"], timeout=60)
                assert str(theirs["id"]) in told["message"]
                status = await client.request("livy/status", {})
                assert [s for s in status["sessions"] if s["id"] == theirs["id"]] == [], status
                nxt = await client.request("livy/execute", {"code": "'mine again'"})
                await client.wait_for_notification("livy/output", lambda p: p["taskId"] == nxt["taskId"],
                                                   timeout=90)
                assert nxt["sessionId"] != theirs["id"]
                touched = [f"{r.method} {r.path}" for r in proxy.forwarded[switched:]
                           if r.method != "GET" and r.path.startswith(f"/sessions/{theirs['id']}")]
                assert touched == []  # no statement, cancel or DELETE reached their session
        assert _name_of(second.livy_url, theirs["id"]) == "nightly-etl"
    finally:
        first.stop()
        second.stop()
