"""``python -m livyd.sandbox`` / ``livyd sandbox``: serve until SIGINT or SIGTERM.

Stdout carries exactly one line, once the sockets listen::

    livyd sandbox: livy=http://127.0.0.1:8998 webhdfs=http://127.0.0.1:9870/webhdfs/v1

so that a parent process (the test fixtures, an editor) can read the URLs; everything else goes
to stderr. On SIGINT/SIGTERM every session and batch process tree is stopped and the exit code
is 0. A non-loopback ``--host`` without ``--token`` is refused (exit 2): the sandbox runs
arbitrary code for whoever can reach it.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from pathlib import Path

import anyio
import structlog

from livyd.sandbox._server import Sandbox, is_loopback, stderr_logger_factory
from livyd.sandbox._versions import VERSIONS

__all__ = ["build_parser", "main"]


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: seconds must not be negative")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port number (0-65535; 0 picks a free one)")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The sandbox's argument parser (``livyd sandbox --help``)."""
    p = argparse.ArgumentParser(
        prog="livyd sandbox",
        description="A Livy- and WebHDFS-compatible server for local work and tests. It runs arbitrary "
                    "code for whoever can reach it: it binds 127.0.0.1 unless told otherwise.")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (non-loopback requires --token)")
    p.add_argument("--port", type=_port, default=8998, help="Livy port (0 = a free port; default 8998)")
    p.add_argument("--webhdfs-port", type=_port, default=9870,
                   help="WebHDFS port (0 = a free port; default 9870; unused with --gateway)")
    p.add_argument("--data-dir", type=Path, default=None,
                   help="directory backing WebHDFS (default: a temporary directory removed on exit)")
    p.add_argument("--livy-version", choices=sorted(VERSIONS), default="0.9",
                   help="the Livy release to behave like (default 0.9)")
    p.add_argument("--csrf", action="store_true",
                   help="require X-Requested-By on non-GET requests, like livy.server.csrf-protection")
    p.add_argument("--gateway", metavar="PREFIX", default=None,
                   help="behave like Apache Knox: Livy at PREFIX/livy/v1, WebHDFS at PREFIX/webhdfs/v1, "
                        "one port, X-XSRF-Header required, proxyUser forced")
    p.add_argument("--gateway-user", default=None,
                   help="the authenticated user in gateway mode (default: you)")
    p.add_argument("--token", default=os.environ.get("LIVYD_SANDBOX_TOKEN") or None,
                   help="require 'Authorization: Bearer TOKEN' on every request (default: "
                        "$LIVYD_SANDBOX_TOKEN, which keeps it out of the process list)")
    p.add_argument("--cancel-timeout", type=_seconds, default=30.0,
                   help="seconds before a running statement that ignores cancel is marked cancelled (30)")
    p.add_argument("--interrupt-on-cancel", action="store_true",
                   help="also send SIGINT to the session's Python on cancel (stops plain Python loops)")
    p.add_argument("--heartbeat-check-interval", type=_seconds, default=60.0,
                   help="seconds between heartbeat / idle-timeout / retention checks (60)")
    p.add_argument("--session-timeout", type=_seconds, default=3600.0,
                   help="idle timeout of interactive sessions in seconds (3600; 0 = never)")
    p.add_argument("--state-retain", type=_seconds, default=600.0,
                   help="seconds a dead session or finished batch stays listed (600)")
    p.add_argument("--python", default=None,
                   help="Python interpreter for sessions and batches (default: this one)")
    p.add_argument("--batch-launcher", choices=("auto", "python", "spark-submit"), default="auto",
                   help="how .py batches run: spark-submit when pyspark is installed (auto), or plain python")
    p.add_argument("--recovery", metavar="DIR", type=Path, default=None,
                   help="keep session records in DIR and bring them back on restart with the same ids, "
                        "names and appIds (like Livy's recovery mode); a fresh REPL runs them")
    p.add_argument("--max-body-bytes", type=int, default=None, metavar="N",
                   help="refuse Livy request bodies above N bytes with 413, as a gateway does "
                        "(default 32 MiB; WebHDFS uploads stream and are not limited)")
    p.add_argument("-v", "--verbose", action="store_true", help="log requests and state changes to stderr")
    return p


def _configure_logging(verbose: bool) -> None:
    level = logging.INFO if verbose else logging.WARNING
    logging.basicConfig(stream=sys.stderr, level=level, format="%(name)s: %(message)s")
    if not structlog.is_configured():
        structlog.configure(
            logger_factory=stderr_logger_factory,
            wrapper_class=structlog.make_filtering_bound_logger(level),
        )


async def _serve(args: argparse.Namespace) -> int:
    sandbox = Sandbox(
        host=args.host, port=args.port, webhdfs_port=args.webhdfs_port, data_dir=args.data_dir,
        livy_version=args.livy_version, csrf=args.csrf, gateway=args.gateway, gateway_user=args.gateway_user,
        token=args.token, cancel_timeout=args.cancel_timeout, interrupt_on_cancel=args.interrupt_on_cancel,
        heartbeat_check_interval=args.heartbeat_check_interval, session_timeout=args.session_timeout,
        state_retain=args.state_retain, python=args.python, batch_launcher=args.batch_launcher,
        recovery_dir=args.recovery, max_body_bytes=args.max_body_bytes,
    )
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with sandbox:
            sys.stdout.write(f"livyd sandbox: livy={sandbox.livy_url} webhdfs={sandbox.webhdfs_url}\n")
            sys.stdout.flush()
            sys.stderr.write(f"livyd sandbox: Livy {sandbox.mode.version} mode, data dir {sandbox.data_dir}; "
                             "Ctrl-C stops it\n")
            async for _ in signals:
                break
            sys.stderr.write("livyd sandbox: stopping sessions and batches\n")
    return 0


def main(argv: list[str]) -> int:
    """Run the sandbox from command-line arguments; returns the exit code."""
    args = build_parser().parse_args(argv)
    _configure_logging(args.verbose)
    if not is_loopback(args.host):
        if not args.token:
            sys.stderr.write(f"livyd sandbox: refusing --host {args.host}: the sandbox runs arbitrary code, "
                             "so a non-loopback address requires --token\n")
            return 2
        sys.stderr.write(f"livyd sandbox: WARNING: listening on {args.host}, reachable beyond this machine; "
                         "every request must carry the bearer token\n")
    try:
        return anyio.run(_serve, args, backend="asyncio")
    except (ValueError, OSError) as exc:
        sys.stderr.write(f"livyd sandbox: {exc}\n")
        return 2
    except KeyboardInterrupt:
        return 0
