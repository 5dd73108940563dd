"""The sandbox REPL worker driven directly through :class:`livyd.sandbox._repl.Repl` (no HTTP).

Every test starts a real worker subprocess (about 0.1 s) with ``LIVYD_REPL_SPARK=0``, so no JVM
is ever started here even when pyspark is installed; Spark is covered by test_repl_spark.py.
Expected outputs are fake_shell's (livy-rest.md 7.6 / 7.9), written out literally.
"""

from __future__ import annotations

import base64
import io
import os
import signal
import sys
import tarfile
import time
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from support import has_module, require

from livyd.sandbox._repl import Repl, ReplDied

pytestmark = pytest.mark.anyio

TB = "Traceback (most recent call last):\n"


class LogSink:
    """Collects ``on_log`` lines and waits for one to appear (a condition, not a sleep)."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []
        self._changed: anyio.Event | None = None

    def __call__(self, stream: str, line: str) -> None:
        self.lines.append((stream, line))  # on_log runs on the event loop: Event is safe
        if self._changed is not None:
            self._changed.set()
            self._changed = None

    def count(self, stream: str, text: str) -> int:
        return sum(1 for s, ln in self.lines if s == stream and text in ln)

    async def wait_for(self, stream: str, text: str, n: int = 1, limit: float = 10.0) -> None:
        """Wait until *n* lines of *stream* contain *text*."""
        with anyio.fail_after(limit):
            while self.count(stream, text) < n:
                if self._changed is None:
                    self._changed = anyio.Event()
                await self._changed.wait()


def plain_env(**extra: str) -> dict[str, str]:
    return {**os.environ, "LIVYD_REPL_SPARK": "0", **extra}


@pytest.fixture
def sink() -> LogSink:
    return LogSink()


@pytest.fixture
async def repl(tmp_path: Path, sink: LogSink) -> AsyncIterator[Repl]:
    r = await Repl.start(python=sys.executable, cwd=tmp_path, env=plain_env(), on_log=sink)
    try:
        yield r
    finally:
        await r.aclose()


async def ok_text(repl: Repl, code: str, sid: int = 0) -> str:
    out = await repl.execute(sid, code, "pyspark")
    assert out["status"] == "ok", out
    assert list(out["data"]) == ["text/plain"], out
    text = out["data"]["text/plain"]
    assert isinstance(text, str)
    return text


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it is dead for our purposes.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


# --------------------------------------------------------------------------- output rules

async def test_start_is_fast_and_reports_the_worker(tmp_path: Path, sink: LogSink) -> None:
    t0 = time.monotonic()
    r = await Repl.start(python=sys.executable, cwd=tmp_path, env=plain_env(), on_log=sink)
    elapsed = time.monotonic() - t0
    try:
        # Measured, not asserted (machines differ): reported by `pytest -s`.
        print(f"\nREPL start: {elapsed * 1000:.0f} ms")
        assert r.alive
        assert r.worker_info["pid"] == r.pid
        assert r.worker_info["python"] == sys.version.split()[0]
    finally:
        await r.aclose()


async def test_trailing_expression_is_echoed(repl: Repl) -> None:
    assert await repl.execute(7, "1 + 1", "pyspark") == {
        "status": "ok", "execution_count": 7, "data": {"text/plain": "2"}}
    assert await ok_text(repl, "'a'") == "'a'"
    assert await ok_text(repl, "x = 41\nx + 1") == "42"
    assert await ok_text(repl, "1\n2") == "2"  # only the last node runs in 'single' mode
    assert await ok_text(repl, "None") == ""
    assert await ok_text(repl, "y = 3") == ""
    assert await ok_text(repl, "for i in range(2):\n    i") == "0\n1"


async def test_empty_cell_gives_empty_text(repl: Repl) -> None:
    assert await repl.execute(0, "", "pyspark") == {
        "status": "ok", "execution_count": 0, "data": {"text/plain": ""}}
    assert await ok_text(repl, "# only a comment\n") == ""


async def test_stdout_then_stderr_captured_and_stripped(repl: Repl) -> None:
    code = ("import sys\nprint('a  ')\nsys.stderr.write('b\\n\\n')\nprint('c')\n"
            "_ = sys.stdout.write(b'd'.decode())")
    # fake_shell joins the two buffers (stdout + stderr), not the interleaving.
    assert await ok_text(repl, code) == "a  \nc\ndb"
    assert await ok_text(repl, "print('  lead')") == "  lead"


async def test_unencodable_text_does_not_break_the_reply(repl: Repl) -> None:
    assert await ok_text(repl, "print('a\\udcffb', 'é')") == "a?b é"
    out = await repl.execute(1, "t = [{'x': float('nan')}, {'x': float('inf')}]\n%table t", "pyspark")
    assert out["data"]["application/vnd.livy.table.v1+json"]["data"] == [["NaN"], ["Infinity"]]


async def test_python_alias_kind_and_bad_kind(repl: Repl) -> None:
    assert (await repl.execute(0, "2 * 3", "python"))["data"] == {"text/plain": "6"}
    with pytest.raises(ValueError, match="'sparkr'"):
        await repl.execute(1, "1", "sparkr")


def test_scala_213_echo_is_shown_as_livys_scala_212_echo() -> None:
    import importlib.util

    from livyd.sandbox._repl import WORKER_SCRIPT

    spec = importlib.util.spec_from_file_location("replworker_for_echo", WORKER_SCRIPT)
    assert spec is not None and spec.loader is not None
    worker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(worker)
    echo = ("val res0: Int = 2\nvar y: String = hi\ndef f: Int\ndef g(x: Int): Int\nclass P\nobject O\n"
            "trait T\ntype A\nval people: Seq[P] = List(P(a,1))\n")
    assert worker.echo_as_scala_212(echo) == (
        "res0: Int = 2\ny: String = hi\nf: Int\ndef g(x: Int): Int\ndefined class P\ndefined object O\n"
        "defined trait T\ndefined type alias A\npeople: Seq[P] = List(P(a,1))\n")


async def test_scala_without_spark_is_livys_interpreter_error(repl: Repl) -> None:
    out = await repl.execute(2, "1 + 1", "scala")
    assert (out["status"], out["ename"], out["evalue"]) == \
        ("error", "InterpreterError", "Fail to start interpreter")
    assert "pip install" in out["traceback"][0], "the reason says what to install"
    assert (await repl.execute(3, "2 * 3", "python"))["data"] == {"text/plain": "6"}, "the worker lives on"


async def test_state_is_kept_and_statements_run_in_order(repl: Repl) -> None:
    await ok_text(repl, "seen = []")
    for sid in range(1, 41):
        out = await repl.execute(sid, f"seen.append({sid})\nlen(seen)", "pyspark")
        assert out == {"status": "ok", "execution_count": sid, "data": {"text/plain": str(sid)}}
    assert await ok_text(repl, "seen == list(range(1, 41))") == "True"


async def test_namespace_is_a_real_main_module(repl: Repl) -> None:
    code = ("import pickle\nclass P:\n    def __init__(self, v):\n        self.v = v\n"
            "pickle.loads(pickle.dumps(P(5))).v, __name__")
    assert await ok_text(repl, code) == "(5, '__main__')"
    out = await repl.execute(1, "input()", "pyspark")
    assert out["ename"] == "EOFError"


# --------------------------------------------------------------------------- errors

async def test_exception_traceback_drops_the_stdin_module_frame(repl: Repl) -> None:
    assert await repl.execute(3, "1/0", "pyspark") == {
        "status": "error", "execution_count": 3, "ename": "ZeroDivisionError",
        "evalue": "division by zero", "traceback": [TB, "ZeroDivisionError: division by zero\n"]}


async def test_inner_frames_are_kept(repl: Repl) -> None:
    code = "def f():\n    g()\n\ndef g():\n    raise ValueError('bad value')\n\nf()"
    out = await repl.execute(0, code, "pyspark")
    assert out == {
        "status": "error", "execution_count": 0, "ename": "ValueError", "evalue": "bad value",
        "traceback": [TB, '  File "<stdin>", line 2, in f\n', '  File "<stdin>", line 5, in g\n',
                      "ValueError: bad value\n"]}


async def test_user_exception_class_and_output_of_failed_statement(repl: Repl) -> None:
    out = await repl.execute(0, "class Boom(Exception):\n    pass\nprint('lost')\nraise Boom('x')", "pyspark")
    assert (out["ename"], out["evalue"], out["traceback"]) == ("Boom", "x", [TB, "Boom: x\n"])
    # fake_shell would prepend 'lost' to the next output; we do not leak it.
    assert await ok_text(repl, "1") == "1"


async def test_name_error(repl: Repl) -> None:
    out = await repl.execute(0, "undefined_thing", "pyspark")
    assert out["ename"] == "NameError"
    assert out["evalue"] == "name 'undefined_thing' is not defined"
    assert out["traceback"][0] == TB
    assert out["traceback"][-1].startswith("NameError: name 'undefined_thing' is not defined")


async def test_syntax_error_shape(repl: Repl) -> None:
    assert await repl.execute(0, "x = 1\ny = (", "pyspark") == {
        "status": "error", "execution_count": 0, "ename": "SyntaxError",
        "evalue": "'(' was never closed (<stdin>, line 2)",
        "traceback": ['  File "<stdin>", line 2\n', "    y = (\n", "        ^\n",
                      "SyntaxError: '(' was never closed\n"]}
    out = await repl.execute(1, "a = 1\n  b = 2", "pyspark")
    assert (out["ename"], out["traceback"]) == (
        "IndentationError",
        ['  File "<stdin>", line 2\n', "    b = 2\n", "IndentationError: unexpected indent\n"])


async def test_system_exit_does_not_end_the_interpreter(repl: Repl) -> None:
    out = await repl.execute(0, "import sys\nsys.exit(3)", "pyspark")
    assert (out["status"], out["ename"], out["evalue"]) == ("error", "SystemExit", "3")
    assert await ok_text(repl, "'still here'", 1) == "'still here'"


# --------------------------------------------------------------------------- magics

async def test_json_magic(repl: Repl) -> None:
    await ok_text(repl, "d = {'a': [1, 2.5, None], 'b': 'x'}")
    assert await repl.execute(1, "%json d", "pyspark") == {
        "status": "ok", "execution_count": 1,
        "data": {"application/json": {"a": [1, 2.5, None], "b": "x"}}}
    # Code before the magic runs; its stdout joins the magic's data.
    out = await repl.execute(2, "print('hi')\nn = 5\n%json n", "pyspark")
    assert out["data"] == {"application/json": 5, "text/plain": "hi"}


async def test_missing_variable_quirk_gives_ok_with_envelope(repl: Repl) -> None:
    for magic in ("json", "table", "matplot"):
        if magic == "matplot" and not has_module("matplotlib"):
            continue
        out = await repl.execute(0, f"%{magic} nope", "pyspark")
        assert out == {"status": "ok", "execution_count": 0, "data": {
            "msg_type": "execute_reply",
            "content": {"ename": "KeyError", "evalue": "'nope'", "traceback": ["KeyError: 'nope'\n"],
                        "status": "error"}}}, magic


async def test_json_of_unserialisable_value_is_an_error_not_a_death(repl: Repl) -> None:
    out = await repl.execute(0, "s = {1, 2}\n%json s", "pyspark")
    assert out == {"status": "error", "execution_count": 0, "ename": "TypeError",
                   "evalue": "Object of type set is not JSON serializable",
                   "traceback": ["TypeError: Object of type set is not JSON serializable\n"]}
    out = await repl.execute(1, "f = float('nan')\n%json f", "pyspark")
    assert (out["status"], out["ename"]) == ("error", "ValueError")
    assert repl.alive
    assert await ok_text(repl, "len(s)", 2) == "2"


async def test_only_the_last_magic_result_is_returned(repl: Repl) -> None:
    out = await repl.execute(0, "a = 1\nb = [2]\n%json a\n%json b", "pyspark")
    assert out["data"] == {"application/json": [2]}


async def test_magics_only_when_the_cell_does_not_compile(repl: Repl) -> None:
    # '%' inside valid Python is the modulo operator, never a magic.
    assert await ok_text(repl, "x = 7\nx %2") == "1"


async def test_unknown_magic(repl: Repl) -> None:
    assert await repl.execute(0, "%foo bar", "pyspark") == {
        "status": "error", "execution_count": 0, "ename": "UnknownMagic",
        "evalue": "unknown magic command 'foo'",
        "traceback": ["UnknownMagic: unknown magic command 'foo'\n"]}
    assert await repl.execute(1, "%", "pyspark") == {
        "status": "error", "execution_count": 1, "ename": "UnknownMagic",
        "evalue": "magic command not specified",
        "traceback": ["UnknownMagic: magic command not specified\n"]}


async def test_code_chunk_that_still_does_not_compile(repl: Repl) -> None:
    out = await repl.execute(0, "x = (\n%json x", "pyspark")
    assert out["ename"] == "SyntaxError"
    assert out["traceback"][0] == '  File "<stdin>", line 1\n'


async def test_table_magic_dict_rows(repl: Repl) -> None:
    code = ("import datetime, decimal\n"
            "rows = [{'b': 1, 'a': 'x', 'n': None, 'd': datetime.date(2024, 5, 1)},\n"
            "        {'b': 2, 'a': 'y', 'n': 1.5, 'd': datetime.date(2024, 5, 2),\n"
            "         't': datetime.datetime(2024, 5, 2, 3, 4, 5), 'm': decimal.Decimal('1.10'),\n"
            "         'ok': True, 'l': [1, 2], 'map': {'k': 1}}]\n"
            "%table rows")
    out = await repl.execute(0, code, "pyspark")
    assert out["status"] == "ok", out
    table = out["data"]["application/vnd.livy.table.v1+json"]
    assert list(out["data"]) == ["application/vnd.livy.table.v1+json"]
    assert table["headers"] == [
        {"name": "a", "type": "STRING_TYPE"}, {"name": "b", "type": "INT_TYPE"},
        {"name": "d", "type": "DATE_TYPE"}, {"name": "l", "type": "ARRAY_TYPE"},
        {"name": "m", "type": "DECIMAL_TYPE"}, {"name": "map", "type": "MAP_TYPE"},
        # NULL upgraded by a later row:
        {"name": "n", "type": "DOUBLE_TYPE"}, {"name": "ok", "type": "BOOLEAN_TYPE"},
        {"name": "t", "type": "TIMESTAMP_TYPE"}]
    assert table["data"] == [
        ["x", 1, "2024-05-01", None],
        ["y", 2, "2024-05-02", [1, 2], "1.10", {"k": 1}, 1.5, True, "2024-05-02 03:04:05"]]


async def test_table_magic_tuples_scalars_and_rows(repl: Repl) -> None:
    out = await repl.execute(0, "t = [(1, 'a'), (2, 'b')]\n%table t", "pyspark")
    assert out["data"]["application/vnd.livy.table.v1+json"] == {
        "headers": [{"name": "0", "type": "INT_TYPE"}, {"name": "1", "type": "STRING_TYPE"}],
        "data": [[1, "a"], [2, "b"]]}
    out = await repl.execute(1, "v = 3\n%table v", "pyspark")
    assert out["data"]["application/vnd.livy.table.v1+json"] == {
        "headers": [{"name": "0", "type": "INT_TYPE"}], "data": [[3]]}
    # Anything whose class is named Row is read through asDict(), as pyspark Rows are.
    code = ("class Row(tuple):\n    def asDict(self):\n        return {'z': self[0], 'y': self[1]}\n"
            "r = [Row((1, 'q'))]\n%table r")
    out = await repl.execute(2, code, "pyspark")
    assert out["data"]["application/vnd.livy.table.v1+json"] == {
        "headers": [{"name": "y", "type": "STRING_TYPE"}, {"name": "z", "type": "INT_TYPE"}],
        "data": [["q", 1]]}


async def test_table_type_conflict_quirk_and_mixed_lists(repl: Repl) -> None:
    out = await repl.execute(0, "t = [[1], ['a']]\n%table t", "pyspark")
    assert out == {"status": "ok", "execution_count": 0, "data": {
        "msg_type": "execute_reply",
        "content": {"ename": "Exception", "evalue": "table rows have different types",
                    "traceback": ["Exception: table rows have different types\n"], "status": "error"}}}
    out = await repl.execute(1, "m = [[[1, 'a']]]\n%table m", "pyspark")
    assert out == {"status": "error", "execution_count": 1, "ename": "ValueError",
                   "evalue": "value has inconsistent types",
                   "traceback": ["ValueError: value has inconsistent types\n"]}
    assert repl.alive


async def test_matplot_magic(repl: Repl) -> None:
    require(has_module("matplotlib"), "matplotlib (pip install matplotlib)")
    code = ("import matplotlib.pyplot as plt\nplt.plot([1, 2, 3], [3, 1, 2])\nprint('drawn')\n"
            "%matplot plt")
    out = await repl.execute(0, code, "pyspark")
    assert out["status"] == "ok", out
    assert set(out["data"]) == {"image/png", "text/plain"}
    assert out["data"]["text/plain"] == "drawn"
    png = base64.b64decode(out["data"]["image/png"])
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    # Without output the empty text/plain is dropped.
    out = await repl.execute(1, "%matplot plt", "pyspark")
    assert list(out["data"]) == ["image/png"]
    # A value without gcf() -> the magic-error quirk.
    out = await repl.execute(2, "v = 1\n%matplot v", "pyspark")
    assert out["status"] == "ok"
    assert out["data"]["content"]["ename"] == "AttributeError"


async def test_matplot_without_matplotlib_is_a_clear_error(tmp_path: Path, sink: LogSink) -> None:
    # Hide the installed matplotlib from the worker with a meta-path finder.
    site = tmp_path / "hide"
    site.mkdir()
    (site / "sitecustomize.py").write_text(
        "import sys\n"
        "class _Hide:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'matplotlib' or name.startswith('matplotlib.'):\n"
        "            raise ModuleNotFoundError(name)\n"
        "        return None\n"
        "sys.meta_path.insert(0, _Hide())\n")
    env = plain_env(PYTHONPATH=str(site))
    r = await Repl.start(python=sys.executable, cwd=tmp_path, env=env, on_log=sink)
    try:
        out = await r.execute(0, "%matplot plt", "pyspark")
        assert out["status"] == "error"
        assert out["ename"] == "ModuleNotFoundError"
        assert "pip install matplotlib" in out["evalue"]
    finally:
        await r.aclose()


# --------------------------------------------------------------------------- spark names

async def test_spark_names_without_spark_say_how_to_get_it(repl: Repl) -> None:
    for name in ("spark", "sc"):
        out = await repl.execute(0, f"{name}.version", "pyspark")
        assert out["ename"] == "NameError"
        assert out["evalue"] == (
            f"name '{name}' is not defined: the sandbox runs plain Python; install livyd[spark] "
            "(pip install 'livyd[spark]') for a local SparkSession")
    # Inside a function too (global lookups from functions use the same builtins).
    out = await repl.execute(1, "def f():\n    return spark\nf()", "pyspark")
    assert out["ename"] == "NameError"
    # Binding the name yourself is fine.
    assert await ok_text(repl, "spark = 'mine'\nspark", 2) == "'mine'"


async def test_sql_kind_without_spark(repl: Repl) -> None:
    out = await repl.execute(0, "SELECT 1", "sql")
    assert out["status"] == "error"
    assert out["ename"] == "Error"
    assert "livyd[spark]" in out["evalue"]


async def test_progress_and_cancel_jobs_without_spark(repl: Repl) -> None:
    assert await repl.progress(0) == 0.0
    await repl.cancel_jobs(0)


# --------------------------------------------------------------------------- the driver log

async def test_driver_log_gets_everything_outside_statement_capture(repl: Repl, sink: LogSink) -> None:
    code = ("import sys, logging, os, threading\n"
            "sys.__stderr__.write('to-real-stderr\\n'); sys.__stderr__.flush()\n"
            "sys.__stdout__.write('to-real-stdout\\n'); sys.__stdout__.flush()\n"
            "logging.basicConfig(level=logging.INFO)\n"  # a no-op: root already has a handler
            "logging.getLogger().setLevel(logging.INFO)\n"
            "logging.getLogger('user').info('via-logging')\n"
            "os.system('echo from-a-child-process')\n"
            "print('captured')")
    assert await ok_text(repl, code) == "captured"
    await sink.wait_for("stderr", "to-real-stderr")
    await sink.wait_for("stdout", "to-real-stdout")
    await sink.wait_for("stderr", "INFO:user:via-logging")
    await sink.wait_for("stdout", "from-a-child-process")
    # A print after the statement ended (a background thread) is the driver's, not a statement's.
    code = ("import threading, time\n"
            "def later():\n"
            "    while sys.stdout is not sys.__stdout__:  # until the statement's capture has ended\n"
            "        time.sleep(0.005)\n"
            "    print('later', flush=True)\n"
            "threading.Thread(target=later).start()")
    assert await ok_text(repl, code, 1) == ""
    await sink.wait_for("stdout", "later")
    assert not any("captured" in line for _, line in sink.lines)


# --------------------------------------------------------------------------- while running

async def test_control_calls_work_while_a_statement_runs(repl: Repl, sink: LogSink, tmp_path: Path) -> None:
    flag = tmp_path / "go"
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "during.py").write_text("VALUE = 'added while busy'\n")
    code = ("import os, sys, time\nsys.__stdout__.write('waiting\\n'); sys.__stdout__.flush()\n"
            f"while not os.path.exists({str(flag)!r}):\n    time.sleep(0.01)\n'done'")
    result: dict[str, Any] = {}
    started: list[int] = []
    started_event = anyio.Event()

    def on_start(at: int) -> None:
        started.append(at)
        started_event.set()

    async def run() -> None:
        result.update(await repl.execute(5, code, "pyspark", on_start=on_start))

    async with anyio.create_task_group() as tg:
        tg.start_soon(run)
        await sink.wait_for("stdout", "waiting")
        with anyio.fail_after(10):  # log lines and control replies travel separate pipes
            await started_event.wait()
        assert abs(started[0] / 1000 - time.time()) < 60
        assert await repl.progress(5) == 0.0
        await repl.cancel_jobs(5)  # no Spark: nothing to cancel, the loop keeps running
        await repl.add_path(str(tmp_path / "lib"))
        assert not result
        flag.touch()
    assert result["data"] == {"text/plain": "'done'"}
    assert await ok_text(repl, "import during\nduring.VALUE", 6) == "'added while busy'"


async def interrupted(repl: Repl, sink: LogSink, code: str, marker: str) -> dict[str, Any]:
    """Run *code* as statement 0, SIGINT the REPL once it printed *marker*; return the output."""
    out: dict[str, Any] = {}

    async def run() -> None:
        out.update(await repl.execute(0, code, "pyspark"))

    async with anyio.create_task_group() as tg:
        tg.start_soon(run)
        await sink.wait_for("stdout", marker)
        repl.interrupt()
    return out


async def test_interrupt_raises_keyboard_interrupt_in_running_code(repl: Repl, sink: LogSink) -> None:
    code = ("import sys\n"
            "def spin():\n    sys.__stdout__.write('spinning\\n'); sys.__stdout__.flush()\n"
            "    while True:\n        pass\nspin()")
    out = await interrupted(repl, sink, code, "spinning")
    assert out["status"] == "error"
    assert out["ename"] == "KeyboardInterrupt"
    assert out["traceback"][0] == TB
    assert out["traceback"][1].startswith('  File "<stdin>", line ')
    assert out["traceback"][-1] == "KeyboardInterrupt\n"
    # SIGINT while idle is ignored (and logged), the session lives on.
    repl.interrupt()
    await sink.wait_for("stderr", "SIGINT outside a statement ignored")
    assert await ok_text(repl, "1", 1) == "1"


async def test_interrupt_is_reported_even_when_cleanup_fails_on_top(repl: Repl, sink: LogSink) -> None:
    """pyspark's ``SCCallSiteSync.__exit__`` can fail after an interrupt (py4j reconnecting);
    the user asked to interrupt, so the KeyboardInterrupt is what the statement reports, with
    its whole path from the user's code."""
    code = ("import sys\n"
            "class Cleanup:\n"
            "    def __enter__(self):\n        return self\n"
            "    def __exit__(self, *exc):\n        raise RuntimeError('cleanup failed')\n"
            "def spin():\n    sys.__stdout__.write('spinning-in-with\\n'); sys.__stdout__.flush()\n"
            "    while True:\n        pass\n"
            "with Cleanup():\n    spin()")
    out = await interrupted(repl, sink, code, "spinning-in-with")
    assert out["ename"] == "KeyboardInterrupt", out
    tb = "".join(out["traceback"])
    assert out["traceback"][1].startswith('  File "<stdin>", line ')
    assert "in spin" in tb and "cleanup failed" not in tb
    assert out["traceback"][-1] == "KeyboardInterrupt\n"
    # Without an interrupt, the same cleanup error is reported as it is.
    err = await repl.execute(1, "with Cleanup():\n    1 / 0", "pyspark")
    assert (err["ename"], err["evalue"]) == ("RuntimeError", "cleanup failed")


