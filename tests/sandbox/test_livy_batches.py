"""Batches over raw HTTP (livy-rest.md 5.3, 9, 10).

Most tests use ``--batch-launcher python`` (no JVM); the spark-submit path is covered once
under ``@pytest.mark.spark`` and by the pylivy conformance test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import httpx
import livy_http
import pytest
from livy_http import pid_alive
from support import SandboxProcess, has_module, require

ARGS = ("--batch-launcher", "python", "--cancel-timeout", "3")

wait_until = partial(livy_http.wait_until, timeout=30.0)


@pytest.fixture
def sb(sandbox_factory: Callable[..., SandboxProcess]) -> SandboxProcess:
    return sandbox_factory(*ARGS)


@pytest.fixture
def http(sb: SandboxProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sb.livy_url, timeout=30) as client:
        yield client


def finished(http: httpx.Client, bid: int) -> str:
    return str(wait_until(lambda: (s := http.get(f"/batches/{bid}/state").json()["state"])
                          in ("success", "dead", "killed") and s, what=f"batch {bid}"))


def test_batch_success_with_args_pyfiles_files_and_log(http: httpx.Client, sb: SandboxProcess,
                                                       tmp_path: Path) -> None:
    (tmp_path / "helper.py").write_text("GREETING = 'hello from pyFiles'\n")
    (tmp_path / "data.txt").write_text("payload\n")
    script = tmp_path / "job.py"
    script.write_text("import sys, helper\nprint(helper.GREETING, *sys.argv[1:])\n"
                      "print(open('data.txt').read().strip())\nprint('to stderr', file=sys.stderr)\n")
    r = http.post("/batches", json={"file": str(script), "args": ["a", "b"], "pyFiles": [str(tmp_path)],
                                    "files": [(tmp_path / "data.txt").as_uri()], "name": "job-ok"})
    assert r.status_code == 201, r.text
    body = r.json()
    bid = body["id"]
    assert r.headers["location"] == f"/batches/{bid}"
    assert list(body) == ["id", "name", "owner", "proxyUser", "state", "appId", "appInfo", "log"]
    assert body["state"] == "starting" and body["name"] == "job-ok" and body["appId"] is None
    assert finished(http, bid) == "success"
    log = http.get(f"/batches/{bid}/log", params={"size": -1}).json()
    assert list(log) == ["id", "from", "total", "log"]
    assert log["log"][0] == "stdout: "
    assert "hello from pyFiles a b" in log["log"] and "payload" in log["log"]
    assert log["log"][log["log"].index("\nstderr: ") + 1:] == ["to stderr"]
    assert http.get("/batches/job-ok").json()["id"] == bid
    listing = http.get("/batches").json()
    assert list(listing) == ["from", "total", "sessions"] and any(b["id"] == bid for b in listing["sessions"])
    assert http.delete(f"/batches/{bid}").json() == {"msg": "deleted"}
    r = http.get(f"/batches/{bid}")
    assert r.status_code == 404 and r.json() == {"msg": f"Session '{bid}' not found."}


def test_failing_batch_is_dead(http: httpx.Client, tmp_path: Path) -> None:
    script = tmp_path / "fail.py"
    script.write_text("raise SystemExit(3)\n")
    bid = http.post("/batches", json={"file": script.as_uri()}).json()["id"]
    assert finished(http, bid) == "dead"


def test_hdfs_file_batch(http: httpx.Client, sb: SandboxProcess) -> None:
    (sb.data_dir / "jobs").mkdir(exist_ok=True)
    (sb.data_dir / "jobs" / "h.py").write_text("print('from hdfs')\n")
    bid = http.post("/batches", json={"file": "hdfs:///jobs/h.py"}).json()["id"]
    assert finished(http, bid) == "success"
    assert "from hdfs" in http.get(f"/batches/{bid}/log").json()["log"]


def test_delete_kills_the_process_tree(http: httpx.Client, tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    script = tmp_path / "tree.py"
    script.write_text(
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
        f"open({str(pidfile)!r}, 'w').write(str(child.pid))\n"
        "print('started', flush=True)\ntime.sleep(120)\n")
    bid = http.post("/batches", json={"file": str(script)}).json()["id"]
    wait_until(lambda: pidfile.exists() and pidfile.read_text(), what="child pid")
    child = int(pidfile.read_text())
    assert http.get(f"/batches/{bid}/state").json()["state"] == "running"
    assert http.delete(f"/batches/{bid}").json() == {"msg": "deleted"}
    # a zombie whose parent died is reaped by init; pid_alive treats "Z" as gone
    wait_until(lambda: not pid_alive(child), what="the grandchild to die")


def test_batch_validation(http: httpx.Client, tmp_path: Path) -> None:
    r = http.post("/batches", json={"args": ["x"]})
    assert r.status_code == 400
    assert r.json() == {"msg": "Rejected, Reason: requirement failed: File is required."}
    r = http.post("/batches", json={"file": "/x.py", "kind": "pyspark"})
    assert r.status_code == 400 and r.json().startswith('Unrecognized field "kind" (class '
                                                        "org.apache.livy.server.batch.CreateBatchRequest)")
    r = http.post("/batches", json={"file": str(tmp_path / "missing.py")})
    assert r.status_code == 400 and "missing.py" in r.json()["msg"]
    jar = tmp_path / "app.jar"
    jar.write_bytes(b"PK")
    r = http.post("/batches", json={"file": str(jar), "className": "com.example.Main"})
    assert r.status_code == 400 and "pyspark" in r.json()["msg"] and "app.jar" in r.json()["msg"]
    r = http.post("/batches", json={"file": str(jar), "conf": {"spark.submit.deployMode": "cluster"}})
    assert r.status_code == 400 and "Blacklisted" in r.json()["msg"]


@pytest.mark.spark
def test_spark_submit_batch(sandbox: SandboxProcess, tmp_path: Path) -> None:
    """The default sandbox (``--batch-launcher auto``) runs .py batches with spark-submit."""
    require(has_module("pyspark"), "pyspark (pip install 'livyd[spark]')")
    sb = sandbox
    script = tmp_path / "spark_job.py"
    script.write_text("import sys\nfrom pyspark.sql import SparkSession\n"
                      "spark = SparkSession.builder.getOrCreate()\n"
                      "print('count', spark.range(int(sys.argv[1])).count(), flush=True)\n"
                      "print('master', spark.sparkContext.master, flush=True)\nspark.stop()\n")
    with httpx.Client(base_url=sb.livy_url, timeout=30) as http:
        bid = http.post("/batches", json={"file": str(script), "args": ["123"]}).json()["id"]
        assert wait_until(lambda: (s := http.get(f"/batches/{bid}/state").json()["state"])
                          in ("success", "dead") and s, timeout=120) == "success"
        log = http.get(f"/batches/{bid}/log", params={"size": -1}).json()["log"]
        assert "count 123" in log and "master local[1]" in log
