"""Seeing what Spark does, for real: the sandbox's local SparkSession, its real Spark UI, livyd's
event stream, the CLI's --json events and `logs --driver`, all on ONE shared Spark session.

A JVM costs seconds and ~400 MB, so the module starts one session and every test runs its
statements there. That session lives in a sandbox in gateway mode (Knox-like: one port, a path
prefix, XSRF header on writes), so everything here also goes through the gateway: the Spark UI
is reached at the sandbox's YARN-proxy-like route under the prefix (direct mode, where
sparkUiUrl is Spark's own address, is checked in tests/sandbox/test_livy_spark.py).

The numbers livyd reports are checked against Spark's own status tracker, read by a statement in the
same session. Nothing here sleeps or times anything: the running-stage test gates the stage's tasks
on a file the test creates only after livyd reported the stage running.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support import ROOT, SandboxProcess, has_module, require

import livyd

pytestmark = [pytest.mark.anyio, pytest.mark.spark]

SHUFFLE = ("sc.parallelize(range(100), 4).map(lambda x: (x % 3, x))"
           ".reduceByKey(lambda a, b: a + b, 2).collect()")


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def gateway(sandbox_factory: Any) -> SandboxProcess:
    """The gateway-mode sandbox (the same arguments as tests/sandbox's, so it is shared)."""
    sb: SandboxProcess = sandbox_factory("--gateway", "/gateway/sandbox", "--gateway-user", "alice")
    return sb


@pytest.fixture(scope="module")
async def client(gateway: SandboxProcess) -> AsyncIterator[livyd.LivyClient]:
    async with livyd.LivyClient(gateway.livy_url, timeout=60) as c:
        yield c


@pytest.fixture(scope="module")
async def spark_session(client: livyd.LivyClient) -> AsyncIterator[int]:
    require(has_module("pyspark"), "pyspark (pip install 'livyd[spark]')")
    session = await client.create_session(kind="pyspark", name="spark-insight")
    events: list[Any] = []
    await client.wait_session_ready(session.id, timeout=120, on_progress=events.append)
    assert [e.phase for e in events if e.kind == "phase"][:1] == ["session_starting"]
    # Start the JVM once, here: the phases of the first Spark statement are checked in a test below
    first: list[Any] = []
    st = await client.run_statement(session.id, "spark.range(10).count()", on_progress=first.append,
                                    timeout=240)
    assert st.output is not None and st.output.text == "10", st
    spark_start_phases.extend(e for e in first if e.kind == "phase")
    try:
        yield session.id
    finally:
        await client.delete_session(session.id)


spark_start_phases: list[Any] = []


async def spark_truth(client: livyd.LivyClient, sid: int, statement_id: int) -> dict[str, Any]:
    """Spark's own view of a statement's job group, from its status tracker in the session."""
    code = (
        "import json as _j\n"
        "_t = sc.statusTracker()\n"
        f"_jobs = sorted(_t.getJobIdsForGroup('{statement_id}'))\n"
        "_stages = {s: _t.getStageInfo(s) for j in _jobs for s in _t.getJobInfo(j).stageIds}\n"
        "print(_j.dumps({'jobs': {j: sorted(_t.getJobInfo(j).stageIds) for j in _jobs},"
        " 'tasks': {s: (i.numTasks if i else None) for s, i in _stages.items()}}))"
    )
    st = await client.run_statement(sid, code)
    assert st.output is not None and st.output.text, st
    raw = json.loads(st.output.text)
    return {"jobs": {int(k): v for k, v in raw["jobs"].items()},
            "tasks": {int(k): v for k, v in raw["tasks"].items()}}


def final_jobs(events: list[Any]) -> dict[int, Any]:
    return {e.job_id: e for e in events if e.kind == "job"}


def final_stages(events: list[Any]) -> dict[int, Any]:
    return {e.stage_id: e for e in events if e.kind == "stage"}


async def test_the_sandbox_reports_app_id_spark_ui_and_driver_log(
        client: livyd.LivyClient, spark_session: int, gateway: SandboxProcess) -> None:
    from livyd import InsightSettings
    from livyd._insight import read_log

    session = await client.get_session(spark_session)
    assert session.app_id and session.app_id.startswith("local-")
    prefix = gateway.livy_url.removesuffix("/livy/v1")
    ui = session.app_info.spark_ui_url
    assert ui == f"{prefix}/yarn/proxy/{session.app_id}"
    # Spark's real monitoring REST API answers there, for this application, through the gateway
    async with httpx.AsyncClient(timeout=30) as http:
        apps = (await http.get(f"{ui}/api/v1/applications")).json()
        assert [a["id"] for a in apps] == [session.app_id]
        # the gateway's rules hold on that route too: only GET is forwarded
        refused = await http.post(f"{ui}/api/v1/applications", headers={"X-XSRF-Header": "x"})
        assert refused.status_code == 405
    # a profile's URL template builds the same address from the gateway URL and the app id
    template = InsightSettings(url="{gateway}/yarn/proxy/{app_id}")
    async with livyd.LivyClient(gateway.livy_url, insight=template) as c:
        spark_ui = await c.spark_ui(spark_session)
        assert spark_ui.ui_url == ui and spark_ui.app_id == session.app_id
        assert isinstance(await spark_ui.jobs(), list)
    # the driver log: the whole REPL log, through the gateway too
    log_url = session.app_info.driver_log_url
    assert log_url and log_url.startswith(gateway.livy_url)
    text = await read_log(client, log_url, what="driver")
    assert f"SparkSession {session.app_id} started" in text
    # The phases of the first Spark statement: the local JVM started, then the statement ran
    phases = [e.phase for e in spark_start_phases]
    assert "spark_starting" in phases and phases[-1] == "running", spark_start_phases
    up = spark_start_phases[-1]
    assert up.previous == "spark_starting" and up.previous_seconds and up.previous_seconds > 0
    assert up.app_id == session.app_id


async def test_a_shuffle_job_matches_sparks_own_numbers(client: livyd.LivyClient, spark_session: int) -> None:
    events: list[Any] = []
    st = await client.run_statement(spark_session, SHUFFLE, on_progress=events.append, timeout=120)
    assert st.output is not None and st.output.text == "[(0, 1683), (2, 1650), (1, 1617)]", st
    truth = await spark_truth(client, spark_session, st.id)
    jobs, stages = final_jobs(events), final_stages(events)
    assert set(jobs) == set(truth["jobs"]) and len(jobs) == 1, (jobs, truth)
    (job_id,) = jobs
    assert sorted(jobs[job_id].stage_ids) == truth["jobs"][job_id]
    assert set(stages) == set(truth["tasks"]) and len(stages) == 2  # map side + reduce side
    for stage_id, num_tasks in truth["tasks"].items():
        assert stages[stage_id].num_tasks == num_tasks
        assert stages[stage_id].completed_tasks == num_tasks
        assert stages[stage_id].status == "COMPLETE"
    assert sorted(s.num_tasks for s in stages.values()) == [2, 4]
    job = jobs[job_id]
    assert job.status == "SUCCEEDED" and job.num_tasks == job.completed_tasks == 6
    assert job.url and job.url.endswith(f"/jobs/job/?id={job_id}") and "/yarn/proxy/" in job.url
    # the shuffle is visible in the stage metrics
    assert max(s.shuffle_write_bytes for s in stages.values()) > 0
    assert max(s.shuffle_read_bytes for s in stages.values()) > 0
    assert not [e for e in events if e.kind == "warning"]


async def test_a_second_statements_jobs_are_not_the_firsts(client: livyd.LivyClient,
                                                            spark_session: int) -> None:
    first: list[Any] = []
    second: list[Any] = []
    # each runs longer than start_delay (0.25 s): shorter statements are not watched at all
    slow = "import time\nsc.parallelize(range(10), {n}).map(lambda x: time.sleep(0.1) or x).{action}()"
    a = await client.run_statement(spark_session, slow.format(n=3, action="count"), on_progress=first.append,
                                   timeout=120)
    b = await client.run_statement(spark_session, slow.format(n=5, action="sum"), on_progress=second.append,
                                   timeout=120)
    assert (a.output and a.output.text, b.output and b.output.text) == ("10", "45")
    truth_a = await spark_truth(client, spark_session, a.id)
    truth_b = await spark_truth(client, spark_session, b.id)
    jobs_a, jobs_b = final_jobs(first), final_jobs(second)
    assert set(jobs_a) == set(truth_a["jobs"]) and set(jobs_b) == set(truth_b["jobs"])
    assert not set(jobs_a) & set(jobs_b)
    assert {s.num_tasks for s in final_stages(first).values()} == {3}
    assert {s.num_tasks for s in final_stages(second).values()} == {5}


async def test_a_running_stage_is_reported_while_it_runs(client: livyd.LivyClient, spark_session: int,
                                                         tmp_path: Path) -> None:
    gate = tmp_path / "open-the-gate"
    code = ("import os, time\n"
            "def wait_for_gate(x):\n"
            f"    while not os.path.exists({str(gate)!r}):\n"
            "        time.sleep(0.02)\n"
            "    return x\n"
            "sc.parallelize(range(6), 3).map(wait_for_gate).count()")
    st = await client.submit_statement(spark_session, code)
    seen_running: list[Any] = []
    async with client.statement_events(spark_session, st.id) as events:
        async for event in events:
            if event.kind == "stage" and event.status == "ACTIVE" and not gate.exists():
                seen_running.append(event)
                gate.write_text("go")  # only now can the stage's tasks finish
    assert events.statement is not None and events.statement.output is not None
    assert events.statement.output.text == "6"
    assert seen_running, "no running stage was reported before the gate opened"
    stage = seen_running[0]
    assert stage.num_tasks == 3 and stage.completed_tasks == 0


async def test_an_unreachable_spark_ui_is_said_once_then_livys_progress(
        client: livyd.LivyClient, spark_session: int, gateway: SandboxProcess) -> None:
    from livyd import InsightSettings

    dead = "http://127.0.0.1:9/nothing-here"  # port 9 (discard): nothing listens on loopback
    async with livyd.LivyClient(gateway.livy_url, timeout=30, retries=0,
                                insight=InsightSettings(url=dead + "/{app_id}", start_delay=0)) as other:
        runs: list[list[Any]] = []
        for _ in range(2):
            events: list[Any] = []
            st = await other.run_statement(spark_session, "import time\nsc.parallelize(range(4), 2)"
                                           ".map(lambda x: time.sleep(0.3) or x).count()",
                                           on_progress=events.append, timeout=120)
            assert st.output is not None and st.output.text == "4"
            runs.append(events)
    warnings = [e for run in runs for e in run if e.kind == "warning"]
    assert len(warnings) == 1 and warnings[0].code == "spark_ui_unreachable", warnings
    assert dead in warnings[0].message
    assert not [e for run in runs for e in run if e.kind in ("job", "stage")]
    assert [e for e in runs[0] if e.kind == "livy_progress"]


# --------------------------------------------------------------------------- the CLI


def cli(*args: str, home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("LIVY", "PROXY_USER", "AD_USER"))}
    clean.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), PYTHONUNBUFFERED="1",
                 PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])), **env)
    return subprocess.run([sys.executable, "-m", "livyd", *args], cwd=home, env=clean, capture_output=True,
                          text=True, timeout=180)


