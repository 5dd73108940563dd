"""The sandbox's Python REPL worker: one process per interactive session, like Livy's fake_shell.py.

This file is run as a *script* (``python /path/to/_replworker.py --ctl-in R --ctl-out W``), never
imported as part of livyd: a session must start without importing livyd, httpx or pydantic. It
uses the standard library only, plus pyspark when it is installed (and only once code touches
``spark`` or ``sc``).

Channels
--------
* fds ``R`` / ``W`` (inherited through ``pass_fds``): the control channel, one JSON object per
  line. Requests carry ``id`` and ``op``; replies carry the same ``id`` and ``result`` or
  ``error``; an ``execute`` request also gets a ``{"id": n, "event": "started"}`` line when it
  actually begins (it may have waited behind an earlier statement that outlived its cancel).
* fds 1 and 2: "the driver log". Everything the process prints *outside* statement capture
  goes there, and so do the JVM's log lines (it inherits them), writes to ``sys.__stdout__`` /
  ``sys.__stderr__``, and the ``logging`` module (its root handler is bound to the real stderr
  at start-up, as fake_shell's ``logging.basicConfig()`` is, so a user's later
  ``logging.basicConfig()`` is a no-op and their records reach the session log).

Threads
-------
The **main thread** runs statements one at a time, in order (so SIGINT, which Python delivers to
the main thread, lands in user code as ``KeyboardInterrupt``; outside a statement it is ignored).
A **control thread** reads the control channel: ``execute`` requests are queued for the main
thread; ``progress``, ``cancel_jobs`` and ``add_path`` are answered at once, even while a
statement runs (py4j is thread safe).

fake_shell parity (livy-rest.md 7.9), and where we deliberately differ
---------------------------------------------------------------------
* The cell is parsed as a module; all nodes but the last run in ``exec`` mode, the last in
  ``single`` mode (echoes ``repr`` of a trailing expression). stdout and stderr are captured in
  two buffers and joined as stdout + stderr (not interleaved), trailing whitespace stripped.
* Tracebacks drop everything from our own frames down to the ``File "<stdin>", line N, in
  <module>`` frame. Syntax errors are formatted without a traceback header.
* Magics are recognised only when the cell does not compile. Reproduced quirk: a magic whose
  variable is missing (or ``%matplot`` failing, or a ``%table`` type conflict) *returns* an
  ``execute_reply`` error envelope that becomes the statement's data with status ``ok``.
* Deliberate improvements (real fake_shell kills the interpreter in these cases): a
  non-JSON-serialisable ``%json`` value, a ``%table`` list cell with mixed element types, and a
  ``%table`` type conflict on Python >= 3.10 (where fake_shell's ``format_exception(Exception,
  '<str>')`` itself raises) give an ordinary error output instead.
* fake_shell leaves a failed statement's stdout in its buffer, where it is prepended to the
  *next* statement's output; we discard it with the failed statement.
* ``__name__`` is ``"__main__"`` and the namespace is a real ``__main__`` module in
  ``sys.modules``, so user classes pickle; fake_shell's namespace has no ``__name__``.

``spark`` and ``sc`` are bound lazily: the namespace's ``__builtins__`` is a dict whose
``__missing__`` builds the SparkSession on first lookup (global lookups fall back to a
``__builtins__`` mapping through ``__getitem__`` when it is not an exact dict), so statements
that never touch Spark never start a JVM. ``LIVYD_REPL_SPARK=0`` in the environment makes the
worker behave as if pyspark were not installed (a plain-Python sandbox).
"""

from __future__ import annotations

import argparse
import ast
import base64
import builtins
import datetime
import decimal
import importlib
import importlib.util
import io
import itertools
import json
import logging
import math
import os
import queue
import re
import shlex
import shutil
import signal
import sys
import tarfile
import threading
import time
import traceback
import types
import warnings
import zipfile
from collections.abc import Callable, Iterable
from types import FrameType, TracebackType
from typing import Any, NoReturn

SPARK_HINT = (
    "name '{name}' is not defined: the sandbox runs plain Python; install livyd[spark] "
    "(pip install 'livyd[spark]') for a local SparkSession"
)
SQL_MAX_ROWS = 1000
#: recipes.md section 4: local mode, loopback only, small and quick to start. The Spark UI runs
#: (its REST API is what clients read jobs and stages from, as they would on a cluster) on a free
#: loopback port (0: Spark picks one; SPARK_LOCAL_IP keeps it on 127.0.0.1), without the console
#: progress bar (it would fill the driver log).
SPARK_DEFAULTS = {
    "spark.ui.enabled": "true",
    "spark.ui.port": "0",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.sql.shuffle.partitions": "1",
    "spark.driver.memory": "512m",
    "spark.driver.extraJavaOptions": "-XX:+UseSerialGC -XX:TieredStopAtLevel=1",
}
TABLE_MIME = "application/vnd.livy.table.v1+json"
#: Warnings only pyspark 4 emits, about APIs that behave as in the Spark 3 Livy runs on. They are
#: not the user's output: sparkmagic's %%sql parses every text/plain line of
#: ``df.toJSON().take(n)`` as a JSON record, and the first call of a session printed this one
#: into stderr (so into text/plain), breaking every notebook's first query.
PYSPARK4_ONLY_WARNINGS = (r"The return type of DataFrame\.toJSON will be changed",)
LOG = logging.getLogger("livyd.replworker")
#: What a pyspark session binds, made on first use (livy-rest.md 7.9: fake_shell's globals).
SPARK_NAMES = ("spark", "sc", "sqlContext")

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


# --------------------------------------------------------------------------- output shapes

def _format_error(exc_type: type[BaseException], exc: BaseException,
                  tb: TracebackType | None) -> list[str]:
    """Format like fake_shell: ``chain=False``, and cut our frames up to the ``<stdin>`` module frame."""
    lines = traceback.format_exception(exc_type, exc, tb, chain=False)
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        if stripped.startswith('File "<stdin>"') and line.split("\n", 1)[0].endswith("in <module>"):
            lines = lines[:1] + lines[i + 1:]
            break
    # Our SIGINT handler's frame ends a KeyboardInterrupt's traceback (Python's own handler is
    # C code and leaves none); it is not the user's business.
    return [ln for ln in lines if not ln.startswith(_OWN_FRAME)]


