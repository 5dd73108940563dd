"""The benchmark code keeps running (bench/, issue 7). Nothing here is timed: these tests check
that the servers count what they should and that every contender and helper still works; the
numbers come from ``python -m bench``."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._common import Series, Server, fmt_ms, ratio  # noqa: E402
from bench._contenders import DaemonContender, Engine, FixedLoop, Library, PyLivy  # noqa: E402
from bench._scenarios import _loss, _measured, _steady_rate, sleep_code  # noqa: E402


def test_the_sandbox_listens_without_nagle() -> None:
    """Nagle's algorithm meeting delayed ACKs adds ~40 ms to a request: the sandbox turns it off."""
    from livyd.sandbox._server import _bind

    sock = _bind("127.0.0.1", 0, "--port")
    try:
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    finally:
        sock.close()


def test_pure_helpers() -> None:
    assert _loss(["stdout: ", "line 00000001", "line 00000002", "line 00000004", "line 00000004"]) == (
        4,
        1,
        1,
        0,
    )
    assert _loss(["[livyd: stdout lines may be missing here: ...]"]) == (0, 0, 0, 1)
    assert _steady_rate([10.0, 10.5, 11.0, 14.0, 14.5, 16.0], 10.0, 17.0, 3.0) == 2.0
    assert _steady_rate([1.0], 0.0, 2.0, 3.0) is None
    s = Series([0.01, 0.03, 0.02]).summary()
    assert s["median"] == 0.02 and fmt_ms(s) == "20.0 (10.0–30.0)"
    assert ratio(2.0, 1.0) == "2.00×" and ratio(None, 1.0) == "–"


def test_python_m_bench_knows_its_scenarios() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--only", "nope"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "unknown scenario nope" in proc.stderr and "overhead" in proc.stderr


def test_contenders_against_the_imitation_counted_at_the_server() -> None:
    """The imitation answers a new statement ``waiting``, runs it for the time its code asks, and
    counts every request but the benchmark's probes; each contender runs a statement on it."""

    async def main() -> None:
        server = await Server.start("imitation")
        try:
            sid = await server.new_session()
            before = await server.count()
            await server.new_session()  # the benchmark's own requests are not counted
            assert await server.count() == before
            posted = await server.http.post(
                f"{server.url}/sessions/{sid}/statements",
                json={"code": sleep_code(0.05)},
                headers={"X-Bench-Probe": ""},
            )
            assert posted.status_code == 201 and posted.json()["state"] == "waiting"
            await asyncio.sleep(0.2)
            started, completed = await server.statement_times(sid)
            assert completed - started >= 0.05

            for contender in (Library(), Engine(), DaemonContender(), PyLivy(), FixedLoop()):
                csid = await server.new_session()
                await contender.setup(server.url, csid)
                try:
                    overhead, requests, wall = await _measured(server, contender, sleep_code(0))
                finally:
                    await contender.close()
                assert 0 <= overhead <= wall, (contender.name, overhead, wall)
                assert requests >= 2, contender.name  # at least the POST and one read
                log = await server.requests(0)
                assert any(m == "POST" and p == f"/sessions/{csid}/statements" for _t, m, p in log)
        finally:
            await server.stop()

    asyncio.run(main())


@pytest.mark.timeout(120)
def test_the_counted_sandbox_serves_the_library() -> None:
    async def main() -> None:
        server = await Server.start("sandbox")
        try:
            sid = await server.new_session()
            contender = Library()
            await contender.setup(server.url, sid)
            try:
                _overhead, requests, _wall = await _measured(server, contender, "1 + 1")
            finally:
                await contender.close()
            assert requests >= 2
            started, completed = await server.statement_times(sid)
            assert completed >= started > 0
        finally:
            await server.stop()

    asyncio.run(main())
