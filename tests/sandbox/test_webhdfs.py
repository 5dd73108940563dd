"""The sandbox's WebHDFS over raw HTTP (livy-rest.md 18 and 19.3), served by uvicorn on loopback.

The app is served from this module (direct and gateway mode, on free ports in a thread) so each
test can look at the data directory underneath; the same app inside ``python -m livyd.sandbox``
is exercised by test_hdfscli.py.
"""

from __future__ import annotations

import base64
import contextlib
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from livyd.sandbox._webhdfs import create_webhdfs_app, resolve_hdfs_uri

GATEWAY = "/gateway/sandbox"
FILE_STATUS_KEYS = ["accessTime", "blockSize", "childrenNum", "fileId", "group", "length",
                    "modificationTime", "owner", "pathSuffix", "permission", "replication",
                    "storagePolicy", "type"]


def wait_for(condition: Callable[[], object], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


@contextlib.contextmanager
def serve(app: object) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on 127.0.0.1:<free port> in a thread; yield its origin."""
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    config = uvicorn.Config(app, lifespan="off", log_config=None, access_log=False,  # type: ignore[arg-type]
                            log_level="warning", http="h11", ws="none")
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


@pytest.fixture(scope="module")
def direct(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    data = tmp_path_factory.mktemp("webhdfs-direct")
    with serve(create_webhdfs_app(data, user="sandboxer")) as origin:
        yield origin + "/webhdfs/v1", data


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    data = tmp_path_factory.mktemp("webhdfs-gateway")
    with serve(create_webhdfs_app(data, gateway_prefix=GATEWAY, user="alice", require_xsrf=True)) as origin:
        yield origin + GATEWAY + "/webhdfs/v1", data


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10, follow_redirects=False) as client:
        yield client


def remote(response: httpx.Response, status: int, exception: str) -> str:
    """Assert a RemoteException answer; return its message."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["RemoteException"]
    assert list(body["RemoteException"]) == ["exception", "javaClassName", "message"]
    assert body["RemoteException"]["exception"] == exception
    assert body["RemoteException"]["javaClassName"].endswith("." + exception)
    return str(body["RemoteException"]["message"])


def create(http: httpx.Client, base: str, path: str, data: bytes, **params: str) -> httpx.Response:
    step1 = http.put(f"{base}{path}", params={"op": "CREATE", **params})
    assert step1.status_code == 307, step1.text
    return http.put(step1.headers["location"], content=data)


# --------------------------------------------------------------------------- CREATE / OPEN / APPEND


def test_create_is_two_steps_and_step_one_writes_nothing(direct: tuple[str, Path],
                                                         http: httpx.Client) -> None:
    base, data = direct
    step1 = http.put(f"{base}/t/create/a.txt", params={"op": "CREATE", "user.name": "alice"},
                     content=b"sent too early")
    assert step1.status_code == 307 and step1.content == b""
    assert step1.headers["content-length"] == "0"
    assert not (data / "t/create").exists(), "step 1 must not touch the file system"
    location = step1.headers["location"]
    parts = urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}" == base.rsplit("/webhdfs/v1", 1)[0]
    query = parse_qs(parts.query, keep_blank_values=True)
    assert query["namenoderpcaddress"] == ["localhost:8020"] and query["op"] == ["CREATE"]
    assert query["user.name"] == ["alice"] and query["createparent"] == ["true"]
    step2 = http.put(location, content=b"hello hdfs")
    assert step2.status_code == 201, step2.text
    assert step2.headers["location"] == "hdfs://localhost:8020/t/create/a.txt"
    assert (data / "t/create/a.txt").read_bytes() == b"hello hdfs"
    assert oct((data / "t/create/a.txt").stat().st_mode & 0o777) == "0o644"


