"""The daemon's supervisor: connections, sessions, tasks, delivery, restore.

Theory of operation
-------------------

One :class:`Supervisor` lives for the daemon's lifetime (per workspace), inside the root anyio
task group (the daemon's structured root, cancelled on ``exit`` or stdin EOF). Every background
activity is a child of that group: one **engine per session** (the library's
:class:`~livyd.SessionEngine`: queue, poll plan, keep-alive, log lines), one follower per
followed batch (:mod:`.._batches`), and the state writer (:class:`~livyd.daemon._state.StateWriter`);
nothing is fire-and-forget, and a crash in one engine or follower ends that one only.

The supervisor adds the editor's concerns to the engine: tasks (:mod:`._tasks`) with their
documents and clients, notifications built from the protocol's models, the output log and big
outputs (:mod:`._outputs`), persistence and restore, several Livy servers at once
(:mod:`._connections`), and completion (:mod:`._completion`).

**Tasks.** ``livy/execute`` creates a :class:`~livyd.daemon._tasks.Task` around a job of the
session's engine and returns. The engine runs the jobs strictly in order and submits the next the
moment the previous one is seen finished; a queued task is cancelled by dropping it (it never
reaches Livy). A POST of a statement is never retried: if it fails ambiguously, the task fails
saying so.

**Failures.** A session that ended (404, a final state, Livy's 400 "Session isn't active.")
fails its pending tasks with that reason. Any other failure livyd knows keeps the tasks: the engine
backs off and the user is told once per streak. Only a bug in livyd takes the "poller crashed"
path, which ends that session's engine and nothing else.

**Finishing.** A finished task's output is appended to the workspace output log (in a worker
thread), *then* ``livy/taskChanged`` and ``livy/output`` are sent. An output that may take more
than ``maxOutputBytes`` on the wire is measured, written whole to a file and cut in a worker thread
(:func:`~livyd.daemon._outputs.fit_output`).

**Unsafe cancel.** Livy's cancel of a running statement may end ``cancelled`` while the code is
still running (livy-rest.md 7.5: forced after a timeout, output null). The task then says
``mayStillRun`` and the user is told that ``livy/restartSession`` is the cure.

**Persistence.** Changes mark the state dirty; the state writer saves the sessions this daemon
created and its unfinished tasks off the loop, folding marks together; a new daemon reattaches to
them, each on its own profile's connection.

**Session ids are Livy's**: two servers may both have session 0, and one server numbers from 0
again after a restart. Sessions are keyed by (connection, id); a session created with an id that a
known worker holds replaces it (the old one is gone with the server that restarted).
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio

from livyd._core.identity import SessionIdentity
from livyd._core.poll import PollSettings
from livyd._engine import JobState, SessionEngine, StatementJob
from livyd._exceptions import (
    LivydError,
    SessionGoneError,
    SessionReplacedError,
    SessionUnverifiedError,
    redact_url,
)
from livyd._logging import get_logger
from livyd.daemon._batches import BatchFollowers, batch_info
from livyd.daemon._completion import complete
from livyd.daemon._connections import DaemonError, LivyConnection, Opener, Resolver
from livyd.daemon._outputs import (
    error_location,
    fit_and_encode,
    fit_error,
    fit_output,
    needs_fitting,
    traceback_line,
    wire_size,
)
from livyd.daemon._tasks import Task
from livyd.daemon._workers import SessionWorker, WorkerListener, session_info
from livyd.protocol import (
    DaemonSettings,
    OutputNotification,
    OutputStatus,
    Range,
    SessionChangedNotification,
    SessionInfo,
    StatementOutput,
    StatementResult,
    TaskChangedNotification,
    TaskInfo,
    TaskState,
)

if TYPE_CHECKING:
    from anyio.abc import TaskGroup

    from livyd._models import Session, Statement
    from livyd.daemon._state import StateStore, StateWriter

__all__ = [
    "DaemonError",
    "LivyConnection",
    "Notifier",
    "SessionWorker",
    "Supervisor",
    "Task",
    "batch_info",
    "complete",
    "fit_error",
    "fit_output",
    "traceback_line",
    "wire_size",
]

log = get_logger("livyd.daemon")

#: Seconds within which moves of a session's queue are folded into one round of
#: ``livy/taskChanged`` for its queued tasks.
RENOTIFY_DELAY = 0.05


def _identity_record(w: SessionWorker) -> dict[str, Any] | None:
    """Who session *w* is, for the state file (so a restarted daemon never reattaches to another
    session that got the same id); the last few statements only, so a save stays small."""
    api = w.conn.api
    known = api.session_identity(w.session_id) if api is not None else None
    if known is None:
        return None
    record = known.to_dict()
    record["statements"] = record["statements"][-3:]
    return record


def _gone_reason(session_id: int, exc: SessionGoneError) -> str:
    """Why a session's pending tasks failed: its final state when livyd read one, else that it was
    deleted (404, or Livy's 400 "Session isn't active." while it shuts down). A session shown not
    to be ours (the server restarted, the id is someone else's now) says so in the library's words."""
    if isinstance(exc, SessionReplacedError | SessionUnverifiedError):
        return str(exc)
    if exc.state and exc.state != "shutting_down":
        return f"session {session_id} is {exc.state}"
    return f"session {session_id} was deleted or is shutting down"


@dataclass
class Notifier:
    """How the supervisor talks to the client (set by the server)."""

    notify: Callable[[str, dict[str, Any]], None]
    show_message: Callable[[str, int], None]
    progress_begin: Callable[[Task], Any] = lambda task: None
    progress_report: Callable[..., None] = lambda task, message=None: None
    progress_end: Callable[[Task], None] = lambda task: None
    diagnostics: Callable[[Task, OutputNotification], None] = lambda task, out: None
    #: Send a notification whose params are already encoded JSON (None: only :attr:`notify`).
    notify_encoded: Callable[[str, bytes], None] | None = None


def _status_of(job: StatementJob) -> OutputStatus:
    if job.state is JobState.AVAILABLE:
        out = job.statement.output if job.statement is not None else None
        return OutputStatus.ERROR if out is not None and out.is_error else OutputStatus.OK
    if job.state is JobState.CANCELLED:
        return OutputStatus.CANCELLED
    return OutputStatus.FAILED


class Supervisor:
    """Sessions, tasks and their engines; see the module docstring."""

    def __init__(self, settings: DaemonSettings, notifier: Notifier) -> None:
        self.settings = settings
        self.notifier = notifier
        self.store: StateStore | None = None
        self.writer: StateWriter | None = None
        self._tg: TaskGroup | None = None
        #: Set by the server: how a profile is resolved and how a connection is opened.
        self.resolver: Resolver | None = None
        self.opener: Opener | None = None
        self.connections: list[LivyConnection] = []
        self.sessions: dict[tuple[int, int], SessionWorker] = {}
        self.tasks: dict[str, Task] = {}
        self.attached: SessionWorker | None = None
        #: The session last attached on each connection (execute's default when it is active again).
        self.last_attached: dict[int, SessionWorker] = {}
        #: The active profile as selected (None: the configured default).
        self.profile: str | None = None
        self.batches = BatchFollowers(notifier.notify, lambda: self.settings.poll_interval * 3)
        self._create_lock = anyio.Lock()
        #: Guards resolving and opening connections (and replacing their clients).
        self.connect_lock = anyio.Lock()
        #: (requested profile, url override) -> connection; cleared when the profile or url changes.
        self._by_request: dict[tuple[str | None, str | None], LivyConnection] = {}
        self._next_cid = 1
        #: Set once persisted state was restored (a second client on a shared daemon must not).
        self.restored = False
        #: The embedded sandbox's Livy URL once one runs (one per daemon, for every profile without a URL).
        self.embedded_url: str | None = None
        #: task id -> byte offset of its record in the output log (livy/statement reads it back).
        self.output_offsets: dict[str, int] = {}
        #: How each connection is named in the state file (computed once: URLs are redacted).
        self._where_cache: dict[tuple[int, str | None], dict[str, Any]] = {}
        self._closing = False

    # ---------------------------------------------------------------- runtime

    @property
    def tg(self) -> TaskGroup | None:
        """The daemon's task group (engines, followers and the state writer run in it)."""
        return self._tg

    @tg.setter
    def tg(self, tg: TaskGroup | None) -> None:
        self._tg = tg
        self.batches.tg = tg

    def use_store(self, store: StateStore) -> None:
        """Persist into *store* (its lock is held), from a writer task off the event loop."""
        from livyd.daemon._state import StateWriter

        self.store = store
        self.writer = StateWriter(store, self._snapshot)
        if self._tg is not None:
            self._tg.start_soon(self.writer.run, name="state-writer")

    @property
    def followed_batches(self) -> dict[tuple[int, int], anyio.CancelScope]:
        """The followed batches, by (connection id, batch id)."""
        return self.batches.scopes

    async def follow_batch(self, conn: LivyConnection, batch_id: int, *, from_start: bool = False) -> None:
        """Follow a batch's state and log on *conn* (see :mod:`livyd.daemon._batches`)."""
        self.batches.follow(conn, batch_id, from_start=from_start)

    def unfollow_batch(self, conn: LivyConnection, batch_id: int) -> None:
        """Stop following a batch of *conn*."""
        self.batches.unfollow(conn, batch_id)

    def apply_settings(self, settings: DaemonSettings) -> None:
        """New settings (workspace/didChangeConfiguration): the engines' poll plans follow."""
        self.settings = settings
        for w in self.sessions.values():
            if w.engine is not None:
                w.engine.poll = self._poll_settings()
                w.engine.idle_interval = settings.idle_poll_interval
                w.kick()

    # ---------------------------------------------------------------- connections

    def invalidate(self) -> None:
        """Forget which connection each profile resolves to (after selectProfile, a url change or
        new credentials); open connections stay for the sessions on them."""
        self._by_request.clear()

    async def connection(self, profile: str | None = None, *, url: str | None = None) -> LivyConnection:
        """The open connection of *profile* (None: the active profile) at its effective URL (*url*
        overrides it, for restoring sessions on the server they live on), opened on first use."""
        name = profile if profile is not None else self.profile
        cached = self._by_request.get((name, url))
        if cached is not None and cached.api is not None:
            return cached
        if self.resolver is None or self.opener is None:
            raise DaemonError("not connected to Livy yet", "no-session")
        async with self.connect_lock:
            cached = self._by_request.get((name, url))
            if cached is not None and cached.api is not None:
                return cached
            resolved = await self.resolver(name, url)
            effective = resolved.profile.url
            conn = next(
                (
                    c
                    for c in self.connections
                    if c.api is not None
                    and c.profile == resolved.profile_name
                    and (c.url == effective if effective else c.embedded)
                ),
                None,
            )
            if conn is None:
                session = resolved.profile.session
                conn = LivyConnection(
                    cid=self._next_cid,
                    profile=resolved.profile_name,
                    url=effective,
                    session_defaults=session.session_fields(),
                    batch_defaults=session.batch_fields(),
                    resolved=resolved,
                )
                self._next_cid += 1
                conn.api, conn.embedded = await self.opener(resolved)
                self.connections.append(conn)
            self._by_request[(name, url)] = conn
            return conn

    def active_connection(self) -> LivyConnection | None:
        """The active profile's connection if it is open (no I/O)."""
        conn = self._by_request.get((self.profile, None))
        return conn if conn is not None and conn.api is not None else None

    def detach_if(self, predicate: Callable[[SessionWorker], bool]) -> None:
        """Stop treating the attached session as execute's default when *predicate* holds for it
        (it keeps running; its tasks finish and are delivered)."""
        w = self.attached
        if w is not None and predicate(w):
            self.attached = None
            self.persist()
            self.notify_session(w)


    # ---------------------------------------------------------------- views

    def session_info(self, w: SessionWorker) -> SessionInfo:
        """The wire view of a session."""
        return session_info(w, self.attached)

    def worker_of(self, task: Task) -> SessionWorker | None:
        """The session worker a task belongs to."""
        return self.sessions.get((task.cid, task.session_id))

    def find_sessions(self, session_id: int, profile: str | None = None) -> list[SessionWorker]:
        """Known sessions with *session_id* (on *profile*'s connections when given), live first."""
        found = [
            w
            for w in self.sessions.values()
            if w.session_id == session_id and (profile is None or w.profile == profile)
        ]
        return sorted(found, key=lambda w: w.gone)

    async def resolve_session(
        self, session_id: int, profile: str | None
    ) -> tuple[LivyConnection, SessionWorker | None]:
        """Which server's session *session_id* a request means: with *profile*, that profile's
        (its current connection, else the one of its connections that knows the id); without, the
        only known session with that id; else the active profile's. Returns the connection and the
        known worker, if any."""
        if profile is not None:
            conn = await self.connection(profile)
            w = self.sessions.get((conn.cid, session_id))
            if w is None:
                live = [x for x in self.find_sessions(session_id, profile) if not x.gone]
                if len(live) == 1:
                    return live[0].conn, live[0]
            return conn, w
        known = self.find_sessions(session_id)
        live = [x for x in known if not x.gone]
        if len(live) == 1:
            return live[0].conn, live[0]
        if not live and len(known) == 1:
            return known[0].conn, known[0]
        conn = await self.connection(None)
        return conn, self.sessions.get((conn.cid, session_id))

    def queued_behind(self, task: Task) -> int:
        """How many unfinished tasks of the same session are ahead of *task*."""
        w = self.worker_of(task)
        if w is None:
            return 0
        if task.finished:
            return 0
        ahead = 0
        for t in w.pending():
            if t is task:
                break
            ahead += 1
        return ahead

    def task_info(self, task: Task) -> TaskInfo:
        """The wire view of a task."""
        return task.info(self.queued_behind(task))

    def notify_task(self, task: Task, queued_behind: int | None = None) -> None:
        """Send ``livy/taskChanged`` for *task* (*queued_behind*: its place, when the caller knows it)."""
        task.notified_state = task.state
        note = TaskChangedNotification(
            task_id=task.task_id,
            session_id=task.session_id,
            statement_id=task.statement_id,
            state=task.state,
            progress=task.progress,
            queued_behind=self.queued_behind(task) if queued_behind is None else queued_behind,
            message=task.message,
            may_still_run=task.may_still_run,
            profile=task.profile,
        )
        self.notifier.notify("livy/taskChanged", note.wire())

    def notify_session(self, w: SessionWorker) -> None:
        """Send ``livy/sessionChanged`` for *w*."""
        note = SessionChangedNotification(session=self.session_info(w))
        self.notifier.notify("livy/sessionChanged", note.wire())

    def renotify_queue(self, w: SessionWorker) -> None:
        """The queue of *w* moved: tell the editors where each queued task is now.

        Folded: moves that come within :data:`RENOTIFY_DELAY` of each other cost one round of
        notifications (each queued task once, with its place then), not one round per move (with
        a deep queue that was O(queue) notifications per statement started)."""
        if self.tg is None:
            self._renotify_now(w)
            return
        if not w.renotify_due:
            w.renotify_due = True
            self.tg.start_soon(self._renotify_later, w)

    async def _renotify_later(self, w: SessionWorker) -> None:
        await anyio.sleep(RENOTIFY_DELAY)
        self._renotify_now(w)

    def _renotify_now(self, w: SessionWorker) -> None:
        w.renotify_due = False
        for ahead, t in enumerate(w.pending()):
            if t.state is TaskState.QUEUED:
                self.notify_task(t, ahead)

    # ---------------------------------------------------------------- persistence

    def _where(self, conn: LivyConnection) -> dict[str, Any]:
        """How a persisted session names its connection (the URL redacted: no secret on disk)."""
        url = conn.live_url
        key = (conn.cid, url)
        found = self._where_cache.get(key)
        if found is None:
            found = {"profile": conn.profile, "url": redact_url(url) if url else None,
                     "embedded": conn.embedded}
            self._where_cache[key] = found
        return found

    def _snapshot(self) -> dict[str, Any]:
        """What the state file holds: owned sessions, the attachment, unfinished tasks."""
        a = self.attached
        return {
            "attached": {"id": a.session_id, **self._where(a.conn)} if a is not None else None,
            "profile": self.profile,
            "sessions": [
                {"id": w.session_id, **self._where(w.conn), "createBody": w.create_body,
                 "identity": _identity_record(w)}
                for w in self.sessions.values()
                if w.owned and not w.gone
            ],
            "tasks": [
                {**t.to_json(), "url": url}
                for w in self.sessions.values()
                if (pending := w.pending())
                for url in (self._where(w.conn)["url"],)
                for t in pending
            ],
        }

    def persist(self) -> None:
        """The state changed: the writer saves it soon, off the event loop (O(1) here)."""
        if self.writer is None:
            return
        if self._closing:
            self.writer.flush()
        else:
            self.writer.mark()

    def statistics(self) -> dict[str, int]:
        """Counts for livy/status and logs."""
        return {
            "connections": len(self.connections),
            "sessions": len(self.sessions),
            "tasks": len(self.tasks),
            "pending": sum(1 for t in self.tasks.values() if not t.finished),
        }

    # ---------------------------------------------------------------- sessions

    def _poll_settings(self) -> PollSettings:
        """The poll plan of running statements: the first poll within 2 ms, growing while nothing
        changes up to ``pollInterval`` (the cap)."""
        cap = self.settings.poll_interval
        return PollSettings(initial=min(PollSettings().initial, cap), maximum=cap)

    def _new_worker(self, session: Session | None, session_id: int, conn: LivyConnection, *, owned: bool,
                    create_body: dict[str, Any] | None = None) -> SessionWorker:
        w = SessionWorker(session_id, session, conn, owned, dict(create_body or {}))
        w.engine = SessionEngine(
            conn.require_api(),
            session_id,
            poll=self._poll_settings(),
            idle_interval=self.settings.idle_poll_interval,
            listener=WorkerListener(self, w),
            follow_log=True,
            session=session,
            client_for=conn.require_api,  # looked up each round: setCredentials may replace it
        )
        self.sessions[w.key] = w
        return w

    def _start_poller(self, w: SessionWorker) -> None:
        assert self._tg is not None
        self._tg.start_soon(self._poll_session, w, name=f"engine-{w.conn.cid}-{w.session_id}")

    async def add_session(
        self,
        session: Session,
        conn: LivyConnection,
        *,
        owned: bool,
        create_body: dict[str, Any] | None = None,
    ) -> SessionWorker:
        """Register a session of *conn* and start its engine (once per live session).

        A worker already under this key is reused only while it is alive and is not being
        replaced by a session we just created (*create_body* given). Livy numbers sessions from 0
        again after a restart: a dead worker for id 0 must not swallow the new session 0, or no
        engine runs and its tasks stay queued forever (issue 11, 3); and a live worker whose id
        Livy hands out again to a session we created can only be an old session of a server that
        restarted, so it ends and its tasks fail saying so."""
        sid = session.id
        w = self.sessions.get((conn.cid, sid))
        if w is not None and not w.gone and create_body is None:
            w.session = session
            return w
        if w is not None:
            if not w.gone:
                await self._retire(w, f"session {sid} is gone: the Livy server restarted and gave its "
                                      "id to a new session")
            self.sessions.pop(w.key, None)
        w = self._new_worker(session, sid, conn, owned=owned, create_body=create_body)
        self._start_poller(w)
        self.persist()
        return w

    async def _retire(self, w: SessionWorker, reason: str) -> None:
        """End a worker whose session no longer exists: its engine stops, its tasks fail."""
        if w.scope is not None:
            w.scope.cancel()
        await self._session_gone(w, reason)

    def _set_attached(self, w: SessionWorker) -> None:
        before = self.attached
        self.attached = w
        self.last_attached[w.conn.cid] = w
        if before is not None and before is not w:
            self.notify_session(before)

    def session_body(self, conn: LivyConnection, fields: dict[str, Any]) -> dict[str, Any]:
        """The body of a new session on *conn*: the profile's session defaults, then *fields* (the
        request wins key by key; ``conf`` is merged key by key); kind from the request, else the
        profile, else ``settings.kind``; ``heartbeatTimeoutInSecond`` from the request, else the
        profile, else the settings. Keys are snake_case (camelCase request keys are converted)."""
        from pydantic.alias_generators import to_snake

        body: dict[str, Any] = dict(conn.session_defaults)
        for key, value in fields.items():
            if value is None:
                continue
            key = to_snake(key)
            if key == "conf" and isinstance(value, dict) and isinstance(body.get("conf"), dict):
                body["conf"] = {**body["conf"], **value}
            else:
                body[key] = value
        body.setdefault("kind", self.settings.kind)
        if self.settings.heartbeat_timeout:
            body.setdefault("heartbeat_timeout_in_second", self.settings.heartbeat_timeout)
        return body

    async def create_session(
        self, fields: dict[str, Any], *, conn: LivyConnection, attach: bool = True, raw_body: bool = False
    ) -> SessionWorker:
        """POST a session on *conn* (returns at once; its engine reports it becoming idle). *fields*
        are merged over the profile's defaults (:meth:`session_body`) unless *raw_body* (a restart
        re-sends the body it recorded)."""
        api = conn.require_api()
        body = dict(fields) if raw_body else self.session_body(conn, fields)
        session = await api.create_session(body)
        w = await self.add_session(session, conn, owned=True, create_body=body)
        if attach:
            self._set_attached(w)
            self.persist()
        self.notify_session(w)
        return w

    async def attach_session(self, conn: LivyConnection, session_id: int) -> SessionWorker:
        """Make an existing Livy session (on *conn*) the current one."""
        api = conn.require_api()
        w = self.sessions.get((conn.cid, session_id))
        session = await api.get_session(session_id)
        if w is None or w.gone:
            self.sessions.pop((conn.cid, session_id), None)
            w = await self.add_session(session, conn, owned=False)
        else:
            w.session = session
        self._set_attached(w)
        self.persist()
        self.notify_session(w)
        return w

    async def default_session(self, conn: LivyConnection, *, explicit: bool = False) -> SessionWorker:
        """execute's session when it names none: the attached one; else the last one attached on
        *conn* (the active profile's connection); else a new one on *conn*, attached (created once
        even under concurrent executes). With *explicit* (the request named *conn*'s profile) the
        attached session counts only if it is on *conn*, and the attachment does not change."""
        async with self._create_lock:
            w = self.attached
            if w is not None and not w.gone and (not explicit or w.conn is conn):
                return w
            last = self.last_attached.get(conn.cid)
            if last is not None and not last.gone:
                if not explicit:
                    self._set_attached(last)
                    self.persist()
                    self.notify_session(last)
                return last
            w = await self.create_session({}, conn=conn, attach=not explicit)
            self.last_attached[conn.cid] = w
            return w

    async def _fail_pending(self, w: SessionWorker, reason: str) -> None:
        if w.engine is not None:
            await w.engine.fail_pending(reason)
        for t in w.pending():  # tasks the engine never held (restored, or not yet adopted)
            await self._finish_now(t, JobState.FAILED, reason)

    async def _session_gone(self, w: SessionWorker, reason: str) -> None:
        w.gone = True
        if w.insights is not None:
            w.insights.close()  # its statements will not be read again
        if w.state not in ("dead", "killed", "success") or w.state == "shutting_down":
            w.final_state = "dead"  # nobody polls it any more: report where it ends
        await self._fail_pending(w, reason)
        if self.attached is w:
            self.attached = None  # before the notification, which says whether it is attached
        self.notify_session(w)
        self.persist()

    async def kill_session(self, conn: LivyConnection, session_id: int) -> bool:
        """DELETE a session of *conn*; its unfinished tasks fail."""
        api = conn.require_api()
        w = self.sessions.get((conn.cid, session_id))
        try:
            await api.delete_session(session_id)
            killed = True
        except SessionGoneError:
            killed = False
        if w is not None and not w.gone:
            if w.scope is not None:
                w.scope.cancel()
            await self._session_gone(w, f"session {session_id} was killed")
        self.persist()
        return killed

    async def restart_session(self, conn: LivyConnection, session_id: int) -> tuple[SessionWorker, int]:
        """Kill a session and create one with the same configuration on the same connection
        (attached)."""
        w = self.sessions.get((conn.cid, session_id))
        body = dict(w.create_body) if w is not None and w.create_body else {}
        await self.kill_session(conn, session_id)
        if body:
            new = await self.create_session(body, conn=conn, attach=True, raw_body=True)
        else:
            kind = str(w.session.kind) if w is not None and w.session is not None else None
            new = await self.create_session({"kind": kind}, conn=conn, attach=True)
        return new, session_id

    # ---------------------------------------------------------------- tasks

    async def execute(
        self,
        code: str,
        *,
        session_id: int | None,
        kind: str | None,
        uri: str | None,
        range_: Range | None,
        origin: int | None = None,
        profile: str | None = None,
    ) -> Task:
        """Queue code; never waits for Livy beyond creating a session when there is none. Without
        *session_id*: :meth:`default_session` on *profile*'s connection (None: the active one);
        with it, the session :meth:`resolve_session` picks."""
        if session_id is None:
            w = await self.default_session(await self.connection(profile), explicit=profile is not None)
        else:
            conn, known = await self.resolve_session(session_id, profile)
            w = known if known is not None and not known.gone else await self.attach_session(conn, session_id)
            if w.gone:
                raise DaemonError(f"session {session_id} is gone (state {w.state})", "session-gone")
        assert w.engine is not None
        task = Task(
            task_id=f"t-{uuid.uuid4().hex[:12]}",
            session_id=w.session_id,
            job=StatementJob(code=code, kind=kind),
            uri=uri,
            range=range_,
            origin=origin,
            cid=w.conn.cid,
            profile=w.profile,
        )
        w.tasks.append(task)
        self.tasks[task.task_id] = task
        w.engine.adopt(task.job)
        self.persist()
        self.notify_task(task)
        return task

    def get_task(self, task_id: str) -> Task:
        """The task called *task_id*, or a ``unknown-task`` error naming it."""
        task = self.tasks.get(task_id)
        if task is None:
            raise DaemonError(f"unknown taskId {task_id!r}", "unknown-task")
        return task

    async def cancel(self, task_id: str) -> Task:
        """Cancel a task: drop it if queued, cancel it on Livy otherwise."""
        task = self.get_task(task_id)
        w = self.worker_of(task)
        if task.finished:
            return task
        if w is not None and w.engine is not None:
            await w.engine.cancel(task.job)
            self.renotify_queue(w)
        else:
            await self._finish_now(task, JobState.CANCELLED, "cancelled before it ran")
        return task

    # ---------------------------------------------------------------- delivery

    def _output(self, task: Task) -> OutputNotification:
        job = task.job
        status = _status_of(job)
        out = job.statement.output if job.statement is not None else None
        traceback = list(out.traceback or []) if out is not None else []
        return OutputNotification(
            task_id=task.task_id,
            session_id=task.session_id,
            statement_id=task.statement_id,
            status=status,
            data=dict(out.data or {}) if out is not None else {},
            ename=out.ename if out is not None else None,
            evalue=(out.evalue if out is not None else None) or task.message,
            traceback=traceback,
            uri=task.uri,
            range=task.range,
            elapsed_ms=int((time.time() - task.started_at) * 1000),
            profile=task.profile,
            **error_location(status, traceback, task.range),
        )

    async def _finish_now(self, task: Task, state: JobState, message: str) -> None:
        """End a task the engine does not hold (restored, its session gone) and deliver it."""
        job = task.job
        if job.finished:
            return
        job.state = state
        job.message = message
        job._done.set()
        await self.deliver(task)

    async def deliver(self, task: Task) -> None:
        """A task finished: fit its output (big ones in a worker thread), append it to the output
        log (in a worker thread), *then* notify it; once per task."""
        if task.delivered:
            return
        task.delivered = True
        note = self._output(task)
        limit = self.settings.max_output_bytes
        encoded: bytes | None = None
        if needs_fitting(note.data, note.evalue, note.traceback, limit):
            # A big output is measured, saved, cut if need be and encoded once, in a worker thread
            # (the event loop keeps answering requests); the bytes go to the output log and on the
            # wire as they are.
            note, encoded = await anyio.to_thread.run_sync(self._fit_and_encode, task.task_id, note, limit)
        record = note.wire() if encoded is None else None
        if self.store is not None:
            store = self.store
            line: dict[str, Any] | bytes = encoded if encoded is not None else note.wire()
            try:
                offset = await anyio.to_thread.run_sync(store.append_output, line)
                if offset is not None:
                    self.output_offsets[task.task_id] = offset
            except OSError as exc:
                log.warning("could not append to the output log", error=str(exc))
        self.notify_task(task)
        self.notifier.progress_end(task)
        if encoded is not None and self.notifier.notify_encoded is not None:
            self.notifier.notify_encoded("livy/output", encoded)
        else:
            self.notifier.notify("livy/output", record if record is not None else note.wire())
        self.notifier.diagnostics(task, note)
        self.persist()
        self._release_output(task)

    def _release_output(self, task: Task) -> None:
        """Once the output log holds a delivered output (livy/statement reads it back from there),
        its data is not kept in memory as well: a daemon that showed ten 20 MB outputs does not
        hold 200 MB for its lifetime. Status, error name, value and traceback stay."""
        st = task.job.statement
        if task.task_id not in self.output_offsets or st is None or st.output is None or not st.output.data:
            return
        task.job.statement = st.model_copy(update={"output": st.output.model_copy(update={"data": {}})})

    def _fit_and_encode(
        self, key: str, note: OutputNotification, limit: int
    ) -> tuple[OutputNotification, bytes]:
        """*note* encoded once, cut to *limit* only if it must be, the whole output saved from the
        same bytes first (:func:`~livyd.daemon._outputs.fit_and_encode`). Runs in a worker thread."""
        return fit_and_encode(note, limit, lambda whole: self._save_whole(key, whole))

    def _truncate(self, key: str, note: OutputNotification, limit: int) -> OutputNotification:
        """*note* with its data cut to *limit* bytes (see :func:`fit_output`), the whole output
        written to a file first. Runs in a worker thread."""
        return self._fit_and_encode(key, note, limit)[0]

    def _save_whole(self, key: str, whole: bytes) -> str | None:
        """Write a whole (too big) output, already encoded, to its own file; its path or None."""
        if self.store is None:
            return None
        try:
            return str(self.store.write_full_output(key, whole))
        except OSError as exc:
            log.warning("could not write the whole output", task_id=key, error=str(exc))
            return None

    # ---------------------------------------------------------------- history (livy/statement)

    async def statement(
        self, *, task_id: str | None, session_id: int | None, statement_id: int | None,
        profile: str | None,
    ) -> StatementResult:
        """One statement in full (livy/statement): a task of this daemon by *task_id* (its finished
        output read back from the output log), or any statement Livy still holds."""
        task: Task | None = None
        if task_id is not None:
            task = self.get_task(task_id)
        else:
            assert session_id is not None and statement_id is not None
            conn, _known = await self.resolve_session(session_id, profile)
            task = next(
                (t for t in self.tasks.values() if t.cid == conn.cid and t.session_id == session_id
                 and t.statement_id == statement_id),
                None,
            )
            if task is None:
                st = await conn.require_api().get_statement(session_id, statement_id)
                return await self._statement_from_livy(conn, session_id, st)
        result = StatementResult(
            session_id=task.session_id, statement_id=task.statement_id, task_id=task.task_id,
            profile=task.profile, code=task.code, state=task.state.value, progress=task.progress,
            uri=task.uri, range=task.range,
        )
        if not task.finished:
            return result
        record: dict[str, Any] | None = None
        offset = self.output_offsets.get(task.task_id)
        if offset is not None and self.store is not None:
            record = await anyio.to_thread.run_sync(self.store.read_output, offset)
        if record is None:
            w = self.worker_of(task)
            if task.statement_id is None or w is None or w.gone:
                output = StatementOutput(status=_status_of(task.job), evalue=task.message)
                return result.model_copy(update={"output": output})
            st = await w.conn.require_api().get_statement(task.session_id, task.statement_id)
            return (await self._statement_from_livy(w.conn, task.session_id, st)).model_copy(
                update={"task_id": task.task_id, "state": task.state.value, "uri": task.uri,
                        "range": task.range})
        return result.model_copy(update={"output": StatementOutput.model_validate(record)})

    async def _statement_from_livy(
        self, conn: LivyConnection, session_id: int, st: Statement
    ) -> StatementResult:
        """A Livy statement as a StatementResult, its output bounded like livy/output's."""
        progress = 0.0 if math.isnan(st.progress) else min(max(st.progress, 0.0), 1.0)
        output: StatementOutput | None = None
        if st.state.is_terminal:
            done = JobState.AVAILABLE if str(st.state) == "available" else JobState.CANCELLED
            job = StatementJob(code=st.code or "", statement=st, statement_id=st.id, state=done)
            probe = Task(task_id=f"s{conn.cid}-{session_id}-{st.id}", session_id=session_id, job=job,
                         cid=conn.cid, profile=conn.profile)
            note = self._output(probe)
            limit = self.settings.max_output_bytes
            if needs_fitting(note.data, note.evalue, note.traceback, limit):
                note = await anyio.to_thread.run_sync(self._truncate, probe.task_id, note, limit)
            output = StatementOutput.model_validate(note.wire())
        return StatementResult(
            session_id=session_id, statement_id=st.id, profile=conn.profile,
            code=st.code or "", state=str(st.state), progress=progress,
            started=st.started or None, completed=st.completed or None,
            output=output,
        )

    # ---------------------------------------------------------------- the engines

    async def _poll_session(self, w: SessionWorker) -> None:
        """Run *w*'s engine until its session ends (or the daemon does); a bug in it ends this
        session's engine only."""
        assert w.engine is not None
        with anyio.CancelScope() as scope:
            w.scope = scope
            try:
                await w.engine.run()
            except SessionGoneError as exc:
                log.info("session gone", session_id=w.session_id, error=str(exc))
                await self._session_gone(w, _gone_reason(w.session_id, exc))
            except Exception as exc:
                log.exception("poller crashed", session_id=w.session_id)
                await self._session_gone(
                    w, f"livyd stopped polling session {w.session_id}: {type(exc).__name__}")

    # ---------------------------------------------------------------- restore / shutdown

    async def _restore_connection(self, profile: str | None, url: str | None) -> LivyConnection:
        """The connection a persisted session lives on: its profile's, at the URL it was created on
        (the persisted URL is redacted; the profile's current URL is used when it matches)."""
        conn = await self.connection(profile)
        live = conn.live_url
        if url and live and redact_url(live) != url:
            conn = await self.connection(profile, url=url)
        return conn

    async def restore(self, data: dict[str, Any]) -> None:
        """Reattach to persisted sessions and tasks (after initialize was answered), each session on
        its own profile's connection. The caller sets :attr:`restored` first, so that a supervisor
        restores once."""
        self.restored = True
        #: (profile, redacted url, session id) as persisted -> the restored worker
        restored: dict[tuple[str | None, str | None, int], SessionWorker] = {}
        for s in data.get("sessions") or []:
            sid = int(s["id"])
            profile, url = s.get("profile"), s.get("url")
            if s.get("embedded"):
                log.info("persisted session was on the previous daemon's embedded sandbox", session_id=sid)
                continue
            conn: LivyConnection | None = None
            try:
                conn = await self._restore_connection(profile, url)
                api = conn.require_api()
                known = s.get("identity")
                if isinstance(known, dict):  # the first read must show it is still that session
                    try:
                        api.track_identity(SessionIdentity.from_dict(known))
                    except ValueError as exc:
                        log.warning("persisted session identity unreadable", session_id=sid, error=str(exc))
                session = await api.get_session(sid)
            except (SessionReplacedError, SessionUnverifiedError) as exc:
                # the id names another session now (the server restarted): say so, touch nothing
                log.warning("persisted session is not ours any more", session_id=sid, profile=profile)
                self.notifier.show_message(f"livyd: {exc}", 2)
                continue
            except SessionGoneError as exc:
                log.info("persisted session is gone", session_id=sid, profile=profile, reason=str(exc))
                continue
            except LivydError as exc:
                if conn is None or conn.api is None:
                    log.warning("could not reattach session", session_id=sid, profile=profile, error=str(exc))
                    continue
                # Not shown gone, only not readable now: Livy is down, or the editor has not sent
                # the credentials yet (restore runs at `initialized`, before livy/setCredentials).
                # Keep it: its engine reads it again (backing off; at once when new credentials
                # arrive) and the identity check of that first read still decides whether it is ours.
                log.warning("reattaching session later", session_id=sid, profile=profile, error=str(exc))
                w = self._new_worker(None, sid, conn, owned=True, create_body=s.get("createBody"))
                restored[(profile, url, sid)] = w
                continue
            if session.state.is_terminal:
                continue
            w = self._new_worker(session, sid, conn, owned=True, create_body=s.get("createBody"))
            restored[(profile, url, sid)] = w

        def owner_of(d: dict[str, Any], sid: int) -> SessionWorker | None:
            if "url" in d:
                return restored.get((d.get("profile"), d.get("url"), sid))
            # A state file of a daemon before profiles: match by id (and profile when known).
            same = [w for (p, _u, i), w in restored.items() if i == sid and p == d.get("profile")]
            same = same or [w for (_p, _u, i), w in restored.items() if i == sid]
            return same[0] if len(same) == 1 else None

        for d in data.get("tasks") or []:
            task = Task.from_json(d)
            owner = owner_of(d, task.session_id)
            self.tasks[task.task_id] = task
            if owner is None:
                task.job.state = JobState.QUEUED
                await self._finish_now(task, JobState.FAILED, f"session {task.session_id} is gone")
                continue
            task.cid, task.profile = owner.conn.cid, owner.profile
            owner.tasks.append(task)
            if task.submitting and task.statement_id is None:
                task.job.state = JobState.QUEUED
                await self._finish_now(task, JobState.FAILED,
                                       "the daemon stopped while submitting this statement; its fate is "
                                       "unknown and it was not re-sent")
                continue
            assert owner.engine is not None
            owner.engine.adopt(task.job)
        attached = data.get("attached")
        if isinstance(attached, dict) and isinstance(attached.get("id"), int):
            w_att = restored.get((attached.get("profile"), attached.get("url"), attached["id"]))
        elif isinstance(attached, int):  # before profiles
            w_att = next((w for w in restored.values() if w.session_id == attached), None)
        else:
            w_att = None
        if w_att is not None:
            self.attached = w_att
            self.last_attached[w_att.conn.cid] = w_att
        for w in restored.values():
            self.notify_session(w)
            for t in w.pending():
                self.notify_task(t)
            self._start_poller(w)
        self.persist()

    async def shutdown(self) -> None:
        """On exit: delete owned sessions (each on its own connection) if configured (shielded,
        time-limited); then save the state one last time, synchronously."""
        if self.settings.delete_sessions_on_exit:
            with anyio.move_on_after(15, shield=True):
                for w in list(self.sessions.values()):
                    if w.owned and not w.gone and w.conn.api is not None:
                        try:
                            await w.conn.api.delete_session(w.session_id)
                            w.gone = True
                        except LivydError as exc:
                            log.warning(
                                "could not delete session on exit", session_id=w.session_id, error=str(exc)
                            )
        self._closing = True
        self.persist()
