"""The bounded daemon soak (``soak.py``): about 2 minutes by default, as in CI;
``LIVYD_SOAK_SECONDS`` for longer. No task leaks, no file descriptor leaks, no statement runs
twice. Its RSS growth is a benchmark figure (``python bench/daemon_soak.py``), printed here but
not asserted."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from soak import run_soak
from support import SandboxProcess


@pytest.mark.anyio
@pytest.mark.timeout(900)
async def test_daemon_soak(sandbox: SandboxProcess, tmp_path: Path) -> None:
    seconds = float(os.environ.get("LIVYD_SOAK_SECONDS", "120"))
    report = await run_soak(sandbox.livy_url, tmp_path, seconds=seconds)
    print(f"soak: {report.rounds} rounds, {report.tasks} tasks in {report.seconds:.0f} s; fds "
          f"{report.fds_after_first} -> {report.fds_after_last}; RSS {report.rss_after_first >> 20} -> "
          f"{report.rss_after_last >> 20} MiB")
    assert report.rounds >= 2
    assert report.leaked_tasks == []
    assert report.runs_wrong == []
    assert report.stdout_violations == []
    # a leak grows with every round; the connection pool may hold a few more sockets at the end
    fds = (report.fds_after_first, report.fds_after_last)
    assert report.fds_after_last <= report.fds_after_first + 4, fds
