"""A bounded soak of the editor daemon (``livyd --stdio``) behind the fault proxy, shared by
``tests/faults/test_daemon_soak.py`` (about 30 s in CI) and ``bench/daemon_soak.py`` (longer,
and reports the RSS growth).

One daemon, several sessions, rounds of statements until the time budget is spent. In each round
every session gets a few statements: plain ones, ones that raise, one cancelled while it runs, and
statement POSTs hit by injected faults (the connection reset after the server got it, a gateway's
502 or 504 after it; GETs answered 503 once). Each statement's code appends a unique token to a
file when it runs, so runs are counted inside the REPL. Measured at the end:

* every task reached a final state (``available``, ``cancelled``, ``failed``): none leaked;
* every statement that was not cancelled ran exactly once, a cancelled one at most once;
* the daemon's open file descriptors (``/proc/<pid>/fd``) after the last round compared with after
  the first: a leak grows with the rounds;
* its resident memory (``VmRSS``) after the first round and after the last (reported, not asserted).
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
from proxy import FaultProxy
from support import ROOT

from livyd.daemon.harness import DaemonClient

__all__ = ["SoakReport", "run_soak"]

FINAL = frozenset({"available", "cancelled", "failed"})
SPIN = "import time\nwhile True:\n    time.sleep(0.01)"


@dataclass
class SoakReport:
    rounds: int = 0
    tasks: int = 0
    statements_counted: int = 0
    runs_wrong: list[str] = field(default_factory=list)
    leaked_tasks: list[dict[str, Any]] = field(default_factory=list)
    fds_after_first: int = 0
    fds_after_last: int = 0
    rss_after_first: int = 0
    rss_after_last: int = 0
    stdout_violations: list[Any] = field(default_factory=list)
    seconds: float = 0.0


def _fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def _code(runs: Path, token: str, then: str) -> str:
    return ("import os\n"
            f"os.write(os.open({str(runs)!r}, os.O_WRONLY | os.O_APPEND | os.O_CREAT), b'{token}\\n')\n"
            f"{then}")


async def _settle(client: DaemonClient, task_ids: list[str]) -> None:
    """Wait (at most 3 minutes) until every task reported a final state (livy/taskChanged)."""
    def done() -> bool:
        final = {p["taskId"] for p in client.notifications("livy/taskChanged") if p["state"] in FINAL}
        return all(t in final for t in task_ids)

    await client.wait_until(done, timeout=180)


async def run_soak(livy_url: str, workdir: Path, *, seconds: float, sessions: int = 3) -> SoakReport:
    """Soak one daemon for about *seconds* (at least two rounds) through a fault proxy."""
    report = SoakReport()
    runs = workdir / "runs.txt"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("LIVY")},
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "XDG_CONFIG_HOME": str(workdir / "xdg-config"), "XDG_STATE_HOME": str(workdir / "xdg-state")}
    started_at = time.monotonic()
    expected: dict[str, bool] = {}  # token -> must have run exactly once (else: at most once)
    with FaultProxy(livy_url) as proxy:
        cmd = [sys.executable, "-m", "livyd", "--stdio", "--standalone"]
        async with DaemonClient.spawn(cmd, env=env, cwd=str(workdir)) as client:
            await client.initialize({"profile": None, "workspace": str(workdir), "settings": {
                "url": proxy.url, "stateDir": str(workdir / "state"), "pollInterval": 0.05,
                "idlePollInterval": 0.5, "deleteSessionsOnExit": True}})
            pid = client.process.pid
            sids: list[int] = []
            for _ in range(sessions):
                created = await client.request("livy/createSession", {"kind": "pyspark"})
                sids.append(int(created["session"]["id"]))
            while True:
                task_ids: list[str] = []
                r = report.rounds
                for i, sid in enumerate(sids):
                    for j, (then, fault) in enumerate([
                        ("'ok'", None), ("1 / 0", ("status-after", 502)),
                        ("'after reset'", ("reset-after", 0)), ("'after 504'", ("status-after", 504)),
                        ("sum(range(1000))", None),
                    ]):
                        token = f"r{r}s{i}n{j}"
                        expected[token] = True
                        if fault is not None:
                            proxy.add("POST", rf"/sessions/{sid}/statements$", fault[0], status=fault[1])
                        res = await client.request("livy/execute", {"code": _code(runs, token, then),
                                                                     "sessionId": sid})
                        task_ids.append(res["taskId"])
                    token = f"r{r}s{i}cancel"
                    expected[token] = False
                    spin = await client.request("livy/execute", {"code": _code(runs, token, SPIN),
                                                                  "sessionId": sid})
                    task_ids.append(spin["taskId"])
                    await client.wait_until(lambda t=spin["taskId"]: any(
                        p["taskId"] == t and p["state"] == "running"
                        for p in client.notifications("livy/taskChanged")), timeout=120)
                    await client.request("livy/cancel", {"taskId": spin["taskId"]})
                proxy.add("GET", r"/statements", "status-before", status=503)
                await _settle(client, task_ids)
                report.tasks += len(task_ids)
                report.rounds += 1
                # a cancelled pure-Python loop keeps running in Livy: restart the sessions so the
                # next round is not queued behind it (and restarts are soaked too)
                new_sids = []
                for sid in sids:
                    restarted = await client.request("livy/restartSession", {"sessionId": sid})
                    new_sids.append(int(restarted["session"]["id"]))
                sids = new_sids
                if report.rounds == 1:
                    await anyio.sleep(0.5)
                    report.fds_after_first, report.rss_after_first = _fds(pid), _rss(pid)
                if report.rounds >= 2 and time.monotonic() - started_at >= seconds:
                    break
            await anyio.sleep(0.5)
            report.fds_after_last, report.rss_after_last = _fds(pid), _rss(pid)
            status = await client.request("livy/status", {})
            report.leaked_tasks = [t for t in status["tasks"] if t["state"] not in FINAL]
            report.stdout_violations = list(client.stdout_violations)
    lines = runs.read_text().split() if runs.exists() else []
    for token, exactly_once in expected.items():
        n = lines.count(token)
        if (exactly_once and n != 1) or n > 1:
            report.runs_wrong.append(f"{token} ran {n} times")
    report.statements_counted = len(expected)
    report.seconds = time.monotonic() - started_at
    return report
