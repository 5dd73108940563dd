"""The library between a fault proxy and real sandboxes: no statement runs twice (counted inside the
REPL), no completed output is lost, and a session that is not ours is never touched."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import anyio
import httpx
import pytest
from fault_fixtures import (  # noqa: F401 (fixtures: counter, fresh_sandboxes, proxy)
    RunCounter,
    counter_fixture,
    fresh_sandboxes_fixture,
    proxy_fixture,
)
from proxy import FaultProxy
from support import SandboxProcess

from livyd import (
    LivyClient,
    PollSettings,
    SessionGoneError,
    SessionReplacedError,
    SessionUnverifiedError,
    SubmissionUnknownError,
    TransportError,
)

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]

H = {"X-Requested-By": "test"}


def client_for(proxy: FaultProxy) -> LivyClient:
    c = LivyClient(proxy.url, timeout=2.0, retries=2, poll=PollSettings(initial=0.01, maximum=0.2))
    c.landing_timeout = 3.0  # the window to find an ambiguous POST (the request timeout + 1 s)
    return c


async def wait_until(predicate: Callable[[], object], what: str) -> None:
    """Poll a condition the REPL's side effect makes true (a file), for at most 30 s."""
    with anyio.fail_after(30):
        while not predicate():  # noqa: ASYNC110 (a file written by another process: no event)
            await anyio.sleep(0.02)


@pytest.fixture(scope="module")
def shared_session(sandbox: SandboxProcess) -> int:
    """One idle session on the shared sandbox, created with raw HTTP (a name livyd did not give)."""
    created = httpx.post(sandbox.livy_url + "/sessions", json={"kind": "pyspark", "name": "faults-shared"},
                         headers=H, timeout=10).json()
    for _ in range(600):
        if httpx.get(f"{sandbox.livy_url}/sessions/{created['id']}", timeout=10).json()["state"] == "idle":
            break
        anyio.run(anyio.sleep, 0.05)
    return int(created["id"])


@pytest.fixture
async def client(proxy: FaultProxy) -> AsyncIterator[LivyClient]:
    async with client_for(proxy) as c:
        yield c


# --------------------------------------------------------------------------- ambiguous POSTs


@pytest.mark.parametrize(("action", "status"), [("reset-after", 0), ("status-after", 502),
                                                ("status-after", 503), ("status-after", 504)])
async def test_a_post_that_landed_unseen_runs_once(client: LivyClient, proxy: FaultProxy, counter: RunCounter,
                                                   shared_session: int, action: str, status: int) -> None:
    proxy.add("POST", r"/statements$", action, status=status)
    st = await client.run_statement(shared_session, counter.code())
    assert st.output is not None and st.output.text == "'done'"
    assert counter.runs == 1
    assert client.statistics().duplicates_avoided == 1


async def test_an_answer_slower_than_the_timeout_runs_once(client: LivyClient, proxy: FaultProxy,
                                                           counter: RunCounter, shared_session: int) -> None:
    proxy.add("POST", r"/statements$", "slow-after", delay=3.0)  # the timeout is 2 s
    st = await client.run_statement(shared_session, counter.code())
    assert st.output is not None and st.output.text == "'done'"
    assert counter.runs == 1


@pytest.mark.parametrize(("action", "status"), [("reset-before", 0), ("status-before", 503)])
async def test_a_post_that_never_arrived_is_not_resent(client: LivyClient, proxy: FaultProxy,
                                                       counter: RunCounter, shared_session: int,
                                                       action: str, status: int) -> None:
    proxy.add("POST", r"/statements$", action, status=status)
    with pytest.raises(SubmissionUnknownError, match="not re-sent"):
        await client.run_statement(shared_session, counter.code())
    assert counter.runs == 0
    assert not [r for r in proxy.forwarded if r.method == "POST" and r.path.endswith("/statements")]


async def test_a_late_landing_is_found_although_listings_fail_meanwhile(
    client: LivyClient, proxy: FaultProxy, counter: RunCounter, shared_session: int
) -> None:
    """The gateway answers 504 at once and the POST lands 1 s later; meanwhile the first listing
    fails whole (every retry 502): the search goes on for its whole window (issue 11, item 7)."""
    post = proxy.add("POST", r"/statements$", "late", status=504, delay=1.0)
    # retries=2: the first listing after the POST fails whole
    proxy.add("GET", r"/statements$", "status-before", status=502, times=3, after=post)
    st = await client.run_statement(shared_session, counter.code())
    assert st.output is not None and st.output.text == "'done'"
    assert counter.runs == 1


