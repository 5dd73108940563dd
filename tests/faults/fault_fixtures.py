"""Fixtures of the fault tests: a fault proxy in front of the shared sandbox, fresh sandboxes for
restarts, and a run counter that the REPL itself writes (a side effect of the code, not a count
of HTTP requests).

Not a conftest.py: several test directories have one, and a second module named ``conftest``
would shadow ``tests/conftest.py`` for ``import conftest``. Test modules import these fixtures
(``from fault_fixtures import proxy_fixture``), which is how pytest finds them; each is
registered under its short name (``proxy``, ``counter``, ``fresh_sandboxes``).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from proxy import FaultProxy
from support import SandboxProcess, start_sandbox


class RunCounter:
    """Code that appends one line to a file each time it runs, and the count of those lines."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def code(self, then: str = "'done'") -> str:
        return ("import os\n"
                f"os.write(os.open({str(self.path)!r}, os.O_WRONLY | os.O_APPEND | os.O_CREAT), b'run\\n')\n"
                f"{then}")

    def blocking(self, flag: Path) -> str:
        """Counted code that then waits until *flag* exists (the test decides when it ends)."""
        wait = f"import time\nwhile not os.path.exists({str(flag)!r}):\n    time.sleep(0.02)\n'released'"
        return self.code(wait)

    @property
    def runs(self) -> int:
        return self.path.read_text().count("run") if self.path.exists() else 0


@pytest.fixture(name="counter")
def counter_fixture(tmp_path: Path) -> RunCounter:
    return RunCounter(tmp_path / "runs.txt")


@pytest.fixture(name="proxy")
def proxy_fixture(sandbox: SandboxProcess) -> Iterator[FaultProxy]:
    with FaultProxy(sandbox.livy_url) as p:
        yield p


@pytest.fixture(name="fresh_sandboxes")
def fresh_sandboxes_fixture() -> Iterator[Callable[..., SandboxProcess]]:
    """Sandboxes of one test (restarts): each starts empty, numbering sessions from 0."""
    started: list[SandboxProcess] = []

    def start(*args: str) -> SandboxProcess:
        data = Path(tempfile.mkdtemp(prefix="livyd-fault-"))
        sb = start_sandbox("--cancel-timeout", "2", *args, data_dir=data)
        started.append(sb)
        return sb

    yield start
    for sb in started:
        sb.stop()
        shutil.rmtree(sb.data_dir, ignore_errors=True)
