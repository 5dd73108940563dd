"""``SessionEngine``: the statements of one Livy session, run in order, as fast as the wire allows.

What both the daemon and a script need once they keep a session busy with more than one statement:

* **A queue.** :meth:`SessionEngine.submit` appends a :class:`StatementJob` and returns at once.
  The engine submits the head of the queue only when the previous statement finished, so the
  statements of a session run strictly in order, and a queued job is cancelled by dropping it (it
  never reaches Livy). The next job is submitted *the moment* the previous one is seen finished,
  in the same round, not a poll interval later.
* **Duplicate-safe submission.** ``LivyClient.submit_statement`` never re-sends a POST whose fate is
  unknown; such a job ends ``failed`` saying so, and nothing runs twice.
* **The poll plan.** One :class:`~livyd._core.poll.PollPlanner` per submitted statement: the first
  poll within milliseconds (trivial statements finish at once), the wait growing up to the cap
  while nothing changes, short again when the state moves. One request per poll (only the
  statement in flight is read; at the cap, a log read that is due takes the poll's place, so a
  long statement costs one request per cap); the session itself is read only while it is not
  ready and once after the last job finished (so callers learn that it is idle again).
* **Keep-alive.** Livy's idle timer ignores GETs: while a statement runs longer than
  ``keepalive_interval`` the engine POSTs ``/sessions/{id}/connect``.
* **Log lines** (optional, ``follow_log``): the session log's new lines while a statement runs,
  each once and in order (:class:`~livyd._core.logcursor.LogCursor`). While the log is *active*
  (its last read brought lines, or it was never read), every line Livy held when a result was read
  is delivered *before* that result. A *quiet* log (its last read brought nothing: the usual case
  on YARN, where the driver logs to its container, not to Livy) is not read again before each
  result, which would cost a request per statement for nothing; it is read on its pace while a
  statement runs and once the queue is empty, so a line that appears in a quiet log comes right
  after the result of the statement that wrote it, and the log is active again from then on.
* **Failures.** A session that ended (404, a final state, Livy's 400 "Session isn't active")
  ends :meth:`SessionEngine.run` with :class:`~livyd.SessionGoneError`; the caller fails what is
  left. Any other failure livyd knows (:class:`~livyd.LivydError`: no connection, a 5xx, an expired
  ticket) keeps the jobs: the engine backs off (``livyd._core.backoff``) and tells its listener.

The engine works on the library's models (:class:`~livyd.Session`, :class:`~livyd.Statement`)
and reports through an :class:`EngineListener` whose methods may be plain or ``async``. It never
writes to stdout and holds no global state; :meth:`SessionEngine.run` is one task (cancel it to
stop; a cancelled run leaves the statements alone on the server).

Example::

    async with LivyClient(url) as client:
        session = await client.create_session(kind="pyspark")
        engine = SessionEngine(client, session.id)
        async with anyio.create_task_group() as tg:
            tg.start_soon(engine.run)
            jobs = [engine.submit(code) for code in ("1 + 1", "2 + 2")]
            for job in jobs:
                await job.wait()
                print(job.statement.output.text)
            tg.cancel_scope.cancel()
"""

from __future__ import annotations

import inspect
import math
import random
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

import anyio

from livyd._core.backoff import RetryPlan
from livyd._core.logcursor import FETCH_SIZE, LogCursor
from livyd._core.poll import PollPlanner, PollSettings
from livyd._exceptions import (
    LivydError,
    SessionGoneError,
    SessionNotReadyError,
    StatementNotFoundError,
    SubmissionUnknownError,
    TransportError,
)
from livyd._logging import get_logger
from livyd._models import Session, SessionState, Statement, StatementState

if TYPE_CHECKING:
    from livyd._models import LogPage

__all__ = ["EngineClient", "EngineListener", "JobState", "SessionEngine", "StatementJob"]