async def test_cli_json_has_the_events_and_stderr_stays_clean(gateway: SandboxProcess, spark_session: int,
                                                              tmp_path: Path) -> None:
    proc = cli("exec", "--url", gateway.livy_url, "--session", str(spark_session), "--json",
               "import time\nsc.parallelize(range(8), 4).map(lambda x: time.sleep(0.2) or x).count()",
               home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["status"] == "ok" and doc["data"]["text/plain"] == "8"
    kinds = [e["kind"] for e in doc["events"]]
    assert "job" in kinds and "stage" in kinds, kinds
    done = [e for e in doc["events"] if e["kind"] == "job" and e["status"] == "SUCCEEDED"]
    assert done and done[-1]["num_tasks"] == done[-1]["completed_tasks"] == 4
    assert proc.stderr == ""  # no bars and no spinner when stderr is not a terminal


async def test_cli_logs_driver_beyond_livys_200_lines(client: livyd.LivyClient, gateway: SandboxProcess,
                                                      spark_session: int, tmp_path: Path) -> None:
    code = ("import sys\nfor i in range(500):\n    print(f'driver-line-{i}', file=sys.__stderr__)\n"
            "sys.__stderr__.flush()")
    st = await client.run_statement(spark_session, code)
    assert st.output is not None and st.output.status == "ok"
    livy_log = (await client.session_log(spark_session, size=-1)).log
    assert "driver-line-0" not in "\n".join(livy_log)  # Livy keeps 200 lines per stream
    proc = cli("logs", str(spark_session), "--driver", "--url", gateway.livy_url, home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert "stderr: driver-line-0" in lines and "stderr: driver-line-499" in lines
    assert any("SparkSession" in line and "started" in line for line in lines)
    proc = cli("logs", str(spark_session), "--executors", "--url", gateway.livy_url, home=tmp_path)
    assert proc.returncode == 3 and "executorLogUrls is null" in proc.stderr and "--driver" in proc.stderr


async def test_cli_logs_driver_unreachable_names_url_and_key(gateway: SandboxProcess, spark_session: int,
                                                             tmp_path: Path) -> None:
    (tmp_path / "livyd.toml").write_text(
        f'url = "{gateway.livy_url}"\nretries = 0\n[spark_ui]\nlog_url = "http://127.0.0.1:9/logs{{path}}"\n')
    proc = cli("logs", str(spark_session), "--driver", home=tmp_path)
    assert proc.returncode == 3, proc.stderr
    path = gateway.livy_url.split("127.0.0.1", 1)[1].split("/", 1)[1]
    assert f"http://127.0.0.1:9/logs/{path}/livyd-sandbox/sessions/{spark_session}/driver.log" in proc.stderr
    assert "cannot be read" in proc.stderr and "spark_ui.log_url" in proc.stderr


def test_cli_draws_progress_bars_on_a_terminal(gateway: SandboxProcess, spark_session: int,
                                              tmp_path: Path) -> None:
    """stderr a real pseudo-terminal: rich draws the job's and stage's bars there; stdout (a pipe)
    gets the result only."""
    import pty
    import threading

    master, slave = pty.openpty()
    chunks: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIVY", "PROXY_USER", "AD_USER"))}
    env.update(HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / ".config"), TERM="xterm-256color",
               COLUMNS="150", LINES="40",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    code = "import time\nsc.parallelize(range(12), 6).map(lambda x: time.sleep(0.25) or x).count()"
    proc = subprocess.run([sys.executable, "-m", "livyd", "exec", "--url", gateway.livy_url, "--session",
                           str(spark_session), code], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=slave, cwd=tmp_path, env=env, text=True, timeout=180)
    os.close(slave)
    reader.join(10)
    os.close(master)
    shown = b"".join(chunks).decode("utf-8", "replace")
    assert proc.returncode == 0, shown
    assert proc.stdout == "12\n"
    assert "tasks" in shown and "job " in shown and "stage " in shown, shown
    assert "/jobs/job/?id=" in shown  # the summary line links each job to its Spark UI page


class RecordingTransport(httpx.AsyncBaseTransport):
    """A real HTTP transport that records what went over it (path, and a statement's state)."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.seen: list[tuple[str, str | None]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        state = None
        if "/statements/" in request.url.path and request.method == "GET":
            body = await response.aread()
            state = json.loads(body).get("state")
            headers = [(k, v) for k, v in response.headers.items()
                       if k.lower() not in ("content-encoding", "content-length")]
            response = httpx.Response(response.status_code, headers=headers, content=body)
        self.seen.append((request.url.path, state))
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_the_spark_ui_is_read_only_while_the_statement_runs(
        gateway: SandboxProcess, spark_session: int) -> None:
    """Order, not time: every Spark UI read comes after a statement poll that saw it running, there
    are never more UI rounds than statement polls (plus the final read), and a statement that
    ends before start_delay costs no UI read at all."""
    recorder = RecordingTransport()
    async with livyd.LivyClient(gateway.livy_url, timeout=60, transport=recorder) as c:
        code = "import time\nsc.parallelize(range(8), 4).map(lambda x: time.sleep(0.15) or x).count()"
        st = await c.run_statement(spark_session, code, on_progress=lambda e: None, timeout=120)
        assert st.output is not None and st.output.text == "8"
        seen = list(recorder.seen)
        ui = [i for i, (path, _) in enumerate(seen) if "/yarn/proxy/" in path]
        polls_running = [i for i, (_, state) in enumerate(seen) if state == "running"]
        assert ui and polls_running and ui[0] > polls_running[0]
        rounds = [i for i in ui if seen[i][0].endswith("/jobs")]
        assert len(rounds) <= len(polls_running) + 1
        recorder.seen.clear()
        quick = livyd.InsightSettings(start_delay=30)  # "short" made deterministic: it ends well before
        c.insight_settings = quick
        st = await c.run_statement(spark_session, code, on_progress=lambda e: None, timeout=120)
        assert not [p for p, _ in recorder.seen if "/yarn/proxy/" in p]


async def test_code_that_polls_statements_itself_gets_the_events(client: livyd.LivyClient,
                                                                spark_session: int) -> None:
    """StatementInsights next to the library's SessionEngine (what the daemon runs): the engine's
    own statement reads drive the watchers; events arrive per statement id."""
    import anyio

    from livyd import EngineListener, SessionEngine
    from livyd._insight import StatementInsights

    events: dict[int, list[Any]] = {}
    async with anyio.create_task_group() as tg:
        def emit(sid: int, event: Any) -> None:
            events.setdefault(sid, []).append(event)

        insights = StatementInsights(client, spark_session, emit, tg)

        class Listener(EngineListener):
            async def job_changed(self, job: Any) -> None:
                await insights.polled(job.statement)

            async def job_finished(self, job: Any) -> None:
                await insights.polled(job.statement)

        engine = SessionEngine(client, spark_session, listener=Listener())
        tg.start_soon(engine.run)
        job = engine.submit(SHUFFLE)
        await job.wait()
        insights.close()
        tg.cancel_scope.cancel()
    assert job.statement is not None and job.statement.output is not None
    assert job.statement.output.text == "[(0, 1683), (2, 1650), (1, 1617)]"
    jobs = final_jobs(events[job.statement.id])
    assert len(jobs) == 1 and next(iter(jobs.values())).status == "SUCCEEDED"
    assert sorted(s.num_tasks for s in final_stages(events[job.statement.id]).values()) == [2, 4]


# --------------------------------------------------------------------------- the daemon


async def test_the_daemon_sends_livy_progress_and_work_done_reports(
        gateway: SandboxProcess, spark_session: int, tmp_path: Path) -> None:
    """``livy/progress`` (protocol 1.3) through a real ``livyd --stdio``, attached to the shared
    session: the statement's Spark job and stages, each frame valid against the generated schema,
    and the task's ``$/progress`` reports carrying the same messages; ``livy/sparkLog``."""
    from livyd.daemon.harness import DaemonClient

    env = {"PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "XDG_CONFIG_HOME": str(tmp_path / "xdg-config"), "XDG_STATE_HOME": str(tmp_path / "xdg-state")}
    cmd = [sys.executable, "-m", "livyd", "--stdio", "--standalone"]
    async with DaemonClient.spawn(cmd, env=env, cwd=str(tmp_path)) as client:
        await client.initialize({"profile": None, "workspace": str(tmp_path), "settings": {
            "url": gateway.livy_url, "stateDir": str(tmp_path / "state"), "pollInterval": 0.25,
            "deleteSessionsOnExit": False}})
        caps = client.initialize_result["capabilities"]["experimental"]["livyd"]
        assert "livy/progress" in caps["notifications"]
        await client.request("livy/attachSession", {"sessionId": spark_session})
        code = "import time\nsc.parallelize(range(12), 4).map(lambda x: time.sleep(0.2) or x).count()"
        started = await client.request("livy/execute", {"code": code, "sessionId": spark_session})
        task_id = started["taskId"]
        out = await client.wait_for_notification("livy/output", lambda p: p["taskId"] == task_id, timeout=120)
        assert out["data"]["text/plain"] == "12"
        def job_done(p: Any) -> bool:
            return bool(p["taskId"] == task_id and p["kind"] == "job" and p["status"] == "SUCCEEDED")

        await client.wait_for_notification("livy/progress", job_done, timeout=30)  # read after the output
        progress = [p for p in client.notifications("livy/progress") if p["taskId"] == task_id]
        assert {p["statementId"] for p in progress} == {out["statementId"]}
        jobs = [p for p in progress if p["kind"] == "job"]
        assert jobs[-1]["numTasks"] == jobs[-1]["completedTasks"] == 4 and "/yarn/proxy/" in jobs[-1]["url"]
        stages = [p for p in progress if p["kind"] == "stage"]
        assert stages and all(p["stageId"] is not None and p["message"].startswith("stage ") for p in stages)
        reports = [p["value"].get("message") for p in client.notifications("$/progress")
                   if p["token"] == f"livyd-{task_id}" and p["value"]["kind"] == "report"]
        assert any(m and "tasks" in m for m in reports), reports
        # livy/sparkLog: the driver's whole log through the daemon; executors: a clear refusal
        logs = await client.request("livy/sparkLog", {"sessionId": spark_session, "tail": 5000})
        (driver,) = logs["logs"]
        assert driver["log"] == "driver" and driver["url"].startswith(gateway.livy_url)
        assert any("SparkSession" in line and "started" in line for line in driver["lines"])
        from livyd.daemon.harness import DaemonRequestError

        with pytest.raises(DaemonRequestError, match="executorLogUrls is null"):
            await client.request("livy/sparkLog", {"sessionId": spark_session, "executors": True})
        assert client.stdout_violations == []
