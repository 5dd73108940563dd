"""The client against the sandbox (``python -m livyd.sandbox``) over real loopback sockets."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from livyd import (
    BatchState,
    LivyClient,
    SessionNotFoundError,
    SessionState,
    StatementNotFoundError,
    StatementState,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
async def client(sandbox: Any) -> AsyncIterator[LivyClient]:
    async with LivyClient(sandbox.livy_url, name_prefix="t") as c:
        yield c


async def new_session(c: LivyClient, **fields: Any) -> int:
    s = await c.create_session(kind="pyspark", **fields)
    return s.id


async def test_session_lifecycle_statement_outputs_and_errors(client: LivyClient) -> None:
    t0 = time.monotonic()
    created = await client.create_session(kind="pyspark")
    assert created.name is not None and created.name.startswith("t-")
    assert created.state in (SessionState.STARTING, SessionState.NOT_STARTED, SessionState.IDLE)
    ready = await client.wait_session_ready(created.id, timeout=60)
    assert ready.state is SessionState.IDLE
    startup = time.monotonic() - t0

    t1 = time.monotonic()
    st = await client.run_statement(created.id, "1 + 1", timeout=30)
    roundtrip = time.monotonic() - t1
    assert st.state is StatementState.AVAILABLE and st.output is not None and st.output.text == "2"

    bad = await client.run_statement(created.id, "undefined_name", timeout=30)
    assert bad.state is StatementState.AVAILABLE  # no "error" statement state in real Livy
    assert bad.output is not None and bad.output.is_error and bad.output.ename == "NameError"

    table = await client.run_statement(created.id, "rows = [{'a': 1, 'b': 'x'}]\n%table rows", timeout=30)
    assert table.output is not None and table.output.table is not None
    assert [h["name"] for h in table.output.table["headers"]] == ["a", "b"]
    js = await client.run_statement(created.id, "v = {'k': [1, 2]}\n%json v", timeout=30)
    assert js.output is not None and js.output.json == {"k": [1, 2]}

    listing = await client.list_statements(created.id)
    assert [s.id for s in listing.statements] == [0, 1, 2, 3]
    newest = await client.list_statements(created.id, size=1, order="desc")
    assert [s.id for s in newest.statements] == [3]
    with pytest.raises(StatementNotFoundError):
        await client.get_statement(created.id, 99)

    again = await client.connect_session(created.id)
    assert again.id == created.id
    assert (await client.get_session(created.name)).id == created.id  # lookup by name
    await client.delete_session(created.id)
    with pytest.raises(SessionNotFoundError):
        await client.get_session(created.id)
    print(f"sandbox: session ready in {startup:.2f}s, 1+1 round trip {roundtrip * 1000:.0f} ms")


async def test_statement_posted_while_starting_waits_and_runs_once(client: LivyClient) -> None:
    sid = await new_session(client)
    st = await client.run_statement(sid, "40 + 2", timeout=60)  # no wait_session_ready first
    assert st.output is not None and st.output.text == "42"
    assert len((await client.list_statements(sid)).statements) == 1
    await client.delete_session(sid)


async def test_cancel_by_cancelling_the_wait(client: LivyClient) -> None:
    sid = await new_session(client)
    await client.wait_session_ready(sid, timeout=60)
    # A pure-Python loop: Livy cannot interrupt it; the statement turns cancelled when the code returns
    # or after the cancel timeout (3 s for the default sandbox), whichever comes first.
    with anyio.move_on_after(0.5) as scope:
        await client.run_statement(sid, "import time\nfor _ in range(40):\n    time.sleep(0.05)")
    assert scope.cancelled_caught
    with anyio.fail_after(15):
        while (st := await client.get_statement(sid, 0)).state not in (StatementState.CANCELLED,):
            assert st.state in (StatementState.RUNNING, StatementState.CANCELLING)
            await anyio.sleep(0.05)
    # the session is usable again afterwards
    after = await client.run_statement(sid, "'still here'", timeout=30)
    assert after.output is not None and after.output.text == "'still here'"
    await client.delete_session(sid)


async def test_log_cursor_survives_more_than_200_lines(client: LivyClient) -> None:
    sid = await new_session(client)
    await client.wait_session_ready(sid, timeout=60)
    code = (
        "import sys, time\n"
        "for i in range(500):\n"
        "    print(f'L{i:03d}', file=sys.__stderr__, flush=True)\n"
        "    if i % 20 == 19:\n"
        "        time.sleep(0.05)\n"
    )
    got: list[str] = []

    async def follow() -> None:
        async for lines in client.follow_session_log(sid, poll_interval=0.05):
            got.extend(x for x in lines if x.startswith("L"))
            if "L499" in got:
                return

    with anyio.fail_after(60):
        async with anyio.create_task_group() as tg:
            tg.start_soon(follow)
            await client.run_statement(sid, code)
    page = await client.session_log(sid, size=-1)
    assert page.total < 500  # the ring buffer did wrap
    assert got == [f"L{i:03d}" for i in range(500)]
    await client.delete_session(sid)


async def test_batch_lifecycle(sandbox_factory: Any, tmp_path: Path) -> None:
    # the python launcher: a .py batch without a Spark JVM (spark-submit would cost seconds)
    sb = sandbox_factory("--batch-launcher", "python")
    async with LivyClient(sb.livy_url, name_prefix="t") as client:
        await _batch_lifecycle(client, tmp_path)


async def _batch_lifecycle(client: LivyClient, tmp_path: Path) -> None:
    script = tmp_path / "job.py"
    script.write_text("import sys\nprint('batch says hi')\nsys.exit(0)\n")
    batch = await client.create_batch(file=str(script), args=["a", "b"])
    assert batch.name is not None and batch.name.startswith("t-")
    done = await client.wait_batch(batch.id, timeout=60)
    assert done.state is BatchState.SUCCESS
    log = await client.batch_log(batch.id, size=-1)
    assert any("batch says hi" in line for line in log.log)
    assert batch.id in [b.id async for b in client.iter_batches()]
    await client.delete_batch(batch.id)


async def test_gateway_prefix_and_csrf(sandbox_factory: Any) -> None:
    sb = sandbox_factory("--gateway", "/gateway/sandbox", "--csrf")
    assert "/gateway/sandbox/" in sb.livy_url
    async with LivyClient(sb.livy_url + "/sessions") as c:
        sid = await new_session(c)
        st = await c.run_statement(sid, "6 * 7", timeout=60)
        assert st.output is not None and st.output.text == "42"
        await c.delete_session(sid)
    async with httpx.AsyncClient() as raw:  # without livyd's headers the gateway refuses writes
        resp = await raw.post(sb.livy_url + "/sessions", json={"kind": "pyspark"})
    assert resp.status_code == 400
