"""Runtime behaviour of ``livyd --stdio`` found wanting by an audit, each driven end to end through a
real daemon process: sessions that vanish under a running task, answers of Livy that are not a
crash, the session's state right after a task, output truncation, and a shared daemon that never
answers.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import pytest
from daemon_helpers import idle_session, output_of, output_seq, task_states

from livyd.daemon.harness import DaemonClient

pytestmark = pytest.mark.anyio


async def wait_for(predicate: Any, what: str, timeout: float = 30) -> None:  # noqa: ASYNC109
    """Wait for a condition outside the daemon's messages (a stand-in's state), with a deadline."""
    with anyio.fail_after(timeout):
        while not predicate():  # noqa: ASYNC110 - another thread's state, no event to wait on
            await anyio.sleep(0.02)


def assert_no_crash(client: DaemonClient) -> None:
    assert "poller crashed" not in client.stderr, client.stderr
    assert "Traceback" not in client.stderr, client.stderr


@pytest.fixture
def mini_livy() -> Iterator[Any]:
    """A raw Livy stand-in (tests/livy_standin.py) answering with livy-rest.md's literal bodies."""
    from livy_standin import MiniLivy

    livy = MiniLivy()
    try:
        yield livy
    finally:
        livy.close()


# --------------------------------------------------------------------------- sessions that vanish


async def test_session_deleted_outside_livyd_fails_its_tasks_with_the_reason(
    spawn_daemon: Any, livy_url: str
) -> None:
    """DELETE /sessions/N by someone else while a task runs: the running and the queued task end
    `failed` saying the session was deleted, sessionChanged says dead, no traceback; the next
    execute gets a new session."""
    async with spawn_daemon() as client:
        sid = await idle_session(client)
        running = await client.request("livy/execute", {"code": "import time\ntime.sleep(30)"})
        queued = await client.request("livy/execute", {"code": "2"})
        await client.wait_until(
            lambda: "running" in task_states(client, running["taskId"]),
            timeout=30,
            what="the first task running",
        )
        async with httpx.AsyncClient() as http:
            assert (await http.delete(f"{livy_url}/sessions/{sid}", timeout=30)).status_code == 200
        reason = f"session {sid} was deleted or is shutting down"
        for task in (running, queued):
            out = await output_of(client, task["taskId"], timeout=30)
            assert out["status"] == "failed" and out["evalue"] == reason, out
            final = [p for p in client.notifications("livy/taskChanged") if p["taskId"] == task["taskId"]]
            assert final[-1]["state"] == "failed" and final[-1]["message"] == reason
        await client.wait_for_notification(
            "livy/sessionChanged", lambda p: p["session"]["id"] == sid and p["session"]["state"] == "dead"
        )
        assert_no_crash(client)
        again = await client.request("livy/execute", {"code": "3"})
        assert again["sessionId"] != sid
        assert (await output_of(client, again["taskId"]))["data"]["text/plain"] == "3"


async def test_livys_session_isnt_active_400_is_the_session_gone(spawn_daemon: Any, mini_livy: Any) -> None:
    """Livy's literal 400 ``requirement failed: Session isn't active.`` on the statements of a
    session that shuts down (livy-rest.md 7.4) ends the tasks like a deleted session, not a crash."""
    from livy_standin import Reply

    livy = mini_livy
    sid = livy.add_session("idle")
    inactive = threading.Event()
    answer = livy.server.handler

    def handler(req: Any) -> Any:
        if inactive.is_set() and req.method == "GET" and req.path.startswith(f"/sessions/{sid}/statements"):
            return Reply(400, '{"msg":"requirement failed: Session isn\'t active."}')
        return answer(req)

    livy.server.handler = handler
    async with spawn_daemon(url=livy.url, deleteSessionsOnExit=False) as client:
        await client.request("livy/attachSession", {"sessionId": sid})
        started = await client.request("livy/execute", {"code": "import time; time.sleep(60)"})
        await client.wait_until(
            lambda: any(
                p["statementId"] is not None
                for p in client.notifications("livy/taskChanged")
                if p["taskId"] == started["taskId"]
            ),
            what="the statement submitted",
        )
        with livy.lock:
            livy.sessions[sid]["state"] = "shutting_down"
        inactive.set()
        out = await output_of(client, started["taskId"], timeout=30)
        assert out["status"] == "failed"
        assert out["evalue"] == f"session {sid} was deleted or is shutting down"
        await client.wait_for_notification(
            "livy/sessionChanged", lambda p: p["session"]["id"] == sid and p["session"]["state"] == "dead"
        )
        assert_no_crash(client)


