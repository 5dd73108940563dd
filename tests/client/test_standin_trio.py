"""The client is backend-neutral (anyio): the duplicate-safe submit, waits and shielded cancel
cleanup also work under trio, against the raw stand-in."""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import pytest
from livy_standin import MiniLivy, finish_after

from livyd import LivyClient, StatementState


@pytest.fixture
def anyio_backend() -> str:
    return "trio"


@pytest.fixture
def livy() -> Iterator[MiniLivy]:
    server = MiniLivy()
    yield server
    server.close()


@pytest.mark.anyio
async def test_run_and_ambiguous_submit_under_trio(livy: MiniLivy) -> None:
    sid = livy.add_session()
    livy.statement_script = finish_after(3, text="ok")
    livy.post_faults["statements"] = ["drop-after"]
    async with LivyClient(livy.url) as c:
        st = await c.run_statement(sid, "work()")
    assert st.state is StatementState.AVAILABLE and st.output is not None and st.output.text == "ok"
    assert len(livy.statements[sid]) == 1


@pytest.mark.anyio
async def test_cancel_cleanup_is_shielded_under_trio(livy: MiniLivy) -> None:
    sid = livy.add_session()
    livy.statement_script = finish_after(10_000)
    async with LivyClient(livy.url) as c:
        with anyio.move_on_after(0.2):
            await c.run_statement(sid, "forever()")
    assert livy.statements[sid][0]["state"] == "cancelled"
    assert livy.server.count("POST", f"/sessions/{sid}/statements/0/cancel") == 1
