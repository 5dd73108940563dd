"""The ``livyd`` command line, declared with argparse (fast to import; nothing heavy here).

Global options (``--profile``, ``--url``, ``--json``, ``--verbose``) are accepted before or after
the command name: each subcommand parser inherits them with ``default=SUPPRESS`` so a value given
before the command is not reset by the subparser.
"""

from __future__ import annotations

import argparse
import math

from livyd._version import __version__
from livyd.cli._devloop_args import add_parsers, batch_submit_options, statement_options

__all__ = ["build_parser"]

EPILOG = """\
exit status: 0 ok; 1 the code raised (or a followed batch ended dead/killed); 2 usage or
configuration error; 3 connection, authentication or server error; 130 interrupted.

With no Livy configured anywhere (no --url/--profile, LIVY_URL, livyd.toml), exec and run start
an embedded sandbox. `livyd sandbox --help` and `livyd --stdio` (the editor daemon) are also here.
"""


def _global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument("--profile", "-p", metavar="NAME", default=default,
                        help="use this profile from livyd.toml (else LIVYD_PROFILE, the profile variable)")
    parser.add_argument("--url", metavar="URL", default=default,
                        help="Livy URL (direct http://host:8998 or https://knox/gateway/<t>/livy/v1)")
    parser.add_argument("--json", action="store_true", default=argparse.SUPPRESS if suppress else False,
                        help="machine-readable output on stdout")
    parser.add_argument("--verbose", "-v", action="store_true",
                        default=argparse.SUPPRESS if suppress else False,
                        help="trace every HTTP exchange on stderr (secrets redacted); "
                        "also LIVYD_LOG_LEVEL=debug")


def build_parser() -> argparse.ArgumentParser:
    """The whole ``livyd`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="livyd",
        description="Run PySpark through Apache Livy (direct, via Knox, with Kerberos) from your shell.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"livyd {__version__}")
    _global_options(parser, suppress=False)
    common = argparse.ArgumentParser(add_help=False)
    _global_options(common, suppress=True)

    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("exec", parents=[common],
                       help="run code (an argument, or - for stdin) and print its output")
    p.add_argument("code", metavar="CODE|-", help="the code to run, or - to read it from stdin")
    _statement_options(p)

    p = sub.add_parser("run", parents=[common],
                       help="run a local file as one statement with sys.argv = [FILE, ARGS...]")
    p.add_argument("file", metavar="FILE")
    p.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS")
    _statement_options(p)

    p = sub.add_parser("sessions", parents=[common], help="list, inspect and kill sessions")
    ss = p.add_subparsers(dest="action", metavar="ACTION")
    ss.add_parser("list", parents=[common], help="list sessions (the default)")
    info = ss.add_parser("info", parents=[common], help="show one session")
    info.add_argument("id", metavar="ID|NAME")
    kill = ss.add_parser("kill", parents=[common], help="delete a session (or all with --all)")
    kill.add_argument("id", metavar="ID|NAME", nargs="?")
    kill.add_argument("--all", action="store_true", dest="all", help="delete every session you can see")

    p = sub.add_parser("logs", parents=[common], help="show a session's log (the newest session by default)")
    p.add_argument("id", metavar="ID|NAME", nargs="?")
    p.add_argument("--follow", "-f", action="store_true", help="keep printing new lines until Ctrl-C")
    p.add_argument("--tail", "-n", type=_non_negative, metavar="N",
                   help="only the last N lines (default 100)")
    p.add_argument("--driver", action="store_true",
                   help="the Spark driver's whole log (appInfo.driverLogUrl), not Livy's last 200 lines")
    p.add_argument("--executors", action="store_true",
                   help="every executor's log (appInfo.executorLogUrls, Livy 0.9+)")

    p = sub.add_parser("batch", parents=[common], help="submit and manage batch jobs")
    bs = p.add_subparsers(dest="action", metavar="ACTION")
    submit = bs.add_parser("submit", parents=[common], help="submit FILE (a path the cluster can read)")
    submit.add_argument("file", metavar="FILE")
    submit.add_argument("--class-name", metavar="C", help="main class (JVM jobs)")
    submit.add_argument("--name", metavar="N", help="the batch's name (default: a unique livyd-... name)")
    submit.add_argument("--follow", "-f", action=argparse.BooleanOptionalAction, default=True,
                        help="stream the log and wait until the batch ends: exit 0 on success, 1 "
                             "dead/killed (the default; --no-follow prints the new batch and returns)")
    submit.add_argument("args", nargs="*", metavar="ARGS", help="after --: the job's arguments")
    batch_submit_options(submit)
    bs.add_parser("list", parents=[common], help="list batches")
    status = bs.add_parser("status", parents=[common], help="show one batch")
    status.add_argument("id", type=int, metavar="ID")
    logs = bs.add_parser("logs", parents=[common], help="show a batch's log")
    logs.add_argument("id", type=int, metavar="ID")
    logs.add_argument("--follow", "-f", action="store_true", help="keep printing until the batch ends")
    logs.add_argument("--tail", "-n", type=_non_negative, metavar="N", help="only the last N lines")
    bkill = bs.add_parser("kill", parents=[common], help="delete a batch")
    bkill.add_argument("id", type=int, metavar="ID")

    sub.add_parser("doctor", parents=[common],
                   help="show the resolved configuration and where each value came from; check Livy")
    add_parsers(sub, common)  # hdfs, deploy, reload, build-standalone
    sub.add_parser("sandbox", help="run the local Livy/WebHDFS-compatible server (livyd sandbox --help)",
                   add_help=False)
    return parser


def _statement_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--session", "-s", metavar="ID|NAME",
                   help="run in this existing session (default: create one, delete it afterwards)")
    p.add_argument("--kind", "-k", metavar="K",
                   help="statement/session kind: pyspark (default), spark, sparkr, sql")
    p.add_argument("--keep", action="store_true", help="keep the session livyd created (prints its id)")
    p.add_argument("--timeout", type=_timeout, metavar="SECONDS",
                   help="give up waiting after SECONDS (and cancel the statement)")
    p.add_argument("--image-dir", metavar="DIR", help="where images are written (default: a temp dir)")
    statement_options(p)


#: The longest --timeout accepted (31 days): beyond that a timer is meaningless (and 1e308 breaks it).
MAX_TIMEOUT = 31 * 24 * 3600.0


def _timeout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not math.isfinite(value) or value <= 0 or value > MAX_TIMEOUT:
        raise argparse.ArgumentTypeError(
            f"expected a number of seconds > 0 and at most {MAX_TIMEOUT:g} (31 days), got {text!r}; "
            "leave --timeout out to wait without a limit")
    return value


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {value}")
    return value
