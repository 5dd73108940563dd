"""The development-loop requests of the daemon (protocol 1.3) against the sandbox, end to end:
livy/deploy, a session with the files in pyFiles, livy/reloadModule after a local change,
livy/hdfsList / hdfsUpload / hdfsDelete (refused outside the base dir), livy/buildStandalone."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest
from devloop_helpers import ensure_home, make_project, set_value

from livyd.daemon.harness import DaemonClient, DaemonRequestError

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]
USER = "daemonuser"


async def _output(client: DaemonClient, task_id: str) -> dict[str, Any]:
    out: dict[str, Any] = await client.wait_for_notification(
        "livy/output", lambda p: p["taskId"] == task_id, timeout=60)
    return out


async def test_deploy_reload_hdfs_and_standalone_through_the_daemon(sandbox: Any, tmp_path: Path) -> None:
    ensure_home(sandbox.webhdfs_url, USER)
    work = make_project(tmp_path / "proj", value=1)
    env = {
        "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg-config"), "XDG_STATE_HOME": str(tmp_path / "xdg-state"),
        "LIVY_WEBHDFS_URL": sandbox.webhdfs_url, "AD_USER": USER,
        "LIVY_REMOTE_DIR": f"/user/{USER}/{tmp_path.name}", "LIVYD_CACHE_DIR": str(tmp_path / "cache"),
    }
    opts = {"workspace": str(work), "settings": {"url": sandbox.livy_url, "stateDir": str(tmp_path / "state"),
                                                 "pollInterval": 0.1, "deleteSessionsOnExit": True}}
    cmd = [sys.executable, "-m", "livyd", "--stdio", "--standalone"]
    async with DaemonClient.spawn(cmd, env=env, cwd=str(work)) as client:
        init = await client.initialize(opts)
        requests = init["capabilities"]["experimental"]["livyd"]["requests"]
        assert {"livy/deploy", "livy/reloadModule", "livy/hdfsList", "livy/buildStandalone"} <= set(requests)

        dry = await client.request("livy/deploy", {"dryRun": True})
        assert dry["via"] == "dry-run" and {e["path"] for e in dry["excluded"]} >= {"modules/demopkg/.env"}
        deployed = await client.request("livy/deploy", {})
        assert deployed["via"] == "webhdfs" and all(f["uploaded"] for f in deployed["files"])
        again = await client.request("livy/deploy", {})
        assert not any(f["uploaded"] for f in again["files"])  # nothing sent the second time

        # the project (a git repository) is deployed into pyFiles when the session is created
        created = await client.request("livy/createSession", {"kind": "pyspark"})
        sid = int(created["session"]["id"])
        task = await client.request("livy/execute", {"code": "import demopkg; demopkg.f()", "sessionId": sid})
        assert (await _output(client, task["taskId"]))["data"]["text/plain"] == "1"

        set_value(work, 3)
        reloaded = await client.request("livy/reloadModule", {"module": "demopkg", "sessionId": sid})
        assert "demopkg.core" in reloaded["results"][0]["reloaded"]
        task = await client.request("livy/execute", {"code": "demopkg.helpers.doubled()", "sessionId": sid})
        assert (await _output(client, task["taskId"]))["data"]["text/plain"] == "6"

        listed = await client.request("livy/hdfsList", {"path": "proj"})
        assert sorted(Path(e["path"]).name for e in listed["entries"]) == ["demopkg.zip", "job.py"]
        (work / "lookup.csv").write_text("a,b\n")
        put = await client.request("livy/hdfsUpload", {"local": "lookup.csv"})
        assert put["uploaded"] and put["uri"].startswith("hdfs:///user/")
        with pytest.raises(DaemonRequestError) as refused:
            await client.request("livy/hdfsDelete",
                                 {"path": f"/user/{USER}", "recursive": True, "force": True})
        assert "home directory" in refused.value.message
        gone = await client.request("livy/hdfsDelete", {"path": "lookup.csv"})
        assert gone["deleted"]

        built = await client.request("livy/buildStandalone", {"script": "scripts/job.py"})
        assert built["packages"] == ["demopkg"] and os.path.isfile(built["output"])  # noqa: ASYNC240
