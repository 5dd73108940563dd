"""Helpers shared by the test modules: ``from support import require, start_sandbox, ...``.

They live here, not in conftest.py, because several directories have a conftest.py and
``from conftest import ...`` would get whichever was imported last.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(condition: object, what: str) -> None:
    """Skip (locally) or fail (under CI=true) unless *condition* holds; *what* names what is missing."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI=true and this test cannot run: missing {what}", pytrace=False)
    pytest.skip(f"missing {what}")


def has_module(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


# --------------------------------------------------------------------------- sandbox processes

_READY = re.compile(r"^livyd sandbox: livy=(\S+) webhdfs=(\S+)$")


@dataclass
class SandboxProcess:
    """A ``python -m livyd.sandbox`` process on loopback, with the URLs it printed."""

    livy_url: str
    webhdfs_url: str
    data_dir: Path
    proc: subprocess.Popen[str]
    args: tuple[str, ...]
    stderr_lines: list[str] = field(default_factory=list)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    @property
    def stderr(self) -> str:
        return "".join(self.stderr_lines)


def start_sandbox(*args: str, data_dir: Path | None = None, env: dict[str, str] | None = None,
                  timeout: float = 30.0) -> SandboxProcess:
    """Start a sandbox subprocess on free ports and wait for its one ready line."""
    data_dir = data_dir or Path(tempfile.mkdtemp(prefix="livyd-sandbox-"))
    cmd = [sys.executable, "-m", "livyd.sandbox", "--port", "0", "--webhdfs-port", "0",
           "--data-dir", str(data_dir), *args]
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=full_env, cwd=str(data_dir))
    sb_stderr: list[str] = []

    def drain() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            sb_stderr.append(line)

    threading.Thread(target=drain, daemon=True).start()
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    line = ""
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line or proc.poll() is not None:
            break
    m = _READY.match(line.strip())
    if not m:
        proc.kill()
        stderr = "".join(sb_stderr)
        raise RuntimeError(f"sandbox did not start: first stdout line {line!r}; stderr:\n{stderr}")
    return SandboxProcess(m.group(1), m.group(2), data_dir, proc, tuple(args), sb_stderr)
