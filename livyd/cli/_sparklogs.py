"""``livyd logs --driver`` / ``--executors``: the Spark driver's and executors' own logs.

Livy keeps only the last 200 lines per stream of what it launched (``livyd logs``); the driver's
whole log is at ``appInfo.driverLogUrl`` and, from Livy 0.9, the executors' at
``appInfo.executorLogUrls``. The library reads them (:func:`livyd._insight.spark_logs`: the
profile's ``[spark_ui] log_url`` template, the errors naming the URL and that key); this module
only shows them.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from livyd.cli._render import Renderer

if TYPE_CHECKING:
    from livyd._client import LivyClient

__all__ = ["show_spark_logs"]


async def show_spark_logs(args: argparse.Namespace, r: Renderer, client: LivyClient, sid: int) -> None:
    """Print the driver log (``--driver``) and/or every executor log (``--executors``)."""
    from livyd._insight import spark_logs

    logs = await spark_logs(client, sid, driver=bool(args.driver), executors=bool(args.executors),
                            tail=args.tail)
    if r.json_mode:
        r.json({"id": sid, "logs": [{"log": x.log, "url": x.url, "lines": x.lines} for x in logs]})
        return
    for x in logs:
        if len(logs) > 1:
            r.notice(f"==> {x.log}: {x.url} <==")
        r.log_lines(x.lines)
