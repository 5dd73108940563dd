"""A session as the daemon keeps it: its connection, its tasks, and the library's engine.

One :class:`SessionWorker` per (connection, Livy session id). Its :class:`~livyd.SessionEngine`
runs the session's statements in order (queue, poll plan, keep-alive, log lines); the worker adds
the editor's view: the tasks with their documents and clients, whether this daemon created the
session, and the configuration to restart it with. :class:`WorkerListener` turns what the engine
reports into the supervisor's notifications; it also hands each statement the engine reads to the
library's :class:`~livyd.StatementInsights`, whose events (what Spark does for the statement)
become ``livy/progress`` notifications and the messages of the task's ``$/progress`` reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio

from livyd._engine import EngineListener, JobState, SessionEngine, StatementJob
from livyd._insight import StatementInsights
from livyd._logging import get_logger
from livyd.protocol import SessionInfo, TaskState

if TYPE_CHECKING:
    from livyd._exceptions import LivydError
    from livyd._models import Session
    from livyd.daemon._connections import LivyConnection
    from livyd.daemon._supervisor import Supervisor
    from livyd.daemon._tasks import Task

__all__ = ["POLL_ERRORS_SHOWN", "SessionWorker", "WorkerListener", "session_info"]

log = get_logger("livyd.daemon.workers")

#: After this many failed rounds in a row the user is told (window/showMessage), once per streak.
POLL_ERRORS_SHOWN = 3


@dataclass(eq=False)
class SessionWorker:
    """One Livy session (on one connection) and everything the daemon does with it."""

    session_id: int
    session: Session | None
    conn: LivyConnection
    owned: bool
    create_body: dict[str, Any] = field(default_factory=dict)
    tasks: list[Task] = field(default_factory=list)
    gone: bool = False
    #: Set when the session ended: the state reported from then on.
    final_state: str | None = None
    scope: anyio.CancelScope | None = None
    engine: SessionEngine | None = None
    #: Watches the Spark jobs of its running statements (livy/progress); made on first use.
    insights: StatementInsights | None = None
    #: Tasks before this index in :attr:`tasks` are finished (the history only grows at the end
    #: and tasks finish about in order): :meth:`pending` costs the unfinished ones, not the history.
    _done_upto: int = 0
    #: A ``livy/taskChanged`` round for the queued tasks is due (see Supervisor.renotify_queue).
    renotify_due: bool = False

    @property
    def profile(self) -> str | None:
        """The profile of the session's connection."""
        return self.conn.profile

    @property
    def key(self) -> tuple[int, int]:
        """``(connection id, session id)``: unique in a supervisor."""
        return (self.conn.cid, self.session_id)

    @property
    def state(self) -> str:
        """Livy's state of the session (``dead`` once it ended under the daemon)."""
        if self.final_state is not None:
            return self.final_state
        return str(self.session.state) if self.session is not None else "unknown"

    @property
    def following(self) -> bool:
        """Whether its log is streamed even while nothing runs (livy/followLog)."""
        return self.engine is not None and self.engine.following

    @following.setter
    def following(self, value: bool) -> None:
        if self.engine is not None:
            self.engine.following = value

    def pending(self) -> list[Task]:
        """Unfinished tasks, in order (amortised O(unfinished), however long the history)."""
        tasks, i = self.tasks, self._done_upto
        while i < len(tasks) and tasks[i].finished:
            i += 1
        self._done_upto = i
        return [t for t in tasks[i:] if not t.finished]

    def kick(self) -> None:
        """Poll now."""
        if self.engine is not None:
            self.engine.kick()


def session_info(w: SessionWorker, attached: SessionWorker | None) -> SessionInfo:
    """The wire view of a session."""
    s = w.session
    return SessionInfo(
        id=w.session_id,
        name=s.name if s else None,
        kind=str(s.kind) if s else None,
        state=w.state,
        app_id=s.app_id if s else None,
        owner=s.owner if s else None,
        proxy_user=s.proxy_user if s else None,
        spark_ui_url=s.app_info.spark_ui_url if s else None,
        driver_log_url=s.app_info.driver_log_url if s else None,
        profile=w.profile,
        owned=w.owned,
        attached=attached is w,
    )


