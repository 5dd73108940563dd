"""Following a log through Livy's 200-line buffers against the raw stand-in: lines that a fast
writer pushed out between two reads are marked where they were, nothing is repeated, and the
follow ends with the session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from livy_standin import MiniLivy, Reply, Request

from livyd import LivyClient
from livyd._core.logcursor import gap_line


@pytest.fixture
def livy() -> Iterator[MiniLivy]:
    server = MiniLivy()
    yield server
    server.close()


def write_on_each_read(livy: MiniLivy, sid: int, per_read: int, reads: int) -> None:
    """Each of the first *reads* log reads finds *per_read* new stdout lines; the next ends it."""
    route = livy.server.handler
    count = 0

    def handler(req: Request) -> Reply | str:
        nonlocal count
        if req.method == "GET" and req.path == f"/sessions/{sid}/log":
            with livy.lock:
                count += 1
                if count <= reads:
                    livy.session_log[sid][0].extend(f"n {count * 1000 + i}" for i in range(per_read))
                else:
                    livy.sessions[sid]["state"] = "dead"
        return route(req)

    livy.server.handler = handler


async def follow(livy: MiniLivy, sid: int) -> list[str]:
    got: list[str] = []
    async with LivyClient(livy.url) as c:
        async for lines in c.follow_session_log(sid, poll_interval=0.05):
            got.extend(lines)
    return got


@pytest.mark.anyio
async def test_lines_lost_to_a_wrapped_buffer_are_marked_and_nothing_repeats(livy: MiniLivy) -> None:
    """300 lines per read into a 200-line buffer: each read marks the gap before its lines."""
    sid = livy.add_session()
    write_on_each_read(livy, sid, per_read=300, reads=3)
    got = await follow(livy, sid)
    numbered = [int(x.split()[1]) for x in got if x.startswith("n ")]
    assert numbered == sorted(numbered) and len(set(numbered)) == len(numbered)
    gaps = [i for i, line in enumerate(got) if line == gap_line("stdout", 200)]
    # the buffer was already full at the first read, then wrapped before the second and third
    assert [got[i + 1] for i in gaps] == ["n 1100", "n 2100", "n 3100"]


@pytest.mark.anyio
async def test_a_log_that_keeps_up_is_delivered_whole_without_gap_lines(livy: MiniLivy) -> None:
    """Fewer new lines per read than the buffer holds: every line once, no gap line, then the end."""
    sid = livy.add_session()
    write_on_each_read(livy, sid, per_read=100, reads=3)
    got = await follow(livy, sid)
    want = [f"n {r * 1000 + i}" for r in (1, 2, 3) for i in range(100)]
    assert [x for x in got if x.startswith("n ")] == want
    assert not any(x.startswith("[livyd:") for x in got)
