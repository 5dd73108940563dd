"""A big answer (a statement with megabytes of output) through the library, against the raw
stand-in: decoded intact, and its body freed as soon as nothing refers to it (httpx's stream
wrapper referred back to its response, a cycle only the cyclic GC breaks: a 20 MB body outlived
its parse, into the daemon's delivery)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest
from livy_standin import MiniLivy

from livyd import LivyClient
from livyd._transport import Transport

TEXT = "é€😀\n\"\\\x01" * 300_000 + "x" * 1_000_000  # escapes and multi-byte characters, ~4.6 MB as JSON


@pytest.fixture
def livy() -> Iterator[MiniLivy]:
    server = MiniLivy()
    yield server
    server.close()


def _big_statement(livy: MiniLivy) -> int:
    sid = livy.add_session()
    livy.add_statement(sid, "print(big)", output={"status": "ok", "execution_count": 0,
                                                  "data": {"text/plain": TEXT}})
    return sid


@pytest.mark.anyio
async def test_a_big_output_is_decoded_intact(livy: MiniLivy) -> None:
    sid = _big_statement(livy)
    async with LivyClient(livy.url, timeout=10) as client:
        st = await client.get_statement(sid, 0)
    assert st.output is not None and st.output.data["text/plain"] == TEXT


@pytest.mark.anyio
async def test_a_read_response_is_freed_without_the_cyclic_gc(livy: MiniLivy) -> None:
    sid = _big_statement(livy)
    transport = Transport(timeout=10)
    gc.disable()
    try:
        resp = await transport.request("GET", f"{livy.url}/sessions/{sid}/statements/0")
        assert len(resp.content) > 4_000_000
        gone = weakref.ref(resp)
        del resp
        assert gone() is None, gc.get_referrers(gone())
    finally:
        gc.enable()
        await transport.aclose()
