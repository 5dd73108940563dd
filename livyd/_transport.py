"""The only place the Livy client talks HTTP: headers, TLS, proxies, limits, retries, errors.

Every request gets:

- ``User-Agent: livyd/<version>`` and ``X-Requested-By: livyd`` (Livy's CSRF filter wants it on
  every non-GET; harmless elsewhere), plus ``X-XSRF-Header: livyd`` on writes (Knox's CSRF filter);
- a timeout, and a slot from a per-host :class:`anyio.CapacityLimiter` (bounded concurrency);
- the client's cookie jar (httpx keeps one per client), so a gateway's ``KNOXSESSIONID`` or
  ``hadoop.auth`` cookie spares an authentication round trip per request.

Retries (bounded exponential back-off with jitter, :class:`livyd._core.backoff.RetryPlan`):

- a request that never reached the server (connect refused/timeout, pool timeout) is retried
  whatever its method: nothing was sent;
- an *idempotent* request (GET, DELETE, and POSTs the caller declares safe to repeat, like
  cancel or connect) is also retried after a dropped connection, a read timeout or 429/502/503/504;
- a non-idempotent POST (create session / statement / batch) is never retried here: after an
  ambiguous failure (connection dropped after sending, read timeout, 502/503/504) it raises
  :class:`AmbiguousFailure` and the client establishes whether the POST landed.

Errors: httpx exceptions become :class:`ConnectError` / :class:`TransportTimeout` /
:class:`TransportError`, error statuses go through :func:`livyd._core.errors.map_http_error`.
Messages name the method and the redacted URL; request headers and bodies never appear in an
error or a log line (debug logging records method, URL, status and timing only).
"""

from __future__ import annotations

import os
import random
import ssl
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx

from livyd._core.backoff import RETRYABLE_STATUS, RetryPlan, is_idempotent
from livyd._core.errors import map_http_error, map_redirect
from livyd._exceptions import (
    ConfigError,
    ConnectError,
    LivydError,
    TransportError,
    TransportTimeout,
    redact_url,
)
from livyd._logging import get_logger
from livyd._version import __version__

__all__ = ["AmbiguousFailure", "ClientStatistics", "Transport", "build_ssl_context"]

log = get_logger("livyd.http")

_WRITE_METHODS = frozenset({"POST", "PUT", "DELETE", "PATCH"})
_READ = httpx.ByteStream(b"")  # what a response's stream is once its body was read
_AMBIGUOUS_STATUS = frozenset({502, 503, 504})


class AmbiguousFailure(Exception):
    """A non-idempotent request may or may not have been processed. ``error`` is what happened."""

    def __init__(self, error: LivydError) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass
