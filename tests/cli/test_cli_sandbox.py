"""``livyd`` as a real subprocess against real sandboxes on loopback (direct, behind a gateway
prefix, and the embedded default), checked through its stdout, stderr and exit status, and
against the server's own view (raw httpx, not livyd's client).
"""

from __future__ import annotations

import base64
import http.server
import json
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support import SandboxProcess
from test_cli_basics import clean_env, livyd

SECRET = "pw-Kx7-do-not-log"


@pytest.fixture
def work(tmp_path: Path) -> Path:
    (tmp_path / "home").mkdir()
    (tmp_path / "work").mkdir()
    return tmp_path


def run(work: Path, *args: str, input: str | None = None, timeout: float = 90,
        **env: str) -> subprocess.CompletedProcess[str]:
    return livyd(*args, cwd=work / "work", env=clean_env(work / "home", **env), input=input, timeout=timeout)


def wait_for(predicate: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    """Poll *predicate* until it returns something truthy (a condition wait, not a fixed sleep)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def server_get(sandbox: SandboxProcess, path: str) -> httpx.Response:
    return httpx.get(sandbox.livy_url.rstrip("/") + path, headers={"X-Requested-By": "test"}, timeout=10)


@pytest.fixture(scope="module")
def shared(sandbox: SandboxProcess) -> Iterator[str]:
    """One idle session (made with raw HTTP) that several tests run in with --session, so the
    module does not pay a session start per test; the create-and-delete path has its own tests."""
    created = httpx.post(sandbox.livy_url.rstrip("/") + "/sessions", json={"kind": "pyspark"},
                         headers={"X-Requested-By": "test"}, timeout=10)
    assert created.status_code == 201, created.text
    sid = created.json()["id"]
    wait_for(lambda: server_get(sandbox, f"/sessions/{sid}").json()["state"] == "idle", "an idle session")
    yield str(sid)
    httpx.delete(f"{sandbox.livy_url.rstrip('/')}/sessions/{sid}", headers={"X-Requested-By": "t"},
                 timeout=10)


# --------------------------------------------------------------------------- exec


def test_exec_prints_output_and_deletes_its_session(sandbox: SandboxProcess, work: Path) -> None:
    proc = run(work, "exec", "--url", sandbox.livy_url, "--json", "print(6 * 7)")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["status"] == "ok"
    assert result["data"]["text/plain"] == "42"
    sid = result["sessionId"]
    gone = server_get(sandbox, f"/sessions/{sid}")
    assert gone.status_code == 404 or gone.json()["state"] in ("shutting_down", "killed", "dead")

    people = run(work, "exec", "--url", sandbox.livy_url, "sum(range(101))")
    assert people.returncode == 0, people.stderr
    assert people.stdout == "5050\n"


def test_exec_reads_code_from_stdin(sandbox: SandboxProcess, shared: str, work: Path) -> None:
    code = "import sys\nvalues = [n * n for n in range(4)]\nprint(values)\n"
    proc = run(work, "exec", "--url", sandbox.livy_url, "--session", shared, "-", input=code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "[0, 1, 4, 9]\n"


def test_exec_failure_exits_1_with_traceback_on_stderr(
    sandbox: SandboxProcess, shared: str, work: Path
) -> None:
    code = "def f():\n    return 1 / 0\nf()"
    proc = run(work, "exec", "--url", sandbox.livy_url, "--session", shared, code)
    assert proc.returncode == 1
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert 'line 2, in f' in proc.stderr  # the inner frame Livy keeps
    assert lines[-1] == "ZeroDivisionError: division by zero"  # once, not repeated


def test_keep_session_then_reuse_by_id_and_name(sandbox: SandboxProcess, work: Path) -> None:
    first = run(work, "exec", "--url", sandbox.livy_url, "--keep", "counter = 41")
    assert first.returncode == 0, first.stderr
    match = re.search(r"session (\d+) kept", first.stderr)
    assert match, first.stderr
    sid = match.group(1)
    try:
        second = run(work, "exec", "--url", sandbox.livy_url, "--session", sid, "counter + 1")
        assert (second.returncode, second.stdout) == (0, "42\n"), second.stderr
        info = run(work, "sessions", "info", sid, "--url", sandbox.livy_url, "--json")
        assert info.returncode == 0, info.stderr
        name = json.loads(info.stdout)["name"]
        assert name and name.startswith("livyd")
        by_name = run(work, "exec", "--url", sandbox.livy_url, "--session", name, "counter * 2")
        assert (by_name.returncode, by_name.stdout) == (0, "82\n"), by_name.stderr
        listed = run(work, "sessions", "list", "--url", sandbox.livy_url, "--json")
        assert int(sid) in [s["id"] for s in json.loads(listed.stdout)]
        table = run(work, "sessions", "--url", sandbox.livy_url)
        assert table.returncode == 0 and name in table.stdout
    finally:
        killed = run(work, "sessions", "kill", sid, "--url", sandbox.livy_url)
    assert killed.returncode == 0, killed.stderr
    assert f"killed session {sid}" in killed.stderr
    missing = run(work, "exec", "--url", sandbox.livy_url, "--session", "no-such-session", "1")
    assert missing.returncode == 3
    assert "no session named 'no-such-session'" in missing.stderr


def test_rich_outputs_table_json_and_image(sandbox: SandboxProcess, shared: str, work: Path) -> None:
    """%table renders a table, %json pretty-prints, image/png is written to a file (Livy magics)."""
    sid = shared
    first = run(work, "exec", "--url", sandbox.livy_url, "--session", sid,
                "rows = [{'city': 'Wien', 'n': 1}, {'city': 'Graz', 'n': 2}]\nblob = {'a': [1, 2]}")
    assert first.returncode == 0, first.stderr
    table = run(work, "exec", "--url", sandbox.livy_url, "--session", sid, "%table rows")
    assert table.returncode == 0, table.stderr
    assert "city" in table.stdout and "Wien" in table.stdout and "Graz" in table.stdout
    as_json = run(work, "exec", "--url", sandbox.livy_url, "--session", sid, "%json blob")
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout) == {"a": [1, 2]}
    assert as_json.stdout.startswith("{\n  ")  # pretty-printed
    # %matplot VAR calls VAR.gcf().savefig(buffer, format="png") (fake_shell.py): a stand-in figure
    define = run(work, "exec", "--url", sandbox.livy_url, "--session", sid, textwrap.dedent("""\
        class FakePlot:
            def gcf(self):
                return self
            def savefig(self, buffer, format):
                buffer.write(b"\\x89PNG\\r\\n\\x1a\\n-livyd-test-image")
        plot = FakePlot()
    """))
    assert define.returncode == 0, define.stderr
    image = run(work, "exec", "--url", sandbox.livy_url, "--session", sid,
                "--image-dir", str(work / "img"), "%matplot plot")
    assert image.returncode == 0, image.stderr
    path = Path(image.stdout.strip())
    assert path.suffix == ".png" and path.parent == (work / "img").resolve()
    assert path.read_bytes() == b"\x89PNG\r\n\x1a\n-livyd-test-image"


def test_bad_image_dir_is_refused_before_the_code_is_sent(
    sandbox: SandboxProcess, shared: str, work: Path
) -> None:
    blocker = work / "not-a-dir"
    blocker.write_text("")
    before = server_get(sandbox, f"/sessions/{shared}/statements").json()["total_statements"]
    proc = run(work, "exec", "--url", sandbox.livy_url, "--session", shared, "--image-dir", str(blocker),
               "print('ran')")
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == f"livyd: error: --image-dir {blocker} exists and is not a directory\n"
    assert server_get(sandbox, f"/sessions/{shared}/statements").json()["total_statements"] == before


def test_tables_are_not_cropped_when_stdout_is_not_a_terminal(
    sandbox: SandboxProcess, shared: str, work: Path
) -> None:
    """Piped output is for grep and files: no 80-column default, no "aaa…" cells."""
    proc = run(work, "exec", "--url", sandbox.livy_url, "--session", shared, "-",
               input='wide = [["a" * 50, "b" * 50, 1]]\n%table wide\n', COLUMNS="80")
    assert proc.returncode == 0, proc.stderr
    assert "a" * 50 in proc.stdout and "b" * 50 in proc.stdout
    assert "…" not in proc.stdout
    long_url = sandbox.livy_url.rstrip("/") + "?" + "&".join(f"p{i}=v" for i in range(20))
    doctor = run(work, "doctor", "--url", long_url, COLUMNS="80")
    assert long_url in doctor.stdout, doctor.stdout
    assert "…" not in doctor.stdout


def test_run_file_with_argv(sandbox: SandboxProcess, shared: str, work: Path) -> None:
    script = work / "work" / "job.py"
    script.write_text(textwrap.dedent("""\
        import sys
        def main(argv):
            print("argv:", argv)
            print("name:", __name__)
        if __name__ == "__main__":
            main(sys.argv)
            sys.exit(0)
    """))
    proc = run(work, "run", "--url", sandbox.livy_url, "--session", shared, "job.py", "--date", "20240101",
               "x y")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["argv: ['job.py', '--date', '20240101', 'x y']", "name: __main__"]
    failing = work / "work" / "fail.py"
    failing.write_text("import sys\n\nraise ValueError('bad input: ' + sys.argv[1])\n")
    bad = run(work, "run", "--url", sandbox.livy_url, "--session", shared, "fail.py", "42")
    assert bad.returncode == 1
    assert "ValueError: bad input: 42" in bad.stderr


def test_ctrl_c_cancels_the_statement_on_the_server_first(sandbox: SandboxProcess, work: Path) -> None:
    env = clean_env(work / "home")
    proc = subprocess.Popen(
        [sys.executable, "-m", "livyd", "exec", "--url", sandbox.livy_url, "--keep",
         "import time\nfor _ in range(600):\n    time.sleep(0.1)\n'finished'"],
        cwd=work / "work", env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        def running() -> tuple[int, int] | None:
            for s in server_get(sandbox, "/sessions").json()["sessions"]:
                if s["state"] not in ("busy", "idle"):
                    continue
                for st in server_get(sandbox, f"/sessions/{s['id']}/statements").json()["statements"]:
                    if st["state"] == "running" and "finished" in st["code"]:
                        return s["id"], st["id"]
            return None

        sid, stid = wait_for(running, "the statement to run")
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "livyd: error: interrupted" in err
    state = server_get(sandbox, f"/sessions/{sid}/statements/{stid}").json()["state"]
    assert state in ("cancelling", "cancelled"), state
    httpx.delete(f"{sandbox.livy_url.rstrip('/')}/sessions/{sid}", headers={"X-Requested-By": "t"})


# --------------------------------------------------------------------------- logs


def test_logs_tail_and_default_newest_session(sandbox: SandboxProcess, work: Path) -> None:
    code = "import sys\nfor i in range(50):\n    print(f'line-{i}', file=sys.__stderr__, flush=True)"
    first = run(work, "exec", "--url", sandbox.livy_url, "--keep", code)
    assert first.returncode == 0, first.stderr
    sid = re.search(r"session (\d+) kept", first.stderr).group(1)  # type: ignore[union-attr]
    try:
        def tail() -> list[str] | None:
            proc = run(work, "logs", sid, "--tail", "3", "--url", sandbox.livy_url)
            assert proc.returncode == 0, proc.stderr
            lines = proc.stdout.splitlines()
            return lines if lines == ["line-47", "line-48", "line-49"] else None

        wait_for(tail, "the last three log lines")
        as_json = run(work, "logs", sid, "--tail", "2", "--json", "--url", sandbox.livy_url)
        page = json.loads(as_json.stdout)
        assert page["log"] == ["line-48", "line-49"] and page["id"] == int(sid)
        newest = run(work, "logs", "--tail", "1", "--url", sandbox.livy_url)
        assert newest.returncode == 0
        follow_lines_until_interrupted(sandbox, work, sid)
    finally:
        run(work, "sessions", "kill", sid, "--url", sandbox.livy_url)


def follow_lines_until_interrupted(sandbox: SandboxProcess, work: Path, sid: str) -> None:
    """`logs --follow` prints lines written before and while it runs, each once, in order (whatever
    the timing between the writer and the first page); Ctrl-C ends it (130)."""
    writer = run(work, "exec", "--url", sandbox.livy_url, "--session", sid, textwrap.dedent("""\
        import sys, threading, time
        def _write():
            for i in range(40):
                print(f"bg-{i}", file=sys.__stderr__, flush=True)
                time.sleep(0.05)
        threading.Thread(target=_write).start()
    """))
    assert writer.returncode == 0, writer.stderr
    proc = subprocess.Popen([sys.executable, "-m", "livyd", "logs", sid, "--follow", "--tail", "1000",
                             "--url", sandbox.livy_url], cwd=work / "work", env=clean_env(work / "home"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")),  # type: ignore[union-attr]
                              daemon=True)
    reader.start()
    try:
        wait_for(lambda: "bg-39\n" in lines, "the last background line")
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    reader.join(5)
    assert proc.returncode == 130
    got = [line.strip() for line in lines if line.startswith("bg-")]
    assert got == [f"bg-{i}" for i in range(40)], got  # each line once, in order, none lost


# --------------------------------------------------------------------------- batches


def test_batch_submit_follow_local_python_file(sandbox: SandboxProcess, work: Path) -> None:
    job = work / "work" / "batch_job.py"
    job.write_text("import sys\nprint('hello from batch', sys.argv[1:])\n")
    proc = run(work, "batch", "submit", "batch_job.py", "--name",
               f"cli-batch-{time.monotonic_ns()}", "--follow", "--url", sandbox.livy_url, "--", "a", "b c")
    assert proc.returncode == 0, proc.stderr
    assert "hello from batch ['a', 'b c']" in proc.stdout
    done = re.search(r"batch (\d+): success", proc.stderr)
    assert done, proc.stderr
    again = run(work, "batch", "logs", done.group(1), "--follow", "--url", sandbox.livy_url)
    assert again.returncode == 0 and again.stdout.count("hello from batch") == 1, again.stdout
    tail = run(work, "batch", "logs", done.group(1), "--tail", "1", "--json", "--url", sandbox.livy_url)
    assert len(json.loads(tail.stdout)["log"]) == 1

    failing = work / "work" / "failing_job.py"
    failing.write_text("raise SystemExit(3)\n")
    bad = run(work, "batch", "submit", "failing_job.py", "--follow", "--json", "--url", sandbox.livy_url)
    assert bad.returncode == 1, bad.stderr
    final = json.loads(bad.stdout)
    assert final["state"] == "dead"

    listed = run(work, "batch", "list", "--json", "--url", sandbox.livy_url)
    ids = [b["id"] for b in json.loads(listed.stdout)]
    assert final["id"] in ids
    status = run(work, "batch", "status", str(final["id"]), "--json", "--url", sandbox.livy_url)
    assert json.loads(status.stdout)["state"] == "dead"
    killed = run(work, "batch", "kill", str(final["id"]), "--url", sandbox.livy_url)
    assert killed.returncode == 0, killed.stderr


def fast_poll(work: Path) -> None:
    """A project livyd.toml with short poll intervals, so the follow tests stay short."""
    (work / "work" / "livyd.toml").write_text("[poll]\ninitial = 0.01\nmaximum = 0.1\n")


@pytest.fixture
def py_batches(sandbox_factory: Callable[..., SandboxProcess]) -> SandboxProcess:
    """A sandbox that runs .py batches with python (no JVM start), for the log-following tests."""
    return sandbox_factory("--batch-launcher", "python")


def test_batch_follow_keeps_up_with_a_fast_log(py_batches: SandboxProcess, work: Path) -> None:
    """A job that logs slowly, then 600 lines at ~400 lines/s: Livy's 200-line buffer wraps twice
    a second, so a follower that reads once a second loses lines; reading sooner while lines flow
    (at the rate just seen) does not."""
    job = work / "work" / "chatty.py"
    job.write_text(textwrap.dedent("""\
        import time
        for i in range(10):
            print(f"warming up {i}", flush=True)
            time.sleep(0.05)
        for i in range(600):
            print(f"n {i}", flush=True)
            if i % 20 == 19:
                time.sleep(0.05)
    """))
    proc = run(work, "batch", "submit", "chatty.py", "--follow", "--url", py_batches.livy_url)
    assert proc.returncode == 0, proc.stderr
    got = [int(line.split()[1]) for line in proc.stdout.splitlines() if line.startswith("n ")]
    assert got == list(range(600)), f"{len(got)} of 600 lines; stderr: {proc.stderr}"
    assert "may be missing" not in proc.stdout


def test_batch_follow_says_where_lines_were_lost(py_batches: SandboxProcess, work: Path) -> None:
    fast_poll(work)
    job = work / "work" / "burst.py"
    job.write_text(textwrap.dedent("""\
        import sys, time
        print("start", flush=True)
        time.sleep(0.6)
        sys.stdout.write("".join(f"n {i}\\n" for i in range(1000)))
        sys.stdout.flush()
        time.sleep(0.3)
    """))
    proc = run(work, "batch", "submit", "burst.py", "--follow", "--url", py_batches.livy_url)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.splitlines()
    gap = "[livyd: stdout lines may be missing here: Livy's 200-line buffer wrapped between two reads]"
    assert gap in out, proc.stdout[:300]
    assert out[out.index(gap) - 1] == "start" and out[out.index(gap) + 1] == "n 800"
    got = [int(line.split()[1]) for line in out if line.startswith("n ")]
    assert got == list(range(800, 1000))


class RecordingLivy(http.server.ThreadingHTTPServer):
    """A named fake (not a Livy): records POST /batches bodies and answers 201 like Livy 0.9.

    Used only to see the exact payload livyd sends; the batch behaviour itself is tested against
    the sandbox above.
    """

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        super().__init__(("127.0.0.1", 0), _RecordingHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _RecordingHandler(http.server.BaseHTTPRequestHandler):
    server: RecordingLivy

    def log_message(self, *args: Any) -> None:
        pass

    def _reply(self, status: int, body: Any) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self) -> None:
        if self.path.startswith("/version"):
            self._reply(200, {"version": "0.9.0-incubating", "commitId": "x", "user": "livy",
                              "compiledBy": "x", "date": "x", "repository": "x", "branch": "x"})
        else:
            self._reply(200, {"from": 0, "total": 0, "sessions": []})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.bodies.append(body)
        self._reply(201, {"id": 0, "name": body.get("name"), "owner": None,
                          "proxyUser": body.get("proxyUser"), "state": "starting", "appId": None,
                          "appInfo": {"driverLogUrl": None, "sparkUiUrl": None}, "log": []})


def test_batch_payload_uses_the_profile_like_existing_env_files(work: Path) -> None:
    """The profile's jars/files/archives/pyFiles/conf/driver/executor/queue/proxyUser (here from a
    .env shaped like seeds/003) reach POST /batches in Livy's camelCase."""
    (work / "work" / ".env").write_text(textwrap.dedent("""\
        LIVY_JARS=hdfs:///libs/a.jar,hdfs:///libs/b.jar
        LIVY_FILES=hdfs:///config/app.properties
        LIVY_ARCHIVES=hdfs:///archives/deps.tar.gz
        LIVY_PY_FILES=hdfs:///python/utils.py
        LIVY_CONF={"spark.sql.shuffle.partitions":"200","spark.dynamicAllocation.enabled":"true"}
        PROXY_USER=svc_ingest
        LIVY_DRIVER_MEMORY=4g
        LIVY_DRIVER_CORES=2
        LIVY_EXECUTOR_MEMORY=4g
        LIVY_EXECUTOR_CORES=2
        LIVY_NUM_EXECUTORS=4
        LIVY_QUEUE=root.datalake
    """))
    fake = RecordingLivy()
    thread = threading.Thread(target=fake.serve_forever, daemon=True)
    thread.start()
    try:
        proc = run(work, "batch", "submit", "hdfs:///user/svc/recovery.jar", "--class-name",
                   "org.example.Main", "--name", "recovery-1", "--json", "--no-follow", "--url", fake.url,
                   "--", "--date 20240101")
    finally:
        fake.shutdown()
        fake.server_close()
    assert proc.returncode == 0, proc.stderr
    assert fake.bodies == [{
        "file": "hdfs:///user/svc/recovery.jar", "className": "org.example.Main", "name": "recovery-1",
        "args": ["--date 20240101"], "driverMemory": "4g", "driverCores": 2, "executorMemory": "4g",
        "executorCores": 2, "numExecutors": 4, "queue": "root.datalake", "proxyUser": "svc_ingest",
        "conf": {"spark.sql.shuffle.partitions": "200", "spark.dynamicAllocation.enabled": "true"},
        "archives": ["hdfs:///archives/deps.tar.gz"], "files": ["hdfs:///config/app.properties"],
        "jars": ["hdfs:///libs/a.jar", "hdfs:///libs/b.jar"], "pyFiles": ["hdfs:///python/utils.py"],
    }]
    assert json.loads(proc.stdout)["id"] == 0


