"""Following Livy's ``/log`` through its rolling buffers, without repeating or losing lines.

``GET /sessions/{id}/log`` (and ``/batches/{id}/log``) returns the lines held in *bounded
circular buffers of 200 lines per stream*, rendered as ``"stdout: "``, stdout lines,
``"\\nstderr: "``, stderr lines (and on YARN ``"\\nYARN Diagnostics: "`` ...). Offsets are
therefore not stable: once a buffer wraps, old lines vanish and everything after them shifts,
and new stdout lines appear in the *middle* of the page, before the stderr marker. Tailing by
offset (``from = previous total``) repeats or drops lines.

The cursor instead asks for the whole buffer each time (``from=0``, a large ``size``) and, per
section (the lines after each marker), finds the longest overlap between the end of what it
already delivered and the start of what the server holds now; everything after the overlap is
new. When nothing wrapped this is exactly "lines past the old end"; when the buffer wrapped by
*k* lines and *n* new ones arrived, the overlap is ``len(old) - k`` and the *n* new lines are
delivered once.

Limit (inherent, documented): when a buffer is full and the new lines are identical to the
ones that fell out (a log repeating one line), the overlap is ambiguous; the cursor then
prefers not to repeat lines.

Gaps: when more lines were written between two reads than a buffer holds, the ones in between
are gone from Livy and no client can get them. The cursor sees this as a full stdout/stderr
buffer that no longer holds any line it delivered (no overlap) and puts :func:`gap_line` in the
output at that place (also at the start of a buffer that is already full when following from the
beginning), so a reader knows lines may be missing there instead of losing them
silently (Livy's ``total`` counts only the lines held, so how many were lost cannot be known; when
exactly a buffer's worth was written, none were). A follower avoids gaps by polling fast while
lines flow.

Start modes: ``"beginning"`` (everything held now), ``"tail"`` (the last ``tail`` lines held
now), or an integer offset into the first page (``from`` offset semantics of Livy).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["BUFFER_LINES", "MARKERS", "LogCursor", "gap_line", "split_sections"]

#: Marker lines Livy puts in front of each buffer.
MARKERS = ("stdout: ", "\nstderr: ", "\nYARN Diagnostics: ")

#: ``size`` to ask for: larger than Livy ever holds (2 x 200 lines + markers + diagnostics).
FETCH_SIZE = 100_000

#: Lines per stream Livy keeps (``livy.cache-log.size``, 200 by default).
BUFFER_LINES = 200

#: The sections whose buffers wrap (YARN diagnostics is rewritten whole, not appended to).
_STREAMS = {"stdout: ": "stdout", "\nstderr: ": "stderr"}


def gap_line(stream: str, held: int) -> str:
    """The line a :class:`LogCursor` delivers where *stream*'s lines are missing."""
    return f"[livyd: {stream} lines may be missing here: Livy's {held}-line buffer wrapped between two reads]"


def split_sections(lines: Sequence[str]) -> list[tuple[str, list[str]]]:
    """Split a page into ``(marker, lines)`` sections; lines before any marker have marker ``""``."""
    sections: list[tuple[str, list[str]]] = []
    current: tuple[str, list[str]] = ("", [])
    for line in lines:
        if line in MARKERS:
            if current[0] or current[1]:
                sections.append(current)
            current = (line, [])
        else:
            current[1].append(line)
    if current[0] or current[1]:
        sections.append(current)
    return sections


def _overlap(old: Sequence[str], new: Sequence[str]) -> int:
    """Largest k such that old[-k:] == new[:k] (0 when none)."""
    for k in range(min(len(old), len(new)), 0, -1):
        if old[len(old) - k:] == new[:k]:
            return k
    return 0


@dataclass
class LogCursor:
    """Turns successive full ``/log`` pages into the lines not delivered yet.

    Use :meth:`params` for the query of the next request and :meth:`feed` with each answer.
    """

    start: str | int = "beginning"
    tail: int = 100
    #: Lines per stream the server keeps: a full buffer with no overlap is a gap.
    buffer_lines: int = BUFFER_LINES
    _seen: dict[str, list[str]] = field(default_factory=dict)
    _started: bool = False
    #: Log lines delivered so far (gap lines not counted).
    delivered: int = 0
    #: How many gaps were reported with :func:`gap_line`.
    gaps: int = 0

    def params(self) -> dict[str, int]:
        """Query parameters for the next ``/log`` request: always the whole buffer."""
        return {"from": 0, "size": FETCH_SIZE}

    def feed(self, lines: Sequence[str], *, page_from: int = 0) -> list[str]:
        """Return the new lines of this page (markers included once, when a section first appears).

        *page_from* is the ``from`` Livy echoed (0 for the requests :meth:`params` builds).
        """
        sections = split_sections(lines)
        out: list[str] = []
        if not self._started:
            self._started = True
            for marker, body in sections:
                self._seen[marker] = list(body)
            flat = list(lines)
            if self.start == "tail":
                out = flat[max(0, len(flat) - self.tail):] if self.tail > 0 else []
            elif isinstance(self.start, int):
                out = flat[max(0, self.start - page_from):]
            else:
                for marker, body in sections:  # = flat, with a gap line where a full buffer begins
                    if marker:
                        out.append(marker)
                    if marker in _STREAMS and len(body) >= self.buffer_lines:
                        self.gaps += 1
                        self.delivered -= 1
                        out.append(gap_line(_STREAMS[marker], len(body)))
                    out.extend(body)
        else:
            for marker, body in sections:
                old = self._seen.get(marker)
                if old is None:
                    fresh = list(body)
                    if marker:
                        out.append(marker)
                else:
                    fresh = list(body[_overlap(old, body):])
                if marker in _STREAMS and len(fresh) >= self.buffer_lines:
                    # a full buffer of lines all new since the last read: older ones may be gone
                    self.gaps += 1
                    self.delivered -= 1  # the gap line is not a log line
                    out.append(gap_line(_STREAMS[marker], len(fresh)))
                out.extend(fresh)
                self._seen[marker] = list(body)
        self.delivered += len(out)
        return out
