"""A POST is never blindly re-sent: ambiguous failures against a raw stand-in (not the sandbox).

The stand-in drops the connection after reading the POST (with or without applying it), or
answers a gateway 502/503/504, and the client must end with exactly the statements/sessions the
user asked for.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from livy_standin import MiniLivy, Reply, Request

from livyd import (
    BadRequestError,
    Batch,
    LivyClient,
    Session,
    SessionGoneError,
    SessionInactiveError,
    SubmissionUnknownError,
)


@pytest.fixture
def livy() -> Iterator[MiniLivy]:
    server = MiniLivy()
    yield server
    server.close()


def client(
    livy: MiniLivy, landing_timeout: float | None = 0.3, timeout: float = 5, **kw: object
) -> LivyClient:
    c = LivyClient(livy.url, timeout=timeout, **kw)  # type: ignore[arg-type]
    c.recheck_delay = 0.05  # the second look for a POST that may still be in flight (0.5 s by default)
    if landing_timeout is not None:
        # how long a statement whose POST failed ambiguously is looked for (timeout + 5 s by default)
        c.landing_timeout = landing_timeout
    return c


STMTS = "/sessions/0/statements"


@pytest.mark.anyio
@pytest.mark.parametrize("fault", ["drop-after", ("after", 502), ("after", 503), ("after", 504)])
async def test_landed_statement_is_found_not_resent(livy: MiniLivy, fault: object) -> None:
    sid = livy.add_session()
    livy.post_faults["statements"] = [fault]
    async with client(livy) as c:
        st = await c.submit_statement(sid, "spark.range(10).count()")
        stats = c.statistics()
    assert st.id == 0 and st.code == "spark.range(10).count()"
    assert len(livy.statements[sid]) == 1
    assert livy.server.count("POST", STMTS) == 1
    assert stats.duplicates_avoided == 1 and stats.resubmissions == 0


@pytest.mark.anyio
@pytest.mark.parametrize("fault", ["drop-before", ("before", 502), ("before", 504)])
async def test_statement_not_seen_landing_is_unknown_and_not_resent(livy: MiniLivy, fault: object) -> None:
    """A statement that does not appear within the landing window is reported, never re-sent."""
    sid = livy.add_session()
    livy.add_statement(sid, "x = 1")
    livy.post_faults["statements"] = [fault]
    async with client(livy) as c:
        with pytest.raises(SubmissionUnknownError, match="not re-sent"):
            await c.submit_statement(sid, "x = 1")
        stats = c.statistics()
    assert [s["code"] for s in livy.statements[sid]] == ["x = 1"]
    assert livy.server.count("POST", STMTS) == 1
    assert stats.resubmissions == 0 and stats.duplicates_avoided == 0


@pytest.mark.anyio
async def test_statement_that_lands_after_the_client_timed_out_is_followed_not_resent(
    livy: MiniLivy,
) -> None:
    """Livy stores the statement only after the client's read timeout: it is found, not re-sent."""
    sid = livy.add_session()
    livy.post_faults["statements"] = [("late", 0.6)]
    async with client(livy, timeout=0.2, landing_timeout=None) as c:  # gives up before Livy answers
        st = await c.submit_statement(sid, "counter += 1")
        stats = c.statistics()
    livy.wait_late()
    assert st.id == 0 and st.code == "counter += 1"
    assert [s["code"] for s in livy.statements[sid]] == ["counter += 1"]
    assert livy.server.count("POST", STMTS) == 1
    assert stats.duplicates_avoided == 1


@pytest.mark.anyio
async def test_gateway_504_then_late_landing_is_followed_not_resent(livy: MiniLivy) -> None:
    """A gateway answers 504 at once while Livy stores the statement later: it runs once."""
    sid = livy.add_session()
    livy.post_faults["statements"] = [("gateway-late", 504, 0.5)]
    async with client(livy, landing_timeout=10) as c:
        st = await c.submit_statement(sid, "counter += 1")
    livy.wait_late()
    assert st.id == 0
    assert [s["code"] for s in livy.statements[sid]] == ["counter += 1"]
    assert livy.server.count("POST", STMTS) == 1


@pytest.mark.anyio
async def test_statements_run_by_another_client_meanwhile_are_not_taken_for_ours(livy: MiniLivy) -> None:
    """The last id is asked before every submission: another client's run of the same cell is
    older than ours and cannot be mistaken for it."""
    sid = livy.add_session()
    async with client(livy) as mine, client(livy) as other:
        assert (await mine.submit_statement(sid, "counter += 1")).id == 0
        assert (await other.submit_statement(sid, "counter += 1")).id == 1
        livy.post_faults["statements"] = ["drop-after"]  # our run landed, the answer was lost
        again = await mine.submit_statement(sid, "counter += 1")
        assert again.id == 2
        livy.post_faults["statements"] = [("before", 502)]  # our run never reached Livy
        with pytest.raises(SubmissionUnknownError):
            await mine.submit_statement(sid, "counter += 1")
    assert len(livy.statements[sid]) == 3


