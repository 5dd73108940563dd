"""The sandbox's Spark UI and driver log: what ``appInfo`` points at on a real cluster.

On YARN, Livy reports ``appInfo.sparkUiUrl`` (the ResourceManager's web proxy in front of the
driver's UI: ``http://rm:8088/proxy/<appId>/``) and ``appInfo.driverLogUrl`` (the NodeManager's
page of the driver container's log, which holds everything, not Livy's last 200 lines). Here:

* **Spark UI.** The REPL worker starts its SparkSession with the UI on a free loopback port and
  tells the server the address (``sc.uiWebUrl``) and the application id (``sc.applicationId``).
  Direct mode reports that address itself: Spark serves its monitoring REST API (``/api/v1``)
  there. In gateway mode the sandbox also plays YARN's web proxy behind the gateway:
  ``PREFIX/yarn/proxy/<appId>/...`` forwards GETs to that session's UI (:class:`SparkUIProxy`),
  and that is the ``sparkUiUrl`` reported, so clients reach it through the gateway with the
  gateway's authentication, as through Knox's YARN UI service.
* **Driver log.** Every line the REPL process and its JVM write is kept (up to
  :data:`DRIVER_LOG_MAX_BYTES`; the oldest lines go first beyond that) and served as text at
  ``<livy>/livyd-sandbox/sessions/<id>/driver.log``; ``?start=N`` skips N bytes, a negative N gives
  the last -N bytes (YARN's container log pages take the same ``start``).
"""

from __future__ import annotations

import collections
from typing import Any

import structlog

__all__ = ["DRIVER_LOG_MAX_BYTES", "DriverLog", "SparkUIProxy", "driver_log_path", "proxy_path"]

log = structlog.get_logger()

DRIVER_LOG_MAX_BYTES = 16 * 1024 * 1024
_HOP_HEADERS = frozenset({b"connection", b"keep-alive", b"transfer-encoding", b"content-length",
                          b"content-encoding", b"server", b"date"})


def driver_log_path(session_id: int) -> str:
    """Where (under the Livy root) the driver log of a session is served."""
    return f"/livyd-sandbox/sessions/{session_id}/driver.log"


def proxy_path(prefix: str, app_id: str) -> str:
    """The YARN-proxy-like path of an application's Spark UI in gateway mode."""
    return f"{prefix}/yarn/proxy/{app_id}"


class DriverLog:
    """The whole output of a session's REPL process (``stdout:``/``stderr:`` prefixed lines),
    bounded by bytes."""

    def __init__(self, max_bytes: int = DRIVER_LOG_MAX_BYTES) -> None:
        self._lines: collections.deque[bytes] = collections.deque()
        self._size = 0
        self._dropped = 0
        self.max_bytes = max_bytes

    def add(self, stream: str, line: str) -> None:
        """One line the process wrote to *stream*."""
        data = f"{stream}: {line}\n".encode("utf-8", "replace")
        self._lines.append(data)
        self._size += len(data)
        while self._size > self.max_bytes and self._lines:
            self._size -= len(self._lines.popleft())
            self._dropped += 1

    def render(self, start: int | None = None) -> bytes:
        """The log (from byte *start*; negative: the last -start bytes)."""
        head = (f"[livyd sandbox: the first {self._dropped} lines were dropped "
                f"(over {self.max_bytes} bytes)]\n".encode() if self._dropped else b"")
        data = head + b"".join(self._lines)
        if start is None:
            return data
        return data[start:] if start >= 0 else data[max(0, len(data) + start):]


class SparkUIProxy:
    """Gateway mode: ``PREFIX/yarn/proxy/<appId>/<path>`` to the Spark UI of the session whose
    application that is (GET and HEAD only, like a browser through YARN's proxy); everything
    else goes to *app*."""

    def __init__(self, app: Any, prefix: str, find_ui: Any) -> None:
        self.app = app
        self.base = f"{prefix}/yarn/proxy/"
        self.find_ui = find_ui  # app id -> UI URL or None
        self._client: Any = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(self.base):
            await self.app(scope, receive, send)
            return
        app_id, _, rest = path[len(self.base):].partition("/")
        ui = self.find_ui(app_id)
        if ui is None:
            await _plain(send, 404, f"no running application {app_id} (livyd sandbox YARN proxy)\n")
            return
        if scope["method"] not in ("GET", "HEAD"):
            await _plain(send, 405, "the YARN proxy of the livyd sandbox only forwards GET\n")
            return
        import httpx

        if self._client is None:
            self._client = httpx.AsyncClient(timeout=30, follow_redirects=False, trust_env=False)
        query = scope.get("query_string", b"").decode("latin-1")
        target = f"{ui.rstrip('/')}/{rest}" + (f"?{query}" if query else "")
        try:
            resp = await self._client.get(target, headers={"accept": _accept(scope)})
        except httpx.HTTPError as exc:
            await _plain(send, 502, f"the Spark UI of {app_id} did not answer ({type(exc).__name__})\n")
            return
        headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in resp.headers.items()
                   if k.lower().encode("latin-1") not in _HOP_HEADERS]
        body = resp.content
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": resp.status_code, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()


def _accept(scope: dict[str, Any]) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == b"accept":
            return bytes(value).decode("latin-1")
    return "*/*"


async def _plain(send: Any, status: int, text: str) -> None:
    body = text.encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
