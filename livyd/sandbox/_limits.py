"""Request body limit of the sandbox's Livy routes (``--max-body-bytes``, default 32 MiB).

Livy reads every JSON body whole (Jackson on the input stream), and so does the sandbox; without
a limit one 300 MB statement POST cost 600+ MB of memory. A gateway in front of Livy refuses such
a body before it reaches Livy, with ``413 Request Entity Too Large`` (Apache httpd's
``LimitRequestBody``, nginx's ``client_max_body_size``, Knox's Jetty); the sandbox does the same,
for every Livy route (JSON bodies and the multipart ``upload-*`` ones):

* a ``Content-Length`` above the limit is answered at once, the body unread;
* a body without one (chunked) is counted as it arrives and refused as soon as it passes the
  limit, so no more than the limit is ever held;
* a body within the limit is handed to the Livy app unchanged.

WebHDFS is not behind this filter: its CREATE/APPEND data steps stream to disk in chunks (any
size), and its NameNode steps carry no body. Keep files larger than the limit on WebHDFS and name
them in ``jars``/``pyFiles``/``files`` instead of uploading them through Livy.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DEFAULT_MAX_BODY_BYTES", "BodyLimit"]

DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024

_PAGE = """<html>
<head><title>413 Request Entity Too Large</title></head>
<body>
<center><h1>413 Request Entity Too Large</h1></center>
<p>The request body is larger than the {limit} bytes this server accepts.</p>
</body>
</html>
"""


class BodyLimit:
    """ASGI filter: bodies above *max_bytes* get a gateway's 413 page and never reach *app*."""

    def __init__(self, app: Any, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        if max_bytes < 1:
            raise ValueError(f"--max-body-bytes {max_bytes}: must be at least 1")
        self.app = app
        self.max_bytes = max_bytes

    async def _refuse(self, send: Any) -> None:
        page = _PAGE.format(limit=self.max_bytes).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"text/html"), (b"content-length", str(len(page)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": page})

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = None
        for key, value in scope.get("headers", []):
            if key.lower() == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = None
        if declared is not None and declared > self.max_bytes:
            await self._refuse(send)
            return
        # Gather the body (at most max_bytes of it), then replay it to the app.
        messages: list[dict[str, Any]] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                messages.append(message)
                break
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await self._refuse(send)
                return
            messages.append(message)
            if not message.get("more_body"):
                break
        replay = iter(messages)

        async def replayed() -> dict[str, Any]:
            try:
                return next(replay)
            except StopIteration:
                message: dict[str, Any] = await receive()
                return message

        await self.app(scope, replayed, send)
