"""Protocol errors of a real ``livyd --stdio`` name the culprit the way the client sent it.

Each test drives a spawned daemon over its stdin/stdout: requests without ``params``, bad
``livy/createSession`` fields, bad command arguments, unknown profiles (in a request and in
``initializationOptions``) and bad settings in ``workspace/didChangeConfiguration``. The last
test checks the harness's own protocol-version check against a stand-in daemon.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic.alias_generators import to_snake

from livyd.daemon.harness import DaemonClient, DaemonRequestError

pytestmark = pytest.mark.anyio


async def error_of(client: DaemonClient, method: str, params: Any) -> DaemonRequestError:
    with pytest.raises(DaemonRequestError) as info:
        await client.request(method, params)
    return info.value


def write_profiles(workspace: Path, url: str) -> None:
    """A livyd.toml with profiles a (the default) and b, both on *url*."""
    (workspace / "livyd.toml").write_text(
        f'default_profile = "a"\n\n[profiles.a]\nurl = "{url}"\n\n[profiles.b]\nurl = "{url}"\n'
    )


# --------------------------------------------------------------------------- 1. params omitted


async def test_a_request_may_omit_params(spawn_daemon: Any) -> None:
    """JSON-RPC lets a request omit params (vscode-jsonrpc's sendRequest(method) does): read like {}."""
    async with spawn_daemon() as client:
        # The harness omits "params" when given None.
        for method in ["livy/status", "livy/listProfiles", "livy/listSessions", "livy/listBatches",
                       "livy/killAllSessions", "livy/listStatements"]:
            await client.request(method)
        assert "params" not in client.messages[-1].raw  # the harness really sent none
        err = await error_of(client, "livy/sessionInfo", None)
        assert err.data["code"] == "no-session"  # the handler ran: not refused as invalid params
        err = await error_of(client, "livy/execute", None)  # a required field is still named
        assert err.code == -32602 and err.data["field"] == "code"


# --------------------------------------------------------------------------- 2. createSession fields


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        ({"driverMemory": 5}, "driverMemory", "expected a string"),
        ({"heartbeatTimeoutInSecond": "x"}, "heartbeatTimeoutInSecond", "expected an integer"),
        ({"foo": 1}, "foo", "foo is not a Livy session field"),
        ({"conf": {"spark.master": "yarn"}}, "conf.spark.master", "Livy refuses"),
    ],
)
async def test_bad_session_fields_are_invalid_params_named_as_sent(
    spawn_daemon: Any, fields: dict[str, Any], field: str, says: str
) -> None:
    async with spawn_daemon() as client:
        err = await error_of(client, "livy/createSession", fields)
        assert err.code == -32602, err
        assert err.data["code"] == "invalid-params" and err.data["field"] == field
        assert says in err.message and field in err.message
        snake = to_snake(field.split(".")[0])
        assert snake == field.split(".")[0] or snake not in err.message  # the client's name only
        assert (await client.request("livy/status", {}))["sessions"] == []  # nothing was created


# --------------------------------------------------------------------------- 3. command arguments


async def test_bad_command_arguments_are_invalid_params(spawn_daemon: Any, tmp_path: Path) -> None:
    async with spawn_daemon() as client:
        missing = tmp_path / "nonexistent.py"
        err = await error_of(client, "workspace/executeCommand",
                             {"command": "livyd.runFile", "arguments": [{"uri": missing.as_uri()}]})
        assert err.code == -32602 and err.data["field"] == "arguments.0.uri"
        assert str(missing) in err.message and "internal" not in err.message

        script = tmp_path / "cells.py"
        script.write_text("# %%\nx = 1\n")
        for line in ["a", -1, True]:
            err = await error_of(client, "workspace/executeCommand",
                                 {"command": "livyd.runCell",
                                  "arguments": [{"uri": script.as_uri(), "line": line}]})
            assert err.code == -32602 and err.data["field"] == "arguments.0.line", (line, err)
        assert (await client.request("livy/status", {}))["tasks"] == []


# --------------------------------------------------------------------------- 4. unknown profiles


async def test_set_credentials_for_an_unknown_profile_is_refused(
    spawn_daemon: Any, tmp_path: Path, livy_url: str
) -> None:
    write_profiles(tmp_path, livy_url)
    async with spawn_daemon() as client:
        err = await error_of(client, "livy/setCredentials", {"profile": "typo", "token": "t0k"})
        assert err.code == -32052 and err.data["code"] == "unknown-profile"
        assert "'typo'" in err.message and "known profiles: a, b" in err.message
        profiles = (await client.request("livy/listProfiles", {}))["profiles"]
        assert [p["hasCredentials"] for p in profiles] == [False, False]
        assert await client.request("livy/setCredentials", {"profile": "b", "token": "t0k"}) == {"ok": True}