async def test_a_dying_repl_is_reported_and_not_rerun(client: LivyClient, counter: RunCounter) -> None:
    session = await client.create_session(kind="pyspark")
    try:
        await client.wait_session_ready(session.id, timeout=60)
        st = await client.run_statement(session.id, counter.code("os._exit(3)"))
        assert st.output is not None and st.output.is_error
        assert "Interpreter died" in (st.output.evalue or "")
        assert counter.runs == 1
    finally:
        await client.delete_session(session.id)


# --------------------------------------------------------------------------- restarts


async def _idle(url: str, sid: int) -> None:
    async with httpx.AsyncClient(timeout=10) as raw:
        for _ in range(1200):
            if (await raw.get(f"{url}/sessions/{sid}")).json()["state"] == "idle":
                return
            await anyio.sleep(0.05)
    raise AssertionError(f"session {sid} at {url} never became idle")


async def _someone_elses_session(url: str) -> tuple[int, int]:
    """Another user's session 0 on a fresh server, with their statement 0 finished."""
    async with httpx.AsyncClient(timeout=10, headers=H) as raw:
        theirs = (await raw.post(f"{url}/sessions", json={"kind": "pyspark", "name": "nightly-etl"})).json()
        await _idle(url, theirs["id"])
        st = (await raw.post(f"{url}/sessions/{theirs['id']}/statements",
                             json={"code": "print('their confidential report')"})).json()
        for _ in range(600):
            got = (await raw.get(f"{url}/sessions/{theirs['id']}/statements/{st['id']}")).json()
            if got["state"] == "available":
                break
            await anyio.sleep(0.05)
        return theirs["id"], st["id"]


async def test_restart_where_someone_else_gets_the_same_session_id(
    fresh_sandboxes: Callable[..., SandboxProcess], counter: RunCounter, tmp_path: Path
) -> None:
    """A statement runs on session 0; the server is replaced by a fresh one where another user's
    session 0 and statement 0 exist. livyd takes none of their output and touches nothing."""
    first, second = fresh_sandboxes(), fresh_sandboxes()
    theirs, their_statement = await _someone_elses_session(second.livy_url)
    flag = tmp_path / "release"
    with FaultProxy(first.livy_url) as proxy:
        async with client_for(proxy) as client:
            ours = await client.create_session(kind="pyspark")
            assert ours.id == theirs == 0
            await client.wait_session_ready(ours.id, timeout=60)
            st = await client.submit_statement(ours.id, counter.blocking(flag))
            assert st.id == their_statement == 0
            await wait_until(lambda: counter.runs == 1, "our statement to run")
            proxy.upstream = second.livy_url  # failover / restart: same URL, another server
            seen_before = len(proxy.forwarded)
            with pytest.raises(SessionReplacedError, match="server restarted") as caught:
                await client.wait_statement(ours.id, st.id, timeout=30)
            assert "their confidential report" not in str(caught.value)
            with pytest.raises(SessionReplacedError):
                await client.delete_session(ours.id)
            with pytest.raises(SessionReplacedError):
                await client.submit_statement(ours.id, "1 + 1")
            writes = [r for r in proxy.forwarded[seen_before:] if r.method != "GET"]
            assert writes == []  # no cancel, no DELETE, no statement reached their server
        flag.touch()
    async with httpx.AsyncClient(timeout=10) as raw:
        still = (await raw.get(f"{second.livy_url}/sessions/{theirs}")).json()
        assert still["name"] == "nightly-etl" and still["state"] == "idle"
        listing = (await raw.get(f"{second.livy_url}/sessions/{theirs}/statements")).json()
        assert listing["total_statements"] == 1


async def test_restart_without_recovery_the_session_is_gone_and_left_alone(
    fresh_sandboxes: Callable[..., SandboxProcess], counter: RunCounter, tmp_path: Path
) -> None:
    first, second = fresh_sandboxes(), fresh_sandboxes()
    flag = tmp_path / "release"
    with FaultProxy(first.livy_url) as proxy:
        async with client_for(proxy) as client:
            ours = await client.create_session(kind="pyspark")
            await client.wait_session_ready(ours.id, timeout=60)
            st = await client.submit_statement(ours.id, counter.blocking(flag))
            await wait_until(lambda: counter.runs == 1, "our statement to run")
            proxy.upstream = second.livy_url  # restarted, empty: nobody has session 0 yet
            with pytest.raises(SessionGoneError, match="server restarted") as caught:
                await client.wait_statement(ours.id, st.id, timeout=30)
            assert "create a new session" in str(caught.value)
            async with httpx.AsyncClient(timeout=10, headers=H) as raw:  # now someone takes id 0
                theirs = (await raw.post(f"{second.livy_url}/sessions", json={"kind": "pyspark"})).json()
            assert theirs["id"] == ours.id
            with pytest.raises(SessionReplacedError):
                await client.delete_session(ours.id)
            assert not [r for r in proxy.forwarded if r.method == "DELETE"]
        flag.touch()


