"""End-to-end: one daemon, several Livy servers (profiles) at once, and a Livy URL that changes.

Each test starts two fresh sandbox processes (A and B, so both hand out session 0 first) and
writes a ``livyd.toml`` with profile ``a`` (the default, with session defaults) pointing at A and
profile ``b`` at B. The real daemon (``python -m livyd --stdio``) is driven over its protocol;
where a session or statement really is is checked with raw HTTP GETs on each sandbox.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from daemon_helpers import output_of
from support import start_sandbox

from livyd.daemon.harness import DaemonClient, DaemonRequestError

pytestmark = pytest.mark.anyio

#: Settings for every daemon of this module: no url setting, so the profiles' URLs apply.
NO_URL: dict[str, Any] = {"url": None}
#: Variables that would choose a profile or a URL behind the tests' back.
CLEAN_ENV = {"LIVY_URL": "", "LIVYD_PROFILE": "", "TEAM_ENV": ""}


@dataclass
class Livys:
    a: str
    b: str


@contextmanager
def two_livys(workspace: Path, *sandbox_args: str) -> Iterator[Livys]:
    """Two fresh sandboxes and a workspace livyd.toml with profiles a (default) and b."""
    started = [start_sandbox(*sandbox_args) for _ in range(2)]
    a, b = (str(sb.livy_url) for sb in started)
    (workspace / "livyd.toml").write_text(
        f"""
default_profile = "a"

[profiles.a]
url = "{a}"

[profiles.a.session]
driver_memory = "3g"
name_prefix = "alpha"

[profiles.a.session.conf]
"spark.livyd.team" = "a"
"spark.livyd.keep" = "from-profile"

