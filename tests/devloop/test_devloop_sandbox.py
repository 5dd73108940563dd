"""The development loop end to end against the sandbox's WebHDFS and sessions (real sockets)."""

from __future__ import annotations

import itertools
import json
import os
import secrets
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from devloop_helpers import ensure_home, make_project, set_value

from livyd import LivyClient, UnsafeRemotePathError, WebHDFSClient
from livyd._config import DeployConfig
from livyd._deploy import deploy_project, deploy_to_session
from livyd._hdfs import RemoteWorkspace, UploadCache
from livyd._project import discover_project
from livyd._reload import Reloader

pytestmark = pytest.mark.anyio

USER = "devloop"


@pytest.fixture
async def hdfs(sandbox: Any) -> AsyncIterator[WebHDFSClient]:
    ensure_home(sandbox.webhdfs_url, USER)
    async with WebHDFSClient(sandbox.webhdfs_url, user=USER) as client:
        yield client


@pytest.fixture
async def client(sandbox: Any) -> AsyncIterator[LivyClient]:
    async with LivyClient(sandbox.livy_url, name_prefix="devloop") as c:
        yield c


def _workspace(hdfs: WebHDFSClient, tmp_path: Path) -> RemoteWorkspace:
    return RemoteWorkspace(hdfs, base_dir=f"/user/{USER}/t-{secrets.token_hex(3)}",
                           cache=UploadCache(tmp_path / "uploads.json"))


async def _value(client: LivyClient, sid: int, code: str) -> str:
    st = await client.run_statement(sid, code)
    assert st.output is not None
    st.output.raise_for_error()
    return st.output.text


