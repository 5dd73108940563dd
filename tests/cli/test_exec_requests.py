"""What ``livyd exec --session`` asks Livy (issue 7: "asks Livy nothing it already knows"), read
from its own ``--verbose`` HTTP trace against the sandbox: the session (who it is, its kind and
state; its Livy 0.8 fields also say that ``order=desc`` works, so ``/version`` is not asked), the
newest statement id (duplicate safety), the POST and its poll. A session given by name is read by
name in the path (Livy 0.6+), not found by listing every session."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from support import SandboxProcess
from test_cli_sandbox import run, server_get, shared, wait_for, work  # noqa: F401 - fixtures


@pytest.fixture(scope="module")
def named(sandbox: SandboxProcess) -> Iterator[str]:
    name = "livyd-0a1b2c3d"
    created = httpx.post(sandbox.livy_url.rstrip("/") + "/sessions", json={"kind": "pyspark", "name": name},
                         headers={"X-Requested-By": "test"}, timeout=10)
    assert created.status_code == 201, created.text
    sid = created.json()["id"]
    wait_for(lambda: server_get(sandbox, f"/sessions/{sid}").json()["state"] == "idle", "an idle session")
    yield name
    httpx.delete(f"{sandbox.livy_url.rstrip('/')}/sessions/{sid}", headers={"X-Requested-By": "t"},
                 timeout=10)


def _requests(sandbox: SandboxProcess, work: Path, ref: str) -> list[str]:  # noqa: F811
    proc = run(work, "exec", "--verbose", "--url", sandbox.livy_url, "--session", ref, "1 + 1")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout == "2\n"
    base = urlsplit(sandbox.livy_url).path.rstrip("/")
    sent = []
    for line in proc.stderr.splitlines():
        if '"event": "http"' in line:
            event = json.loads(line)
            sent.append(f"{event['method']} {urlsplit(event['url']).path.removeprefix(base)}")
    return sent


def _shape(sent: list[str], sid: str) -> list[str]:
    return [s.replace(f"/sessions/{sid}/", "/sessions/N/") for s in sent]


def test_exec_into_a_session_by_id_sends_four_requests(sandbox: SandboxProcess, shared: str,  # noqa: F811
                                                       work: Path) -> None:  # noqa: F811
    sent = _requests(sandbox, work, shared)
    assert "GET /version" not in sent  # the session's 0.8 fields said what it would have
    assert _shape(sent[:3], shared) == [f"GET /sessions/{shared}", "GET /sessions/N/statements",
                                        "POST /sessions/N/statements"]
    # then its polls (none when the POST's answer is already final)
    assert all(p.startswith(f"GET /sessions/{shared}/statements/") for p in sent[3:])


def test_exec_into_a_session_by_name_reads_it_by_name(sandbox: SandboxProcess, named: str,
                                                      work: Path) -> None:  # noqa: F811
    sent = _requests(sandbox, work, named)
    assert sent[0] == f"GET /sessions/{named}"
    assert "GET /sessions" not in sent  # no listing of every session to find it
    assert len([s for s in sent if s.startswith("POST")]) == 1


def test_exec_into_a_livy_0_7_session_asks_the_version(sandbox_factory: object, work: Path) -> None:  # noqa: F811
    """Livy 0.7 has no ``order=desc`` (it would be ignored: the oldest statement would pass for the
    newest) and no 0.8 session fields: there, exec asks ``/version`` before the id lookup."""
    old: SandboxProcess = sandbox_factory("--livy-version", "0.7")  # type: ignore[operator]
    base = old.livy_url.rstrip("/")
    created = httpx.post(f"{base}/sessions", json={"kind": "pyspark"}, headers={"X-Requested-By": "t"},
                         timeout=10)
    sid = str(created.json()["id"])
    try:
        wait_for(lambda: server_get(old, f"/sessions/{sid}").json()["state"] == "idle", "an idle session")
        sent = _requests(old, work, sid)
        assert sent.index("GET /version") < sent.index(f"GET /sessions/{sid}/statements")
    finally:
        httpx.delete(f"{base}/sessions/{sid}", headers={"X-Requested-By": "t"}, timeout=10)
