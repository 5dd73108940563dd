"""``livyd --stdio``: the editor daemon.

:func:`main` is the entry point (``livyd --stdio [--standalone] [--log-file F]`` calls it with the
arguments after ``livyd``); :class:`DaemonClient` (in :mod:`livyd.daemon.harness`) is a small
Python client for the protocol, used by the tests and importable by users.

Importing this package is cheap: the pygls server and the supervisor are imported by :func:`main`.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import TYPE_CHECKING, Any

__all__ = ["DaemonClient", "main"]

if TYPE_CHECKING:
    from livyd.daemon.harness import DaemonClient


def __getattr__(name: str) -> Any:
    if name == "DaemonClient":
        from livyd.daemon.harness import DaemonClient

        return DaemonClient
    raise AttributeError(name)


def _configure_logging(log_file: str | None, verbosity: int) -> None:
    """Logs go to stderr or a file, never stdout; pygls stays at WARNING (it logs bodies at INFO)."""
    import structlog

    from livyd.daemon._server import _SecretFilter

    stream = open(log_file, "a", encoding="utf-8") if log_file else sys.stderr  # noqa: SIM115
    level = logging.WARNING - 10 * min(verbosity, 2)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_SecretFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("pygls", "httpx", "httpcore", "httpx_gssapi"):
        logging.getLogger(name).setLevel(max(level, logging.WARNING if name == "pygls" else logging.INFO))
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.processors.JSONRenderer(),
        ],
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        wrapper_class=structlog.make_filtering_bound_logger(level),
        cache_logger_on_first_use=True,
    )


def main(argv: list[str]) -> int:
    """Run the daemon: ``livyd --stdio [--standalone] [--log-file F] [-v] [--max-frame-bytes N]``.

    *argv* are the arguments after ``livyd`` (``--stdio`` may be present or not). Returns the exit
    code: 0 after ``shutdown`` + ``exit`` or stdin EOF, 1 after ``exit`` without ``shutdown``.
    """
    parser = argparse.ArgumentParser(prog="livyd --stdio", description="the livyd editor daemon")
    parser.add_argument("--stdio", action="store_true", help="speak LSP framing on stdin/stdout (default)")
    parser.add_argument(
        "--standalone",
        action="store_true",
        help="keep everything in this process (no shared per-user daemon)",
    )
    parser.add_argument(
        "--log-file", default=os.environ.get("LIVYD_LOG_FILE"), help="log here, not to stderr"
    )
    parser.add_argument("-v", "--verbose", action="count", default=0)
    parser.add_argument(
        "--max-frame-bytes",
        type=int,
        default=64 * 1024 * 1024,
        help="refuse frames larger than this without reading them",
    )
    args = parser.parse_args(argv)
    if args.max_frame_bytes < 1024:
        parser.error("--max-frame-bytes must be at least 1024")
    _configure_logging(args.log_file, args.verbose)

    import anyio

    from livyd.daemon._server import serve

    try:
        return anyio.run(serve, args.max_frame_bytes, backend="asyncio")
    except KeyboardInterrupt:
        return 130
