"""A real ``livyd --stdio`` keeps answering after whatever garbage reaches its stdin.

Each case sends one kind of broken input, then a well-formed request that must be answered:
before the sans-IO frame parser, stray bytes, a non-numeric ``Content-Length`` or a truncated
body made the daemon read every later frame out of step, so it never answered again.
"""

from __future__ import annotations

import json
import random
from typing import Any

import anyio
import pytest

pytestmark = pytest.mark.anyio


def frame(obj: object) -> bytes:
    body = json.dumps(obj).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


STATUS = {"jsonrpc": "2.0", "id": 424242, "method": "livy/status", "params": {}}

CASES: dict[str, bytes] = {
    "stray bytes": bytes([0x9C, 0x11, 0xFF, 0x00, 0x41]),
    "non-numeric length": b"Content-Length: abc\r\n\r\n{}",
    "negative length": b"Content-Length: -3\r\n\r\n",
    "truncated body": frame(STATUS)[:-9],
    "header without length": b"Content-Type: x\r\n\r\n",
    "random noise": bytes(random.Random(7).getrandbits(8) for _ in range(3000)),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_the_daemon_answers_after_garbage(spawn_daemon: Any, case: str) -> None:
    async with spawn_daemon() as client:
        await client.send_raw(CASES[case])
        with anyio.fail_after(15):
            status = await client.request("livy/status", {})
        assert status["pid"] == client.process.pid
        parse_errors = [m.raw for m in client.messages
                        if m.raw.get("id") is None and m.raw.get("error", {}).get("code") == -32700]
        assert parse_errors, "the garbage was not reported"
        assert client.stdout_violations == []
        assert await client.close() == 0


async def test_a_message_pygls_cannot_read_costs_one_log_line(spawn_daemon: Any) -> None:
    """pygls logs such messages with a whole exception-group traceback; the daemon keeps one line."""
    from livyd.daemon.harness import DaemonRequestError

    async with spawn_daemon() as client:
        with pytest.raises(DaemonRequestError):
            await client.request("textDocument/codeLens", {"bogus": 1})
        await client.request("livy/status", {})
        await client.wait_until(lambda: "Unable to deserialize message" in client.stderr,
                                timeout=10, what="the log line")
        line = next(ln for ln in client.stderr.splitlines() if "Unable to deserialize message" in ln)
        assert "KeyError: 'textDocument'" in line
        assert "Traceback" not in client.stderr
        assert await client.close() == 0