def test_create_overwrite_semantics_and_parents(direct: tuple[str, Path], http: httpx.Client) -> None:
    base, data = direct
    assert create(http, base, "/t/ow/deep/er/f", b"one").status_code == 201
    assert (data / "t/ow/deep/er").is_dir()
    # step 1 does not check existence (the NameNode does not); the data step refuses
    again = create(http, base, "/t/ow/deep/er/f", b"two")
    message = remote(again, 403, "FileAlreadyExistsException")
    assert "/t/ow/deep/er/f" in message and "already exists" in message
    assert (data / "t/ow/deep/er/f").read_bytes() == b"one"
    assert create(http, base, "/t/ow/deep/er/f", b"two", overwrite="true").status_code == 201
    assert (data / "t/ow/deep/er/f").read_bytes() == b"two"
    over_dir = create(http, base, "/t/ow/deep", b"x", overwrite="true")
    assert "already exists as a directory" in remote(over_dir, 403, "FileAlreadyExistsException")
    under_file = create(http, base, "/t/ow/deep/er/f/child", b"x")
    assert "/t/ow/deep/er/f" in remote(under_file, 403, "ParentNotDirectoryException")
    assert create(http, base, "/t/ow/perm", b"x", permission="600").status_code == 201
    assert (data / "t/ow/perm").stat().st_mode & 0o777 == 0o600
    assert not list((data / "t/ow").rglob("*_COPYING_")), "no temporary file may remain"


def test_noredirect_answers_the_location_in_json(direct: tuple[str, Path], http: httpx.Client) -> None:
    base, _ = direct
    answer = http.put(f"{base}/t/noredirect", params={"op": "CREATE", "noredirect": "true"})
    assert answer.status_code == 200
    assert http.put(answer.json()["Location"], content=b"nr").status_code == 201


def test_location_follows_the_host_header(direct: tuple[str, Path], http: httpx.Client) -> None:
    base, _ = direct
    port = urlsplit(base).port
    answer = http.put(f"{base}/t/host", params={"op": "CREATE"}, headers={"Host": f"localhost:{port}"})
    assert answer.headers["location"].startswith(f"http://localhost:{port}/webhdfs/v1/t/host?")


def test_open_redirects_then_streams_bytes_with_offset_and_length(direct: tuple[str, Path],
                                                                 http: httpx.Client) -> None:
    base, _ = direct
    payload = bytes(range(256)) * 1024
    assert create(http, base, "/t/open/blob", payload).status_code == 201
    step1 = http.get(f"{base}/t/open/blob", params={"op": "OPEN"})
    assert step1.status_code == 307
    whole = http.get(step1.headers["location"])
    assert whole.status_code == 200 and whole.content == payload
    assert whole.headers["content-type"] == "application/octet-stream"
    assert whole.headers["content-length"] == str(len(payload))
    with httpx.Client(follow_redirects=True, timeout=10) as follow:
        part = follow.get(f"{base}/t/open/blob", params={"op": "OPEN", "offset": "1000", "length": "70000"})
        assert part.content == payload[1000:71000] and part.headers["content-length"] == "70000"
        tail = follow.get(f"{base}/t/open/blob", params={"op": "OPEN", "offset": str(len(payload) - 5),
                                                         "length": "100"})
        assert tail.content == payload[-5:]
        at_end = follow.get(f"{base}/t/open/blob", params={"op": "OPEN", "offset": str(len(payload))})
        assert at_end.status_code == 200 and at_end.content == b""
        beyond = follow.get(f"{base}/t/open/blob", params={"op": "OPEN", "offset": str(len(payload) + 1)})
        remote(beyond, 403, "IOException")
        bad = follow.get(f"{base}/t/open/blob", params={"op": "OPEN", "offset": "-1"})
        assert '"offset"' in remote(bad, 400, "IllegalArgumentException")
    missing = http.get(f"{base}/t/open/nope", params={"op": "OPEN"})
    assert remote(missing, 404, "FileNotFoundException") == "File does not exist: /t/open/nope"
    directory = http.get(f"{base}/t/open", params={"op": "OPEN"})
    assert "/t/open" in remote(directory, 404, "FileNotFoundException")


