"""End-to-end: ``$/cancelRequest`` of a held request, session log lines streamed while a statement
runs, ``livy/setCredentials`` after the first Livy call, and settings on the shared daemon.

Each test spawns the real daemon (``python -m livyd --stdio``) against a real sandbox process.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from daemon_helpers import idle_session, output_of

from livyd.daemon.harness import DaemonClient, DaemonRequestError

pytestmark = pytest.mark.anyio

#: A statement that writes five lines to the driver's stderr (the sandbox session's log) while it runs.
STDERR_LINES = (
    "import sys, time\n"
    "for i in range(5):\n"
    '    print(f"livyd-log-line {i}", file=sys.__stderr__, flush=True); time.sleep(0.3)'
)


def answered(client: DaemonClient, msg_id: int | str) -> bool:
    return any(m.raw.get("id") == msg_id and "method" not in m.raw for m in client.messages)


async def test_cancel_request_of_a_held_long_poll(spawn_daemon: Any) -> None:
    """A pending request cancelled with $/cancelRequest is answered once, -32800, and the daemon
    carries on: the same long-poll then returns lines, and statements run."""
    async with spawn_daemon() as client:
        sid = await idle_session(client)
        page = await client.request("livy/readLog", {"sessionId": sid, "from": 0, "size": 10_000})
        # Far past the end: nothing can appear there (Livy keeps at most 2 x 200 lines), so the
        # request is held until it is cancelled (or 120 s pass).
        held = await client.send_request(
            "livy/readLog", {"sessionId": sid, "from": page["total"] + 5000, "waitSeconds": 120}
        )
        # pygls handles messages in order: once this is answered, the readLog handler has started.
        await client.request("livy/status", {})
        assert not answered(client, held)
        await client.cancel_request(held)
        with pytest.raises(DaemonRequestError) as info:
            await client.response(held, timeout=10)
        assert info.value.code == -32800
        # A cancel of something already answered (or unknown) changes nothing.
        await client.cancel_request(held)
        await client.cancel_request(987654)
        # Healthy: a long-poll at the end of the log is woken by a statement writing to it...
        end = (await client.request("livy/readLog", {"sessionId": sid, "from": 0, "size": 10_000}))["total"]
        waiting = await client.send_request(
            "livy/readLog", {"sessionId": sid, "from": end, "size": 1000, "waitSeconds": 120}
        )
        started = await client.request(
            "livy/execute",
            {
                "code": "import sys\nprint('long-poll wakes', file=sys.__stderr__, flush=True)",
                "sessionId": sid,
            },
        )
        woken = await client.response(waiting, timeout=60)
        assert woken["lines"], woken
        out = await output_of(client, started["taskId"])
        assert out["status"] == "ok"
        later = await client.request("livy/readLog", {"sessionId": sid, "from": 0, "size": 10_000})
        assert any("long-poll wakes" in line for line in later["lines"])
        assert (await client.request("livy/status", {}))["pid"] == client.process.pid
        # exactly one answer per request id (a second would be a harness stdout violation)
        assert sum(1 for m in client.messages if m.raw.get("id") == held and "method" not in m.raw) == 1
        assert client.stdout_violations == []


async def test_session_log_streams_while_a_statement_runs(spawn_daemon: Any) -> None:
    """Lines the running statement writes to the session log arrive as livy/log (no followLog),
    in order, once each, all before the statement's livy/output."""
    async with spawn_daemon() as client:
        sid = await idle_session(client)
        started = await client.request("livy/execute", {"code": STDERR_LINES, "sessionId": sid})
        out = await output_of(client, started["taskId"])
        assert out["status"] == "ok", out
        out_seq = next(
            m.seq
            for m in client.messages
            if m.method == "livy/output" and m.params["taskId"] == started["taskId"]
        )
        streamed = [
            (m.seq, line)
            for m in client.messages
            if m.method == "livy/log" and m.params.get("sessionId") == sid
            for line in m.params["lines"]
            if re.search(r"livyd-log-line \d", line)
        ]
        assert [re.search(r"livyd-log-line \d", line).group(0) for _, line in streamed] == [  # type: ignore[union-attr]
            f"livyd-log-line {i}" for i in range(5)
        ], streamed
        assert all(seq < out_seq for seq, _ in streamed), (streamed, out_seq)
        # streamed while running: the first line came before the task was reported finished
        final_seq = next(
            m.seq
            for m in client.messages
            if m.method == "livy/taskChanged"
            and m.params["taskId"] == started["taskId"]
            and m.params["state"] == "available"
        )
        assert streamed[0][0] < final_seq
        # `from` counts the lines delivered before, so a client can detect gaps
        froms = [p["from"] for p in client.notifications("livy/log") if p.get("sessionId") == sid]
        assert froms == sorted(froms)
        # a second run streams only its own lines, again once each
        again = await client.request("livy/execute", {"code": STDERR_LINES, "sessionId": sid})
        await output_of(client, again["taskId"])
        lines = [
            line
            for p in client.notifications("livy/log")
            if p.get("sessionId") == sid
            for line in p["lines"]
            if "livyd-log-line" in line
        ]
        assert len(lines) == 10


