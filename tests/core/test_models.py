"""Models: every Livy object, tolerant of versions; requests gated by version; wire form by alias."""

from __future__ import annotations

import base64
import json

import pytest

from livyd._core.versions import LivyVersion
from livyd._exceptions import ConfigError, StatementFailedError
from livyd._models import (
    Batch,
    BatchList,
    BatchState,
    CreateBatchRequest,
    CreateSessionRequest,
    LogPage,
    Session,
    SessionKind,
    SessionList,
    SessionState,
    Statement,
    StatementList,
    StatementState,
    VersionInfo,
)

SESSION_09 = json.loads("""
{"id":0,"name":null,"appId":null,"owner":null,"proxyUser":null,"state":"starting",
 "kind":"pyspark","appInfo":{"driverLogUrl":null,"sparkUiUrl":null,"executorLogUrls":null},
 "log":["stdout: ","\\nstderr: "],"ttl":null,"idleTimeout":null,"driverMemory":null,
 "driverCores":0,"executorMemory":null,"executorCores":0,"conf":{},"archives":[],"files":[],
 "heartbeatTimeoutInSecond":0,"jars":[],"numExecutors":0,"pyFiles":[],"queue":null}
""")
SESSION_07 = {
    "id": 3,
    "name": "etl",
    "appId": "application_1_2",
    "owner": "knox",
    "proxyUser": "alice",
    "state": "idle",
    "kind": "spark",
    "appInfo": {"driverLogUrl": "http://nm/x", "sparkUiUrl": None},
    "log": [],
}
V07, V08, V09 = (LivyVersion.parse(v) for v in ("0.7.1-incubating", "0.8.0-incubating", "0.9.0-incubating"))


def test_session_09_all_fields_round_trip_to_the_wire_form() -> None:
    s = Session.model_validate(SESSION_09)
    assert s.state is SessionState.STARTING and s.kind is SessionKind.PYSPARK
    assert s.driver_cores == 0 and s.heartbeat_timeout_in_second == 0 and s.conf == {}
    assert s.log == ["stdout: ", "\nstderr: "]
    wire = s.model_dump(mode="json", by_alias=True)
    assert wire == SESSION_09


def test_session_07_subset_and_unknown_extras() -> None:
    s = Session.model_validate({**SESSION_07, "shinyNewField": {"x": 1}})
    assert s.proxy_user == "alice" and s.app_info.driver_log_url == "http://nm/x"
    assert s.ttl is None and s.jars is None and s.app_info.executor_log_urls is None
    assert s.model_extra == {"shinyNewField": {"x": 1}}


def test_unknown_states_survive() -> None:
    s = Session.model_validate({"id": 1, "state": "hibernating", "kind": "pyspark3"})
    assert s.state == "hibernating" and not s.state.is_known and str(s.state) == "hibernating"
    assert not s.state.is_terminal and not s.state.is_ready
    assert s.kind == "pyspark3"
    assert SessionState("idle") is SessionState.IDLE and SessionState.IDLE.is_known
    assert StatementState("ERROR") is StatementState.ERROR
    page = SessionList.model_validate(
        {"from": 0, "total": 2, "sessions": [SESSION_07, {"id": 9, "state": "new"}]}
    )
    assert [x.state for x in page.sessions] == ["idle", "new"]


def test_state_predicates() -> None:
    assert SessionState.STARTING.is_starting and SessionState.RECOVERING.is_starting
    assert SessionState.BUSY.is_ready and SessionState.IDLE.is_ready
    assert all(SessionState(x).is_terminal for x in ("dead", "killed", "shutting_down", "success"))
    assert not SessionState.ERROR.is_terminal  # REPL error is not terminal in Livy
    assert BatchState.SUCCESS.is_terminal and not BatchState.RUNNING.is_terminal
    assert StatementState.AVAILABLE.is_terminal and StatementState.CANCELLED.is_terminal
    assert not StatementState.CANCELLING.is_terminal


def test_statement_ok_output_and_mime_bundle() -> None:
    png = base64.b64encode(b"\x89PNG\r\n").decode()
    st = Statement.model_validate(
        {
            "id": 0,
            "code": "1 + 1",
            "state": "available",
            "progress": 1.0,
            "started": 1716200000123,
            "completed": 1716200000456,
            "output": {
                "status": "ok",
                "execution_count": 0,
                "data": {
                    "text/plain": "2",
                    "application/json": {"a": [1]},
                    "application/vnd.livy.table.v1+json": {
                        "headers": [{"name": "0", "type": "INT_TYPE"}],
                        "data": [[1]],
                    },
                    "image/png": png,
                },
            },
        }
    )
    out = st.output
    assert out is not None and not out.is_error
    assert out.text == "2" and out.json == {"a": [1]} and out.table is not None
    assert out.table["headers"][0]["type"] == "INT_TYPE" and out.image_png == b"\x89PNG\r\n"
    out.raise_for_error()  # no error: no exception


