"""The daemon's supervisor: sessions, statement tasks, pollers and log cursors.

Theory of operation
-------------------

One :class:`Supervisor` lives for the daemon's lifetime, inside the root anyio task group (the
daemon's structured root, cancelled on ``exit`` or stdin EOF). Every background activity is a
child of that group: there is one **poller per session** and one follower per followed batch;
nothing is fire-and-forget.

**Tasks.** ``livy/execute`` creates a :class:`Task` and appends it to its session's queue, then
returns. The session's poller owns the queue: it submits the head task only when the previous
one has finished, so tasks of a session run strictly in order, the queue is visible
(``queuedBehind``) and a queued task is cancelled by simply dropping it (it never reaches Livy).
A POST of a statement is never retried: if it fails ambiguously, the task fails with a message
saying so.

**Polling.** The poller fetches, in one request, the positional window of Livy statements that
covers every unfinished task of the session (``from`` = oldest unfinished, ``size`` = span), never
finished ones again. Livy slices by *position in the retained list* (the last 100 statements), so
the poller keeps an ``offset`` (first retained id) and corrects it from the ids it gets back.
While work is pending it polls every ``pollInterval``; otherwise every ``idlePollInterval``, woken
early by new work. When the last pending task of a session finishes, the session is read at once
(Livy is idle again, and completion waits for idle), then polled fast for a few rounds if Livy still
says busy.

**Failures.** A session that ended (404, a dead state, or Livy's 400 "Session isn't active." while
it shuts down after someone deleted it) fails its pending tasks with that reason. Any other
failure livyd knows (a :class:`~livyd.LivydError`: 5xx, 401 of an expired ticket, 403, a proxy's
page instead of JSON, no connection) keeps the tasks: the poller backs off and tells the user once
per streak. Only a bug in livyd takes the "poller crashed" path.

**Finishing.** A finished task's output is appended to the workspace output log, *then*
``livy/taskChanged`` and ``livy/output`` are sent. An output whose ``data`` takes more than
``maxOutputBytes`` as JSON on the wire is written whole to a file and cut in the notification, in a
worker thread (:func:`fit_output`: ``text/plain`` cut at a character boundary, a too-big
``application/json`` or ``image/png`` named in a ``text/plain`` note, whatever fits kept).

**Unsafe cancel.** Livy's cancel of a running statement may end ``cancelled`` while the code is
still running (livy-rest.md 7.5: forced after a timeout, output null). The supervisor then sets
``mayStillRun`` and tells the user (window/showMessage) that ``livy/restartSession`` is the cure.

**Persistence.** After every change that matters, the sessions this daemon created and its
unfinished tasks are saved (:mod:`livyd.daemon._state`); a new daemon reattaches to them, each on
its own profile's connection.

**Connections.** One workspace may talk to several Livy servers at once (profiles entw/test/prod,
or a URL changed in the editor's settings while a statement still runs on the old one). A
:class:`LivyConnection` is one (profile, effective URL) pair with its own Livy API, opened lazily
by :meth:`Supervisor.connection` and closed at shutdown. Every session worker, task and followed
batch remembers its connection and uses it for everything (polling, submitting, cancelling,
logs, kill, restart, completion), so selecting another profile or changing ``url`` only affects
*new* sessions. Session ids are Livy's: two servers may both have session 0, so sessions are
keyed by (connection, id), and a request's ``profile`` (or, without one, the only known session
with that id) says which is meant.
"""

from __future__ import annotations

import json
import math
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio
import structlog

from livyd._core.poll import PollPlanner, PollSettings
from livyd._exceptions import (
    LivydError,
    SessionGoneError,
    SessionNotReadyError,
    StatementNotFoundError,
    TransportError,
    redact_url,
)
from livyd.protocol import (
    BatchInfo,
    DaemonSettings,
    LogNotification,
    OutputNotification,
    OutputStatus,
    Position,
    Range,
    SessionInfo,
    StatementOutput,
    StatementResult,
    TaskChangedNotification,
    TaskInfo,
    TaskState,
)
from livyd.protocol._models import FINISHED_TASK_STATES

if TYPE_CHECKING:
    from anyio.abc import TaskGroup

    from livyd._core.logcursor import LogCursor
    from livyd.daemon._livy import LivyAPI
    from livyd.daemon._state import StateStore

__all__ = ["DaemonError", "LivyConnection", "Notifier", "SessionWorker", "Supervisor", "Task"]

log = structlog.get_logger()

_DEAD_STATES = frozenset({"dead", "killed", "shutting_down", "success", "error_gone"})
_READY_STATES = frozenset({"idle", "busy", "error", "running"})
#: After this many failed polls in a row the user is told (window/showMessage), once per streak.
_POLL_ERRORS_SHOWN = 3
#: How many polls at ``pollInterval`` (not ``idlePollInterval``) wait for a session that still says
#: busy right after the daemon's last task on it finished (Livy's state push may trail the result).
_SETTLE_POLLS = 10


def _gone_reason(session_id: int, exc: SessionGoneError) -> str:
    """Why a session's pending tasks failed: its final state when livyd read one, else that it was
    deleted (404, or Livy's 400 "Session isn't active." while it shuts down)."""
    if exc.state and exc.state != "shutting_down":
        return f"session {session_id} is {exc.state}"
    return f"session {session_id} was deleted or is shutting down"