def test_append_is_two_steps(direct: tuple[str, Path], http: httpx.Client) -> None:
    base, data = direct
    assert create(http, base, "/t/append/log", b"first\n").status_code == 201
    step1 = http.post(f"{base}/t/append/log", params={"op": "APPEND"})
    assert step1.status_code == 307
    assert (data / "t/append/log").read_bytes() == b"first\n"
    step2 = http.post(step1.headers["location"], content=b"second\n")
    assert step2.status_code == 200
    assert (data / "t/append/log").read_bytes() == b"first\nsecond\n"
    missing = http.post(f"{base}/t/append/none", params={"op": "APPEND"})
    assert remote(missing, 404, "FileNotFoundException") == "File does not exist: /t/append/none"


def test_uploads_stream_to_disk_and_an_aborted_upload_leaves_nothing(direct: tuple[str, Path],
                                                                    http: httpx.Client) -> None:
    """The data step writes chunks as they arrive (a temporary file grows before the body ends),
    and a client that goes away mid-body leaves neither the file nor the temporary behind."""
    base, data = direct
    location = urlsplit(http.put(f"{base}/t/stream/big", params={"op": "CREATE"}).headers["location"])
    target = f"{location.path}?{location.query}"
    total = 4 * 1024 * 1024
    with socket.create_connection((location.hostname, location.port)) as conn:
        conn.sendall(f"PUT {target} HTTP/1.1\r\nHost: {location.netloc}\r\n"
                     f"Content-Length: {total}\r\n\r\n".encode())
        conn.sendall(b"x" * (1024 * 1024))

        def growing() -> bool:
            folder = data / "t/stream"
            return folder.is_dir() and any(p.stat().st_size > 0 for p in folder.glob("*_COPYING_"))

        wait_for(growing, "the temporary file to grow mid-upload")
        assert not (data / "t/stream/big").exists()
    wait_for(lambda: not list((data / "t/stream").glob("*_COPYING_")), "the temporary file to be removed")
    assert not (data / "t/stream/big").exists()

    def chunks() -> Iterator[bytes]:
        for i in range(64):
            yield bytes([i]) * 65536

    step1 = http.put(f"{base}/t/stream/big", params={"op": "CREATE"})
    assert http.put(step1.headers["location"], content=chunks()).status_code == 201
    assert (data / "t/stream/big").read_bytes() == b"".join(chunks())


# --------------------------------------------------------------------------- metadata operations


def test_file_status_has_the_hadoop_keys_in_order(direct: tuple[str, Path], http: httpx.Client) -> None:
    base, data = direct
    assert create(http, base, "/t/status/f.txt", b"12345").status_code == 201
    answer = http.get(f"{base}/t/status/f.txt", params={"op": "GETFILESTATUS"})
    assert answer.status_code == 200
    st = answer.json()["FileStatus"]
    assert list(st) == FILE_STATUS_KEYS
    assert st["pathSuffix"] == "" and st["type"] == "FILE" and st["length"] == 5
    assert st["permission"] == "644" and st["owner"] == "sandboxer" and st["group"] == "supergroup"
    assert st["replication"] == 1 and st["blockSize"] == 134217728 and st["storagePolicy"] == 0
    assert st["fileId"] == (data / "t/status/f.txt").stat().st_ino
    assert abs(st["modificationTime"] - (data / "t/status/f.txt").stat().st_mtime * 1000) < 2
    again = http.get(f"{base}/t/status/f.txt", params={"op": "getfilestatus"}).json()["FileStatus"]
    assert again["fileId"] == st["fileId"], "fileId is stable per path; op names are case-insensitive"
    d = http.get(f"{base}/t/status", params={"op": "GETFILESTATUS"}).json()["FileStatus"]
    assert d["type"] == "DIRECTORY" and d["replication"] == 0 and d["length"] == 0
    assert d["childrenNum"] == 1 and d["permission"] == "755"
    missing = http.get(f"{base}/t/status/none", params={"op": "GETFILESTATUS"})
    assert remote(missing, 404, "FileNotFoundException") == "File does not exist: /t/status/none"


