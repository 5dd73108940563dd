"""The sandbox embedded in-process (``livyd.sandbox.Sandbox``) and as a command, start to stop.

Embedding must not print to stdout (the daemon speaks JSON-RPC there), must not install signal
handlers, and must take every session's process tree down when the context is left; the command
must do the same on SIGTERM and exit 0. The sandbox must stay honest: no import of livyd's client.
"""

from __future__ import annotations

import ast
import signal
import subprocess
import sys
import time
from pathlib import Path

import anyio
import httpx
import pytest
from livy_http import pid_alive
from support import ROOT, start_sandbox

SANDBOX_DIR = ROOT / "livyd" / "sandbox"
CLIENT_MODULES = ("livyd._client", "livyd._models", "livyd._exceptions", "livyd._core", "livyd._transport",
                  "livyd._auth", "livyd._config", "livyd._connect")


async def wait_idle(client: httpx.AsyncClient, sid: int) -> None:
    with anyio.fail_after(30):
        while (await client.get(f"/sessions/{sid}/state")).json()["state"] != "idle":  # noqa: ASYNC110
            await anyio.sleep(0.02)


async def run_statement(client: httpx.AsyncClient, sid: int, code: str) -> dict[str, object]:
    st = (await client.post(f"/sessions/{sid}/statements", json={"code": code})).json()
    with anyio.fail_after(30):
        while True:
            st = (await client.get(f"/sessions/{sid}/statements/{st['id']}")).json()
            if st["state"] == "available":
                return dict(st["output"])
            await anyio.sleep(0.02)


@pytest.mark.anyio
async def test_embedded_sandbox_lifecycle(capfd: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from livyd.sandbox import Sandbox

    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    async with Sandbox(data_dir=tmp_path / "hdfs") as sb:
        assert sb.livy_url.startswith("http://127.0.0.1:")
        assert sb.webhdfs_url.startswith("http://127.0.0.1:") and sb.webhdfs_url.endswith("/webhdfs/v1")
        assert sb.data_dir == (tmp_path / "hdfs").resolve() and sb.data_dir.is_dir()
        assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before
        async with httpx.AsyncClient(base_url=sb.livy_url, timeout=30) as client:
            assert (await client.get("/version")).status_code == 200
            sid = (await client.post("/sessions", json={"kind": "pyspark"})).json()["id"]
            await wait_idle(client, sid)
            out = await run_statement(client, sid, "import os\nos.getpid()")
            repl_pid = int(out["data"]["text/plain"])  # type: ignore[index]
            assert pid_alive(repl_pid)
    assert not pid_alive(repl_pid)
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before
    assert capfd.readouterr().out == ""
    # a given data dir is kept; the temporary work dirs are not
    assert (tmp_path / "hdfs").is_dir()


@pytest.mark.anyio
async def test_embedded_sandbox_temp_data_dir_is_removed() -> None:
    from livyd.sandbox import Sandbox

    async with Sandbox() as sb:
        data_dir = sb.data_dir
        assert data_dir.is_dir()
    assert not data_dir.exists()


def test_embedded_refuses_non_loopback_without_token() -> None:
    from livyd.sandbox import Sandbox

    with pytest.raises(ValueError, match="--token"):
        Sandbox(host="0.0.0.0")


def test_command_stops_session_trees_on_sigterm_and_exits_0() -> None:
    sb = start_sandbox("--cancel-timeout", "3")
    try:
        with httpx.Client(base_url=sb.livy_url, timeout=30) as http:
            sid = http.post("/sessions", json={"kind": "pyspark"}).json()["id"]
            deadline = time.monotonic() + 30
            while http.get(f"/sessions/{sid}/state").json()["state"] != "idle":
                assert time.monotonic() < deadline
                time.sleep(0.02)
            st = http.post(f"/sessions/{sid}/statements", json={"code": "import os\nos.getpid()"}).json()
            while (j := http.get(f"/sessions/{sid}/statements/{st['id']}").json())["state"] != "available":
                assert time.monotonic() < deadline
                time.sleep(0.02)
            repl_pid = int(j["output"]["data"]["text/plain"])
        sb.proc.send_signal(signal.SIGTERM)
        assert sb.proc.wait(30) == 0
        assert not pid_alive(repl_pid)
        assert sb.proc.stdout is not None and sb.proc.stdout.read() == ""  # only the ready line, already read
    finally:
        sb.stop()


def test_sandbox_sources_import_nothing_of_the_client() -> None:
    offenders = []
    for path in sorted(SANDBOX_DIR.glob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] if node.level == 0 else []
                if node.module == "livyd":
                    names = [f"livyd.{a.name}" for a in node.names]
            offenders += [f"{path.name}: {n}" for n in names if n.startswith(CLIENT_MODULES)]
    assert offenders == []


def test_importing_the_sandbox_loads_no_client_module() -> None:
    code = ("import sys, livyd.sandbox, livyd.sandbox._cli\n"
            f"bad = [m for m in sys.modules if m.startswith({CLIENT_MODULES!r})]\n"
            "print(','.join(sorted(bad)))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "", f"livyd.sandbox pulled in client modules: {proc.stdout.strip()}"