async def test_5xx_and_401_while_polling_are_retried_not_a_crash(spawn_daemon: Any, mini_livy: Any) -> None:
    """A 500, an expired ticket's 401 and a proxy's HTML page with 200 on the statement poll are
    expected answers: the task survives them, the user is told once, and the result is delivered."""
    livy = mini_livy
    sid = livy.add_session("idle")
    path = f"/sessions/{sid}/statements/0"  # the engine reads the statement in flight, one GET per poll
    async with spawn_daemon(url=livy.url, deleteSessionsOnExit=False, pollInterval=0.05) as client:
        await client.request("livy/attachSession", {"sessionId": sid})
        started = await client.request("livy/execute", {"code": "6 * 7"})
        await client.wait_until(
            lambda: any(
                p["statementId"] is not None
                for p in client.notifications("livy/taskChanged")
                if p["taskId"] == started["taskId"]
            ),
            what="the statement submitted",
        )
        livy.get_faults[path] = [500, 401, 200]  # the 200 is a proxy's HTML page, not JSON
        await wait_for(lambda: not livy.get_faults[path], "the faults consumed")
        with livy.lock:
            livy.statements[sid][0].update(
                state="available",
                progress=1.0,
                output={"status": "ok", "execution_count": 0, "data": {"text/plain": "42"}},
            )
        out = await output_of(client, started["taskId"], timeout=30)
        assert out["status"] == "ok" and out["data"]["text/plain"] == "42"
        shown = [m["message"] for m in client.notifications("window/showMessage")]
        assert sum(f"cannot poll session {sid}" in m for m in shown) == 1, shown
        assert_no_crash(client)


# --------------------------------------------------------------------------- idle right after a task


async def test_session_is_reported_idle_right_after_its_last_task(spawn_daemon: Any, tmp_path: Any) -> None:
    """When a session's last task finishes, the daemon reads the session at once: sessionChanged
    idle follows the output without waiting for the slow idle poll (60 s here), and completion
    (which needs an idle session) works right away."""
    doc = tmp_path / "c.py"
    doc.write_text("runtime_fix_vari")
    async with spawn_daemon(idlePollInterval=60) as client:
        sid = await idle_session(client)
        started = await client.request("livy/execute", {"code": "runtime_fix_variable = 1", "sessionId": sid})
        await output_of(client, started["taskId"])
        after = output_seq(client, started["taskId"])
        await client.wait_until(
            lambda: any(
                m.seq > after and m.params["session"]["id"] == sid and m.params["session"]["state"] == "idle"
                for m in client.messages
                if m.method == "livy/sessionChanged"
            ),
            timeout=10,
            what="sessionChanged idle after the output (well before the 60 s idle poll)",
        )
        result = await client.request(
            "textDocument/completion",
            {"textDocument": {"uri": doc.as_uri()}, "position": {"line": 0, "character": 16}},
        )
        assert "runtime_fix_variable" in [item["label"] for item in result["items"]]


# --------------------------------------------------------------------------- truncation


def wire_bytes(data: Any) -> int:
    """Bytes of *data* as the daemon sends it: compact UTF-8 JSON (livyd.daemon._wire encodes
    every frame once with orjson; pygls' json.dumps, which escaped non-ASCII, is no longer used)."""
    return len(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode())


async def test_truncation_counts_encoded_bytes_and_keeps_mime_keys(spawn_daemon: Any) -> None:
    """maxOutputBytes bounds the encoded bytes of the notification's data (non-ASCII text is cut at
    a character boundary), and a too-big application/json is named in a text/plain note pointing at
    the file holding it whole, instead of becoming a text/plain dump of the bundle."""
    async with spawn_daemon(maxOutputBytes=2000) as client:
        started = await client.request("livy/execute", {"code": "x = 'é😀' * 2000\nx"})
        out = await output_of(client, started["taskId"])
        assert out["truncated"] is True and out["status"] == "ok"
        assert wire_bytes(out["data"]) <= 2000, wire_bytes(out["data"])
        text = out["data"]["text/plain"]
        assert text.startswith("'é😀é😀") and out["fullOutputPath"] in text
        shown = text.split("\n... [output truncated", 1)[0]
        assert len(shown) > 50  # the budget is used, not wasted
        full = json.loads(await anyio.Path(out["fullOutputPath"]).read_text())
        assert full["data"]["text/plain"] == "'" + "é😀" * 2000 + "'"
        assert full["data"]["text/plain"].startswith(shown)

        started = await client.request("livy/execute", {"code": "y = {'a': 'z' * 50000}\n%json y"})
        out = await output_of(client, started["taskId"])
        assert out["truncated"] is True and wire_bytes(out["data"]) <= 2000
        assert list(out["data"]) == ["text/plain"]
        note = out["data"]["text/plain"]
        assert note.startswith("[application/json output of") and out["fullOutputPath"] in note
        full = json.loads(await anyio.Path(out["fullOutputPath"]).read_text())
        assert full["data"] == {"application/json": {"a": "z" * 50000}}

        started = await client.request("livy/execute", {"code": "z = {'small': True}\n%json z"})
        out = await output_of(client, started["taskId"])  # what fits is untouched
        assert out["truncated"] is False and out["data"] == {"application/json": {"small": True}}