# --------------------------------------------------------------------------- secrets, gateway, embedded


def test_verbose_never_prints_the_password(sandbox: SandboxProcess, work: Path) -> None:
    encoded = base64.b64encode(f"alice:{SECRET}".encode()).decode()
    proc = run(work, "--verbose", "exec", "--url", sandbox.livy_url, "print('fine')",
               LIVY_AUTH="basic", LIVY_USER="alice", LIVY_PASSWORD=SECRET)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "fine\n"
    assert proc.stderr.strip(), "--verbose should trace HTTP exchanges on stderr"
    for leaked in (SECRET, encoded):
        assert leaked not in proc.stdout and leaked not in proc.stderr
    by_env = run(work, "sessions", "--url", sandbox.livy_url, LIVYD_LOG_LEVEL="debug", LIVY_AUTH="basic",
                 LIVY_USER="alice", LIVY_PASSWORD=SECRET)
    assert by_env.returncode == 0 and "/sessions" in by_env.stderr  # LIVYD_LOG_LEVEL=debug traces too
    assert SECRET not in by_env.stderr and encoded not in by_env.stderr
    quiet = run(work, "sessions", "--url", sandbox.livy_url)
    assert "/sessions" not in quiet.stderr
    doctor = run(work, "--verbose", "doctor", "--url", sandbox.livy_url,
                 LIVY_AUTH="basic", LIVY_USER="alice", LIVY_PASSWORD=SECRET)
    assert doctor.returncode == 0, doctor.stderr
    assert "Livy 0." in doctor.stdout
    for leaked in (SECRET, encoded):
        assert leaked not in doctor.stdout and leaked not in doctor.stderr


