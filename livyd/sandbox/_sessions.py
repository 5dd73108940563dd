"""Interactive sessions and their statements: the state machines, the queue, and the GC.

This is the part of Livy that lives in two processes on a real cluster (the server's
``InteractiveSession`` and the driver's ``Session``/``Statement``); here it is one object per
session owning one :class:`~livyd.sandbox._repl.Repl` worker process.

States (livy-rest.md 5.2). Two layers, as in Livy:

* the *server* state: ``starting`` → ``running`` → ``shutting_down`` → ``dead``; a REPL that
  cannot start goes ``error`` → ``dead``. Only ``running`` accepts statements; everything else
  answers 500 ``java.lang.IllegalStateException: Session is in state <s>``.
* while the server state is ``running`` the *reported* state is the REPL's: ``idle``, ``busy``
  (anything queued or executing, so a queue keeps it busy throughout) or ``error`` (the
  interpreter died). ``error`` is not terminal: a later successful statement moves it back.

Statements (7.3): ``waiting → running → available``; ``waiting → cancelled`` at once on cancel;
``running → cancelling → cancelled``. One runner task per session takes statements in id order
and executes them strictly one at a time. Cancel of a running statement calls
``Repl.cancel_jobs`` every 100 ms (Livy's ``job-cancel.trigger-interval``); if the code returns
the statement is ``cancelled`` with whatever output it produced; if ``--cancel-timeout`` passes
first it is forced to ``cancelled`` (output null) **while the code keeps running**, and the next
statement waits until it really returns, exactly like Livy. ``--interrupt-on-cancel`` also
sends SIGINT to the worker.

Time-outs (13.3, 13.4), checked every ``--heartbeat-check-interval`` seconds by one GC task:
heartbeat expiry (any request addressing the session refreshes it), idle timeout (activity =
create, POST statement, cancel, completion, connect, add/upload, and a statement finishing;
GETs do not count; sessions in REPL ``error`` are never idle-collected, a Livy quirk), and
removal of dead sessions ``--state-retain`` seconds after they died.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

import anyio
import structlog
from anyio.abc import TaskGroup

from livyd.sandbox._logbuffer import LogBuffer
from livyd.sandbox._resources import Staged
from livyd.sandbox._sparkui import DriverLog

__all__ = ["SandboxOptions", "Session", "SessionManager", "Statement", "find_by_key", "now_ms",
           "prepare_workdir", "run_all_shielded"]

log = structlog.get_logger()

RETAINED_STATEMENTS = 100
CANCEL_TRIGGER_INTERVAL = 0.1
#: seconds between SIGINTs while an interrupted statement has not ended (--interrupt-on-cancel)
INTERRUPT_AGAIN = 1.0
ACTIVE_SERVER_STATES = frozenset({"not_started", "starting", "recovering", "running", "error"})


def now_ms() -> int:
    """Epoch milliseconds (Livy's ``started``/``completed``)."""
    return int(time.time() * 1000)


@dataclass
class SandboxOptions:
    """The knobs shared by sessions and batches (the CLI options, minus the network ones)."""

    python: str
    work_dir: Path
    data_dir: Path
    webhdfs_url: str | None = None
    cancel_timeout: float = 30.0
    interrupt_on_cancel: bool = False
    check_interval: float = 60.0
    session_timeout: float = 3600.0
    state_retain: float = 600.0
    batch_launcher: str = "auto"


@dataclass
class Statement:
    """One statement, serialised as Livy's Statement JSON (field order of 7.2)."""

    id: int
    code: str
    kind: str
    state: str = "waiting"
    output: dict[str, Any] | None = None
    progress: float = 0.0
    started: int = 0
    completed: int = 0
    cancel_requested: anyio.Event = field(default_factory=anyio.Event)

    def to_json(self, progress: float | None = None) -> dict[str, Any]:
        """The statement as Livy renders it."""
        if self.state in ("available", "cancelled"):
            shown = 1.0
        elif progress is not None:
            shown = float(progress)
        else:
            shown = float(self.progress)
        return {
            "id": self.id,
            "code": self.code,
            "state": self.state,
            "output": self.output,
            "progress": shown,
            "started": self.started,
            "completed": self.completed,
        }


class Session:
    """One interactive session: its request echo, state, log, statements and REPL worker."""

    def __init__(self, *, id: int, request: dict[str, Any], kind: str, owner: str | None,
                 proxy_user: str | None, options: SandboxOptions, idle_timeout: float | None,
                 sys_path: list[str], archives: list[Staged], files: list[Staged],
                 env_extra: dict[str, str]) -> None:
        self.id = id
        self.request = request
        self.name: str | None = request.get("name")
        self.kind = kind
        self.owner = owner
        self.proxy_user = proxy_user
        #: YARN's application id: the one --recovery gives (_recovery.py), else the local
        #: SparkSession's once it runs (never replaced: an appId that changes is another session)
        self.app_id: str | None = None
        self.options = options
        self.idle_timeout = idle_timeout
        self.heartbeat_timeout = int(request.get("heartbeatTimeoutInSecond") or 0)
        self.server_state = "starting"
        self.repl_state = "starting"
        self.log = LogBuffer()
        #: everything the REPL process wrote (appInfo.driverLogUrl serves it)
        self.driver_log = DriverLog()
        #: the local SparkSession's Spark UI, once it runs (appInfo.sparkUiUrl)
        self.spark_ui_url: str | None = None
        self.statements: list[Statement] = []
        self._next_statement_id = 0
        self._send, self._receive = anyio.create_memory_object_stream[Statement](max_buffer_size=10_000)
        self._executing = False
        self.repl: Any = None
        self._sys_path = sys_path
        self._archives = archives
        self._files = files
        self._env_extra = env_extra
        self.cwd = options.work_dir / "sessions" / str(id)
        now = time.monotonic()
        self.last_activity = now
        self.last_heartbeat = now
        self.stopped_at: float | None = None
        self.ready = anyio.Event()
        self._scope: anyio.CancelScope | None = None
        self._stop_lock = anyio.Lock()

    # ------------------------------------------------------------------ state

    @property
    def state(self) -> str:
        """The state a client sees (REPL state while the server state is ``running``)."""
        if self.server_state == "running":
            if self._executing or any(s.state == "waiting" for s in self.statements):
                return "busy"
            return "error" if self.repl_state == "error" else "idle"
        return self.server_state

    @property
    def active(self) -> bool:
        """Livy's notion: not shutting_down / dead / killed / success."""
        return self.server_state in ACTIVE_SERVER_STATES

    def touch(self) -> None:
        """Record server-side activity (resets the idle timer)."""
        self.last_activity = time.monotonic()

    def heartbeat(self) -> None:
        """Refresh the heartbeat deadline (any request addressing this session)."""
        self.last_heartbeat = time.monotonic()

    def on_log(self, stream: str, line: str) -> None:
        """The REPL worker's output outside statements: the driver log."""
        self.log.add_line(stream, line)
        self.driver_log.add(stream, line)

    def on_spark(self, info: dict[str, Any]) -> None:
        """The REPL's SparkSession started: its application id and UI address."""
        self.app_id = self.app_id or info.get("app_id") or None
        self.spark_ui_url = info.get("ui_url") or None
        log.info("session spark started", session=self.id, app_id=self.app_id, ui=self.spark_ui_url)

    # ------------------------------------------------------------------ lifecycle

    async def run(self) -> None:
        """Start the REPL, then execute queued statements one by one until stopped."""
        from livyd.sandbox._repl import Repl

        with anyio.CancelScope() as scope:
            self._scope = scope
            try:
                await anyio.to_thread.run_sync(prepare_workdir, self.cwd, self._files)
                env = {**os.environ, **self._env_extra}
                started = time.monotonic()
                self.repl = await Repl.start(python=self.options.python, cwd=self.cwd, env=env,
                                             on_log=self.on_log, sys_path=self._sys_path)
                self.repl.on_spark = self.on_spark
                for archive in self._archives:
                    await self.repl.add_path(archive.spec(), extract=True)
                log.info("session ready", session=self.id, seconds=round(time.monotonic() - started, 3))
            except Exception as exc:
                log.warning("session failed to start", session=self.id, error=str(exc))
                self.log.add_line("stderr", f"Failed to start the interpreter: {exc}")
                tail = getattr(exc, "stderr_tail", "")
                for line in str(tail).splitlines()[-20:]:
                    self.log.add_line("stderr", line)
                self.server_state = "error"
                self.ready.set()
                await self._close_repl()
                self.server_state = "dead"
                self.stopped_at = time.monotonic()
                return
            self.server_state = "running"
            self.repl_state = "idle"
            self.ready.set()
            async with self._receive:
                async for statement in self._receive:
                    if statement.state != "waiting":
                        continue
                    await self._execute(statement)

    async def _execute(self, statement: Statement) -> None:
        from livyd.sandbox._repl import ReplDied

        statement.state = "running"
        statement.started = now_ms()
        self._executing = True
        self.repl_state = "busy"
        died = False
        output: dict[str, Any]
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._watch_cancel, statement)
                try:
                    output = await self.repl.execute(statement.id, statement.code, statement.kind,
                                                     on_start=self._on_start(statement))
                except ReplDied as exc:
                    died = True
                    output = {"status": "error", "execution_count": statement.id, "ename": "Error",
                              "evalue": f"Interpreter died:\n{exc.stderr_tail}", "traceback": []}
                tg.cancel_scope.cancel()
        finally:
            self._executing = False
        if statement.state == "cancelling":
            statement.state = "cancelled"
            statement.output = output
            statement.completed = now_ms()
        elif statement.state == "running":
            statement.output = output
            statement.state = "available"
            statement.completed = now_ms()
        # a statement forced to "cancelled" by the timeout keeps its null output
        statement.progress = 1.0
        self.repl_state = "error" if died else "idle"
        self.touch()

    @staticmethod
    def _on_start(statement: Statement) -> Callable[[int], None]:
        def started(epoch_ms: int) -> None:
            statement.started = epoch_ms

        return started

    async def _watch_cancel(self, statement: Statement) -> None:
        await statement.cancel_requested.wait()
        if statement.state != "running":
            return
        statement.state = "cancelling"
        if self.options.interrupt_on_cancel:
            try:
                self.repl.interrupt()
            except Exception as exc:
                log.warning("interrupt failed", session=self.id, error=str(exc))
        with anyio.move_on_after(self.options.cancel_timeout):
            signalled = anyio.current_time()
            while True:
                try:
                    await self.repl.cancel_jobs(statement.id)
                except Exception as exc:
                    log.debug("cancel_jobs failed", session=self.id, error=str(exc))
                await anyio.sleep(CANCEL_TRIGGER_INTERVAL)
                if self.options.interrupt_on_cancel and anyio.current_time() - signalled >= INTERRUPT_AGAIN:
                    # A SIGINT that lands while the worker is still between receiving the statement
                    # and running it is ignored there: signal again, as a user presses Ctrl-C again.
                    # Safe for the next statement: it is sent only after this one has answered, and
                    # this task ends with it.
                    signalled = anyio.current_time()
                    with contextlib.suppress(Exception):
                        self.repl.interrupt()
        if statement.state == "cancelling":
            # Livy's job-cancel.timeout: marked cancelled although the code keeps running.
            statement.state = "cancelled"
            statement.completed = now_ms()

    async def stop(self) -> None:
        """Stop the session (``shutting_down`` → ``dead``); the record is kept until GC."""
        async with self._stop_lock:
            if not self.active:
                return
            self.server_state = "shutting_down"
            self._send.close()
            if self._scope is not None:
                self._scope.cancel()
            with anyio.move_on_after(15, shield=True):
                await self._close_repl()
            self.server_state = "dead"
            self.stopped_at = time.monotonic()
            self.ready.set()

    async def _close_repl(self) -> None:
        repl, self.repl = self.repl, None
        if repl is not None:
            try:
                await repl.aclose()
            except Exception as exc:
                log.warning("closing the REPL failed", session=self.id, error=str(exc))

    # ------------------------------------------------------------------ statements

    def submit(self, code: str, kind: str) -> Statement:
        """Queue a statement (the caller checked the server state is ``running``)."""
        statement = Statement(id=self._next_statement_id, code=code.replace("\r\n", "\n"), kind=kind)
        self._next_statement_id += 1
        self.statements.append(statement)
        if len(self.statements) > RETAINED_STATEMENTS:
            del self.statements[: len(self.statements) - RETAINED_STATEMENTS]
        self._send.send_nowait(statement)
        self.touch()
        return statement

    async def complete(self, code: str, cursor: int) -> list[str]:
        """Scala completion candidates (Livy: only the Scala interpreter completes); [] when the
        REPL cannot answer (not started, no pyspark)."""
        self.touch()
        if self.repl is None:
            return []
        try:
            candidates: list[str] = await self.repl.complete(code, cursor)
        except Exception as exc:
            log.info("completion failed", session=self.id, error=str(exc))
            return []
        return candidates

    def restore_statement_ids(self) -> None:
        """After statements were put back (``--recovery``): new ones get the next ids."""
        self._next_statement_id = max((s.id for s in self.statements), default=-1) + 1

    def find_statement(self, statement_id: int) -> Statement | None:
        """A retained statement by id (the 100 most recent)."""
        for statement in self.statements:
            if statement.id == statement_id:
                return statement
        return None

    def cancel(self, statement_id: int) -> None:
        """Fire-and-forget cancel: waiting → cancelled now, running → cancelling."""
        self.touch()
        statement = self.find_statement(statement_id)
        if statement is None:
            return
        if statement.state == "waiting":
            statement.state = "cancelled"
            statement.completed = now_ms()
            statement.progress = 1.0
        elif statement.state == "running":
            statement.cancel_requested.set()

    async def progress_of(self, statement: Statement) -> float:
        """Progress computed on every GET, like Livy (from the Spark status tracker)."""
        if statement.state in ("running", "cancelling") and self.repl is not None:
            try:
                with anyio.move_on_after(2):
                    statement.progress = float(await self.repl.progress(statement.id))
            except Exception as exc:
                log.debug("progress failed", session=self.id, error=str(exc))
        return statement.progress

    def spark_submit_args(self) -> str:
        """Kept for introspection: what ``PYSPARK_SUBMIT_ARGS`` the REPL was given."""
        return self._env_extra.get("PYSPARK_SUBMIT_ARGS", "")