async def test_a_huge_error_is_bounded_too(spawn_daemon: Any) -> None:
    """An exception with a huge message and a deep traceback: evalue and traceback stay within half
    of maxOutputBytes, keeping the traceback's head (the <stdin> frame) and its end."""
    # Two functions calling each other: Python does not fold alternating frames into a
    # "[Previous line repeated]" line, so the traceback is really 1500 frames long.
    code = ("import sys\nsys.setrecursionlimit(5000)\n"
            "def ping(n):\n    if n == 0:\n        raise ValueError('v' * 100000)\n    pong(n - 1)\n"
            "def pong(n):\n    ping(n - 1)\n"
            "ping(1500)")
    async with spawn_daemon(maxOutputBytes=4000) as client:
        started = await client.request("livy/execute", {"code": code})
        out = await output_of(client, started["taskId"])
        assert out["status"] == "error" and out["ename"] == "ValueError"
        assert out["truncated"] is True
        assert wire_bytes(out["evalue"]) + wire_bytes(out["traceback"]) <= 2000
        assert out["evalue"].startswith("vvvv") and out["evalue"].endswith(" ...")
        tb = out["traceback"]
        assert tb[0].startswith("Traceback") and '"<stdin>"' in tb[1]
        assert any("traceback lines left out" in line and out["fullOutputPath"] in line for line in tb), tb
        assert tb[-1].startswith("ValueError: vvv")
        full = json.loads(await anyio.Path(out["fullOutputPath"]).read_text())
        assert full["evalue"] == "v" * 100000 and len(full["traceback"]) > 1500


def test_fit_error_never_exceeds_its_budget() -> None:
    import random

    from livyd.daemon._supervisor import fit_error

    rng = random.Random(11)
    for _ in range(300):
        limit = rng.randint(1024, 6000)
        frames = range(rng.randint(0, 400))
        tb = ["Traceback (most recent call last):\n"] + [
            f"  File \"x\", line {i}, in f\n" + "é" * rng.randint(0, 80) for i in frames]
        tb.append("ValueError: " + "v" * rng.randint(0, 5000) + "\n")
        evalue = "😀" * rng.randint(0, 3000)
        ev, cut = fit_error(evalue, tb, limit, "the whole output is in /tmp/x.json")
        assert wire_bytes(ev) + wire_bytes(cut) <= limit // 2 or (ev, cut) == (evalue, tb)
        assert evalue.startswith((ev or "").removesuffix(" ..."))
        assert cut[0] == tb[0] or "traceback lines left out" in cut[0]


def test_fit_output_never_exceeds_the_limit_nor_splits_a_character() -> None:
    """fit_output over seeded random bundles of awkward text (escapes, astral characters, control
    characters) and JSON values: always within the limit, text/plain a prefix of the original."""
    import random

    from livyd.daemon._supervisor import fit_output

    rng = random.Random(20261124)
    where = "the whole output is in /state/outputs/t-0123456789ab.json"
    for _ in range(400):
        limit = rng.randint(1024, 3000)
        text = "".join(rng.choice("aé😀\n\"\\\x01") for _ in range(rng.randint(0, 3000)))
        data: dict[str, Any] = {"text/plain": text}
        if rng.random() < 0.5:
            data["application/json"] = {"k": "v" * rng.randint(0, 3000)}
        fitted = fit_output(data, limit, where)
        assert wire_bytes(fitted) <= limit
        body = fitted.get("text/plain", "")
        if body.startswith("[application/json output of"):
            assert where in body
            body = body.split("]\n", 1)[1] if "]\n" in body else ""
        assert text.startswith(body.split("\n... [output truncated", 1)[0])


