"""Livy's log buffers: 200 lines per stream, rendered and sliced the way the server does it.

Real Livy keeps the output of the process it launched (spark-submit, the driver) in one bounded
circular buffer per stream (``livy.cache-log.size`` = 200 lines) and renders them as::

    ["stdout: ", <stdout lines...>, "\\nstderr: ", <stderr lines...>]

(livy-rest.md section 10). ``GET .../log`` then slices that rendered list with a peculiar
algorithm: ``size`` defaults to 100 (negative means "everything"), ``from`` defaults to -1 and a
negative ``from`` means "the tail": ``max(0, total - size)``. Because the buffers are circular,
offsets are not stable once a stream wraps; clients that page with ``from`` see lines shift.
This module reproduces exactly that, including the two marker lines counted in ``total``.

Partial lines (output without a trailing newline) are held back until the newline arrives, so a
line is never split across two entries; :meth:`LogBuffer.flush` pushes a held-back fragment.
"""

from __future__ import annotations

from collections import deque
from typing import Literal

__all__ = ["LOG_LINES_PER_STREAM", "LogBuffer", "slice_log"]

LOG_LINES_PER_STREAM = 200

Stream = Literal["stdout", "stderr"]


class LogBuffer:
    """Two ring buffers (stdout, stderr) of at most *capacity* lines each."""

    def __init__(self, capacity: int = LOG_LINES_PER_STREAM) -> None:
        self._lines: dict[str, deque[str]] = {
            "stdout": deque(maxlen=capacity),
            "stderr": deque(maxlen=capacity),
        }
        self._partial: dict[str, str] = {"stdout": "", "stderr": ""}

    def add_line(self, stream: str, line: str) -> None:
        """Append one complete line (without its newline) to *stream* (``stdout``/``stderr``)."""
        key = "stderr" if stream == "stderr" else "stdout"
        self._lines[key].append(line.rstrip("\r\n"))

    def write(self, stream: str, text: str) -> None:
        """Append raw *text* (may hold several or partial lines) to *stream*."""
        key = "stderr" if stream == "stderr" else "stdout"
        data = self._partial[key] + text
        *complete, rest = data.split("\n")
        for line in complete:
            self._lines[key].append(line.rstrip("\r"))
        self._partial[key] = rest

    def flush(self) -> None:
        """Push any held-back partial line of either stream as a line of its own."""
        for key, rest in self._partial.items():
            if rest:
                self._lines[key].append(rest)
                self._partial[key] = ""

    def lines(self) -> list[str]:
        """The rendered log: ``"stdout: "``, stdout lines, ``"\\nstderr: "``, stderr lines."""
        return ["stdout: ", *self._lines["stdout"], "\nstderr: ", *self._lines["stderr"]]

    def tail(self, n: int = 10) -> list[str]:
        """The last *n* rendered lines (what the session/batch JSON ``log`` field shows)."""
        rendered = self.lines()
        return rendered[-n:] if n > 0 else []


def slice_log(lines: list[str], from_: int | None, size: int | None) -> tuple[int, list[str]]:
    """Livy's ``from``/``size`` algorithm (section 10); returns ``(effective from, slice)``.

    >>> slice_log(["a", "b", "c"], None, 2)
    (1, ['b', 'c'])
    """
    total = len(lines)
    eff_size = 100 if size is None else size
    if eff_size < 0:
        eff_size = total
    eff_from = -1 if from_ is None else from_
    if eff_from < 0:
        eff_from = max(0, total - eff_size)
    return eff_from, lines[eff_from : eff_from + eff_size]
