"""Heartbeat expiry, idle timeout and dead-session retention (livy-rest.md 5.2, 13.3, 13.4).

One sandbox with shortened intervals: checks every 0.2 s, dead sessions retained 1 s.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from livy_http import new_session, wait_until
from support import SandboxProcess

ARGS = ("--heartbeat-check-interval", "0.2", "--state-retain", "1", "--cancel-timeout", "3")


@pytest.fixture
def http(sandbox_factory: Callable[..., SandboxProcess]) -> Iterator[httpx.Client]:
    sb = sandbox_factory(*ARGS)
    with httpx.Client(base_url=sb.livy_url, timeout=30) as client:
        yield client


def listed(http: httpx.Client, sid: int) -> bool:
    return any(s["id"] == sid for s in http.get("/sessions").json()["sessions"])


def test_idle_timeout_deletes_an_unused_session(http: httpx.Client) -> None:
    t0 = time.monotonic()  # creation is the last activity
    sid = new_session(http, idleTimeout="1s")
    # GET /sessions (the list) neither counts as activity nor refreshes anything
    wait_until(lambda: not listed(http, sid), what="idle timeout")
    assert time.monotonic() - t0 >= 1.0
    assert http.get(f"/sessions/{sid}").status_code == 404


def test_activity_keeps_a_session_alive(http: httpx.Client) -> None:
    sid = new_session(http, idleTimeout="1500ms")
    end = time.monotonic() + 3
    while time.monotonic() < end:  # statements count as activity
        r = http.post(f"/sessions/{sid}/statements", json={"code": "1"})
        assert r.status_code == 201, r.text
        time.sleep(0.3)
    assert http.get(f"/sessions/{sid}/state").json()["state"] in ("idle", "busy")
    http.delete(f"/sessions/{sid}")


def test_heartbeat_expiry_and_refresh(http: httpx.Client) -> None:
    kept = new_session(http, heartbeatTimeoutInSecond=1)
    dropped = new_session(http, heartbeatTimeoutInSecond=1)
    end = time.monotonic() + 2.5
    while time.monotonic() < end:  # any request addressing the session refreshes its heartbeat
        assert http.get(f"/sessions/{kept}/state").status_code == 200
        time.sleep(0.2)
    assert not listed(http, dropped)
    assert http.get(f"/sessions/{kept}").status_code == 200
    http.delete(f"/sessions/{kept}")


def test_dead_sessions_are_retained_then_removed(http: httpx.Client) -> None:
    sid = new_session(http)
    assert http.post(f"/sessions/{sid}/stop").status_code == 204
    assert http.get(f"/sessions/{sid}").json()["state"] == "dead"
    assert listed(http, sid)
    wait_until(lambda: http.get(f"/sessions/{sid}").status_code == 404, what="retention")
