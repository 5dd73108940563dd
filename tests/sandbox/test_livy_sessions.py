"""The sandbox's interactive-session REST API over raw HTTP, compared with livy-rest.md's examples.

Deliberately uses httpx directly, never livyd's client: the sandbox must match Livy, not us.
All sessions here are plain-Python (no statement touches ``spark``), so no JVM starts.
"""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from livy_http import new_session, wait_statement, wait_until, zip_with_module
from livy_http import run_statement as run
from support import SandboxProcess, has_module

SESSION_KEYS_09 = ["id", "name", "appId", "owner", "proxyUser", "state", "kind", "appInfo", "log", "ttl",
                   "idleTimeout", "driverMemory", "driverCores", "executorMemory", "executorCores", "conf",
                   "archives", "files", "heartbeatTimeoutInSecond", "jars", "numExecutors", "pyFiles",
                   "queue"]


@pytest.fixture
def http(sandbox: SandboxProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.livy_url, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def shared_session(sandbox: SandboxProcess) -> Iterator[int]:
    with httpx.Client(base_url=sandbox.livy_url, timeout=30) as client:
        sid = new_session(client)
        yield sid
        client.delete(f"/sessions/{sid}")


def test_version_is_parseable_by_pylivy(http: httpx.Client) -> None:
    r = http.get("/version")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert list(body) == ["version", "user", "revision", "branch", "date", "url"]
    assert body["version"] == "0.9.0-incubating"


def test_create_session_matches_the_literal_example(http: httpx.Client) -> None:
    r = http.post("/sessions", json={"kind": "pyspark"})
    assert r.status_code == 201
    body = r.json()
    sid = body["id"]
    assert r.headers["location"] == f"/sessions/{sid}"
    # livy-rest.md 4.1, "just created, no auth, local master", key order included.
    expected = {"id": sid, "name": None, "appId": None, "owner": None, "proxyUser": None, "state": "starting",
                "kind": "pyspark",
                "appInfo": {"driverLogUrl": None, "sparkUiUrl": None, "executorLogUrls": None},
                "log": ["stdout: ", "\nstderr: "], "ttl": None, "idleTimeout": None, "driverMemory": None,
                "driverCores": 0, "executorMemory": None, "executorCores": 0, "conf": {}, "archives": [],
                "files": [], "heartbeatTimeoutInSecond": 0, "jars": [], "numExecutors": 0, "pyFiles": [],
                "queue": None}
    assert body == expected
    assert list(body) == SESSION_KEYS_09
    wait_until(lambda: http.get(f"/sessions/{sid}").json()["state"] == "idle", what="idle")
    assert http.get(f"/sessions/{sid}/state").json() == {"id": sid, "state": "idle"}
    assert http.delete(f"/sessions/{sid}").json() == {"msg": "deleted"}
    r = http.get(f"/sessions/{sid}")
    assert r.status_code == 404
    assert r.json() == {"msg": f"Session '{sid}' not found."}


def test_statement_lifecycle_and_literal_output(http: httpx.Client, shared_session: int) -> None:
    sid = shared_session
    r = http.post(f"/sessions/{sid}/statements", json={"code": "1 + 1"})
    assert r.status_code == 201
    st = r.json()
    assert r.headers["location"] == f"/sessions/{sid}/statements/{st['id']}"
    assert list(st) == ["id", "code", "state", "output", "progress", "started", "completed"]
    assert st["code"] == "1 + 1" and st["state"] in ("waiting", "running", "available")
    done = run(http, sid, "1 + 1")
    assert done["output"] == {"status": "ok", "execution_count": done["id"], "data": {"text/plain": "2"}}
    assert list(done["output"]) == ["status", "execution_count", "data"]
    assert done["progress"] == 1.0
    assert 0 < done["started"] <= done["completed"]
    assert abs(done["completed"] / 1000 - time.time()) < 60


def test_error_output_shape(http: httpx.Client, shared_session: int) -> None:
    out = run(http, shared_session, "undefined_name_xyz")["output"]
    assert list(out) == ["status", "execution_count", "ename", "evalue", "traceback"]
    assert out["status"] == "error" and out["ename"] == "NameError"
    assert out["evalue"] == "name 'undefined_name_xyz' is not defined"
    assert out["traceback"][-1] == "NameError: name 'undefined_name_xyz' is not defined\n"


def test_state_is_kept_between_statements_and_stdout_captured(http: httpx.Client,
                                                               shared_session: int) -> None:
    run(http, shared_session, "counter = 40")
    out = run(http, shared_session, "counter += 2\nprint('value', counter)   \n")["output"]
    assert out["data"] == {"text/plain": "value 42"}


def test_unknown_session_and_statement(http: httpx.Client, shared_session: int) -> None:
    for path in ("/sessions/424242", "/sessions/424242/log", "/sessions/424242/statements",
                 "/sessions/nosuchname/state"):
        r = http.get(path)
        assert r.status_code == 404, path
        key = path.split("/")[2]
        assert r.json() == {"msg": f"Session '{key}' not found."}
    r = http.get(f"/sessions/{shared_session}/statements/99999")
    assert r.status_code == 404 and r.json() == "Statement not found"
    r = http.get(f"/sessions/{shared_session}/statements/abc")
    assert r.status_code == 400 and r.json() == {"msg": 'For input string: "abc"'}
    r = http.get("/sessions/99999999999")
    assert r.status_code == 400


def test_jackson_errors_are_bare_strings(http: httpx.Client) -> None:
    r = http.post("/sessions", json={"kind": "pyspark", "foo": 1})
    assert r.status_code == 400
    assert isinstance(r.json(), str)
    assert r.json().startswith('Unrecognized field "foo" (class '
                               'org.apache.livy.server.interactive.CreateInteractiveRequest), not marked as '
                               'ignorable')
    r = http.post("/sessions", content=b"{not json")
    assert r.status_code == 400 and isinstance(r.json(), str)
    r = http.post("/sessions", content=b"")
    assert r.status_code == 400 and r.json().startswith("No content to map due to end-of-input")
    r = http.post("/sessions", json={"kind": "pyspark3"})
    assert r.status_code == 400 and r.json().startswith("Invalid kind: pyspark3")
    r = http.post("/sessions", json={"kind": "pyspark", "driverCores": "x"})
    assert r.status_code == 400 and isinstance(r.json(), str) and "driverCores" in r.json()


def test_coercion_and_request_echo(http: httpx.Client) -> None:
    r = http.post("/sessions", json={"kind": "python", "driverCores": "2", "conf": {"spark.x": 5},
                                     "driverMemory": "1g", "name": "echo-me", "idleTimeout": "1h"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["kind"] == "pyspark" and body["driverCores"] == 2 and body["conf"] == {"spark.x": "5"}
    assert body["driverMemory"] == "1g" and body["name"] == "echo-me" and body["idleTimeout"] == "1h"
    # by name
    assert http.get("/sessions/echo-me").json()["id"] == body["id"]
    assert http.delete("/sessions/echo-me").json() == {"msg": "deleted"}


def test_validation_rejections_consume_ids(http: httpx.Client) -> None:
    first = http.post("/sessions", json={"kind": "pyspark", "name": "dup-name"}).json()["id"]
    r = http.post("/sessions", json={"kind": "pyspark", "name": "dup-name"})
    assert r.status_code == 400
    assert r.json() == {
        "msg": f"Rejected, Reason: Duplicate session name: Some(dup-name) for session {first + 1}"}
    r = http.post("/sessions", json={"kind": "pyspark", "name": "123"})
    assert r.json() == {"msg": "Rejected, Reason: Invalid session name: 123"}
    r = http.post("/sessions", json={"kind": "pyspark", "ttl": "abc"})
    assert r.status_code == 400 and r.json() == {"msg": "Rejected, Reason: Invalid time string: abc"}
    r = http.post("/sessions", json={"kind": "pyspark", "conf": {"spark.master": "yarn"}})
    assert r.status_code == 400
    assert r.json()["msg"].startswith("Rejected, Reason: Blacklisted configuration values in session config: "
                                      "spark.master")
    r = http.post("/sessions", json={"kind": "spark"})  # Scala: pyspark's bundled REPL
    if has_module("pyspark"):
        assert r.status_code == 201 and r.json()["kind"] == "spark"
        http.delete(f"/sessions/{r.json()['id']}")
    else:
        assert r.status_code == 400 and "comes with pyspark" in r.json()["msg"]
    r = http.post("/sessions", json={"kind": "sparkr"})
    assert r.status_code == 400 and "no R interpreter" in r.json()["msg"]
    # Four rejections above consumed four ids.
    last = http.post("/sessions", json={"kind": "pyspark"}).json()["id"]
    assert last == first + 7
    http.delete(f"/sessions/{first}")
    http.delete(f"/sessions/{last}")


def test_session_list_shape_and_paging(http: httpx.Client, shared_session: int) -> None:
    body = http.get("/sessions").json()
    assert list(body) == ["from", "total", "sessions"]
    assert body["from"] == 0 and body["total"] == len(body["sessions"]) >= 1
    paged = http.get("/sessions", params={"from": -3, "size": 1}).json()
    assert paged["from"] == -3 and paged["total"] == body["total"] and len(paged["sessions"]) == 1
    assert http.get("/sessions", params={"from": 10_000}).json()["sessions"] == []
    r = http.get("/sessions", params={"from": "x"})
    assert r.status_code == 400 and r.json() == {"msg": 'For input string: "x"'}


def test_statement_list_from_size_order(http: httpx.Client) -> None:
    sid = new_session(http)
    for i in range(4):
        run(http, sid, f"{i}")
    body = http.get(f"/sessions/{sid}/statements").json()
    assert list(body) == ["total_statements", "statements"] and body["total_statements"] == 4
    assert [s["id"] for s in body["statements"]] == [0, 1, 2, 3]
    page = http.get(f"/sessions/{sid}/statements", params={"from": 1, "size": 2}).json()
    assert [s["id"] for s in page["statements"]] == [1, 2] and page["total_statements"] == 4
    desc = http.get(f"/sessions/{sid}/statements", params={"order": "DESC", "size": 2}).json()
    assert [s["id"] for s in desc["statements"]] == [3, 2]
    http.delete(f"/sessions/{sid}")


def test_queue_busy_cancel_waiting_and_forced_cancel(http: httpx.Client) -> None:
    """The default fixture's --cancel-timeout is 3 s: a loop ignoring cancel is forced cancelled."""
    sid = new_session(http)
    loop = http.post(f"/sessions/{sid}/statements",
                     json={"code": "import time\nend = time.time() + 6\n"
                                   "while time.time() < end: pass\n'done'"})
    waiting = http.post(f"/sessions/{sid}/statements", json={"code": "'second'"}).json()["id"]
    third = http.post(f"/sessions/{sid}/statements", json={"code": "'third'"}).json()["id"]
    loop_id = loop.json()["id"]
    wait_until(lambda: http.get(f"/sessions/{sid}/statements/{loop_id}").json()["state"] == "running")
    assert http.get(f"/sessions/{sid}/state").json()["state"] == "busy"
    # waiting → cancelled at once, output null, started 0
    assert http.post(f"/sessions/{sid}/statements/{waiting}/cancel").json() == {"msg": "canceled"}
    st = http.get(f"/sessions/{sid}/statements/{waiting}").json()
    assert st["state"] == "cancelled" and st["output"] is None and st["started"] == 0
    # running → cancelling → cancelled after the timeout although the loop keeps running
    assert http.post(f"/sessions/{sid}/statements/{loop_id}/cancel").json() == {"msg": "canceled"}
    assert http.get(f"/sessions/{sid}/statements/{loop_id}").json()["state"] == "cancelling"
    t0 = time.monotonic()
    wait_until(lambda: http.get(f"/sessions/{sid}/statements/{loop_id}").json()["state"] == "cancelled",
               what="forced cancel")
    assert time.monotonic() - t0 > 1.5
    assert http.get(f"/sessions/{sid}/statements/{third}").json()["state"] == "waiting"
    assert http.get(f"/sessions/{sid}/state").json()["state"] == "busy"
    # the third runs only once the loop really ends
    done = wait_statement(http, sid, third, ("available",), what="third statement")
    assert done["output"]["data"] == {"text/plain": "'third'"}
    # cancel is fire-and-forget for unknown and finished ids too
    assert http.post(f"/sessions/{sid}/statements/777/cancel").json() == {"msg": "canceled"}
    assert http.post(f"/sessions/{sid}/statements/{third}/cancel").json() == {"msg": "canceled"}
    wait_until(lambda: http.get(f"/sessions/{sid}/state").json()["state"] == "idle")
    http.delete(f"/sessions/{sid}")


def test_interpreter_death_sets_error_state(http: httpx.Client) -> None:
    sid = new_session(http)
    out = run(http, sid, "import os\nos._exit(3)")["output"]
    assert out["status"] == "error" and out["ename"] == "Error"
    assert out["evalue"].startswith("Interpreter died:") and out["traceback"] == []
    assert http.get(f"/sessions/{sid}/state").json()["state"] == "error"
    # error is not terminal: statements are still accepted (and fail the same way)
    r = http.post(f"/sessions/{sid}/statements", json={"code": "1"})
    assert r.status_code == 201
    http.delete(f"/sessions/{sid}")


def test_stop_interrupt_and_inactive_sessions(http: httpx.Client) -> None:
    sid = new_session(http)
    r = http.post(f"/sessions/{sid}/stop")
    assert r.status_code == 204 and r.content == b""
    assert http.get(f"/sessions/{sid}/state").json() == {"id": sid, "state": "dead"}
    r = http.get(f"/sessions/{sid}/statements")
    assert r.status_code == 400 and r.json() == {"msg": "requirement failed: Session isn't active."}
    r = http.post(f"/sessions/{sid}/statements", json={"code": "1"})
    assert r.status_code == 500 and r.json() == "java.lang.IllegalStateException: Session is in state dead"
    r = http.post(f"/sessions/{sid}/statements/0/cancel")
    assert r.status_code == 500
    assert http.delete(f"/sessions/{sid}").json() == {"msg": "deleted"}

    sid = new_session(http)
    assert http.post(f"/sessions/{sid}/interrupt").json() == {"msg": "interrupted"}
    assert http.get(f"/sessions/{sid}/state").json()["state"] == "dead"
    http.delete(f"/sessions/{sid}")


def test_connect_completion_405_406(http: httpx.Client, shared_session: int) -> None:
    r = http.post(f"/sessions/{shared_session}/connect")
    assert r.status_code == 200 and r.json()["id"] == shared_session
    r = http.post(f"/sessions/{shared_session}/completion",
                  json={"code": "pri", "kind": "pyspark", "cursor": 3})
    assert r.status_code == 200 and r.json() == {"candidates": []}
    r = http.post(f"/sessions/{shared_session}/completion", json={"code": "x", "bogus": 1})
    assert r.status_code == 400 and isinstance(r.json(), str)
    assert http.put(f"/sessions/{shared_session}").status_code == 405
    assert http.head(f"/sessions/{shared_session}").status_code == 200
    r = http.get("/sessions", headers={"Accept": "application/vnd.livy.v0.2+json"})
    assert r.status_code == 406 and isinstance(r.json(), str)
    assert http.get("/sessions", headers={"Accept": "application/vnd.livy.v0.1+json"}).status_code == 200
    assert http.post("/sessions/", json={"kind": "pyspark", "name": "slash"}).status_code == 201
    http.delete("/sessions/slash")


def test_shared_session_needs_statement_kind(http: httpx.Client) -> None:
    r = http.post("/sessions", json={})
    assert r.status_code == 201 and r.json()["kind"] == "shared"
    sid = r.json()["id"]
    wait_until(lambda: http.get(f"/sessions/{sid}/state").json()["state"] == "idle")
    r = http.post(f"/sessions/{sid}/statements", json={"code": "1"})
    assert r.status_code == 500 and "Code type should be specified if session kind is shared" in r.json()
    out = run(http, sid, "6 * 7", kind="python")["output"]
    assert out["data"] == {"text/plain": "42"}
    r = http.post(f"/sessions/{sid}/statements", json={"code": "1", "kind": "sparkr"})
    assert r.status_code == 400 and "no R interpreter" in r.json()["msg"]
    http.delete(f"/sessions/{sid}")


def test_session_log_layout_ring_buffer_and_slicing(http: httpx.Client, shared_session: int) -> None:
    sid = shared_session
    run(http, sid, "import sys\nfor i in range(250): print('line', i, file=sys.__stderr__, flush=True)")
    wait_until(lambda: "line 249" in http.get(f"/sessions/{sid}/log", params={"size": 1}).json()["log"][0],
               what="the last log line")
    full = http.get(f"/sessions/{sid}/log", params={"size": -1}).json()
    assert list(full) == ["id", "from", "total", "log"]
    lines = full["log"]
    assert lines[0] == "stdout: " and "\nstderr: " in lines
    stderr_part = lines[lines.index("\nstderr: ") + 1:]
    assert len(stderr_part) == 200  # the ring buffer wrapped: "line 0".."line 49" are gone
    assert stderr_part[-1] == "line 249" and stderr_part[0] == "line 50"
    total = full["total"]
    assert total == len(lines)
    tail = http.get(f"/sessions/{sid}/log").json()
    assert tail["from"] == total - 100 and len(tail["log"]) == 100 and tail["total"] == total
    head = http.get(f"/sessions/{sid}/log", params={"from": 0, "size": 3}).json()
    assert head["from"] == 0 and head["log"] == lines[:3]
    empty = http.get(f"/sessions/{sid}/log", params={"size": 0}).json()
    assert empty["from"] == total and empty["log"] == []
    # the session JSON shows the last 10 lines
    assert http.get(f"/sessions/{sid}").json()["log"] == lines[-10:]


def test_statement_retention_is_100(http: httpx.Client) -> None:
    sid = new_session(http)
    last = 0
    for i in range(101):
        last = http.post(f"/sessions/{sid}/statements", json={"code": str(i)}).json()["id"]
    wait_until(lambda: http.get(f"/sessions/{sid}/statements/{last}").json()["state"] == "available")
    assert http.get(f"/sessions/{sid}/statements/0").status_code == 404
    body = http.get(f"/sessions/{sid}/statements").json()
    assert body["total_statements"] == 100 and body["statements"][0]["id"] == 1
    http.delete(f"/sessions/{sid}")


def test_upload_and_add_pyfile(http: httpx.Client, sandbox: SandboxProcess, tmp_path: Path) -> None:
    sid = new_session(http)
    r = http.post(f"/sessions/{sid}/upload-pyfile", files={"file": ("upmod.zip",
                                                                      zip_with_module("upmod", "X = 'up'"))})
    assert r.status_code == 200 and r.content == b""
    assert run(http, sid, "import upmod\nupmod.X")["output"]["data"] == {"text/plain": "'up'"}
    r = http.post(f"/sessions/{sid}/upload-jar", files={"other": ("a.jar", b"x")})
    assert r.status_code == 400 and r.json() == "No jar sent!"
    r = http.post(f"/sessions/{sid}/upload-file", files={"other": ("a.txt", b"x")})
    assert r.status_code == 400 and r.json() == "No file sent!"
    # add-pyfile by URI: a zip placed in the sandbox's HDFS (its data dir)
    (sandbox.data_dir / "libs").mkdir(exist_ok=True)
    (sandbox.data_dir / "libs" / "hmod.zip").write_bytes(zip_with_module("hmod", "Y = 7"))
    r = http.post(f"/sessions/{sid}/add-pyfile", json={"uri": "hdfs:///libs/hmod.zip"})
    assert r.status_code == 200, r.text
    assert run(http, sid, "import hmod\nhmod.Y")["output"]["data"] == {"text/plain": "7"}
    local = tmp_path / "lmod.py"
    local.write_text("Z = 'local'\n")
    r = http.post(f"/sessions/{sid}/add-pyfile", json={"uri": local.as_uri()})
    assert r.status_code == 200, r.text
    assert run(http, sid, "import lmod\nlmod.Z")["output"]["data"] == {"text/plain": "'local'"}
    r = http.post(f"/sessions/{sid}/add-file", json={"uri": "hdfs:///does/not/exist.txt"})
    assert r.status_code == 400 and "hdfs:///does/not/exist.txt" in r.json()["msg"]
    http.delete(f"/sessions/{sid}")


def test_pyfiles_and_archives_at_creation(http: httpx.Client, sandbox: SandboxProcess) -> None:
    (sandbox.data_dir / "create").mkdir(exist_ok=True)
    (sandbox.data_dir / "create" / "cmod.zip").write_bytes(zip_with_module("cmod", "V = 'created'"))
    (sandbox.data_dir / "create" / "arch.zip").write_bytes(zip_with_module("amod", "W = 'archived'"))
    (sandbox.data_dir / "create" / "settings.txt").write_text("from files\n")
    sid = new_session(http, pyFiles=["hdfs:///create/cmod.zip"], archives=["hdfs:///create/arch.zip"],
                      files=["/create/settings.txt"])  # scheme-less: fs.defaultFS, the sandbox's HDFS
    assert run(http, sid, "import cmod\ncmod.V")["output"]["data"] == {"text/plain": "'created'"}
    assert run(http, sid, "open('settings.txt').read().strip()")["output"]["data"] == {
        "text/plain": "'from files'"}
    assert run(http, sid, "import amod\namod.W")["output"]["data"] == {"text/plain": "'archived'"}
    http.delete(f"/sessions/{sid}")
    r = http.post("/sessions", json={"kind": "pyspark", "pyFiles": ["relative/x.zip"]})
    assert r.status_code == 400
    assert r.json() == {"msg": "Rejected, Reason: Path 'relative/x.zip' is not absolute."}
    r = http.post("/sessions", json={"kind": "pyspark", "jars": ["s3a://bucket/x.jar"]})
    assert r.status_code == 400 and "s3a://bucket/x.jar" in r.json()["msg"]


def test_yarn_aliases_name_files_and_archives(http: httpx.Client, sandbox: SandboxProcess) -> None:
    """``x.zip#deps`` is unpacked into ``./deps`` and ``a.txt#b.txt`` lands as ``./b.txt``, as YARN
    localizes them for the driver."""
    (sandbox.data_dir / "alias").mkdir(exist_ok=True)
    (sandbox.data_dir / "alias" / "arch.zip").write_bytes(zip_with_module("aliasmod", "Z = 'aliased'"))
    (sandbox.data_dir / "alias" / "settings.txt").write_text("renamed\n")
    sid = new_session(http, archives=["hdfs:///alias/arch.zip#deps"],
                      files=["hdfs:///alias/settings.txt#conf.txt"])
    out = run(http, sid, "import os\nsorted(os.listdir('deps')), open('conf.txt').read().strip()")
    assert out["output"]["data"] == {"text/plain": "(['aliasmod'], 'renamed')"}, out
    assert run(http, sid, "import aliasmod\naliasmod.Z")["output"]["data"] == {"text/plain": "'aliased'"}
    http.delete(f"/sessions/{sid}")
    r = http.post("/sessions", json={"kind": "pyspark", "archives": ["hdfs:///alias/arch.zip#../up"]})
    assert r.status_code == 400 and "archives" in r.json()["msg"] and "alias" in r.json()["msg"]


def webhdfs_put(base: str, path: str, data: bytes, headers: dict[str, str] | None = None) -> None:
    """WebHDFS CREATE the real way: step 1 without data (307), step 2 the bytes to Location."""
    step1 = httpx.put(f"{base}{path}", params={"op": "CREATE", "overwrite": "true"}, headers=headers,
                      timeout=30, follow_redirects=False)
    assert step1.status_code == 307, step1.text
    step2 = httpx.put(step1.headers["location"], content=data, headers=headers, timeout=30)
    assert step2.status_code == 201, step2.text


def test_upload_to_webhdfs_then_import_end_to_end(http: httpx.Client, sandbox: SandboxProcess) -> None:
    webhdfs_put(sandbox.webhdfs_url, "/user/e2e/lib.zip", zip_with_module("e2elib", "NAME = 'e2e'"))
    webhdfs_put(sandbox.webhdfs_url, "/user/e2e/url.zip", zip_with_module("urllib_e2e", "N = 2"))
    sid = new_session(http, pyFiles=["hdfs:///user/e2e/lib.zip", f"{sandbox.webhdfs_url}/user/e2e/url.zip"])
    out = run(http, sid, "import e2elib, urllib_e2e\n(e2elib.NAME, urllib_e2e.N)")["output"]
    assert out["data"] == {"text/plain": "('e2e', 2)"}
    http.delete(f"/sessions/{sid}")


# ------------------------------------------------------------------ wire details (livy-rest.md 1.5, 1.7)

def test_responses_are_gzipped_when_the_client_accepts_it(sandbox: SandboxProcess) -> None:
    with httpx.Client(base_url=sandbox.livy_url) as http:
        with http.stream("GET", "/sessions", headers={"Accept-Encoding": "gzip"}) as r:
            assert r.headers["content-encoding"] == "gzip"
            sent = b"".join(r.iter_raw())  # as sent: httpx would decompress .read()
        assert json.loads(gzip.decompress(sent))["from"] == 0
        plain = http.get("/version", headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers and plain.json()["version"]


def test_method_override_deletes_with_a_post(http: httpx.Client) -> None:
    for how in ("header", "param"):
        sid = new_session(http)
        if how == "header":
            r = http.post(f"/sessions/{sid}", headers={"X-HTTP-Method-Override": "DELETE"})
        else:
            r = http.post(f"/sessions/{sid}", params={"_method": "delete"})
        assert r.status_code == 200 and r.json() == {"msg": "deleted"}, (how, r.text)
        assert http.get(f"/sessions/{sid}").status_code == 404
    # A plain POST to the same path is still a 405.
    assert http.post("/sessions/0").status_code == 405