def test_doctor_fails_when_livy_is_unreachable(work: Path) -> None:
    proc = run(work, "doctor", "--url", "http://127.0.0.1:9", "--json")
    assert proc.returncode == 3
    report = json.loads(proc.stdout)
    assert report["ok"] is False
    assert report["checks"][0] == {"check": "reachable", "ok": False, "detail": report["checks"][0]["detail"]}


def test_exec_through_a_gateway_prefix(sandbox_factory: Callable[..., SandboxProcess], work: Path) -> None:
    gateway = sandbox_factory("--gateway", "/gateway/sandbox", "--cancel-timeout", "3")
    assert "/gateway/sandbox" in gateway.livy_url
    proc = run(work, "exec", "--url", gateway.livy_url, "print('via knox')")
    assert (proc.returncode, proc.stdout) == (0, "via knox\n"), proc.stderr
    # a URL ending in /sessions, as existing scripts have it, is accepted
    proc = run(work, "exec", "--url", gateway.livy_url.rstrip("/") + "/sessions", "1 + 1")
    assert (proc.returncode, proc.stdout) == (0, "2\n"), proc.stderr


def test_profile_from_livyd_toml_and_dotenv(sandbox: SandboxProcess, work: Path) -> None:
    (work / "work" / "livyd.toml").write_text(textwrap.dedent(f"""\
        profile_variable = "TEAM_ENV"
        [profiles.entw]
        url = "{sandbox.livy_url}"
        [profiles.prod]
        url = "http://127.0.0.1:9"
    """))
    (work / "work" / ".env").write_text("TEAM_ENV=entw\n")
    proc = run(work, "exec", "print('entw')")
    assert (proc.returncode, proc.stdout) == (0, "entw\n"), proc.stderr
    prod = run(work, "--profile", "prod", "exec", "1")
    assert prod.returncode == 3


