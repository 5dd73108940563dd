"""``livyd logs --driver`` / ``--executors``: the Spark driver's and executors' own logs.

Livy keeps only the last 200 lines per stream of what it launched (``livyd logs``); the driver's
whole log is at ``appInfo.driverLogUrl`` and, from Livy 0.9, the executors' at
``appInfo.executorLogUrls``. On a cluster those are NodeManager pages, often on internal hosts:
the profile's ``[spark_ui] log_url`` template rewrites them to a URL through the gateway
(:mod:`livyd._core.sparklinks`). A URL that does not answer is an error naming it and that key.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from livyd._exceptions import SessionGoneError
from livyd.cli._render import Renderer

if TYPE_CHECKING:
    from livyd._client import LivyClient

__all__ = ["show_spark_logs"]


def _tail(text: str, lines: int | None) -> list[str]:
    out = text.splitlines()
    return out if lines is None else out[-lines:] if lines else []


async def show_spark_logs(args: argparse.Namespace, r: Renderer, client: LivyClient, sid: int) -> None:
    """Print the driver log (``--driver``) and/or every executor log (``--executors``)."""
    from livyd._core.sparklinks import expand_link, parse_executor_log_urls
    from livyd._insight import LOG_KEY, read_log

    session = await client.get_session(sid)
    template = client.insight_settings.log_url
    info = session.app_info
    wanted: list[tuple[str, str | None, str]] = []  # (label, reported URL, what is missing)
    if args.driver:
        wanted.append(("driver", info.driver_log_url,
                       f"session {sid} reports no driver log (appInfo.driverLogUrl is null: the session "
                       "may still be starting, or this Livy does not know it)"))
    if args.executors:
        executors = parse_executor_log_urls(info.executor_log_urls)
        if not executors:
            wanted.append(("executors", None,
                           f"session {sid} reports no executor logs (appInfo.executorLogUrls is null: Livy "
                           "older than 0.9, local mode where the driver runs the tasks (see --driver), or "
                           "no executors yet)"))
        wanted += [(f"executor {name}", url, "") for name, url in executors]
    documents: list[dict[str, Any]] = []
    for label, reported, missing in wanted:
        if not reported:
            raise SessionGoneError(missing, session_id=sid)
        url = expand_link(template, reported=reported, livy_url=client.url, app_id=session.app_id,
                          key=LOG_KEY)
        assert url is not None
        text = await read_log(client, url, what=label, templated=bool(template))
        lines = _tail(text, args.tail)
        if r.json_mode:
            documents.append({"log": label, "url": url, "lines": lines})
            continue
        if len(wanted) > 1:
            r.notice(f"==> {label}: {url} <==")
        r.log_lines(lines)
    if r.json_mode:
        r.json({"id": sid, "logs": documents})
