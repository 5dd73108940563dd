"""Conformance: the requests of Livy clients nobody here wrote, replayed over raw HTTP.

pylivy and HdfsCLI run for real in test_pylivy.py / test_hdfscli.py. The clients here are too big
to install for the suite (sparkmagic pulls Jupyter, Airflow is Airflow, Livy's Python job client
is not on PyPI), so each test sends exactly what that client sends — same methods, paths, bodies,
headers and polling decisions, as read in its source — and checks exactly what it reads from
the answers. The source file and function of every replayed request is named next to it.

* sparkmagic 0.23.0 (jupyter-incubator/sparkmagic, package ``sparkmagic.livyclientlib``),
  also driven for real against a sandbox while writing these tests;
* apache-airflow-providers-apache-livy (apache/airflow, ``providers/apache/livy``):
  ``LivyHook``/``LivyAsyncHook``, ``LivyOperator``, ``LivyTrigger``;
* Livy's own Python job client (apache/incubator-livy ``python-api``): ``HttpClient``,
  ``JobHandle``, driven for real from its source while writing these tests.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import livy_http
import pytest
from support import SandboxProcess, has_module, require

# --------------------------------------------------------------------------- sparkmagic

# sparkmagic/utils/constants.py: POSSIBLE_SESSION_STATUS (all 11 Livy states; anything else makes
# LivySession.refresh_status_and_info raise), FINAL_STATUS and FINAL_STATEMENT_STATUS.
SPARKMAGIC_SESSION_STATES = {"not_started", "idle", "starting", "busy", "error", "dead", "success",
                             "shutting_down", "running", "killed", "recovering"}
SPARKMAGIC_FINAL_SESSION = {"dead", "error", "success", "killed"}
SPARKMAGIC_FINAL_STATEMENT = {"error", "cancelled", "available"}
# livyclientlib/livyreliablehttpclient.py, from_endpoint(): the only header sparkmagic sends by
# default; every body is json.dumps(...) passed as data=.
SPARKMAGIC_HEADERS = {"Content-Type": "application/json"}
# constants.py LONG_RANDOM_VARIABLE_NAME: the loop variable of its generated SQL/store code.
SPARKMAGIC_VAR = "yQeKOYBsFgLWWGWZJu3y"


class Sparkmagic:
    """What ``LivyReliableHttpClient`` + ``LivySession`` + ``Command`` send, with their checks.

    ``ReliableHttpClient._send_request_helper`` accepts only the listed status codes per call
    (anything else is an error for the user after retries), so every check here is exact.
    """

    def __init__(self, http: httpx.Client) -> None:
        self.http = http

    def send(self, method: str, path: str, accepted: tuple[int, ...], data: Any = None) -> httpx.Response:
        content = None if data is None else json.dumps(data)
        r = self.http.request(method, path, content=content, headers=SPARKMAGIC_HEADERS)
        assert r.status_code in accepted, f"sparkmagic accepts only {accepted} for {method} {path}: {r.text}"
        return r

    def refresh(self, sid: int) -> str:
        """livysession.py refresh_status_and_info(): GET the session, read ``state`` and ``log``."""
        body = self.send("GET", f"/sessions/{sid}", (200,)).json()
        assert isinstance(body["log"], list)
        assert body["state"] in SPARKMAGIC_SESSION_STATES, body["state"]
        return str(body["state"])

    def wait_for_idle(self, sid: int, timeout: float) -> None:
        """livysession.py wait_for_idle(): idle ends it, a final state fails it (with the log)."""
        def idle() -> bool:
            state = self.refresh(sid)
            assert state not in SPARKMAGIC_FINAL_SESSION, self.send("GET", f"/sessions/{sid}/log?from=0",
                                                                    (200,)).json()["log"]
            return state == "idle"
        livy_http.wait_until(idle, timeout, "sparkmagic wait_for_idle")

    def start(self) -> int:
        """livysession.py start(): POST with the heartbeat timeout LivySession adds (60 s default)."""
        created = self.send("POST", "/sessions", (201,), {"kind": "pyspark", "heartbeatTimeoutInSecond": 60})
        body = created.json()
        sid = int(body["id"])
        assert body["state"] in SPARKMAGIC_SESSION_STATES
        self.wait_for_idle(sid, 60)  # livy_session_startup_timeout_seconds
        return sid

    def post(self, sid: int, code: str) -> int:
        """command.py execute(): wait_for_idle (15 s), POST ``{"code"}`` without ``kind``."""
        self.wait_for_idle(sid, 15)
        return int(self.send("POST", f"/sessions/{sid}/statements", (201,), {"code": code}).json()["id"])

    def output(self, sid: int, st_id: int, timeout: float = 20.0) -> tuple[bool, Any, str]:
        """command.py _get_statement_output(): the (success, payload, mimetype) triple it returns."""
        def final() -> dict[str, Any] | None:
            st = self.send("GET", f"/sessions/{sid}/statements/{st_id}", (200,)).json()
            if st["state"].lower() in SPARKMAGIC_FINAL_STATEMENT:
                return dict(st)
            float(st.get("progress", 0.0))  # shown in a progress bar
            return None
        statement = livy_http.wait_until(final, timeout, f"statement {st_id}")
        out = statement["output"]
        if out is None:
            return True, "", "text/plain"
        if out["status"] == "ok":
            data = out["data"]
            for mime in ("image/png", "text/html", "application/json"):
                if mime in data:
                    return True, data[mime], mime
            return True, data["text/plain"], "text/plain"  # a KeyError in sparkmagic when absent
        assert out["status"] == "error", out
        return False, out["evalue"] + "\n" + "".join(out["traceback"]), "text/plain"

    def run(self, sid: int, code: str, timeout: float = 20.0) -> tuple[bool, Any, str]:
        return self.output(sid, self.post(sid, code), timeout)


def records(text: str) -> list[dict[str, Any]]:
    """sparkmagic/utils/utils.py records_to_dataframe(): every line of text/plain is a JSON record."""
    return [json.loads(line) for line in text.split("\n") if line != ""]


@pytest.fixture
def http(sandbox: SandboxProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.livy_url, timeout=30) as client:
        yield client


def test_sparkmagic_session_statements_logs_and_delete(http: httpx.Client) -> None:
    """The %%spark path without Spark: create, wait, run, read text/json/errors, list, log, delete."""
    sm = Sparkmagic(http)
    sid = sm.start()
    assert sm.run(sid, "x = 20\nx * 2 + 2") == (True, "42", "text/plain")
    assert sm.run(sid, "print('a')\nprint('b')") == (True, "a\nb", "text/plain")
    assert sm.run(sid, "y = 1") == (True, "", "text/plain")
    assert sm.run(sid, "d = {'a': [1, 2]}\n%json d") == (True, {"a": [1, 2]}, "application/json")
    ok, text, _ = sm.run(sid, "1 / 0")
    assert not ok and text.startswith("division by zero\nTraceback (most recent call last):\n")
    assert text.endswith("ZeroDivisionError: division by zero\n")
    # livysession.py: get_app_id / get_app_info_member / get_user read these keys of the session
    session = sm.send("GET", f"/sessions/{sid}", (200,)).json()
    assert "appId" in session and {"sparkUiUrl", "driverLogUrl"} <= set(session["appInfo"])
    assert "proxyUser" in session and session["kind"] == "pyspark"
    # sparkcontroller.py get_all_sessions_endpoint(): ``sessions[*].kind`` and ``id``
    listed = sm.send("GET", "/sessions", (200,)).json()["sessions"]
    assert {"id": sid, "kind": "pyspark"}.items() <= next(s for s in listed if s["id"] == sid).items()
    # livysession.py get_logs(): GET .../log?from=0, "\n".join(body["log"])
    log = sm.send("GET", f"/sessions/{sid}/log?from=0", (200,)).json()["log"]
    assert all(isinstance(line, str) for line in log)
    # livyreliablehttpclient.py delete_session(): 200 or 404 both fine; the second one is a 404
    assert sm.send("DELETE", f"/sessions/{sid}", (200, 404)).status_code == 200
    assert sm.send("DELETE", f"/sessions/{sid}", (200, 404)).status_code == 404


def test_sparkmagic_cancel_posts_an_empty_object(http: httpx.Client) -> None:
    """command.py execute() on KeyboardInterrupt: POST .../cancel with body ``{}``, then wait_for_idle."""
    sm = Sparkmagic(http)
    sid = sm.start()
    busy = sm.post(sid, "import time\ntime.sleep(0.5)")
    # a second cell posted while the first runs (sparkmagic would wait; a second client need not)
    waiting = int(sm.send("POST", f"/sessions/{sid}/statements", (201,), {"code": "'never'"}).json()["id"])
    # livyreliablehttpclient.py cancel_statement(): accepted [200], .json() read
    cancel = sm.send("POST", f"/sessions/{sid}/statements/{waiting}/cancel", (200,), {})
    assert cancel.json() == {"msg": "canceled"}
    # a statement cancelled while waiting has a null output: sparkmagic shows empty text
    assert sm.output(sid, waiting) == (True, "", "text/plain")
    assert sm.output(sid, busy) == (True, "", "text/plain")
    sm.wait_for_idle(sid, 15)
    assert sm.run(sid, "'after'") == (True, "'after'", "text/plain")
    sm.send("DELETE", f"/sessions/{sid}", (200, 404))


@pytest.fixture(scope="module")
def sparkmagic_spark(sandbox: SandboxProcess) -> Iterator[tuple[Sparkmagic, int]]:
    """One Spark-backed session started as sparkmagic starts it: the ``spark`` probe must succeed."""
    require(has_module("pyspark"), "pyspark (pip install 'livyd[spark]')")
    with httpx.Client(base_url=sandbox.livy_url, timeout=60) as client:
        sm = Sparkmagic(client)
        sid = sm.start()
        # livysession.py start(): Command("spark") must succeed, else it tries "sqlContext"
        ok, text, _ = sm.run(sid, "spark", timeout=120)
        assert ok and "SparkSession" in text, text
        yield sm, sid
        sm.send("DELETE", f"/sessions/{sid}", (200, 404))


@pytest.mark.spark
def test_sparkmagic_sql_query_records_parse(sparkmagic_spark: tuple[Sparkmagic, int]) -> None:
    """sqlquery.py SQLQuery._pyspark_command() (the %%sql magic): every printed line is one JSON record.

    pyspark 4 warns on the first ``DataFrame.toJSON()`` of a process; that warning went to the
    statement's stderr, so into text/plain, and sparkmagic failed with DataFrameParseException.
    """
    sm, sid = sparkmagic_spark
    query = "SELECT 1 AS a, 'x' AS b UNION ALL SELECT 2 AS a, 'y' AS b"
    code = (f"import sys\nfor {SPARKMAGIC_VAR} in spark.sql(u\"\"\"{query} \"\"\")"
            f".toJSON(use_unicode=(sys.version_info.major > 2)).take(2500): print({SPARKMAGIC_VAR})")
    ok, text, mime = sm.run(sid, code, timeout=60)
    assert ok and mime == "text/plain", text
    assert records(text) == [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]


@pytest.mark.spark
def test_sparkmagic_store_and_send_to_spark(sparkmagic_spark: tuple[Sparkmagic, int]) -> None:
    """sparkstorecommand.py (``%%spark -o df``), sendstringtosparkcommand.py and
    sendpandasdftosparkcommand.py (``%%send_to_spark``), pyspark flavours."""
    sm, sid = sparkmagic_spark
    assert sm.run(sid, "df = spark.createDataFrame([(1, 'a'), (2, 'b')], ['n', 's'])", timeout=60)[0]
    store = (f"import sys\nfor {SPARKMAGIC_VAR} in df.toJSON(use_unicode=(sys.version_info.major > 2))"
             f".take(2500): print({SPARKMAGIC_VAR})")
    ok, text, _ = sm.run(sid, store, timeout=60)
    assert ok and records(text) == [{"n": 1, "s": "a"}, {"n": 2, "s": "b"}], text
    # -t str: the value's repr assigned to the output name
    assert sm.run(sid, "sent = 'hello'") == (True, "", "text/plain")
    assert sm.run(sid, "sent") == (True, "'hello'", "text/plain")
    # -t df: a JSON array of records parallelised and read back with spark.read.json
    rows = json.dumps([{"a": 1}, {"a": 2}])
    send_df = ("\nimport json\n"
               f"json_array = json.loads('{rows}')\n"
               "rdd_json_array = spark.sparkContext.parallelize(json_array)\n"
               "pdf = spark.read.json(rdd_json_array)")
    assert sm.run(sid, send_df, timeout=60) == (True, "", "text/plain")
    assert sm.run(sid, "pdf.count()", timeout=60) == (True, "2", "text/plain")


# --------------------------------------------------------------------------- Airflow

# hooks/livy.py BatchState: a state outside these ten makes BatchState(...) raise ("recovering"
# is missing); TERMINAL_STATES ends the polling, anything but success fails the task.
AIRFLOW_BATCH_STATES = {"not_started", "starting", "running", "idle", "busy", "shutting_down", "error",
                        "dead", "killed", "success"}
AIRFLOW_TERMINAL = {"success", "dead", "killed", "error"}
# hooks/livy.py LivyHook.default_headers (applied by HttpHook.get_conn to every request)
AIRFLOW_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}

wait_long = partial(livy_http.wait_until, timeout=30.0)


@pytest.fixture
def batch_http(sandbox_factory: Callable[..., SandboxProcess]) -> Iterator[httpx.Client]:
    """The python-launcher sandbox of test_livy_batches.py (no JVM per batch)."""
    sb = sandbox_factory("--batch-launcher", "python", "--cancel-timeout", "3")
    with httpx.Client(base_url=sb.livy_url, timeout=30) as client:
        yield client


def airflow_batch_state(http: httpx.Client, bid: int) -> str:
    """LivyHook.get_batch_state(): GET .../state, raise_for_status, ``state`` into BatchState."""
    r = http.get(f"/batches/{bid}/state", headers=AIRFLOW_HEADERS)
    r.raise_for_status()
    state = str(r.json()["state"])
    assert state in AIRFLOW_BATCH_STATES, state
    return state


def airflow_dump_logs(http: httpx.Client, bid: int, headers: dict[str, str]) -> list[str]:
    """LivyHook.dump_batch_logs(): GET .../log with params from/size=100 while ``from <= total``."""
    lines: list[str] = []
    start, total = 0, 0
    while start <= total:
        r = http.get(f"/batches/{bid}/log", params={"from": start, "size": 100}, headers=headers)
        r.raise_for_status()
        body = r.json()
        total = body.get("total", [])
        start += 100
        lines.extend(body.get("log", []))
    return lines


def test_airflow_livy_operator_batch(batch_http: httpx.Client, tmp_path: Path) -> None:
    """LivyOperator.execute() with polling: post_batch, get_batch()["appId"], poll the state, dump the
    log in pages of 100, and kill (delete_batch) on the way out."""
    http = batch_http
    script = tmp_path / "airflow_job.py"
    script.write_text("import sys\nfor i in range(150):\n    print('line', i)\n"
                      "print('args', *sys.argv[1:])\n")
    # LivyHook.build_post_batch_body(): args stringified; driver_cores/num_executors may be strings;
    # conf values may be ints; memory sizes match \d+[kmgt]b?. post_batch() sends json.dumps(body)
    # as data= (HttpHook.run), so the body arrives as a string with the default headers.
    body = {"file": str(script), "args": ["1", "2.5"], "driverMemory": "512m", "driverCores": "1",
            "executorMemory": "1g", "executorCores": 1, "numExecutors": "2",
            "conf": {"spark.executor.instances": 2, "spark.airflow.flag": "y"}, "name": "airflow-batch"}
    r = http.post("/batches", content=json.dumps(body), headers=AIRFLOW_HEADERS)
    r.raise_for_status()
    bid = r.json().get("id")  # _parse_post_response()
    assert isinstance(bid, int)
    # execute() without polling pushes get_batch(id)["appId"] to XCom at once: the key must exist
    assert "appId" in http.get(f"/batches/{bid}", headers=AIRFLOW_HEADERS).json()
    assert wait_long(lambda: (s := airflow_batch_state(http, bid)) in AIRFLOW_TERMINAL and s) == "success"
    lines = airflow_dump_logs(http, bid, AIRFLOW_HEADERS)
    printed = [ln for ln in lines if ln.startswith(("line ", "args "))]
    assert printed == [f"line {i}" for i in range(150)] + ["args 1 2.5"]
    assert http.get(f"/batches/{bid}", headers=AIRFLOW_HEADERS).json()["appId"] is None
    # LivyHook.delete_batch(): raise_for_status then response.json()
    r = http.delete(f"/batches/{bid}", headers=AIRFLOW_HEADERS)
    r.raise_for_status()
    assert r.json() == {"msg": "deleted"}


def test_airflow_async_trigger_sees_a_failed_batch(batch_http: httpx.Client, tmp_path: Path) -> None:
    """LivyTrigger.poll_for_termination() through LivyAsyncHook (aiohttp): GETs carry only the
    connection's extra headers, ``from``/``size`` as query params; aiohttp's ``response.json()``
    refuses any Content-Type but application/json, error answers included."""
    http = batch_http
    script = tmp_path / "airflow_fail.py"
    script.write_text("import sys\nprint('about to fail')\nsys.exit(3)\n")
    r = http.post("/batches", content=json.dumps({"file": str(script)}), headers=AIRFLOW_HEADERS)
    bid = r.json()["id"]

    def state() -> str:
        r = http.get(f"/batches/{bid}/state")
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
        value = str(r.json()["state"])
        assert value in AIRFLOW_BATCH_STATES
        return value

    assert wait_long(lambda: (s := state()) in AIRFLOW_TERMINAL and s) == "dead"
    # LivyAsyncHook.dump_batch_logs(): one page only, from=0 size=100
    r = http.get(f"/batches/{bid}/log", params={"from": 0, "size": 100})
    assert r.headers["content-type"].startswith("application/json")
    assert "about to fail" in r.json()["log"]
    missing = http.get("/batches/999999/state")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("application/json")
    http.delete(f"/batches/{bid}")


# --------------------------------------------------------------------------- Livy's Python job client

# python-api/src/main/python/livy/client.py: _LivyConnection.send_request() always adds
# X-Requested-By: livy; _JSON_HEADERS on JSON calls; bodies go as json=.
LIVY_API_HEADERS = {"X-Requested-By": "livy", "Content-Type": "application/json",
                    "Accept": "application/json"}


def test_livy_python_job_client_gets_a_clear_failure(http: httpx.Client, sandbox: SandboxProcess,
                                                     tmp_path: Path) -> None:
    """HttpClient(url): create, upload at once (no wait for idle), submit/run a job, reconnect, stop.

    Its JobHandle only learns a job's fate by polling ``GET .../jobs/{id}`` after reading ``id``
    from the 201; any other answer to submit-job leaves ``handle.result()`` waiting forever. The
    sandbox has no job API, so it says so as the job's FAILED ``error``, which the client raises.
    """
    # HttpClient.__init__ -> _create_new_session(): POST {base}/sessions/ (trailing slash), with
    # the client conf, which always holds livy.uri
    r = http.post("/sessions/", json={"kind": "pyspark", "conf": {"livy.uri": sandbox.livy_url}},
                  headers=LIVY_API_HEADERS)
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    # upload_file(): multipart field "file", only X-Requested-By; the session may still be starting
    r = http.post(f"/sessions/{sid}/upload-file", files={"file": ("up.txt", b"7\n")},
                  headers={"X-Requested-By": "livy"})
    assert r.status_code == 200, r.text
    data = tmp_path / "added.txt"
    data.write_text("8\n")
    r = http.post(f"/sessions/{sid}/add-file", json={"uri": data.as_uri()}, headers=LIVY_API_HEADERS)
    assert r.status_code == 200, r.text
    # JobHandle._send_job_task(): POST submit-job / run-job {job: base64(cloudpickle), jobType}
    job = base64.b64encode(b"\x80\x05 not really a pickle").decode()
    for command in ("submit-job", "run-job"):
        r = http.post(f"/sessions/{sid}/{command}", json={"job": job, "jobType": "pyspark"},
                      headers=LIVY_API_HEADERS)
        assert r.status_code == 201, r.text
        sent = r.json()
        assert sent == {"id": sent["id"], "state": "SENT", "result": None, "error": None}
        # JobHandle._poll_result(): GET jobs/{id} with Accept only; FAILED -> Exception(error)
        status = http.get(f"/sessions/{sid}/jobs/{sent['id']}", headers={"X-Requested-By": "livy",
                                                                          "Accept": "application/json"})
        assert status.status_code == 200
        assert status.json()["state"] == "FAILED" and status.json()["result"] is None
        assert "not supported" in status.json()["error"] and "/statements" in status.json()["error"]
    unknown = http.get(f"/sessions/{sid}/jobs/99")
    assert unknown.status_code == 500
    assert unknown.json() == "java.util.NoSuchElementException: key not found: 99"
    assert http.post(f"/sessions/{sid}/jobs/1/cancel", headers={"X-Requested-By": "livy"}).status_code == 200
    # the uploaded and the added file both reached the session's working directory
    out = livy_http.run_statement(http, sid, "open('up.txt').read() + open('added.txt').read()")
    assert out["output"]["data"] == {"text/plain": "'7\\n8\\n'"}
    # HttpClient(url + "/sessions/N") -> _reconnect_to_existing_session(): POST .../connect
    r = http.post(f"/sessions/{sid}/connect", headers=LIVY_API_HEADERS)
    assert r.status_code == 200 and r.json()["id"] == sid
    # stop(True): DELETE /sessions/N with X-Requested-By
    assert http.delete(f"/sessions/{sid}", headers={"X-Requested-By": "livy"}).status_code == 200


def test_livy_job_api_and_uploads_on_an_inactive_session_are_livy_400s(http: httpx.Client) -> None:
    """Livy's ``ensureActive()`` (uploads, add-*, jobs) is ``require``: 400 ``{"msg"}``, not the
    500 of ``ensureRunning()`` (statements)."""
    sid = livy_http.new_session(http)
    assert http.post(f"/sessions/{sid}/stop").status_code == 204
    expected = {"msg": "requirement failed: Session isn't active."}
    r = http.post(f"/sessions/{sid}/upload-file", files={"file": ("a.txt", b"x")})
    assert (r.status_code, r.json()) == (400, expected)
    r = http.post(f"/sessions/{sid}/add-jar", json={"uri": "file:///tmp/x.jar"})
    assert (r.status_code, r.json()) == (400, expected)
    r = http.post(f"/sessions/{sid}/submit-job", json={"job": "AAAA", "jobType": "pyspark"})
    assert (r.status_code, r.json()) == (400, expected)
    r = http.post(f"/sessions/{sid}/submit-job", json={"jobType": "pyspark"})
    assert (r.status_code, r.json()) == (400, {"msg": "requirement failed: no job provided."})
    r = http.get(f"/sessions/{sid}/jobs/x")
    assert (r.status_code, r.json()) == (400, {"msg": 'For input string: "x"'})
    http.delete(f"/sessions/{sid}")
