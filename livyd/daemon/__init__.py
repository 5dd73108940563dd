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
from typing import TYPE_CHECKING, Any

__all__ = ["DaemonClient", "main"]

if TYPE_CHECKING:
    from livyd.daemon.harness import DaemonClient


def __getattr__(name: str) -> Any:
    if name == "DaemonClient":
        from livyd.daemon.harness import DaemonClient

        return DaemonClient
    raise AttributeError(name)


def _configure_logging(log_file: str | None, verbosity: int, *, relay: bool = False) -> None:
    """Logs go to stderr or a file, never stdout (``livyd._logging``, with its redaction). pygls
    stays at WARNING whatever the verbosity (it logs message bodies at INFO), and a filter blanks
    any record that might carry livy/setCredentials params."""
    from pathlib import Path

    level = {0: "warning", 1: "info"}.get(verbosity, "debug")
    if relay:
        # The relay only copies bytes and may say why it runs standalone: the stdlib suffices, so
        # structlog and rich (~100 ms before the editor's initialize) are not loaded for it.
        stream: Any = Path(log_file).expanduser().open("a", encoding="utf-8") if log_file else None
        relay_handler = logging.StreamHandler(stream)
        relay_handler.setFormatter(logging.Formatter("livyd --stdio: %(levelname)s: %(message)s"))
        logging.getLogger("livyd.daemon").addHandler(relay_handler)
        logging.getLogger("livyd.daemon").setLevel(level.upper())
        return
    _import_structlog_without_rich()
    from livyd._logging import configure_logging

    configure_logging(level, file=Path(log_file) if log_file else None)
    from livyd.daemon._server import _OneLineLibraryErrors, _SecretFilter

    logging.getLogger("pygls").setLevel(logging.WARNING)
    for handler in logging.getLogger().handlers:
        handler.addFilter(_SecretFilter())
        if verbosity < 2:
            handler.addFilter(_OneLineLibraryErrors())


def _import_structlog_without_rich() -> None:
    """Import structlog with rich hidden from it, in this process only (the daemon's own).

    structlog imports rich when it is installed (~70 ms before the editor's ``initialize``) for
    two things this daemon never uses: rich tracebacks in its console renderer (livyd formats and
    redacts exceptions before any renderer sees them: ``format_exc_info``) and rich's pretty
    printer for tracebacks with locals. Nothing in the daemon draws with rich, and rich stays
    importable afterwards for anyone who does."""
    import sys

    if "structlog" in sys.modules:
        return
    present = "rich" in sys.modules
    saved = sys.modules.get("rich")
    sys.modules["rich"] = None  # type: ignore[assignment]
    try:
        import structlog  # noqa: F401
    finally:
        if present:
            sys.modules["rich"] = saved  # type: ignore[assignment]
        else:
            del sys.modules["rich"]


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
    parser.add_argument("--serve-socket", metavar="PATH", help=argparse.SUPPRESS)
    parser.add_argument(
        "--idle-exit",
        type=float,
        default=float(os.environ.get("LIVYD_DAEMON_IDLE_EXIT", "600")),
        help=argparse.SUPPRESS,
    )
    parser.add_argument(
        "--socket",
        metavar="PATH",
        default=os.environ.get("LIVYD_DAEMON_SOCKET"),
        help="the shared daemon's Unix socket (default: in your runtime dir)",
    )
    args = parser.parse_args(argv)
    if args.max_frame_bytes < 1024:
        parser.error("--max-frame-bytes must be at least 1024")
    _configure_logging(args.log_file, args.verbose, relay=not (args.standalone or args.serve_socket))
    if args.standalone or args.serve_socket:  # the daemon itself (a relay holds no outputs)
        from livyd.daemon._memory import return_big_blocks

        return_big_blocks()

    import anyio

    try:
        if args.serve_socket:
            from pathlib import Path

            from livyd.daemon._relay import serve_socket

            return anyio.run(
                serve_socket, Path(args.serve_socket), args.max_frame_bytes, args.idle_exit, backend="asyncio"
            )
        if not args.standalone:
            from pathlib import Path

            from livyd.daemon._relay import default_socket_path, relay_stdio

            path = Path(args.socket) if args.socket else default_socket_path()
            try:
                return anyio.run(relay_stdio, path, args.idle_exit, backend="asyncio")
            except OSError as exc:
                logging.getLogger("livyd.daemon").warning(
                    "cannot reach or start the shared daemon at %s (%s); running standalone", path, exc
                )
            for handler in logging.getLogger("livyd.daemon").handlers[:]:
                logging.getLogger("livyd.daemon").removeHandler(handler)
            _configure_logging(args.log_file, args.verbose)  # standalone: the daemon's own logging
        from livyd.daemon._server import serve

        return anyio.run(serve, args.max_frame_bytes, backend="asyncio")
    except KeyboardInterrupt:
        return 130