_OWN_FRAME = f'  File "{os.path.abspath(__file__)}", line '



def _graft(outer: TracebackType | None, inner: TracebackType | None) -> TracebackType | None:
    """*outer*'s frames down to where *inner* starts, then *inner*'s: the interrupt's whole path
    from the user's ``<stdin>`` frame, as if the cleanup that replaced it had never run."""
    if inner is None:
        return outer
    frames: list[TracebackType] = []
    tb = outer
    while tb is not None and tb.tb_frame is not inner.tb_frame:
        frames.append(tb)
        tb = tb.tb_next
    if tb is None:  # *inner* does not continue *outer*: keep it whole
        return inner
    grafted = inner
    for f in reversed(frames):
        grafted = TracebackType(grafted, f.tb_frame, f.tb_lasti, f.tb_lineno)
    return grafted


def error_content(exc_type: type[BaseException], exc: BaseException,
                  tb: TracebackType | None) -> dict[str, Any]:
    """``ename`` / ``evalue`` / ``traceback`` of an exception, as fake_shell renders them."""
    return {"ename": exc_type.__name__, "evalue": str(exc), "traceback": _format_error(exc_type, exc, tb)}


def error_output(statement_id: int, exc_type: type[BaseException], exc: BaseException,
                 tb: TracebackType | None) -> dict[str, Any]:
    """Livy's error output object for *exc*."""
    return {"status": "error", "execution_count": statement_id, **error_content(exc_type, exc, tb)}


def magic_error_envelope(exc_type: type[BaseException], exc: BaseException) -> dict[str, Any]:
    """What fake_shell's magics *return* on failure: a whole reply, later treated as mime data."""
    return {"msg_type": "execute_reply",
            "content": {**error_content(exc_type, exc, None), "status": "error"}}


def _json_safe(value: Any) -> Any:
    """Make SQL / table values JSON-ready: non-finite floats become strings as Jackson writes them."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    return value


# --------------------------------------------------------------------------- capture

class CaptureIO(io.StringIO):
    """fake_shell's UnicodeDecodingStringIO: a text buffer that also accepts bytes."""

    def write(self, s: Any) -> int:
        if isinstance(s, bytes | bytearray):
            s = bytes(s).decode("utf-8", errors="replace")
        return super().write(s)


# --------------------------------------------------------------------------- cells

class ExecutionError(Exception):
    """User code raised; carries its exc_info."""

    def __init__(self, exc_info: ExcInfo) -> None:
        super().__init__()
        self.exc_info = exc_info


class UnknownMagic(Exception):
    """A ``%`` line that names no known magic (the class name is what clients see)."""


class MagicFailed(Exception):
    """A magic failed in a way we report as a real error output (see the module docstring)."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


class NormalNode:
    """A chunk of Python: all top-level nodes but the last exec'd, the last in 'single' mode."""

    def __init__(self, code: str) -> None:
        # dont_inherit: this file's own __future__ flags must not leak into user code.
        tree = compile(code, "<stdin>", "exec", ast.PyCF_ONLY_AST, True)
        assert isinstance(tree, ast.Module)
        self.tree = tree

    def execute(self, worker: Worker) -> dict[str, Any] | None:
        to_exec, to_single = self.tree.body[:-1], self.tree.body[-1:]
        try:
            for node in to_exec:
                exec(compile(ast.Module([node], []), "<stdin>", "exec", dont_inherit=True), worker.ns)
            for node in to_single:
                exec(compile(ast.Interactive([node]), "<stdin>", "single", dont_inherit=True), worker.ns)
        except BaseException:  # everything user code raises, SystemExit and KeyboardInterrupt included
            exc_type, exc, tb = sys.exc_info()
            assert exc_type is not None and exc is not None
            raise ExecutionError((exc_type, exc, tb)) from None
        return None


class MagicNode:
    """One ``%name rest`` line."""

    def __init__(self, line: str) -> None:
        parts = line[1:].split(" ", 1)
        self.magic = parts[0]
        self.rest: tuple[str, ...] = tuple(parts[1:])

    def execute(self, worker: Worker) -> dict[str, Any] | None:
        if not self.magic:
            raise UnknownMagic("magic command not specified")
        handler = worker.magics.get(self.magic)
        if handler is None:
            raise UnknownMagic(f"unknown magic command '{self.magic}'")
        return handler(*self.rest)


Node = NormalNode | MagicNode


def parse_code_into_nodes(code: str) -> list[Node]:
    """fake_shell's parser: the whole cell, or (if it does not compile) runs of code and % lines."""
    try:
        return [NormalNode(code)]
    except SyntaxError:
        pass
    chunks: list[str] = []
    normal: list[str] = []
    for line in code.rstrip().split("\n"):
        if line.startswith("%"):
            if normal:
                chunks.append("\n".join(normal))
                normal = []
            chunks.append(line)
        else:
            normal.append(line)
    if normal:
        chunks.append("\n".join(normal))
    # A chunk of normal code that still does not compile raises SyntaxError here, as in Livy.
    return [MagicNode(c) if c.startswith("%") else NormalNode(c) for c in chunks]


# --------------------------------------------------------------------------- %table

def _table_convert(value: Any) -> tuple[str, Any]:
    # Exact type lookup as in fake_shell (a bool is not an int here, numpy scalars are strings).
    converter = _TABLE_TYPES.get(type(value), _TABLE_TYPES[str])
    return converter(value)


def _table_convert_seq(items: Iterable[Any]) -> tuple[str, Any]:
    last: str | None = None
    out = []
    for item in items:
        item_type, item = _table_convert(item)
        if last is None:
            last = item_type
        elif last != item_type:
            raise ValueError("value has inconsistent types")
        out.append(item)
    return "ARRAY_TYPE", out


