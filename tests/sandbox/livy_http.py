"""Raw-HTTP helpers shared by the sandbox's Livy tests: ``from livy_http import wait_until, ...``.

Deliberately httpx only, never livyd's client: the sandbox must match Livy, not us. Every wait
polls a condition (never a fixed sleep); a module whose work is slower binds longer defaults
with :func:`functools.partial`.
"""

from __future__ import annotations

import io
import os
import time
import zipfile
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

import httpx

FINISHED_STATEMENT = ("available", "cancelled")


def wait_until(predicate: Callable[[], Any], timeout: float = 20.0, what: str = "condition",
               interval: float = 0.02) -> Any:
    """Poll *predicate* until it returns something truthy, and return that."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)


def new_session(http: httpx.Client, *, timeout: float = 20.0, interval: float = 0.02, **body: Any) -> int:
    """``POST /sessions`` (kind pyspark unless *body* says otherwise), expect 201, wait for idle."""
    r = http.post("/sessions", json={"kind": "pyspark", **body})
    assert r.status_code == 201, r.text
    sid = int(r.json()["id"])
    wait_until(lambda: http.get(f"/sessions/{sid}/state").json()["state"] == "idle", timeout, "idle",
               interval)
    return sid


def wait_statement(http: httpx.Client, sid: int, st_id: int, states: Collection[str] = FINISHED_STATEMENT, *,
                   timeout: float = 20.0, interval: float = 0.02, what: str | None = None) -> dict[str, Any]:
    """Poll statement *st_id* until its state is one of *states*; its JSON then."""
    return dict(wait_until(
        lambda: (j := http.get(f"/sessions/{sid}/statements/{st_id}").json())["state"] in states and j,
        timeout, what or f"statement {st_id}", interval))


def run_statement(http: httpx.Client, sid: int, code: str, *, timeout: float = 20.0, interval: float = 0.02,
                  **extra: Any) -> dict[str, Any]:
    """``POST`` a statement (expect 201) and wait until it is available or cancelled; its JSON then."""
    r = http.post(f"/sessions/{sid}/statements", json={"code": code, **extra})
    assert r.status_code == 201, r.text
    return wait_statement(http, sid, r.json()["id"], timeout=timeout, interval=interval)


def pid_alive(pid: int) -> bool:
    """Whether *pid* runs; a zombie (dead, not yet reaped) counts as gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split()[2] == "Z")


def zip_with_module(name: str, source: str) -> bytes:
    """A zip holding package *name* whose ``__init__.py`` is *source* (for pyFiles and archives)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(f"{name}/__init__.py", source)
    return buf.getvalue()