class WorkerListener(EngineListener):
    """What a worker's engine reports, as the supervisor's notifications."""

    def __init__(self, sup: Supervisor, w: SessionWorker) -> None:
        self.sup = sup
        self.w = w

    def _insights(self) -> StatementInsights | None:
        """The worker's watchers (in the daemon's task group), on the connection's current client."""
        tg = self.sup.tg
        if tg is None:
            return None
        client = self.w.conn.require_api().client  # setCredentials may have replaced it
        if self.w.insights is None:
            self.w.insights = StatementInsights(client, self.w.session_id, self._on_progress, tg)
        self.w.insights.client = client
        return self.w.insights

    def _on_progress(self, statement_id: int, event: Any) -> None:
        """An event about statement *statement_id*: ``livy/progress``, and the task's ``$/progress``
        report says it."""
        from livyd._core.sparkinsight import describe
        from livyd.protocol import ProgressNotification

        task = next((t for t in reversed(self.w.tasks) if t.statement_id == statement_id), None)
        if task is None:
            return
        message = describe(event)
        self.sup.notifier.notify("livy/progress", ProgressNotification.of_event(
            event, task_id=task.task_id, session_id=self.w.session_id, statement_id=statement_id,
            profile=self.w.profile, message=message).wire())
        if event.kind in ("phase", "job", "stage", "warning"):
            self.sup.notifier.progress_report(task, message)

    async def job_changed(self, job: StatementJob) -> None:
        task: Task = job.context
        before = task.notified_state
        now = task.state
        if now is TaskState.RUNNING and before in (None, TaskState.QUEUED, TaskState.WAITING):
            self.sup.notifier.progress_begin(task)
        self.sup.notify_task(task)
        self.sup.notifier.progress_report(task)
        if before is TaskState.QUEUED and now is not TaskState.QUEUED:
            self.sup.renotify_queue(self.w)  # those behind it moved up
            self.sup.persist()
        insights = self._insights()
        if insights is not None:
            await insights.polled(job.statement)

    async def job_finished(self, job: StatementJob) -> None:
        task: Task = job.context
        if job.may_still_run:
            job.message = (
                f"Livy marked statement {job.statement_id} cancelled, but its code may still be "
                f"running on session {self.w.session_id}; restart the session (livy/restartSession) "
                "to be sure"
            )
            self.sup.notifier.show_message(job.message, 2)
        await self.sup.deliver(task)
        insights = self.w.insights
        if insights is not None and self.sup.tg is not None:
            st = job.statement
            if st is not None and st.state.is_terminal:
                # the last read of the Spark UI in the background: the next job is not held up
                self.sup.tg.start_soon(insights.polled, st)
            else:
                insights.stop(job.statement_id)
        if self.w.engine is not None:
            self.w.engine.forget_finished()

    def session_changed(self, session: Session) -> None:
        self.w.session = session
        self.sup.notify_session(self.w)

    def log_lines(self, lines: list[str], before: int, total: int) -> None:
        from livyd.protocol import LogNotification

        self.sup.notifier.notify("livy/log", LogNotification(
            session_id=self.w.session_id, lines=lines, from_=before, total=total, profile=self.w.profile,
        ).wire())

    def poll_failed(self, error: LivydError, streak: int) -> None:
        # Expected failures that do not end the session: no network, a gateway's or Livy's 5xx, an
        # expired Kerberos ticket (401) or a refused one (403), a proxy's page instead of JSON...
        if streak == POLL_ERRORS_SHOWN:
            self.sup.notifier.show_message(
                f"livyd cannot poll session {self.w.session_id} ({error}); it keeps trying", 2)

    def before_submit(self, job: StatementJob) -> None:
        self.sup.persist()


def queued_job(code: str, kind: str | None) -> StatementJob:
    """A new job for a task (not yet given to an engine)."""
    return StatementJob(code=code, kind=kind, state=JobState.QUEUED)