def test_first_command_on_a_fresh_machine_uses_an_embedded_sandbox(work: Path) -> None:
    """The README's first command: nothing configured anywhere, and it still prints 5050."""
    proc = run(work, "exec", "sum(range(101))", timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "5050\n"
    assert re.search(r"no Livy configured: using an embedded sandbox at http://127\.0\.0\.1:\d+", proc.stderr)


def test_progress_shows_on_a_terminal_and_never_on_stdout(
    sandbox: SandboxProcess, shared: str, work: Path
) -> None:
    """With stderr on a terminal (a pty), a progress line is drawn there; stdout stays the result."""
    import os
    import pty

    primary, secondary = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "livyd", "exec", "--url", sandbox.livy_url,
         "import time\ntime.sleep(1.0)\nprint('result line')"],
        cwd=work / "work", env=clean_env(work / "home", TERM="xterm", COLUMNS="100"),
        stdout=subprocess.PIPE, stderr=secondary, text=True,
    )
    os.close(secondary)
    seen = b""
    try:
        while True:
            try:
                chunk = os.read(primary, 4096)
            except OSError:  # the pty closes when the process exits
                break
            if not chunk:
                break
            seen += chunk
        out, _ = proc.communicate(timeout=60)
    finally:
        os.close(primary)
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert out == "result line\n"
    assert b"statement" in seen and b"session" in seen, seen[-500:]

    piped = run(work, "exec", "--url", sandbox.livy_url, "--session", shared, "print('quiet')")
    assert piped.stderr == "" and piped.stdout == "quiet\n"


