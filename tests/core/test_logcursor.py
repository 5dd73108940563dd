"""The log cursor against a simulated Livy log: two 200-line ring buffers and Livy's slicing."""

from __future__ import annotations

import random
from collections import deque

import pytest

from livyd._core.logcursor import FETCH_SIZE, LogCursor, gap_line, split_sections


class FakeLivyLog:
    """Livy's session log: bounded stdout/stderr buffers rendered with markers (livy-rest.md §10)."""

    def __init__(self, capacity: int = 200) -> None:
        self.out: deque[str] = deque(maxlen=capacity)
        self.err: deque[str] = deque(maxlen=capacity)

    def lines(self) -> list[str]:
        return ["stdout: ", *self.out, "\nstderr: ", *self.err]

    def page(self, from_: int | None = None, size: int | None = None) -> tuple[int, int, list[str]]:
        """(from, total, log) with Livy's defaults and clamping."""
        lines = self.lines()
        size = 100 if size is None else size
        if size < 0:
            size = len(lines)
        start = max(0, len(lines) - size) if from_ is None or from_ < 0 else from_
        return start, len(lines), lines[start : start + size]


def poll(cursor: LogCursor, log: FakeLivyLog) -> list[str]:
    params = cursor.params()
    start, _total, lines = log.page(params["from"], params["size"])
    return cursor.feed(lines, page_from=start)


def body(lines: list[str]) -> list[str]:
    return [x for x in lines if x not in ("stdout: ", "\nstderr: ")]


def test_params_ask_for_the_whole_buffer() -> None:
    assert LogCursor().params() == {"from": 0, "size": FETCH_SIZE}


def test_appends_without_wrapping_are_delivered_once() -> None:
    log, cursor = FakeLivyLog(), LogCursor()
    log.err.extend(["a", "b"])
    assert poll(cursor, log) == ["stdout: ", "\nstderr: ", "a", "b"]
    assert poll(cursor, log) == []
    log.err.append("c")
    assert poll(cursor, log) == ["c"]


def test_survives_the_ring_buffer_wrapping_many_times() -> None:
    rng = random.Random(7)
    log, cursor = FakeLivyLog(), LogCursor()
    written: list[str] = []
    got: list[str] = []
    n = 0
    while n < 2000:
        for _ in range(rng.randint(0, 150)):
            written.append(f"line {n}")
            log.err.append(f"line {n}")
            n += 1
        got.extend(body(poll(cursor, log)))
    assert got == written


def test_interleaved_streams_both_wrapping() -> None:
    rng = random.Random(3)
    log, cursor = FakeLivyLog(capacity=50), LogCursor()
    want_out: list[str] = []
    want_err: list[str] = []
    got: list[str] = []
    for step in range(300):
        for i in range(rng.randint(0, 20)):
            line = f"o{step}.{i}"
            log.out.append(line)
            want_out.append(line)
        for i in range(rng.randint(0, 20)):
            line = f"e{step}.{i}"
            log.err.append(line)
            want_err.append(line)
        got.extend(body(poll(cursor, log)))
    assert [x for x in got if x.startswith("o")] == want_out
    assert [x for x in got if x.startswith("e")] == want_err


def test_offset_tailing_would_have_failed_here() -> None:
    """The naive approach (from = previous total) loses lines once the buffer is full."""
    log = FakeLivyLog()
    log.err.extend(f"x{i}" for i in range(200))
    _, total, _ = log.page(size=-1)
    log.err.extend(["new1", "new2"])
    _, _, naive = log.page(from_=total, size=100)
    assert naive == []  # total stayed 202: the new lines are invisible to offset tailing
    cursor = LogCursor()
    log2 = FakeLivyLog()
    log2.err.extend(f"x{i}" for i in range(200))
    poll(cursor, log2)
    log2.err.extend(["new1", "new2"])
    assert poll(cursor, log2) == ["new1", "new2"]


