"""The async driver of one session's REPL worker process (``_replworker.py``).

One :class:`Repl` = one Python subprocess behaving like Livy's fake_shell.py. The server (the
session state machine and statement queue) calls :meth:`Repl.execute` for one statement at a
time and may call :meth:`Repl.progress`, :meth:`Repl.cancel_jobs`, :meth:`Repl.add_path` and
:meth:`Repl.interrupt` while a statement runs.

The hard parts
--------------
* **Three pipes, three reader threads.** The worker's fds 1 and 2 are the session's *driver
  log* (everything printed outside statement capture, the JVM's log lines, ``logging``); a
  separate pipe pair passed with ``pass_fds`` carries the JSON-lines control protocol. All three
  must be drained continuously or the worker (and its JVM) block on a full pipe, whoever is
  awaiting what. :meth:`start` returns a plain object, not a context manager, so there is no
  task group that could own background *tasks* across ``start()`` / ``aclose()`` (which may run in
  different tasks); plain daemon threads do the reading and hand every batch of lines to the
  event loop with ``anyio.from_thread.run_sync(..., token=...)``. So ``on_log`` and all state
  changes run on the event-loop thread, and ``on_log`` may touch anyio primitives.
* **Death.** EOF on the control pipe means the worker is gone. The reader then waits briefly
  for the stderr pipe to end too (so the tail is complete), and every pending request fails
  with :class:`ReplDied` carrying the last stderr lines. A statement that never answers because
  the worker was killed mid-statement therefore raises instead of hanging.
* **Cancellation.** If the coroutine awaiting :meth:`execute` is cancelled, the statement keeps
  running in the worker (as in Livy, where a forced ``cancelled`` leaves the code running);
  its late reply is dropped, and later statements queue behind it in the worker.
* **Process tree.** The worker is started in its own session (``start_new_session``), so its
  process group holds the JVM that pyspark launches; :meth:`aclose` signals the whole group
  (SIGTERM, then SIGKILL) under a shielded, bounded scope. :meth:`interrupt` signals the worker
  alone: pyspark makes its JVM ignore SIGINT anyway, and the worker's handler cancels the
  statement's Spark jobs itself.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import anyio
import anyio.from_thread
import anyio.lowlevel
import anyio.to_thread
import structlog

__all__ = ["WORKER_SCRIPT", "Repl", "ReplDied"]

log = structlog.get_logger(__name__)

#: The worker script, run by path (never imported as part of livyd).
WORKER_SCRIPT = Path(__file__).resolve().with_name("_replworker.py")

_STDERR_TAIL_LINES = 40
_CONTROL_TIMEOUT = 30.0
_TERM_GRACE = 3.0
_KINDS = {"pyspark": "pyspark", "python": "pyspark", "sql": "sql", "spark": "spark", "scala": "spark"}
#: Scala completion may first start Spark and the Scala compiler (tens of seconds on a busy machine).
_COMPLETE_TIMEOUT = 180.0
#: Errors of control requests (add_path) re-raised as themselves; anything else is a RuntimeError.
_ERROR_TYPES: dict[str, type[Exception]] = {
    t.__name__: t for t in (ValueError, OSError, FileNotFoundError, FileExistsError, IsADirectoryError,
                            NotADirectoryError, PermissionError)
}


class ReplDied(Exception):
    """The worker process died; :attr:`stderr_tail` holds the last lines of its stderr."""

    def __init__(self, message: str, stderr_tail: str = "") -> None:
        super().__init__(message)
        self.stderr_tail = stderr_tail


class _Pending:
    """A request waiting for its reply (completed on the event-loop thread)."""

    __slots__ = ("error", "event", "on_start", "result")

    def __init__(self, on_start: Callable[[int], None] | None = None) -> None:
        self.event = anyio.Event()
        self.result: Any = None
        self.error: BaseException | None = None
        self.on_start = on_start


class Repl:
    """One session's REPL worker process; create it with :meth:`start`."""

    def __init__(self, proc: subprocess.Popen[bytes], ctl_write_fd: int, ctl_read_fd: int,
                 on_log: Callable[[str, str], None]) -> None:
        self._proc = proc
        self._ctl_w = ctl_write_fd
        self._ctl_r = ctl_read_fd
        self._on_log = on_log
        self._token = anyio.lowlevel.current_token()
        self._ids = itertools.count(1)
        self._pending: dict[int, _Pending] = {}
        self._ready = anyio.Event()
        self._write_lock = anyio.Lock()
        self._stderr_tail: collections.deque[str] = collections.deque(maxlen=_STDERR_TAIL_LINES)
        self._dead = False
        self._closed = False
        self._threads: list[threading.Thread] = []
        self.pid = proc.pid
        self.worker_info: dict[str, Any] = {}
        #: ``{"app_id", "ui_url"}`` once the worker's SparkSession runs; *on_spark* is called then.
        self.spark_info: dict[str, Any] | None = None
        self.on_spark: Callable[[dict[str, Any]], None] | None = None

    # ------------------------------------------------------------------ life cycle

    @classmethod
    async def start(cls, *, python: str, cwd: Path, env: Mapping[str, str],
                    on_log: Callable[[str, str], None], sys_path: Sequence[str] = (),
                    ready_timeout: float = 60.0) -> Repl:
        """Start a worker with interpreter *python* in *cwd* and return once it is ready.

        *env* is the worker's complete environment. *on_log* receives ``(stream, line)`` for
        every line the process writes to its stdout or stderr (the session log), on the
        event-loop thread. *sys_path* entries are made importable before the first statement
        (like :meth:`add_path`; a bad entry is reported on the log, not raised). Raises
        :class:`ReplDied` if the worker exits before it is ready, and ``TimeoutError`` after
        *ready_timeout* seconds (the process is killed in both cases).
        """
        cmd = [python, str(WORKER_SCRIPT)]
        for p in sys_path:
            cmd += ["--path", str(p)]
        with anyio.CancelScope(shield=True):  # a process we started must not leak on cancel
            proc, ctl_w, ctl_r = await anyio.to_thread.run_sync(_spawn, cmd, Path(cwd), dict(env))
        self = cls(proc, ctl_w, ctl_r, on_log)
        self._start_threads()
        log.debug("repl.starting", pid=proc.pid, cwd=str(cwd))
        try:
            await anyio.lowlevel.checkpoint()
            with anyio.fail_after(ready_timeout):
                await self._ready.wait()
            if self._dead:
                raise ReplDied(f"the REPL process exited during start-up (exit code {proc.poll()})",
                               self.stderr_tail)
        except BaseException:
            with anyio.move_on_after(_TERM_GRACE * 2 + 2, shield=True):
                await self.aclose()
            raise
        return self

    def _start_threads(self) -> None:
        assert self._proc.stdout is not None and self._proc.stderr is not None
        stderr_thread = threading.Thread(
            target=self._read_log, args=("stderr", self._proc.stderr.fileno()),
            name=f"repl-{self.pid}-stderr", daemon=True)
        stdout_thread = threading.Thread(
            target=self._read_log, args=("stdout", self._proc.stdout.fileno()),
            name=f"repl-{self.pid}-stdout", daemon=True)
        ctl_thread = threading.Thread(
            target=self._read_control, args=(stderr_thread,), name=f"repl-{self.pid}-control", daemon=True)
        self._threads = [stderr_thread, stdout_thread, ctl_thread]
        for t in self._threads:
            t.start()

    @property
    def alive(self) -> bool:
        """True while the worker process runs and answers."""
        return not self._dead and not self._closed and self._proc.poll() is None

    @property
    def stderr_tail(self) -> str:
        """The last lines the worker (or its JVM) wrote to stderr."""
        return "\n".join(self._stderr_tail)

    async def aclose(self) -> None:
        """Terminate the worker's whole process group (worker and JVM) and reap it.

        Idempotent and cancel-safe: the cleanup runs shielded and bounded (SIGTERM, a grace of a
        few seconds, then SIGKILL).
        """
        if self._closed:
            return
        self._closed = True
        with anyio.CancelScope(shield=True):
            pgid = self._proc.pid
            self._signal_group(pgid, signal.SIGTERM)
            exited = await anyio.to_thread.run_sync(self._wait_group, pgid, _TERM_GRACE)
            if not exited:
                log.warning("repl.kill", pid=pgid)
                self._signal_group(pgid, signal.SIGKILL)
                await anyio.to_thread.run_sync(self._wait_group, pgid, _TERM_GRACE)
            with contextlib.suppress(OSError):
                os.close(self._ctl_w)
            for t in self._threads:
                await anyio.to_thread.run_sync(t.join, 2.0)
            for stream in (self._proc.stdout, self._proc.stderr):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()
            with contextlib.suppress(OSError):
                os.close(self._ctl_r)
            self._fail_pending(ReplDied("the REPL was closed", self.stderr_tail))
        log.debug("repl.closed", pid=self.pid)

    @staticmethod
    def _signal_group(pgid: int, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, sig)

    def _wait_group(self, pgid: int, timeout: float) -> bool:
        """Reap the worker, then wait until no process of its group is left (in a thread)."""
        try:
            self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not _group_alive(pgid):
                return True
            time.sleep(0.05)
        return False

    # ------------------------------------------------------------------ requests

    async def execute(self, statement_id: int, code: str, kind: str, *,
                      on_start: Callable[[int], None] | None = None) -> dict[str, Any]:
        """Run one statement; return Livy's ``output`` object (``execution_count`` = *statement_id*).

        *kind* is ``"pyspark"`` (alias ``"python"``), ``"sql"`` or ``"spark"`` (alias ``"scala"``,
        Spark's Scala REPL in the session's JVM); anything else raises
        ``ValueError``. *on_start*, if given, is called (on the event loop, with the epoch
        milliseconds) when the worker actually begins the statement, which is later than the
        call if an earlier statement is still running there. Raises :class:`ReplDied` if the
        worker is dead or dies before answering.
        """
        norm = _KINDS.get(kind)
        if norm is None:
            raise ValueError(f"unsupported statement kind {kind!r}: expected one of {sorted(_KINDS)}")
        result = await self._request(
            {"op": "execute", "statement_id": statement_id, "code": code, "kind": norm},
            limit=None, on_start=on_start)
        assert isinstance(result, dict)
        return result

    async def progress(self, statement_id: int) -> float:
        """done / total tasks of the statement's Spark job group; 0.0 without jobs or without Spark."""
        result = await self._request({"op": "progress", "statement_id": statement_id})
        return float(result)

    async def complete(self, code: str, cursor: int) -> list[str]:
        """Scala completion candidates at *cursor* (Spark's REPL completer in the worker)."""
        result = await self._request({"op": "complete", "code": code, "cursor": cursor},
                                     limit=_COMPLETE_TIMEOUT)
        return [str(c) for c in result]

    async def cancel_jobs(self, statement_id: int) -> None:
        """``sc.cancelJobGroup(str(statement_id))`` in the worker; a no-op before Spark exists."""
        await self._request({"op": "cancel_jobs", "statement_id": statement_id})

    def interrupt(self) -> None:
        """Send SIGINT to the worker: running code gets ``KeyboardInterrupt`` (ignored when idle)."""
        if self.alive:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._proc.pid, signal.SIGINT)

    async def add_path(self, path: str, *, extract: bool | None = None) -> None:
        """Make a local file importable in the session, or extract an archive into its cwd.

        ``.py`` files are copied into a directory on ``sys.path`` (like ``addPyFile``);
        ``.zip`` / ``.egg`` / ``.whl`` files and directories go on ``sys.path`` as they are.
        ``.tar.gz`` / ``.tgz`` / ``.tar`` archives, and any archive given as ``path#alias`` or
        with ``extract=True`` (e.g. a ``.zip`` from Livy's ``archives``), are extracted into
        ``cwd/<alias or file name>``, which then goes on ``sys.path``. Once Spark runs, pyFiles
        are also handed to ``sc.addPyFile`` so UDFs can import them. Raises
        ``FileNotFoundError`` / ``ValueError`` naming the path.
        """
        await self._request({"op": "add_path", "path": path, "extract": extract})

    async def _request(self, msg: dict[str, Any], *, limit: float | None = _CONTROL_TIMEOUT,
                       on_start: Callable[[int], None] | None = None) -> Any:
        if not self.alive:
            raise ReplDied("the REPL process is not running", self.stderr_tail)
        req_id = next(self._ids)
        pending = _Pending(on_start)
        self._pending[req_id] = pending
        data = json.dumps({"id": req_id, **msg}).encode() + b"\n"
        try:
            async with self._write_lock:
                try:
                    await anyio.to_thread.run_sync(self._write_all, data)
                except OSError as exc:
                    raise ReplDied("the REPL process is not running", self.stderr_tail) from exc
            if limit is None:
                await pending.event.wait()
            else:
                with anyio.fail_after(limit):
                    await pending.event.wait()
        finally:
            self._pending.pop(req_id, None)
        if pending.error is not None:
            raise pending.error
        return pending.result

    def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            n = os.write(self._ctl_w, view)
            view = view[n:]

    # ------------------------------------------------------------------ reader threads

    def _to_loop(self, fn: Callable[..., None], *args: Any) -> bool:
        """Run *fn* on the event-loop thread; False once the loop is gone."""
        try:
            anyio.from_thread.run_sync(fn, *args, token=self._token)
        except RuntimeError:
            return False
        return True

    def _read_log(self, stream: str, fd: int) -> None:
        partial = b""
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                break
            *complete, partial = (partial + chunk).split(b"\n")
            if complete:
                lines = [ln.rstrip(b"\r").decode("utf-8", "replace") for ln in complete]
                if stream == "stderr":
                    self._stderr_tail.extend(lines)
                if not self._to_loop(self._emit_log, stream, lines):
                    return
        if partial:
            line = partial.rstrip(b"\r").decode("utf-8", "replace")
            if stream == "stderr":
                self._stderr_tail.append(line)
            self._to_loop(self._emit_log, stream, [line])

    def _emit_log(self, stream: str, lines: list[str]) -> None:
        for line in lines:
            try:
                self._on_log(stream, line)
            except Exception:
                log.exception("repl.on_log_failed", pid=self.pid)

    def _read_control(self, stderr_thread: threading.Thread) -> None:
        with os.fdopen(self._ctl_r, "rb", closefd=False) as reader:
            for raw in reader:
                try:
                    msg = json.loads(raw)
                except ValueError:
                    log.warning("repl.bad_control_line", pid=self.pid)
                    continue
                if not self._to_loop(self._dispatch, msg):
                    return
        # EOF: the worker is gone (or closed). Let stderr finish so the tail is complete; the
        # JVM may hold it a little longer (it exits when its parent's pipe to it closes).
        stderr_thread.join(2.0)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._proc.wait(2.0)
        self._to_loop(self._on_dead)

    def _dispatch(self, msg: dict[str, Any]) -> None:
        if msg.get("ready"):
            self.worker_info = msg
            self._ready.set()
            return
        if msg.get("event") == "spark" and "id" not in msg:
            # The worker started its SparkSession: application id and Spark UI address.
            self.spark_info = {"app_id": msg.get("app_id"), "ui_url": msg.get("ui_url")}
            if self.on_spark is not None:
                try:
                    self.on_spark(self.spark_info)
                except Exception:
                    log.exception("repl.on_spark_failed", pid=self.pid)
            return
        pending = self._pending.get(msg.get("id", -1))
        if pending is None:
            # A late reply to a request whose waiter gave up (e.g. a statement forced to
            # "cancelled" that finished later); nothing waits for it any more.
            log.debug("repl.late_reply", pid=self.pid, id=msg.get("id"))
            return
        if msg.get("event") == "started":
            if pending.on_start is not None:
                try:
                    pending.on_start(int(msg.get("at", 0)))
                except Exception:
                    log.exception("repl.on_start_failed", pid=self.pid)
            return
        if "error" in msg:
            err = msg["error"] or {}
            etype = _ERROR_TYPES.get(str(err.get("type")), RuntimeError)
            pending.error = etype(str(err.get("message", "the REPL reported an error")))
        else:
            pending.result = msg.get("result")
        pending.event.set()

    def _on_dead(self) -> None:
        if not self._dead:
            self._dead = True
            if not self._closed:
                log.info("repl.died", pid=self.pid, returncode=self._proc.poll())
        self._ready.set()
        self._fail_pending(ReplDied(
            f"the REPL process died (exit code {self._proc.poll()})", self.stderr_tail))

    def _fail_pending(self, error: ReplDied) -> None:
        for pending in list(self._pending.values()):
            if not pending.event.is_set():
                pending.error = error
                pending.event.set()