def test_livy_07_mode_and_kill_all(sandbox_factory: Callable[..., SandboxProcess], work: Path) -> None:
    """Against a Livy 0.7 sandbox of its own: exec works, and `sessions kill --all` empties it."""
    old = sandbox_factory("--livy-version", "0.7", "--cancel-timeout", "3")
    proc = run(work, "exec", "--url", old.livy_url, "--keep", "a = 1\nprint(a + 1)")
    assert (proc.returncode, proc.stdout) == (0, "2\n"), proc.stderr
    other = httpx.post(old.livy_url.rstrip("/") + "/sessions", json={"kind": "pyspark"},
                       headers={"X-Requested-By": "test"}, timeout=10)
    assert other.status_code == 201
    assert len(server_get(old, "/sessions").json()["sessions"]) >= 2
    killed = run(work, "sessions", "kill", "--all", "--json", "--url", old.livy_url)
    assert killed.returncode == 0, killed.stderr
    assert len(json.loads(killed.stdout)["killed"]) >= 2
    wait_for(lambda: all(s["state"] in ("shutting_down", "killed", "dead")
                         for s in server_get(old, "/sessions").json()["sessions"]), "every session to go")
    usage = run(work, "sessions", "kill", "--url", old.livy_url)
    assert usage.returncode == 2 and "exactly one of ID|NAME or --all" in usage.stderr