def test_liststatus_of_a_directory_a_file_and_nothing(direct: tuple[str, Path], http: httpx.Client) -> None:
    base, _ = direct
    for name in ("b", "a", "c"):
        assert create(http, base, f"/t/ls/{name}", name.encode()).status_code == 201
    assert http.put(f"{base}/t/ls/sub", params={"op": "MKDIRS"}).json() == {"boolean": True}
    listing = http.get(f"{base}/t/ls", params={"op": "LISTSTATUS"}).json()["FileStatuses"]["FileStatus"]
    assert [e["pathSuffix"] for e in listing] == ["a", "b", "c", "sub"]
    assert [e["type"] for e in listing] == ["FILE", "FILE", "FILE", "DIRECTORY"]
    assert all(list(e) == FILE_STATUS_KEYS for e in listing)
    of_file = http.get(f"{base}/t/ls/a", params={"op": "LISTSTATUS"}).json()["FileStatuses"]["FileStatus"]
    assert len(of_file) == 1 and of_file[0]["pathSuffix"] == "" and of_file[0]["type"] == "FILE"
    empty = http.get(f"{base}/t/ls/sub", params={"op": "LISTSTATUS"}).json()
    assert empty == {"FileStatuses": {"FileStatus": []}}
    missing = http.get(f"{base}/t/ls/none", params={"op": "LISTSTATUS"})
    assert remote(missing, 404, "FileNotFoundException") == "File /t/ls/none does not exist."
    batch = http.get(f"{base}/t/ls", params={"op": "LISTSTATUS_BATCH", "startAfter": "a"}).json()
    partial = batch["DirectoryListing"]["partialListing"]["FileStatuses"]["FileStatus"]
    assert [e["pathSuffix"] for e in partial] == ["b", "c", "sub"]
    assert batch["DirectoryListing"]["remainingEntries"] == 0
    summary = http.get(f"{base}/t/ls", params={"op": "GETCONTENTSUMMARY"}).json()["ContentSummary"]
    assert (summary["fileCount"], summary["directoryCount"], summary["length"]) == (3, 2, 3)


