"""Sharing one daemon between editors: the per-user socket daemon and the stdio relay.

``livyd --stdio`` (without ``--standalone``) is a thin relay: it connects to a per-user background
daemon over a Unix socket and copies bytes both ways, so VS Code and Neovim windows on one machine
share sessions, tasks and pollers (nothing is polled or submitted twice). The relay starts the
daemon on demand (``python -m livyd.daemon --serve-socket PATH``, in its own session, logging to
``daemon.log`` next to the socket) and waits for its socket.

* **Where.** ``<user runtime dir>/livyd/daemon-<version>-p<protocol major>-<env>.sock``. The
  directory is created 0700 and must be owned by the user and not accessible to others; the socket
  is 0600.
* **One daemon per configuration environment.** The daemon is started by the first relay and
  inherits that relay's environment: its ``LIVY_*`` and ``LIVYD_*`` variables, Kerberos cache and
  config, proxies, CA bundles, the user config location, and every variable a ``livyd.toml`` it
  would read names (``${VAR}``, ``profile_variable``). ``<env>`` is a keyed hash of exactly those
  (plus the interpreter), so an editor started with another ``LIVY_URL`` or ``KRB5CCNAME`` gets a
  daemon of its own and editors with the same configuration share one. Nothing of the environment
  travels over the socket (a daemon never holds two environments' secrets or tickets); the key is
  a random per-user file in the private directory, so the name reveals nothing about a secret.
  The daemon reports its own hash in the handshake and a relay refuses one that differs.
* **Version check.** The version is in the socket's name: a relay only ever talks to a daemon of
  its own livyd version; an older daemon keeps serving its own relays until it idles out.
* **Handshake.** Accepting a connection proves little (a hung daemon's or any stranger's listening
  socket accepts too), so before it copies a byte of the editor's, the relay sends one LSP-framed
  request, ``$/livyd/relayHello``, and waits a few seconds (``LIVYD_DAEMON_HANDSHAKE_TIMEOUT``,
  default 5) for the answer: the daemon's livyd and protocol versions and pid. The daemon answers
  it before its LSP server sees the connection (a first frame that is not the hello goes to the
  server untouched); a daemon without the handshake answers it with a JSON-RPC error, which proves
  it alive too.
* **Lifetime.** The daemon exits ``--idle-exit`` seconds (default 600, ``LIVYD_DAEMON_IDLE_EXIT``)
  after its last connection closed, keeping (or, if configured, deleting) its sessions.
* **Per connection.** Each connection is one LSP client with its own initialize/shutdown/exit;
  connections on the same workspace state directory share one supervisor.
* **Fallback.** If the relay cannot reach or start the daemon, or the daemon does not answer the
  handshake, ``livyd --stdio`` runs standalone and says why on stderr.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import os
import re
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

from livyd._version import __version__

if TYPE_CHECKING:
    from anyio.abc import SocketStream

__all__ = ["default_socket_path", "relay_stdio", "serve_socket"]


def _runtime_dir() -> Path:
    base = os.environ.get("XDG_RUNTIME_DIR")
    if base:
        candidate = Path(base)
    else:
        import platformdirs

        candidate = Path(platformdirs.user_runtime_dir())
    if not candidate.parent.exists() and not candidate.exists():
        import tempfile

        candidate = Path(tempfile.gettempdir()) / f"livyd-{os.getuid()}"
    return candidate / "livyd" if candidate.name != "livyd" else candidate


def _protocol_version() -> str:
    """The protocol version, without importing the protocol's models (a quarter of a second the
    relay does not need) when ``livyd._version`` states it."""
    from livyd import _version

    fast = getattr(_version, "PROTOCOL_VERSION", None)
    if isinstance(fast, str):
        return fast
    from livyd.protocol import PROTOCOL_VERSION

    return PROTOCOL_VERSION


def default_socket_path(env: Mapping[str, str] | None = None, cwd: Path | None = None) -> Path:
    """The per-user socket of this livyd version for this configuration environment (*env*,
    default ``os.environ``, seen from *cwd*)."""
    directory = _runtime_dir()
    try:
        key = _fingerprint_key(directory)
    except OSError:  # no usable private dir: the relay will fail to connect there and run standalone
        return directory / f"daemon-{__version__}-p{_protocol_version().split('.')[0]}.sock"
    tag = env_fingerprint(env, cwd, key=key)
    path = directory / f"daemon-{__version__}-p{_protocol_version().split('.')[0]}-{tag}.sock"
    if len(os.fsencode(path)) > _MAX_UNIX_PATH:  # a long runtime dir: a short name, the same key
        import hashlib
        import hmac

        short = hmac.new(key, path.name.encode(), hashlib.sha256).hexdigest()[:12]
        path = directory / f"daemon-{short}.sock"
    _EXPECTED[path] = tag
    return path


#: AF_UNIX socket paths hold at most 107 bytes on Linux (108 with the NUL).
_MAX_UNIX_PATH = 107
#: The environment fingerprint each default socket path was named for (the relay checks it).
_EXPECTED: dict[Path, str] = {}


# --------------------------------------------------------------------------- which environment

#: Prefixes and names of the variables that change what a daemon does for its editors.
CONFIG_PREFIXES = ("LIVY_", "LIVYD_")
CONFIG_NAMES = frozenset({
    "KRB5CCNAME", "KRB5_CONFIG", "KRB5_KTNAME", "KRB5_CLIENT_KTNAME", "KRB5RCACHETYPE",
    "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY",
    "http_proxy", "https_proxy", "all_proxy", "no_proxy",
    "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE",
    "AD_USER", "PROXY_USER", "HOME", "XDG_CONFIG_HOME",
})
#: LIVYD_ variables that only steer this relay, not the daemon's work.
RELAY_ONLY = frozenset({"LIVYD_DAEMON_HANDSHAKE_TIMEOUT", "LIVYD_DAEMON_SOCKET"})
_REFERENCED = re.compile(
    r"\$\{([A-Za-z_][A-Za-z0-9_]*)|(?:profile_variable|selector)\s*=\s*[\"']([A-Za-z_][A-Za-z0-9_]*)"
)


def _config_files(env: Mapping[str, str], cwd: Path) -> list[Path]:
    """The livyd.toml files a daemon started here would read: the user one and the project one."""
    files: list[Path] = []
    override = env.get("LIVYD_CONFIG_DIR")
    if override:
        files.append(Path(override) / "livyd.toml")
    elif env.get("XDG_CONFIG_HOME") and sys.platform != "darwin":
        files.append(Path(env["XDG_CONFIG_HOME"]) / "livyd" / "livyd.toml")
    else:
        import platformdirs

        files.append(Path(platformdirs.user_config_dir("livyd", appauthor=False)) / "livyd.toml")
    with contextlib.suppress(OSError):
        here = cwd.resolve()
        for directory in (here, *here.parents):
            if (directory / "livyd.toml").is_file():
                files.append(directory / "livyd.toml")
                break
    return files


def config_environment(env: Mapping[str, str] | None = None, cwd: Path | None = None) -> dict[str, str]:
    """The part of *env* (default ``os.environ``) that configures a daemon: see the module
    docstring. Variables named by a livyd.toml count too (a file that cannot be read adds none)."""
    env = os.environ if env is None else env
    names = {
        name
        for name in env
        if (name.startswith(CONFIG_PREFIXES) and name not in RELAY_ONLY) or name in CONFIG_NAMES
    }
    for path in _config_files(env, cwd or Path.cwd()):
        with contextlib.suppress(OSError, UnicodeDecodeError):
            for match in _REFERENCED.finditer(path.read_text(encoding="utf-8")):
                names.add(match.group(1) or match.group(2))
    return {name: env[name] for name in sorted(names) if name in env}


def _fingerprint_key(directory: Path) -> bytes:
    """A random per-user key (a 0600 file in the private runtime dir) for :func:`env_fingerprint`,
    so a socket's name says nothing about the secrets hashed into it."""
    _private_dir(directory)
    path = directory / "env-key"
    with contextlib.suppress(FileNotFoundError):
        key = path.read_bytes()
        if len(key) >= 16:
            return key
    key = os.urandom(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another relay wrote it first: use theirs
        return path.read_bytes()
    with os.fdopen(fd, "wb") as out:
        out.write(key)
    return key


def env_fingerprint(env: Mapping[str, str] | None = None, cwd: Path | None = None, *, key: bytes) -> str:
    """16 hex digits naming the configuration environment (and interpreter) of a daemon."""
    import hashlib
    import hmac

    material = json.dumps([sys.executable, config_environment(env, cwd)], sort_keys=True)
    return hmac.new(key, material.encode("utf-8", "surrogateescape"), hashlib.sha256).hexdigest()[:16]


def _private_dir(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    st = directory.stat()
    if st.st_uid != os.getuid() or stat.S_IMODE(st.st_mode) & 0o077:
        raise PermissionError(
            f"{directory} must be owned by you and private (mode 0700) to hold the livyd socket"
        )


# --------------------------------------------------------------------------- the handshake

#: The relay's first request on a connection, and its id.
HELLO_METHOD = "$/livyd/relayHello"
HELLO_ID = "livyd-relay-hello"
#: Seconds the relay waits for the daemon's answer to the hello.
DEFAULT_HANDSHAKE_TIMEOUT = 5.0
_HELLO_MAX = 64 * 1024


def _frame(message: dict[str, Any]) -> bytes:
    body = json.dumps(message).encode("utf-8")
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def _handshake_timeout() -> float:
    """``LIVYD_DAEMON_HANDSHAKE_TIMEOUT`` (seconds), else the default (with a warning naming the
    variable when its value is not a positive number)."""
    raw = os.environ.get("LIVYD_DAEMON_HANDSHAKE_TIMEOUT", "").strip()
    if not raw:
        return DEFAULT_HANDSHAKE_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not 0 < value < math.inf:
        logging.getLogger("livyd.daemon").warning(
            "LIVYD_DAEMON_HANDSHAKE_TIMEOUT must be a positive number of seconds, not %r; using %g",
            raw,
            DEFAULT_HANDSHAKE_TIMEOUT,
        )
        return DEFAULT_HANDSHAKE_TIMEOUT
    return value


async def _first_frame(stream: SocketStream, raw: bytearray) -> tuple[dict[str, Any] | None, int]:
    """Read until the stream's first LSP frame is complete, keeping every byte read in *raw*.
    Returns the frame's JSON object (None if what came first is not a small JSON frame, or the
    peer left) and how many bytes of *raw* it took."""
    from livyd.daemon._framing import Frame, FrameParser

    parser = FrameParser(_HELLO_MAX)
    while True:
        event = parser.next_event()
        if event is not None:
            if not isinstance(event, Frame):
                return None, 0
            try:
                message = json.loads(event.body)
            except (ValueError, RecursionError):  # a deeply nested first frame is not the hello
                return None, 0
            return (message if isinstance(message, dict) else None), len(raw) - parser.buffered
        if len(raw) > _HELLO_MAX + 1024:
            return None, 0
        try:
            chunk = await stream.receive()
        except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError):
            return None, 0
        raw += chunk
        parser.feed(chunk)


async def _answer_hello(stream: SocketStream, fingerprint: str | None = None) -> bytes:
    """Daemon side: answer the relay's hello if it comes first. Returns the bytes that belong to
    the LSP server (everything read, when the first frame was not the hello). *fingerprint* is
    this daemon's :func:`env_fingerprint` (a keyed hash: it reveals nothing of the environment)."""
    raw = bytearray()
    message, used = await _first_frame(stream, raw)
    if message is None or message.get("method") != HELLO_METHOD or message.get("id") != HELLO_ID:
        return bytes(raw)
    answer = {"livyd": __version__, "protocol": _protocol_version(), "pid": os.getpid(), "env": fingerprint}
    await stream.send(_frame({"jsonrpc": "2.0", "id": HELLO_ID, "result": answer}))
    return bytes(raw[used:])


async def _say_hello(stream: SocketStream, wait_s: float, expect_env: str | None = None) -> bytes:
    """Relay side: send the hello and wait *wait_s* seconds for the daemon's answer. Returns any
    bytes the daemon sent after it (they are the editor's); raises an OSError (the caller runs
    standalone) when nothing, or something other than an answer, comes back, or when the daemon
    serves another configuration environment than *expect_env*."""
    await stream.send(
        _frame({"jsonrpc": "2.0", "id": HELLO_ID, "method": HELLO_METHOD, "params": {"livyd": __version__}})
    )
    raw = bytearray()
    with anyio.move_on_after(wait_s):
        message, used = await _first_frame(stream, raw)
        if message is None or message.get("id") != HELLO_ID:
            raise ConnectionError("what listens there did not answer like a livyd daemon")
        theirs = (message.get("result") or {}).get("env") if isinstance(message.get("result"), dict) else None
        if expect_env is not None and theirs is not None and theirs != expect_env:
            raise ConnectionError(
                "the daemon there was started with another configuration environment (LIVY_*, LIVYD_*, "
                "Kerberos or proxy variables)"
            )
        return bytes(raw[used:])  # an "error" answer: a daemon without the handshake, but alive
    raise TimeoutError(f"it accepted the connection but did not answer livyd's handshake within {wait_s:g} s")


# --------------------------------------------------------------------------- the shared daemon


class _SocketWriter:
    """pygls writes synchronously; the socket is async: queue frames for a sender task."""

    def __init__(self) -> None:
        self.send, self.receive = anyio.create_memory_object_stream[bytes](math.inf)

    def write(self, data: bytes) -> None:
        with contextlib.suppress(anyio.ClosedResourceError, anyio.BrokenResourceError):
            self.send.send_nowait(data)

    def close(self) -> None:
        """Stays open until the connection ends."""


async def serve_socket(path: Path, max_frame: int, idle_exit: float) -> int:
    """Serve LSP connections on the Unix socket *path* until idle for *idle_exit* seconds."""
    from livyd.daemon._server import _read_frames, build_server

    sys.stdout = sys.stderr  # this process has no client on stdout
    _private_dir(path.parent)
    with contextlib.suppress(OSError):
        probe = await anyio.connect_unix(path)
        await probe.aclose()
        return 0  # another daemon of this version already serves the socket
    _unlink(path)
    fingerprint = env_fingerprint(key=_fingerprint_key(path.parent))
    listener = await anyio.create_unix_listener(path)
    os.chmod(path, 0o600)
    registry: dict[str, Any] = {}
    active = 0
    changed = anyio.Event()

    async with contextlib.AsyncExitStack() as stack:

        async def handle(stream: SocketStream) -> None:
            nonlocal active, changed
            active += 1
            changed.set()
            changed = anyio.Event()
            try:
                first = await _answer_hello(stream, fingerprint)
            except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
                await _forget(stream)
                return  # the peer left mid-handshake
            except BaseException:
                await _forget(stream)
                raise
            await _serve_connection(stream, first)

        async def _forget(stream: SocketStream) -> None:
            nonlocal active, changed
            with anyio.CancelScope(shield=True):
                await stream.aclose()
            active -= 1
            changed.set()
            changed = anyio.Event()

        async def _serve_connection(stream: SocketStream, first: bytes) -> None:
            server = build_server()
            writer = _SocketWriter()
            server.protocol.set_writer(writer)
            state = server.livyd
            state.stack = stack
            state.tg = root
            state.registry = registry
            reader = asyncio.StreamReader(limit=64 * 1024)
            if first:
                reader.feed_data(first)  # what came with (or instead of) the hello
            try:
                async with anyio.create_task_group() as conn:

                    async def pump_in() -> None:
                        try:
                            async for chunk in stream:
                                reader.feed_data(chunk)
                        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                            pass
                        reader.feed_eof()

                    out_done = anyio.Event()

                    async def pump_out() -> None:
                        try:
                            async for data in writer.receive:
                                await stream.send(data)
                        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                            pass
                        finally:
                            out_done.set()

                    async def read_all() -> None:
                        try:
                            await _read_frames(reader, server, writer, max_frame)
                        finally:
                            state.stop.set()

                    conn.start_soon(pump_in)
                    conn.start_soon(pump_out)
                    conn.start_soon(read_all)
                    await state.stop.wait()
                    writer.send.close()  # pump_out sends what is queued (the exit reply), then ends
                    with anyio.move_on_after(2):
                        await out_done.wait()
                    conn.cancel_scope.cancel()
            finally:
                state.detach()
                await _forget(stream)

        async with anyio.create_task_group() as root:
            root.start_soon(listener.serve, handle, root)
            stopping = False

            async def on_signal() -> None:
                nonlocal stopping, changed
                with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT, signal.SIGHUP) as signals:
                    async for _signum in signals:
                        stopping = True
                        changed.set()
                        return

            root.start_soon(on_signal)
            while not stopping:
                event = changed
                if active == 0:
                    with anyio.move_on_after(idle_exit):
                        await event.wait()
                    if active == 0 and event is changed:
                        break  # idle long enough
                else:
                    await event.wait()
            with anyio.move_on_after(20, shield=True):
                for sup, _fanout in registry.values():
                    await sup.shutdown()
            for sup, _fanout in registry.values():
                if sup.store is not None:
                    sup.persist()
                    sup.store.release()
            _unlink(path)
            root.cancel_scope.cancel()
    return 0


