"""Composition: the Livy app, the WebHDFS app, the filters in front of them, and uvicorn.

Layout on the wire:

* direct (default): Livy on ``--port`` at ``/``, WebHDFS on ``--webhdfs-port`` at
  ``/webhdfs/v1``; two uvicorn servers in one event loop.
* ``--gateway PREFIX`` (Apache Knox, livy-rest.md 19): one port; Livy at ``PREFIX/livy/v1/...``
  and ``PREFIX/livy/...``, WebHDFS at ``PREFIX/webhdfs/v1`` with its data route; non-GET requests
  need ``X-XSRF-Header`` (Knox's WebAppSec CSRF filter, 400 otherwise); POST /sessions|/batches
  get ``proxyUser`` forced to the gateway user, who is also the ``owner``.

Filters, outermost first: the bearer token (``--token``, every request on every port; required
for a non-loopback ``--host`` because the sandbox runs arbitrary code), the gateway's XSRF check,
then Livy's own: the Accept-header API version (406), Livy's CSRF filter (``--csrf``: non-GET
without ``X-Requested-By`` gets Jetty's HTML 400 page), Scalatra's method override, 0.8+'s
security headers, and gzip/deflate of every response when the client accepts it (Scalatra's
ContentEncodingSupport; gzip here).

Embedding: :class:`Sandbox` is an async context manager that binds the sockets itself (so port 0
works and the URLs are known before serving), runs uvicorn's ``Server`` in the caller's task
group with its signal capture disabled (an embedded server must not steal SIGINT) and with
uvicorn's logging config off (its default config writes access logs to stdout, which is the
daemon's JSON-RPC channel). Leaving the context stops every session and batch (process trees),
then the servers.
"""

from __future__ import annotations

import contextlib
import functools
import getpass
import gzip
import hmac
import ipaddress
import logging
import shutil
import socket
import sys
import tempfile
from collections.abc import Generator, Iterable
from contextlib import AsyncExitStack
from pathlib import Path
from types import TracebackType
from typing import Any

import anyio
import structlog
from anyio.abc import TaskGroup

from livyd.sandbox._batches import BatchManager
from livyd.sandbox._limits import BodyLimit
from livyd.sandbox._livy import LivyApp
from livyd.sandbox._sessions import SandboxOptions, SessionManager
from livyd.sandbox._versions import version_mode

__all__ = ["Sandbox", "is_loopback"]

log = structlog.get_logger()

ASGIApp = Any
Scope = dict[str, Any]

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

_CSRF_PAGE = """<html>
<head>
<meta http-equiv="Content-Type" content="text/html;charset=utf-8"/>
<title>Error 400 Missing Required Header for CSRF protection.</title>
</head>
<body><h2>HTTP ERROR 400</h2>
<p>Problem accessing {path}. Reason:
<pre>    Missing Required Header for CSRF protection.</pre></p><hr>
<a href="https://eclipse.org/jetty">Powered by Jetty:// 9.4.50.v20221201</a><hr/>

</body>
</html>
"""


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value)
    return None


async def _send_simple(send: Any, status: int, body: bytes, content_type: bytes,
                       extra: Iterable[tuple[bytes, bytes]] = ()) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode()),
                            *extra]})
    await send({"type": "http.response.body", "body": body})


class TokenFilter:
    """``Authorization: Bearer <token>`` on every request (constant-time comparison)."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self._expected = b"Bearer " + token.encode()

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            given = _header(scope, b"authorization") or b""
            if not hmac.compare_digest(given, self._expected):
                await _send_simple(send, 401, b"401 Unauthorized: this sandbox requires a bearer token\n",
                                   b"text/plain; charset=utf-8",
                                   [(b"www-authenticate", b'Bearer realm="livyd sandbox"')])
                return
        await self.app(scope, receive, send)


class XsrfFilter:
    """Knox's WebAppSec CSRF protection: non-GET requests need ``X-XSRF-Header``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] not in _SAFE_METHODS \
                and _header(scope, b"x-xsrf-header") is None:
            await _send_simple(send, 400, b"", b"text/plain")
            return
        await self.app(scope, receive, send)