async def test_abandoned_statement_keeps_running_and_later_ones_wait(repl: Repl, sink: LogSink) -> None:
    """What the server does on cancel timeout: give up waiting, while the code keeps running."""
    code = ("import sys, time\ntry:\n    while True:\n"
            "        sys.__stdout__.write('tick\\n'); sys.__stdout__.flush()\n        time.sleep(0.02)\n"
            "finally:\n    marker = 'set when statement 0 ended'")
    with anyio.move_on_after(0.01):
        await repl.execute(0, code, "pyspark")  # abandoned; the worker keeps looping
    await sink.wait_for("stdout", "tick")
    await repl.cancel_jobs(0)
    await sink.wait_for("stdout", "tick", n=sink.count("stdout", "tick") + 3)  # still ticking
    started: list[int] = []
    out: dict[str, Any] = {}

    async def run() -> None:
        out.update(await repl.execute(1, "marker", "pyspark", on_start=started.append))

    async with anyio.create_task_group() as tg:
        tg.start_soon(run)
        await sink.wait_for("stdout", "tick", n=sink.count("stdout", "tick") + 3)
        assert not started and not out  # queued behind the loop
        repl.interrupt()  # ends statement 0 (its late reply is dropped); 1 then runs
    assert started
    # Statement 1 got its own reply, and ran after statement 0's `finally`.
    assert out == {"status": "ok", "execution_count": 1,
                   "data": {"text/plain": "'set when statement 0 ended'"}}


