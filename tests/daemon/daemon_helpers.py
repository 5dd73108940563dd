"""Helpers shared by the daemon tests: ``from daemon_helpers import output_of, ...``."""

from __future__ import annotations

from typing import Any

from livyd.daemon.harness import DaemonClient

__all__ = ["idle_session", "output_of", "output_seq", "task_states"]


def task_states(client: DaemonClient, task_id: str) -> list[str]:
    """The states a task went through, in the order livy/taskChanged reported them."""
    return [p["state"] for p in client.notifications("livy/taskChanged") if p["taskId"] == task_id]


async def output_of(client: DaemonClient, task_id: str, timeout: float = 60) -> dict[str, Any]:  # noqa: ASYNC109
    """Wait for the task's livy/output and return its params."""
    out: dict[str, Any] = await client.wait_for_notification(
        "livy/output", lambda p: p["taskId"] == task_id, timeout=timeout
    )
    return out


def output_seq(client: DaemonClient, task_id: str) -> int:
    """The arrival order of the task's livy/output (to compare with other messages)."""
    return next(
        m.seq for m in client.messages if m.method == "livy/output" and m.params["taskId"] == task_id
    )


async def idle_session(client: DaemonClient) -> int:
    """Create a pyspark session through the daemon and wait until it is idle; its id."""
    created = await client.request("livy/createSession", {"kind": "pyspark"})
    sid = int(created["session"]["id"])
    assert created["session"]["state"] in ("starting", "idle", "not_started")
    await client.wait_for_notification(
        "livy/sessionChanged",
        lambda p: p["session"]["id"] == sid and p["session"]["state"] == "idle",
        timeout=60,
    )
    return sid