# --------------------------------------------------------------- a shared daemon that never answers


async def test_relay_runs_standalone_when_the_shared_daemon_never_answers(
    spawn_daemon: Any, tmp_path: Any
) -> None:
    """Something listens at the shared daemon's socket but never answers (a hung daemon): the relay
    gives up after its handshake timeout, runs standalone and says why on stderr."""
    import socket

    from livyd._version import __version__
    from livyd.protocol import PROTOCOL_VERSION

    run_dir = tmp_path / "run"
    sock_dir = run_dir / "livyd"
    sock_dir.mkdir(parents=True, mode=0o700)
    path = sock_dir / f"daemon-{__version__}-p{PROTOCOL_VERSION.split('.')[0]}.sock"
    env = {"XDG_RUNTIME_DIR": str(run_dir), "LIVYD_DAEMON_HANDSHAKE_TIMEOUT": "0.5",
           "LIVYD_DAEMON_SOCKET": str(path)}  # the default name also carries an environment hash
    with socket.socket(socket.AF_UNIX) as silent:
        silent.bind(str(path))
        silent.listen(5)  # accepts (in the kernel's backlog), never answers
        with anyio.fail_after(20):
            async with spawn_daemon(standalone=False, env_extra=env) as client:
                assert client.initialize_result is not None
                assert client.initialize_result["capabilities"]["experimental"]["livyd"]["shared"] is False
                status = await client.request("livy/status", {})
                assert status["pid"] == client.process.pid  # this process serves: standalone
                assert "did not answer livyd's handshake within 0.5 s" in client.stderr
                assert "running standalone" in client.stderr


async def test_shared_daemon_answers_the_hello_and_still_serves_a_plain_lsp_client(tmp_path: Any) -> None:
    """The shared daemon answers the relay's hello with its versions and pid; a client whose first
    frame is not the hello (initialize straight away) is served as before."""
    import os
    import sys

    from livyd._version import __version__
    from livyd.daemon._framing import Frame, FrameParser
    from livyd.daemon._relay import HELLO_ID, HELLO_METHOD
    from livyd.protocol import PROTOCOL_VERSION

    sock_dir = tmp_path / "run"
    sock_dir.mkdir(mode=0o700)
    path = sock_dir / "d.sock"
    env = {
        **os.environ,
        "XDG_STATE_HOME": str(tmp_path / "xdg-state"),
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
    }

    def frame(message: dict[str, Any]) -> bytes:
        body = json.dumps(message).encode()
        return b"Content-Length: %d\r\n\r\n" % len(body) + body

    async def answer(stream: Any, parser: FrameParser) -> dict[str, Any]:
        while True:
            event = parser.next_event()
            if isinstance(event, Frame):
                message: dict[str, Any] = json.loads(event.body)
                return message
            parser.feed(await stream.receive())

    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"processId": None, "rootUri": None, "capabilities": {}, "initializationOptions": {}},
    }
    cmd = [sys.executable, "-m", "livyd.daemon", "--serve-socket", str(path), "--idle-exit", "1"]
    async with await anyio.open_process(cmd, env=env, cwd=str(tmp_path)) as proc:
        try:
            with anyio.fail_after(30):
                while not path.exists():  # noqa: ASYNC110 - a file appearing, no event to wait on
                    await anyio.sleep(0.05)
                async with await anyio.connect_unix(path) as stream:
                    parser = FrameParser(1 << 20)
                    await stream.send(frame({"jsonrpc": "2.0", "id": HELLO_ID, "method": HELLO_METHOD}))
                    hello = await answer(stream, parser)
                    env_hash = hello["result"].pop("env")  # a keyed hash (test_relay_env.py)
                    assert isinstance(env_hash, str) and len(env_hash) == 16
                    assert hello["result"] == {
                        "livyd": __version__,
                        "protocol": PROTOCOL_VERSION,
                        "pid": proc.pid,
                    }
                    await stream.send(frame(initialize))
                    assert "capabilities" in (await answer(stream, parser))["result"]
                async with await anyio.connect_unix(path) as plain:
                    parser = FrameParser(1 << 20)
                    await plain.send(frame(initialize))
                    reply = await answer(plain, parser)
                    assert reply["id"] == 1
                    assert reply["result"]["capabilities"]["experimental"]["livyd"]["shared"] is True
        finally:
            proc.terminate()
            await proc.wait()
