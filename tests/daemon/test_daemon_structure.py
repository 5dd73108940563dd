"""The daemon's structure, checked in-process (no Livy, no subprocess): the method table drives the
handlers, a crash in one engine or follower ends only that one, a cancelled completion cancels its
statement, and the state is written off the loop with marks folded together (issue 7)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import pytest

from livyd._models import Batch, Session, Statement
from livyd.protocol import COMMANDS, METHODS, DaemonSettings

pytestmark = pytest.mark.anyio


def test_every_request_in_the_table_has_a_handler_and_every_handler_an_entry() -> None:
    from livyd.daemon._server import build_server

    server = build_server()
    features = set(server.protocol.fm.features)
    requests = {m.name for m in METHODS if m.kind == "request" and m.direction == "clientToServer"}
    assert requests - features == set(), "requests in livyd/protocol/_methods.py without a handler"
    own = {name for name in features if name.startswith("livy/")}
    assert own - requests == set(), "livy/* handlers without an entry in the method table"
    assert set(server.protocol.fm.commands) == set(COMMANDS)


def test_a_handler_for_a_method_the_table_does_not_have_is_refused() -> None:
    from livyd.daemon._server import LivydServer, _rpc

    async def handler(ls: Any, params: Any) -> Any:
        return None

    with pytest.raises(LookupError, match="livy/notInTheTable"):
        _rpc(LivydServer(), "livy/notInTheTable")(handler)


class _Notes:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.shown: list[str] = []

    def notifier(self) -> Any:
        from livyd.daemon._supervisor import Notifier

        return Notifier(notify=lambda m, p: self.sent.append((m, p)),
                        show_message=lambda text, level: self.shown.append(text))


class _BrokenEngine:
    following = False

    async def run(self) -> None:
        raise RuntimeError("a bug in livyd")

    async def fail_pending(self, reason: str) -> None:
        self.reason = reason

    def kick(self) -> None:
        pass


async def test_a_crashing_engine_ends_only_its_session() -> None:
    from livyd.daemon._connections import LivyConnection
    from livyd.daemon._supervisor import Supervisor
    from livyd.daemon._workers import SessionWorker

    notes = _Notes()
    sup = Supervisor(DaemonSettings(), notes.notifier())
    conn = LivyConnection(cid=1, profile=None, url="http://127.0.0.1:9")
    w = SessionWorker(0, Session(id=0, state="idle"), conn, True)
    w.engine = _BrokenEngine()  # type: ignore[assignment]
    sup.sessions[w.key] = w
    async with anyio.create_task_group() as tg:  # the daemon's root group survives it
        tg.start_soon(sup._poll_session, w)
    assert w.gone and w.state == "dead"
    assert "livyd stopped polling session 0: RuntimeError" in w.engine.reason  # type: ignore[attr-defined]
    assert notes.sent[-1][0] == "livy/sessionChanged"


async def test_a_crashing_batch_follower_ends_only_itself() -> None:
    from livyd.daemon._batches import BatchFollowers
    from livyd.daemon._connections import LivyConnection

    class Api:
        async def get_batch(self, batch_id: int) -> Batch:
            raise KeyError("a bug")

    sent: list[Any] = []
    followers = BatchFollowers(lambda m, p: sent.append(m), lambda: 0.01)
    conn = LivyConnection(cid=1, profile=None, url="http://127.0.0.1:9")
    conn.api = Api()  # type: ignore[assignment]
    async with anyio.create_task_group() as tg:
        followers.tg = tg
        followers.follow(conn, 7)
    assert followers.scopes == {}


async def test_a_cancelled_completion_cancels_its_statement() -> None:
    from livyd.daemon._completion import complete
    from livyd.daemon._connections import LivyConnection
    from livyd.daemon._workers import SessionWorker

    cancelled: list[int] = []
    submitted = anyio.Event()

    class Api:
        async def submit_statement(self, session_id: int, code: str, *, kind: str | None = None) -> Statement:
            submitted.set()
            return Statement(id=5, state="running")

        async def get_statement(self, session_id: int, statement_id: int) -> Statement:
            await anyio.sleep_forever()
            raise AssertionError

        async def cancel_statement(self, session_id: int, statement_id: int) -> None:
            cancelled.append(statement_id)

    conn = LivyConnection(cid=1, profile=None, url="http://127.0.0.1:9")
    conn.api = Api()  # type: ignore[assignment]
    w = SessionWorker(3, Session(id=3, state="idle", kind="pyspark"), conn, True)
    async with anyio.create_task_group() as tg:
        tg.start_soon(complete, w, "spark.ra", 8)
        await submitted.wait()
        await anyio.sleep(0.1)  # it is now waiting for the statement
        tg.cancel_scope.cancel()  # the editor sent $/cancelRequest
    assert cancelled == [5]


async def test_state_writes_are_off_the_loop_and_folded(tmp_path: Path) -> None:
    from livyd.daemon._state import StateStore, StateWriter

    store = StateStore(tmp_path)
    assert store.acquire()
    counter = {"n": 0}

    def snapshot() -> dict[str, Any]:
        counter["n"] += 1
        return {"tasks": [{"taskId": f"t{i}"} for i in range(counter["n"])]}

    writer = StateWriter(store, snapshot)
    async with anyio.create_task_group() as tg:
        tg.start_soon(writer.run)
        with anyio.fail_after(10):
            while not writer.running:  # noqa: ASYNC110 - the writer task's own flag
                await anyio.sleep(0.001)
        for _ in range(200):  # 200 events in a burst
            writer.mark()
        with anyio.fail_after(10):
            while writer.writes == 0 or writer._dirty:  # noqa: ASYNC110
                await anyio.sleep(0.01)
        tg.cancel_scope.cancel()
    assert 1 <= writer.writes <= 2, writer.writes
    saved = json.loads((tmp_path / "state.json").read_text())
    assert len(saved["tasks"]) == counter["n"]  # the last snapshot is what is on disk
    store.release()
