"""``SessionEngine`` against the sandbox over real sockets: a queue of statements run in order, the
next submitted the moment the previous finished, cancels, log lines before the result, and the
end of the session (issue 7, "One engine")."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import AsyncIterator
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from livyd import (
    EngineListener,
    JobState,
    LivyClient,
    PollSettings,
    SessionEngine,
    SessionGoneError,
    StatementJob,
)

pytestmark = pytest.mark.anyio


class Recorder(EngineListener):
    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def job_changed(self, job: StatementJob) -> None:
        self.events.append(("changed", (job.job_id, job.state)))

    async def job_finished(self, job: StatementJob) -> None:
        await anyio.lowlevel.checkpoint()  # async listeners are awaited
        self.events.append(("finished", job.job_id))

    def log_lines(self, lines: list[str], before: int, total: int) -> None:
        self.events.append(("log", lines))


@pytest.fixture
async def session(sandbox: Any) -> AsyncIterator[tuple[LivyClient, int]]:
    async with LivyClient(sandbox.livy_url, name_prefix="eng") as client:
        created = await client.create_session(kind="pyspark")
        await client.wait_session_ready(created.id, timeout=60)
        try:
            yield client, created.id
        finally:
            with anyio.CancelScope(shield=True), contextlib.suppress(SessionGoneError):
                await client.delete_session(created.id)


async def test_a_queue_runs_in_order_with_logs_before_results(session: tuple[LivyClient, int]) -> None:
    client, sid = session
    recorder = Recorder()
    engine = SessionEngine(client, sid, listener=recorder, follow_log=True,
                           poll=PollSettings(initial=0.01, maximum=0.2))
    async with anyio.create_task_group() as tg:
        tg.start_soon(engine.run)
        jobs = [engine.submit(f"import sys, time\nprint('line {i}', file=sys.__stderr__, flush=True)\n"
                              f"time.sleep(0.05)\n{i} * 10")
                for i in range(4)]
        dropped = engine.submit("raise SystemExit('never runs')")
        await engine.cancel(dropped)  # queued: dropped at once, never reaches Livy
        last = engine.submit("6 * 7")
        with anyio.fail_after(60):
            for job in [*jobs, last]:
                await job.wait()
        tg.cancel_scope.cancel()
    assert [j.statement.output.text for j in jobs if j.statement and j.statement.output] == [
        "0", "10", "20", "30"]
    assert last.state is JobState.AVAILABLE and last.statement is not None
    assert last.statement.output is not None and last.statement.output.text == "42"
    assert dropped.state is JobState.CANCELLED and dropped.statement_id is None
    ids = [j.statement_id for j in [*jobs, last]]
    assert ids == list(range(ids[0], ids[0] + 5))  # strictly in order, nothing else submitted
    for before, after in itertools.pairwise(jobs):  # one after the other on Livy
        assert before.statement and after.statement
        assert (after.statement.started or 0) >= (before.statement.completed or 0)
    # Every log line a statement printed came before its result.
    for i, job in enumerate(jobs):
        finished_at = recorder.events.index(("finished", job.job_id))
        logged = [k for k, (kind, value) in enumerate(recorder.events)
                  if kind == "log" and any(f"line {i}" in line for line in value)]
        assert logged and logged[0] < finished_at, recorder.events


async def test_cancel_of_a_running_statement_and_the_end_of_the_session(
    session: tuple[LivyClient, int]
) -> None:
    client, sid = session
    engine = SessionEngine(client, sid)
    ended: list[BaseException] = []
    async with anyio.create_task_group() as tg:
        async def run() -> None:
            try:
                await engine.run()
            except SessionGoneError as exc:
                ended.append(exc)
                await engine.fail_pending("the session is gone")
        tg.start_soon(run)
        running = engine.submit("import time\nfor _ in range(80):\n    time.sleep(0.05)")
        queued = engine.submit("1")
        with anyio.fail_after(30):
            while running.state is not JobState.RUNNING:  # noqa: ASYNC110 - a state, not an event
                await anyio.sleep(0.02)
            await engine.cancel(running)
            await running.wait()
        assert running.state is JobState.CANCELLED
        assert running.may_still_run  # the sandbox gave up after 3 s; plain Python runs on
        with anyio.fail_after(30):
            await queued.wait()
        assert queued.state is JobState.AVAILABLE
        stuck = engine.submit("import time\ntime.sleep(8)")
        with anyio.fail_after(30):
            while stuck.statement_id is None:  # noqa: ASYNC110 - a state, not an event
                await anyio.sleep(0.02)
        await client.delete_session(sid)  # someone deletes it: the engine ends, saying why
        with anyio.fail_after(30):
            await stuck.wait()
    assert ended and isinstance(ended[0], SessionGoneError)
    assert stuck.state is JobState.FAILED and stuck.message == "the session is gone"


class CountingClient:
    """The real client, with its session-log reads counted (nothing else changed)."""

    def __init__(self, client: LivyClient) -> None:
        self._client = client
        self.log_reads = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    async def session_log(self, session_id: int, /, **kwargs: Any) -> Any:
        self.log_reads += 1
        return await self._client.session_log(session_id, **kwargs)


async def test_a_quiet_log_is_not_read_before_every_result_and_loses_nothing(
    session: tuple[LivyClient, int]
) -> None:
    client, sid = session
    counting = CountingClient(client)
    recorder = Recorder()
    engine = SessionEngine(counting, sid, listener=recorder, follow_log=True,  # type: ignore[arg-type]
                           poll=PollSettings(initial=0.002, maximum=5.0))
    async with anyio.create_task_group() as tg:
        tg.start_soon(engine.run)
        with anyio.fail_after(60):
            await engine.submit("0").wait()  # the first result reads the log (it is not known quiet)
            quiet = [engine.submit(f"{i} * 2") for i in range(1, 7)]
            for job in quiet:
                await job.wait()
            reads_for_six = counting.log_reads
            # a line in a quiet log comes right after its statement's result; the log is active again
            wrote = engine.submit("import sys\nprint('late line', file=sys.__stderr__, flush=True)\n1")
            await wrote.wait()
            while not any(kind == "log" and any("late line" in x for x in v)  # noqa: ASYNC110
                          for kind, v in recorder.events):
                await anyio.sleep(0.01)
            active = engine.submit("import sys\nprint('early line', file=sys.__stderr__, flush=True)\n2")
            await active.wait()
        tg.cancel_scope.cancel()
    assert [j.statement.output.text for j in quiet if j.statement and j.statement.output] == [
        str(i * 2) for i in range(1, 7)]
    # baseline, the first result, one read after the queue emptied: not one read per statement
    assert reads_for_six <= 4, reads_for_six
    finished = recorder.events.index(("finished", active.job_id))
    early = [k for k, (kind, v) in enumerate(recorder.events)
             if kind == "log" and any("early line" in x for x in v)]
    assert early and early[0] < finished, recorder.events


class RecordingClient(CountingClient):
    """The real client; the engine's reads are recorded by name."""

    def __init__(self, client: LivyClient) -> None:
        super().__init__(client)
        self.calls: list[str] = []

    async def session_log(self, session_id: int, /, **kwargs: Any) -> Any:
        self.calls.append("log")
        return await super().session_log(session_id, **kwargs)

    async def get_statement(self, session_id: int, statement_id: int, /) -> Any:
        self.calls.append("statement")
        return await self._client.get_statement(session_id, statement_id)


