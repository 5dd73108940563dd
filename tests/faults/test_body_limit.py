"""The sandbox refuses Livy bodies above ``--max-body-bytes`` with a gateway's 413, whether the size
is declared or the body is chunked; WebHDFS data steps stream and are not limited (issue 11, item 8)."""

from __future__ import annotations

import json
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from support import SandboxProcess, start_sandbox

from livyd import LivyClient, LivyHTTPError

LIMIT = 65536
H = {"X-Requested-By": "test", "Content-Type": "application/json"}


@pytest.fixture(scope="module")
def limited() -> Iterator[SandboxProcess]:
    sb = start_sandbox("--max-body-bytes", str(LIMIT), data_dir=Path(tempfile.mkdtemp(prefix="livyd-limit-")))
    yield sb
    sb.stop()


@pytest.fixture(scope="module")
def session(limited: SandboxProcess) -> int:
    sid = int(httpx.post(f"{limited.livy_url}/sessions", json={"kind": "pyspark"}, headers=H, timeout=10)
              .json()["id"])
    for _ in range(600):
        if httpx.get(f"{limited.livy_url}/sessions/{sid}", timeout=10).json()["state"] == "idle":
            return sid
        time.sleep(0.05)
    raise AssertionError("the session never became idle")


def test_a_declared_body_over_the_limit_is_refused_unread(limited: SandboxProcess, session: int) -> None:
    body = json.dumps({"code": "x = '" + "a" * LIMIT + "'"}).encode()
    url = f"{limited.livy_url}/sessions/{session}/statements"
    resp = httpx.post(url, content=body, headers=H, timeout=10)
    assert resp.status_code == 413
    assert resp.headers["content-type"].startswith("text/html") and "413" in resp.text
    listed = httpx.get(f"{limited.livy_url}/sessions/{session}/statements", timeout=10).json()
    assert listed["total_statements"] == 0  # nothing ran
    small = httpx.post(f"{limited.livy_url}/sessions/{session}/statements",
                       content=json.dumps({"code": "'" + "b" * 1000 + "'"}), headers=H, timeout=10)
    assert small.status_code == 201


def test_a_chunked_body_is_cut_off_at_the_limit(limited: SandboxProcess, session: int) -> None:
    host, port = limited.livy_url.split("://", 1)[1].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"POST /sessions/{session}/statements HTTP/1.1\r\nHost: {host}\r\n"
                     "Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n".encode())
        chunk = b"a" * 16384
        answer = b""
        try:
            for _ in range(64):  # 1 MiB offered, far past the limit
                sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        except OSError:
            pass  # the server answered and closed: it stopped reading
        try:
            while b"\r\n\r\n" not in answer:
                data = sock.recv(65536)
                if not data:
                    break
                answer += data
        except OSError:
            pass
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


@pytest.mark.anyio
async def test_the_client_reports_it_and_nothing_runs(limited: SandboxProcess, session: int) -> None:
    async with LivyClient(limited.livy_url) as client:
        with pytest.raises(LivyHTTPError) as caught:
            await client.submit_statement(session, "x = '" + "c" * LIMIT + "'")
        assert caught.value.status == 413
        assert "413" in str(caught.value)


def test_webhdfs_data_steps_are_not_limited(limited: SandboxProcess) -> None:
    data = b"z" * (LIMIT * 8)
    first = httpx.put(f"{limited.webhdfs_url}/tmp/big.bin?op=CREATE&overwrite=true", timeout=10)
    assert first.status_code == 307
    done = httpx.put(first.headers["location"], content=data, timeout=30)
    assert done.status_code == 201
    status = httpx.get(f"{limited.webhdfs_url}/tmp/big.bin?op=GETFILESTATUS", timeout=10).json()
    assert status["FileStatus"]["length"] == len(data)
