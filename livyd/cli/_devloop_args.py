"""Arguments of the development-loop commands (fast to import: argparse only).

``hdfs``, ``deploy``, ``reload`` and ``build-standalone`` are added to the top-level parser by
:func:`add_parsers`; :func:`statement_options` and :func:`batch_submit_options` add ``--dry-run``,
``--deploy``/``--no-deploy`` and ``--stage`` to ``exec``/``run`` and ``batch submit``.
"""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["add_parsers", "batch_submit_options", "statement_options"]

_SESSION_HELP = "default: the one running session livyd named (<name_prefix>-...)"


def statement_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dry-run", action="store_true",
                   help="print the exact request bodies (secrets masked) and where each value came from; "
                   "send nothing")
    p.add_argument("--deploy", action="store_true", default=None, dest="deploy",
                   help="deploy the project into the session livyd creates (default: deploy.auto)")
    p.add_argument("--no-deploy", action="store_false", dest="deploy", help="do not auto-deploy")


def batch_submit_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dry-run", action="store_true",
                   help="print the exact POST /batches body and where each value came from; send nothing")
    p.add_argument("--stage", choices=("auto", "always", "never"),
                   help="stage a local FILE to the remote dir (default: batch.stage, auto)")


# --------------------------------------------------------------------------- parsers


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register the development-loop commands on the top-level subparsers."""
    p = sub.add_parser("hdfs", parents=[common], help="list, upload, download and delete files on HDFS "
                       "(WebHDFS; deletes limited to the remote base dir)")
    hs = p.add_subparsers(dest="action", metavar="ACTION")
    ls = hs.add_parser("ls", parents=[common], help="list a directory (default: the remote base dir)")
    ls.add_argument("path", nargs="?", metavar="PATH")
    put = hs.add_parser("put", parents=[common], help="upload a local file or directory (unchanged "
                        "content is not sent again)")
    put.add_argument("local", metavar="LOCAL")
    put.add_argument("remote", nargs="?", metavar="REMOTE", help="default: the base dir; relative paths "
                     "are under the base dir")
    put.add_argument("--force", action="store_true", help="overwrite outside the remote base dir")
    put.add_argument("--no-cache", action="store_true", help="send it even if the cache says unchanged")
    get = hs.add_parser("get", parents=[common], help="download a file")
    get.add_argument("remote", metavar="REMOTE")
    get.add_argument("local", nargs="?", metavar="LOCAL", default=".")
    rm = hs.add_parser("rm", parents=[common], help="delete (only inside the remote base dir unless "
                       "--force; never / or your home)")
    rm.add_argument("path", metavar="PATH")
    rm.add_argument("--recursive", "-r", action="store_true")
    rm.add_argument("--force", action="store_true", help="allow a path outside the remote base dir")
    mk = hs.add_parser("mkdir", parents=[common], help="create a directory (and parents), mode 700")
    mk.add_argument("path", metavar="PATH")

    p = sub.add_parser("deploy", parents=[common], help="zip the project's packages and scripts and "
                       "upload what changed (add them to a session's pyFiles with --session)")
    p.add_argument("--session", "-s", metavar="ID|NAME",
                   help="also add the files to this running session (without WebHDFS: upload-pyfile)")
    p.add_argument("--dry-run", action="store_true", help="show what would be deployed; send nothing")

    p = sub.add_parser("reload", parents=[common], help="hot-reload a module or package into a session")
    p.add_argument("module", nargs="?", metavar="MODULE",
                   help="a package (reloaded whole) or a module; default: every project package")
    p.add_argument("--session", "-s", metavar="ID|NAME", help=_SESSION_HELP)
    p.add_argument("--push", action="store_true", help="drop MODULE from sys.modules and import it fresh")

    p = sub.add_parser("build-standalone", parents=[common],
                       help="one self-contained .py embedding the project's packages and a script")
    p.add_argument("script", nargs="?", metavar="SCRIPT", help="the script to run (optional)")
    p.add_argument("--output", "-o", metavar="FILE", help="default: <script>_standalone.py or "
                   "<project>_standalone.py")
    p.add_argument("--package", action="append", metavar="DIR", dest="packages",
                   help="package directory to embed (repeatable; default: the project's packages)")

    p = sub.add_parser("fetch", parents=[common], help="a DataFrame or SQL result as CSV (paged past "
                       "Livy's 1000-row cap)")
    p.add_argument("what", metavar="SQL|VARIABLE", help="a SQL query, or a DataFrame variable in the session")
    p.add_argument("--session", "-s", metavar="ID|NAME", help=_SESSION_HELP)
    p.add_argument("--limit", type=int, default=10_000, help="at most this many rows (default 10000)")
    p.add_argument("--page", type=int, default=1000, help="rows per statement (default 1000)")
    p.add_argument("--output", "-o", metavar="FILE", help="write the CSV here (default: stdout)")

    p = sub.add_parser("deps", parents=[common], help="what the profile and project configure vs what "
                       "a running session was created with; --refresh restarts it with the new pyFiles")
    p.add_argument("--session", "-s", metavar="ID|NAME", help=_SESSION_HELP)
    p.add_argument("--refresh", action="store_true",
                   help="re-zip and upload what changed, then replace the session by a new one with the "
                   "current pyFiles/jars/files/archives")

    p = sub.add_parser("params", parents=[common], help="set sys.argv in a running session for the code "
                       "that follows (sys.argv = ['livyd', ARGS...])")
    p.add_argument("--session", "-s", metavar="ID|NAME", help=_SESSION_HELP)
    p.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS")
