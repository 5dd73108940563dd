"""Protocol 1.2 through a real daemon: a past statement in full (``livy/statement``), the editors'
settings ``auth`` and ``caBundle``, and ``livyd --version --json``. (``errorLine`` and
``errorRange`` on ``livy/output`` are checked with the diagnostics in test_daemon_e2e.py.)"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import httpx
import pytest
from daemon_helpers import output_of

from livyd.daemon.harness import DaemonClient, DaemonRequestError

pytestmark = pytest.mark.anyio


async def error_of(client: DaemonClient, method: str, params: Any) -> DaemonRequestError:
    with pytest.raises(DaemonRequestError) as info:
        await client.request(method, params)
    return info.value


async def test_a_past_statement_in_full(spawn_daemon: Any, livy_url: str) -> None:
    """History views: the whole code (not the 80-character preview) and the output, by taskId or
    by Livy's ids; a statement this daemon did not run is read from Livy."""
    code = "# " + "a long comment line " * 10 + "\nvalue = 6 * 7\nvalue"
    async with spawn_daemon() as client:
        started = await client.request("livy/execute", {"code": code})
        out = await output_of(client, started["taskId"])
        assert out["data"]["text/plain"] == "42"
        listed = (await client.request("livy/listStatements", {}))["tasks"][0]
        assert len(listed["codePreview"]) == 80

        by_task = await client.request("livy/statement", {"taskId": started["taskId"]})
        assert by_task["code"] == code and by_task["state"] == "available"
        assert by_task["output"]["status"] == "ok" and by_task["output"]["data"] == out["data"]
        assert by_task["statementId"] == out["statementId"] and by_task["taskId"] == started["taskId"]
        sid = started["sessionId"]
        by_ids = await client.request("livy/statement", {"sessionId": sid, "statementId": out["statementId"]})
        assert by_ids["taskId"] == started["taskId"] and by_ids["code"] == code

        # Someone else's statement on the same session: read from Livy, with Livy's times.
        async with httpx.AsyncClient(base_url=livy_url) as http:
            posted = (await http.post(f"/sessions/{sid}/statements", json={"code": "1 / 0"})).json()
            for _ in range(200):
                st = (await http.get(f"/sessions/{sid}/statements/{posted['id']}")).json()
                if st["state"] == "available":
                    break
        theirs = await client.request("livy/statement", {"sessionId": sid, "statementId": posted["id"]})
        assert theirs["taskId"] is None and theirs["code"] == "1 / 0"
        assert theirs["output"]["status"] == "error" and theirs["output"]["ename"] == "ZeroDivisionError"
        assert theirs["completed"] >= theirs["started"] > 0

        # A big output that fits (encoded once in a worker thread, those bytes logged and sent):
        # whole, and read back whole from the output log.
        big = await client.request("livy/execute", {"code": "'é' * 300000", "sessionId": sid})
        out = await output_of(client, big["taskId"])
        assert out["truncated"] is False and out["data"]["text/plain"] == "'" + "é" * 300000 + "'"
        again = await client.request("livy/statement", {"taskId": big["taskId"]})
        assert again["output"]["data"] == out["data"]

        err = await error_of(client, "livy/statement", {"taskId": "t-nope"})
        assert err.data["code"] == "unknown-task"
        for bad in ({}, {"sessionId": sid}, {"taskId": started["taskId"], "sessionId": sid}):
            err = await error_of(client, "livy/statement", bad)
            assert err.code == -32602, bad
        err = await error_of(client, "livy/statement", {"sessionId": sid, "statementId": 999})
        assert err.data["code"] == "statement-not-found"


async def test_auth_and_ca_bundle_settings_override_the_profile(
    spawn_daemon: Any, sandbox_factory: Any
) -> None:
    token = "T-settings-1.2-secret"
    secured = sandbox_factory("--token", token)
    async with spawn_daemon(url=secured.livy_url, auth="bearer") as client:
        # bearer without a token anywhere: a configuration error that says so (no request sent).
        err = await error_of(client, "livy/listSessions", {})
        assert err.data["code"] == "config" and "token" in err.message.lower()
        await client.request("livy/setCredentials", {"token": token})
        assert (await client.request("livy/listSessions", {}))["sessions"] is not None
        profiles = (await client.request("livy/listProfiles", {}))["profiles"]
        assert all(p["auth"] == "bearer" for p in profiles)
    async with spawn_daemon(url=secured.livy_url, caBundle="no-such-ca.pem") as client:
        err = await error_of(client, "livy/listSessions", {})
        assert err.data["code"] == "config"
        assert "caBundle" in err.message and "no-such-ca.pem" in err.message
    assert token not in client.stderr


def test_version_json_reports_the_protocol_version() -> None:
    from livyd._version import PROTOCOL_VERSION, __version__

    proc = subprocess.run([sys.executable, "-m", "livyd", "--version", "--json"], capture_output=True,
                          text=True, timeout=60, check=True)
    assert json.loads(proc.stdout) == {"version": __version__, "protocolVersion": PROTOCOL_VERSION}
