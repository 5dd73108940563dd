"""Session start-up edge cases and --interrupt-on-cancel, over raw HTTP.

A slow interpreter (a wrapper that sleeps before exec'ing Python) makes ``starting`` last long
enough to observe deterministically; a missing interpreter makes the session die at start.
"""

from __future__ import annotations

import stat
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path

import httpx
import livy_http
import pytest
from livy_http import wait_statement
from support import SandboxProcess

Factory = Callable[..., SandboxProcess]

wait_until = partial(livy_http.wait_until, timeout=30.0)


@pytest.fixture(scope="module")
def slow_python(tmp_path_factory: pytest.TempPathFactory) -> str:
    wrapper = tmp_path_factory.mktemp("slowpy") / "slow-python"
    wrapper.write_text(f"#!/bin/sh\nsleep 1.5\nexec {sys.executable} \"$@\"\n")
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    return str(wrapper)


def test_starting_session_refuses_statements_and_blocks_reads(sandbox_factory: Factory,
                                                              slow_python: str) -> None:
    sb = sandbox_factory("--python", slow_python)
    with httpx.Client(base_url=sb.livy_url, timeout=30) as http:
        sid = http.post("/sessions", json={"kind": "pyspark"}).json()["id"]
        r = http.post(f"/sessions/{sid}/statements", json={"code": "1"})
        assert r.status_code == 500
        assert r.json() == "java.lang.IllegalStateException: Session is in state starting"
        r = http.post(f"/sessions/{sid}/completion", json={"code": "", "kind": "pyspark", "cursor": 0})
        assert r.status_code == 500
        assert http.get(f"/sessions/{sid}/state").json()["state"] == "starting"
        # reading statements during starting blocks until the driver is up (livy-rest.md 7.4)
        r = http.get(f"/sessions/{sid}/statements")
        assert r.status_code == 200 and r.json() == {"total_statements": 0, "statements": []}
        assert http.get(f"/sessions/{sid}/state").json()["state"] == "idle"
        http.delete(f"/sessions/{sid}")


def test_session_whose_interpreter_cannot_start_dies(sandbox_factory: Factory, tmp_path: Path) -> None:
    sb = sandbox_factory("--python", "/nonexistent/bin/python3")
    with httpx.Client(base_url=sb.livy_url, timeout=30) as http:
        sid = http.post("/sessions", json={"kind": "pyspark"}).json()["id"]
        wait_until(lambda: http.get(f"/sessions/{sid}/state").json()["state"] == "dead", what="dead")
        log = http.get(f"/sessions/{sid}/log").json()["log"]
        assert any("/nonexistent/bin/python3" in line for line in log), log
        r = http.post(f"/sessions/{sid}/statements", json={"code": "1"})
        assert r.status_code == 500 and r.json().endswith("Session is in state dead")


def test_interrupt_on_cancel_stops_a_python_loop(sandbox_factory: Factory) -> None:
    sb = sandbox_factory("--interrupt-on-cancel")
    with httpx.Client(base_url=sb.livy_url, timeout=30) as http:
        sid = http.post("/sessions", json={"kind": "pyspark"}).json()["id"]
        wait_until(lambda: http.get(f"/sessions/{sid}/state").json()["state"] == "idle")
        st = http.post(f"/sessions/{sid}/statements", json={"code": "while True: pass"}).json()["id"]
        wait_until(lambda: http.get(f"/sessions/{sid}/statements/{st}").json()["state"] == "running")
        assert http.post(f"/sessions/{sid}/statements/{st}/cancel").json() == {"msg": "canceled"}
        done = wait_statement(http, sid, st, ("cancelled",), timeout=60.0, what="cancelled")
        # interrupted, not the forced job-cancel timeout (which leaves the output null)
        assert done["output"] is not None, "the loop was not interrupted: the forced cancel timeout ended it"
        assert done["output"]["status"] == "error" and done["output"]["ename"] == "KeyboardInterrupt"
        after = http.post(f"/sessions/{sid}/statements", json={"code": "'still usable'"}).json()["id"]
        out = wait_statement(http, sid, after, ("available",), timeout=30.0)
        assert out["output"]["data"] == {"text/plain": "'still usable'"}
        http.delete(f"/sessions/{sid}")
    assert sb.proc.poll() is None  # the sandbox itself is unaffected by the SIGINT