@pytest.mark.anyio
async def test_a_cell_run_twice_on_purpose_runs_twice_even_when_the_second_post_is_ambiguous(
    livy: MiniLivy,
) -> None:
    sid = livy.add_session()
    async with client(livy) as c:
        first = await c.submit_statement(sid, "counter += 1")
        livy.post_faults["statements"] = ["drop-after"]
        second = await c.submit_statement(sid, "counter += 1")
        livy.post_faults["statements"] = [("after", 504)]
        third = await c.submit_statement(sid, "counter += 1")
    assert (first.id, second.id, third.id) == (0, 1, 2)
    assert len(livy.statements[sid]) == 3


@pytest.mark.anyio
async def test_statements_by_others_before_us_do_not_match(livy: MiniLivy) -> None:
    sid = livy.add_session()
    livy.add_statement(sid, "df.show()")  # someone ran it before: id 0
    livy.post_faults["statements"] = ["drop-after"]
    async with client(livy) as c:
        st = await c.submit_statement(sid, "df.show()")
    assert st.id == 1 and len(livy.statements[sid]) == 2


@pytest.mark.anyio
async def test_crlf_code_matches_what_livy_stored(livy: MiniLivy) -> None:
    sid = livy.add_session()
    livy.post_faults["statements"] = ["drop-after"]
    async with client(livy) as c:
        st = await c.submit_statement(sid, "a = 1\r\nb = 2\r\n")
    assert st.id == 0 and len(livy.statements[sid]) == 1


@pytest.mark.anyio
async def test_unknown_fate_raises_and_does_not_resend(livy: MiniLivy) -> None:
    sid = livy.add_session()
    livy.post_faults["statements"] = ["drop-after"]
    route = livy.server.handler

    def unlistable_after_the_post(req: Request) -> Reply | str:
        if req.method == "POST" and req.path == STMTS and req.json()["code"] == "big_job()":
            livy.get_faults[STMTS] = [503] * 20  # the listing that would tell fails from now on
        return route(req)

    livy.server.handler = unlistable_after_the_post
    async with client(livy, retries=1) as c:
        await c.submit_statement(sid, "warm = 1")  # (finds the landed one)
        livy.post_faults["statements"] = ["drop-after"]
        with pytest.raises(SubmissionUnknownError) as info:
            await c.submit_statement(sid, "big_job()")
    assert "not re-sent" in str(info.value)
    assert [s["code"] for s in livy.statements[sid]] == ["warm = 1", "big_job()"]


@pytest.mark.anyio
async def test_order_desc_only_on_08_plus_and_window_on_07() -> None:
    old = MiniLivy(version="0.7.1-incubating")
    try:
        sid = old.add_session()
        for i in range(5):
            old.add_statement(sid, f"s{i}")
        old.post_faults["statements"] = ["drop-after"]
        async with client(old) as c:
            st = await c.submit_statement(sid, "s1")  # same code as an older statement
        assert st.id == 5 and len(old.statements[sid]) == 6
        assert all("order" not in r.query for r in old.server.requests)
    finally:
        old.close()
    new = MiniLivy(version="0.8.0-incubating")
    try:
        sid = new.add_session()
        new.post_faults["statements"] = ["drop-after"]
        async with client(new) as c:
            await c.submit_statement(sid, "x")
        assert any(r.query.get("order") == "desc" for r in new.server.requests)
    finally:
        new.close()


@pytest.mark.anyio
async def test_statement_on_a_starting_session_waits_then_posts(livy: MiniLivy) -> None:
    sid = livy.add_session(state="idle")
    livy.not_ready_posts = 1  # Livy answers 500 "Session is in state starting" once
    async with client(livy) as c:
        st = await c.submit_statement(sid, "1 + 1")
    assert st.id == 0 and len(livy.statements[sid]) == 1
    assert livy.server.count("POST", STMTS) == 2  # the rejected one did not run


@pytest.mark.anyio
async def test_statement_on_a_dead_session_is_session_gone(livy: MiniLivy) -> None:
    sid = livy.add_session(state="idle")
    async with client(livy) as c:
        await c.submit_statement(sid, "1")
        livy.sessions[sid]["state"] = "dead"
        with pytest.raises(SessionGoneError) as info:
            await c.submit_statement(sid, "2")
    assert info.value.state == "dead"


