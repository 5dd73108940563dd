"""After the Livy server restarts, the daemon keeps working (issue 11, defect 3).

Livy numbers sessions from 0 again after a restart. The daemon kept the dead worker of the old
session 0 under the same key, so when the next ``livy/execute`` created a new session that got id
0 again, no poller started and the task stayed ``queued`` forever while Livy said idle. Here a
real sandbox is killed and a new one started on the same port.
"""

from __future__ import annotations

import shutil
from typing import Any
from urllib.parse import urlsplit

import pytest
from daemon_helpers import output_of, task_states
from support import start_sandbox

pytestmark = pytest.mark.anyio


async def test_a_new_session_with_a_reused_id_gets_a_live_poller(spawn_daemon: Any) -> None:
    first = start_sandbox("--cancel-timeout", "3")
    port = str(urlsplit(first.livy_url).port)
    second = None
    try:
        async with spawn_daemon(url=first.livy_url) as client:
            started = await client.request("livy/execute", {"code": "1 + 1"})
            out = await output_of(client, started["taskId"])
            assert out["status"] == "ok" and out["data"]["text/plain"] == "2"
            old_sid = started["sessionId"]

            first.stop()
            second = start_sandbox("--cancel-timeout", "3", "--port", port)
            assert second.livy_url == first.livy_url

            # Whether the daemon saw the old session end (the sandbox shuts its sessions down on
            # the way out) or a task sent to it finds it gone first, the next execute creates a
            # session on the new server, which reuses the id, and its task is polled and finishes.
            fresh = await client.request("livy/execute", {"code": "3 + 3"})
            out = await output_of(client, fresh["taskId"])
            if out["status"] == "failed":  # it went to the old session
                assert "session" in (out["evalue"] or ""), out
                fresh = await client.request("livy/execute", {"code": "3 + 3"})
                out = await output_of(client, fresh["taskId"])
            assert fresh["sessionId"] == old_sid  # the reused id that made the daemon stall
            assert out["status"] == "ok" and out["data"]["text/plain"] == "6", out
            assert task_states(client, fresh["taskId"])[-1] == "available"
            again = await client.request("livy/execute", {"code": "4 + 4"})
            out = await output_of(client, again["taskId"])
            assert out["data"]["text/plain"] == "8"
            assert "poller crashed" not in client.stderr
    finally:
        for sb in (first, second):
            if sb is not None:
                sb.stop()
                shutil.rmtree(sb.data_dir, ignore_errors=True)
