"""Fixtures for the daemon tests: a Livy URL (the shared sandbox) and a daemon spawner."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from livyd.daemon.harness import DaemonClient

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def livy_url(request: pytest.FixtureRequest) -> str:
    """The Livy the daemon talks to: the session-wide sandbox (``sandbox`` fixture).

    ``LIVYD_DAEMON_TEST_URL`` points the tests at another Livy-compatible server instead (a
    development aid while the sandbox changes; CI does not set it).
    """
    override = os.environ.get("LIVYD_DAEMON_TEST_URL")
    if override:
        return override
    sandbox = request.getfixturevalue("sandbox")
    return str(sandbox.livy_url)


@pytest.fixture(scope="session")
def batch_livy_url(request: pytest.FixtureRequest) -> str:
    """A sandbox whose batches run with plain Python (no JVM): ``--batch-launcher python``."""
    override = os.environ.get("LIVYD_DAEMON_TEST_BATCH_URL")
    if override:
        return override
    factory = request.getfixturevalue("sandbox_factory")
    return str(factory("--cancel-timeout", "3", "--batch-launcher", "python").livy_url)


Spawner = Callable[..., Any]


@pytest.fixture
def spawn_daemon(tmp_path: Path, livy_url: str) -> Spawner:
    """``async with spawn_daemon(**settings) as client``: an initialized ``python -m livyd.daemon``.

    Each daemon gets its own state directory under tmp_path (unless ``state_dir`` is given) and a
    fast poll interval.
    """

    @asynccontextmanager
    async def spawn(
        *extra_args: str,
        state_dir: Path | None = None,
        initialize: bool = True,
        standalone: bool = True,
        env_extra: dict[str, str] | None = None,
        **settings: Any,
    ) -> AsyncIterator[DaemonClient]:
        sd = state_dir or (tmp_path / "state")
        opts = {
            "profile": None,
            "workspace": str(tmp_path),
            "settings": {
                "url": livy_url,
                "stateDir": str(sd),
                "pollInterval": 0.1,
                "idlePollInterval": 1.0,
                # Tests delete what they create unless they test persistence (the shared sandbox
                # would otherwise keep one REPL process per test).
                "deleteSessionsOnExit": True,
                **settings,
            },
        }
        env = {
            "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
            "XDG_CONFIG_HOME": str(tmp_path / "xdg-config"),
            "XDG_STATE_HOME": str(tmp_path / "xdg-state"),
        }
        env.update(env_extra or {})
        cmd = [
            sys.executable,
            "-m",
            "livyd",
            "--stdio",
            *(["--standalone"] if standalone else []),
            *extra_args,
        ]
        async with DaemonClient.spawn(cmd, env=env, cwd=str(tmp_path)) as client:
            if initialize:
                await client.initialize(opts)
            yield client
            assert client.stdout_violations == [], client.stdout_violations

    return spawn
