"""Livy's web UI at /ui: over raw HTTP, and rendered by a real headless Chromium (Debian
``chromium``; ``--dump-dom`` runs the page's scripts, and ``--virtual-time-budget`` lets its
fetches finish before the DOM is taken, without any sleep). The screenshots are kept under
``tests/artifacts/`` (git-ignored) for a person to look at.
"""

from __future__ import annotations

import html
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from livy_http import new_session, run_statement, wait_until
from support import SandboxProcess, require

ARGS = ("--batch-launcher", "python", "--cancel-timeout", "3")  # shared with test_livy_batches.py
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def sb(sandbox_factory: Callable[..., SandboxProcess]) -> SandboxProcess:
    return sandbox_factory(*ARGS)


@pytest.fixture(scope="module")
def http(sb: SandboxProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sb.livy_url, timeout=30) as client:
        yield client


def chromium(*args: str) -> str:
    """Run headless Chromium with a fresh profile; its stdout."""
    exe = shutil.which("chromium")
    require(exe, "Debian chromium (apt-get install chromium)")
    assert exe is not None
    with tempfile.TemporaryDirectory(prefix="livyd-chromium-") as profile:
        done = subprocess.run([exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--window-size=1280,900",
                               "--virtual-time-budget=10000", *args],
                              capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_root_redirects_to_the_ui_which_serves_livys_pages(http: httpx.Client) -> None:
    root = http.get("/", follow_redirects=False)
    assert root.status_code == 302 and root.headers["location"] == "/ui/"
    for path in ("/ui", "/ui/", "/ui/session/0", "/ui/session/0/log", "/ui/batch/0/log"):
        page = http.get(path)
        assert page.status_code == 200, path
        assert page.headers["content-type"].startswith("text/html")
        assert "<title>Livy</title>" in page.text
    assert http.head("/ui/").status_code == 200
    assert http.get("/ui/nowhere").status_code == 404


def test_the_ui_shows_sessions_statements_logs_and_batches_in_chromium(
        http: httpx.Client, sb: SandboxProcess, tmp_path: Path) -> None:
    name = f"ui-{uuid.uuid4().hex[:8]}"
    sid = new_session(http, name=name)
    marker = f"hello from {name}"
    out = run_statement(http, sid, f"print({marker!r})\n40 + 2")
    assert out["output"]["data"]["text/plain"] == f"{marker}\n42"
    failed = run_statement(http, sid, "1/0")
    assert failed["output"]["status"] == "error"
    script = tmp_path / "batch.py"
    script.write_text(f"print('batch says {name}')\n")
    bid = http.post("/batches", json={"file": str(script), "name": f"{name}-batch"}).json()["id"]
    wait_until(lambda: http.get(f"/batches/{bid}/state").json()["state"] == "success", timeout=30,
               what="the batch")

    ARTIFACTS.mkdir(exist_ok=True)
    shots = {"overview": ARTIFACTS / "ui-sessions.png", "session": ARTIFACTS / "ui-session.png"}
    for shot in shots.values():
        shot.unlink(missing_ok=True)
    overview = html.unescape(chromium(f"--screenshot={shots['overview']}", "--dump-dom",
                                      f"{sb.livy_url}/ui/"))
    assert "Interactive Sessions" in overview and "Batch Sessions" in overview
    assert f'<a href="/ui/session/{sid}">{sid}</a>' in overview and name in overview
    assert f"{name}-batch" in overview and f'href="/ui/batch/{bid}/log"' in overview
    assert "Livy 0.9.0-incubating" in overview

    page = html.unescape(chromium(f"--screenshot={shots['session']}", "--dump-dom",
                                  f"{sb.livy_url}/ui/session/{sid}"))
    assert f"Session {sid} ({name})" in page
    assert f"<pre>print({marker!r})\n40 + 2</pre>" in page, "the statement's code"
    assert f"<pre>{marker}\n42</pre>" in page, "the statement's output"
    assert "division by zero" in page and 'class="label status-error"' in page
    assert 'class="label state-idle">idle<' in page

    log = html.unescape(chromium("--dump-dom", f"{sb.livy_url}/ui/batch/{bid}/log"))
    assert f"batch says {name}" in log and "stdout: " in log
    assert f"Batch {bid} Log" in log
    for shot in shots.values():
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{shot} is a PNG screenshot"
    http.delete(f"/sessions/{sid}")


def test_the_ui_works_behind_the_gateway_prefix(sandbox_factory: Callable[..., SandboxProcess]) -> None:
    gateway = sandbox_factory("--gateway", "/gateway/sandbox", "--gateway-user", "alice")  # as test_hdfscli
    with httpx.Client(base_url=gateway.livy_url, timeout=30) as client:
        root = client.get("/", follow_redirects=False)
        assert root.status_code == 302 and root.headers["location"] == "/gateway/sandbox/livy/v1/ui/"
        name = f"gw-{uuid.uuid4().hex[:8]}"
        sid = client.post("/sessions", json={"kind": "pyspark", "name": name},
                          headers={"X-XSRF-Header": "1"}).json()["id"]
        page = html.unescape(chromium("--dump-dom", f"{gateway.livy_url}/ui/"))
        assert f'<a href="/gateway/sandbox/livy/v1/ui/session/{sid}">{sid}</a>' in page and name in page
        assert "alice" in page, "the gateway user is the owner and proxy user"
        client.delete(f"/sessions/{sid}", headers={"X-XSRF-Header": "1"})