def test_mkdirs_delete_and_rename(direct: tuple[str, Path], http: httpx.Client) -> None:
    base, data = direct
    made = http.put(f"{base}/t/m/x/y", params={"op": "MKDIRS", "permission": "750"})
    assert made.json() == {"boolean": True}
    assert (data / "t/m/x/y").stat().st_mode & 0o777 == 0o750
    assert http.put(f"{base}/t/m/x/y", params={"op": "MKDIRS"}).json() == {"boolean": True}
    assert create(http, base, "/t/m/x/y/f", b"f").status_code == 201
    over_file = http.put(f"{base}/t/m/x/y/f", params={"op": "MKDIRS"})
    assert "/t/m/x/y/f" in remote(over_file, 403, "FileAlreadyExistsException")
    bad = http.put(f"{base}/t/m/z", params={"op": "MKDIRS", "permission": "999"})
    assert remote(bad, 400, "IllegalArgumentException").startswith(
        'Invalid value for webhdfs parameter "permission"')

    # RENAME: into a new name, into an existing directory, refusals are false
    rename = {"op": "RENAME", "destination": "/t/m/renamed"}
    assert http.put(f"{base}/t/m/x/y/f", params=rename).json() == {"boolean": True}
    assert (data / "t/m/renamed").read_bytes() == b"f"
    assert http.put(f"{base}/t/m/renamed", params={"op": "RENAME", "destination": "/t/m/x"}).json() == \
        {"boolean": True}
    assert (data / "t/m/x/renamed").is_file()
    assert http.put(f"{base}/t/m/none", params=rename).json() == {"boolean": False}
    assert http.put(f"{base}/t/m/x", params={"op": "RENAME", "destination": "/t/m/x/y/inside"}).json() == \
        {"boolean": False}
    assert http.put(f"{base}/t/m/x/renamed", params={"op": "RENAME",
                                                      "destination": "/no/parent/here"}).json() == \
        {"boolean": False}
    no_dest = http.put(f"{base}/t/m/x", params={"op": "RENAME"})
    assert '"destination"' in remote(no_dest, 400, "IllegalArgumentException")

    # DELETE: false when missing, 403 for a non-empty directory, recursive works
    assert http.delete(f"{base}/t/m/none", params={"op": "DELETE"}).json() == {"boolean": False}
    message = remote(http.delete(f"{base}/t/m/x", params={"op": "DELETE"}), 403,
                     "PathIsNotEmptyDirectoryException")
    assert message == "`/t/m/x is non empty': Directory is not empty"
    assert http.delete(f"{base}/t/m/x", params={"op": "DELETE", "recursive": "true"}).json() == \
        {"boolean": True}
    assert not (data / "t/m/x").exists()
    assert http.put(f"{base}/t/m/empty", params={"op": "MKDIRS"}).json()["boolean"]
    assert http.delete(f"{base}/t/m/empty", params={"op": "DELETE"}).json() == {"boolean": True}
    assert http.delete(f"{base}/", params={"op": "DELETE", "recursive": "true"}).json() == {"boolean": False}
    assert data.is_dir()


def test_identity_home_and_tilde(direct: tuple[str, Path], http: httpx.Client) -> None:
    base, data = direct
    def home(**p: str) -> object:
        return http.get(f"{base}/", params={"op": "GETHOMEDIRECTORY", **p}).json()

    assert home() == {"Path": "/user/sandboxer"}
    assert home(**{"user.name": "alice"}) == {"Path": "/user/alice"}
    assert home(**{"user.name": "alice", "doas": "bob"}) == {"Path": "/user/bob"}
    assert create(http, base, "/~/notes.txt", b"mine", **{"user.name": "carol"}).status_code == 201
    assert (data / "user/carol/notes.txt").read_bytes() == b"mine"


def test_bad_ops_and_parameters_are_400s_with_hadoop_messages(direct: tuple[str, Path],
                                                               http: httpx.Client) -> None:
    base, _ = direct
    unknown = remote(http.get(f"{base}/", params={"op": "FROB"}), 400, "IllegalArgumentException")
    assert unknown == ('Invalid value for webhdfs parameter "op": No enum constant '
                       "org.apache.hadoop.hdfs.web.resources.GetOpParam.Op.FROB")
    wrong_method = remote(http.get(f"{base}/", params={"op": "MKDIRS"}), 400, "IllegalArgumentException")
    assert wrong_method.endswith("GetOpParam.Op.MKDIRS")
    put_open = remote(http.put(f"{base}/", params={"op": "OPEN"}), 400, "IllegalArgumentException")
    assert put_open.endswith("PutOpParam.Op.OPEN")
    remote(http.get(f"{base}/"), 400, "UnsupportedOperationException")
    bad_bool = http.delete(f"{base}/t", params={"op": "DELETE", "recursive": "maybe"})
    assert '"recursive"' in remote(bad_bool, 400, "IllegalArgumentException")
    outside = http.get(base.replace("/webhdfs/v1", "/elsewhere"))
    assert outside.status_code == 404


# --------------------------------------------------------------------------- containment