def test_tail_start_delivers_only_the_last_lines_then_follows() -> None:
    log, cursor = FakeLivyLog(), LogCursor(start="tail", tail=3)
    log.err.extend(str(i) for i in range(10))
    assert poll(cursor, log) == ["7", "8", "9"]
    log.err.append("10")
    assert poll(cursor, log) == ["10"]
    assert LogCursor(start="tail", tail=0).feed(["a"]) == []


def test_offset_start() -> None:
    log, cursor = FakeLivyLog(), LogCursor(start=3)
    log.err.extend(["a", "b", "c"])
    assert poll(cursor, log) == ["b", "c"]  # lines: stdout:, stderr:, a, b, c
    log.err.append("d")
    assert poll(cursor, log) == ["d"]


def test_a_section_appearing_later_is_announced_with_its_marker() -> None:
    cursor = LogCursor()
    cursor.feed(["stdout: ", "x"])
    assert cursor.feed(["stdout: ", "x", "\nstderr: ", "boom"]) == ["\nstderr: ", "boom"]
    assert cursor.feed(["stdout: ", "x", "y", "\nstderr: ", "boom"]) == ["y"]


def test_pages_without_markers_are_one_stream() -> None:
    cursor = LogCursor()
    assert cursor.feed(["a", "b"]) == ["a", "b"]
    assert cursor.feed(["b", "c"]) == ["c"]
    assert split_sections(["a", "stdout: ", "b"]) == [("", ["a"]), ("stdout: ", ["b"])]


@pytest.mark.parametrize("burst", [250, 1000])
def test_more_new_lines_than_the_buffer_holds_are_not_repeated_and_the_gap_is_marked(burst: int) -> None:
    """Lines lost between two reads are marked where they were, and nothing is repeated."""
    log, cursor = FakeLivyLog(), LogCursor()
    log.err.extend(f"a{i}" for i in range(50))
    poll(cursor, log)
    log.err.extend(f"b{i}" for i in range(burst))
    got = body(poll(cursor, log))
    # what Livy still holds, once, after the gap line
    assert got == [gap_line("stderr", 200), *[f"b{i}" for i in range(burst - 200, burst)]]
    assert cursor.gaps == 1 and cursor.delivered == 50 + 2 + 200


def test_no_gap_line_without_a_wrap_or_for_rewritten_diagnostics() -> None:
    """A buffer that is not full, or YARN's rewritten diagnostics, never gets a gap line."""
    cursor = LogCursor()
    cursor.feed(["stdout: ", "x", "\nstderr: ", "e", "\nYARN Diagnostics: ", "accepted"])
    got = cursor.feed(["stdout: ", "y", "\nstderr: ", "e", "\nYARN Diagnostics: ", "running"])
    assert got == ["y", "running"] and cursor.gaps == 0


def test_following_from_the_beginning_of_a_full_buffer_marks_its_start() -> None:
    """A buffer already full at the first read may have lost its oldest lines: marked once."""
    log = FakeLivyLog()
    log.out.extend(f"o{i}" for i in range(500))
    log.err.append("e")
    got = poll(LogCursor(), log)
    assert got[:3] == ["stdout: ", gap_line("stdout", 200), "o300"]
    assert got[-2:] == ["\nstderr: ", "e"]
    assert poll(LogCursor(start="tail", tail=5), log) == ["o497", "o498", "o499", "\nstderr: ", "e"]


def test_a_full_buffer_after_an_empty_read_is_marked() -> None:
    """Nothing at the first read, then more than a buffer's worth: the start is marked."""
    log, cursor = FakeLivyLog(), LogCursor()
    assert poll(cursor, log) == ["stdout: ", "\nstderr: "]
    log.err.extend(f"e{i}" for i in range(300))
    got = poll(cursor, log)
    assert got[:2] == [gap_line("stderr", 200), "e100"] and len(got) == 201 and cursor.gaps == 1
