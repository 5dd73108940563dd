"""Followed batches: their state changes and log lines as ``livy/batchChanged`` and ``livy/log``.

One follower per followed batch, a child of the daemon's task group. A follower ends when the
batch finished, when it is unfollowed, or when Livy fails it (a LivydError); a bug in one
follower ends that follower only, logged, never the daemon.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import anyio

from livyd._exceptions import LivydError
from livyd._logging import get_logger
from livyd.protocol import BatchChangedNotification, BatchInfo, LogNotification

if TYPE_CHECKING:
    from anyio.abc import TaskGroup

    from livyd._models import Batch
    from livyd.daemon._connections import LivyConnection

__all__ = ["BatchFollowers", "batch_info"]

log = get_logger("livyd.daemon.batches")


def batch_info(batch: Batch, profile: str | None = None) -> BatchInfo:
    """The wire view of a Livy batch (on *profile*'s Livy)."""
    return BatchInfo(
        id=batch.id,
        name=batch.name,
        state=str(batch.state),
        app_id=batch.app_id,
        owner=batch.owner,
        proxy_user=batch.proxy_user,
        spark_ui_url=batch.app_info.spark_ui_url,
        driver_log_url=batch.app_info.driver_log_url,
        log=list(batch.log),
        profile=profile,
    )


class BatchFollowers:
    """The followers of one supervisor: *notify(method, params)* sends, *interval()* says how long
    to wait between two reads."""

    def __init__(self, notify: Callable[[str, dict[str, Any]], None], interval: Callable[[], float]) -> None:
        self.notify = notify
        self.interval = interval
        self.tg: TaskGroup | None = None
        self.scopes: dict[tuple[int, int], anyio.CancelScope] = {}

    def follow(self, conn: LivyConnection, batch_id: int, *, from_start: bool = False) -> None:
        """Follow a batch of *conn* until it finished or is unfollowed: from its first line for a
        batch just submitted (*from_start*), else from the current tail. Idempotent."""
        key = (conn.cid, batch_id)
        if key in self.scopes:
            return
        assert self.tg is not None
        scope = anyio.CancelScope()
        self.scopes[key] = scope
        self.tg.start_soon(self._follow, conn, batch_id, scope, from_start)

    def unfollow(self, conn: LivyConnection, batch_id: int) -> None:
        """Stop following a batch of *conn*."""
        scope = self.scopes.pop((conn.cid, batch_id), None)
        if scope is not None:
            scope.cancel()

    async def _follow(self, conn: LivyConnection, batch_id: int, scope: anyio.CancelScope,
                      from_start: bool) -> None:
        from livyd._core.logcursor import FETCH_SIZE, LogCursor

        cursor = LogCursor(start="beginning" if from_start else "tail", tail=0)
        last_state: str | None = None
        with scope:
            try:
                while True:
                    api = conn.require_api()  # looked up each round: setCredentials may replace it
                    batch = await api.get_batch(batch_id)
                    if str(batch.state) != last_state:
                        last_state = str(batch.state)
                        self.notify("livy/batchChanged",
                                    BatchChangedNotification(batch=batch_info(batch, conn.profile)).wire())
                    page = await api.batch_log(batch_id, from_=0, size=FETCH_SIZE)
                    before = cursor.delivered
                    lines = cursor.feed(page.log, page_from=page.from_)
                    if lines:
                        self.notify("livy/log", LogNotification(
                            batch_id=batch_id, lines=lines, from_=before, total=page.total,
                            profile=conn.profile,
                        ).wire())
                    if batch.state.is_terminal:
                        return
                    await anyio.sleep(self.interval())
            except LivydError as exc:
                log.info("stopped following batch", batch_id=batch_id, error=str(exc))
            except Exception:
                log.exception("batch follower crashed; following stops", batch_id=batch_id)
            finally:
                if self.scopes.get((conn.cid, batch_id)) is scope:
                    del self.scopes[(conn.cid, batch_id)]