class EngineClient(Protocol):
    """What the engine needs of a client: :class:`~livyd.LivyClient` has it all (so does the
    daemon's counting wrapper)."""

    @property
    def poll_settings(self) -> PollSettings: ...

    @property
    def keepalive_interval(self) -> float: ...

    def get_session(self, session_id: int, /) -> Awaitable[Session]: ...

    def get_statement(self, session_id: int, statement_id: int, /) -> Awaitable[Statement]: ...

    def submit_statement(self, session_id: int, code: str, /, *, kind: str | None = None,
                         after_id: int | None = None) -> Awaitable[Statement]: ...

    def cancel_statement(self, session_id: int, statement_id: int, /) -> Awaitable[None]: ...

    def session_log(self, session_id: int, /, *, from_: int | None = None, size: int | None = None
                    ) -> Awaitable[LogPage]: ...

    def connect_session(self, session_id: int, /) -> Awaitable[Session]: ...

log = get_logger("livyd.engine")

#: How long a shielded cancel POST may take.
CANCEL_TIMEOUT = 10.0
#: Reads of an ``available`` statement without output before it is taken as it is (a Livy quirk).
EMPTY_AVAILABLE_RETRIES = 3
#: New log lines in one read that make the engine read again at once (a quarter of the 200
#: lines per stream Livy keeps), as the library's log followers do.
FOLLOW_BURST = 50
#: Back-off of polls that fail with a LivydError (per failure in a row), capped.
POLL_BACKOFF = RetryPlan(retries=1_000_000, base=0.5, cap=30.0)


class JobState(StrEnum):
    """Where a :class:`StatementJob` is: ``queued`` (held by the engine), Livy's statement states,
    or ``failed`` (livyd could not run it: the submission was refused or its fate is unknown, the
    session ended)."""

    QUEUED = "queued"
    WAITING = "waiting"
    RUNNING = "running"
    CANCELLING = "cancelling"
    AVAILABLE = "available"
    CANCELLED = "cancelled"
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        """A final state."""
        return self in (JobState.AVAILABLE, JobState.CANCELLED, JobState.FAILED)


_FROM_LIVY = {
    StatementState.WAITING: JobState.WAITING,
    StatementState.RUNNING: JobState.RUNNING,
    StatementState.CANCELLING: JobState.CANCELLING,
    StatementState.AVAILABLE: JobState.AVAILABLE,
    StatementState.CANCELLED: JobState.CANCELLED,
    StatementState.ERROR: JobState.CANCELLED,  # never set by real Livy; a failed run without output
}


@dataclass(eq=False)
class StatementJob:
    """One statement on the engine's session."""

    code: str
    kind: str | None = None
    job_id: str = field(default_factory=lambda: secrets.token_hex(6))
    state: JobState = JobState.QUEUED
    #: Livy's statement once submitted (the latest read).
    statement: Statement | None = None
    statement_id: int | None = None
    progress: float = 0.0
    #: Why it failed (state ``failed``), or what the user should know (an unsafe cancel).
    message: str | None = None
    #: Livy marked it cancelled while its code may still run (a forced cancel, livy-rest.md 7.5).
    may_still_run: bool = False
    cancel_requested: bool = False
    #: The POST is in flight (its fate is unknown until it returns).
    submitting: bool = False
    was_running: bool = False
    #: Anything the caller wants to keep with the job (the daemon's task).
    context: Any = None
    _done: anyio.Event = field(default_factory=anyio.Event, repr=False)

    @property
    def finished(self) -> bool:
        """Whether the job reached a final state."""
        return self.state.finished

    async def wait(self) -> StatementJob:
        """Wait until the job finished; return it."""
        await self._done.wait()
        return self