# --------------------------------------------------------------------------- death

async def test_worker_death_mid_statement_raises_repl_died(repl: Repl) -> None:
    code = "import os, sys\nsys.__stderr__.write('last words\\n'); sys.__stderr__.flush()\nos._exit(3)"
    with pytest.raises(ReplDied) as info:
        await repl.execute(0, code, "pyspark")
    assert "last words" in info.value.stderr_tail
    assert not repl.alive
    with pytest.raises(ReplDied):
        await repl.execute(1, "1", "pyspark")
    with pytest.raises(ReplDied):
        await repl.progress(1)


async def test_killed_from_outside_while_running(repl: Repl, sink: LogSink) -> None:
    code = "import sys, time\nsys.__stdout__.write('sleeping\\n'); sys.__stdout__.flush()\ntime.sleep(60)"
    with anyio.fail_after(20):
        async with anyio.create_task_group() as tg:
            async def run() -> None:
                with pytest.raises(ReplDied):
                    await repl.execute(0, code, "pyspark")

            tg.start_soon(run)
            await sink.wait_for("stdout", "sleeping")
            os.kill(repl.pid, signal.SIGKILL)
    assert not repl.alive


async def test_worker_that_cannot_start(tmp_path: Path, sink: LogSink) -> None:
    with pytest.raises(ReplDied):
        await Repl.start(python="/bin/false", cwd=tmp_path, env=plain_env(), on_log=sink)
    with pytest.raises(FileNotFoundError):
        await Repl.start(python=str(tmp_path / "no-such-python"), cwd=tmp_path, env=plain_env(), on_log=sink)
    with pytest.raises(FileNotFoundError, match="no-such-dir"):
        await Repl.start(python=sys.executable, cwd=tmp_path / "no-such-dir", env=plain_env(), on_log=sink)