async def test_deploy_import_change_reload(client: LivyClient, hdfs: WebHDFSClient, tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj", value=1)
    project = discover_project(DeployConfig(), cwd=root)
    ws = _workspace(hdfs, tmp_path)
    first = await deploy_project(project, workspace=ws)
    assert sorted(f.name for f in first.sent) == ["demopkg", "job.py"]
    for f in first.files:  # owner-only on HDFS
        st = await hdfs.status(f.remote or "")
        assert st is not None and st.permission == "600"
    # deploying an unchanged project again sends no file
    ws.sent.clear()
    again = await deploy_project(project, workspace=ws)
    assert ws.sent == [] and not again.sent and again.py_files == first.py_files

    session = await client.create_session(kind="pyspark", py_files=first.py_files)
    sid = session.id
    try:
        await client.wait_session_ready(sid)
        assert await _value(client, sid, "import sys, demopkg; demopkg.f(), demopkg.helpers.doubled()"
                            ) == "(1, 2)"

        set_value(root, 5)  # change a function locally, reload the package (inline base64)
        res = await Reloader(client, sid, project, workspace=ws).reload_package("demopkg")
        assert res.via == "inline" and set(res.reloaded) == {"demopkg", "demopkg.core", "demopkg.helpers"}
        assert res.reloaded.index("demopkg.core") < res.reloaded.index("demopkg.helpers")
        assert await _value(client, sid, "demopkg.f(), demopkg.helpers.doubled()") == "(5, 10)"

        set_value(root, 6)  # too big to inline: through WebHDFS + add-pyfile
        extracted = res.path
        res = await Reloader(client, sid, project, workspace=ws, inline_limit=0).reload_package("demopkg")
        assert res.via == "webhdfs" and "demopkg.core" in res.reloaded
        assert extracted and not os.path.exists(extracted)  # noqa: ASYNC240 (the last reload's dir is gone)
        assert await _value(client, sid, f"{extracted!r} in sys.path") == "False"
        assert await _value(client, sid, "demopkg.f(), demopkg.helpers.doubled()") == "(6, 12)"

        set_value(root, 7)  # no WebHDFS: Livy's upload-pyfile
        res = await Reloader(client, sid, project, workspace=None, inline_limit=0).reload_package("demopkg")
        assert res.via == "livy-upload"
        assert await _value(client, sid, "demopkg.f(), demopkg.helpers.doubled()") == "(7, 14)"

        set_value(root, 8)  # one module: exec in its namespace
        res = await Reloader(client, sid, project).reload_module("demopkg.core")
        assert res.reloaded == ["demopkg.core"]
        assert await _value(client, sid, "demopkg.core.f()") == "8"

        set_value(root, 9)  # pushed fresh: a new module object
        await _value(client, sid, "import sys; _old_core = sys.modules['demopkg.core']")
        await Reloader(client, sid, project).push_module("demopkg.core")
        assert await _value(client, sid, "sys.modules['demopkg.core'].f(), "
                            "sys.modules['demopkg.core'] is _old_core, demopkg.core.f()") == "(9, False, 9)"
    finally:
        await client.delete_session(sid)


async def test_deploy_without_webhdfs_uses_livy_uploads(client: LivyClient, tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj", value=3)
    project = discover_project(DeployConfig(), cwd=root)
    session = await client.create_session(kind="pyspark")
    try:
        await client.wait_session_ready(session.id)
        result = await deploy_to_session(project, client, session.id)
        assert result.via == "livy-upload" and len(result.files) == 2
        assert await _value(client, session.id, "import demopkg; demopkg.f()") == "3"
    finally:
        await client.delete_session(session.id)


async def test_deletes_and_overwrites_stay_inside_the_base_dir(hdfs: WebHDFSClient, tmp_path: Path) -> None:
    ws = _workspace(hdfs, tmp_path)
    outside = f"/user/{USER}/keep-{secrets.token_hex(3)}.txt"
    await hdfs.upload(outside, b"precious")
    local = tmp_path / "x.txt"
    local.write_text("new")
    with pytest.raises(UnsafeRemotePathError, match="outside the remote base dir"):
        await ws.rm(outside)
    with pytest.raises(UnsafeRemotePathError, match="outside the remote base dir"):
        await ws.put(local, outside)  # overwrite outside: refused
    assert await hdfs.download(outside) == b"precious"
    for never in ("/", f"/user/{USER}", "/user"):
        with pytest.raises(UnsafeRemotePathError, match="never allowed"):
            await ws.rm(never, recursive=True, force=True)
    inside = await ws.put(local, "sub/x.txt")
    assert inside.uploaded and inside.remote.startswith(await ws.base())
    assert await ws.rm("sub", recursive=True)
    assert await ws.rm(outside, force=True)  # forced: allowed


def test_large_upload_keeps_memory_bounded(sandbox: Any, tmp_path: Path) -> None:
    """A 192 MiB upload in a fresh process: peak RSS grows far less than the file (streamed)."""
    ensure_home(sandbox.webhdfs_url, USER)
    size = 192 * 1024 * 1024
    big = tmp_path / "big.bin"
    with big.open("wb") as f:
        chunk = os.urandom(1024 * 1024)
        for _ in range(size // len(chunk)):
            f.write(chunk)
    script = textwrap.dedent(f"""
        import json, resource, anyio
        from pathlib import Path
        from livyd import WebHDFSClient

        def rss():
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

        async def main():
            seen = []
            async with WebHDFSClient({sandbox.webhdfs_url!r}, user={USER!r}) as hdfs:
                await hdfs.upload("/user/{USER}/warm.bin", b"x" * 1024, overwrite=True)
                before = rss()
                await hdfs.upload("/user/{USER}/big.bin", Path({str(big)!r}), overwrite=True,
                                  progress=lambda done, total: seen.append((done, total)))
                after = rss()
                st = await hdfs.status("/user/{USER}/big.bin")
                await hdfs.delete("/user/{USER}/big.bin")
            print(json.dumps({{"growth": after - before, "length": st.length, "calls": len(seen),
                               "last": seen[-1]}}))

        anyio.run(main)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["length"] == size
    assert report["last"] == [size, size] and report["calls"] >= size // (512 * 1024)
    print(f"RSS growth for a {size >> 20} MiB upload: {report['growth'] / 2**20:.1f} MiB")
    assert report["growth"] < 64 * 1024 * 1024, report


async def test_through_a_knox_like_gateway(sandbox_factory: Any, tmp_path: Path) -> None:
    """Deploy and a large reload through the gateway's WebHDFS data route and Livy's add-pyfile;
    the sandbox is still recognised by what it reports, not by its address."""
    sb = sandbox_factory("--gateway", "/gateway/sandbox", "--gateway-user", "alice")
    root = make_project(tmp_path / "proj", value=1)
    project = discover_project(DeployConfig(), cwd=root)
    async with WebHDFSClient(sb.webhdfs_url) as hdfs, LivyClient(sb.livy_url) as client:
        assert await client.is_livyd_sandbox()
        ws = RemoteWorkspace(hdfs, base_dir=f"t-{secrets.token_hex(3)}",
                             cache=UploadCache(tmp_path / "c.json"))
        result = await deploy_project(project, workspace=ws)
        assert result.remote_dir is not None and result.remote_dir.startswith("/user/alice/")
        session = await client.create_session(kind="pyspark", py_files=result.py_files)
        try:
            await client.wait_session_ready(session.id)
            assert await _value(client, session.id, "import demopkg; demopkg.f()") == "1"
            set_value(root, 2)
            res = await Reloader(client, session.id, project, workspace=ws, inline_limit=0).reload_package(
                "demopkg")
            assert res.via == "webhdfs"
            assert await _value(client, session.id, "demopkg.helpers.doubled()") == "4"
        finally:
            await client.delete_session(session.id)


async def test_progress_callbacks_for_uploads_and_downloads(hdfs: WebHDFSClient, tmp_path: Path) -> None:
    data = os.urandom(3 * 512 * 1024 + 17)
    sent: list[tuple[int, int | None]] = []
    path = f"/user/{USER}/progress-{secrets.token_hex(3)}.bin"
    await hdfs.upload(path, data, progress=lambda done, total: sent.append((done, total)))
    assert [d for d, _ in sent] == [512 * 1024, 1024 * 1024, 1536 * 1024, len(data)]
    assert {t for _, t in sent} == {len(data)}
    got: list[tuple[int, int | None]] = []
    dest = await hdfs.download(path, tmp_path / "back.bin", progress=lambda d, t: got.append((d, t)))
    assert isinstance(dest, Path) and dest.read_bytes() == data
    assert got[-1] == (len(data), len(data)) and all(a[0] < b[0] for a, b in itertools.pairwise(got))
    in_memory: list[int] = []
    assert await hdfs.download(path, progress=lambda d, t: in_memory.append(d)) == data
    assert in_memory[-1] == len(data)
    await hdfs.delete(path)


async def test_dependency_report_and_refresh(client: LivyClient, hdfs: WebHDFSClient, sandbox: Any,
                                             tmp_path: Path) -> None:
    from livyd import load_config
    from livyd._deps import dependency_report, refresh_session

    root = make_project(tmp_path / "proj", value=1)
    ws = _workspace(hdfs, tmp_path)
    extra = f"/user/{USER}/extra_{secrets.token_hex(3)}.py"
    await hdfs.upload(extra, b"E = 1\n")
    resolved = load_config(url=sandbox.livy_url, cwd=root, user_config=False,
                           env={"LIVY_PY_FILES": f"hdfs:///nope/x.zip,hdfs://{extra}"})
    project = discover_project(resolved.profile.deploy, cwd=root)
    deployed = await deploy_project(project, workspace=ws)
    session = await client.create_session(kind="pyspark", py_files=deployed.py_files)
    try:
        await client.wait_session_ready(session.id)
        rows = {Path(d.uri).name: d.status
                for d in await dependency_report(resolved, project, await client.get_session(session.id), ws)}
        assert rows == {"x.zip": "missing", Path(extra).name: "pending", "job.py": "active",
                        "demopkg.zip": "active"}
        set_value(root, 2)
        rows = {Path(d.uri).name: d.status
                for d in await dependency_report(resolved, project, await client.get_session(session.id), ws)}
        assert rows["demopkg.zip"] == "changed"
        resolved = load_config(url=sandbox.livy_url, cwd=root, user_config=False,
                               env={"LIVY_PY_FILES": f"hdfs://{extra}"})
        new = await refresh_session(resolved, project, client, await client.get_session(session.id), ws)
        session = new
        assert await _value(client, new.id, "import demopkg, " + Path(extra).stem + " as e; demopkg.f(), e.E"
                            ) == "(2, 1)"
    finally:
        await client.delete_session(session.id)
