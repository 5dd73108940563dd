"""``python -m livyd.daemon --stdio`` as a real subprocess, driven over its protocol against Livy.

Every test parses every byte of the daemon's stdout (the harness records any byte outside a
well-formed frame, and the spawner asserts there were none).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from daemon_helpers import idle_session, output_of, output_seq, task_states

from livyd.daemon.harness import DaemonRequestError
from livyd.protocol import METHODS, PROTOCOL_VERSION

pytestmark = pytest.mark.anyio

FINAL = {"available", "cancelled", "failed"}


async def test_initialize_advertises_the_protocol(spawn_daemon: Any) -> None:
    """initialize is answered with livyd's version, protocol version and method lists (how fast is
    measured by a benchmark, not asserted here)."""
    async with spawn_daemon(initialize=False) as client:
        result = await client.initialize({"settings": {"url": "http://127.0.0.1:9"}})
        caps = result["capabilities"]["experimental"]["livyd"]
        assert caps["protocolVersion"] == PROTOCOL_VERSION
        assert set(caps["requests"]) == {m.name for m in METHODS if m.kind == "request"}
        assert "livy/output" in caps["notifications"]
        assert all(c.startswith("livyd.") for c in caps["commands"])
        assert result["serverInfo"]["name"] == "livyd"
        assert caps["shared"] is False  # --standalone
        assert result["capabilities"]["codeLensProvider"] is not None
        # Spawn-to-answer is dominated by pygls' import (~0.5 s measured idle); the bound is loose
        # because CI shares 2 cores. The deterministic check is the next test.
        assert await client.close() == 0


def test_heavy_imports_are_deferred_until_after_initialize() -> None:
    """What runs before initialize imports neither the supervisor, the Livy adapter nor the config."""
    import subprocess
    import sys

    probe = (
        "import sys, livyd.daemon._server, livyd.daemon._handlers; "
        "print(sorted(m for m in ('livyd.daemon._supervisor', 'livyd.daemon._livy', "
        "'livyd._config') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        cwd=str(Path(__file__).resolve().parents[2]),
    )
    assert out.stdout.strip() == "[]", out.stdout


async def test_requests_before_initialize_and_invalid_initialization_options(spawn_daemon: Any) -> None:
    async with spawn_daemon(initialize=False) as client:
        with pytest.raises(DaemonRequestError) as info:
            await client.request("livy/status", {})
        assert info.value.code == -32002
        with pytest.raises(DaemonRequestError) as info:
            await client.request(
                "initialize",
                {
                    "processId": None,
                    "rootUri": None,
                    "capabilities": {},
                    "initializationOptions": {"settings": {"pollInterval": -1}},
                },
            )
        assert info.value.code == -32602
        assert info.value.data["field"] == "settings.pollInterval"


async def test_execute_streams_notifications_in_order(spawn_daemon: Any, tmp_path: Path) -> None:
    """execute returns at once; taskChanged goes queued..available, then one livy/output, logged first."""
    async with spawn_daemon() as client:
        sid = await idle_session(client)
        msg_id = await client.send_request("livy/execute", {"code": "1 + 1", "sessionId": sid})
        started = await client.response(msg_id)
        assert started["sessionId"] == sid
        out = await output_of(client, started["taskId"])
        # It answered at once: before the statement's result, never after waiting for it.
        answer_seq = next(
            m.seq for m in client.messages if m.raw.get("id") == msg_id and "method" not in m.raw
        )
        assert answer_seq < output_seq(client, started["taskId"])
        assert out["status"] == "ok" and out["data"]["text/plain"] == "2"
        assert out["statementId"] is not None and out["truncated"] is False
        states = task_states(client, started["taskId"])
        assert states[0] == "queued" and states[-1] == "available"
        order = ["queued", "waiting", "running", "available"]
        assert [order.index(s) for s in states] == sorted(order.index(s) for s in states)
        # the output notification comes after the final taskChanged
        seqs = [
            m.seq
            for m in client.messages
            if m.method in ("livy/taskChanged", "livy/output") and m.params["taskId"] == started["taskId"]
        ]
        assert client.messages[seqs[-1]].method == "livy/output"
        # appended to the workspace output log before it was notified
        log_lines = (tmp_path / "state" / "outputs.jsonl").read_text().splitlines()
        assert any(json.loads(line)["taskId"] == started["taskId"] for line in log_lines)
        # an error output, and statements of one session run in order
        a = await client.request("livy/execute", {"code": "x = 41"})
        b = await client.request("livy/execute", {"code": "x + 1"})
        c = await client.request("livy/execute", {"code": "undefined_name"})
        assert a["sessionId"] == b["sessionId"] == c["sessionId"] == sid  # the attached session
        assert (await output_of(client, b["taskId"]))["data"]["text/plain"] == "42"
        err = await output_of(client, c["taskId"])
        assert err["status"] == "error" and err["ename"] == "NameError"
        listed = await client.request("livy/listStatements", {"sessionId": sid})
        assert [t["taskId"] for t in listed["tasks"]][-3:] == [a["taskId"], b["taskId"], c["taskId"]]
        status = await client.request("livy/status", {})
        assert status["protocolVersion"] == PROTOCOL_VERSION and any(
            s["id"] == sid for s in status["sessions"]
        )


async def test_execute_without_session_creates_and_attaches_one(spawn_daemon: Any, livy_url: str) -> None:
    """No sessionId: a session is created and attached; deleteSessionsOnExit removes it at exit."""
    async with spawn_daemon() as client:
        started = await client.request("livy/execute", {"code": "6 * 7"})
        out = await output_of(client, started["taskId"])
        assert out["data"]["text/plain"] == "42"
        info = await client.request("livy/sessionInfo", {})
        assert info["session"]["id"] == started["sessionId"] and info["session"]["attached"] is True
        assert info["session"]["owned"] is True
        assert await client.close() == 0
    async with httpx.AsyncClient() as http:
        gone = await http.get(f"{livy_url}/sessions/{started['sessionId']}")
    assert gone.status_code == 404


async def test_cancel_queued_and_running(spawn_daemon: Any) -> None:
    """A queued task is dropped without reaching Livy; a running one is cancelled on the server."""
    async with spawn_daemon() as client:
        sid = await idle_session(client)
        running = await client.request(
            "livy/execute", {"code": "import time\ntime.sleep(60)", "sessionId": sid}
        )
        queued = await client.request("livy/execute", {"code": "print('must not run')", "sessionId": sid})
        await client.wait_until(
            lambda: "running" in task_states(client, running["taskId"]),
            timeout=30,
            what="the first task running",
        )
        q = [p for p in client.notifications("livy/taskChanged") if p["taskId"] == queued["taskId"]]
        assert q[-1]["state"] == "queued" and q[-1]["queuedBehind"] == 1
        res = await client.request("livy/cancel", {"taskId": queued["taskId"]})
        assert res["task"]["state"] == "cancelled" and res["task"]["statementId"] is None
        out_q = await output_of(client, queued["taskId"], timeout=5)
        assert out_q["status"] == "cancelled" and out_q["statementId"] is None
        res = await client.request("livy/cancel", {"taskId": running["taskId"]})
        assert res["task"]["state"] in ("cancelling", "cancelled")
        out_r = await output_of(client, running["taskId"], timeout=60)
        assert out_r["status"] == "cancelled"
        final = [p for p in client.notifications("livy/taskChanged") if p["taskId"] == running["taskId"]][-1]
        assert final["state"] == "cancelled"
        if final["mayStillRun"]:  # Livy gave up interrupting: the user is told, with the remedy
            shown = client.notifications("window/showMessage")
            assert any("livy/restartSession" in m["message"] for m in shown)
        assert "failed" not in task_states(client, queued["taskId"])
        with pytest.raises(DaemonRequestError) as info:
            await client.request("livy/cancel", {"taskId": "t-nope"})
        assert info.value.data["code"] == "unknown-task" and "t-nope" in info.value.message


async def test_big_output_is_truncated_and_written_whole(spawn_daemon: Any) -> None:
    async with spawn_daemon(maxOutputBytes=4096) as client:
        started = await client.request("livy/execute", {"code": "print('x' * 200000)"})
        out = await output_of(client, started["taskId"])
        assert out["truncated"] is True
        assert len(json.dumps(out["data"], ensure_ascii=False, separators=(",", ":")).encode()) <= 4096
        full = json.loads(await anyio.Path(out["fullOutputPath"]).read_text())
        assert full["data"]["text/plain"].count("x") == 200000


async def test_restart_session_gives_a_new_attached_session(spawn_daemon: Any) -> None:
    async with spawn_daemon() as client:
        sid = await idle_session(client)
        res = await client.request("livy/restartSession", {"sessionId": sid})
        assert res["previousSessionId"] == sid and res["session"]["id"] != sid
        assert res["session"]["attached"] is True
        started = await client.request("livy/execute", {"code": "1"})
        assert started["sessionId"] == res["session"]["id"]
        await output_of(client, started["taskId"])
        sessions = await client.request("livy/listSessions", {"ownedOnly": True})
        assert sid not in [s["id"] for s in sessions["sessions"]]
        killed = await client.request("livy/killAllSessions", {})
        assert res["session"]["id"] in killed["killed"]


async def test_daemon_restart_reattaches_and_delivers_results(spawn_daemon: Any, tmp_path: Path) -> None:
    """A statement running when the daemon dies is delivered by the next daemon on the workspace."""
    async with spawn_daemon(deleteSessionsOnExit=False) as first:
        sid = await idle_session(first)
        started = await first.request(
            "livy/execute", {"code": "import time\ntime.sleep(2)\nprint('survived')", "sessionId": sid}
        )
        await first.wait_until(
            lambda: any(
                p["statementId"] is not None
                for p in first.notifications("livy/taskChanged")
                if p["taskId"] == started["taskId"]
            ),
            what="the statement submitted",
        )
        assert first.process.stdin is not None
        await first.process.stdin.aclose()  # stdin EOF: the daemon exits, keeping the session
        assert await first.wait_exit(15) == 0
        assert not any(p["taskId"] == started["taskId"] for p in first.notifications("livy/output"))
    async with spawn_daemon() as second:
        out = await output_of(second, started["taskId"], timeout=60)
        assert out["status"] == "ok" and out["data"]["text/plain"] == "survived"
        info = await second.request("livy/sessionInfo", {})
        assert info["session"]["id"] == sid and info["session"]["owned"] is True


async def test_second_daemon_on_a_workspace_does_not_share_the_lock(spawn_daemon: Any) -> None:
    async with spawn_daemon() as first:
        await first.request("livy/status", {})
        async with spawn_daemon() as second:
            status = await second.request("livy/status", {})
            assert status["stateDir"]
            await second.wait_for_notification(
                "window/showMessage", lambda p: "another livyd" in p["message"]
            )


async def test_malformed_input_never_kills_the_daemon(spawn_daemon: Any) -> None:
    """Bad JSON, non-requests, oversize frames, unknown methods, bad params: errors, and it lives on."""
    async with spawn_daemon("--max-frame-bytes", "4096") as client:

        def errors() -> list[dict[str, Any]]:
            return [m.raw for m in client.messages if "error" in m.raw and m.raw.get("id") is None]

        await client.send_raw(b"Content-Length: 9\r\n\r\n{not json")
        await client.wait_until(lambda: len(errors()) >= 1, what="parse error")
        assert errors()[0]["error"]["code"] == -32700
        await client.send_raw(b"Content-Length: 2\r\n\r\n[]")
        await client.wait_until(lambda: len(errors()) >= 2, what="invalid request")
        assert errors()[1]["error"]["code"] == -32600
        await client.send_raw(b"X-Nonsense\r\n\r\n")
        await client.wait_until(lambda: len(errors()) >= 3, what="bad header")
        assert errors()[2]["error"]["code"] == -32700
        big = json.dumps(
            {"jsonrpc": "2.0", "id": 99, "method": "livy/status", "params": {"pad": "p" * 2_000_000}}
        ).encode()
        await client.send_raw(b"Content-Length: %d\r\n\r\n" % len(big) + big)
        await client.wait_until(lambda: len(errors()) >= 4, what="oversize refusal")
        assert errors()[3]["error"]["code"] == -32600 and errors()[3]["error"]["data"]["limit"] == 4096
        with pytest.raises(DaemonRequestError) as info:
            await client.request("livy/noSuchMethod", {})
        assert info.value.code == -32601
        with pytest.raises(DaemonRequestError) as info:
            await client.request(
                "livy/execute",
                {
                    "code": "1",
                    "range": {"start": {"line": -1, "character": 0}, "end": {"line": 0, "character": 0}},
                },
            )
        assert info.value.code == -32602 and info.value.data["field"] == "range.start.line"
        with pytest.raises(DaemonRequestError) as info:
            await client.request("livy/readLog", {"sessionId": 1, "batchId": 2})
        assert info.value.code == -32602
        status = await client.request("livy/status", {})
        assert status["pid"] == client.process.pid
        assert all("traceback" not in json.dumps(m.raw.get("error", {})).lower() for m in client.messages)
        assert await client.close() == 0


async def test_stdin_eof_exits_cleanly(spawn_daemon: Any) -> None:
    async with spawn_daemon() as client:
        assert client.process.stdin is not None
        await client.process.stdin.aclose()
        assert await client.wait_exit(15) == 0


async def test_credentials_never_reach_logs_or_stdout(spawn_daemon: Any, tmp_path: Path) -> None:
    log_file = tmp_path / "daemon.log"
    secret = "hunter2-very-secret"
    async with spawn_daemon("--log-file", str(log_file), "-v", "-v") as client:
        assert (
            await client.request(
                "livy/setCredentials", {"username": "alice", "password": secret, "token": secret}
            )
        )["ok"] is True
        with pytest.raises(DaemonRequestError):
            await client.request("livy/setCredentials", {"password": secret, "bogus": secret})
        await client.request("livy/status", {})
        raw_out = json.dumps([m.raw for m in client.messages])
    assert secret not in client.stderr
    assert secret not in log_file.read_text()
    # the invalid-params error names the field but does not echo the secret value
    assert raw_out.count(secret) == 0


async def test_code_lens_commands_and_diagnostics(spawn_daemon: Any, tmp_path: Path) -> None:
    """`# %%` cells get "Run cell" lenses; running one via executeCommand maps a traceback to a diagnostic."""
    doc = tmp_path / "job.py"
    doc.write_text("a = 1\n# %%\ndef f():\n    return undefined_thing\nf()\n# %%\nprint(a)\n")
    uri = doc.as_uri()
    async with spawn_daemon() as client:
        lenses = await client.request("textDocument/codeLens", {"textDocument": {"uri": uri}})
        titles = [(lens["command"]["title"], lens["range"]["start"]["line"]) for lens in lenses]
        assert ("Run file", 0) in titles and ("Run cell", 1) in titles and ("Run cell", 5) in titles
        res = await client.request(
            "workspace/executeCommand", {"command": "livyd.runCell", "arguments": [{"uri": uri, "line": 2}]}
        )
        out = await output_of(client, res["taskId"])
        assert out["status"] == "error" and out["uri"] == uri and out["range"]["start"]["line"] == 1
        diag = await client.wait_for_notification(
            "textDocument/publishDiagnostics", lambda p: p["uri"] == uri
        )
        assert diag["diagnostics"][0]["range"]["start"]["line"] == 3  # the `return undefined_thing` line
        # 1.2: the output itself carries the mapped location (line 3 of the cell sent from line 1).
        assert out["errorLine"] == 3
        assert out["errorRange"] == diag["diagnostics"][0]["range"]
        res2 = await client.request(
            "workspace/executeCommand", {"command": "livyd.runCell", "arguments": [{"uri": uri, "line": 0}]}
        )
        await output_of(client, res2["taskId"])
        await client.wait_until(
            lambda: client.notifications("textDocument/publishDiagnostics")[-1]["diagnostics"] == [],
            what="diagnostics cleared",
        )


async def test_work_done_progress_and_its_cancel_button(spawn_daemon: Any) -> None:
    async with spawn_daemon() as client:
        sid = await idle_session(client)
        started = await client.request(
            "livy/execute", {"code": "import time\ntime.sleep(60)", "sessionId": sid}
        )
        token = f"livyd-{started['taskId']}"
        await client.wait_for_notification(
            "$/progress", lambda p: p["token"] == token and p["value"]["kind"] == "begin", timeout=30
        )
        await client.notify("window/workDoneProgress/cancel", {"token": token})
        await output_of(client, started["taskId"], timeout=60)
        await client.wait_for_notification(
            "$/progress", lambda p: p["token"] == token and p["value"]["kind"] == "end"
        )
        with anyio.fail_after(10):
            await client.request("livy/killSession", {"sessionId": sid})
        # the notification of the killed session no longer calls it attached (editors drop it)
        await client.wait_until(
            lambda: any(p["session"]["id"] == sid and p["session"]["state"] in ("dead", "killed")
                        for p in client.notifications("livy/sessionChanged")),
            what="the killed session reported")
        last = [p for p in client.notifications("livy/sessionChanged") if p["session"]["id"] == sid][-1]
        assert last["session"]["attached"] is False, last


async def test_completion_from_the_live_python_session(spawn_daemon: Any, tmp_path: Path) -> None:
    """Completion runs a short statement on the idle session and offers its live names."""
    doc = tmp_path / "c.py"
    doc.write_text("my_livyd_vari")
    async with spawn_daemon() as client:
        started = await client.request("livy/execute", {"code": "my_livyd_variable = 1"})
        sid = started["sessionId"]
        await output_of(client, started["taskId"])
        # the session went busy for the statement; wait for it to be idle again
        await client.wait_until(
            lambda: (
                [p for p in client.notifications("livy/sessionChanged") if p["session"]["id"] == sid][-1][
                    "session"
                ]["state"]
                == "idle"
            ),
            what="the session idle again",
        )
        result = await client.request(
            "textDocument/completion",
            {"textDocument": {"uri": doc.as_uri()}, "position": {"line": 0, "character": 13}},
        )
        assert "my_livyd_variable" in [item["label"] for item in result["items"]]
        # not a user task: nothing was queued or notified for it
        assert {p["taskId"] for p in client.notifications("livy/taskChanged")} == {started["taskId"]}


async def test_batches_state_and_log_stream(spawn_daemon: Any, tmp_path: Path, batch_livy_url: str) -> None:
    """submitBatch follows the batch: batchChanged up to success, its log as livy/log; kill works."""
    job = tmp_path / "job.py"
    job.write_text("import sys\nprint('batch says hello', sys.argv[1:])\n")
    sleeper = tmp_path / "sleeper.py"
    sleeper.write_text("import time\ntime.sleep(120)\n")
    async with spawn_daemon(url=batch_livy_url) as client:
        res = await client.request("livy/submitBatch", {"file": job.as_uri(), "args": ["--day", "1"]})
        bid = res["batch"]["id"]
        await client.wait_for_notification(
            "livy/batchChanged",
            lambda p: p["batch"]["id"] == bid and p["batch"]["state"] == "success",
            timeout=60,
        )
        streamed = await client.wait_for_notification(
            "livy/log", lambda p: p["batchId"] == bid and any("batch says hello" in x for x in p["lines"])
        )
        assert streamed["sessionId"] is None
        page = await client.request("livy/readBatchLog", {"batchId": bid, "from": 0, "size": 1000})
        assert any("batch says hello" in line for line in page["lines"])
        same = await client.request("livy/readLog", {"batchId": bid, "from": 0, "size": 1000})
        assert same["lines"] == page["lines"]
        assert bid in [b["id"] for b in (await client.request("livy/listBatches", {}))["batches"]]
        assert (await client.request("livy/batchInfo", {"batchId": bid}))["batch"]["state"] == "success"
        slow = await client.request("livy/submitBatch", {"file": sleeper.as_uri()})
        sid = slow["batch"]["id"]
        await client.wait_for_notification(
            "livy/batchChanged",
            lambda p: p["batch"]["id"] == sid and p["batch"]["state"] == "running",
            timeout=60,
        )
        assert (await client.request("livy/killBatch", {"batchId": sid}))["killed"] is True
        with pytest.raises(DaemonRequestError) as info:
            await client.request("livy/batchInfo", {"batchId": 987654})
        assert info.value.data["code"] == "batch-not-found"


async def test_session_log_follow_and_settings_change(spawn_daemon: Any) -> None:
    """followLog/unfollowLog and readLog on a session; didChangeConfiguration is applied.

    (Streaming of session log lines while a statement runs is checked in
    test_daemon_requests_logs_credentials.py; a batch's log in the batch test.)"""
    async with spawn_daemon() as client:
        sid = await idle_session(client)
        page = await client.request("livy/readLog", {"sessionId": sid})
        assert page["total"] >= len(page["lines"])
        assert (await client.request("livy/followLog", {"sessionId": sid}))["following"] is True
        await client.notify(
            "workspace/didChangeConfiguration", {"settings": {"livyd": {"maxOutputBytes": 2048}}}
        )
        started = await client.request(
            "livy/execute", {"code": "import sys\nprint('to stderr', file=sys.stderr)\nprint('y' * 10000)"}
        )
        out = await output_of(client, started["taskId"])
        assert out["truncated"] is True  # the new maxOutputBytes applies
        assert (await client.request("livy/unfollowLog", {"sessionId": sid}))["following"] is False
        with pytest.raises(DaemonRequestError) as info:
            await client.request("livy/followLog", {})
        assert info.value.code == -32602


async def test_two_editors_share_one_daemon_through_the_relay(spawn_daemon: Any, tmp_path: Path) -> None:
    """Without --standalone, `livyd --stdio` relays to one per-user daemon: two clients on a
    workspace see the same tasks and outputs, and the daemon idles out after they leave."""
    run_dir = tmp_path / "run"
    env = {"XDG_RUNTIME_DIR": str(run_dir), "LIVYD_DAEMON_IDLE_EXIT": "1"}
    async with (
        spawn_daemon(standalone=False, env_extra=env) as a,
        spawn_daemon(standalone=False, env_extra=env) as b,
    ):
        assert a.initialize_result is not None
        assert a.initialize_result["capabilities"]["experimental"]["livyd"]["shared"] is True
        sa, sb = await a.request("livy/status", {}), await b.request("livy/status", {})
        assert sa["pid"] == sb["pid"]  # one daemon behind both relays
        assert sa["pid"] not in (a.process.pid, b.process.pid)
        sockets = list((run_dir / "livyd").glob("daemon-*.sock"))
        assert len(sockets) == 1 and (sockets[0].stat().st_mode & 0o777) == 0o600
        assert ((run_dir / "livyd").stat().st_mode & 0o777) == 0o700
        started = await a.request("livy/execute", {"code": "40 + 2"})
        out_b = await output_of(b, started["taskId"])  # b sees a's task
        assert out_b["data"]["text/plain"] == "42"
        tasks_b = await b.request("livy/listStatements", {})
        assert started["taskId"] in [t["taskId"] for t in tasks_b["tasks"]]
        again = await b.request("livy/execute", {"code": "1"})
        assert again["sessionId"] == started["sessionId"]  # the same attached session
        await output_of(a, again["taskId"])
    with anyio.fail_after(20):
        while sockets[0].exists():  # noqa: ASYNC110 - a file, no event to wait on; the daemon idles out
            await anyio.sleep(0.1)


async def test_completion_of_a_scala_session_asks_livy(spawn_daemon: Any, tmp_path: Path) -> None:
    """Scala sessions get Livy's own /completion (the sandbox has no Scala: a raw stand-in that
    answers with livy-rest.md's shape plays the server)."""
    from livy_standin import MiniLivy

    livy = MiniLivy()
    try:
        sid = livy.add_session("idle")
        livy.sessions[sid]["kind"] = "spark"
        doc = tmp_path / "Job.scala"
        doc.write_text("val x = 1\nspa")
        async with spawn_daemon(url=livy.url) as client:
            await client.request("livy/attachSession", {"sessionId": sid})
            result = await client.request(
                "textDocument/completion",
                {"textDocument": {"uri": doc.as_uri()}, "position": {"line": 1, "character": 3}},
            )
        assert [item["label"] for item in result["items"]] == ["spark", "sparkContext"]
        asked = [r for r in livy.server.requests if r.path.endswith("/completion")]
        assert len(asked) == 1 and asked[0].json() == {"code": "spa", "kind": "spark", "cursor": 3}
        assert not any(r.path.endswith("/statements") and r.method == "POST" for r in livy.server.requests)
    finally:
        livy.close()
