"""The REPL worker with a real local SparkSession: ONE shared Spark-backed Repl for this module.

A JVM costs ~5 s and ~400 MB, so every test here reuses the same worker (``anyio_backend`` is
module-scoped so that the module-scoped async fixture and the tests share one event loop; the
Repl's reader threads are bound to it). Tests use distinct statement ids so that job groups,
progress and cancel never see another test's jobs.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from support import has_module, require

from livyd.sandbox._repl import Repl

pytestmark = [pytest.mark.anyio, pytest.mark.spark]


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


class Sink:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def __call__(self, stream: str, line: str) -> None:
        self.lines.append((stream, line))


@pytest.fixture(scope="module")
def sink() -> Sink:
    return Sink()


@pytest.fixture(scope="module")
async def spark_repl(tmp_path_factory: pytest.TempPathFactory, sink: Sink) -> AsyncIterator[Repl]:
    require(has_module("pyspark"), "pyspark (pip install 'livyd[spark]')")
    cwd = tmp_path_factory.mktemp("spark-repl")
    env = {k: v for k, v in os.environ.items() if k != "LIVYD_REPL_SPARK"}
    # Session conf arrives as PYSPARK_SUBMIT_ARGS (as the server sends it) and beats our defaults.
    env["PYSPARK_SUBMIT_ARGS"] = ("--name repl-test --conf spark.sql.shuffle.partitions=2 "
                                  "--conf spark.livyd.repltest=yes pyspark-shell")
    repl = await Repl.start(python=sys.executable, cwd=Path(cwd), env=env, on_log=sink)
    t0 = time.monotonic()
    out = await repl.execute(0, "spark.version", "pyspark")
    assert out["status"] == "ok", out
    print(f"\nSpark start (first statement touching spark): {time.monotonic() - t0:.1f} s")
    jvm = await repl.execute(1, "from pyspark import SparkContext\nSparkContext._gateway.proc.pid", "pyspark")
    jvm_pid = int(jvm["data"]["text/plain"])
    try:
        yield repl
    finally:
        await repl.aclose()
    # aclose took the whole tree down: the JVM that pyspark launched is gone too.
    assert not pid_alive(jvm_pid), f"JVM {jvm_pid} survived aclose"
    assert not pid_alive(repl.pid)


def pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(") ", 1)[1][0] != "Z"  # a zombie holds nothing
    except (FileNotFoundError, ProcessLookupError):
        return False


async def text(repl: Repl, sid: int, code: str) -> str:
    out = await repl.execute(sid, code, "pyspark")
    assert out["status"] == "ok", out
    value = out["data"]["text/plain"]
    assert isinstance(value, str)
    return value


async def test_spark_and_sc_are_bound(spark_repl: Repl, sink: Sink) -> None:
    assert await text(spark_repl, 100, "spark.range(1000).count()") == "1000"
    assert await text(spark_repl, 101, "sc is spark.sparkContext, sc.master") == "(True, 'local[1]')"
    # Deleting the names brings the same session back (it is not created twice).
    code = "s0 = spark\ndel spark, sc\nspark is s0 and sc is s0.sparkContext"
    assert await text(spark_repl, 103, code) == "True"
    conf = await text(spark_repl, 102, "c = sc.getConf()\n"
                      "[c.get(k) for k in ('spark.ui.enabled', 'spark.driver.host', "
                      "'spark.sql.shuffle.partitions', 'spark.livyd.repltest', 'spark.app.name')]")
    assert conf == "['true', '127.0.0.1', '2', 'yes', 'repl-test']"
    # Spark's own log lines went to the session log, not into the first statement's output.
    assert any(s == "stderr" and "log4j" in line for s, line in sink.lines)


async def test_sql_kind_output_shape(spark_repl: Repl) -> None:
    out = await spark_repl.execute(110, "SELECT 1 AS a, 'x' AS b, CAST(2.5 AS DECIMAL(3,1)) AS d, "
                                         "DATE'2024-05-01' AS day, array(1, 2) AS arr", "sql")
    assert out["status"] == "ok", out
    assert list(out["data"]) == ["application/json"]
    body = out["data"]["application/json"]
    assert body["schema"]["type"] == "struct"
    assert [f["name"] for f in body["schema"]["fields"]] == ["a", "b", "d", "day", "arr"]
    assert body["schema"]["fields"][0] == {"name": "a", "type": "integer", "nullable": False, "metadata": {}}
    assert body["schema"]["fields"][2]["type"] == "decimal(3,1)"
    assert body["schema"]["fields"][4]["type"]["type"] == "array"
    assert body["data"] == [[1, "x", 2.5, "2024-05-01", [1, 2]]]


async def test_sql_rows_are_capped_at_1000(spark_repl: Repl) -> None:
    out = await spark_repl.execute(111, "SELECT id FROM range(1500)", "sql")
    assert out["status"] == "ok", out
    assert len(out["data"]["application/json"]["data"]) == 1000
    assert out["data"]["application/json"]["data"][999] == [999]


async def test_sql_error(spark_repl: Repl) -> None:
    out = await spark_repl.execute(112, "SELECT * FROM no_such_table_here", "sql")
    assert out["status"] == "error"
    assert out["ename"] == "Error"
    assert "no_such_table_here" in out["evalue"]
    assert out["traceback"] and all(isinstance(x, str) for x in out["traceback"])
    assert any("org.apache.spark" in frame for frame in out["traceback"])


async def test_table_magic_with_spark_rows(spark_repl: Repl) -> None:
    code = "rows = spark.range(2).selectExpr('id', 'cast(id as string) AS s').collect()\n%table rows"
    out = await spark_repl.execute(120, code, "pyspark")
    assert out["data"]["application/vnd.livy.table.v1+json"] == {
        "headers": [{"name": "id", "type": "INT_TYPE"}, {"name": "s", "type": "STRING_TYPE"}],
        "data": [[0, "0"], [1, "1"]]}


async def test_progress_follows_the_statement_job_group(spark_repl: Repl) -> None:
    # Two stages: 6 slow map tasks, then 3 reduce tasks -> progress moves in ninths.
    code = ("import time\n"
            "def slow(x):\n    time.sleep(0.25)\n    return (x % 3, x)\n"
            "sc.parallelize(range(6), 6).map(slow).reduceByKey(lambda a, b: a + b, 3).count()")
    seen: list[float] = []
    out: dict[str, Any] = {}

    async def run() -> None:
        out.update(await spark_repl.execute(130, code, "pyspark"))

    async with anyio.create_task_group() as tg:
        tg.start_soon(run)
        with anyio.fail_after(60):
            while not out:
                seen.append(await spark_repl.progress(130))
                await anyio.sleep(0.05)  # the polling interval of a client, not a wait
    assert out["data"] == {"text/plain": "3"}
    assert await spark_repl.progress(130) == 1.0
    assert await spark_repl.progress(999) == 0.0  # another group has no jobs
    middle = [p for p in seen if 0.0 < p < 1.0]
    assert middle, seen
    for p in middle:
        assert abs(p * 9 - round(p * 9)) < 1e-9, (p, seen)  # both stages count: 9 tasks
    assert seen == sorted(seen)


async def test_cancel_jobs_ends_a_long_spark_statement(spark_repl: Repl) -> None:
    code = ("import time\n"
            "def slow(x):\n    time.sleep(0.5)\n    return x\n"
            "sc.parallelize(range(200), 200).map(slow).count()")
    out: dict[str, Any] = {}

    async def run() -> None:
        out.update(await spark_repl.execute(140, code, "pyspark"))

    t0 = time.monotonic()
    async with anyio.create_task_group() as tg:
        tg.start_soon(run)
        with anyio.fail_after(60):
            while not out:  # poll as a client polls Livy, until the first task has finished
                if await spark_repl.progress(140) > 0.0:
                    break
                await anyio.sleep(0.05)
        await spark_repl.cancel_jobs(140)
    assert time.monotonic() - t0 < 60  # 200 * 0.5 s = 100 s if the cancel had no effect
    assert out["status"] == "error", out
    assert "cancel" in (out["evalue"] + "".join(out["traceback"])).lower()
    # The session is still usable afterwards.
    assert await text(spark_repl, 141, "spark.range(5).count()") == "5"


async def test_pyfiles_reach_spark_workers(spark_repl: Repl, tmp_path: Path) -> None:
    import zipfile

    z = tmp_path / "udfdeps.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("udfmod.py", "def triple(x):\n    return 3 * x\n")
    await spark_repl.add_path(str(z))
    code = "import udfmod\nsc.parallelize([1, 2], 2).map(lambda v: __import__('udfmod').triple(v)).sum()"
    assert await text(spark_repl, 150, code) == "9"


async def test_sql_context_is_bound_like_fake_shell(spark_repl: Repl) -> None:
    """sparkmagic falls back to ``sqlContext`` when ``spark`` fails; Livy binds both."""
    out = await text(spark_repl, 155, "sqlContext.sql('select 41 + 1 as x').collect()[0].x")
    assert out == "42"
    assert await text(spark_repl, 156, "type(sqlContext).__name__, sqlContext.sparkSession is spark") == \
        "('SQLContext', True)"
    # Deleted by the user, it comes back on the next lookup, like the other two.
    assert await text(spark_repl, 157, "del sqlContext\nsqlContext is not None") == "True"


async def test_each_statement_runs_in_its_own_job_group(spark_repl: Repl) -> None:
    assert await text(spark_repl, 160, "sc.getLocalProperty('spark.jobGroup.id')") == "'160'"
    assert await text(spark_repl, 161, "sc.getLocalProperty('spark.jobGroup.id')") == "'161'"


async def test_interrupt_during_a_spark_job(spark_repl: Repl) -> None:
    """--interrupt-on-cancel: SIGINT lands in the py4j call; the job group is cancelled too."""
    code = ("import time\n"
            "def slow(x):\n    time.sleep(0.5)\n    return x\n"
            "sc.parallelize(range(200), 200).map(slow).count()")
    out: dict[str, Any] = {}

    async def run() -> None:
        out.update(await spark_repl.execute(170, code, "pyspark"))

    async with anyio.create_task_group() as tg:
        tg.start_soon(run)
        with anyio.fail_after(60):
            while not out:  # poll until the job runs
                if await spark_repl.progress(170) > 0.0:
                    break
                await anyio.sleep(0.05)
        spark_repl.interrupt()
    assert out["status"] == "error", out
    assert out["ename"] == "KeyboardInterrupt"
    assert out["traceback"][-1] == "KeyboardInterrupt\n"
    # The py4j connection survived: Spark still answers, and Python workers too.
    assert await text(spark_repl, 171, "spark.range(7).count()") == "7"
    assert await text(spark_repl, 172, "sc.parallelize(range(4), 2).map(lambda x: x * 2).sum()") == "12"
