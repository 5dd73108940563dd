"""Spark-backed sessions over raw HTTP, plus pylivy's ``download_sql``, on ONE shared session.

A session's JVM costs seconds and ~400 MB, so the whole module shares a single ``sql``-kind
session (pyspark statements carry ``"kind": "pyspark"``, as in a real Livy session where every
statement may pick its interpreter). Everything here needs pyspark and is marked ``spark``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import partial
from typing import Any

import httpx
import livy_http
import pytest
from livy_http import new_session, run_statement, wait_statement
from support import SandboxProcess, has_module, require

pytestmark = [pytest.mark.spark, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

# A JVM is slow to start and to answer: wait longer, poll less often.
SLOW: dict[str, Any] = {"timeout": 120.0, "interval": 0.05}
wait_until = partial(livy_http.wait_until, **SLOW)
run = partial(run_statement, **SLOW)


@pytest.fixture(scope="module")
def spark_session(sandbox: SandboxProcess) -> Iterator[tuple[httpx.Client, int]]:
    require(has_module("pyspark"), "pyspark (pip install 'livyd[spark]')")
    with httpx.Client(base_url=sandbox.livy_url, timeout=60) as http:
        sid = new_session(http, kind="sql", name="spark-shared", conf={"spark.livyd.test": "1"}, **SLOW)
        # Start the JVM once, here, so that each test measures only its own work.
        out = run(http, sid, "spark.range(1000).count()", kind="pyspark")
        assert out["output"]["data"] == {"text/plain": "1000"}, out
        yield http, sid
        http.delete(f"/sessions/{sid}")


def test_sql_statement_output_shape(spark_session: tuple[httpx.Client, int]) -> None:
    http, sid = spark_session
    out = run(http, sid, "SELECT 1 AS n, 'a' AS s")["output"]  # the session kind is sql
    assert out["status"] == "ok"
    body = out["data"]["application/json"]
    assert list(body) == ["schema", "data"]
    assert body["schema"]["type"] == "struct"
    assert [f["name"] for f in body["schema"]["fields"]] == ["n", "s"]
    assert body["data"] == [[1, "a"]]
    capped = run(http, sid, "SELECT id FROM range(1500)")["output"]["data"]["application/json"]
    assert len(capped["data"]) == 1000
    failed = run(http, sid, "SELECT * FROM no_such_table_xyz")["output"]
    assert failed["status"] == "error" and failed["ename"] == "Error"
    assert "no_such_table_xyz" in failed["evalue"]


def test_spark_conf_and_app_name_reach_the_session(spark_session: tuple[httpx.Client, int]) -> None:
    http, sid = spark_session
    out = run(http, sid, "(spark.conf.get('spark.livyd.test'), sc.appName)", kind="pyspark")["output"]
    assert out["data"] == {"text/plain": "('1', 'spark-shared')"}


def test_app_id_and_spark_ui_of_a_direct_session(spark_session: tuple[httpx.Client, int]) -> None:
    """Direct mode: appId is the local application's id and sparkUiUrl Spark's own UI on loopback,
    where Spark's monitoring REST API answers; driverLogUrl serves the REPL's whole log."""
    http, sid = spark_session
    body = http.get(f"/sessions/{sid}").json()
    app_id, info = body["appId"], body["appInfo"]
    assert app_id.startswith("local-")
    assert info["sparkUiUrl"].startswith("http://127.0.0.1:")
    apps = httpx.get(f"{info['sparkUiUrl']}/api/v1/applications", timeout=30).json()
    assert [a["id"] for a in apps] == [app_id]
    assert info["executorLogUrls"] is None  # local mode: the driver runs the tasks
    log = httpx.get(info["driverLogUrl"], timeout=30)
    assert log.headers["content-type"].startswith("text/plain")
    assert f"SparkSession {app_id} started" in log.text
    tail = httpx.get(info["driverLogUrl"], params={"start": -100}, timeout=30)
    assert len(tail.content) == 100 and log.content.endswith(tail.content)


def test_progress_and_cancel_of_a_spark_job(spark_session: tuple[httpx.Client, int]) -> None:
    http, sid = spark_session
    code = ("import time\n"
            "def slow(x):\n    time.sleep(0.5)\n    return x\n"
            "sc.parallelize(range(40), 40).map(slow).count()")
    st = http.post(f"/sessions/{sid}/statements", json={"code": code, "kind": "pyspark"}).json()["id"]
    progress = wait_until(lambda: 0.0 < (p := http.get(f"/sessions/{sid}/statements/{st}").json()["progress"])
                          < 1.0 and p, what="partial progress")
    assert 0.0 < progress < 1.0
    assert http.post(f"/sessions/{sid}/statements/{st}/cancel").json() == {"msg": "canceled"}
    done = wait_statement(http, sid, st, ("cancelled",), what="cancelled", **SLOW)
    # the Spark job group was cancelled, so the code returned (with an error) before the timeout
    assert done["output"] is not None and done["output"]["status"] == "error"
    assert done["progress"] == 1.0
    assert run(http, sid, "spark.range(5).count()", kind="pyspark")["output"]["data"] == {"text/plain": "5"}


def test_pylivy_download_sql(spark_session: tuple[httpx.Client, int], sandbox: SandboxProcess) -> None:
    from livy import LivySession, SessionKind

    _, sid = spark_session
    session = LivySession(sandbox.livy_url, sid, kind=SessionKind.SQL, echo=False)
    frame = session.download_sql("SELECT 1 AS n, 'a' AS s UNION ALL SELECT 2 AS n, 'b' AS s")
    assert list(frame.columns) == ["n", "s"]
    assert frame.values.tolist() == [[1, "a"], [2, "b"]]


# --------------------------------------------------------------------------- Scala, in the same JVM


def scala(http: httpx.Client, sid: int, code: str) -> dict[str, Any]:
    out: dict[str, Any] = run(http, sid, code, kind="spark")["output"]
    return out


def test_scala_statements_echo_like_the_repl_with_spark_and_sc_bound(
        spark_session: tuple[httpx.Client, int]) -> None:
    http, sid = spark_session
    two = scala(http, sid, "1 + 1")
    assert two["status"] == "ok" and re.fullmatch(r"res\d+: Int = 2\n", two["data"]["text/plain"])
    several = scala(http, sid, "val x = 1\nval y = 2\nx + y")["data"]["text/plain"]
    assert re.fullmatch(r"x: Int = 1\ny: Int = 2\nres\d+: Int = 3\n", several)
    assert scala(http, sid, 'println("hi from scala")')["data"] == {"text/plain": "hi from scala\n"}
    comment = scala(http, sid, "// only a comment")
    assert comment.get("data") == {"text/plain": ""}, comment
    # closures defined in the REPL run on executors (its classes are served to them)
    summed = scala(http, sid, "sc.parallelize(1 to 10).map(_ * 2).sum()")["data"]["text/plain"]
    assert re.fullmatch(r"res\d+: Double = 110.0\n", summed)
    counted = scala(http, sid, "spark.range(7).count()")["data"]["text/plain"]
    assert counted.endswith(": Long = 7\n")
    assert "spark-shared" in scala(http, sid, "sc.appName")["data"]["text/plain"], "the session's own context"


def test_scala_errors_have_ename_evalue_and_traceback(spark_session: tuple[httpx.Client, int]) -> None:
    http, sid = spark_session
    missing = scala(http, sid, "undefinedThing + 1")
    assert missing["status"] == "error" and missing["ename"] == "Error"
    assert missing["evalue"] == "error: not found: value undefinedThing"
    assert isinstance(missing["traceback"], list)
    thrown = scala(http, sid, "1 / 0")
    assert (thrown["ename"], thrown["evalue"]) == ("Error", "java.lang.ArithmeticException: / by zero")
    assert all(line.endswith("\n") for line in thrown["traceback"])
    incomplete = scala(http, sid, "(1 +")
    assert (incomplete["ename"], incomplete["evalue"], incomplete["traceback"]) == \
        ("Error", "incomplete statement", [])


def test_scala_table_and_json_magics(spark_session: tuple[httpx.Client, int]) -> None:
    http, sid = spark_session
    code = 'case class Person(name: String, age: Int)\nval people = Seq(Person("ann", 31), Person("bob", 42))'
    defined = scala(http, sid, code)["data"]["text/plain"]
    assert defined == ("defined class Person\n"
                       "people: Seq[Person] = List(Person(ann,31), Person(bob,42))\n"), "Scala 2.12's echo"
    table = scala(http, sid, "%table people")["data"]
    assert table == {"application/vnd.livy.table.v1+json": {
        "headers": [{"name": "name", "type": "STRING_TYPE"}, {"name": "age", "type": "BIGINT_TYPE"}],
        "data": [["ann", 31], ["bob", 42]]}}
    assert scala(http, sid, "%json people")["data"] == \
        {"application/json": [{"name": "ann", "age": 31}, {"name": "bob", "age": 42}]}
    rdd = scala(http, sid, "val numbers = sc.parallelize(1 to 100)\n%json numbers")["data"]
    assert rdd == {"application/json": list(range(1, 11))}, "an RDD's first 10 elements"
    absent = scala(http, sid, "%json nothingHere")
    assert (absent["status"], absent["ename"], absent["evalue"]) == \
        ("error", "NameError", "Value nothingHere does not exist")


def test_scala_completion_and_cancel_by_job_group(spark_session: tuple[httpx.Client, int]) -> None:
    http, sid = spark_session
    answer = http.post(f"/sessions/{sid}/completion", json={"code": "sc.paral", "kind": "spark", "cursor": 8})
    assert answer.status_code == 200 and "parallelize" in answer.json()["candidates"]
    python = http.post(f"/sessions/{sid}/completion", json={"code": "sp", "kind": "pyspark", "cursor": 2})
    assert python.json() == {"candidates": []}, "Livy completes Scala only"
    code = "sc.parallelize(1 to 40, 40).map { x => Thread.sleep(500); x }.count()"
    st = http.post(f"/sessions/{sid}/statements", json={"code": code, "kind": "spark"}).json()["id"]
    wait_until(lambda: 0.0 < http.get(f"/sessions/{sid}/statements/{st}").json()["progress"] < 1.0,
               what="partial progress of the Scala job")
    assert http.post(f"/sessions/{sid}/statements/{st}/cancel").json() == {"msg": "canceled"}
    done = wait_statement(http, sid, st, ("cancelled",), what="cancelled", **SLOW)
    assert done["output"]["status"] == "error" and "cancelled" in done["output"]["evalue"].lower()
    assert scala(http, sid, "41 + 1")["data"]["text/plain"].endswith(": Int = 42\n")


def test_pylivy_scala_session_runs_uploads_and_downloads(sandbox: SandboxProcess) -> None:
    """pylivy's Scala templates (``val df = spark.read.json(...)``, ``df.toJSON.collect.foreach(println)``)
    against a real ``spark`` session. pylivy posts statements without a kind, so this needs a
    session of its own (the one extra JVM of the Scala tests)."""
    import pandas
    from livy import LivySession, SessionKind

    with LivySession.create(sandbox.livy_url, kind=SessionKind.SPARK, name="pylivy-scala",
                            echo=False) as session:
        assert re.fullmatch(r"res\d+: Int = 42\n?", session.run("40 + 2").text or "")
        session.upload("people", pandas.DataFrame({"name": ["ann", "bob"], "age": [31, 42]}))
        frame = session.download("people")
        assert sorted(frame.columns) == ["age", "name"]
        assert frame.sort_values("name")[["name", "age"]].values.tolist() == [["ann", 31], ["bob", 42]]
