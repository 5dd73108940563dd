"""The daemon soak (tests/faults/soak.py) for longer, reporting the daemon's RSS growth.

    python bench/daemon_soak.py                 # 5 minutes against a sandbox started for the run
    python bench/daemon_soak.py --seconds 1800

One daemon behind the fault proxy, three sessions, rounds of statements (plain, raising, cancelled
while running, POSTs hit by resets and 502/504s, GETs by 503s) with session restarts between
rounds. Reported: rounds, tasks, leaked tasks, statements not run exactly once, file descriptors
and RSS after the first round and after the last, and the RSS growth against the goal (under
20 MiB, issue 11). Nothing is timed; exit status 1 when a leak, a double run or the goal is missed.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "faults")]

import anyio  # noqa: E402
from soak import run_soak  # noqa: E402
from support import start_sandbox  # noqa: E402

GOAL = 20 * 1024 * 1024


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=300.0)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="livyd-soak-"))
    (work / "data").mkdir()
    sb = start_sandbox("--cancel-timeout", "2", data_dir=work / "data")
    try:
        report = anyio.run(lambda: run_soak(sb.livy_url, work, seconds=args.seconds))
    finally:
        sb.stop()
        shutil.rmtree(work, ignore_errors=True)
    growth = report.rss_after_last - report.rss_after_first
    print(f"daemon soak: {report.rounds} rounds, {report.tasks} tasks, {report.statements_counted} "
          f"statements counted in {report.seconds:.0f} s")
    print(f"  leaked tasks: {len(report.leaked_tasks)}; "
          f"statements not run exactly once: {len(report.runs_wrong)}")
    print(f"  file descriptors: {report.fds_after_first} after round 1, {report.fds_after_last} at the end")
    first, last = report.rss_after_first / 2**20, report.rss_after_last / 2**20
    print(f"  RSS: {first:.1f} MiB after round 1, {last:.1f} MiB at the end: growth "
          f"{growth / 2**20:+.1f} MiB (goal: under {GOAL >> 20} MiB)")
    ok = not report.leaked_tasks and not report.runs_wrong and growth < GOAL \
        and report.fds_after_last <= report.fds_after_first + 4
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
