"""WebHDFSClient against the sandbox's real WebHDFS app on loopback sockets (direct and gateway).

The app is served by uvicorn in a thread so a test can look at the data directory and at what
arrived (a recording wrapper around the real app notes method, path, query and headers). Auth is
exercised with the sandbox's own bearer-token filter in front of the app.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import anyio
import httpx
import pytest
from support import has_module, require

from livyd._exceptions import (
    AuthenticationError,
    ConfigError,
    ConnectError,
    TransportError,
    TransportTimeout,
    WebHDFSError,
)
from livyd._version import __version__
from livyd._webhdfs import FileStatus, WebHDFSClient
from livyd.sandbox._server import TokenFilter
from livyd.sandbox._webhdfs import create_webhdfs_app

pytestmark = pytest.mark.anyio

GATEWAY = "/gateway/sandbox"
TOKEN = "t0ken-never-shown"


def wait_for(condition: Callable[[], object], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body_bytes: int = 0


@dataclass
class Recorder:
    """ASGI wrapper recording each request (and the size of its body) before the real app."""

    app: Any
    seen: list[Seen] = field(default_factory=list)
    set_cookie: bool = False

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        entry = Seen(scope["method"], scope["path"], parse_qs(scope["query_string"].decode()),
                     {k.decode().lower(): v.decode() for k, v in scope["headers"]})
        self.seen.append(entry)

        async def counting_receive() -> Any:
            message = await receive()
            if message["type"] == "http.request":
                entry.body_bytes += len(message.get("body", b""))
            return message

        async def cookie_send(message: dict[str, Any]) -> None:
            if self.set_cookie and message["type"] == "http.response.start":
                message = dict(message)
                message["headers"] = [*message["headers"], (b"set-cookie", b"KNOXSESSIONID=abc; Path=/")]
            await send(message)

        await self.app(scope, counting_receive, cookie_send)


@contextlib.contextmanager
def serve(app: Any) -> Iterator[str]:
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    config = uvicorn.Config(app, lifespan="off", log_config=None, access_log=False, log_level="warning",
                            http="h11", ws="none")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    wait_for(lambda: server.started, "uvicorn to start")
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@dataclass
class Served:
    url: str
    data: Path
    recorder: Recorder


@pytest.fixture(scope="module")
def direct(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    data = tmp_path_factory.mktemp("client-direct")
    recorder = Recorder(create_webhdfs_app(data, user="sandboxer"))
    with serve(recorder) as origin:
        yield Served(origin + "/webhdfs/v1", data, recorder)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    data = tmp_path_factory.mktemp("client-gateway")
    app = create_webhdfs_app(data, gateway_prefix=GATEWAY, user="alice", require_xsrf=True)
    recorder = Recorder(TokenFilter(app, TOKEN), set_cookie=True)
    with serve(recorder) as origin:
        yield Served(origin + GATEWAY + "/webhdfs/v1", data, recorder)


class Bearer(httpx.Auth):
    """Pre-emptive bearer token."""

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {TOKEN}"
        yield request


class ChallengeBearer(httpx.Auth):
    """Sends the token only after a 401 (as SPNEGO does): the request is sent twice."""

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        response = yield request
        if response.status_code == 401:
            request.headers["Authorization"] = f"Bearer {TOKEN}"
            yield request


# --------------------------------------------------------------------------- direct


async def test_round_trip_direct(direct: Served, tmp_path: Path) -> None:
    src = tmp_path / "big.bin"
    payload = bytes(range(256)) * 8192  # 2 MiB, several chunks
    src.write_bytes(payload)

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(3):
            yield f"part {i}\n".encode()

    async with WebHDFSClient(direct.url, user="alice") as hdfs:
        assert await hdfs.home() == "/user/alice"
        assert await hdfs.upload("/c/rt/big.bin", src) == "/c/rt/big.bin"
        assert (direct.data / "c/rt/big.bin").read_bytes() == payload
        assert await hdfs.upload("notes.txt", b"relative") == "/user/alice/notes.txt"
        assert (direct.data / "user/alice/notes.txt").read_bytes() == b"relative"
        await hdfs.upload("/c/rt/parts.txt", chunks(), permission=0o600)
        await hdfs.append("/c/rt/parts.txt", b"tail\n")
        assert await hdfs.download("/c/rt/parts.txt") == b"part 0\npart 1\npart 2\ntail\n"
        assert await hdfs.download("/c/rt/big.bin", offset=10, length=5) == payload[10:15]
        dest = await hdfs.download("/c/rt/big.bin", tmp_path)
        assert dest == tmp_path / "big.bin" and dest.read_bytes() == payload
        assert not [name for name in os.listdir(tmp_path) if name.endswith(".part")]

        st = await hdfs.status("/c/rt/parts.txt")
        assert isinstance(st, FileStatus) and st.is_file and st.permission == "600"
        assert st.path == "/c/rt/parts.txt" and st.length == 26 and st.owner == "alice"
        assert await hdfs.status("/c/rt/none") is None
        assert await hdfs.mkdirs("/c/rt/sub", permission="750") is True
        listing = await hdfs.list("/c/rt")
        assert [(e.path_suffix, e.type, e.path) for e in listing] == [
            ("big.bin", "FILE", "/c/rt/big.bin"), ("parts.txt", "FILE", "/c/rt/parts.txt"),
            ("sub", "DIRECTORY", "/c/rt/sub")]
        assert listing[2].is_dir and listing[2].permission == "750"
        with pytest.raises(WebHDFSError, match="not a directory") as not_dir:
            await hdfs.list("/c/rt/big.bin")
        assert not_dir.value.exception == "NotADirectory"

        assert await hdfs.rename("/c/rt/parts.txt", "/c/rt/sub") is True
        assert (direct.data / "c/rt/sub/parts.txt").is_file()
        assert await hdfs.rename("/c/rt/none", "/c/rt/x") is False
        with pytest.raises(WebHDFSError) as non_empty:
            await hdfs.delete("/c/rt")
        assert non_empty.value.status == 403
        assert non_empty.value.exception == "PathIsNotEmptyDirectoryException"
        assert await hdfs.delete("/c/rt", recursive=True) is True
        assert await hdfs.delete("/c/rt", recursive=True) is False


async def test_write_headers_identity_and_the_two_steps(direct: Served) -> None:
    direct.recorder.seen.clear()
    async with WebHDFSClient(direct.url + "/", user="alice", doas="bob") as hdfs:
        await hdfs.upload("/c-bob/hdr/f", b"0123456789")
        await hdfs.status("/c-bob/hdr/f")
    step1, step2, get = direct.recorder.seen
    assert (step1.method, step1.path, step1.query["op"]) == ("PUT", "/webhdfs/v1/c-bob/hdr/f", ["CREATE"])
    assert step1.body_bytes == 0, "step 1 carries no body"
    assert step1.query["user.name"] == ["alice"] and step1.query["doas"] == ["bob"]
    assert "namenoderpcaddress" in step2.query and step2.body_bytes == 10
    for write in (step1, step2):
        assert write.headers["x-xsrf-header"] and write.headers["x-requested-by"]
    assert "x-xsrf-header" not in get.headers
    assert all(s.headers["user-agent"] == f"livyd/{__version__}" for s in direct.recorder.seen)


async def test_errors_name_the_path_and_keep_hadoops_details(direct: Served) -> None:
    async with WebHDFSClient(direct.url) as hdfs:
        await hdfs.upload("/c/err/f", b"x")
        with pytest.raises(WebHDFSError) as exists:
            await hdfs.upload("/c/err/f", b"y")
        err = exists.value
        assert err.status == 403 and err.exception == "FileAlreadyExistsException"
        assert err.java_class_name == "org.apache.hadoop.fs.FileAlreadyExistsException"
        assert "/c/err/f" in str(err) and err.code == "webhdfs"
        await hdfs.upload("/c/err/f", b"y", overwrite=True)
        assert await hdfs.download("/c/err/f") == b"y"
        with pytest.raises(WebHDFSError) as missing:
            await hdfs.download("/c/err/none")
        assert missing.value.status == 404 and "File does not exist: /c/err/none" in str(missing.value)
        with pytest.raises(WebHDFSError) as not_found:
            await hdfs.list("/c/err/none")
        assert not_found.value.exception == "FileNotFoundException"
        with pytest.raises(ValueError, match="permission '9z9'"):
            await hdfs.mkdirs("/c/err/d", permission="9z9")
        with pytest.raises(ValueError, match="empty"):
            await hdfs.status("")
    with pytest.raises(ConfigError, match=r"webhdfs\.url"):
        WebHDFSClient("ftp://nn/webhdfs/v1")


async def test_upload_tree(direct: Served, tmp_path: Path) -> None:
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "main.py").write_text("main")
    (tmp_path / "pkg" / "__init__.py").write_text("init")
    (tmp_path / "pkg" / "sub" / "deep.py").write_text("deep")
    async with WebHDFSClient(direct.url) as hdfs:
        uploaded = await hdfs.upload_tree(tmp_path, "/c/tree")
    assert uploaded == ["/c/tree/main.py", "/c/tree/pkg/__init__.py", "/c/tree/pkg/sub/deep.py"]
    assert (direct.data / "c/tree/pkg/sub/deep.py").read_text() == "deep"


async def test_transport_failures_are_mapped(tmp_path: Path) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    async with WebHDFSClient(f"http://127.0.0.1:{port}/webhdfs/v1") as hdfs:
        with pytest.raises(ConnectError, match=f"127.0.0.1:{port}") as refused:
            await hdfs.status("/x")
        assert isinstance(refused.value.__cause__, httpx.ConnectError)
    with socket.socket() as silent:  # accepts, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        async with WebHDFSClient(f"http://127.0.0.1:{silent.getsockname()[1]}", timeout=0.3) as hdfs:
            with pytest.raises(TransportTimeout):
                await hdfs.status("/x")


# --------------------------------------------------------------------------- gateway


async def test_round_trip_through_the_gateway(gateway: Served, tmp_path: Path) -> None:
    """XSRF header on writes, the opaque data route for step 2, the same auth and cookies on it."""
    gateway.recorder.seen.clear()
    src = tmp_path / "app.py"
    src.write_text("print('via knox')\n")
    async with WebHDFSClient(gateway.url, auth=Bearer(), user="mallory") as hdfs:
        assert await hdfs.home() == "/user/alice"
        await hdfs.upload("~/app.py", src)
        assert (gateway.data / "user/alice/app.py").read_text() == "print('via knox')\n"
        assert await hdfs.download("/user/alice/app.py") == b"print('via knox')\n"
        await hdfs.append("/user/alice/app.py", b"# more\n")
        assert [e.path_suffix for e in await hdfs.list("~")] == ["app.py"]
    data_steps = [s for s in gateway.recorder.seen if s.path.startswith(f"{GATEWAY}/webhdfs/data/v1/")]
    assert [s.method for s in data_steps] == ["PUT", "GET", "POST"]
    assert all(list(s.query) == ["_"] for s in data_steps)
    assert all(s.headers.get("authorization") == f"Bearer {TOKEN}" for s in gateway.recorder.seen)
    assert all("knoxsessionid=abc" in s.headers.get("cookie", "").lower() for s in gateway.recorder.seen[1:])


async def test_gateway_401_names_the_url_and_the_auth_but_not_the_secret(gateway: Served) -> None:
    async with WebHDFSClient(gateway.url) as hdfs:
        with pytest.raises(AuthenticationError) as info:
            await hdfs.home()
    assert info.value.status == 401
    assert f"WebHDFS at {gateway.url} refused an unauthenticated request" in str(info.value)


async def test_a_challenged_auth_replays_a_file_body_but_not_a_stream(gateway: Served,
                                                                      tmp_path: Path) -> None:
    """Like SPNEGO without a cookie, the auth sends each request twice: a Path is read again,
    a one-shot async iterable cannot be and says so."""
    src = tmp_path / "f.bin"
    src.write_bytes(b"z" * 200_000)

    async def once() -> AsyncIterator[bytes]:
        yield b"once"

    async with WebHDFSClient(gateway.url, auth=ChallengeBearer()) as hdfs:
        await hdfs.upload("/c/challenge/f.bin", src)
        assert (gateway.data / "c/challenge/f.bin").read_bytes() == src.read_bytes()
        with pytest.raises(TransportError, match="cannot be replayed"):
            await hdfs.upload("/c/challenge/g", once())
    async with WebHDFSClient(gateway.url, auth=Bearer()) as hdfs:
        await hdfs.upload("/c/challenge/g", once())
    assert (gateway.data / "c/challenge/g").read_bytes() == b"once"


async def test_trio_backend_too(gateway: Served) -> None:
    """The client only uses anyio, so it runs under trio as well."""
    require(has_module("trio"), "PyPI package trio")

    async def main() -> str:
        async with WebHDFSClient(gateway.url, auth=Bearer()) as hdfs:
            await hdfs.upload("/c/trio/x", b"trio")
            return (await hdfs.download("/c/trio/x")).decode()  # type: ignore[union-attr]

    assert await anyio.to_thread.run_sync(lambda: anyio.run(main, backend="trio")) == "trio"


async def test_kerberos_auth_sends_no_user_name(direct: Served) -> None:
    """With SPNEGO the ticket names the user: ``user.name`` is not sent (``doas`` still is). The
    server never challenges here, so no GSS step runs and no KDC is needed."""
    require(has_module("httpx_gssapi"), "PyPI package httpx-gssapi")
    from httpx_gssapi import HTTPSPNEGOAuth

    direct.recorder.seen.clear()
    async with WebHDFSClient(direct.url, auth=HTTPSPNEGOAuth(), user="alice", doas="bob") as hdfs:
        assert await hdfs.home() == "/user/bob"
    (seen,) = direct.recorder.seen
    assert "user.name" not in seen.query and seen.query["doas"] == ["bob"]
    assert hdfs.auth_description == "Kerberos (SPNEGO) authentication"