async def test_a_long_statement_costs_one_request_per_cap_log_reads_included(
    session: tuple[LivyClient, int]
) -> None:
    """At the cap, a paced log read takes the round's one request instead of adding a second."""
    client, sid = session
    rec = RecordingClient(client)
    engine = SessionEngine(rec, sid, follow_log=True,  # type: ignore[arg-type]
                           poll=PollSettings(initial=0.002, maximum=0.05))
    job = engine.submit("import time\ntime.sleep(20)")
    try:
        await engine.round()  # submits it
        assert job.statement_id is not None
        rounds = []
        with anyio.fail_after(30):
            while engine._planner is None or engine._planner.interval < engine.poll.maximum:
                await anyio.sleep(engine._delay() or 0)  # paced as run() paces it
                before = len(rec.calls)
                await engine.round()
                rounds.append(rec.calls[before:])
            for _ in range(12):  # at the cap: whatever is due, one request per round
                await anyio.sleep(engine._delay() or 0)
                before = len(rec.calls)
                await engine.round()
                rounds.append(rec.calls[before:])
        at_cap = rounds[-12:]
        assert all(len(r) == 1 for r in at_cap), rounds
        assert ["log"] in at_cap and ["statement"] in at_cap, rounds  # the log is still read
    finally:
        with anyio.CancelScope(shield=True):
            await engine.cancel(job)
