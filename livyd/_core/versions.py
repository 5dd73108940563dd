"""Livy versions, parsed and compared numerically, and what each version understands.

``GET /version`` answers e.g. ``{"version": "0.9.0-incubating", ...}``. Versions are compared as
integers (``0.10.0`` is newer than ``0.9.0``; pylivy compares the parts as *strings* and gets that
wrong). Older Livy rejects unknown JSON fields with 400, so a request may only carry the fields
the server's version knows (:data:`SESSION_FIELD_SINCE`), and ``order=desc`` on the statements
list exists only from 0.8 (older versions ignore it, which silently breaks positional slicing).

A version string we cannot parse is treated as :data:`CONSERVATIVE` (0.7.0): the client then
sends nothing newer than 0.7 understood, which works against every Livy still in use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "BATCH_FIELD_SINCE",
    "CONSERVATIVE",
    "SESSION_FIELD_SINCE",
    "LivyVersion",
    "parse_version",
]

_VERSION = re.compile(r"^\s*v?(\d+)\.(\d+)(?:\.(\d+))?(\S*)\s*$")


@dataclass(frozen=True, eq=False)
class LivyVersion:
    """A Livy version; ordering is numeric on ``(major, minor, patch)``.

    ``suffix`` (e.g. ``-incubating``, ``-SNAPSHOT``) is kept for display and ignored when comparing.
    """

    major: int
    minor: int
    patch: int = 0
    suffix: str = ""

    @classmethod
    def parse(cls, text: str) -> LivyVersion:
        """Parse ``"0.9.0-incubating"``; raise :class:`ValueError` naming the text otherwise."""
        m = _VERSION.match(text or "")
        if not m:
            raise ValueError(f"not a Livy version: {text!r}")
        return cls(int(m.group(1)), int(m.group(2)), int(m.group(3) or 0), m.group(4) or "")

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, LivyVersion):
            return NotImplemented
        return self.key < other.key

    def __le__(self, other: object) -> bool:
        if not isinstance(other, LivyVersion):
            return NotImplemented
        return self.key <= other.key

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, LivyVersion):
            return NotImplemented
        return self.key > other.key

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, LivyVersion):
            return NotImplemented
        return self.key >= other.key

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LivyVersion):
            return NotImplemented
        return self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    @property
    def key(self) -> tuple[int, int, int]:
        """The numeric comparison key."""
        return (self.major, self.minor, self.patch)

    def at_least(self, major: int, minor: int, patch: int = 0) -> bool:
        """``self >= major.minor.patch``, numerically."""
        return self.key >= (major, minor, patch)

    @property
    def supports_order_desc(self) -> bool:
        """``GET .../statements?order=desc`` (0.8+; older Livy ignores it)."""
        return self.at_least(0, 8)

    @property
    def supports_idle_timeout(self) -> bool:
        """The ``idleTimeout`` session field (0.9+)."""
        return self.at_least(0, 9)

    @property
    def supports_ttl(self) -> bool:
        """The ``ttl`` session field (0.8+)."""
        return self.at_least(0, 8)

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}{self.suffix}"


CONSERVATIVE = LivyVersion(0, 7, 0, "")

#: Request fields of POST /sessions that did not exist from the start, with the first version
#: that accepts them. Every other field is known to every supported version (0.5+).
SESSION_FIELD_SINCE: dict[str, tuple[int, int, int]] = {
    "ttl": (0, 8, 0),
    "idleTimeout": (0, 9, 0),
}

#: Same for POST /batches (all fields are old).
BATCH_FIELD_SINCE: dict[str, tuple[int, int, int]] = {}


def parse_version(text: str | None) -> LivyVersion:
    """Parse *text*, falling back to :data:`CONSERVATIVE` when it is missing or unparseable."""
    try:
        return LivyVersion.parse(text or "")
    except ValueError:
        return CONSERVATIVE
