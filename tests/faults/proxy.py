"""A fault-injecting HTTP proxy on loopback, between livyd (library, CLI) and a real sandbox.

It is a reverse proxy (livyd's URL is the proxy's), built on :class:`livy_standin.StandIn`'s
socket layer: each request is read whole, then, unless a :class:`Fault` matches it, forwarded to
the current ``upstream`` with ``http.client`` and the answer relayed byte for byte (gzip and all).
Faults, each for its first ``times`` matching requests:

============== ===============================================================================
reset-before   close the connection without forwarding (the request never reaches the server)
reset-after    forward, then close the connection without the answer (it landed, unseen)
status-before  answer ``status`` (a gateway's 502/503/504 page) without forwarding
status-after   forward, then answer ``status`` instead of the real answer
slow-after     forward, then hold the real answer ``delay`` seconds (longer than the timeout)
late           answer ``status`` (504) at once and forward ``delay`` seconds later (a late landing)
============== ===============================================================================

``down = True`` makes every request fail as if the server were gone (connection closed), and
``upstream`` can be switched at any time: a restarted server, or a gateway failing over to
another Livy. Every request seen is kept in ``requests`` (headers included, for the secrets test).
"""

from __future__ import annotations

import http.client
import re
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from livy_standin import DROP, Reply, Request, StandIn

__all__ = ["Fault", "FaultProxy"]

_GATEWAY_PAGE = ("<html><head><title>{status} {reason}</title></head>"
                 "<body><h1>{status} {reason}</h1></body></html>")
_REASONS = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}
_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-type", "proxy-connection"}


@dataclass
class Fault:
    """What to do to the requests matching ``method`` and the ``path`` regex (``re.search``)."""

    method: str
    path: str
    action: str
    status: int = 502
    delay: float = 0.0
    times: int = 1
    #: only once this other fault has struck (e.g. listings fail only after the POST)
    after: Fault | None = None
    hits: int = field(default=0, init=False)

    def matches(self, request: Request) -> bool:
        return (self.hits < self.times and request.method == self.method
                and (self.after is None or self.after.hits > 0)
                and re.search(self.path, request.path) is not None)


class FaultProxy:
    """``FaultProxy(upstream_url)``; its ``url`` is what livyd is given."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.faults: list[Fault] = []
        self.down = False
        self.forwarded: list[Request] = []
        self._lock = threading.Lock()
        self._standin = StandIn(self._handle)
        self.url = self._standin.url
        self.requests = self._standin.requests

    def close(self) -> None:
        self._standin.close()

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(self, method: str, path: str, action: str, **kwargs: object) -> Fault:
        fault = Fault(method, path, action, **kwargs)  # type: ignore[arg-type]
        with self._lock:
            self.faults.append(fault)
        return fault

    def _take(self, request: Request) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.matches(request):
                    fault.hits += 1
                    return fault
        return None

    # ------------------------------------------------------------------ forwarding

    def forward(self, request: Request) -> Reply:
        """Send *request* to the upstream and return its answer (DROP-like 599 when it is gone)."""
        target = urlsplit(self.upstream)
        path = request.target if request.target.startswith("/") else urlsplit(request.target).path
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
        headers = {k: v for k, v in request.headers.items() if k not in ("connection", "host")}
        headers["Host"] = target.netloc
        headers["Connection"] = "close"
        try:
            conn.request(request.method, path, body=request.body or None, headers=headers)
            resp = conn.getresponse()
            body = resp.read()
        except OSError:
            return Reply(599)
        finally:
            conn.close()
        with self._lock:
            self.forwarded.append(request)
        kept = {k: v for k, v in resp.getheaders() if k.lower() not in _HOP}
        return Reply(resp.status, body, headers=kept, content_type=resp.getheader("content-type"))

    def _handle(self, request: Request) -> Reply | str:
        if self.down:
            return DROP
        fault = self._take(request)
        action = fault.action if fault else "pass"
        if action == "reset-before":
            return DROP
        if action == "status-before":
            return _gateway(fault.status)  # type: ignore[union-attr]
        if action == "late":
            assert fault is not None

            def land() -> None:
                time.sleep(fault.delay)
                self.forward(request)

            threading.Thread(target=land, daemon=True).start()
            return _gateway(fault.status)
        reply = self.forward(request)
        if reply.status == 599:
            return DROP  # the upstream is gone: the client sees a dropped connection
        if action == "reset-after":
            return DROP
        if action == "status-after":
            return _gateway(fault.status)  # type: ignore[union-attr]
        if action == "slow-after":
            reply.delay = fault.delay  # type: ignore[union-attr]
        return reply


def _gateway(status: int) -> Reply:
    page = _GATEWAY_PAGE.format(status=status, reason=_REASONS.get(status, "Error"))
    return Reply(status, page, content_type="text/html")