def test_statement_error_output_raises_with_details() -> None:
    st = Statement.model_validate(
        {
            "id": 4,
            "code": "x",
            "state": "available",
            "progress": 1.0,
            "output": {
                "status": "error",
                "execution_count": 4,
                "ename": "NameError",
                "evalue": "name 'x' is not defined",
                "traceback": ["Traceback (most recent call last):\n", "NameError: name 'x' is not defined\n"],
            },
        }
    )
    assert st.output is not None and st.output.is_error and st.output.text is None
    with pytest.raises(StatementFailedError) as info:
        st.output.raise_for_error(session_id=1, statement_id=4)
    assert info.value.ename == "NameError" and len(info.value.traceback) == 2 and info.value.statement_id == 4
    assert "NameError: name 'x' is not defined" in str(info.value)


def test_statement_minimal_and_waiting() -> None:
    st = Statement.model_validate({"id": 0, "state": "waiting", "output": None, "progress": None})
    assert st.output is None and st.progress == 0.0 and st.code is None
    bare = Statement.model_validate({"id": 1, "state": "available", "output": {"status": "ok"}}).output
    assert bare is not None and bare.text is None and bare.json is None and bare.image_png is None


def test_lists_logs_batches_version() -> None:
    lst = StatementList.model_validate({"total_statements": 1, "statements": [{"id": 0, "state": "running"}]})
    assert lst.statements[0].state is StatementState.RUNNING
    page = LogPage.model_validate({"id": 3, "from": 5, "total": 7, "log": ["a", "b"]})
    assert page.from_ == 5 and page.model_dump(by_alias=True)["from"] == 5
    batch = Batch.model_validate(
        {
            "id": 3,
            "name": None,
            "owner": "alice",
            "proxyUser": "alice",
            "state": "running",
            "appId": "application_1716200000000_0042",
            "appInfo": {"driverLogUrl": "http://nm1", "sparkUiUrl": "http://rm", "executorLogUrls": None},
            "log": ["stdout: "],
        }
    )
    assert batch.state is BatchState.RUNNING and batch.app_info.spark_ui_url == "http://rm"
    assert (
        BatchList.model_validate({"from": 0, "total": 1, "sessions": [{"id": 1, "state": "success"}]})
        .batches[0]
        .id
        == 1
    )
    v = VersionInfo.model_validate(
        {"version": "0.9.0-incubating", "user": "x", "revision": "r", "branch": "b", "date": "d", "url": "u"}
    )
    assert v.parsed == LivyVersion(0, 9, 0)


def test_session_request_fields_are_gated_by_version() -> None:
    req = CreateSessionRequest(
        kind="pyspark",
        ttl="2h",
        idle_timeout="30m",
        heartbeat_timeout_in_second=60,
        driver_memory="2g",
        conf={"spark.executor.instances": 2, "spark.x": True},
    )
    p9 = req.to_payload(V09)
    assert p9 == {
        "kind": "pyspark",
        "driverMemory": "2g",
        "heartbeatTimeoutInSecond": 60,
        "conf": {"spark.executor.instances": "2", "spark.x": "true"},
        "ttl": "2h",
        "idleTimeout": "30m",
    }
    assert "idleTimeout" not in req.to_payload(V08) and req.to_payload(V08)["ttl"] == "2h"
    p7 = req.to_payload(V07)
    assert "ttl" not in p7 and "idleTimeout" not in p7 and p7["kind"] == "pyspark"


def test_requests_accept_both_spellings_and_refuse_typos() -> None:
    a = CreateSessionRequest.model_validate({"proxyUser": "bob", "num_executors": 3})
    assert a.to_payload(V09) == {"proxyUser": "bob", "numExecutors": 3}
    with pytest.raises(ValueError, match="driverMemroy"):
        CreateSessionRequest.model_validate({"driverMemroy": "1g"})
    with pytest.raises(ValueError, match="digits"):
        CreateSessionRequest(name="123")


@pytest.mark.parametrize(
    "key",
    [
        "spark.master",
        "spark.submit.deployMode",
        "spark.yarn.jars",
        "spark.yarn.jar",
        "spark.yarn.archive",
        "livy.rsc.server.idle-timeout",
    ],
)
def test_blacklisted_conf_is_refused_naming_the_key(key: str) -> None:
    with pytest.raises(ConfigError) as info:
        CreateSessionRequest(conf={key: "x"}).to_payload(V09)
    assert key in str(info.value) and info.value.key == f"conf.{key}"
    with pytest.raises(ConfigError):
        CreateBatchRequest(file="hdfs:///a.py", conf={key: "x"}).to_payload(V09)


def test_batch_request() -> None:
    req = CreateBatchRequest(
        file="hdfs:///jobs/etl.py", args=["--day", 3], class_name=None, py_files=["a.py"]
    )
    assert req.to_payload(V07) == {"file": "hdfs:///jobs/etl.py", "args": ["--day", "3"], "pyFiles": ["a.py"]}
    with pytest.raises(ValueError, match="file"):
        CreateBatchRequest.model_validate({"args": []})
    with pytest.raises(ValueError, match="ttl"):
        CreateBatchRequest.model_validate({"file": "x", "ttl": "1h"})
