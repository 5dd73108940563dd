"""Did an ambiguous statement POST land? Matching after the last known id."""

from __future__ import annotations

from livyd._core.matching import find_landed, newest_id, normalize_code
from livyd._models import Statement


def st(i: int, code: str | None) -> Statement:
    return Statement(id=i, code=code, state="waiting")


def test_line_endings_are_normalised() -> None:
    assert normalize_code("a\r\nb\rc\n") == "a\nb\nc\n"
    found = find_landed([st(3, "x = 1\ny = 2")], "x = 1\r\ny = 2", after_id=2)
    assert found is not None and found.id == 3


def test_a_deliberate_second_run_is_not_mistaken_for_the_first() -> None:
    # statement 4 is the user's first run of the cell; we knew id 4 before submitting the second run
    statements = [st(3, "other"), st(4, "df.count()")]
    assert find_landed(statements, "df.count()", after_id=4) is None
    statements.append(st(5, "df.count()"))
    found = find_landed(statements, "df.count()", after_id=4)
    assert found is not None and found.id == 5


def test_oldest_match_in_window_wins_and_other_code_is_ignored() -> None:
    statements = [st(9, "a"), st(7, "a"), st(8, "b"), st(6, None)]
    found = find_landed(statements, "a", after_id=5)
    assert found is not None and found.id == 7
    assert find_landed(statements, "c", after_id=5) is None


def test_whitespace_other_than_line_endings_matters() -> None:
    assert find_landed([st(1, "x  = 1")], "x = 1", after_id=0) is None


def test_newest_id() -> None:
    assert newest_id([]) == -1
    assert newest_id([st(2, "a"), st(11, "b"), st(5, "c")]) == 11
