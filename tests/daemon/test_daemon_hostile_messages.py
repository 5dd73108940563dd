"""Messages a JSON parser or pygls chokes on are answered, and the daemon stays up (issue 11, 2).

One 2 KB frame (``[`` x 995 then ``]`` x 995) used to raise RecursionError out of ``json.loads``
and end the daemon, and with it every editor sharing it. A JSON-RPC ``id`` that is an array, an
object, a boolean or a float was passed to pygls, which answered with its traceback (local
paths) in ``error.data`` or not at all.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from livyd.daemon._jsonrpc import MAX_DEPTH, Undecodable, decode, depth_exceeds, problem

pytestmark = pytest.mark.anyio


def frame(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def status(msg_id: Any) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": msg_id, "method": "livy/status", "params": {}}).encode()


def deep(n: int) -> bytes:
    return b"[" * n + b"]" * n


#: (frame body, expected error code, expected id of the answer)
HOSTILE: dict[str, tuple[bytes, int, Any]] = {
    "array nested 995 deep": (deep(995), -32700, None),
    "object nested 5000 deep": (b'{"a":' * 5000 + b"1" + b"}" * 5000, -32700, None),
    "params nested 900 deep": (
        b'{"jsonrpc":"2.0","id":71,"method":"livy/status","params":' + deep(900) + b"}", -32600, 71),
    "code nested 200 deep": (
        b'{"jsonrpc":"2.0","id":72,"method":"livy/execute","params":{"code":' + deep(200) + b"}}",
        -32600, 72),
    "id is an array": (status([1]), -32600, None),
    "id is an object": (status({"a": 1}), -32600, None),
    "id is true": (status(True), -32600, None),
    "id is false": (status(False), -32600, None),
    "id is a float": (status(1.5), -32600, None),
    "id is 2.0": (b'{"jsonrpc":"2.0","id":2.0,"method":"livy/status","params":{}}', -32600, None),
    "notification with an array id": (
        json.dumps({"jsonrpc": "2.0", "id": [], "method": "initialized", "params": {}}).encode(),
        -32600, None),
    "response with an object id": (
        json.dumps({"jsonrpc": "2.0", "id": {"x": [1]}, "result": None}).encode(), -32600, None),
}


def test_the_checks_without_a_daemon() -> None:
    """The sans-IO checks: no RecursionError escapes, ids as JSON-RPC 2.0 says."""
    with pytest.raises(Undecodable, match="nested too deeply"):
        decode(deep(100_000))
    assert depth_exceeds(json.loads(deep(MAX_DEPTH + 1)))
    assert not depth_exceeds(json.loads(deep(MAX_DEPTH)))
    assert not depth_exceeds({"a": [1, {"b": 2}]}, limit=3)
    assert depth_exceeds({"a": [1, {"b": [2]}]}, limit=3)
    for ok in (1, -7, 2**70, "abc", None):
        assert problem({"jsonrpc": "2.0", "id": ok, "method": "m"}) is None
    for bad in ([1], {}, True, 0.5, 3.0):
        refused = problem({"jsonrpc": "2.0", "id": bad, "method": "m"})
        assert refused is not None and refused.code == -32600 and refused.msg_id is None


def test_pygls_tracebacks_never_reach_the_client() -> None:
    """pygls answers an exception in a handler it runs itself with data.traceback: scrubbed."""
    from lsprotocol import types

    from livyd.daemon._server import LivydServer, _scrub_error

    server = LivydServer()
    error = types.ResponseError(code=-32603, message="KeyError: 'http://u:hunter2@h/x'\nmore",
                                data={"traceback": ['File "/home/me/livyd/x.py", line 3']})
    scrubbed = _scrub_error(error, server)
    assert scrubbed.data == {"code": "internal"}
    assert "hunter2" not in scrubbed.message and "\n" not in scrubbed.message
    server.livyd.settings = server.livyd.settings.model_copy(update={"show_tracebacks": True})
    kept = _scrub_error(error, server)  # asked for: kept, but redacted
    assert kept.data["traceback"] == error.data["traceback"]
    assert "hunter2" not in kept.message


async def test_hostile_messages_are_answered_and_the_daemon_stays_up(
    spawn_daemon: Any, tmp_path: Path
) -> None:
    binary = tmp_path / "binary.py"
    binary.write_bytes(b"\xff\xfe\x00 not utf-8 \x80")
    async with spawn_daemon() as client:
        for name, (body, code, answer_id) in HOSTILE.items():
            before = len(client.messages)
            await client.send_raw(frame(body))
            await client.request("livy/status", {})  # answered: the daemon is alive and in step
            answers = [m.raw for m in client.messages[before:] if "error" in m.raw
                       and m.raw.get("id") == answer_id]
            assert answers, f"{name}: no error answer"
            assert answers[0]["error"]["code"] == code, (name, answers[0])
        # A code lens for a file that is not UTF-8 text: none (it used to be a pygls traceback).
        before = len(client.messages)
        await client.send_raw(frame(json.dumps({
            "jsonrpc": "2.0", "id": 90, "method": "textDocument/codeLens",
            "params": {"textDocument": {"uri": binary.as_uri()}}}).encode()))
        await client.request("livy/status", {})
        answer = next(m.raw for m in client.messages[before:] if m.raw.get("id") == 90)
        assert answer.get("result") == [], answer
        for m in client.messages:
            error = m.raw.get("error")
            if error is not None:
                text = json.dumps(error)
                assert "traceback" not in text.lower() and ".py" not in text, error
        raw_ids = re.compile(r"'id': (71|72|90)[,}]")  # answers to frames sent raw, past the harness
        assert [v for v in client.stdout_violations if not raw_ids.search(v)] == []
        client.stdout_violations.clear()
        assert await client.close() == 0


async def test_requests_after_shutdown_are_refused_not_dropped(spawn_daemon: Any) -> None:
    """LSP: after ``shutdown`` a request gets InvalidRequest (pygls dropped it, and the client
    waited for ever); ``exit`` still ends the daemon, with status 0."""
    from livyd.daemon.harness import DaemonRequestError

    async with spawn_daemon() as client:
        await client.request("shutdown")
        with pytest.raises(DaemonRequestError) as refused:
            await client.request("livy/status", {}, timeout=10)
        assert refused.value.code == -32600 and "shutting down" in str(refused.value)
        await client.notify("exit")
        assert await client.close() == 0
