"""Secrets inside an exception never reach the log through its formatted traceback (issue 7).

A Bearer token, a Negotiate blob and a URL's ``user:pw@`` inside an exception message used to
reach the log verbatim: ``format_exc_info`` ran after the redaction processor. Both pipelines are
checked: structlog events with ``exc_info`` and stdlib records (pygls, the daemon) with it, and the
library logger before logging is configured at all.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SECRETS = ["tok-4711-SECRET", "YIIGhgYJKoZIhvcSAQICAQBuggZ1MIIGcaADAgEFoQMCAQ6iBwMFACAAAACjggS",
           "pw-0815"]
PROBE = f"""
import logging, structlog
from livyd._logging import configure_logging, get_logger

def boom():
    raise RuntimeError("Authorization: Bearer {SECRETS[0]} Negotiate {SECRETS[1]} "
                       "at http://alice:{SECRETS[2]}@knox:8443/gateway")

MODE = __import__("sys").argv[1]
if MODE != "unconfigured":
    configure_logging("debug", file=__import__("pathlib").Path(__import__("sys").argv[2]))
try:
    boom()
except RuntimeError:
    if MODE == "structlog":
        structlog.get_logger("livyd.test").error("failed", exc_info=True)
    elif MODE == "stdlib":
        logging.getLogger("pygls.protocol").error("failed", exc_info=True)
    else:
        get_logger("livyd.test").exception("failed")
"""


def test_tracebacks_are_redacted_in_every_pipeline(tmp_path: Path) -> None:
    for mode in ("structlog", "stdlib", "unconfigured"):
        log_file = tmp_path / f"{mode}.log"
        proc = subprocess.run([sys.executable, "-c", PROBE, mode, str(log_file)], capture_output=True,
                              text=True, timeout=60)
        text = proc.stderr + proc.stdout + (log_file.read_text() if log_file.exists() else "")
        assert "RuntimeError" in text and "boom" in text, (mode, text)  # the traceback is there
        for secret in SECRETS:
            assert secret not in text, (mode, secret, text)
        assert proc.stdout == ""


def test_library_modules_log_through_the_factory() -> None:
    """No library module asks structlog for a logger itself (unconfigured, it prints to stdout)."""
    root = Path(__file__).resolve().parents[2] / "livyd"
    offenders = []
    for path in root.glob("*.py"):
        if path.name == "_logging.py":
            continue
        if "structlog.get_logger" in path.read_text(encoding="utf-8"):
            offenders.append(path.name)
    assert offenders == []