class LivyFilters:
    """Livy's server-wide behaviour: API version in Accept (406), CSRF (400 HTML), security headers."""

    def __init__(self, app: ASGIApp, *, csrf: bool, security_headers: bool) -> None:
        self.app = app
        self.csrf = csrf
        self.security_headers = security_headers

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        accept = (_header(scope, b"accept") or b"").decode("latin-1")
        from livyd.sandbox._livy import _ACCEPT_VERSION

        match = _ACCEPT_VERSION.search(accept)
        if match and match.group(1) != "0.1":
            await _send_simple(send, 406, f'"Unknown API version: {match.group(1)}"'.encode(),
                               b"application/json")
            return
        if self.csrf and scope["method"] not in _SAFE_METHODS and _header(scope, b"x-requested-by") is None:
            page = _CSRF_PAGE.format(path=scope.get("path", "/")).encode()
            await _send_simple(send, 400, page, b"text/html;charset=iso-8859-1",
                               [(b"cache-control", b"must-revalidate,no-cache,no-store")])
            return
        scope = _method_override(scope)
        if not self.security_headers:
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = dict(message)
                message["headers"] = [*message.get("headers", []),
                                      (b"x-content-type-options", b"nosniff"),
                                      (b"x-frame-options", b"SAMEORIGIN"),
                                      (b"x-xss-protection", b"1; mode=block")]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class GzipFilter:
    """Livy compresses every response whose client accepts gzip, however small (livy-rest.md 1.5),
    so a client's decompression is exercised as against the real server. Livy's responses are
    small and never streamed: the body is gathered, then sent compressed. Bodiless answers (204,
    304, HEAD) go out untouched: a body there would break the connection."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        accepts = (_header(scope, b"accept-encoding") or b"").lower()
        if scope["type"] != "http" or b"gzip" not in accepts or scope["method"] == "HEAD":
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def gather(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            headers = [(k, v) for k, v in start.get("headers", [])
                       if k.lower() not in (b"content-length", b"content-encoding")]
            if start.get("status") in (204, 304) or not body or any(
                    k.lower() == b"content-encoding" for k, _ in start.get("headers", [])):
                await send(start)
                await send({"type": "http.response.body", "body": body})
                return
            packed = gzip.compress(body, compresslevel=5)
            headers += [(b"content-encoding", b"gzip"), (b"vary", b"Accept-Encoding"),
                        (b"content-length", str(len(packed)).encode())]
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": packed})

        await self.app(scope, receive, gather)


def _method_override(scope: Scope) -> Scope:
    """Scalatra's MethodOverride (livy-rest.md 1.7): a POST carrying ``X-HTTP-Method-Override``
    or a ``_method`` query parameter is dispatched as that method (after the CSRF filter, which
    saw a POST)."""
    if scope["method"] != "POST":
        return scope
    override = _header(scope, b"x-http-method-override")
    if override is None:
        for pair in (scope.get("query_string") or b"").split(b"&"):
            name, _, value = pair.partition(b"=")
            if name == b"_method" and value:
                override = value
                break
    if not override:
        return scope
    return {**scope, "method": override.decode("latin-1").strip().upper()}


class PrefixRouter:
    """Gateway mode: ``PREFIX/livy/v1`` and ``PREFIX/livy`` to Livy (prefix stripped), the rest
    to the WebHDFS app (which serves full ``PREFIX/webhdfs/...`` paths itself)."""

    def __init__(self, prefix: str, livy: ASGIApp, webhdfs: ASGIApp) -> None:
        self.mounts = [(f"{prefix}/livy/v1", livy), (f"{prefix}/livy", livy)]
        self.webhdfs = webhdfs

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            for mount, app in self.mounts:
                if path == mount or path.startswith(mount + "/"):
                    rest = path[len(mount):] or "/"
                    inner = dict(scope, path=rest, raw_path=rest.encode(), root_path="")
                    inner["livyd.mount"] = mount  # where Knox mounted Livy (UI redirects)
                    await app(inner, receive, send)
                    return
        await self.webhdfs(scope, receive, send)


class _EmbeddedServer:
    """uvicorn's Server without its signal handlers (the embedding program owns signals)."""

    def __init__(self, app: ASGIApp) -> None:
        import uvicorn

        class _Server(uvicorn.Server):
            @contextlib.contextmanager
            def capture_signals(self) -> Generator[None, None, None]:
                yield

        config = uvicorn.Config(app, lifespan="off", log_config=None, access_log=False, log_level="warning",
                                http="h11", ws="none", timeout_graceful_shutdown=2, server_header=False)
        self.server = _Server(config)

    async def serve(self, sock: socket.socket) -> None:
        await self.server.serve(sockets=[sock])

    async def wait_started(self) -> None:
        # uvicorn offers a flag, not an event: poll it (startup takes milliseconds).
        while not self.server.started:  # noqa: ASYNC110
            await anyio.sleep(0.005)

    def stop(self) -> None:
        self.server.should_exit = True