def test_doctor_checks_livy_and_webhdfs(sandbox: SandboxProcess, work: Path) -> None:
    (work / "work" / "livyd.toml").write_text(
        f'url = "{sandbox.livy_url}"\n[webhdfs]\nurl = "{sandbox.webhdfs_url}"\nuser = "alice"\n')
    proc = run(work, "doctor", "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    checks = {c["check"]: c for c in report["checks"]}
    assert set(checks) == {"reachable", "version", "auth", "webhdfs"}
    assert all(c["ok"] for c in checks.values()), checks
    assert checks["version"]["detail"].startswith("Livy 0.")
    assert "/user/alice" in checks["webhdfs"]["detail"]
    assert checks["auth"]["detail"].startswith("none configured"), checks["auth"]
    # credentials the server never asks for are not reported as accepted
    unasked = run(work, "doctor", "--json", LIVY_AUTH="bearer", LIVY_TOKEN="tok-never-asked")
    assert unasked.returncode == 0, unasked.stdout + unasked.stderr
    detail = {c["check"]: c for c in json.loads(unasked.stdout)["checks"]}["auth"]["detail"]
    assert "not checked" in detail and "tok-never-asked" not in unasked.stdout, detail
    settings = {s["key"]: s for s in report["settings"]}
    assert settings["webhdfs.url"]["source"] == f"{work / 'work' / 'livyd.toml'}:3"
    broken = run(work, "doctor", "--url", "http://127.0.0.1:9")
    assert broken.returncode == 3
    assert "FAILED" in broken.stdout


@pytest.fixture(scope="module")
def broken_python(tmp_path_factory: pytest.TempPathFactory,
                  sandbox_factory: Callable[..., SandboxProcess]) -> SandboxProcess:
    """A sandbox whose session interpreter cannot start (a stand-in "python" that fails)."""
    script = tmp_path_factory.mktemp("broken") / "python"
    script.write_text("#!/bin/sh\necho 'ModuleNotFoundError: No module named site_custom_xyz' >&2\nexit 3\n")
    script.chmod(0o755)
    return sandbox_factory("--python", str(script))


def test_session_that_dies_starting_shows_its_log_and_is_kept(
    broken_python: SandboxProcess, work: Path
) -> None:
    proc = run(work, "exec", "--url", broken_python.livy_url, "print(1)")
    assert proc.returncode == 3, proc.stderr
    assert "it did not start; the last lines of its log:" in proc.stderr
    assert "No module named site_custom_xyz" in proc.stderr
    sid = re.search(r"livyd logs (\d+)", proc.stderr).group(1)  # type: ignore[union-attr]
    logs = run(work, "logs", sid, "--url", broken_python.livy_url)
    assert logs.returncode == 0, logs.stderr
    assert "No module named site_custom_xyz" in logs.stdout


def test_ctrl_c_while_creating_the_session_deletes_it(work: Path) -> None:
    """Livy applies the create at once but answers late (a slow gateway): Ctrl-C in between must
    not leave the session running. A raw stand-in, because the sandbox answers creates at once."""
    from livy_standin import MiniLivy, Reply, Request

    livy = MiniLivy()
    applied = livy.handle

    def answer_creates_late(req: Request) -> Any:
        reply = applied(req)  # the session exists from now on
        if req.method == "POST" and req.path == "/sessions" and isinstance(reply, Reply):
            reply.delay = 20.0
        return reply

    livy.server.handler = answer_creates_late
    try:
        proc = subprocess.Popen([sys.executable, "-m", "livyd", "exec", "--url", livy.url, "print(1)"],
                                cwd=work / "work", env=clean_env(work / "home"), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            wait_for(lambda: livy.sessions, "the session to exist on the server")
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 130, err
        deletes = [r.path for r in livy.server.requests if r.method == "DELETE"]
        assert deletes == ["/sessions/0"], err
        assert "deleted session 0 (livyd-" in err
    finally:
        livy.close()


def test_kind_shared_runs_pyspark_statements(sandbox: SandboxProcess, work: Path) -> None:
    """`shared` is a session kind; its statements need pyspark/spark/sql (Livy refuses "shared")."""
    proc = run(work, "exec", "--url", sandbox.livy_url, "--kind", "shared", "--json", "print(6 * 7)")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["data"]["text/plain"] == "42"
    env_kind = run(work, "exec", "--url", sandbox.livy_url, "sum(range(4))", LIVY_KIND="shared")
    assert (env_kind.returncode, env_kind.stdout) == (0, "6\n"), env_kind.stderr


def test_ttl_and_idle_timeout_unknown_to_old_livy_are_named(
    sandbox_factory: Callable[..., SandboxProcess], work: Path
) -> None:
    old = sandbox_factory("--livy-version", "0.7", "--cancel-timeout", "3")
    toml = work / "work" / "livyd.toml"
    toml.write_text('[session]\nttl = "2h"\nidle_timeout = "30m"\n')
    proc = run(work, "exec", "--url", old.livy_url, "1 + 1")
    assert (proc.returncode, proc.stdout) == (0, "2\n"), proc.stderr
    assert f"livyd: warning: session.ttl ({toml}:2) is not sent: Livy 0.7" in proc.stderr
    assert f"livyd: warning: session.idle_timeout ({toml}:3) is not sent: Livy 0.7" in proc.stderr
    assert proc.stderr.count("session.ttl") == 1


def test_doctor_with_rejected_credentials_is_reachable_but_auth_fails(
    sandbox_factory: Callable[..., SandboxProcess], work: Path
) -> None:
    guarded = sandbox_factory("--token", "tok-doctor-9")
    proc = run(work, "doctor", "--json", "--url", guarded.livy_url)
    assert proc.returncode == 3, proc.stderr
    checks = {c["check"]: c for c in json.loads(proc.stdout)["checks"]}
    assert checks["reachable"]["ok"] is True and "401" in checks["reachable"]["detail"]
    assert checks["auth"]["ok"] is False
    good = run(work, "doctor", "--json", "--url", guarded.livy_url, LIVY_AUTH="bearer",
               LIVY_TOKEN="tok-doctor-9")
    assert good.returncode == 0, good.stdout
    auth = {c["check"]: c for c in json.loads(good.stdout)["checks"]}["auth"]
    assert auth["detail"].startswith("accepted") and "refuses requests without it" in auth["detail"], auth


def test_logs_follow_ends_when_the_session_is_dead(broken_python: SandboxProcess, work: Path) -> None:
    created = httpx.post(broken_python.livy_url.rstrip("/") + "/sessions", json={"kind": "pyspark"},
                         headers={"X-Requested-By": "test"}, timeout=10)
    sid = created.json()["id"]
    wait_for(lambda: server_get(broken_python, f"/sessions/{sid}").json()["state"] == "dead",
             "a dead session")
    proc = run(work, "logs", str(sid), "--follow", "--url", broken_python.livy_url, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert "No module named site_custom_xyz" in proc.stdout
    assert proc.stderr.splitlines()[-1] == f"session {sid}: dead"