class ClientStatistics:
    """Counters of one client (trio's ``statistics()`` convention)."""

    requests_sent: int = 0
    retries: int = 0
    errors: int = 0
    ambiguous_submissions: int = 0
    duplicates_avoided: int = 0
    resubmissions: int = 0
    keepalives: int = 0
    polls: int = 0
    cancels_sent: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counters as a plain dict."""
        return asdict(self)


def build_ssl_context(verify: bool | str, cert: str | tuple[str, str] | None) -> ssl.SSLContext | bool:
    """An SSL context for *verify* (``True``, ``False`` or a CA bundle path) and a client *cert*.

    Paths are checked here so a typo is a :class:`ConfigError` naming the file, not a TLS error.
    """
    if verify is False and cert is None:
        return False
    if isinstance(verify, str):
        ca = Path(verify).expanduser()
        if not ca.exists():
            raise ConfigError(f"CA bundle {ca} does not exist (tls.ca_bundle / verify)", key="tls.ca_bundle")
        ctx = ssl.create_default_context(cafile=str(ca) if ca.is_file() else None,
                                         capath=str(ca) if ca.is_dir() else None)
    elif verify is False:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    else:
        ctx = _SystemTrustContext.create()
    if cert is not None:
        certfile, keyfile = (cert, None) if isinstance(cert, str) else cert
        for label, p in (("tls.client_cert", certfile), ("tls.client_key", keyfile)):
            if p is not None and not Path(p).expanduser().exists():
                raise ConfigError(f"{label} {p} does not exist", key=label)
        try:
            ctx.load_cert_chain(str(Path(certfile).expanduser()),
                                str(Path(keyfile).expanduser()) if keyfile else None)
        except (ssl.SSLError, OSError) as exc:
            raise ConfigError(f"cannot load client certificate {certfile}: {exc.__class__.__name__}",
                              key="tls.client_cert") from None
    return ctx


class _SystemTrustContext(ssl.SSLContext):
    """``ssl.create_default_context()`` whose system CA certificates are loaded at the first TLS
    connection, not when the client is built: loading them costs ~25 ms, and a client for an
    ``http://`` Livy may never open a TLS connection (it still can: a Spark UI, a proxy).

    ``PROTOCOL_TLS_CLIENT`` already requires a certificate and checks host names; what
    ``create_default_context`` adds is the trust store (``load_default_certs``, which honours
    ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``), done here before the first ``wrap_socket`` /
    ``wrap_bio`` (anyio and asyncio use the latter).
    """

    _trust_loaded = False

    @classmethod
    def create(cls) -> _SystemTrustContext:
        """What ``create_default_context()`` sets up, but the trust store."""
        ctx = cls(ssl.PROTOCOL_TLS_CLIENT)  # CERT_REQUIRED and check_hostname already
        keylog = os.environ.get("SSLKEYLOGFILE")
        if keylog and not sys.flags.ignore_environment:
            ctx.keylog_filename = keylog
        return ctx

    def _load_trust(self) -> None:
        if not self._trust_loaded:
            with _TRUST_LOCK:
                if not self._trust_loaded:
                    self.load_default_certs(ssl.Purpose.SERVER_AUTH)
                    self._trust_loaded = True

    def wrap_socket(self, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        self._load_trust()
        return super().wrap_socket(*args, **kwargs)

    def wrap_bio(self, *args: Any, **kwargs: Any) -> ssl.SSLObject:
        self._load_trust()
        return super().wrap_bio(*args, **kwargs)


_TRUST_LOCK = threading.Lock()


def _classify(exc: httpx.HTTPError) -> tuple[type[TransportError], bool, str]:
    """(livyd class, was anything possibly sent?, short description)."""
    if isinstance(exc, httpx.ConnectTimeout):
        return TransportTimeout, False, "timed out connecting"
    if isinstance(exc, httpx.PoolTimeout):
        return TransportTimeout, False, "timed out waiting for a free connection"
    if isinstance(exc, httpx.ConnectError):
        text = str(exc)
        if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
            return ConnectError, False, ("TLS certificate verification failed: configure the CA bundle that "
                                         "signed the server's certificate (tls.ca_bundle)")
        if "SSL" in text or "TLS" in text:
            return ConnectError, False, "TLS handshake failed (client certificate, protocol or cipher)"
        return ConnectError, False, "cannot connect"
    if isinstance(exc, httpx.TimeoutException):
        return TransportTimeout, True, "timed out waiting for the answer"
    if isinstance(exc, httpx.RemoteProtocolError):
        return TransportError, True, "the server closed the connection without a complete answer"
    if isinstance(exc, httpx.ProxyError):
        return ConnectError, False, "the proxy refused the connection"
    return TransportError, True, "the connection failed"


def new_http_client(
    *,
    auth: httpx.Auth | None,
    verify: bool | str,
    cert: str | tuple[str, str] | None,
    proxy: str | None,
    timeout: float,
    headers: Mapping[str, str],
    transport: httpx.AsyncBaseTransport | None,
    limits: httpx.Limits | None = None,
) -> httpx.AsyncClient:
    """The one way livyd builds an httpx client (Livy and WebHDFS alike): its TLS context, the
    proxy (a profile's, else ``HTTP(S)_PROXY`` / ``NO_PROXY``), ``User-Agent: livyd/<version>``
    plus *headers*, one timeout for every request, and redirects never followed. With a test
    *transport*, TLS and proxy do not apply."""
    return httpx.AsyncClient(
        auth=auth,
        verify=build_ssl_context(verify, cert) if transport is None else True,
        proxy=proxy if transport is None else None,
        timeout=httpx.Timeout(timeout),
        limits=limits or httpx.Limits(),
        headers={"User-Agent": f"livyd/{__version__}", **headers},
        transport=transport,
        trust_env=True,
        follow_redirects=False,
    )


class Transport:
    """An httpx client with livyd's headers, limits, retries and error mapping."""

    def __init__(
        self,
        *,
        auth: httpx.Auth | None = None,
        auth_description: str = "no authentication",
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxy: str | None = None,
        timeout: float = 30.0,
        max_connections_per_host: int = 8,
        retries: int = 3,
        headers: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        stats: ClientStatistics | None = None,
        rand: Callable[[], float] = random.random,
    ) -> None:
        if timeout <= 0:
            raise ConfigError(f"timeout must be > 0 seconds, not {timeout}", key="timeout")
        if max_connections_per_host < 1:
            raise ConfigError(f"max_connections must be >= 1, not {max_connections_per_host}",
                              key="max_connections")
        if retries < 0:
            raise ConfigError(f"retries must be >= 0, not {retries}", key="retries")
        self.auth_description = auth_description
        self.stats = stats or ClientStatistics()
        self.plan = RetryPlan(retries=retries)
        self._rand = rand
        self._max_per_host = max_connections_per_host
        self._limiters: dict[str, anyio.CapacityLimiter] = {}
        if verify is False:
            log.warning("TLS certificate verification is DISABLED: anyone on the network path can read "
                        "and change this traffic, credentials included. Use a CA bundle instead.")
        self._http = new_http_client(
            auth=auth, verify=verify, cert=cert, proxy=proxy, timeout=timeout, transport=transport,
            headers={"X-Requested-By": "livyd", "Accept": "application/json", **(headers or {})},
            limits=httpx.Limits(max_connections=max_connections_per_host * 4,
                                max_keepalive_connections=max_connections_per_host),
        )

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    def _limiter(self, url: str) -> anyio.CapacityLimiter:
        host = httpx.URL(url).netloc.decode("ascii", "replace")
        lim = self._limiters.get(host)
        if lim is None:
            lim = self._limiters[host] = anyio.CapacityLimiter(self._max_per_host)
        return lim

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        files: Any = None,
        idempotent: bool | None = None,
        gone_ok: bool = False,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send a request; return the response (2xx, 304) or raise a :class:`LivydError` (a 3xx too:
        Livy's API never redirects, a gateway sending us to a sign-on page does).

        *idempotent* defaults from the method. With *gone_ok* (DELETE), a 404 after an earlier
        attempt failed ambiguously is returned as the response (the first attempt did the work).
        Non-idempotent requests raise :class:`AmbiguousFailure` after an ambiguous failure.
        *headers* are added to this request only (e.g. another ``Accept``).
        """
        method = method.upper()
        repeatable = is_idempotent(method) if idempotent is None else idempotent
        sent: dict[str, str] = {"X-XSRF-Header": "livyd"} if method in _WRITE_METHODS else {}
        sent.update(headers or {})
        if json is not None:
            sent["Content-Type"] = "application/json"
        shown = redact_url(url)
        attempt = 0
        ambiguous_before = False
        while True:
            started = time.perf_counter()
            self.stats.requests_sent += 1
            try:
                async with self._limiter(url):
                    resp = await self._http.request(method, url, params=params, json=json, files=files,
                                                    headers=sent)
                    await resp.aread()
                    # httpx's stream wrapper refers back to its response: a cycle that only the
                    # cyclic GC frees, so a 20 MB body outlived its parse (even into gen 2). The
                    # body is read and the stream closed: drop the wrapper, and the response goes
                    # with its last reference.
                    resp.stream = _READ
            except httpx.HTTPError as exc:
                cls, maybe_sent, what = _classify(exc)
                error = cls(f"{method} {shown}: {what} ({type(exc).__name__})", method=method, url=url)
                log.debug("http.error", method=method, url=shown, error=type(exc).__name__, attempt=attempt,
                          elapsed_ms=round((time.perf_counter() - started) * 1000, 1))
                if not maybe_sent or repeatable:
                    delay = self.plan.delay(attempt, self._rand)
                    if delay is not None:
                        ambiguous_before = ambiguous_before or maybe_sent
                        attempt += 1
                        self.stats.retries += 1
                        await anyio.sleep(delay)
                        continue
                    self.stats.errors += 1
                    raise error from exc
                self.stats.errors += 1
                self.stats.ambiguous_submissions += 1
                raise AmbiguousFailure(error) from exc
            except ssl.SSLError as exc:
                # TLS 1.3 reports a refused client certificate on the first read, past httpx's
                # mapping. The server refused the connection: nothing was processed; no retry helps.
                self.stats.errors += 1
                reason = getattr(exc, "reason", None) or type(exc).__name__
                raise ConnectError(f"{method} {shown}: TLS failed ({reason}); if the server requires a "
                                   "client certificate, configure tls.client_cert / tls.client_key",
                                   method=method, url=url) from exc
            status = resp.status_code
            log.debug("http", method=method, url=shown, status=status, attempt=attempt,
                      elapsed_ms=round((time.perf_counter() - started) * 1000, 1))
            if status < 300 or status == 304:
                return resp
            if status < 400:
                self.stats.errors += 1
                raise map_redirect(status, method=method, url=str(resp.request.url) if resp.request else url,
                                   location=resp.headers.get("location"),
                                   auth_description=self.auth_description)
            if gone_ok and status == 404 and ambiguous_before:
                return resp
            if status in RETRYABLE_STATUS and repeatable:
                delay = self.plan.delay(attempt, self._rand)
                if delay is not None:
                    ambiguous_before = ambiguous_before or status in _AMBIGUOUS_STATUS
                    attempt += 1
                    self.stats.retries += 1
                    await anyio.sleep(delay)
                    continue
            error_obj = map_http_error(
                status, method=method, url=str(resp.request.url) if resp.request else url, body=resp.content,
                content_type=resp.headers.get("content-type"), auth_description=self.auth_description,
                www_authenticate=resp.headers.get("www-authenticate"),
            )
            self.stats.errors += 1
            if status in _AMBIGUOUS_STATUS and not repeatable:
                self.stats.ambiguous_submissions += 1
                raise AmbiguousFailure(error_obj)
            raise error_obj