def _spawn(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], int, int]:
    """Start the worker (in a thread: fork/exec blocks) with its two control pipes.

    Returns the process and the parent's ends: (fd to write requests, fd to read replies).
    """
    if not cwd.is_dir():
        raise FileNotFoundError(f"REPL working directory does not exist: {cwd}")
    to_worker_r, to_worker_w = os.pipe()
    from_worker_r, from_worker_w = os.pipe()
    cmd = [*cmd[:2], "--ctl-in", str(to_worker_r), "--ctl-out", str(from_worker_w), *cmd[2:]]
    try:
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            cwd=str(cwd), env=env, pass_fds=(to_worker_r, from_worker_w), start_new_session=True,
        )
    except OSError:
        os.close(to_worker_w)
        os.close(from_worker_r)
        raise
    finally:
        # The child's ends live in the child only.
        os.close(to_worker_r)
        os.close(from_worker_w)
    return proc, to_worker_w, from_worker_r


def _group_alive(pgid: int) -> bool:
    """Is any non-zombie process left in process group *pgid*?

    Orphans are reparented to PID 1, which in a container may never reap them; a zombie holds
    nothing, so it does not count. Reads /proc where there is one, else asks ``killpg(pgid, 0)``.
    """
    try:
        entries = os.listdir("/proc")
    except OSError:
        entries = []
    if not entries:
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # "pid (comm) state ppid pgrp ...": comm may contain spaces and parentheses.
        fields = stat[stat.rfind(b")") + 2:].split()
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] != b"Z":
            return True
    return False