async def test_aclose_kills_the_whole_tree(tmp_path: Path, sink: LogSink) -> None:
    r = await Repl.start(python=sys.executable, cwd=tmp_path, env=plain_env(), on_log=sink)
    text = await ok_text(r, "import subprocess\np = subprocess.Popen(['sleep', '300'])\np.pid")
    child = int(text)
    worker = r.pid
    assert pid_alive(child) and pid_alive(worker)
    await r.aclose()
    assert not r.alive
    assert not pid_alive(worker)
    assert not pid_alive(child)
    await r.aclose()  # idempotent


async def test_aclose_while_a_statement_runs_fails_it(tmp_path: Path, sink: LogSink) -> None:
    r = await Repl.start(python=sys.executable, cwd=tmp_path, env=plain_env(), on_log=sink)
    code = "import sys, time\nsys.__stdout__.write('busy\\n'); sys.__stdout__.flush()\ntime.sleep(60)"
    with anyio.fail_after(20):
        async with anyio.create_task_group() as tg:
            async def run() -> None:
                with pytest.raises(ReplDied):
                    await r.execute(0, code, "pyspark")

            tg.start_soon(run)
            await sink.wait_for("stdout", "busy")
            await r.aclose()


# --------------------------------------------------------------------------- pyFiles and archives