def _table_convert_map(m: dict[Any, Any]) -> tuple[str, Any]:
    # fake_shell iterates the dict itself (keys) and compares the wrong types; this is the intent.
    key_t: str | None = None
    val_t: str | None = None
    out: dict[Any, Any] = {}
    for key, value in m.items():
        kt, key = _table_convert(key)
        vt, value = _table_convert(value)
        if key_t is None:
            key_t = kt
        elif key_t != kt:
            raise ValueError("value has inconsistent types")
        if val_t is None:
            val_t = vt
        elif val_t != vt:
            raise ValueError("value has inconsistent types")
        out[key] = value
    return "MAP_TYPE", out


_TABLE_TYPES: dict[type, Callable[[Any], tuple[str, Any]]] = {
    type(None): lambda x: ("NULL_TYPE", x),
    bool: lambda x: ("BOOLEAN_TYPE", x),
    int: lambda x: ("INT_TYPE", x),
    float: lambda x: ("DOUBLE_TYPE", x),
    str: lambda x: ("STRING_TYPE", str(x)),
    datetime.date: lambda x: ("DATE_TYPE", str(x)),
    datetime.datetime: lambda x: ("TIMESTAMP_TYPE", str(x)),
    decimal.Decimal: lambda x: ("DECIMAL_TYPE", str(x)),
    tuple: _table_convert_seq,
    list: _table_convert_seq,
    dict: _table_convert_map,
}


# --------------------------------------------------------------------------- SQL values

