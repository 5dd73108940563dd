"""Shared fixtures: real sandboxes on loopback, and the CI rule that nothing may skip.

A test that needs a system package calls :func:`require`: locally it skips with the package's
name; under ``CI=true`` it fails, so CI always runs everything. As a second line of defence,
any skip at all fails the run when ``CI=true`` (see ``pytest_runtest_makereport``).
"""

from __future__ import annotations

import shutil
import signal
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from support import IN_CI, ROOT, SandboxProcess, has_module, require, start_sandbox

__all__ = ["ROOT", "SandboxProcess", "has_module", "require", "start_sandbox"]


def pytest_configure(config: pytest.Config) -> None:
    """Children must see Ctrl-C even when the run was started in the background.

    A shell without job control starts background jobs with SIGINT ignored, and an ignored signal
    is inherited across exec: the CLI under test would then never see the SIGINT the tests send.
    A Python-level handler is reset to the default in children, so install one here.
    """
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.longrepr = f"CI=true: skipping is a failure ({reason})"


# --------------------------------------------------------------------------- anyio

@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def _isolate_structlog() -> Iterator[None]:
    """No test leaks a structlog configuration into the next (``capture_logs`` and
    ``configure_logging`` change process-wide state)."""
    import structlog

    structlog.reset_defaults()
    yield
    structlog.reset_defaults()


@pytest.fixture(scope="session")
def sandbox_factory() -> Iterator[Callable[..., SandboxProcess]]:
    """Start (and cache, per argument list) sandboxes for the whole test session."""
    started: dict[tuple[str, ...], SandboxProcess] = {}

    def factory(*args: str) -> SandboxProcess:
        if args not in started:
            started[args] = start_sandbox(*args)
        return started[args]

    yield factory
    for sb in started.values():
        sb.stop()
        shutil.rmtree(sb.data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def sandbox(sandbox_factory: Callable[..., SandboxProcess]) -> SandboxProcess:
    """The default sandbox: Livy 0.9 mode, direct (no gateway), short cancel timeout."""
    return sandbox_factory("--cancel-timeout", "3")
