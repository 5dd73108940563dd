"""``livyd``: the command line (``python -m livyd`` and the ``livyd`` console script).

:func:`main` parses arguments, sets up logging (stderr only; ``--verbose`` or LIVYD_LOG_LEVEL=debug
trace every HTTP exchange with secrets redacted), runs the command under anyio, and maps every
outcome to an exit status::

    0    ok
    1    the code raised (ename, evalue, traceback on stderr); a followed batch ended dead/killed
    2    usage or configuration error
    3    connection, authentication or server error
    130  interrupted (Ctrl-C cancels the running statement on the server first)

Expected failures end with one line, ``livyd: error: ...``, naming the culprit; a Python traceback
only appears with ``--verbose``. ``livyd sandbox ...`` and ``livyd --stdio ...`` are delegated
whole to :mod:`livyd.sandbox` and :mod:`livyd.daemon`, imported only then.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

__all__ = ["EXIT_CONFIG", "EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_SERVER", "console_main", "main"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CONFIG = 2
EXIT_SERVER = 3
EXIT_INTERRUPTED = 130


def _configure_logging(verbose: bool) -> None:
    if not verbose and not os.environ.get("LIVYD_LOG_LEVEL"):
        # The default: warnings only. The library's loggers send them to stderr through the stdlib
        # (redacted) until structlog is configured, so structlog and rich (~100 ms) stay unloaded;
        # a person reads them as sentences, or not at all (livyd.cli._messages).
        from livyd.cli._messages import install_sentence_handler

        install_sentence_handler()
        return
    level = "debug" if verbose else (os.environ.get("LIVYD_LOG_LEVEL") or "warning").lower()
    try:
        from livyd._logging import configure_logging
    except ImportError:  # the logging module not built yet: at least keep structlog off stdout
        import logging

        import structlog

        structlog.configure(
            logger_factory=structlog.PrintLoggerFactory(sys.stderr),
            wrapper_class=structlog.make_filtering_bound_logger(
                getattr(logging, level.upper(), logging.WARNING)),
        )
        return
    configure_logging(level)


def _delegate(argv: list[str]) -> int | None:
    if argv[:1] == ["sandbox"]:
        from livyd.sandbox._cli import main as sandbox_main

        return sandbox_main(argv[1:])
    leading = []
    for arg in argv:
        if not arg.startswith("-"):
            break
        leading.append(arg)
    if "--version" in leading and "--json" in leading:
        # For editors checking compatibility before they spawn the daemon: nothing else is loaded.
        import json

        from livyd._version import PROTOCOL_VERSION, __version__

        sys.stdout.write(json.dumps({"version": __version__, "protocolVersion": PROTOCOL_VERSION}) + "\n")
        return EXIT_OK
    if "--stdio" in leading:
        try:
            from livyd.daemon import main as daemon_main
        except ImportError as exc:
            sys.stderr.write(f"livyd: error: the editor daemon is not available in this build ({exc})\n")
            return EXIT_CONFIG
        return daemon_main(argv)
    return None


def console_main() -> None:
    """The ``livyd`` console script and ``python -m livyd``: :func:`main`, then a quick exit.

    Everything is finished when :func:`main` returns (sessions deleted, the embedded sandbox
    stopped, output written), so after flushing stdout and stderr the process ends with
    ``os._exit``: the interpreter's shutdown would otherwise spend ~0.2 s collecting garbage and
    tearing modules down for nothing. Not for embedding: call :func:`main` there.
    """
    global _startup_gc_paused
    import gc

    gc.disable()  # imports create ~10^5 objects that are never garbage: no collections meanwhile
    _startup_gc_paused = True
    # The command runs on asyncio only. httpcore imports trio when it is installed (~100 ms) to
    # support a backend this process never uses: mark it absent (httpcore then sticks to anyio).
    sys.modules.setdefault("trio", None)  # type: ignore[arg-type]
    # `import httpx` also imports its own command line (httpx._main: click, rich's console,
    # pygments; ~40 ms) whenever those are installed, as they are with livyd. This process never
    # runs httpx's CLI: marked absent, httpx defines its stub `main` instead.
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    try:
        code = main()
    finally:
        if _startup_gc_paused:  # main returned before the command ran (--help, a usage error, ...)
            gc.enable()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (livyd exec ... | head): nothing to keep
            pass
    import logging

    logging.shutdown()  # a log file's buffered lines
    os._exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``livyd`` command with *argv* (default: ``sys.argv[1:]``); return the exit status."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    delegated = _delegate(args_list)
    if delegated is not None:
        return delegated

    from livyd.cli._parser import build_parser

    parser = build_parser()
    # `batch submit FILE ... -- ARGS`: argparse cannot place a nargs="*" positional after options,
    # so the job's arguments are split off here.
    passthrough: list[str] | None = None
    if "--" in args_list and "batch" in args_list[: args_list.index("--")]:
        cut = args_list.index("--")
        args_list, passthrough = args_list[:cut], args_list[cut + 1:]
    args = parser.parse_args(args_list)
    if passthrough is not None:
        if getattr(args, "action", None) != "submit":
            parser.error("'-- ARGS' is only accepted by batch submit")
        args.args = [*args.args, *passthrough]
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_CONFIG
    try:
        _configure_logging(bool(args.verbose))
    except ValueError as exc:  # LIVYD_LOG_LEVEL=verbose: a configuration error, not a traceback
        sys.stderr.write(f"livyd: error: {exc}\n")
        return EXIT_CONFIG

    from livyd.cli._commands import run_command
    from livyd.cli._render import Renderer

    if _startup_gc_paused:
        _resume_gc()
    renderer = Renderer(json_mode=bool(args.json))
    return run_command(args, renderer)


#: True while :func:`console_main` holds the cyclic GC off during start-up imports.
_startup_gc_paused = False


def _resume_gc() -> None:
    """Start-up imports are done (the connection modules too): move everything they created to
    the permanent generation, where collections never look again, and collect as usual from here."""
    global _startup_gc_paused
    import gc

    import livyd._connect  # noqa: F401 - the last big import (httpx, the client) before any request

    gc.freeze()
    gc.enable()
    _startup_gc_paused = False