@pytest.mark.anyio
@pytest.mark.parametrize("coll", ["sessions", "batches"])
@pytest.mark.parametrize("fault", ["drop-after", ("after", 504)])
async def test_create_landed_is_found_by_its_unique_name(livy: MiniLivy, coll: str, fault: object) -> None:
    livy.post_faults[coll] = [fault]
    async with client(livy, name_prefix="team") as c:
        obj: Session | Batch = await (
            c.create_session(kind="pyspark")
            if coll == "sessions"
            else c.create_batch(file="hdfs:///jobs/etl.py")
        )
        stats = c.statistics()
    store = livy.sessions if coll == "sessions" else livy.batches
    assert len(store) == 1 and obj.id == 0
    assert obj.name is not None and obj.name.startswith("team-")
    assert livy.server.count("POST", f"/{coll}") == 1 and stats.duplicates_avoided == 1


@pytest.mark.anyio
@pytest.mark.parametrize("coll", ["sessions", "batches"])
async def test_create_not_landed_is_resent(livy: MiniLivy, coll: str) -> None:
    livy.post_faults[coll] = ["drop-before", ("before", 503)]
    async with client(livy) as c:
        obj = await (
            c.create_session(kind="pyspark", name="mine")
            if coll == "sessions"
            else c.create_batch(file="hdfs:///x.py", name="mine")
        )
    store = livy.sessions if coll == "sessions" else livy.batches
    assert len(store) == 1 and obj.name == "mine"
    assert livy.server.count("POST", f"/{coll}") == 3


@pytest.mark.anyio
async def test_user_named_duplicate_is_an_error_not_a_lookup(livy: MiniLivy) -> None:
    livy.add_session(name="taken")
    async with client(livy) as c:
        with pytest.raises(Exception, match="Duplicate session name"):
            await c.create_session(name="taken")


@pytest.mark.anyio
async def test_reading_statements_of_an_ended_session_is_session_gone(livy: MiniLivy) -> None:
    """Livy's 400 "Session isn't active" on statement GET/list becomes SessionGoneError."""
    sid = livy.add_session()
    async with client(livy) as c:
        await c.submit_statement(sid, "1")
        livy.sessions[sid]["state"] = "dead"
        with pytest.raises(SessionGoneError) as got:
            await c.get_statement(sid, 0)
        assert isinstance(got.value, SessionInactiveError) and got.value.session_id == str(sid)
        with pytest.raises(SessionGoneError):
            await c.list_statements(sid)


@pytest.mark.anyio
@pytest.mark.parametrize("coll", ["sessions", "batches"])
@pytest.mark.parametrize("fault", [("before", 502), "drop-before"])
async def test_a_chosen_name_never_adopts_the_object_that_already_had_it(
    livy: MiniLivy, coll: str, fault: object
) -> None:
    """LIVY_NAME=etl-job while someone's etl-job exists: an ambiguous create is refused as a
    duplicate name; the existing object is never returned as ours."""
    if coll == "sessions":
        kept = livy.add_session(name="etl-job")
    else:
        livy.batches[0] = {"id": 0, "name": "etl-job", "state": "running", "appId": None,
                           "appInfo": {}, "log": []}
        livy.next_batch, kept = 1, 0
    livy.post_faults[coll] = [fault]
    async with client(livy) as c:
        with pytest.raises(BadRequestError, match="Duplicate session name"):
            if coll == "sessions":
                await c.create_session(kind="pyspark", name="etl-job")
            else:
                await c.create_batch(file="hdfs:///x.py", name="etl-job")
    store = livy.sessions if coll == "sessions" else livy.batches
    assert list(store) == [kept]
    assert livy.server.count("DELETE", f"/{coll}/{kept}") == 0


@pytest.mark.anyio
async def test_a_chosen_name_that_landed_is_still_found(livy: MiniLivy) -> None:
    """A name the caller chose that nobody had: the landed session is found by it, not re-created."""
    livy.add_session(name="other")
    livy.post_faults["sessions"] = [("after", 504)]
    async with client(livy) as c:
        s = await c.create_session(kind="pyspark", name="etl-job")
    assert s.id == 1 and s.name == "etl-job"
    assert len(livy.sessions) == 2 and livy.server.count("POST", "/sessions") == 1


@pytest.mark.anyio
@pytest.mark.parametrize("coll", ["sessions", "batches"])
async def test_a_create_that_lands_after_the_resend_is_refused_by_its_unique_name(
    livy: MiniLivy, coll: str
) -> None:
    """A gateway 504 while Livy creates it later: the re-sent POST carries the same unique name, so
    whichever arrives second is refused as a duplicate and exactly one object exists."""
    livy.post_faults[coll] = [("gateway-late", 504, 0.3)]
    async with client(livy) as c:
        obj: Session | Batch = await (
            c.create_session(kind="pyspark") if coll == "sessions" else c.create_batch(file="hdfs:///x.py")
        )
    livy.wait_late()
    store = livy.sessions if coll == "sessions" else livy.batches
    assert [x["name"] for x in store.values()] == [obj.name]
    assert livy.server.count("POST", f"/{coll}") == 2
