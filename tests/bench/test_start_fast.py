"""What the fast paths must not load (issue 7, "Start fast"); the times are in bench/RESULTS.md."""

from __future__ import annotations

import subprocess
import sys

import livyd._version
from livyd.daemon._relay import _protocol_version
from livyd.protocol import PROTOCOL_VERSION


def _loaded_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint(' '.join(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    return set(out.stdout.split())


def test_livyd_exec_reaches_livy_without_structlog_or_rich_of_its_own() -> None:
    """The exec path (parser, commands, config, client) loads no structlog, no protocol models."""
    loaded = _loaded_after(
        "import livyd.cli, livyd.cli._parser, livyd.cli._commands, livyd.cli._render, livyd._client, "
        "livyd._connect, livyd._config\nlivyd.cli._configure_logging(False)"
    )
    assert "structlog" not in loaded
    assert not {m for m in loaded if m.startswith(("livyd.protocol", "livyd.daemon", "pygls"))}


def test_the_relay_loads_neither_structlog_nor_pygls() -> None:
    loaded = _loaded_after(
        "import livyd.cli, livyd.daemon, livyd.daemon._relay\n"
        "livyd.daemon._configure_logging(None, 0, relay=True)"
    )
    assert "structlog" not in loaded and "pygls" not in loaded
    if hasattr(livyd._version, "PROTOCOL_VERSION"):  # the protocol version stated without the models
        assert not {m for m in loaded if m.startswith("livyd.protocol")}


def test_the_relay_names_the_protocol_version_the_daemon_speaks() -> None:
    assert _protocol_version() == PROTOCOL_VERSION