[profiles.b]
url = "{b}"
"""
    )
    try:
        yield Livys(a, b)
    finally:
        for sb in started:
            sb.stop()
            shutil.rmtree(sb.data_dir, ignore_errors=True)


@pytest.fixture
def livys(tmp_path: Path) -> Iterator[Livys]:
    with two_livys(tmp_path, "--cancel-timeout", "3", "--batch-launcher", "python") as pair:
        yield pair


async def get_json(url: str) -> Any:
    async with httpx.AsyncClient() as http:
        resp = await http.get(url)
        resp.raise_for_status()
        return resp.json()


async def server_sessions(livy: str) -> dict[int, dict[str, Any]]:
    return {int(s["id"]): s for s in (await get_json(f"{livy}/sessions"))["sessions"]}


async def server_codes(livy: str, sid: int) -> list[str]:
    """The code of every statement of session *sid* on *livy*."""
    return [s["code"] for s in (await get_json(f"{livy}/sessions/{sid}/statements"))["statements"]]


async def wait_submitted(client: DaemonClient, task_id: str) -> None:
    await client.wait_until(
        lambda: any(
            p["statementId"] is not None
            for p in client.notifications("livy/taskChanged")
            if p["taskId"] == task_id
        ),
        timeout=60,
        what=f"task {task_id} submitted",
    )


def session_profiles(client: DaemonClient) -> list[str | None]:
    return [p["session"]["profile"] for p in client.notifications("livy/sessionChanged")]


async def test_create_session_on_a_profile_with_its_defaults(spawn_daemon: Any, livys: Livys) -> None:
    """createSession {profile} lands on that profile's Livy with its session defaults; request
    fields override them (conf key by key); an unknown profile is an error naming it."""
    async with spawn_daemon(env_extra=CLEAN_ENV, **NO_URL) as client:
        plain = (await client.request("livy/createSession", {"profile": "a"}))["session"]
        custom = (
            await client.request(
                "livy/createSession",
                {"profile": "a", "driverMemory": "2g", "conf": {"spark.livyd.keep": "from-request"}},
            )
        )["session"]
        on_b = (await client.request("livy/createSession", {"profile": "b"}))["session"]
        assert (plain["profile"], custom["profile"], on_b["profile"]) == ("a", "a", "b")

        on_a_server = await server_sessions(livys.a)
        first = on_a_server[plain["id"]]
        assert first["driverMemory"] == "3g"
        assert first["conf"] == {"spark.livyd.team": "a", "spark.livyd.keep": "from-profile"}
        assert first["name"].startswith("alpha-")  # the profile's name_prefix
        second = on_a_server[custom["id"]]
        assert second["driverMemory"] == "2g"
        assert second["conf"] == {"spark.livyd.team": "a", "spark.livyd.keep": "from-request"}

        on_b_server = await server_sessions(livys.b)
        assert list(on_b_server) == [on_b["id"]]
        assert on_b_server[on_b["id"]]["driverMemory"] is None  # b has no session defaults
        assert not on_b_server[on_b["id"]]["name"].startswith("alpha-")

        profiles = await client.request("livy/listProfiles", {})
        assert profiles["active"] == "a"
        assert {p["name"]: p["url"] for p in profiles["profiles"]} == {"a": livys.a, "b": livys.b}

        with pytest.raises(DaemonRequestError) as info:
            await client.request("livy/createSession", {"profile": "nope"})
        assert info.value.data["code"] == "unknown-profile"
        assert "'nope'" in info.value.message and "a, b" in info.value.message
        with pytest.raises(DaemonRequestError) as info:
            await client.request("livy/selectProfile", {"profile": "nope"})
        assert info.value.data["code"] == "unknown-profile" and "'nope'" in info.value.message
        assert None not in session_profiles(client)


async def test_select_profile_moves_new_work_while_old_tasks_finish(spawn_daemon: Any, livys: Livys) -> None:
    """execute without sessionId creates on the active profile (with its defaults); after
    selectProfile b the next one runs on B, and a statement started on A still delivers."""
    async with spawn_daemon(env_extra=CLEAN_ENV, **NO_URL) as client:
        slow = await client.request(
            "livy/execute", {"code": "import time\ntime.sleep(1)\nprint('done on a')"}
        )
        assert slow["profile"] == "a"
        sid_a = slow["sessionId"]
        on_a = (await server_sessions(livys.a))[sid_a]
        assert on_a["driverMemory"] == "3g" and on_a["conf"]["spark.livyd.team"] == "a"
        await wait_submitted(client, slow["taskId"])

        selected = await client.request("livy/selectProfile", {"profile": "b"})
        assert selected["active"] == "b"
        quick = await client.request("livy/execute", {"code": "'ran on b'"})
        assert quick["profile"] == "b"
        out_b = await output_of(client, quick["taskId"])
        assert out_b["data"]["text/plain"] == "'ran on b'" and out_b["profile"] == "b"
        assert "'ran on b'" in await server_codes(livys.b, quick["sessionId"])
        assert "'ran on b'" not in await server_codes(livys.a, sid_a)

        out_a = await output_of(client, slow["taskId"])
        assert out_a["status"] == "ok" and "done on a" in out_a["data"]["text/plain"]
        assert out_a["profile"] == "a"

        status = await client.request("livy/status", {})
        assert status["activeProfile"] == "b"
        by_profile = {(s["profile"], s["id"]): s for s in status["sessions"]}
        assert by_profile[("b", quick["sessionId"])]["attached"] is True
        assert by_profile[("a", sid_a)]["attached"] is False
        assert status["livyUrl"] == livys.b

        # Back to a: its last session is the default again.
        await client.request("livy/selectProfile", {"profile": "a"})
        again = await client.request("livy/execute", {"code": "1"})
        assert (again["profile"], again["sessionId"]) == ("a", sid_a)
        await output_of(client, again["taskId"])
        assert None not in session_profiles(client)


async def test_the_same_session_id_on_two_servers(spawn_daemon: Any, livys: Livys) -> None:
    """Both servers have session 0: a request's profile says which one; without it, the active
    profile's."""
    async with spawn_daemon(env_extra=CLEAN_ENV, **NO_URL) as client:
        s_a = (await client.request("livy/createSession", {"profile": "a"}))["session"]
        s_b = (await client.request("livy/createSession", {"profile": "b"}))["session"]
        assert s_a["id"] == s_b["id"] == 0

        on_b = await client.request("livy/execute", {"code": "'b only'", "sessionId": 0, "profile": "b"})
        assert on_b["profile"] == "b"
        assert (await output_of(client, on_b["taskId"]))["data"]["text/plain"] == "'b only'"
        on_a = await client.request("livy/execute", {"code": "'a by default'", "sessionId": 0})
        assert on_a["profile"] == "a"  # two known sessions 0: the active profile's
        await output_of(client, on_a["taskId"])
        assert await server_codes(livys.b, 0) == ["'b only'"]
        assert await server_codes(livys.a, 0) == ["'a by default'"]

        info = await client.request("livy/sessionInfo", {"sessionId": 0, "profile": "b"})
        assert info["session"]["profile"] == "b" and [t["taskId"] for t in info["tasks"]] == [on_b["taskId"]]
        listed = await client.request("livy/listStatements", {"sessionId": 0, "profile": "a"})
        assert [t["taskId"] for t in listed["tasks"]] == [on_a["taskId"]]

        killed = await client.request("livy/killSession", {"sessionId": 0, "profile": "b"})
        assert killed["killed"] is True
        assert 0 not in await server_sessions(livys.b)
        assert 0 in await server_sessions(livys.a)
        # Now the only live session 0 the daemon knows is A's: no profile needed.
        alone = await client.request("livy/execute", {"code": "'still a'", "sessionId": 0})
        assert alone["profile"] == "a"
        await output_of(client, alone["taskId"])