class DaemonError(LivydError):
    """A daemon-level refusal (unknown task, no session...) with its stable code."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code  # type: ignore[misc]


@dataclass
class Notifier:
    """How the supervisor talks to the client (set by the server)."""

    notify: Callable[[str, dict[str, Any]], None]
    show_message: Callable[[str, int], None]
    progress_begin: Callable[[Task], Any] = lambda task: None
    progress_report: Callable[[Task], None] = lambda task: None
    progress_end: Callable[[Task], None] = lambda task: None
    diagnostics: Callable[[Task, OutputNotification], None] = lambda task, out: None


@dataclass(eq=False)
class LivyConnection:
    """One Livy server as one profile reaches it: the profile, the effective URL and its API.

    *url* is ``None`` for the embedded sandbox until it runs (then :attr:`api` knows its URL).
    *session_defaults* / *batch_defaults* are the profile's ``[session]`` table as
    ``LivyClient.create_session`` / ``create_batch`` keywords (snake_case).
    """

    cid: int
    profile: str | None
    url: str | None
    embedded: bool = False
    session_defaults: dict[str, Any] = field(default_factory=dict)
    batch_defaults: dict[str, Any] = field(default_factory=dict)
    #: The resolved configuration it was opened from (for credentials replacing its client).
    resolved: Any = None
    api: LivyAPI | None = None

    def require_api(self) -> LivyAPI:
        """The Livy API (opened by :meth:`Supervisor.connection` before anything uses it)."""
        if self.api is None:
            raise DaemonError("not connected to Livy yet", "no-session")
        return self.api

    @property
    def live_url(self) -> str | None:
        """The URL requests go to (the embedded sandbox's once it runs)."""
        return self.api.url if self.api is not None else self.url


#: ``resolve(profile, url)``: the ResolvedConfig of *profile* (None: the configured default) with
#: *url* (None: ``settings.url``) acting like ``--url``; raises DaemonError unknown-profile.
Resolver = Callable[[str | None, str | None], Awaitable[Any]]
#: ``open(resolved)``: a LivyAPI for a resolved profile and whether it is the embedded sandbox.
Opener = Callable[[Any], Awaitable[tuple["LivyAPI", bool]]]


@dataclass
class Task:
    """A statement task."""

    task_id: str
    session_id: int
    code: str
    kind: str | None = None
    uri: str | None = None
    range: Range | None = None
    state: TaskState = TaskState.QUEUED
    statement_id: int | None = None
    progress: float = 0.0
    message: str | None = None
    may_still_run: bool = False
    cancel_requested: bool = False
    was_running: bool = False
    submitting: bool = False
    started_at: float = field(default_factory=time.time)
    progress_token: str | None = None
    #: Which client connection started it (progress and diagnostics go there only).
    origin: int | None = None
    #: The LivyConnection of its session (:attr:`LivyConnection.cid`) and that connection's profile.
    cid: int = 0
    profile: str | None = None

    @property
    def finished(self) -> bool:
        """Whether the task reached a final state."""
        return self.state in FINISHED_TASK_STATES

    def info(self, queued_behind: int = 0) -> TaskInfo:
        """The wire view."""
        first = self.code.strip().splitlines()[0] if self.code.strip() else ""
        return TaskInfo(
            task_id=self.task_id,
            session_id=self.session_id,
            statement_id=self.statement_id,
            state=self.state,
            progress=self.progress,
            queued_behind=queued_behind,
            code_preview=first[:80],
            uri=self.uri,
            range=self.range,
            may_still_run=self.may_still_run,
            profile=self.profile,
        )

    def to_json(self) -> dict[str, Any]:
        """What is persisted."""
        return {
            "taskId": self.task_id,
            "sessionId": self.session_id,
            "code": self.code,
            "kind": self.kind,
            "uri": self.uri,
            "range": self.range.wire() if self.range else None,
            "state": self.state.value,
            "statementId": self.statement_id,
            "submitting": self.submitting,
            "startedAt": self.started_at,
            "profile": self.profile,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Task:
        """Inverse of :meth:`to_json`."""
        return cls(
            task_id=str(d["taskId"]),
            session_id=int(d["sessionId"]),
            code=str(d["code"]),
            kind=d.get("kind"),
            uri=d.get("uri"),
            range=Range.model_validate(d["range"]) if d.get("range") else None,
            state=TaskState(d.get("state", "queued")),
            statement_id=d.get("statementId"),
            submitting=bool(d.get("submitting")),
            started_at=float(d.get("startedAt") or time.time()),
            profile=d.get("profile"),
        )


@dataclass(eq=False)
class SessionWorker:
    """One Livy session (on one connection) and everything the daemon does with it."""

    session_id: int
    raw: dict[str, Any]
    conn: LivyConnection
    owned: bool
    create_body: dict[str, Any] = field(default_factory=dict)
    tasks: list[Task] = field(default_factory=list)
    wake: anyio.Event = field(default_factory=anyio.Event)
    offset: int = 0
    log_cursor: LogCursor | None = None
    following: bool = False
    gone: bool = False
    scope: anyio.CancelScope | None = None
    #: Fast polls left while Livy still says busy after the daemon's last task finished.
    settle: int = 0
    #: The poll plan while work is pending (livyd._core.poll); a new one at each submission.
    planner: PollPlanner | None = None
    #: A submission just made a new plan: the next poll comes after its first delay.
    fresh_plan: bool = False

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
        """Livy's state of the session."""
        return str(self.raw.get("state") or "unknown")

    def pending(self) -> list[Task]:
        """Unfinished tasks, in order."""
        return [t for t in self.tasks if not t.finished]

    def kick(self) -> None:
        """Wake the poller now."""
        self.wake.set()


def _session_info(w: SessionWorker, attached: SessionWorker | None) -> SessionInfo:
    raw = w.raw
    app = raw.get("appInfo") or {}
    return SessionInfo(
        id=w.session_id,
        name=raw.get("name"),
        kind=raw.get("kind"),
        state=w.state,
        app_id=raw.get("appId"),
        owner=raw.get("owner"),
        proxy_user=raw.get("proxyUser"),
        spark_ui_url=app.get("sparkUiUrl"),
        driver_log_url=app.get("driverLogUrl"),
        profile=w.profile,
        owned=w.owned,
        attached=attached is w,
    )


def batch_info(raw: dict[str, Any], profile: str | None = None) -> BatchInfo:
    """The wire view of a Livy batch (on *profile*'s Livy)."""
    app = raw.get("appInfo") or {}
    return BatchInfo(
        id=int(raw["id"]),
        name=raw.get("name"),
        state=str(raw.get("state")),
        app_id=raw.get("appId"),
        owner=raw.get("owner"),
        proxy_user=raw.get("proxyUser"),
        spark_ui_url=app.get("sparkUiUrl"),
        driver_log_url=app.get("driverLogUrl"),
        log=list(raw.get("log") or []),
        profile=profile,
    )


def wire_size(value: Any) -> int:
    """Bytes of *value* as JSON on the wire: pygls serializes with ``json.dumps`` (non-ASCII escaped
    as ``\\uXXXX``), which is never less than its plain UTF-8 encoding."""
    return len(json.dumps(value).encode("utf-8"))


def _surely_fits(data: dict[str, Any], limit: int) -> bool:
    """A cheap test that a bundle of short strings is within *limit* (no serialization)."""
    if not all(isinstance(v, str) for v in data.values()):
        return False
    # At most 12 bytes per character (an escaped surrogate pair for 1), plus quotes and separators.
    return sum(12 * (len(k) + len(v)) + 6 for k, v in data.items()) + 2 <= limit


def _cut_text(text: str, budget: int) -> str:
    """The longest prefix of *text* (whole characters) whose JSON string takes at most *budget* bytes."""
    if wire_size(text) <= budget:
        return text
    lo, hi = 0, min(len(text), budget)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if wire_size(text[:mid]) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo]


def _error_fits(evalue: str | None, traceback: list[str], limit: int) -> bool:
    """A cheap test that an error's ``evalue`` and ``traceback`` stay within half of *limit*."""
    chars = len(evalue or "") + sum(len(line) + 4 for line in traceback)
    return 12 * chars + 4 <= limit // 2


def fit_error(
    evalue: str | None, traceback: list[str], limit: int, where: str
) -> tuple[str | None, list[str]]:
    """``evalue`` and ``traceback`` cut to at most half of *limit* bytes of JSON together: the
    message keeps its start, the traceback its first two lines (the header and the user's
    ``<stdin>`` frame, which diagnostics map) and its end (where the error is), with a line saying
    what was left out and *where* the whole output is."""
    budget = limit // 2
    if wire_size(evalue) + wire_size(traceback) <= budget:
        return evalue, traceback
    if evalue is not None and wire_size(evalue) > budget // 4:
        evalue = _cut_text(evalue, budget // 4) + " ..."
    room = budget - wire_size(evalue)
    head = traceback[:2]
    note = f"  ... [{{n}} traceback lines left out; {where}]\n"
    body = traceback[len(head):]
    if body and wire_size(body[-1]) > budget // 4:  # the exception line repeats the huge message
        body = [*body[:-1], _cut_text(body[-1], budget // 4) + " ...\n"]
    tail: list[str] = []
    for line in reversed(body):
        trial = [*head, note.format(n=len(body) - len(tail) - 1), line, *tail]
        if wire_size(trial) > room:
            break
        tail.insert(0, line)
    left = len(body) - len(tail)
    if left == 0 and wire_size([*head, *tail]) <= room:
        return evalue, [*head, *tail]
    cut = [*head, note.format(n=left), *tail]
    if wire_size(cut) > room:  # the head itself is too long: its header line and the note
        cut = [traceback[0], note.format(n=len(traceback) - 1)] if traceback else []
    if wire_size(cut) > room:
        cut = [_cut_text(note.format(n=len(traceback)), max(0, room - 4))]
    return evalue, cut


def fit_output(data: dict[str, Any], limit: int, where: str) -> dict[str, Any]:
    """A mime bundle cut to at most *limit* bytes of JSON (:func:`wire_size`), keeping its keys:
    values that fit stay whole (smallest first), ``text/plain`` is cut at a character boundary and
    ends with a note, and a value too big to show whole (``application/json``, ``image/png``, a
    table, ...) is left out, named in a ``text/plain`` note. *where* says where the whole output is.
    """
    text = data.get("text/plain") if isinstance(data.get("text/plain"), str) else None
    others = {k: v for k, v in data.items() if not (k == "text/plain" and text is not None)}
    sizes = {k: wire_size({k: v}) for k, v in others.items()}

    def left_out(key: str) -> str:
        return f"[{key} output of {sizes[key]} bytes left out: too big to show; {where}]\n"

    marker = f"\n... [output truncated to {limit} bytes; {where}]"
    # Room the notes may need whatever is left out, then keep whole values, smallest first.
    notes_room = wire_size("".join(left_out(k) for k in others) + marker) + wire_size({"text/plain": ""})
    kept: dict[str, Any] = {}
    for key in sorted(others, key=sizes.__getitem__):
        if wire_size({**kept, key: others[key]}) + notes_room <= limit:
            kept[key] = others[key]
    notes = "".join(left_out(k) for k in others if k not in kept)

    def bundle(plain: str | None) -> dict[str, Any]:
        """*plain* as text/plain (None: none) with the kept values, in the original key order."""
        return {
            k: plain if k == "text/plain" else v
            for k, v in {"text/plain": None, **data}.items()
            if (k == "text/plain" and plain is not None) or k in kept
        }

    plain = notes + text if text is not None else (notes.rstrip("\n") or None)
    result = bundle(plain)
    if wire_size(result) > limit and text:
        # JSON escapes character by character, so the cut text adds exactly its own size less the
        # quotes it shares with the rest of the string.
        room = limit - wire_size(bundle(notes + marker)) + 2
        result = bundle(notes + _cut_text(text, max(0, room)) + marker)
    if wire_size(result) > limit:  # pathological (a tiny limit, many keys): only say where it is
        result = {"text/plain": _cut_text(f"[output too big to show; {where}]", limit - 20)}
    return result


_TB_LINE = re.compile(r'File "<(?:stdin|string|console)>", line (\d+)|^\s*line (\d+)', re.M)


def error_location(status: OutputStatus, traceback: list[str], sent: Range | None) -> dict[str, Any]:
    """``errorLine`` and ``errorRange`` of an output (livy/output 1.2, and the diagnostic): the line
    of the sent code the traceback points at and, with the sent *range*, that line in the document."""
    if status is not OutputStatus.ERROR:
        return {}
    line = traceback_line(traceback)
    if line is None:
        return {}
    found: dict[str, Any] = {"error_line": line}
    if sent is not None:
        doc_line = sent.start.line + line - 1
        found["error_range"] = Range(
            start=Position(line=doc_line, character=0), end=Position(line=doc_line + 1, character=0)
        )
    return found


def traceback_line(traceback: list[str]) -> int | None:
    """The 1-based line of the sent code a Python traceback points at (the last frame), if any."""
    found: int | None = None
    for m in _TB_LINE.finditer("".join(traceback)):
        found = int(m.group(1) or m.group(2))
    return found


class Supervisor:
    """Sessions, tasks and pollers; see the module docstring."""

    def __init__(self, settings: DaemonSettings, notifier: Notifier) -> None:
        self.settings = settings
        self.notifier = notifier
        self.store: StateStore | None = None
        self.tg: TaskGroup | None = None
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
        self.followed_batches: dict[tuple[int, int], anyio.CancelScope] = {}
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
            self._notify_session(w)

    # ---------------------------------------------------------------- helpers

    def session_info(self, w: SessionWorker) -> SessionInfo:
        """The wire view of a session."""
        return _session_info(w, self.attached)

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
        ahead = 0
        for t in w.tasks:
            if t is task:
                break
            if not t.finished:
                ahead += 1
        return ahead

    def task_info(self, task: Task) -> TaskInfo:
        """The wire view of a task."""
        return task.info(self.queued_behind(task))

    def _notify_task(self, task: Task) -> None:
        note = TaskChangedNotification(
            task_id=task.task_id,
            session_id=task.session_id,
            statement_id=task.statement_id,
            state=task.state,
            progress=task.progress,
            queued_behind=self.queued_behind(task),
            message=task.message,
            may_still_run=task.may_still_run,
            profile=task.profile,
        )
        self.notifier.notify("livy/taskChanged", note.wire())

    def _notify_session(self, w: SessionWorker) -> None:
        self.notifier.notify("livy/sessionChanged", {"session": self.session_info(w).wire()})

    @staticmethod
    def _where(conn: LivyConnection) -> dict[str, Any]:
        """How a persisted session names its connection (the URL redacted: no secret on disk)."""
        url = conn.live_url
        return {"profile": conn.profile, "url": redact_url(url) if url else None, "embedded": conn.embedded}

    def persist(self) -> None:
        """Save owned sessions and unfinished tasks."""
        if self.store is None:
            return
        a = self.attached
        data = {
            "attached": {"id": a.session_id, **self._where(a.conn)} if a is not None else None,
            "profile": self.profile,
            "sessions": [
                {"id": w.session_id, **self._where(w.conn), "createBody": w.create_body}
                for w in self.sessions.values()
                if w.owned and not w.gone
            ],
            "tasks": [
                {**t.to_json(), "url": self._where(w.conn)["url"]}
                for t in self.tasks.values()
                if not t.finished and (w := self.worker_of(t)) is not None
            ],
        }
        try:
            self.store.save(data)
        except OSError as exc:
            log.warning("could not save daemon state", error=str(exc))

    def statistics(self) -> dict[str, int]:
        """Counts for livy/status and logs."""
        return {
            "connections": len(self.connections),
            "sessions": len(self.sessions),
            "tasks": len(self.tasks),
            "pending": sum(1 for t in self.tasks.values() if not t.finished),
        }

    # ---------------------------------------------------------------- sessions

    def _start_poller(self, w: SessionWorker) -> None:
        assert self.tg is not None
        self.tg.start_soon(self._poll_session, w, name=f"poller-{w.conn.cid}-{w.session_id}")

    def add_session(
        self,
        raw: dict[str, Any],
        conn: LivyConnection,
        *,
        owned: bool,
        create_body: dict[str, Any] | None = None,
    ) -> SessionWorker:
        """Register a session of *conn* and start its poller (once per live session).

        A worker already under this key is reused only while it is alive and is not being
        replaced by a session we just created (*create_body* given). Livy numbers sessions from 0
        again after a restart: a dead worker for id 0 (its poller ended) must not swallow the new
        session 0, or no poller runs and its tasks stay queued forever (issue 11, 3); and a live
        worker whose id Livy hands out again to a session we created can only be an old session
        of a server that restarted, so it ends and its tasks fail saying so."""
        sid = int(raw["id"])
        w = self.sessions.get((conn.cid, sid))
        if w is not None and not w.gone and create_body is None:
            w.raw = raw
            return w
        if w is not None:
            if not w.gone:
                self._retire(w, f"session {sid} is gone: the Livy server restarted and gave its id to "
                                "a new session")
            self.sessions.pop(w.key, None)
        w = SessionWorker(sid, raw, conn, owned, dict(create_body or {}))
        self.sessions[w.key] = w
        self._start_poller(w)
        self.persist()
        return w

    def _retire(self, w: SessionWorker, reason: str) -> None:
        """End a worker whose session no longer exists: its poller stops, its tasks fail."""
        if w.scope is not None:
            w.scope.cancel()
        self._session_gone(w, reason)

    def _set_attached(self, w: SessionWorker) -> None:
        before = self.attached
        self.attached = w
        self.last_attached[w.conn.cid] = w
        if before is not None and before is not w:
            self._notify_session(before)

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
        """POST a session on *conn* (returns at once; the poller reports it becoming idle). *fields*
        are merged over the profile's defaults (:meth:`session_body`) unless *raw_body* (a restart
        re-sends the body it recorded)."""
        api = conn.require_api()
        body = dict(fields) if raw_body else self.session_body(conn, fields)
        raw = await api.create_session(body)
        w = self.add_session(raw, conn, owned=True, create_body=body)
        if attach:
            self._set_attached(w)
            self.persist()
        self._notify_session(w)
        return w

    async def attach_session(self, conn: LivyConnection, session_id: int) -> SessionWorker:
        """Make an existing Livy session (on *conn*) the current one."""
        api = conn.require_api()
        w = self.sessions.get((conn.cid, session_id))
        raw = await api.get_session(session_id)
        if w is None or w.gone:
            self.sessions.pop((conn.cid, session_id), None)
            w = self.add_session(raw, conn, owned=False)
        else:
            w.raw = raw
        self._set_attached(w)
        self.persist()
        self._notify_session(w)
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
                    self._notify_session(last)
                return last
            w = await self.create_session({}, conn=conn, attach=not explicit)
            self.last_attached[conn.cid] = w
            return w

    def _fail_pending(self, w: SessionWorker, reason: str) -> None:
        for t in w.pending():
            self._finish(t, TaskState.FAILED, OutputStatus.FAILED, None, message=reason, sync=True)

    async def kill_session(self, conn: LivyConnection, session_id: int) -> bool:
        """DELETE a session of *conn*; its unfinished tasks fail."""
        api = conn.require_api()
        w = self.sessions.get((conn.cid, session_id))
        try:
            await api.delete_session(session_id)
            killed = True
        except SessionGoneError:
            killed = False
        if w is not None:
            w.gone = True
            w.raw = {**w.raw, "state": "dead"}
            self._fail_pending(w, f"session {session_id} was killed")
            if self.attached is w:
                self.attached = None
            self._notify_session(w)
            if w.scope is not None:
                w.scope.cancel()
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
            kind = w.raw.get("kind") if w is not None else None
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
        task = Task(
            task_id=f"t-{uuid.uuid4().hex[:12]}",
            session_id=w.session_id,
            code=code,
            kind=kind,
            uri=uri,
            range=range_,
            origin=origin,
            cid=w.conn.cid,
            profile=w.profile,
        )
        w.tasks.append(task)
        self.tasks[task.task_id] = task
        self.persist()
        self._notify_task(task)
        w.kick()
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
        if task.finished:
            return task
        task.cancel_requested = True
        if task.state is TaskState.QUEUED and not task.submitting:
            self._finish(
                task,
                TaskState.CANCELLED,
                OutputStatus.CANCELLED,
                None,
                message="cancelled before it ran",
                sync=True,
            )
            self._renotify_queue(task)
            return task
        w = self.worker_of(task)
        if task.statement_id is not None and w is not None:
            api = w.conn.require_api()
            was_running = task.state is TaskState.RUNNING
            task.was_running = task.was_running or was_running
            task.state = TaskState.CANCELLING
            self._notify_task(task)
            with anyio.move_on_after(10, shield=True):
                try:
                    await api.cancel_statement(task.session_id, task.statement_id)
                except LivydError as exc:
                    log.warning("cancel failed", task_id=task_id, error=str(exc))
        if w is not None:
            w.kick()
        return task

    def _renotify_queue(self, task: Task) -> None:
        w = self.worker_of(task)
        if w is None:
            return
        for t in w.pending():
            if t.state is TaskState.QUEUED:
                self._notify_task(t)

    def _finish(
        self,
        task: Task,
        state: TaskState,
        status: OutputStatus,
        output: dict[str, Any] | None,
        *,
        message: str | None = None,
        sync: bool = False,
    ) -> None:
        """Mark finished and deliver (synchronously: used for outputs with no big payload)."""
        task.state = state
        task.message = message or task.message
        if state is not TaskState.FAILED:
            task.progress = 1.0
        note = self._output(task, status, output)
        self._deliver(task, note, None)

    def _output(self, task: Task, status: OutputStatus, output: dict[str, Any] | None) -> OutputNotification:
        out = output or {}
        return OutputNotification(
            task_id=task.task_id,
            session_id=task.session_id,
            statement_id=task.statement_id,
            status=status,
            data=dict(out.get("data") or {}),
            ename=out.get("ename"),
            evalue=out.get("evalue") or task.message,
            traceback=list(out.get("traceback") or []),
            uri=task.uri,
            range=task.range,
            elapsed_ms=int((time.time() - task.started_at) * 1000),
            profile=task.profile,
            **error_location(status, list(out.get("traceback") or []), task.range),
        )

    def _deliver(self, task: Task, note: OutputNotification, full: dict[str, Any] | None) -> None:
        record = note.wire()
        if self.store is not None:
            try:
                self._logged(task, self.store.append_output(record))
            except OSError as exc:
                log.warning("could not append to the output log", error=str(exc))
        self._notify_task(task)
        self.notifier.progress_end(task)
        self.notifier.notify("livy/output", record)
        self.notifier.diagnostics(task, note)
        self.persist()

    async def _finish_async(
        self, task: Task, state: TaskState, status: OutputStatus, output: dict[str, Any] | None
    ) -> None:
        """Mark finished; big outputs are written to a file in a worker thread first."""
        task.state = state
        task.progress = 1.0
        note = self._output(task, status, output)
        limit = self.settings.max_output_bytes
        if not _surely_fits(note.data, limit) or not _error_fits(note.evalue, note.traceback, limit):
            # Measuring, saving and cutting a big output runs in a worker thread: the event loop
            # keeps answering requests meanwhile.
            note = await anyio.to_thread.run_sync(self._truncate, task, note, limit)
        if self.store is not None:
            store = self.store
            try:
                self._logged(task, await anyio.to_thread.run_sync(store.append_output, note.wire()))
            except OSError as exc:
                log.warning("could not append to the output log", error=str(exc))
        self._notify_task(task)
        self.notifier.progress_end(task)
        self.notifier.notify("livy/output", note.wire())
        self.notifier.diagnostics(task, note)
        self.persist()

    def _logged(self, task: Task, offset: int | None) -> None:
        """Remember where the task's output is in the output log (for livy/statement)."""
        if offset is not None:
            self.output_offsets[task.task_id] = offset

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
                output = StatementOutput(status=OutputStatus.FAILED, evalue=task.message)
                return result.model_copy(update={"output": output})
            st = await w.conn.require_api().get_statement(task.session_id, task.statement_id)
            return (await self._statement_from_livy(w.conn, task.session_id, st)).model_copy(
                update={"task_id": task.task_id, "state": task.state.value, "uri": task.uri,
                        "range": task.range})
        return result.model_copy(update={"output": StatementOutput.model_validate(record)})

    async def _statement_from_livy(
        self, conn: LivyConnection, session_id: int, st: dict[str, Any]
    ) -> StatementResult:
        """A Livy statement as a StatementResult, its output bounded like livy/output's."""
        state = str(st.get("state"))
        progress = float(st.get("progress") or 0.0)
        progress = 0.0 if math.isnan(progress) else min(max(progress, 0.0), 1.0)
        output: StatementOutput | None = None
        raw = st.get("output")
        if state in ("available", "cancelled", "error"):
            status = (OutputStatus.CANCELLED if state != "available" else OutputStatus.ERROR
                      if (raw or {}).get("status") == "error" else OutputStatus.OK)
            probe = Task(task_id=f"s{conn.cid}-{session_id}-{st.get('id')}", session_id=session_id,
                         code="", statement_id=int(st["id"]), cid=conn.cid, profile=conn.profile)
            note = self._output(probe, status, raw)
            limit = self.settings.max_output_bytes
            if not _surely_fits(note.data, limit) or not _error_fits(note.evalue, note.traceback, limit):
                note = await anyio.to_thread.run_sync(self._truncate, probe, note, limit)
            output = StatementOutput.model_validate(note.wire())
        return StatementResult(
            session_id=session_id, statement_id=int(st["id"]), profile=conn.profile,
            code=str(st.get("code") or ""), state=state, progress=progress,
            started=int(st.get("started") or 0) or None, completed=int(st.get("completed") or 0) or None,
            output=output,
        )

    def _truncate(self, task: Task, note: OutputNotification, limit: int) -> OutputNotification:
        """*note* with its data cut to *limit* bytes (see :func:`fit_output`), the whole output
        written to a file first. Runs in a worker thread."""
        data_fits = wire_size(note.data) <= limit
        error_fits = wire_size(note.evalue) + wire_size(note.traceback) <= limit // 2
        if data_fits and error_fits:
            return note
        path: str | None = None
        if self.store is not None:
            try:
                path = str(self.store.write_full_output(task.task_id, note.wire()))
            except OSError as exc:
                log.warning("could not write the whole output", task_id=task.task_id, error=str(exc))
        where = f"the whole output is in {path}" if path else "livyd could not save the whole output"
        data = note.data if data_fits else fit_output(note.data, limit, where)
        evalue, traceback = fit_error(note.evalue, note.traceback, limit, where)
        return note.model_copy(update={"data": data, "evalue": evalue, "traceback": traceback,
                                       "truncated": True, "full_output_path": path})

    # ---------------------------------------------------------------- the poller

    async def _poll_session(self, w: SessionWorker) -> None:
        with anyio.CancelScope() as scope:
            w.scope = scope
            try:
                await self._poll_loop(w)
            except SessionGoneError as exc:
                log.info("session gone", session_id=w.session_id, error=str(exc))
                self._session_gone(w, _gone_reason(w.session_id, exc))
            except Exception as exc:
                log.exception("poller crashed", session_id=w.session_id)
                self._session_gone(w, f"livyd stopped polling session {w.session_id}: {type(exc).__name__}")

    def _session_gone(self, w: SessionWorker, reason: str) -> None:
        w.gone = True
        if w.state not in _DEAD_STATES or w.state == "shutting_down":
            w.raw = {**w.raw, "state": "dead"}  # nobody polls it any more: report where it ends
        self._fail_pending(w, reason)
        self._notify_session(w)
        if self.attached is w:
            self.attached = None
        self.persist()

    async def _poll_loop(self, w: SessionWorker) -> None:
        errors = 0
        while not w.gone:
            try:
                # The API is looked up on every round: livy/setCredentials may replace it.
                await self._poll_once(w.conn.require_api(), w)
                errors = 0
            except SessionGoneError:
                raise
            except LivydError as exc:
                # Expected failures that do not end the session: no network, a gateway's or Livy's
                # 5xx, an expired Kerberos ticket (401) or a refused one (403), a proxy's page instead
                # of JSON, ... Keep the tasks and poll again, backing off; say so once per streak.
                errors += 1
                log.warning("poll failed", session_id=w.session_id, error=str(exc), attempt=errors)
                if errors == _POLL_ERRORS_SHOWN:
                    self.notifier.show_message(
                        f"livyd cannot poll session {w.session_id} ({exc}); it keeps trying", 2
                    )
            if w.gone:
                return
            busy = bool(w.pending()) or w.state not in _READY_STATES
            if not busy and w.settle > 0 and w.state == "busy":
                w.settle -= 1
                busy = True
            interval = self._next_poll(w) if busy else self.settings.idle_poll_interval
            if not busy:
                w.planner = None
            interval = min(interval * (2 ** min(errors, 5)), 60.0)
            w.wake = anyio.Event()
            with anyio.move_on_after(interval):
                await w.wake.wait()

    def _poll_settings(self) -> PollSettings:
        """The poll plan of running statements: the first poll within 10 ms, growing while nothing
        changes up to ``pollInterval`` (the cap)."""
        cap = self.settings.poll_interval
        return PollSettings(initial=min(0.01, cap), maximum=cap)

    def _next_poll(self, w: SessionWorker) -> float:
        """Seconds until the next poll of a session with work pending (its :class:`PollPlanner`:
        fast again when a statement's state moves)."""
        now = anyio.current_time()
        if w.planner is None:
            w.planner = PollPlanner(self._poll_settings(), now=now)
            w.fresh_plan = True
        if w.fresh_plan:
            w.fresh_plan = False
            return w.planner.delay(now)
        pending = w.pending()
        return w.planner.observe(
            now,
            state=(w.state, tuple((t.task_id, t.state) for t in pending)),
            progress=tuple(round(t.progress, 2) for t in pending),
        )

    async def _read_state(self, api: LivyAPI, w: SessionWorker) -> None:
        """GET the session; notify a change; raise SessionGoneError when it ended."""
        before = w.state
        w.raw = await api.get_session(w.session_id)
        if w.state != before:
            self._notify_session(w)
        if w.state in _DEAD_STATES:
            raise SessionGoneError(
                f"session {w.session_id} is {w.state}", session_id=w.session_id, state=w.state
            )

    async def _poll_once(self, api: LivyAPI, w: SessionWorker) -> None:
        had_work = bool(w.pending())
        # 1. Session state (only while it is not known to be ready, or when nothing else tells us).
        if w.state not in _READY_STATES or not any(t.statement_id is not None for t in w.pending()):
            await self._read_state(api, w)
        if w.state not in _READY_STATES:
            return
        # 2. Statements in flight: one windowed GET; then 3. the log (while something runs, or
        # when followed), read *after* the statements and sent *before* any of them is finished,
        # so every line Livy held when a result was read precedes that task's livy/output.
        inflight = [t for t in w.pending() if t.statement_id is not None]
        fetched = await self._poll_statements(api, w, inflight) if inflight else []
        if w.following or inflight:
            await self._pump_log(api, w)
        for task, st in fetched:
            if not task.finished:
                await self._apply_statement(w, task, st)
        # 4. Submit the next queued task when nothing is in flight.
        if not any(t.statement_id is not None for t in w.pending()):
            head = next((t for t in w.pending() if t.state is TaskState.QUEUED), None)
            if head is not None:
                if w.log_cursor is None:
                    # The log's baseline is what it holds *before* the first submission: lines
                    # the statement writes from its first instant are new, hence streamed.
                    await self._pump_log(api, w)
                await self._submit(api, w, head)
        # 5. The session's last task just finished: Livy's session is idle again (or still busy
        # with someone else's work). Read it now, not an idlePollInterval later: completion and
        # editors wait for idle. If it still says busy, poll fast for a few rounds.
        if had_work and not w.pending() and not w.gone:
            await self._read_state(api, w)
            w.settle = _SETTLE_POLLS if w.state == "busy" else 0

    async def _submit(self, api: LivyAPI, w: SessionWorker, task: Task) -> None:
        task.submitting = True
        self.persist()
        try:
            st = await api.submit_statement(w.session_id, task.code, task.kind)
        except SessionNotReadyError:
            task.submitting = False
            return  # the session is starting/recovering: try again on the next poll
        except SessionGoneError:
            raise
        except TransportError as exc:
            task.submitting = False
            self._finish(
                task,
                TaskState.FAILED,
                OutputStatus.FAILED,
                None,
                message=f"the submission's fate is unknown ({exc}); it was not re-sent",
            )
            return
        except LivydError as exc:
            task.submitting = False
            self._finish(task, TaskState.FAILED, OutputStatus.FAILED, None, message=str(exc))
            return
        task.submitting = False
        task.statement_id = int(st["id"])
        task.started_at = time.time()
        # A new plan: the first poll of the statement comes within milliseconds.
        w.planner = PollPlanner(self._poll_settings(), now=anyio.current_time())
        w.fresh_plan = True
        if w.state != "busy":
            w.raw = {**w.raw, "state": "busy"}
            self._notify_session(w)
        self.persist()
        if task.cancel_requested:
            with anyio.move_on_after(10, shield=True):
                try:
                    await api.cancel_statement(w.session_id, task.statement_id)
                except LivydError as exc:
                    log.warning("cancel failed", task_id=task.task_id, error=str(exc))
        if str(st.get("state")) in ("available", "cancelled", "error"):
            await self._pump_log(api, w)  # finished at once: its log lines still come first
        await self._apply_statement(w, task, st)
        self._renotify_queue(task)

    async def _poll_statements(
        self, api: LivyAPI, w: SessionWorker, inflight: list[Task]
    ) -> list[tuple[Task, dict[str, Any]]]:
        """Fetch the in-flight statements (one windowed GET; a lone GET for any outside it).
        Returns them to be applied by the caller, after the log was read."""
        ids = [t.statement_id for t in inflight if t.statement_id is not None]
        lo, hi = min(ids), max(ids)
        by_id: dict[int, dict[str, Any]] = {}
        for _attempt in range(2):
            start = max(0, lo - w.offset)
            page = await api.list_statements(w.session_id, start, hi - lo + 1)
            got = page.get("statements") or []
            by_id = {int(s["id"]): s for s in got}
            if got and lo in by_id:
                break
            if got:
                # Position `start` held id got[0]: that fixes the first retained id.
                w.offset = max(0, int(got[0]["id"]) - start)
                continue
            total = int(page.get("total_statements") or 0)
            w.offset = max(0, hi + 1 - total)
        fetched: list[tuple[Task, dict[str, Any]]] = []
        for t in inflight:
            st = by_id.get(t.statement_id) if t.statement_id is not None else None
            if st is None and t.statement_id is not None:
                try:
                    st = await api.get_statement(w.session_id, t.statement_id)
                except StatementNotFoundError:
                    self._finish(
                        t,
                        TaskState.FAILED,
                        OutputStatus.FAILED,
                        None,
                        message=f"statement {t.statement_id} is no longer known to Livy",
                    )
                    continue
            if st is not None:
                fetched.append((t, st))
        return fetched

    async def _apply_statement(self, w: SessionWorker, task: Task, st: dict[str, Any]) -> None:
        state = str(st.get("state"))
        progress = float(st.get("progress") or 0.0)
        progress = 0.0 if math.isnan(progress) else min(max(progress, 0.0), 1.0)
        if state == "available":
            output = st.get("output") or {}
            status = OutputStatus.ERROR if output.get("status") == "error" else OutputStatus.OK
            await self._finish_async(task, TaskState.AVAILABLE, status, output)
            return
        if state in ("cancelled", "error"):
            output = st.get("output")
            started = int(st.get("started") or 0)
            # Forced cancel (no output although it had started): the code may still be running.
            if (task.was_running or started > 0) and not output:
                task.may_still_run = True
                task.message = (
                    f"Livy marked statement {task.statement_id} cancelled, but its code may "
                    f"still be running on session {w.session_id}; restart the session "
                    "(livy/restartSession) to be sure"
                )
                self.notifier.show_message(task.message, 2)
            await self._finish_async(task, TaskState.CANCELLED, OutputStatus.CANCELLED, output)
            return
        new_state = {
            "waiting": TaskState.WAITING,
            "running": TaskState.RUNNING,
            "cancelling": TaskState.CANCELLING,
        }.get(state, task.state)
        if (
            task.state is TaskState.CANCELLING
            and new_state is not TaskState.CANCELLING
            and task.cancel_requested
        ):
            new_state = TaskState.CANCELLING
        if new_state is TaskState.RUNNING:
            task.was_running = True
        changed = new_state is not task.state or abs(progress - task.progress) >= 0.01
        first_progress = (
            task.state in (TaskState.QUEUED, TaskState.WAITING) and new_state is TaskState.RUNNING
        )
        task.state = new_state
        task.progress = progress
        if first_progress:
            self.notifier.progress_begin(task)
        if changed:
            self._notify_task(task)
            self.notifier.progress_report(task)

    async def _pump_log(self, api: LivyAPI, w: SessionWorker) -> None:
        """Send the session log lines that appeared since the last look (livyd._core.logcursor
        diffs whole pages per section: Livy's offsets shift and stdout grows mid-page)."""
        from livyd._core.logcursor import FETCH_SIZE, LogCursor

        try:
            page = await api.session_log(w.session_id, 0, FETCH_SIZE)
        except SessionGoneError:
            raise
        except LivydError as exc:
            log.debug("log fetch failed", session_id=w.session_id, error=str(exc))
            return
        if w.log_cursor is None:
            w.log_cursor = LogCursor(start="tail", tail=0)
        before = w.log_cursor.delivered
        lines = w.log_cursor.feed(list(page.get("log") or []), page_from=int(page.get("from") or 0))
        if lines:
            self.notifier.notify(
                "livy/log",
                LogNotification(
                    session_id=w.session_id,
                    lines=lines,
                    from_=before,
                    total=int(page.get("total") or 0),
                    profile=w.profile,
                ).wire(),
            )

    # ---------------------------------------------------------------- batches

    async def follow_batch(self, conn: LivyConnection, batch_id: int, *, from_start: bool = False) -> None:
        """Start following a batch's state and log on *conn* (until unfollowed or finished): from
        its first line for a batch just submitted (*from_start*), else from the current tail."""
        key = (conn.cid, batch_id)
        if key in self.followed_batches:
            return
        assert self.tg is not None
        scope = anyio.CancelScope()
        self.followed_batches[key] = scope
        self.tg.start_soon(self._follow_batch, conn, batch_id, scope, from_start)

    def unfollow_batch(self, conn: LivyConnection, batch_id: int) -> None:
        """Stop following a batch of *conn*."""
        scope = self.followed_batches.pop((conn.cid, batch_id), None)
        if scope is not None:
            scope.cancel()

    async def _follow_batch(
        self, conn: LivyConnection, batch_id: int, scope: anyio.CancelScope, from_start: bool
    ) -> None:
        from livyd._core.logcursor import FETCH_SIZE, LogCursor

        cursor = LogCursor(start="beginning" if from_start else "tail", tail=0)
        last_state: str | None = None
        with scope:
            try:
                while True:
                    api = conn.require_api()  # looked up each round: setCredentials may replace it
                    raw = await api.get_batch(batch_id)
                    if raw.get("state") != last_state:
                        last_state = str(raw.get("state"))
                        self.notifier.notify(
                            "livy/batchChanged", {"batch": batch_info(raw, conn.profile).wire()}
                        )
                    page = await api.batch_log(batch_id, 0, FETCH_SIZE)
                    before = cursor.delivered
                    lines = cursor.feed(list(page.get("log") or []), page_from=int(page.get("from") or 0))
                    if lines:
                        self.notifier.notify(
                            "livy/log",
                            LogNotification(
                                batch_id=batch_id,
                                lines=lines,
                                from_=before,
                                total=int(page.get("total") or 0),
                                profile=conn.profile,
                            ).wire(),
                        )
                    if last_state in ("success", "dead", "killed"):
                        return
                    await anyio.sleep(self.settings.poll_interval * 3)
            except LivydError as exc:
                log.info("stopped following batch", batch_id=batch_id, error=str(exc))
            finally:
                if self.followed_batches.get((conn.cid, batch_id)) is scope:
                    del self.followed_batches[(conn.cid, batch_id)]

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
            try:
                conn = await self._restore_connection(profile, url)
                raw = await conn.require_api().get_session(sid)
            except SessionGoneError:
                log.info("persisted session is gone", session_id=sid, profile=profile)
                continue
            except LivydError as exc:
                log.warning("could not reattach session", session_id=sid, profile=profile, error=str(exc))
                continue
            if str(raw.get("state")) in _DEAD_STATES:
                continue
            w = SessionWorker(sid, raw, conn, True, dict(s.get("createBody") or {}))
            self.sessions[w.key] = w
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
            if owner is None:
                task.state = TaskState.FAILED
                self.tasks[task.task_id] = task
                self._finish(
                    task,
                    TaskState.FAILED,
                    OutputStatus.FAILED,
                    None,
                    message=f"session {task.session_id} is gone",
                    sync=True,
                )
                continue
            task.cid, task.profile = owner.conn.cid, owner.profile
            if task.submitting and task.statement_id is None:
                self.tasks[task.task_id] = task
                owner.tasks.append(task)
                self._finish(
                    task,
                    TaskState.FAILED,
                    OutputStatus.FAILED,
                    None,
                    message="the daemon stopped while submitting this statement; its fate is unknown "
                    "and it was not re-sent",
                    sync=True,
                )
                continue
            task.submitting = False
            owner.tasks.append(task)
            self.tasks[task.task_id] = task
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
            self._notify_session(w)
            for t in w.pending():
                self._notify_task(t)
            self._start_poller(w)
        self.persist()

    async def shutdown(self) -> None:
        """On exit: delete owned sessions (each on its own connection) if configured (shielded,
        time-limited)."""
        if not self.settings.delete_sessions_on_exit:
            return
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
            self.persist()


_PY_COMPLETE = """\
def __livyd_complete(prefix):
    import json, rlcompleter
    completer = rlcompleter.Completer(globals())
    found = []
    while len(found) < 200:
        item = completer.complete(prefix, len(found))
        if item is None:
            break
        found.append(item)
    print(json.dumps(found))
__livyd_complete({prefix!r})
del __livyd_complete
"""


async def complete(sup: Supervisor, prefix_line: str, column: int, *, limit_s: float = 2.0) -> list[str]:
    """Completion candidates from the attached session, or ``[]``.

    Scala sessions ask Livy's ``/completion``. For Python sessions a tiny statement runs
    ``rlcompleter`` over the session's globals, but only when the session is idle and the daemon
    has no task on it, so it is never queued behind (or in front of) the user's work; it is
    cancelled if it outlives *limit_s* seconds.
    """
    w = sup.attached
    api = w.conn.api if w is not None else None
    if api is None or w is None or w.gone or w.state != "idle" or w.pending():
        return []
    kind = str(w.raw.get("kind") or "pyspark")
    if kind in ("spark", "scala"):
        with anyio.move_on_after(limit_s):
            return await api.completion(w.session_id, prefix_line, "spark", column)
        return []
    m = re.search(r"[A-Za-z_][\w.]*$", prefix_line[:column])
    if m is None:
        return []
    st = await api.submit_statement(w.session_id, _PY_COMPLETE.format(prefix=m.group(0)), "pyspark")
    sid = int(st["id"])
    try:
        with anyio.fail_after(limit_s):
            while str(st.get("state")) not in ("available", "cancelled"):
                await anyio.sleep(0.05)
                st = await api.get_statement(w.session_id, sid)
    except TimeoutError:
        with anyio.move_on_after(5, shield=True):
            await api.cancel_statement(w.session_id, sid)
        return []
    out = st.get("output") or {}
    text = (out.get("data") or {}).get("text/plain") if out.get("status") == "ok" else None
    try:
        items = json.loads(text) if isinstance(text, str) else []
    except ValueError:
        return []
    return [str(i) for i in items if isinstance(i, str)]