class EngineListener:
    """What the engine tells its owner. Override what you need; each may be ``async``."""

    def job_changed(self, job: StatementJob) -> Any:
        """A job's state or progress changed (also right after it was submitted)."""

    def job_finished(self, job: StatementJob) -> Any:
        """A job reached its final state (once per job). The next job is submitted after this
        returns, so the log lines and the output of one job come before the next one's."""

    def session_changed(self, session: Session) -> Any:
        """The session was read and its state differs from the last read."""

    def log_lines(self, lines: list[str], before: int, total: int) -> Any:
        """New session log lines (``follow_log``): *before* lines were delivered earlier; Livy
        holds *total* now."""

    def poll_failed(self, error: LivydError, streak: int) -> Any:
        """A round failed with a LivydError (the engine backs off and tries again)."""

    def before_submit(self, job: StatementJob) -> Any:
        """Called right before a job's POST (the daemon persists that it is submitting)."""


async def _call(result: Any) -> None:
    if inspect.isawaitable(result):
        await result


class SessionEngine:
    """Runs the statements of one session in order; see the module docstring.

    :param client: the session's :class:`~livyd.LivyClient` (looked up through *client_for* on each
        round when given: a caller may replace the client, e.g. with new credentials).
    :param poll: the plan of statement polls (default: the client's ``poll_settings``); its
        ``maximum`` is the cap (at most one request per cap while a long statement runs).
    :param idle_interval: seconds between reads of the session while no job is pending (``None``:
        never; the engine then sleeps until :meth:`submit` or :meth:`kick`).
    :param follow_log: stream the session log's new lines while a statement runs (and always,
        while :attr:`following` is set).
    """

    def __init__(
        self,
        client: EngineClient,
        session_id: int,
        *,
        poll: PollSettings | None = None,
        idle_interval: float | None = None,
        keepalive_interval: float | None = None,
        listener: EngineListener | None = None,
        follow_log: bool = False,
        session: Session | None = None,
        client_for: Callable[[], EngineClient] | None = None,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self._client = client
        self._client_for = client_for
        self.session_id = session_id
        self.poll = poll or client.poll_settings
        self.idle_interval = idle_interval
        self.keepalive_interval = keepalive_interval or client.keepalive_interval
        self.listener = listener or EngineListener()
        self.follow_log = follow_log
        #: Stream log lines even while nothing runs (a followed session).
        self.following = False
        self.session = session
        self.jobs: list[StatementJob] = []
        self.log_cursor: LogCursor | None = None
        self._wake = anyio.Event()
        self._rand = rand
        self._planner: PollPlanner | None = None
        self._fresh = False
        self._last_touch = 0.0
        self._empty_available = 0
        #: Rounds to poll fast while the session still says busy after the last job finished.
        self._settle = 0
        #: The last log read brought a burst (or a gap): read again at once, before Livy's
        #: 200-line buffer wraps.
        self._burst = False
        self._gaps = 0
        self._log_wait = 0.0
        self._log_next_at = 0.0
        #: The last log read brought nothing (see the module docstring).
        self._log_quiet = False
        #: A result was delivered without reading the quiet log first: read it once the queue is empty.
        self._log_owed = False
        #: The highest statement id this engine saw on its session (None: not known yet).
        self._last_id: int | None = None

    @property
    def client(self) -> EngineClient:
        """The client used for the next request."""
        return self._client_for() if self._client_for is not None else self._client

    # ---------------------------------------------------------------- the caller's side

    def submit(self, code: str, *, kind: str | None = None, context: Any = None) -> StatementJob:
        """Queue *code*; returns at once (the job starts ``queued``)."""
        job = StatementJob(code=code, kind=kind, context=context)
        self.jobs.append(job)
        self.kick()
        return job

    def adopt(self, job: StatementJob) -> StatementJob:
        """Take over a job that was submitted before (restored state: its ``statement_id`` set),
        or a queued one; it is polled (or submitted) in order with the others."""
        job.submitting = False
        self.jobs.append(job)
        if job.statement_id is not None:
            self._last_id = max(job.statement_id, self._last_id if self._last_id is not None else -1)
            self._new_plan()
        self.kick()
        return job

    def pending(self) -> list[StatementJob]:
        """Unfinished jobs, in order."""
        return [j for j in self.jobs if not j.finished]

    def queued_ahead(self, job: StatementJob) -> int:
        """How many unfinished jobs are ahead of *job*."""
        ahead = 0
        for j in self.jobs:
            if j is job:
                break
            if not j.finished:
                ahead += 1
        return ahead

    def kick(self) -> None:
        """Poll now (new work, a cancel, a new client)."""
        self._wake.set()

    def forget_finished(self) -> None:
        """Drop finished jobs from :attr:`jobs` (a long-running owner keeps its own history)."""
        self.jobs = [j for j in self.jobs if not j.finished]

    async def cancel(self, job: StatementJob) -> StatementJob:
        """Cancel *job*: a queued one is dropped (``cancelled``, never sent); a submitted one is
        cancelled on Livy (``cancelling``, then whatever Livy says). Shielded, bounded."""
        if job.finished:
            return job
        job.cancel_requested = True
        if job.state is JobState.QUEUED and not job.submitting:
            await self._finish(job, JobState.CANCELLED, message="cancelled before it ran")
            return job
        if job.statement_id is not None:
            job.was_running = job.was_running or job.state is JobState.RUNNING
            job.state = JobState.CANCELLING
            await _call(self.listener.job_changed(job))
            await self._send_cancel(job)
        self.kick()
        return job

    async def fail_pending(self, reason: str) -> None:
        """End every unfinished job ``failed`` with *reason* (the session is gone)."""
        for job in self.pending():
            await self._finish(job, JobState.FAILED, message=reason)

    # ---------------------------------------------------------------- the loop

    async def run(self) -> None:
        """Run until cancelled, or until the session ended (:class:`SessionGoneError`)."""
        streak = 0
        while True:
            self._wake = anyio.Event()  # a kick during the round makes the next one come at once
            try:
                await self.round()
                streak = 0
            except SessionGoneError:
                raise
            except LivydError as exc:
                streak += 1
                log.warning("engine.poll_failed", session=self.session_id, error=str(exc), streak=streak)
                await _call(self.listener.poll_failed(exc, streak))
            delay = self._delay()
            if streak:
                backoff = POLL_BACKOFF.delay(streak - 1, self._rand) or POLL_BACKOFF.cap
                delay = backoff if delay is None else max(delay, backoff)
            if delay is None:
                await self._wake.wait()
            else:
                with anyio.move_on_after(delay):
                    await self._wake.wait()

    def _delay(self) -> float | None:
        """Seconds until the next round (``None``: until woken)."""
        now = anyio.current_time()
        if self._burst:
            # Lines are pouring in: a fresh plan reads again at once and then backs off.
            self._burst = False
            self._new_plan()
        busy = bool(self.pending()) or self._state_unsettled() or self.following
        if not busy and self._settle > 0:
            self._settle -= 1
            busy = True
        if not busy:
            self._planner = None
            return self.idle_interval
        if self._planner is None:
            self._new_plan()
        assert self._planner is not None
        if self._fresh:
            self._fresh = False
            return self._planner.delay(now)
        inflight = self._inflight()
        delivered = self.log_cursor.delivered if self.log_cursor is not None else 0
        return self._planner.observe(
            now,
            state=(str(self.session.state) if self.session else None,
                   str(inflight.state) if inflight else None, inflight.statement_id if inflight else None),
            progress=(round(inflight.progress, 2) if inflight else None, delivered),
        )

    def _log_due(self) -> bool:
        return anyio.current_time() >= self._log_next_at

    def _log_takes_the_slot(self) -> bool:
        return (self.follow_log and not self.following and self._log_due() and self._planner is not None
                and self._planner.interval >= self.poll.maximum)

    def _new_plan(self) -> None:
        self._planner = PollPlanner(self.poll, now=anyio.current_time())
        self._fresh = True

    def _state_unsettled(self) -> bool:
        return self.session is None or not self.session.state.is_ready

    def _inflight(self) -> StatementJob | None:
        return next((j for j in self.pending() if j.statement_id is not None), None)

    async def round(self) -> None:
        """One round: read what needs reading, deliver, submit the next job."""
        had_work = bool(self.pending())
        if self.session is None or not self.session.state.is_ready or not had_work:
            await self.read_session()
            if not self.session or not self.session.state.is_ready:
                return  # starting or recovering: statements wait
        job = self._inflight()
        if job is not None and self._log_takes_the_slot():
            # A long statement, polled once per cap: its paced log read takes this round's one
            # request (the statement is read next round), so it costs at most one request per cap.
            await self.pump_log()
            return
        if job is not None:
            st = await self._read_statement(job)
            # The log right after a result was read (its lines come first) unless it is quiet,
            # while followed, and otherwise paced: a quiet log is read less often (up to 5 polls
            # apart), so a long statement costs about one request per poll; a burst is read
            # again at once.
            finishing = st is not None and st.state.is_terminal
            if self.following or (self.follow_log and ((finishing and not self._log_quiet)
                                                       or self._log_due())):
                await self.pump_log()
            elif finishing and self.follow_log:
                self._log_owed = True
            if st is not None:
                await self._apply(job, st)
        elif self.following:
            await self.pump_log()
        if self._inflight() is None:
            head = next((j for j in self.pending() if j.state is JobState.QUEUED), None)
            if head is not None:
                await self._submit(head)
        if had_work and not self.pending():
            # The last job finished: the session is idle again (or still busy with someone
            # else's work): read it now, and fast a few more times while it still says busy.
            await self.read_session()
            if self._log_owed:
                await self.pump_log()  # what a quiet log got meanwhile, after the results
            self._settle = 10 if self.session and self.session.state == SessionState.BUSY else 0

    async def read_session(self) -> Session:
        """GET the session; tell the listener when its state changed; raise SessionGoneError when
        it ended (a final state, or ``error``: it runs nothing any more)."""
        before = self.session.state if self.session is not None else None
        session = await self.client.get_session(self.session_id)
        self.session = session
        if session.state != before:
            await _call(self.listener.session_changed(session))
        if session.state.is_terminal or session.state == SessionState.ERROR:
            raise SessionGoneError(f"session {self.session_id} is {session.state}",
                                   session_id=self.session_id, state=str(session.state))
        return session

    async def _read_statement(self, job: StatementJob) -> Statement | None:
        assert job.statement_id is not None
        try:
            return await self.client.get_statement(self.session_id, job.statement_id)
        except StatementNotFoundError:
            await self._finish(job, JobState.FAILED,
                               message=f"statement {job.statement_id} is no longer known to Livy")
            return None

    async def pump_log(self) -> None:
        """Deliver the session log lines that appeared since the last read."""
        try:
            page = await self.client.session_log(self.session_id, from_=0, size=FETCH_SIZE)
        except SessionGoneError:
            raise
        except LivydError as exc:
            log.debug("engine.log_failed", session=self.session_id, error=str(exc))
            return
        baseline = self.log_cursor is None
        if self.log_cursor is None:
            self.log_cursor = LogCursor(start="tail", tail=0)
        before = self.log_cursor.delivered
        lines = self.log_cursor.feed(page.log, page_from=page.from_)
        if not baseline:  # the baseline delivers nothing by design: the log is not known quiet yet
            self._log_quiet = not lines
        self._log_owed = False
        self._burst = len(lines) >= FOLLOW_BURST or self.log_cursor.gaps > self._gaps
        self._gaps = self.log_cursor.gaps
        cap = self.poll.maximum
        self._log_wait = cap if lines else min(max(self._log_wait * 2, cap), 5 * cap)
        self._log_next_at = anyio.current_time() + self._log_wait
        if lines:
            await _call(self.listener.log_lines(lines, before, page.total))

    async def _submit(self, job: StatementJob) -> None:
        if (self.follow_log or self.following) and self.log_cursor is None:
            # The baseline is what the log holds *before* the first submission: lines the
            # statement writes from its first instant are new, hence delivered.
            await self.pump_log()
        job.submitting = True
        await _call(self.listener.before_submit(job))
        try:
            # The engine submits this session's statements one after the other: the last id it
            # saw precedes this one, so the client need not look the newest id up first.
            st = await self.client.submit_statement(self.session_id, job.code, kind=job.kind,
                                                    after_id=self._last_id)
        except SessionNotReadyError:
            job.submitting = False
            return  # starting or recovering: try again next round
        except SessionGoneError:
            job.submitting = False
            raise
        except (SubmissionUnknownError, TransportError) as exc:
            job.submitting = False
            await self._finish(job, JobState.FAILED,
                               message=f"the submission's fate is unknown ({exc}); it was not re-sent")
            return
        except LivydError as exc:
            job.submitting = False
            await self._finish(job, JobState.FAILED, message=str(exc))
            return
        job.submitting = False
        job.statement_id = st.id
        job.statement = st
        self._last_id = max(st.id, self._last_id if self._last_id is not None else -1)
        self._new_plan()
        self._last_touch = anyio.current_time()
        self._empty_available = 0
        if self.session is not None and self.session.state != SessionState.BUSY:
            self.session = self.session.model_copy(update={"state": SessionState.BUSY})
            await _call(self.listener.session_changed(self.session))
        if job.cancel_requested:
            await self._send_cancel(job)
        if st.state.is_terminal and (self.following or (self.follow_log and not self._log_quiet)):
            await self.pump_log()  # finished at once: its log lines still come first
        elif st.state.is_terminal and self.follow_log:
            self._log_owed = True
        await self._apply(job, st, submitted=True)

    async def _apply(self, job: StatementJob, st: Statement, *, submitted: bool = False) -> None:
        job.statement = st
        progress = 0.0 if math.isnan(st.progress) else min(max(st.progress, 0.0), 1.0)
        if st.state == StatementState.AVAILABLE:
            if st.output is None and self._empty_available < EMPTY_AVAILABLE_RETRIES and not submitted:
                self._empty_available += 1
                return  # Livy flips the state before it stores the output: read again
            await self._finish(job, JobState.AVAILABLE, progress=1.0)
            return
        if st.state in (StatementState.CANCELLED, StatementState.ERROR):
            if (job.was_running or (st.started or 0) > 0) and st.output is None:
                job.may_still_run = True
                job.message = (f"Livy marked statement {job.statement_id} cancelled, but its code may "
                               f"still be running on session {self.session_id}; restart the session "
                               "to be sure")
            await self._finish(job, JobState.CANCELLED, progress=1.0)
            return
        new = _FROM_LIVY.get(st.state, job.state)
        if job.state is JobState.CANCELLING and job.cancel_requested and new is not JobState.CANCELLING:
            new = JobState.CANCELLING  # Livy has not caught up with the cancel yet
        if new is JobState.RUNNING:
            job.was_running = True
        changed = submitted or new is not job.state or abs(progress - job.progress) >= 0.01
        job.state, job.progress = new, progress
        if changed:
            await _call(self.listener.job_changed(job))
        now = anyio.current_time()
        if now - self._last_touch >= self.keepalive_interval:
            self._last_touch = now
            try:
                await self.client.connect_session(self.session_id)
            except SessionGoneError:
                raise
            except LivydError as exc:
                log.warning("engine.keepalive_failed", session=self.session_id, error=str(exc))

    async def _finish(self, job: StatementJob, state: JobState, *, message: str | None = None,
                      progress: float | None = None) -> None:
        if job.finished:
            return
        job.state = state
        job.message = message or job.message
        if progress is not None:
            job.progress = progress
        elif state is not JobState.FAILED:
            job.progress = 1.0
        try:
            await _call(self.listener.job_finished(job))
        finally:
            job._done.set()

    async def _send_cancel(self, job: StatementJob) -> None:
        assert job.statement_id is not None
        with anyio.move_on_after(CANCEL_TIMEOUT, shield=True):
            try:
                await self.client.cancel_statement(self.session_id, job.statement_id)
            except LivydError as exc:
                log.warning("engine.cancel_failed", session=self.session_id, statement=job.statement_id,
                            error=str(exc))