async def test_set_credentials_after_the_first_call_takes_effect(
    spawn_daemon: Any, sandbox_factory: Any, tmp_path: Path
) -> None:
    """Against a token-protected sandbox, execute fails with an authentication error (no secret in
    it); after livy/setCredentials the same daemon process succeeds; the token is never logged."""
    token = "T-livyd-e2e-secret-4711"
    secured = sandbox_factory("--token", token)
    log_file = tmp_path / "daemon.log"
    async with spawn_daemon("--log-file", str(log_file), "-v", "-v", url=str(secured.livy_url)) as client:
        with pytest.raises(DaemonRequestError) as info:
            await client.request("livy/execute", {"code": "1 + 1"})
        assert info.value.data["code"] == "auth", info.value.data
        assert "authenticat" in info.value.message.lower(), info.value.message
        pid = (await client.request("livy/status", {}))["pid"]
        assert (await client.request("livy/setCredentials", {"token": token}))["ok"] is True
        started = await client.request("livy/execute", {"code": "1 + 1"})
        out = await output_of(client, started["taskId"], timeout=90)
        assert out["status"] == "ok" and out["data"]["text/plain"] == "2"
        assert (await client.request("livy/status", {}))["pid"] == pid == client.process.pid
        profiles = await client.request("livy/listProfiles", {})
        sent_by_daemon = json.dumps([m.raw for m in client.messages])
        assert await client.close() == 0
    assert profiles["profiles"] is not None
    assert token not in sent_by_daemon
    assert token not in client.stderr
    assert token not in log_file.read_text()


async def test_a_restarted_daemon_reattaches_once_the_editor_sends_the_credentials(
    spawn_daemon: Any, sandbox_factory: Any
) -> None:
    """A new daemon restores its sessions at ``initialized``, before the editor's
    livy/setCredentials: the 401 it gets then does not make it forget them; the statement that
    ran meanwhile is delivered once the token arrives."""
    token = "T-livyd-restore-secret-0815"
    secured = sandbox_factory("--token", token)
    url = str(secured.livy_url)
    async with spawn_daemon(url=url, deleteSessionsOnExit=False) as first:
        assert (await first.request("livy/setCredentials", {"token": token}))["ok"] is True
        sid = await idle_session(first)
        started = await first.request(
            "livy/execute", {"code": "import time\ntime.sleep(1.5)\nprint('after the restart')",
                             "sessionId": sid})
        await first.wait_until(
            lambda: any(p["statementId"] is not None for p in first.notifications("livy/taskChanged")
                        if p["taskId"] == started["taskId"]),
            what="the statement submitted",
        )
        assert first.process.stdin is not None
        await first.process.stdin.aclose()  # the daemon exits, keeping the session
        assert await first.wait_exit(15) == 0
    async with spawn_daemon(url=url) as second:
        await second.wait_until(
            lambda: any(p["taskId"] == started["taskId"] for p in second.notifications("livy/taskChanged")),
            what="the persisted task announced",
        )
        assert not [p for p in second.notifications("livy/output") if p["taskId"] == started["taskId"]]
        assert (await second.request("livy/setCredentials", {"token": token}))["ok"] is True
        out = await output_of(second, started["taskId"], timeout=60)
        assert out["status"] == "ok" and out["data"]["text/plain"] == "after the restart", out
        info = await second.request("livy/sessionInfo", {"sessionId": sid})
        assert info["session"]["owned"] is True and info["session"]["state"] == "idle"
    assert token not in json.dumps([m.raw for m in second.messages])


async def test_shared_daemon_keeps_the_first_clients_settings_and_warns_the_second(
    spawn_daemon: Any, tmp_path: Path
) -> None:
    """Two editors on one workspace through the relay: the first one's settings apply; the second,
    whose maxOutputBytes differs, is told with window/showMessage; the first is not."""
    env = {"XDG_RUNTIME_DIR": str(tmp_path / "run"), "LIVYD_DAEMON_IDLE_EXIT": "1"}
    async with spawn_daemon(standalone=False, env_extra=env, maxOutputBytes=1_000_000) as a:
        await a.request("livy/status", {})  # a's supervisor exists: a is first
        async with spawn_daemon(standalone=False, env_extra=env, maxOutputBytes=2048) as b:
            warning = await b.wait_for_notification(
                "window/showMessage", lambda p: "ignored" in p["message"], timeout=30
            )
            assert warning["type"] == 2
            assert "maxOutputBytes (in effect: 1000000)" in warning["message"], warning
            assert "pollInterval" not in warning["message"]  # equal settings are not named
            started = await b.request("livy/execute", {"code": "print('z' * 5000)"})
            out = await output_of(b, started["taskId"])
            assert out["truncated"] is False  # a's 1 MB limit, not b's 2 KiB
            assert not any("ignored" in p["message"] for p in a.notifications("window/showMessage"))