# --------------------------------------------------------------------------- the relay


def _unlink(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _spawn_daemon(path: Path, idle_exit: float) -> None:
    """Start the shared daemon detached (its own session), logging next to its socket."""
    _private_dir(path.parent)
    log_file = path.parent / "daemon.log"
    command = [
        sys.executable,
        "-m",
        "livyd.daemon",
        "--serve-socket",
        str(path),
        "--idle-exit",
        str(idle_exit),
        "--log-file",
        str(log_file),
    ]
    with open(os.devnull, "rb") as devnull, open(log_file, "ab") as log:
        subprocess.Popen(
            command, stdin=devnull, stdout=log, stderr=log, start_new_session=True, close_fds=True
        )


async def _connect(path: Path, *, start: bool, idle_exit: float) -> SocketStream:
    try:
        return await anyio.connect_unix(path)
    except OSError:
        if not start:
            raise
    _spawn_daemon(path, idle_exit)
    deadline = time.monotonic() + 15
    while True:
        try:
            return await anyio.connect_unix(path)
        except OSError:
            if time.monotonic() > deadline:
                raise
            await anyio.sleep(0.01)  # a refused connect costs microseconds; the editor waits on it


async def _stdin_stream(tg: Any) -> asyncio.StreamReader:
    """stdin as a StreamReader (event-loop pipe, or a worker thread for files and ttys)."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=64 * 1024)
    try:
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin.buffer)
    except ValueError:
        fd = sys.stdin.buffer.fileno()

        async def pump() -> None:
            while chunk := await anyio.to_thread.run_sync(os.read, fd, 64 * 1024, abandon_on_cancel=True):
                reader.feed_data(chunk)
            reader.feed_eof()

        tg.start_soon(pump)
    return reader


async def relay_stdio(path: Path, idle_exit: float) -> int:
    """Copy stdin to the shared daemon's socket and its answers to stdout, until either ends.

    The relay never imports pygls (its import is most of the daemon's start-up time). Raises an
    OSError, before reading stdin, when the daemon cannot be reached or does not answer the
    handshake (see the module docstring)."""
    wait_s = _handshake_timeout()
    stream = await _connect(path, start=True, idle_exit=idle_exit)
    try:
        early = await _say_hello(stream, wait_s, _EXPECTED.get(path))
    except BaseException:
        with anyio.CancelScope(shield=True):
            await stream.aclose()
        raise
    out = sys.stdout.buffer
    sys.stdout = sys.stderr
    if early:
        out.write(early)
        out.flush()
    async with anyio.create_task_group() as tg:
        reader = await _stdin_stream(tg)

        async def upstream() -> None:
            while chunk := await reader.read(64 * 1024):
                await stream.send(chunk)
            with contextlib.suppress(Exception):
                await stream.send_eof()

        async def downstream() -> None:
            with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
                async for chunk in stream:
                    out.write(chunk)
                    out.flush()
            tg.cancel_scope.cancel()

        tg.start_soon(upstream)
        tg.start_soon(downstream)
    await stream.aclose()
    return 0