def make_zip(path: Path, files: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return path


async def test_add_path_zip_of_modules(repl: Repl, tmp_path: Path) -> None:
    z = make_zip(tmp_path / "deps.zip", {"mypkg/__init__.py": "",
                                         "mypkg/util.py": "def twice(x):\n    return 2 * x\n",
                                         "flat.py": "NAME = 'flat'\n"})
    await repl.add_path(str(z))
    code = "from mypkg.util import twice\nimport flat\ntwice(21), flat.NAME"
    assert await ok_text(repl, code) == "(42, 'flat')"


async def test_add_path_py_file_and_directory(repl: Repl, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "single_mod.py").write_text("X = 1\n")
    (tmp_path / "dirlib").mkdir()
    (tmp_path / "dirlib" / "dmod.py").write_text("Y = 2\n")
    await repl.add_path(str(src / "single_mod.py"))
    await repl.add_path(str(tmp_path / "dirlib"))
    assert await ok_text(repl, "import single_mod, dmod\nsingle_mod.X + dmod.Y") == "3"


async def test_archives_are_extracted_into_cwd(repl: Repl, tmp_path: Path) -> None:
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w:gz") as tf:
        payload = b"ANSWER = 42\n"
        info = tarfile.TarInfo("tarmod.py")
        info.size = len(payload)
        tf.addfile(info, io.BytesIO(payload))
    archive = tmp_path / "incoming" / "env.tar.gz"
    archive.parent.mkdir()
    archive.write_bytes(data.getvalue())
    await repl.add_path(str(archive))
    assert (tmp_path / "env.tar.gz" / "tarmod.py").is_file()  # YARN-style: named after the file
    assert await ok_text(repl, "import tarmod\ntarmod.ANSWER") == "42"

    z = make_zip(tmp_path / "incoming" / "conf.zip", {"settings.txt": "hello", "zmod.py": "Z = 'z'\n"})
    await repl.add_path(f"{z}#myconf")  # '#alias' names the directory, as in Livy's archives
    assert (tmp_path / "myconf" / "settings.txt").read_text() == "hello"
    assert await ok_text(repl, "open('myconf/settings.txt').read()", 1) == "'hello'"
    z2 = make_zip(tmp_path / "incoming" / "other.zip", {"omod.py": "O = 1\n"})
    await repl.add_path(str(z2), extract=True)
    assert (tmp_path / "other.zip" / "omod.py").is_file()


async def test_add_path_errors_name_the_path(repl: Repl, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"missing\.zip"):
        await repl.add_path(str(tmp_path / "missing.zip"))
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match=r"notes\.txt"):
        await repl.add_path(str(tmp_path / "notes.txt"))
    (tmp_path / "in").mkdir()
    evil = make_zip(tmp_path / "in" / "evil.zip", {"../escape.py": "x = 1\n"})
    with pytest.raises(ValueError, match="outside the archive"):
        await repl.add_path(str(evil), extract=True)
    assert not (tmp_path / "escape.py").exists()
    assert not (tmp_path / "evil.zip").exists()
    (tmp_path / "in" / "broken.tgz").write_bytes(b"not a tarball")
    with pytest.raises(ValueError, match=r"broken\.tgz is not a valid archive"):
        await repl.add_path(str(tmp_path / "in" / "broken.tgz"))
    with pytest.raises(ValueError, match="alias"):
        await repl.add_path(f"{evil}#../up")
    assert repl.alive