def test_no_path_escapes_the_data_dir(direct: tuple[str, Path], http: httpx.Client,
                                      tmp_path: Path) -> None:
    base, data = direct
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("do not read")
    origin = base.rsplit("/webhdfs/v1", 1)[0]
    for raw in ("/webhdfs/v1/t/%2E%2E/%2E%2E/etc/passwd", "/webhdfs/v1/%2e%2e", "/webhdfs/v1/a/./b",
                "/webhdfs/v1/x:y"):
        with socket.create_connection(("127.0.0.1", urlsplit(origin).port)) as conn:
            conn.sendall(f"GET {raw}?op=GETFILESTATUS HTTP/1.1\r\nHost: x\r\n"
                         "Connection: close\r\n\r\n".encode())
            raw_answer = b""
            while chunk := conn.recv(65536):
                raw_answer += chunk
        assert raw_answer.startswith(b"HTTP/1.1 400"), (raw, raw_answer[:200])
        assert b"InvalidPathException" in raw_answer
    (data / "t").mkdir(exist_ok=True)
    os.symlink(outside, data / "t/link-out")
    os.symlink(data / "t", data / "t/link-in")
    for op, method in (("GETFILESTATUS", "GET"), ("LISTSTATUS", "GET"), ("OPEN", "GET"),
                       ("DELETE", "DELETE")):
        answer = http.request(method, f"{base}/t/link-out/secret", params={"op": op})
        assert "resolves outside" in remote(answer, 403, "AccessControlException"), op
    escaped = create(http, base, "/t/link-out/new", b"x")
    remote(escaped, 403, "AccessControlException")
    assert sorted(p.name for p in outside.iterdir()) == ["secret"]
    names = [e["pathSuffix"] for e in
             http.get(f"{base}/t", params={"op": "LISTSTATUS"}).json()["FileStatuses"]["FileStatus"]]
    assert "link-out" not in names and "link-in" in names
    assert http.get(f"{base}/t/link-in", params={"op": "GETFILESTATUS"}).status_code == 200