async def test_a_changed_url_applies_to_new_connections(
    spawn_daemon: Any, livys: Livys, tmp_path: Path
) -> None:
    """didChangeConfiguration url: the next createSession goes to the new server while a statement
    on the old one is delivered; a stateDir change is refused once, with a warning naming it."""
    async with spawn_daemon(env_extra=CLEAN_ENV, **NO_URL) as client:
        slow = await client.request("livy/execute", {"code": "import time\ntime.sleep(1)\n'old url'"})
        sid_a = slow["sessionId"]
        assert sid_a in await server_sessions(livys.a)
        await wait_submitted(client, slow["taskId"])

        await client.notify("workspace/didChangeConfiguration", {"settings": {"livyd": {"url": livys.b}}})
        created = (await client.request("livy/createSession", {}))["session"]
        assert created["id"] in await server_sessions(livys.b)
        assert (await client.request("livy/status", {}))["livyUrl"] == livys.b
        out = await output_of(client, slow["taskId"])
        assert out["status"] == "ok" and out["data"]["text/plain"] == "'old url'"

        for name in ("elsewhere", "elsewhere-again"):
            await client.notify(
                "workspace/didChangeConfiguration", {"settings": {"stateDir": str(tmp_path / name)}}
            )
        await client.request("livy/status", {})  # both notifications were handled before this answer
        warnings = [p for p in client.notifications("window/showMessage") if "stateDir" in p["message"]]
        assert len(warnings) == 1 and warnings[0]["type"] == 2, warnings