class SessionManager:
    """All interactive sessions: id counter, name index, runner tasks and the GC task."""

    def __init__(self, options: SandboxOptions, task_group: TaskGroup) -> None:
        self.options = options
        self._tg = task_group
        self.sessions: dict[int, Session] = {}
        self._ids = itertools.count()
        self.next_id = 0
        #: gives each new session an appId (``--recovery``: YARN-like ids); None: appId stays null
        self.app_ids: Callable[[int], str] | None = None

    def allocate_id(self) -> int:
        """Consume the next id (Livy consumes one per creation attempt, even rejected ones)."""
        ident = next(self._ids)
        self.next_id = ident + 1
        return ident

    def skip_ids_below(self, first: int) -> None:
        """Number new sessions from *first* on (recovered sessions keep theirs)."""
        if first > self.next_id:
            self._ids = itertools.count(first)
            self.next_id = first

    def add(self, session: Session) -> None:
        """Register *session* and start its runner."""
        if session.app_id is None and self.app_ids is not None:
            session.app_id = self.app_ids(session.id)
        self.sessions[session.id] = session
        self._tg.start_soon(self._run_session, session)

    async def _run_session(self, session: Session) -> None:
        try:
            await session.run()
        except Exception as exc:  # a bug must not take the whole sandbox down
            log.exception("session runner crashed", session=session.id, error=str(exc))
            session.server_state = "dead"
            session.stopped_at = time.monotonic()

    def lookup(self, key: str) -> Session | None:
        """By id (all digits) or by name."""
        return find_by_key(self.sessions, key)

    def spark_ui_of(self, app_id: str) -> str | None:
        """The Spark UI address of the active session whose application is *app_id*."""
        for session in self.sessions.values():
            if session.active and session.app_id == app_id and session.spark_ui_url:
                return session.spark_ui_url
        return None

    def name_taken(self, name: str) -> bool:
        """Duplicate check among sessions still listed (Livy checks its whole map)."""
        return any(s.name == name for s in self.sessions.values())

    async def delete(self, session: Session) -> None:
        """Stop and forget *session* (DELETE, heartbeat expiry, idle timeout)."""
        await session.stop()
        self.sessions.pop(session.id, None)

    async def gc_loop(self, on_tick: Callable[[], Any] | None = None) -> None:
        """Every check interval: heartbeat expiry, idle timeout, retention of dead sessions."""
        while True:
            await anyio.sleep(self.options.check_interval)
            await self.collect()
            if on_tick is not None:
                await on_tick()

    async def collect(self) -> None:
        """One GC pass (also used directly by tests through the check interval)."""
        now = time.monotonic()
        for session in list(self.sessions.values()):
            if session.active:
                if session.heartbeat_timeout > 0 and now - session.last_heartbeat > session.heartbeat_timeout:
                    log.info("session heartbeat expired", session=session.id)
                    await self.delete(session)
                    continue
                timeout = session.idle_timeout if session.idle_timeout is not None \
                    else self.options.session_timeout
                if (session.server_state == "running" and session.state != "error" and timeout > 0
                        and now - session.last_activity > timeout):
                    log.info("session idle timeout", session=session.id)
                    await self.delete(session)
            elif session.stopped_at is not None and now - session.stopped_at > self.options.state_retain:
                self.sessions.pop(session.id, None)

    async def aclose(self) -> None:
        """Stop every session (process trees included)."""
        await run_all_shielded([session.stop for session in self.sessions.values()])