def test_resolve_hdfs_uri(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    root = data.resolve()
    url = "http://127.0.0.1:9870/webhdfs/v1"
    assert resolve_hdfs_uri(data, "hdfs:///apps/x.py") == root / "apps/x.py"
    assert resolve_hdfs_uri(data, "hdfs://nn.example.com:8020/apps/x.py") == root / "apps/x.py"
    assert resolve_hdfs_uri(data, "webhdfs://nn:9870/a%20b/c") == root / "a b/c"
    assert resolve_hdfs_uri(data, "hdfs://nn") == root
    assert resolve_hdfs_uri(data, f"{url}/apps/x.py?op=OPEN", webhdfs_url=url) == root / "apps/x.py"
    assert resolve_hdfs_uri(data, "http://localhost:9870/webhdfs/v1/a", webhdfs_url=url) == root / "a"
    assert resolve_hdfs_uri(data, "http://127.0.0.1:9871/webhdfs/v1/a", webhdfs_url=url) is None
    assert resolve_hdfs_uri(data, "http://127.0.0.1:9870/webhdfs/v1/a") is None
    for not_hdfs in ("/tmp/x.py", "file:///tmp/x.py", "s3a://bucket/x", "relative.py", "http://x/y"):
        assert resolve_hdfs_uri(data, not_hdfs, webhdfs_url=url) is None, not_hdfs
    for bad in ("hdfs:///../etc/passwd", "hdfs:///a/../../x", f"{url}/%2E%2E/x"):
        with pytest.raises(ValueError, match=r"hdfs|webhdfs|http") as info:
            resolve_hdfs_uri(data, bad, webhdfs_url=url)
        assert bad in str(info.value)
    os.symlink(tmp_path, data / "up")
    with pytest.raises(ValueError, match="escapes"):
        resolve_hdfs_uri(data, "hdfs:///up/x.py")


# --------------------------------------------------------------------------- gateway (Knox)


def test_gateway_rewrites_the_data_url_and_hides_the_datanode(gateway: tuple[str, Path],
                                                              http: httpx.Client) -> None:
    base, data = gateway
    xsrf = {"X-XSRF-Header": "1"}
    step1 = http.put(f"{base}/t/gw/a.txt", params={"op": "CREATE", "user.name": "mallory"}, headers=xsrf)
    assert step1.status_code == 307
    location = urlsplit(step1.headers["location"])
    assert location.path == f"{GATEWAY}/webhdfs/data/v1/webhdfs/v1/t/gw/a.txt"
    query = parse_qs(location.query)
    assert list(query) == ["_"]
    assert "8020" not in location.query and "namenoderpcaddress" not in location.query
    decoded = base64.urlsafe_b64decode(query["_"][0] + "==").decode()
    assert "user.name=alice" in decoded, "Knox asserts its authenticated user, not the client's"
    assert http.put(step1.headers["location"], content=b"via knox", headers=xsrf).status_code == 201
    assert (data / "t/gw/a.txt").read_bytes() == b"via knox"
    opened = http.get(f"{base}/t/gw/a.txt", params={"op": "OPEN"})
    assert opened.status_code == 307 and "/webhdfs/data/v1/" in opened.headers["location"]
    assert http.get(opened.headers["location"]).content == b"via knox"
    home = http.get(f"{base}/", params={"op": "GETHOMEDIRECTORY", "user.name": "mallory", "doas": "x"})
    assert home.json() == {"Path": "/user/alice"}
    # the NameNode route never acts as the DataNode behind the gateway
    sneaky = http.put(f"{base}/t/gw/b.txt", params={"op": "CREATE", "namenoderpcaddress": "localhost:8020"},
                      headers=xsrf, content=b"x")
    assert sneaky.status_code == 307 and not (data / "t/gw/b.txt").exists()
    bogus = http.put(f"{base.replace('/webhdfs/v1', '/webhdfs/data/v1/webhdfs/v1')}/t/gw/b.txt",
                     params={"_": "!!!"}, headers=xsrf, content=b"x")
    assert bogus.status_code == 400 and not (data / "t/gw/b.txt").exists()


def test_gateway_requires_the_xsrf_header_on_writes(gateway: tuple[str, Path], http: httpx.Client) -> None:
    base, data = gateway
    refused = http.put(f"{base}/t/xsrf", params={"op": "MKDIRS"})
    assert refused.status_code == 400
    assert not refused.headers["content-type"].startswith("application/json"), "Knox's 400, not HDFS's"
    assert not (data / "t/xsrf").exists()
    assert http.delete(f"{base}/t", params={"op": "DELETE"}).status_code == 400
    assert http.get(f"{base}/", params={"op": "LISTSTATUS"}).status_code == 200
    step1 = http.put(f"{base}/t/xsrf/f", params={"op": "CREATE"}, headers={"X-XSRF-Header": "x"})
    assert step1.status_code == 307
    assert http.put(step1.headers["location"], content=b"no header").status_code == 400
    assert not (data / "t/xsrf/f").exists()
    assert http.put(f"{base}/t/xsrf", params={"op": "MKDIRS"}, headers={"X-XSRF-Header": ""}).json() == \
        {"boolean": True}


def test_concurrent_creates_share_new_parents(direct: tuple[str, Path]) -> None:
    """Many uploads racing to create the same missing parent directories all succeed."""
    base, data = direct
    from concurrent.futures import ThreadPoolExecutor

    def one(i: int) -> int:
        with httpx.Client(timeout=10) as client:
            for round_ in range(10):
                step1 = client.put(f"{base}/t/race/{round_}/a/b/c/f{i}", params={"op": "CREATE"})
                answer = client.put(step1.headers["location"], content=b"%d" % i)
                if answer.status_code != 201:
                    return answer.status_code
        return 201

    with ThreadPoolExecutor(24) as pool:
        statuses = list(pool.map(one, range(24)))
    assert statuses == [201] * 24
    assert len(list((data / "t/race/9/a/b/c").iterdir())) == 24