async def test_an_unknown_initial_profile_is_reported_and_the_default_used(
    spawn_daemon: Any, tmp_path: Path, livy_url: str
) -> None:
    write_profiles(tmp_path, livy_url)
    async with spawn_daemon(initialize=False) as client:
        result = await client.initialize(
            {"profile": "nope", "workspace": str(tmp_path),
             "settings": {"stateDir": str(tmp_path / "state"), "deleteSessionsOnExit": True}}
        )
        assert "livyd" in result["capabilities"]["experimental"]
        status = await client.request("livy/status", {})
        assert status["activeProfile"] == "a"
        shown = [p for p in client.notifications("window/showMessage") if "nope" in p["message"]]
        assert len(shown) == 1 and shown[0]["type"] == 1
        assert "known profiles: a, b" in shown[0]["message"]


# --------------------------------------------------------------------------- 5. settings


async def test_bad_settings_get_one_short_line_each_and_never_echo_values(
    spawn_daemon: Any, tmp_path: Path, livy_url: str
) -> None:
    write_profiles(tmp_path, livy_url)
    async with spawn_daemon() as client:
        async def change(settings: dict[str, Any]) -> str:
            before = len(client.notifications("window/showMessage"))
            await client.notify("workspace/didChangeConfiguration", {"settings": settings})
            await client.request("livy/status", {})  # handled in order: the message came first
            shown = client.notifications("window/showMessage")[before:]
            assert len(shown) == 1 and shown[0]["type"] == 1, shown
            return str(shown[0]["message"])

        text = await change({"pollInterval": -1, "url": 7, "heartbeatTimeout": "HB-S3CRET", "nope": 1})
        lines = text.splitlines()[1:]
        assert sorted(lines) == sorted([
            "pollInterval: expected a number greater than 0",
            "url: expected a string",
            "heartbeatTimeout: expected an integer",
            "nope: not a livyd setting",
        ])
        text = await change({"livyd": {"url": "ftp://bob:FTP-S3CRET@host/"}})
        assert text.splitlines()[1:] == ["url: expected an http:// or https:// URL"]
        wire = json.dumps([m.raw for m in client.messages])
        assert "S3CRET" not in wire and "pydantic" not in wire and "input_value" not in wire
        # The previous settings stay: both profiles still go to the test's Livy.
        profiles = (await client.request("livy/listProfiles", {}))["profiles"]
        assert {p["url"] for p in profiles} == {livy_url}

        # A URL that only the configuration refuses: the error names the setting, not a CLI flag.
        await client.notify("workspace/didChangeConfiguration", {"settings": {"url": "http:// x"}})
        err = await error_of(client, "livy/execute", {"code": "1"})
        assert err.data["code"] == "config" and "url setting" in err.message
        assert "--url" not in err.message


# --------------------------------------------------------------------------- 6. harness versions

_STAND_IN = r"""
import json, sys
inp, out = sys.stdin.buffer, sys.stdout.buffer
while True:
    line = inp.readline()
    if not line:
        break
    if not line.lower().startswith(b"content-length:"):
        continue
    n = int(line.split(b":")[1])
    inp.readline()
    msg = json.loads(inp.read(n))
    if msg.get("method") == "exit":
        break
    if "id" not in msg:
        continue
    result = None
    if msg["method"] == "initialize":
        result = {"capabilities": {"experimental": {"livyd": {"protocolVersion": sys.argv[1]}}}}
    body = json.dumps({"jsonrpc": "2.0", "id": msg["id"], "result": result}).encode()
    out.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    out.flush()
"""


@pytest.mark.parametrize(
    ("ours", "theirs", "upgrade"), [("9.1", "10.0", "this client"), ("10.0", "9.1", "livyd")]
)
async def test_the_harness_compares_major_versions_as_numbers(
    monkeypatch: pytest.MonkeyPatch, ours: str, theirs: str, upgrade: str
) -> None:
    import livyd.protocol

    monkeypatch.setattr(livyd.protocol, "PROTOCOL_VERSION", ours)
    async with DaemonClient.spawn([sys.executable, "-c", _STAND_IN, theirs]) as client:
        with pytest.raises(RuntimeError, match=f"upgrade {upgrade}$"):
            await client.initialize()