def prepare_workdir(cwd: Path, files: list[Staged]) -> None:
    """Create a session's or batch's working directory and copy ``files`` into it under their
    name or ``#alias`` (directories recursively; a file that already is its own target is left
    alone)."""
    cwd.mkdir(parents=True, exist_ok=True)
    for staged in files:
        src, target = staged.path, cwd / staged.name
        if src.is_dir():
            shutil.copytree(src, target, dirs_exist_ok=True)
        elif src.resolve() != target.resolve():
            shutil.copy2(src, target)


class _Named(Protocol):
    name: str | None


N = TypeVar("N", bound=_Named)


def find_by_key(items: dict[int, N], key: str) -> N | None:
    """A session or batch by id (*key* all digits) or else by name, as Livy's ``{id}`` segments."""
    if key.isdigit():
        return items.get(int(key))
    for item in items.values():
        if item.name == key:
            return item
    return None


async def run_all_shielded(closers: list[Callable[[], Coroutine[Any, Any, None]]]) -> None:
    """Run every closer concurrently, shielded from cancellation (shutdown must finish)."""
    with anyio.CancelScope(shield=True):
        async with anyio.create_task_group() as tg:
            for closer in closers:
                tg.start_soon(closer)


def spark_submit_env(jars: list[Path], conf: dict[str, str], app_name: str) -> dict[str, str]:
    """The REPL's extra environment: the Spark app name (``LIVYD_SESSION_NAME``, read by the worker)
    and ``PYSPARK_SUBMIT_ARGS`` carrying jars and conf to the SparkSession it may create."""
    env = {"LIVYD_SESSION_NAME": app_name}
    if not jars and not conf:
        return env
    args: list[str] = ["--name", app_name]
    if jars:
        args += ["--jars", ",".join(str(j) for j in jars)]
    for key, value in conf.items():
        args += ["--conf", f"{key}={value}"]
    args.append("pyspark-shell")
    env["PYSPARK_SUBMIT_ARGS"] = " ".join(json.dumps(a) if " " in a else a for a in args)
    return env
