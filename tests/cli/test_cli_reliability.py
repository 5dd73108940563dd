"""``livyd exec``/``run`` under SIGTERM and SIGHUP, behind a gateway that fails over to another
Livy, and fed bad input: real subprocesses against real sandboxes (issue 11, items 1, 4, 6)."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from support import SandboxProcess, start_sandbox
from test_cli_basics import clean_env, livyd

H = {"X-Requested-By": "test"}


def wait_for(predicate: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def work(tmp_path: Path) -> Path:
    (tmp_path / "home").mkdir()
    (tmp_path / "work").mkdir()
    return tmp_path


def running_statement(url: str, marker: str) -> tuple[int, int] | None:
    for s in httpx.get(f"{url}/sessions", timeout=10).json()["sessions"]:
        if s["state"] not in ("busy", "idle"):
            continue
        for st in httpx.get(f"{url}/sessions/{s['id']}/statements", timeout=10).json()["statements"]:
            if st["state"] == "running" and marker in st["code"]:
                return s["id"], st["id"]
    return None


@pytest.mark.timeout(150)
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_clean_up_like_ctrl_c(sandbox: SandboxProcess, work: Path, signum: int) -> None:
    """`timeout` or a CI cancel sends SIGTERM; a closed terminal SIGHUP: the statement is cancelled
    and the session livyd created is deleted (its busy loop with it) before livyd exits 128+N.
    In a session given with --session (not livyd's to delete), livyd says the loop may still run,
    and the next exec into it says what it waits behind."""
    marker = f"spin_{signum}"
    code = f"{marker} = 0\nwhile True:\n    {marker} += 1"
    proc = subprocess.Popen([sys.executable, "-m", "livyd", "exec", "--url", sandbox.livy_url, code],
                            cwd=work / "work", env=clean_env(work / "home"), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        sid, _ = wait_for(lambda: running_statement(sandbox.livy_url, marker), "the loop to run")
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=40)  # bounded: 5 s cancel + 15 s delete at most
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signum, err
    name = signal.Signals(signum).name
    assert f"livyd: error: terminated by {name}" in err
    assert f"deleting session {sid} stops it" in err
    assert "Traceback" not in err
    gone = httpx.get(f"{sandbox.livy_url}/sessions/{sid}", timeout=10)
    assert gone.status_code == 404 or gone.json()["state"] in ("shutting_down", "dead", "killed")
    if signum != signal.SIGHUP:
        return
    url = sandbox.livy_url
    theirs = httpx.post(f"{url}/sessions", json={"kind": "pyspark"}, headers=H, timeout=10).json()["id"]
    try:
        wait_for(lambda: httpx.get(f"{url}/sessions/{theirs}", timeout=10).json()["state"] == "idle", "idle")
        argv = [sys.executable, "-m", "livyd", "exec", "--url", url, "--session", str(theirs), code]
        proc = subprocess.Popen(argv, cwd=work / "work", env=clean_env(work / "home"),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            wait_for(lambda: running_statement(url, marker), "the loop to run in the given session")
            proc.send_signal(signum)
            _, err = proc.communicate(timeout=40)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 128 + signum, err
        assert f"in session {theirs} may still be running" in err  # pure Python ignores Livy's cancel
        behind = livyd("exec", "--url", url, "--session", str(theirs), "--timeout", "2", "1 + 1",
                       cwd=work / "work", env=clean_env(work / "home"))
        assert f"session {theirs} is busy with statement 0" in behind.stderr, behind.stderr
        assert behind.returncode == 3
    finally:
        httpx.delete(f"{url}/sessions/{theirs}", headers=H, timeout=30)


@pytest.mark.timeout(120)
def test_exec_behind_a_failover_never_prints_or_deletes_another_users_session(work: Path,
                                                                              tmp_path: Path) -> None:
    """Behind a gateway that fails over to a fresh Livy, where someone else's session 0 has run
    their statement 0: exec says the server restarted, prints none of their output, exits 3, and
    their session is still there."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "faults"))
    from proxy import FaultProxy  # tests/faults/proxy.py

    first, second = start_sandbox(), start_sandbox()
    flag = tmp_path / "release"
    try:
        theirs = httpx.post(f"{second.livy_url}/sessions", json={"kind": "pyspark", "name": "nightly-etl"},
                            headers=H, timeout=10).json()
        wait_for(lambda: httpx.get(f"{second.livy_url}/sessions/{theirs['id']}", timeout=10)
                 .json()["state"] == "idle", "their session")
        st = httpx.post(f"{second.livy_url}/sessions/{theirs['id']}/statements",
                        json={"code": "print('their confidential report')"}, headers=H, timeout=10).json()
        wait_for(lambda: httpx.get(f"{second.livy_url}/sessions/0/statements/{st['id']}", timeout=10)
                 .json()["state"] == "available", "their statement")
        with FaultProxy(first.livy_url) as proxy:
            code = (f"import os, time\nwhile not os.path.exists({str(flag)!r}):\n    time.sleep(0.02)\n"
                    "print('ours')")
            argv = [sys.executable, "-m", "livyd", "exec", "--json", "--url", proxy.url, code]
            proc = subprocess.Popen(argv,
                                    cwd=work / "work", env=clean_env(work / "home"), stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
            try:
                wait_for(lambda: running_statement(first.livy_url, "ours"), "our statement to run")
                proxy.upstream = second.livy_url
                out, err = proc.communicate(timeout=60)
            finally:
                if proc.poll() is None:
                    proc.kill()
                flag.touch()
            deletes = [r for r in proxy.forwarded if r.method == "DELETE"]
        assert proc.returncode == 3, err
        assert "their confidential report" not in out + err
        assert out == ""
        assert "server restarted" in err and "not deleted" in err
        assert deletes == []
        still = httpx.get(f"{second.livy_url}/sessions/{theirs['id']}", timeout=10).json()
        assert still["name"] == "nightly-etl" and still["state"] == "idle"
    finally:
        first.stop()
        second.stop()


# --------------------------------------------------------------------------- bad input (item 6)


def _usage(work: Path, *args: str, input: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    return livyd(*args, cwd=work / "work", env=clean_env(work / "home", **env), input=input, timeout=60)


@pytest.mark.parametrize("value", ["nan", "-5", "inf", "1e308"])
def test_bad_timeouts_are_usage_errors(value: str) -> None:
    from livyd.cli._parser import build_parser

    parser = build_parser()
    with pytest.raises(SystemExit) as exited:
        parser.parse_args(["exec", "--timeout", value, "1"])
    assert exited.value.code == 2


def test_bad_input_exits_2_naming_the_culprit(work: Path) -> None:
    """One subprocess per kind of culprit (the rules themselves: tests/core/test_config_limits.py)."""
    stdin = subprocess.run([sys.executable, "-m", "livyd", "exec", "--url", "http://127.0.0.1:9", "-"],
                           cwd=work / "work", env=clean_env(work / "home"), input=b"print('\xff\xfe')\n",
                           capture_output=True, timeout=60)
    assert stdin.returncode == 2, stdin.stderr
    assert b"CODE (from stdin) is not UTF-8" in stdin.stderr and b"Traceback" not in stdin.stderr
    argv = subprocess.run([sys.executable, "-m", "livyd", "exec", "--url", "http://127.0.0.1:9",
                           b"print('\xff')", "--timeout", "5"], cwd=work / "work",
                          env=clean_env(work / "home"), capture_output=True, timeout=60)
    assert argv.returncode == 2, argv.stderr
    assert b"CODE is not valid text: byte 0xff" in argv.stderr and b"Traceback" not in argv.stderr
    (work / "work" / "livyd.toml").write_bytes(b"[poll]\ninitial = 1e308\n")
    toml = _usage(work, "doctor", LIVY_CONF="[" * 5000 + "]" * 5000)
    assert toml.returncode == 2 and "Traceback" not in toml.stderr, toml.stderr
    assert "poll.initial" in toml.stderr or "LIVY_CONF" in toml.stderr
    timeout = _usage(work, "exec", "--timeout", "nan", "1")
    assert timeout.returncode == 2 and "--timeout" in timeout.stderr


def test_code_with_a_lone_surrogate_is_named() -> None:
    from livyd.cli._commands import UsageError, _read_code

    with pytest.raises(UsageError, match=r"CODE is not valid text: a lone surrogate U\+D800 at line 2"):
        _read_code('x = 1\ny = "\ud800"')


def test_json_keys_are_camel_case_everywhere(work: Path) -> None:
    """One key style in --json output: camelCase, like Livy's own JSON and the editor protocol."""
    proc = _usage(work, "doctor", "--json")
    report = json.loads(proc.stdout)
    assert {"profileSource", "knownProfiles"} <= set(report)
    assert not [k for k in report if "_" in k]


# --------------------------------------------------------------------------- messages (item 9)


@pytest.mark.timeout(120)
def test_default_stderr_has_sentences_not_json_log_lines(sandbox: SandboxProcess, work: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "faults"))
    from proxy import FaultProxy  # tests/faults/proxy.py

    url = sandbox.livy_url
    sid = httpx.post(f"{url}/sessions", json={"kind": "pyspark"}, headers=H, timeout=10).json()["id"]
    try:
        wait_for(lambda: httpx.get(f"{url}/sessions/{sid}", timeout=10).json()["state"] == "idle",
                 "an idle session")
        with FaultProxy(sandbox.livy_url) as proxy:
            proxy.add("POST", r"/statements$", "reset-after")
            proc = _usage(work, "exec", "--url", proxy.url, "--session", str(sid), "print('landed once')")
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == "landed once\n"
        assert f"livyd: warning: the statement sent to session {sid} got no clear answer" in proc.stderr
        assert "{" not in proc.stderr and "statement.ambiguous" not in proc.stderr
    finally:
        httpx.delete(f"{sandbox.livy_url}/sessions/{sid}", headers=H, timeout=10)
    wrong = _usage(work, "sessions", "list", "--url", f"{sandbox.livy_url}/not/livy")
    assert wrong.returncode == 3
    assert "the Livy URL looks wrong" in wrong.stderr and "gateway answered" not in wrong.stderr
    assert "/version" not in wrong.stderr  # a lookup the user never asked for is not named


def test_the_human_renderer() -> None:
    import structlog

    from livyd.cli._messages import human_renderer

    line = human_renderer(None, "warning", {"event": "create.ambiguous", "level": "warning",
                                            "collection": "sessions", "name": "livyd-1", "error": "timeout"})
    assert line.startswith("livyd: warning: creating the sessions livyd-1 got no clear answer (timeout)")
    with pytest.raises(structlog.DropEvent):
        human_renderer(None, "warning", {"event": "version.unavailable", "url": "x"})
    with pytest.raises(structlog.DropEvent):
        human_renderer(None, "warning", {"event": "some.internal_event"})
    assert human_renderer(None, "warning", {"event": "TLS verification is off", "level": "warning"}) == \
        "livyd: warning: TLS verification is off"


@pytest.mark.timeout(120)
def test_a_submission_of_unknown_fate_keeps_the_session(sandbox: SandboxProcess, work: Path) -> None:
    """The statement POST's fate cannot be established (the gateway dropped it and no listing shows
    it within the window): exec says it was not re-sent and keeps the session it created, because
    deleting it would kill a statement that may be running (issue 11, item 7)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "faults"))
    from proxy import FaultProxy  # tests/faults/proxy.py

    (work / "work" / "livyd.toml").write_text("timeout = 1\n")  # a 6 s window: the timeout + 5 s
    with FaultProxy(sandbox.livy_url) as proxy:
        proxy.add("POST", r"/statements$", "reset-before")
        proc = _usage(work, "exec", "--url", proxy.url, "print('never sent')")
    assert proc.returncode == 3, proc.stderr
    assert "not re-sent" in proc.stderr
    kept = re.search(r"session (\d+) is kept: the statement may be running in it", proc.stderr)
    assert kept, proc.stderr
    sid = kept.group(1)
    try:
        assert httpx.get(f"{sandbox.livy_url}/sessions/{sid}", timeout=10).status_code == 200
        assert not [r for r in proxy.forwarded if r.method == "DELETE"]
    finally:
        httpx.delete(f"{sandbox.livy_url}/sessions/{sid}", headers=H, timeout=30)