def _bind(host: str, port: int, flag: str) -> socket.socket:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ValueError(f"--host {host}: {exc.strerror}") from None
    family, socktype, proto, _, addr = infos[0]
    sock = socket.socket(family, socktype, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # No Nagle: a response's headers and body leave at once (Nagle meeting the client's
        # delayed ACK costs ~40 ms per request). Accepted sockets inherit it on Linux.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind(addr)
        sock.listen(128)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        raise ValueError(f"{flag} {port}: cannot listen on {host}:{port}: {exc.strerror}") from None
    return sock


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


class Sandbox:
    """A Livy- and WebHDFS-compatible server in the current event loop.

    ::

        async with Sandbox() as sb:          # free ports on 127.0.0.1
            print(sb.livy_url, sb.webhdfs_url)

    Keyword options mirror ``python -m livyd.sandbox``'s flags. ``data_dir=None`` uses a temporary
    directory removed on exit. No signal handlers are installed and nothing is written to stdout.
    """

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, webhdfs_port: int = 0,
                 data_dir: str | Path | None = None, livy_version: str = "0.9", csrf: bool = False,
                 gateway: str | None = None, gateway_user: str | None = None, token: str | None = None,
                 cancel_timeout: float = 30.0, interrupt_on_cancel: bool = False,
                 heartbeat_check_interval: float = 60.0, session_timeout: float = 3600.0,
                 state_retain: float = 600.0, python: str | None = None,
                 batch_launcher: str = "auto", recovery_dir: str | Path | None = None,
                 max_body_bytes: int | None = None) -> None:
        from livyd.sandbox._limits import DEFAULT_MAX_BODY_BYTES
        from livyd.sandbox._recovery import Recovery

        #: --recovery DIR: sessions come back after a restart (_recovery.py)
        self.recovery = Recovery(Path(recovery_dir)) if recovery_dir is not None else None
        #: --max-body-bytes: larger Livy bodies get a gateway's 413 (_limits.py)
        self.max_body_bytes = DEFAULT_MAX_BODY_BYTES if max_body_bytes is None else max_body_bytes
        if self.max_body_bytes < 1:
            raise ValueError(f"--max-body-bytes {max_body_bytes}: must be at least 1")
        if not is_loopback(host) and not token:
            raise ValueError(f"--host {host}: the sandbox runs arbitrary code; binding a non-loopback "
                             "address requires --token")
        if gateway is not None:
            gateway = "/" + gateway.strip("/")
            if gateway == "/":
                raise ValueError("--gateway: the prefix must not be empty (e.g. /gateway/sandbox)")
        if batch_launcher not in ("auto", "python", "spark-submit"):
            raise ValueError(f"--batch-launcher {batch_launcher!r}: choose auto, python or spark-submit")
        for name, value in (("--cancel-timeout", cancel_timeout),
                            ("--heartbeat-check-interval", heartbeat_check_interval),
                            ("--session-timeout", session_timeout), ("--state-retain", state_retain)):
            if value < 0 or (name == "--heartbeat-check-interval" and value == 0):
                raise ValueError(f"{name} {value}: must be a positive number of seconds")
        self.mode = version_mode(livy_version)
        self.host = host
        self.port = port
        self.webhdfs_port = webhdfs_port
        self._given_data_dir = Path(data_dir) if data_dir is not None else None
        self.csrf = csrf
        self.gateway = gateway
        self.gateway_user = gateway_user or (getpass.getuser() if gateway else None)
        self.token = token
        self._knobs = dict(cancel_timeout=cancel_timeout, interrupt_on_cancel=interrupt_on_cancel,
                           check_interval=heartbeat_check_interval, session_timeout=session_timeout,
                           state_retain=state_retain, batch_launcher=batch_launcher)
        self.python = python or sys.executable
        self.livy_url = ""
        self.webhdfs_url = ""
        self.data_dir = self._given_data_dir or Path()
        self._stack: AsyncExitStack | None = None
        self._servers: list[_EmbeddedServer] = []
        self._temp_dirs: list[Path] = []
        self.sessions: SessionManager | None = None
        self.batches: BatchManager | None = None
        self._gc_scope: anyio.CancelScope | None = None
        self._livy_app: LivyApp | None = None

    async def __aenter__(self) -> Sandbox:
        _keep_logs_off_stdout()
        self._stack = AsyncExitStack()
        try:
            await self._start(self._stack)
        except BaseException:
            await self._shutdown()
            raise
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self._shutdown()

    async def _start(self, stack: AsyncExitStack) -> None:
        from livyd.sandbox._webhdfs import create_webhdfs_app

        if self._given_data_dir is None:
            self.data_dir = Path(tempfile.mkdtemp(prefix="livyd-sandbox-data-"))
            self._temp_dirs.append(self.data_dir)
        else:
            self.data_dir = self._given_data_dir.resolve()
            try:
                self.data_dir.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                what = ("is not a directory" if self.data_dir.exists()
                        else f"cannot be created ({exc.strerror})")
                raise ValueError(f"--data-dir {self._given_data_dir}: {what}") from None
        work_dir = Path(tempfile.mkdtemp(prefix="livyd-sandbox-work-"))
        self._temp_dirs.append(work_dir)

        livy_sock = _bind(self.host, self.port, "--port")
        socks = [livy_sock]
        host = _url_host(self.host)
        livy_port = livy_sock.getsockname()[1]
        if self.gateway:
            self.livy_url = f"http://{host}:{livy_port}{self.gateway}/livy/v1"
            self.webhdfs_url = f"http://{host}:{livy_port}{self.gateway}/webhdfs/v1"
        else:
            try:
                webhdfs_sock = _bind(self.host, self.webhdfs_port, "--webhdfs-port")
            except BaseException:
                livy_sock.close()
                raise
            socks.append(webhdfs_sock)
            self.livy_url = f"http://{host}:{livy_port}"
            self.webhdfs_url = f"http://{host}:{webhdfs_sock.getsockname()[1]}/webhdfs/v1"

        options = SandboxOptions(python=self.python, work_dir=work_dir, data_dir=self.data_dir,
                                 webhdfs_url=self.webhdfs_url, **self._knobs)  # type: ignore[arg-type]
        tg: TaskGroup = await stack.enter_async_context(anyio.create_task_group())
        self.sessions = SessionManager(options, tg)
        self.batches = BatchManager(options, tg)
        gateway_url = f"http://{host}:{livy_port}{self.gateway}" if self.gateway else None
        livy_app = self._livy_app = LivyApp(sessions=self.sessions, batches=self.batches, mode=self.mode,
                                            forced_user=self.gateway_user if self.gateway else None,
                                            public_url=self.livy_url, gateway_url=gateway_url)
        livy = livy_app.build()
        if self.recovery is not None:
            self.sessions.app_ids = self.recovery.app_id
            self.recovery.restore(livy_app)
        livy_asgi: ASGIApp = BodyLimit(LivyFilters(GzipFilter(livy), csrf=self.csrf,
                                                   security_headers=self.mode.extended_session_json),
                                       self.max_body_bytes)
        user = self.gateway_user or _os_user()
        if self.gateway:
            webhdfs = create_webhdfs_app(self.data_dir, gateway_prefix=self.gateway, user=user,
                                         require_xsrf=True)
            from livyd.sandbox._sparkui import SparkUIProxy

            router = PrefixRouter(self.gateway, XsrfFilter(livy_asgi), webhdfs)
            apps: list[ASGIApp] = [SparkUIProxy(router, self.gateway, self.sessions.spark_ui_of)]
        else:
            webhdfs = create_webhdfs_app(self.data_dir, user=user)
            apps = [livy_asgi, webhdfs]
        if self.token:
            apps = [TokenFilter(app, self.token) for app in apps]
        for app, sock in zip(apps, socks, strict=True):
            server = _EmbeddedServer(app)
            self._servers.append(server)
            tg.start_soon(server.serve, sock)
        tg.start_soon(self._gc)
        with anyio.fail_after(30):
            for server in self._servers:
                await server.wait_started()
        log.info("sandbox listening", livy_url=self.livy_url, webhdfs_url=self.webhdfs_url,
                 version=self.mode.version)

    async def _gc(self) -> None:
        with anyio.CancelScope() as scope:
            self._gc_scope = scope
            assert self.sessions is not None and self.batches is not None
            while True:
                await anyio.sleep(self._knobs["check_interval"])  # type: ignore[arg-type]
                try:
                    await self.sessions.collect()
                    await self.batches.collect()
                except Exception as exc:
                    log.exception("sandbox GC failed", error=str(exc))

    async def _shutdown(self) -> None:
        # Sessions and batches first (their process trees must not outlive us), shielded so that
        # a cancelled embedding program still cleans up; then the servers and the task group.
        # The task group's own scope was entered in __aenter__, so it is exited here outside any
        # new cancel scope (anyio requires scopes to be exited in LIFO order).
        with anyio.CancelScope(shield=True):
            if self.recovery is not None and self._livy_app is not None:
                try:  # before the sessions stop: their statements are recorded as they are now
                    self.recovery.save(self._livy_app)
                except OSError as exc:
                    log.warning("recovery state not written", error=str(exc))
            if self.sessions is not None:
                await self.sessions.aclose()
            if self.batches is not None:
                await self.batches.aclose()
        if self._gc_scope is not None:
            self._gc_scope.cancel()
        for server in self._servers:
            server.stop()
        if self._stack is not None:
            stack, self._stack = self._stack, None
            await stack.aclose()
        with anyio.CancelScope(shield=True):
            for path in self._temp_dirs:
                await anyio.to_thread.run_sync(functools.partial(shutil.rmtree, path, ignore_errors=True))
        self._temp_dirs.clear()


def _keep_logs_off_stdout() -> None:
    """An unconfigured structlog prints to *stdout*; the embedding program's stdout may be a
    protocol channel (the daemon's JSON-RPC). If nobody configured structlog, send it to stderr
    at WARNING; a program that configured it keeps its own choice."""
    if not structlog.is_configured():
        structlog.configure(logger_factory=stderr_logger_factory,
                            wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))


class _StderrLogger:
    """A structlog logger writing to whatever ``sys.stderr`` is *at the time of the call*
    (a file captured at configuration time may be closed later, e.g. under pytest)."""

    def msg(self, message: str) -> None:
        try:
            sys.stderr.write(message + "\n")
            sys.stderr.flush()
        except (ValueError, OSError):
            pass

    log = debug = info = warning = warn = error = critical = exception = fatal = msg


def stderr_logger_factory(*args: Any) -> _StderrLogger:
    """structlog ``logger_factory`` for :class:`_StderrLogger`."""
    return _StderrLogger()


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "user"