async def test_recovered_sessions_are_ours_and_keep_working(
    fresh_sandboxes: Callable[..., SandboxProcess], counter: RunCounter, tmp_path: Path
) -> None:
    """Livy with recovery brings the same sessions back (ids, names, appIds, statements): a
    statement running across the restart is accepted as ours (with the sandbox's note that its
    process was lost, never re-run), and the session takes the next statement after the gap."""
    state = Path(tempfile.mkdtemp(prefix="livyd-recovery-", dir=tmp_path))
    first = fresh_sandboxes("--recovery", str(state))
    flag = tmp_path / "release"
    with FaultProxy(first.livy_url) as proxy:
        async with client_for(proxy) as client:
            ours = await client.create_session(kind="pyspark")
            assert ours.app_id  # --recovery gives YARN-like application ids
            await client.wait_session_ready(ours.id, timeout=60)
            st = await client.submit_statement(ours.id, counter.blocking(flag))
            await wait_until(lambda: counter.runs == 1, "our statement to run")
            proxy.down = True  # the server is stopped ...
            with pytest.raises(TransportError):
                await client.get_statement(ours.id, st.id)
            first.stop()
            second = fresh_sandboxes("--recovery", str(state))  # ... and comes back with recovery
            proxy.upstream, proxy.down = second.livy_url, False
            done = await client.wait_statement(ours.id, st.id, timeout=30)
            assert done.output is not None and "restarted" in (done.output.evalue or "")
            again = await client.run_statement(ours.id, "'after the restart'", timeout=60)
            assert again.output is not None and again.output.text == "'after the restart'"
            ident = client.session_identity(ours.id)
            assert ident is not None and ident.app_id == ours.app_id and ident.lost is None
            await client.delete_session(ours.id)
    assert counter.runs == 1


async def test_after_a_gap_a_session_with_nothing_to_compare_is_not_written(
    sandbox: SandboxProcess, counter: RunCounter
) -> None:
    """Livy 0.7 and local servers leave appId/owner/proxyUser empty; a session picked by id with no
    name cannot prove itself after a connection gap, until a statement livyd ran there can."""
    async with httpx.AsyncClient(timeout=10, headers=H) as raw:
        sid = (await raw.post(f"{sandbox.livy_url}/sessions", json={"kind": "pyspark"})).json()["id"]
    await _idle(sandbox.livy_url, sid)
    try:
        with FaultProxy(sandbox.livy_url) as proxy:
            async with client_for(proxy) as client:
                client.track_session(await client.get_session(sid))
                proxy.down = True
                with pytest.raises(TransportError):
                    await client.get_session(sid)
                proxy.down = False
                with pytest.raises(SessionUnverifiedError, match="writes nothing"):
                    await client.submit_statement(sid, counter.code())
                assert counter.runs == 0

            async with client_for(proxy) as client:  # with a statement of ours to compare
                client.track_session(await client.get_session(sid))
                await client.run_statement(sid, counter.code())
                proxy.down = True
                with pytest.raises(TransportError):
                    await client.get_session(sid)
                proxy.down = False
                st = await client.run_statement(sid, "'proven by its statements'")
                assert st.output is not None and st.output.text == "'proven by its statements'"
                assert counter.runs == 1
    finally:
        async with httpx.AsyncClient(timeout=10, headers=H) as raw:
            await raw.delete(f"{sandbox.livy_url}/sessions/{sid}")


async def test_an_identity_restored_from_a_state_file_is_checked(client: LivyClient,
                                                                 shared_session: int) -> None:
    """A daemon that kept what it knew about session N across its own restart: a session N that is
    someone else's now is refused on the first read; the same session is accepted and proven."""
    from livyd import SessionIdentity

    # as a daemon would keep it for a session it named itself (a unique name proves it)
    mine = SessionIdentity.of((await client.get_session(shared_session)).model_dump(by_alias=True),
                              unique_name=True)
    stale = SessionIdentity.from_dict({**mine.to_dict(), "name": "the-one-we-had-before"})
    client.track_identity(stale)
    with pytest.raises(SessionReplacedError, match="name"):
        await client.get_session(shared_session)
    client.track_identity(SessionIdentity.from_dict(mine.to_dict()))
    st = await client.run_statement(shared_session, "'still mine'")
    assert st.output is not None and st.output.text == "'still mine'"


async def test_code_that_cannot_be_sent_is_named_and_not_sent(client: LivyClient, proxy: FaultProxy,
                                                             shared_session: int) -> None:
    from livyd import ConfigError

    with pytest.raises(ConfigError, match=r"lone surrogate U\+D800 at line 2, column 6"):
        await client.submit_statement(shared_session, "x = 1\ny = '\ud800'")
    assert not [r for r in proxy.forwarded if r.method == "POST"]
