"""``livyd.repl`` inside a running event loop (as in Jupyter), against the sandbox."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from devloop_helpers import ensure_home, make_project, set_value

from livyd import LivyClient
from livyd.repl import LivyRepl


def test_repl_facade_inside_a_running_loop(sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    root = make_project(tmp_path / "proj", value=2)
    ensure_home(sandbox.webhdfs_url, "repluser")
    for key in ("LIVY_URL", "LIVYD_PROFILE", "LIVY_REMOTE_DIR"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("LIVY_WEBHDFS_URL", sandbox.webhdfs_url)
    monkeypatch.setenv("AD_USER", "repluser")
    monkeypatch.setenv("LIVYD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("LIVYD_CONFIG_DIR", str(tmp_path / "cfg"))
    repl = LivyRepl(url=sandbox.livy_url, cwd=root, quiet=True)

    async def someone_elses_session() -> int:
        async with LivyClient(sandbox.livy_url) as client:
            return (await client.create_session(kind="pyspark")).id

    async def notebook() -> None:  # an event loop is running here, as in a Jupyter cell
        other = await someone_elses_session()
        sid = repl.create_session()  # auto-deploys the project into pyFiles
        assert repl.execute("import demopkg; demopkg.f()", show=False) == "2"
        set_value(root, 3)
        assert "demopkg.core" in repl.reload_modules()[0].reloaded
        assert repl.execute("demopkg.f()", show=False) == "3"
        assert repl.set_params("--day '2024-01-01'") == ["--day", "2024-01-01"]
        assert repl.execute("import sys; sys.argv[1:]", show=False) == "['--day', '2024-01-01']"
        repl.execute("rows = [{'n': i, 's': str(i)} for i in range(2500)]", show=False)
        frame = repl.fetch("rows", limit=2100, page=1000)  # three statements, past the 1000 cap
        assert list(frame.columns) == ["n", "s"] and len(frame) == 2100 and frame["n"].iloc[-1] == 2099
        assert repl.kill_all() == [sid]  # only what this console created
        async with LivyClient(sandbox.livy_url) as client:
            assert (await client.get_session(other)).id == other
            await client.delete_session(other)

    try:
        asyncio.run(notebook())
    finally:
        repl.close()