async def test_daemon_restart_restores_sessions_of_two_profiles(
    spawn_daemon: Any, livys: Livys, tmp_path: Path
) -> None:
    """Statements running on two profiles' session 0 when the daemon dies are delivered by the
    next daemon, each from its own server."""
    async with spawn_daemon(env_extra=CLEAN_ENV, deleteSessionsOnExit=False, **NO_URL) as first:
        tasks = {}
        for profile in ("a", "b"):
            await first.request("livy/createSession", {"profile": profile})
            tasks[profile] = await first.request(
                "livy/execute",
                {
                    "code": f"import time\ntime.sleep(1)\nprint('survived on {profile}')",
                    "sessionId": 0,
                    "profile": profile,
                },
            )
        for started in tasks.values():
            await wait_submitted(first, started["taskId"])
        assert first.process.stdin is not None
        await first.process.stdin.aclose()  # stdin EOF: the daemon exits, keeping the sessions
        assert await first.wait_exit(15) == 0
    async with spawn_daemon(env_extra=CLEAN_ENV, **NO_URL) as second:
        for profile, started in tasks.items():
            out = await output_of(second, started["taskId"])
            assert out["status"] == "ok" and out["profile"] == profile
            assert out["data"]["text/plain"].strip() == f"survived on {profile}"
        status = await second.request("livy/status", {})
        assert sorted((s["profile"], s["id"], s["owned"]) for s in status["sessions"]) == [
            ("a", 0, True),
            ("b", 0, True),
        ]
        again = await second.request("livy/execute", {"code": "'b again'", "sessionId": 0, "profile": "b"})
        await output_of(second, again["taskId"])
        assert "'b again'" in await server_codes(livys.b, 0)


async def test_batches_on_a_profile(spawn_daemon: Any, livys: Livys, tmp_path: Path) -> None:
    """submitBatch {profile} runs on that profile's Livy; batch requests take the profile too."""
    job = tmp_path / "job.py"
    job.write_text("print('batch on b')\n")
    async with spawn_daemon(env_extra=CLEAN_ENV, **NO_URL) as client:
        res = await client.request("livy/submitBatch", {"file": job.as_uri(), "profile": "b"})
        bid = res["batch"]["id"]
        assert res["batch"]["profile"] == "b"
        done = await client.wait_for_notification(
            "livy/batchChanged",
            lambda p: p["batch"]["id"] == bid and p["batch"]["state"] == "success",
            timeout=60,
        )
        assert done["batch"]["profile"] == "b"
        assert bid in [b["id"] for b in (await get_json(f"{livys.b}/batches"))["sessions"]]
        assert (await get_json(f"{livys.a}/batches"))["sessions"] == []
        info = await client.request("livy/batchInfo", {"batchId": bid, "profile": "b"})
        assert info["batch"]["state"] == "success"
        listed = await client.request("livy/listBatches", {"profile": "b"})
        assert [b["id"] for b in listed["batches"]] == [bid]
        assert (await client.request("livy/listBatches", {}))["batches"] == []  # the active profile: a


async def test_credentials_of_one_profile_never_go_to_another(spawn_daemon: Any, tmp_path: Path) -> None:
    """Both servers want the same token: credentials given for the active profile (a) are not sent
    to b's server, not even after b was selected; b's own credentials are."""
    token = "T-livyd-profiles-4711"
    with two_livys(tmp_path, "--token", token):
        async with spawn_daemon(env_extra=CLEAN_ENV, **NO_URL) as client:
            assert (await client.request("livy/setCredentials", {"token": token}))["ok"] is True
            on_a = (await client.request("livy/createSession", {"profile": "a"}))["session"]
            assert on_a["profile"] == "a"
            with pytest.raises(DaemonRequestError) as info:
                await client.request("livy/createSession", {"profile": "b"})
            assert info.value.data["code"] == "auth", info.value.data
            await client.request("livy/selectProfile", {"profile": "b"})
            with pytest.raises(DaemonRequestError) as info:
                await client.request("livy/createSession", {})
            assert info.value.data["code"] == "auth", info.value.data
            await client.request("livy/setCredentials", {"profile": "b", "token": token})
            on_b = (await client.request("livy/createSession", {}))["session"]
            assert on_b["profile"] == "b"
            profiles = await client.request("livy/listProfiles", {})
            assert all(p["hasCredentials"] for p in profiles["profiles"])
            sent_by_daemon = json.dumps([m.raw for m in client.messages])
        assert token not in sent_by_daemon and token not in client.stderr
