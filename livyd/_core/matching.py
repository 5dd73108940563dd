"""Did an ambiguous statement POST land? Matching by code after the last known statement id.

When ``POST /sessions/{id}/statements`` fails ambiguously (the connection dropped after the body
was sent, a read timeout, a gateway 502/503/504), Livy may or may not have queued the statement.
Re-sending blindly could run it twice; giving up could lose it. Livy stores each statement's
``code`` (line endings normalised, 0.4+), so the client:

1. remembers the highest statement id it knew *before* this submission (``after_id``);
2. lists the statements newer than that (``order=desc`` pages on 0.8+, the whole retained tail of
   at most 100 before);
3. looks for one whose code equals the submitted code after line-ending normalisation.

Because the window starts after ``after_id``, a cell the user deliberately runs twice is still
run twice: the first run has an id ``<= after_id`` and cannot match the second submission.
When several statements in the window match (another client submitted the same code at the same
moment) the oldest is taken: it is the one most likely to be ours.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar

__all__ = ["HasIdAndCode", "find_landed", "newest_id", "normalize_code"]


class HasIdAndCode(Protocol):
    """Anything with a statement ``id`` and ``code`` (``livyd.Statement`` or a dict adapter)."""

    @property
    def id(self) -> int: ...

    @property
    def code(self) -> str | None: ...


S = TypeVar("S", bound=HasIdAndCode)


def normalize_code(code: str) -> str:
    """CRLF and lone CR become LF, the way the Livy driver stores code."""
    return code.replace("\r\n", "\n").replace("\r", "\n")


def find_landed(statements: Iterable[S], code: str, after_id: int) -> S | None:
    """The oldest statement with ``id > after_id`` whose normalised code equals *code*'s."""
    wanted = normalize_code(code)
    best: S | None = None
    for st in statements:
        matches = st.id > after_id and st.code is not None and normalize_code(st.code) == wanted
        if matches and (best is None or st.id < best.id):
            best = st
    return best


def newest_id(statements: Iterable[HasIdAndCode], default: int = -1) -> int:
    """The highest statement id in *statements*, or *default* when there are none."""
    return max((st.id for st in statements), default=default)