def _sql_value(v: Any) -> Any:
    """A Spark value as JSON (what Livy's json4s ``Extraction.decompose`` would give, roughly)."""
    if v is None or isinstance(v, bool | int | str):
        return v
    if isinstance(v, float):
        return _json_safe(v)
    if isinstance(v, decimal.Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    if isinstance(v, datetime.datetime | datetime.date):
        return v.isoformat(sep=" ") if isinstance(v, datetime.datetime) else v.isoformat()
    if isinstance(v, bytes | bytearray):
        return list(bytes(v))
    if hasattr(v, "asDict"):  # a nested Row (struct): keep its field names
        return {k: _sql_value(x) for k, x in v.asDict().items()}
    if isinstance(v, dict):
        return {str(k): _sql_value(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_sql_value(x) for x in v]
    return str(v)


def submit_args_conf(submit_args: str) -> dict[str, str]:
    """The ``--conf k=v`` (and ``--name``) settings in a ``PYSPARK_SUBMIT_ARGS`` string."""
    try:
        words = shlex.split(submit_args)
    except ValueError:
        return {}
    conf: dict[str, str] = {}
    for flag, value in itertools.pairwise(words):
        if flag == "--conf" and "=" in value:
            key, _, val = value.partition("=")
            conf[key] = val
        elif flag == "--name":
            conf["spark.app.name"] = value
        elif flag == "--master":
            conf["spark.master"] = value
    return conf


# --------------------------------------------------------------------------- channel

class Channel:
    """JSON lines over the two control fds; ``send`` is safe from any thread."""

    def __init__(self, fd_in: int, fd_out: int) -> None:
        self._in = os.fdopen(fd_in, "rb")
        self._out = os.fdopen(fd_out, "wb", buffering=0)
        self._lock = threading.Lock()

    def lines(self) -> Iterable[bytes]:
        while True:
            line = self._in.readline()
            if not line:
                return
            yield line

    def send(self, msg: dict[str, Any]) -> None:
        try:
            # Lone surrogates (print('\\udcff')) would make the server's UTF-8 JSON fail: '?'.
            data = json.dumps(msg, allow_nan=False, ensure_ascii=False).encode("utf-8", "replace") + b"\n"
        except (TypeError, ValueError) as exc:
            # Cannot happen for outputs we built ourselves; never let it kill the interpreter.
            data = json.dumps({"id": msg.get("id"), "result": {
                "status": "error", "execution_count": msg.get("statement_id", 0),
                "ename": "InternalError", "evalue": f"cannot serialise the output: {exc}",
                "traceback": []}}).encode() + b"\n"
        with self._lock:
            try:
                self._out.write(data)
            except (BrokenPipeError, OSError):
                os._exit(0)  # the driver is gone: nobody will read anything we produce


# --------------------------------------------------------------------------- the worker

class LazyBuiltins(dict[str, Any]):
    """``__builtins__`` for the user namespace: ``spark`` / ``sc`` / ``sqlContext`` are made on
    first lookup."""

    def __init__(self, worker: Worker) -> None:
        super().__init__(builtins.__dict__)
        self._worker = worker

    def __missing__(self, name: str) -> Any:
        if name in SPARK_NAMES:
            self._worker.ensure_spark(name)
            return self._worker.spark_globals()[name]
        raise KeyError(name)


class Worker:
    """State of one REPL: the user namespace, the (optional) SparkSession and the statement queue."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.real_stdout = sys.stdout
        self.real_stderr = sys.stderr
        self.queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.module = types.ModuleType("__main__")
        self.ns: dict[str, Any] = self.module.__dict__
        self.ns["__builtins__"] = LazyBuiltins(self)
        self.spark: Any = None
        self.sc: Any = None
        self.sql_context: Any = None
        self.spark_lock = threading.Lock()
        self.executing = False
        self.current_statement: int | None = None
        self.interrupted = False  # a SIGINT landed in the current statement
        self.pending_pyfiles: list[str] = []
        self.pyfiles_dir = os.path.join(os.getcwd(), ".livyd-pyfiles")
        self.scala = ScalaInterpreter(self)
        self.in_jvm = False  # a Scala statement is running (SIGINT only cancels its jobs)
        self.magics: dict[str, Callable[..., dict[str, Any] | None]] = {
            "json": self.magic_json, "table": self.magic_table, "matplot": self.magic_matplot,
        }

    # ---------------------------------------------------------------- Spark

    def ensure_spark(self, name: str = "spark") -> Any:
        """Create the local SparkSession (once); NameError with an install hint without pyspark."""
        with self.spark_lock:
            if self.spark is not None:
                return self.spark
            if os.environ.get("LIVYD_REPL_SPARK", "1") == "0" or importlib.util.find_spec("pyspark") is None:
                raise NameError(SPARK_HINT.format(name=name))
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
            os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)

            LOG.warning("livyd sandbox: starting a local SparkSession")
            # Start-up chatter (pyspark's warnings, py4j) belongs to the driver log, not to the
            # output of the statement that happened to touch `spark` first.
            captured = sys.stdout, sys.stderr
            sys.stdout, sys.stderr = self.real_stdout, self.real_stderr
            try:
                spark = self._build_session()
            finally:
                sys.stdout, sys.stderr = captured
            for message in PYSPARK4_ONLY_WARNINGS:
                warnings.filterwarnings("ignore", message=message, category=UserWarning)
            sc = spark.sparkContext
            # SparkContext installs its own SIGINT handler (cancel all jobs, raise always); ours
            # raises only inside a statement and cancels that statement's job group.
            if threading.current_thread() is threading.main_thread():
                signal.signal(signal.SIGINT, self.on_sigint)
            for path in self.pending_pyfiles:
                sc.addPyFile(path)
            self.pending_pyfiles.clear()
            self.spark, self.sc = spark, sc
            self._announce_spark(sc)
            self.sql_context = self._sql_context(spark)
            self.ns.update(self.spark_globals())
            if self.current_statement is not None:
                self.set_job_group(self.current_statement)
            return spark

    def _announce_spark(self, sc: Any) -> None:
        """Tell the server the application id and the Spark UI's address (Livy's appId/appInfo)."""
        try:
            info = {"app_id": str(sc.applicationId), "ui_url": sc.uiWebUrl}
        except Exception:  # never let this fail a statement
            LOG.exception("reading the Spark application id / UI address failed")
            return
        LOG.warning("livyd sandbox: SparkSession %s started; Spark UI at %s", info["app_id"], info["ui_url"])
        self.channel.send({"event": "spark", **info})

    def spark_globals(self) -> dict[str, Any]:
        return {"spark": self.spark, "sc": self.sc, "sqlContext": self.sql_context}

    @staticmethod
    def _sql_context(spark: Any) -> Any:
        """Livy's fake_shell also binds ``sqlContext`` (an SQLContext over the same session);
        pyspark deprecates the class, so its warning is kept out of the user's output."""
        from pyspark.sql import SQLContext

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return SQLContext(spark.sparkContext, spark)

    @staticmethod
    def _build_session() -> Any:
        """A local, loopback-only SparkSession; conf from ``PYSPARK_SUBMIT_ARGS`` wins over ours."""
        from pyspark.sql import SparkSession

        user = submit_args_conf(os.environ.get("PYSPARK_SUBMIT_ARGS", ""))
        master = user.get("spark.master", "local[1]")
        if not master.startswith("local"):
            LOG.warning("livyd sandbox: spark.master=%s ignored; the sandbox runs Spark locally", master)
            master = "local[1]"
        builder = SparkSession.builder.master(master)
        if "spark.app.name" not in user:
            builder = builder.appName(os.environ.get("LIVYD_SESSION_NAME", "livyd-sandbox"))
        for key, value in SPARK_DEFAULTS.items():
            if key not in user:
                builder = builder.config(key, value)
        if "spark.repl.class.outputDir" not in user:
            # Where Scala statements' classes go, so executors can load them (set before the
            # SparkContext exists: the executor's class loader is made from it).
            out_dir = os.path.join(os.getcwd(), ".livyd-repl-classes")
            os.makedirs(out_dir, exist_ok=True)
            builder = builder.config("spark.repl.class.outputDir", out_dir)
        return builder.getOrCreate()

    def set_job_group(self, statement_id: int) -> None:
        if self.sc is not None:
            self.sc.setJobGroup(str(statement_id), f"livyd statement {statement_id}", True)

    def progress(self, statement_id: int) -> float:
        """Completed / total tasks over all stages of the statement's job group (0.0 without jobs)."""
        sc = self.sc
        if sc is None:
            return 0.0
        tracker = sc.statusTracker()
        done = total = 0
        for job_id in tracker.getJobIdsForGroup(str(statement_id)):
            job = tracker.getJobInfo(job_id)
            if job is None:
                continue
            for stage_id in job.stageIds:
                stage = tracker.getStageInfo(stage_id)
                if stage is not None:
                    total += stage.numTasks
                    done += stage.numCompletedTasks
        return done / total if total else 0.0

    def cancel_jobs(self, statement_id: int) -> None:
        if self.sc is not None:
            self.sc.cancelJobGroup(str(statement_id))

    def on_sigint(self, signum: int, frame: FrameType | None) -> None:
        if not self.executing:
            self.real_stderr.write("livyd repl: SIGINT outside a statement ignored\n")
            return
        self.interrupted = True
        sid = self.current_statement
        if self.sc is not None and sid is not None:
            threading.Thread(target=self._cancel_quietly, args=(sid,), daemon=True).start()
        if self.in_jvm:
            return  # a Scala statement: the main thread waits on py4j, which must not be torn
        raise KeyboardInterrupt

    def _cancel_quietly(self, statement_id: int) -> None:
        try:
            self.cancel_jobs(statement_id)
        except Exception:
            LOG.exception("cancelJobGroup after SIGINT failed")

    # ---------------------------------------------------------------- paths

    def add_path(self, path: str, extract: bool | None = None) -> str:
        """Make *path* importable, or extract an archive into cwd; returns the sys.path entry."""
        alias: str | None = None
        if "#" in path:
            path, alias = path.split("#", 1)
            if not alias or "/" in alias or alias in (".", ".."):
                raise ValueError(f"add_path: bad archive alias {alias!r} in {path!r}")
            if extract is None:
                extract = True
        full = os.path.abspath(path)
        if not os.path.exists(full):
            raise FileNotFoundError(f"add_path: no such file or directory: {full}")
        lower = full.lower()
        is_tar = lower.endswith((".tar.gz", ".tgz", ".tar"))
        if extract is None:
            extract = is_tar
        if extract:
            if not (is_tar or lower.endswith(".zip")):
                raise ValueError(f"add_path: cannot extract {full}: "
                                 "archives must be .zip, .tar.gz, .tgz or .tar")
            # YARN links an archive under its file name unless '#alias' names the directory.
            dest = os.path.join(os.getcwd(), alias or os.path.basename(full))
            if os.path.realpath(dest) == os.path.realpath(full):
                # The archive sits where its directory must go (uploaded into cwd): move it aside.
                aside = os.path.join(os.getcwd(), ".livyd-archives")
                os.makedirs(aside, exist_ok=True)
                moved = os.path.join(aside, os.path.basename(full))
                os.replace(full, moved)
                full = moved
            if os.path.exists(dest):
                shutil.rmtree(dest) if os.path.isdir(dest) else os.unlink(dest)
            os.makedirs(dest)
            try:
                self._extract(full, dest, is_tar)
            except ValueError:
                shutil.rmtree(dest, ignore_errors=True)
                raise
            except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as exc:
                shutil.rmtree(dest, ignore_errors=True)
                raise ValueError(f"add_path: {full} is not a valid archive: {exc}") from None
            entry = dest
        elif lower.endswith(".py") and os.path.isfile(full):
            # Like SparkContext.addPyFile: copy the module into a directory that is on sys.path.
            os.makedirs(self.pyfiles_dir, exist_ok=True)
            shutil.copy(full, self.pyfiles_dir)
            entry = self.pyfiles_dir
            self._add_pyfile(full)
        elif os.path.isdir(full) or lower.endswith((".zip", ".egg", ".whl")):
            entry = full
            if not os.path.isdir(full):
                self._add_pyfile(full)
        else:
            raise ValueError(f"add_path: {full} is not importable: expected a .py, .zip, .egg or .whl "
                             "file, a directory, or a .tar.gz/.tgz/.tar archive")
        if entry not in sys.path:
            sys.path.insert(0, entry)
        importlib.invalidate_caches()
        return entry

    @staticmethod
    def _extract(full: str, dest: str, is_tar: bool) -> None:
        if is_tar:
            with tarfile.open(full) as tf:
                tf.extractall(dest, filter="data")  # refuses absolute paths, '..', devices
            return
        with zipfile.ZipFile(full) as zf:
            root = os.path.realpath(dest)
            for member in zf.namelist():
                target = os.path.realpath(os.path.join(dest, member))
                if not (target == root or target.startswith(root + os.sep)):
                    raise ValueError(f"add_path: {full} has a member outside the archive: {member!r}")
            zf.extractall(dest)

    def _add_pyfile(self, path: str) -> None:
        """Spark's Python workers need pyFiles too (UDFs importing them)."""
        with self.spark_lock:
            if self.sc is None:
                self.pending_pyfiles.append(path)
                return
        self.sc.addPyFile(path)

    # ---------------------------------------------------------------- magics

    def _lookup(self, name: str) -> Any:
        return self.ns[name]  # KeyError -> envelope, as in fake_shell

    def magic_json(self, name: str = "") -> dict[str, Any]:
        try:
            value = self._lookup(name)
        except KeyError as exc:
            return magic_error_envelope(KeyError, exc)
        try:
            # Deliberate improvement: fake_shell only guards against ValueError, so on Python 3 a
            # set/bytes/numpy value raises TypeError out of its main loop and the interpreter dies.
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise MagicFailed(exc) from None
        return {"application/json": value}

    def magic_table(self, name: str = "") -> dict[str, Any]:
        try:
            value = self._lookup(name)
        except KeyError as exc:
            return magic_error_envelope(KeyError, exc)
        if not isinstance(value, list | tuple):
            value = [value]
        headers: dict[Any, dict[str, str]] = {}
        data: list[list[Any]] = []
        try:
            for row in value:
                cols: list[Any] = []
                data.append(cols)
                if type(row).__name__ == "Row":
                    row = row.asDict()
                if not isinstance(row, list | tuple | dict):
                    row = [row]
                items = enumerate(row) if isinstance(row, list | tuple) else sorted(row.items())
                for col_name, col in items:
                    col_type, col = _table_convert(col)
                    header = headers.get(col_name)
                    if header is None:
                        headers[col_name] = {"name": str(col_name), "type": col_type}
                    elif col_type != "NULL_TYPE" and header["type"] != col_type:
                        if header["type"] == "NULL_TYPE":
                            header["type"] = col_type
                        else:
                            # fake_shell's own formatting of this crashes on Python >= 3.10; we
                            # give the envelope the issue describes, with a sane traceback line.
                            conflict = Exception("table rows have different types")
                            return magic_error_envelope(Exception, conflict)
                    cols.append(col)
        except ValueError as exc:  # mixed element types in a list cell (fake_shell: interpreter dies)
            raise MagicFailed(exc) from None
        return {TABLE_MIME: {"headers": [h for _, h in sorted(headers.items())],
                             "data": _json_safe(data)}}

    def magic_matplot(self, name: str = "") -> dict[str, Any]:
        try:
            found = importlib.util.find_spec("matplotlib") is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            raise MagicFailed(ModuleNotFoundError(
                "%matplot needs matplotlib, which is not installed in the session's Python "
                "(pip install matplotlib)"))
        try:
            value = self._lookup(name)
            fig = value.gcf()
            buf = io.BytesIO()
            fig.savefig(buf, format="png")
            encoded = base64.b64encode(buf.getvalue()).decode()
        except Exception as exc:
            return magic_error_envelope(type(exc), exc)
        return {"image/png": encoded, "text/plain": ""}

    # ---------------------------------------------------------------- statements

    def execute(self, statement_id: int, code: str, kind: str) -> dict[str, Any]:
        """Run one statement on the main thread; returns Livy's output object."""
        self.current_statement = statement_id
        self.interrupted = False
        try:
            if self.sc is not None:
                self.set_job_group(statement_id)
            if kind == "sql":
                return self.run_sql(statement_id, code)
            if kind == "spark":
                return self.scala.run(statement_id, code)
            return self.run_python(statement_id, code)
        finally:
            self.current_statement = None

    def run_python(self, sid: int, code: str) -> dict[str, Any]:
        try:
            nodes = parse_code_into_nodes(code)
        except SyntaxError as exc:
            return error_output(sid, type(exc), exc, None)
        out, err = CaptureIO(), CaptureIO()
        result: dict[str, Any] | None = None
        sys.stdout, sys.stderr = out, err
        try:
            self.executing = True
            try:
                for node in nodes:
                    result = node.execute(self)
            finally:
                self.executing = False
        except ExecutionError as exc:
            return error_output(sid, *self.interrupt_first(exc.exc_info))
        except UnknownMagic as exc:
            return error_output(sid, type(exc), exc, None)
        except MagicFailed as exc:
            return error_output(sid, type(exc.error), exc.error, None)
        except BaseException as exc:  # e.g. KeyboardInterrupt inside a magic, or in our own frames
            return error_output(sid, type(exc), exc, exc.__traceback__)
        finally:
            sys.stdout, sys.stderr = self.real_stdout, self.real_stderr
        data = dict(result or {})
        text = str(data.pop("text/plain", "")) + out.getvalue() + err.getvalue()
        text = text.rstrip()
        if text or not data:
            data["text/plain"] = text
        return {"status": "ok", "execution_count": sid, "data": data}

    def interrupt_first(self, exc_info: ExcInfo) -> ExcInfo:
        """After a SIGINT, report the ``KeyboardInterrupt`` rather than what cleanup raised on top.

        pyspark runs py4j calls in ``finally``/``__exit__`` blocks (``SCCallSiteSync``); when the
        interrupt lands mid-call, py4j drops that connection and the cleanup call can fail with
        ``Py4JNetworkError`` while reconnecting, hiding the interrupt the user asked for.
        """
        if not self.interrupted or issubclass(exc_info[0], KeyboardInterrupt):
            return exc_info
        seen: set[int] = set()
        cause: BaseException | None = exc_info[1].__context__
        while cause is not None and id(cause) not in seen:
            if isinstance(cause, KeyboardInterrupt):
                return type(cause), cause, _graft(exc_info[2], cause.__traceback__)
            seen.add(id(cause))
            cause = cause.__context__
        return exc_info

    def run_sql(self, sid: int, code: str) -> dict[str, Any]:
        try:
            self.executing = True
            try:
                spark = self.ensure_spark("spark")
                df = spark.sql(code)
                rows = df.take(SQL_MAX_ROWS)
                schema = df.schema.jsonValue()
            finally:
                self.executing = False
        except BaseException as exc:
            desc = getattr(exc, "_desc", None) or str(exc)
            stack = str(getattr(exc, "_stackTrace", "") or "")
            frames = [ln.strip()[3:] for ln in stack.splitlines() if ln.strip().startswith("at ")]
            return {"status": "error", "execution_count": sid, "ename": "Error",
                    "evalue": desc, "traceback": frames}
        data = [[_sql_value(v) for v in row] for row in rows]
        return {"status": "ok", "execution_count": sid,
                "data": {"application/json": {"schema": schema, "data": data}}}

    def stop(self) -> None:
        if self.spark is not None:
            try:
                self.spark.stop()
            except Exception:
                LOG.exception("stopping the SparkSession failed")


# --------------------------------------------------------------------------- Scala (kind spark)

#: Livy's Scala magic lines: ``%name rest``.
SCALA_MAGIC = re.compile(r"^%(\w+)\W*(.*)$")
SCALA_TABLE_ROWS = 10_000


class ScalaInterpreter:
    """Spark's Scala REPL (``scala.tools.nsc.interpreter.IMain`` from pyspark's bundled
    ``scala-compiler``/``spark-repl`` jars) inside the session's own JVM, driven through py4j.

    Like Livy's SparkInterpreter: class-based wrappers compiled into ``spark.repl.class.outputDir``
    (set on the SparkSession, so executors load the REPL's classes), ``spark`` and ``sc`` bound to
    the session's SparkSession/SparkContext, ``Console.out``/``err`` captured per statement. py4j
    runs each Python thread's calls on one JVM thread, so the statement's job group (set on the
    main thread) is the one its Spark jobs carry, and cancelJobGroup cancels them.
    """

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.intp: Any = None
        self.lock = threading.Lock()
        self.scala_213 = True

    def ensure(self) -> Any:
        with self.lock:
            if self.intp is not None:
                return self.intp
            spark = self.worker.ensure_spark("spark")
            jvm = spark._jvm
            out_dir = spark.sparkContext.getConf().get("spark.repl.class.outputDir", "")
            settings = jvm.scala.tools.nsc.Settings()
            # Scala 2.13 flags auto-application (``df.collect``) and other 2.12-era idioms as
            # deprecated, adding a summary line to the output; Livy's Scala 2.12 REPL does not, and
            # clients parse that output (pylivy's download), so deprecations stay silent.
            args = "-Yrepl-class-based -usejavacp -Wconf:cat=deprecation:s" + (
                f" -Yrepl-outdir {out_dir}" if out_dir else "")
            settings.processArgumentString(args)
            self.reporter_text = jvm.java.io.StringWriter()
            writer = jvm.java.io.PrintWriter(self.reporter_text, True)
            try:  # Scala 2.13 (pyspark 4): IMain(settings, ReplReporter)
                reporter = jvm.scala.tools.nsc.interpreter.shell.ReplReporterImpl(settings, writer)
                intp = jvm.scala.tools.nsc.interpreter.IMain(settings, reporter)
                intp.initializeCompiler()
                self.scala_213 = True
            except Exception:  # Scala 2.12 (pyspark 3.5): IMain(settings, PrintWriter)
                intp = jvm.scala.tools.nsc.interpreter.IMain(settings, writer)
                intp.initializeSynchronous()
                self.scala_213 = False
            # Console.out/err (println, the REPL's echo of side effects) into our buffer: the
            # DynamicVariables behind scala.Console, set for this (pinned) JVM thread.
            self.console_buffer = jvm.java.io.ByteArrayOutputStream()
            stream = jvm.java.io.PrintStream(self.console_buffer, True, "UTF-8")
            klass = jvm.java.lang.Class.forName("scala.Console$")
            console = klass.getField("MODULE$").get(None)
            for name in ("outVar", "errVar"):
                field = klass.getDeclaredField(name)
                field.setAccessible(True)
                getattr(field.get(console), "value_$eq")(stream)
            self.stream = stream
            formats = jvm.java.lang.Class.forName("org.json4s.DefaultFormats$")
            self.formats = formats.getField("MODULE$").get(None)
            self.jvm = jvm
            self.intp = intp
            self._interpret("val spark = org.apache.spark.sql.SparkSession.builder().getOrCreate()\n"
                            "val sc = spark.sparkContext")
            return intp

    def _interpret(self, code: str) -> tuple[str, str]:
        result = self.intp.interpret(code).toString()
        self.stream.flush()
        echo = self.reporter_text.toString()
        if self.scala_213 and result == "Success":
            echo = echo_as_scala_212(echo)
        text = self.console_buffer.toString("UTF-8") + echo
        self.console_buffer.reset()
        self.reporter_text.getBuffer().setLength(0)
        return result, text

    def run(self, sid: int, code: str) -> dict[str, Any]:
        """Livy's Scala output rules (livy-rest.md 7.10) for one cell."""
        try:
            self.ensure()
        except Exception as exc:  # no pyspark, or a REPL this code does not know: Livy's answer
            LOG.exception("livyd repl: the Scala interpreter did not start")
            return {"status": "error", "execution_count": sid, "ename": "InterpreterError",
                    "evalue": "Fail to start interpreter", "traceback": [str(exc).strip() + "\n"]}
        try:
            return self._run(sid, code)
        except Exception as exc:  # py4j or JVM trouble outside the user's code
            return {"status": "error", "execution_count": sid,
                    "ename": f"Internal Error: {type(exc).__name__}", "evalue": str(exc).strip(),
                    "traceback": []}

    def _run(self, sid: int, code: str) -> dict[str, Any]:
        chunks: list[tuple[str, str]] = []  # ("code", text) | ("magic", line)
        pending: list[str] = []
        for line in code.splitlines():
            if SCALA_MAGIC.match(line.strip()):
                if pending:
                    chunks.append(("code", "\n".join(pending)))
                    pending = []
                chunks.append(("magic", line.strip()))
            else:
                pending.append(line)
        if pending:
            chunks.append(("code", "\n".join(pending)))
        data: dict[str, Any] = {"text/plain": ""}
        self.worker.executing = self.worker.in_jvm = True
        try:
            for what, text in chunks:
                if what == "magic":
                    reply = self.magic(text)
                    if "ename" in reply:
                        return {"status": "error", "execution_count": sid, **reply}
                    data = reply
                    continue
                status, out = self._interpret(text)
                if status == "Incomplete" or (status == "Error" and not out.strip()):
                    # A cell of comments only is "incomplete" (or an empty error): wrapped in
                    # braces it compiles, as Livy checks; real incomplete code still fails.
                    wrapped, _ = self._interpret("{\n" + text + "\n}")
                    if wrapped != "Success":
                        return {"status": "error", "execution_count": sid, "ename": "Error",
                                "evalue": "incomplete statement", "traceback": []}
                    status, out = "Success", ""
                if status == "Error":
                    return {"status": "error", "execution_count": sid, **scala_error(out)}
                previous = data.get("text/plain", "") if list(data) == ["text/plain"] else ""
                data = {"text/plain": str(previous) + out}
        finally:
            self.worker.executing = self.worker.in_jvm = False
        return {"status": "ok", "execution_count": sid, "data": data}

    def value(self, name: str) -> Any:
        """The JSON value of the Scala term *name* (json4s, as Livy's magics), or KeyError."""
        option = self.intp.valueOfTerm(name)
        if not option.isDefined():
            raise KeyError(name)
        value = option.get()
        rdd = self.jvm.java.lang.Class.forName("org.apache.spark.rdd.RDD")
        if value is not None and rdd.isInstance(value):
            value = value.take(10)  # Livy takes an RDD's first 10 elements
        return json.loads(self.jvm.org.json4s.jackson.Serialization.write(value, self.formats))

    def magic(self, line: str) -> dict[str, Any]:
        match = SCALA_MAGIC.match(line)
        assert match is not None
        name, rest = match.group(1), match.group(2).strip()
        if name not in ("json", "table"):
            return {"ename": "Error", "evalue": f"Unknown magic command {name}", "traceback": []}
        try:
            value = self.value(rest)
        except KeyError:
            return {"ename": "NameError", "evalue": f"Value {rest} does not exist", "traceback": []}
        if name == "json":
            return {"application/json": value}
        return scala_table(value)

    def complete(self, code: str, cursor: int) -> list[str]:
        """Candidates at *cursor*, from the REPL's own completer (as Livy's Scala completion)."""
        intp = self.ensure()
        interpreter = self.jvm.scala.tools.nsc.interpreter
        names: list[str] = []
        with self.lock:
            if self.scala_213:
                result = interpreter.shell.ReplCompletion(intp, interpreter.shell.Accumulator()).complete(
                    code, cursor)
                iterator = result.candidates().iterator()
                while iterator.hasNext():
                    names.append(str(iterator.next().name()))
            else:
                iterator = interpreter.PresentationCompilerCompleter(intp).complete(
                    code, cursor).candidates().iterator()
                while iterator.hasNext():
                    names.append(str(iterator.next()))
        return sorted(set(names))


_ECHO_213 = [
    (re.compile(r"^(?:val|var) ((?:`[^`]+`|[^\s:])+): "), r"\1: "),  # val res0: Int = 2 -> res0: Int = 2
    (re.compile(r"^def ((?:`[^`]+`|\w)+): "), r"\1: "),  # def f: Int -> f: Int (no parameter lists)
    (re.compile(r"^(class|object|trait) (\S+)$"), r"defined \1 \2"),
    (re.compile(r"^type (\S+)$"), r"defined type alias \1"),
]


def echo_as_scala_212(echo: str) -> str:
    """The REPL's echo of definitions as Scala 2.12 prints it (``res0: Int = 2``, ``defined class
    P``): Livy runs Spark 3 on Scala 2.12, and clients match that text (pylivy's own integration
    tests expect ``res1: Long = 100``). pyspark 4 ships Scala 2.13, which prints ``val res0: Int =
    2`` and ``class P``. Only the REPL's own echo is rewritten, never the statement's stdout."""
    lines = echo.split("\n")
    for i, line in enumerate(lines):
        for pattern, replacement in _ECHO_213:
            new = pattern.sub(replacement, line, count=1)
            if new != line:
                lines[i] = new
                break
    return "\n".join(lines)


def scala_error(output: str) -> dict[str, Any]:
    """ename ``Error``; evalue the first line that says what failed (a compiler ``error:`` line,
    else the first line, e.g. the exception); traceback the remaining lines, newlines kept."""
    lines = output.splitlines(keepends=True) or [""]
    index = next((i for i, ln in enumerate(lines) if "error:" in ln), 0)
    evalue = lines[index].strip()
    return {"ename": "Error", "evalue": evalue, "traceback": lines[:index] + lines[index + 1:]}


def _scala_type(value: Any) -> str:
    if value is None:
        return "NULL_TYPE"
    if isinstance(value, bool):
        return "BOOLEAN_TYPE"
    if isinstance(value, int):
        return "BIGINT_TYPE"
    if isinstance(value, float):
        return "DOUBLE_TYPE"
    if isinstance(value, str):
        return "STRING_TYPE"
    if isinstance(value, list):
        return "ARRAY_TYPE"
    return "MAP_TYPE"


def scala_table(value: Any) -> dict[str, Any]:
    """``%table`` of a Scala collection of rows (case classes / maps as named columns, tuples and
    sequences as positional ones), as Livy's table mime type."""
    rows = value if isinstance(value, list) else [value]
    headers: list[dict[str, str]] = []
    index: dict[str, int] = {}
    table: list[list[Any]] = []
    for row in rows[:SCALA_TABLE_ROWS]:
        cells = row if isinstance(row, dict) else (
            {str(i): v for i, v in enumerate(row)} if isinstance(row, list) else {"0": row})
        out: list[Any] = [None] * len(headers)
        for key, cell in cells.items():
            if key not in index:
                index[key] = len(headers)
                headers.append({"name": key, "type": _scala_type(cell)})
                out.append(None)
            elif headers[index[key]]["type"] == "NULL_TYPE":
                headers[index[key]]["type"] = _scala_type(cell)
            out[index[key]] = cell
        table.append(out)
    width = len(headers)
    return {TABLE_MIME: {"headers": headers, "data": [r + [None] * (width - len(r)) for r in table]}}


# --------------------------------------------------------------------------- control thread

def control_loop(worker: Worker) -> None:
    """Read requests; queue statements, answer everything else at once."""
    channel = worker.channel
    for raw in channel.lines():
        try:
            msg = json.loads(raw)
            op = msg["op"]
            req_id = msg["id"]
        except (ValueError, KeyError, TypeError):
            LOG.error("livyd repl: malformed control message ignored")
            continue
        if op == "execute":
            worker.queue.put(msg)
            continue
        if op == "shutdown":
            worker.queue.put(None)
            continue
        try:
            if op == "progress":
                result: Any = worker.progress(int(msg["statement_id"]))
            elif op == "cancel_jobs":
                worker.cancel_jobs(int(msg["statement_id"]))
                result = None
            elif op == "complete":
                result = worker.scala.complete(str(msg["code"]), int(msg["cursor"]))
            elif op == "add_path":
                result = worker.add_path(str(msg["path"]), msg.get("extract"))
            else:
                raise ValueError(f"unknown control op {op!r}")
        except Exception as exc:
            channel.send({"id": req_id, "error": {"type": type(exc).__name__, "message": str(exc)}})
        else:
            channel.send({"id": req_id, "result": result})
    # The driver closed the channel: finish (or abandon) the running statement and exit.
    worker.queue.put(None)
    timer = threading.Timer(5.0, os._exit, (0,))
    timer.daemon = True
    timer.start()


def main(argv: list[str] | None = None) -> NoReturn:
    parser = argparse.ArgumentParser(prog="_replworker.py")
    parser.add_argument("--ctl-in", type=int, required=True)
    parser.add_argument("--ctl-out", type=int, required=True)
    parser.add_argument("--path", action="append", default=[], help="extra importable path")
    args = parser.parse_args(argv)

    # Not importable from user code: the script's own directory (livyd/sandbox). The session's
    # cwd is, as in an interactive shell, so archives extracted there can be imported.
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    sys.path.insert(0, os.getcwd())
    for fd in (args.ctl_in, args.ctl_out):
        os.set_inheritable(fd, False)  # keep it out of os.system() children and the JVM
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)
    sys.stdin = io.StringIO()
    os.environ.setdefault("MPLBACKEND", "Agg")
    logging.basicConfig()  # root handler on the real stderr, like fake_shell

    worker = Worker(Channel(args.ctl_in, args.ctl_out))
    sys.modules["__main__"] = worker.module
    signal.signal(signal.SIGINT, worker.on_sigint)
    for path in args.path:
        try:
            worker.add_path(path)
        except (OSError, ValueError) as exc:
            sys.stderr.write(f"livyd repl: {exc}\n")
    threading.Thread(target=control_loop, args=(worker,), name="livyd-control", daemon=True).start()
    worker.channel.send({"ready": True, "pid": os.getpid(), "python": sys.version.split()[0]})

    while True:
        try:
            msg = worker.queue.get()
            if msg is None:
                break
            sid = int(msg["statement_id"])
            worker.channel.send({"id": msg["id"], "event": "started", "at": int(time.time() * 1000)})
            output = worker.execute(sid, str(msg["code"]), str(msg.get("kind", "pyspark")))
            worker.channel.send({"id": msg["id"], "statement_id": sid, "result": output})
        except KeyboardInterrupt:
            # SIGINT raced with the end of a statement; the statement's reply may be lost, which
            # the driver sees as a statement that never answers. Log it loudly.
            worker.real_stderr.write("livyd repl: SIGINT arrived between statements\n")
    worker.stop()
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