async def test_archive_uploaded_into_cwd_becomes_its_directory(repl: Repl, tmp_path: Path) -> None:
    make_zip(tmp_path / "inplace.zip", {"inmod.py": "I = 'in place'\n"})
    await repl.add_path("inplace.zip", extract=True)  # relative to the session's cwd
    assert (tmp_path / "inplace.zip" / "inmod.py").is_file()
    assert await ok_text(repl, "import inmod\ninmod.I") == "'in place'"


async def test_sys_path_at_start(tmp_path: Path, sink: LogSink) -> None:
    z = make_zip(tmp_path / "early.zip", {"earlymod.py": "E = 'early'\n"})
    r = await Repl.start(python=sys.executable, cwd=tmp_path, env=plain_env(), on_log=sink,
                         sys_path=[str(z), str(tmp_path / "absent.zip")])
    try:
        assert await ok_text(r, "import earlymod\nearlymod.E") == "'early'"
        await sink.wait_for("stderr", "absent.zip")  # a bad entry is reported on the log
    finally:
        await r.aclose()


async def test_worker_does_not_import_livyd(repl: Repl) -> None:
    text = await ok_text(repl, "import sys\nsorted(m for m in sys.modules if m.split('.')[0] in "
                               "('livyd', 'httpx', 'pydantic', 'anyio', 'pyspark'))")
    assert text == "[]"
    # And the worker's own directory is not importable from user code.
    out = await repl.execute(1, "import _repl", "pyspark")
    assert out["ename"] == "ModuleNotFoundError"

