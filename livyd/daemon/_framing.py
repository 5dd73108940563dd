"""Sans-IO parser of LSP base-protocol frames (``Content-Length`` header, blank line, body).

The daemon reads whatever an editor, a script or a broken pipe sends. This parser never stalls
and never loses its place for good: bytes are fed in, events come out, and after garbage it finds
the next frame by its ``Content-Length:`` header.

* Garbage before a header (stray bytes, a half-written line) is skipped up to the next
  ``Content-Length:``; a header block that cannot be used yields :class:`BadHeader` once.
* A ``Content-Length`` above the limit yields :class:`TooLarge`; its body is discarded as it
  arrives, never buffered. An absurd length (more than :data:`MAX_LENGTH_DIGITS` digits: no real
  frame is that big) is a malformed header instead, so the frame after it is still read.
* A body that turns out not to be JSON may be the remains of a truncated frame glued to the
  next one; :meth:`FrameParser.resync` puts back what follows a ``Content-Length:`` inside it,
  so only the broken frame is lost.

Nothing here touches a socket: tests drive it byte by byte.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["MAX_HEADER_BYTES", "MAX_LENGTH_DIGITS", "BadHeader", "Frame", "FrameParser", "TooLarge"]

_HEADER = re.compile(rb"content-length[ \t]*:", re.IGNORECASE)
_NAME = b"content-length:"
_HEADER_LINE = re.compile(rb"[A-Za-z0-9-]+[ \t]*:[^\r\n]*\r?")
#: A header block longer than this without its blank line is garbage.
MAX_HEADER_BYTES = 8 * 1024
#: A Content-Length with more digits than this (a petabyte) is garbage, not a frame to discard.
MAX_LENGTH_DIGITS = 15


@dataclass(frozen=True)
class Frame:
    """A complete frame's body."""

    body: bytes


@dataclass(frozen=True)
class BadHeader:
    """Bytes that were not a usable frame header were skipped."""

    reason: str


@dataclass(frozen=True)
class TooLarge:
    """A frame above the size limit; its body is being discarded."""

    length: int


Event = Frame | BadHeader | TooLarge


class FrameParser:
    """Feed bytes with :meth:`feed`; take events with :meth:`next_event` until it returns None."""

    def __init__(self, max_frame: int) -> None:
        self.max_frame = max_frame
        self._buf = bytearray()
        self._skip = 0  # body bytes of a too-large frame still to discard
        self._length: int | None = None  # parsed header, body pending
        self._reported = False  # a BadHeader was given for the current run of garbage

    @property
    def buffered(self) -> int:
        """Bytes held (never more than one frame's body plus a header)."""
        return len(self._buf)

    def feed(self, data: bytes) -> None:
        if self._skip:
            dropped = min(self._skip, len(data))
            self._skip -= dropped
            data = data[dropped:]
        self._buf += data

    def resync(self, body: bytes) -> None:
        """*body* was not a message: if a frame header starts inside it, parse again from there.

        A truncated frame swallows the start of the next one; that start may be a whole header
        or only its first letters (``Conte``), which are put back too."""
        m = _HEADER.search(body, 1)
        if m is not None:
            self._buf[:0] = body[m.start():]
            return
        lowered = body[-len(_NAME):].lower()
        for n in range(min(len(_NAME), len(body)) - 1, 0, -1):
            if lowered.endswith(_NAME[:n]):
                self._buf[:0] = body[-n:]
                return

    def next_event(self) -> Event | None:
        while True:
            if self._skip:
                return None
            if self._length is not None:
                break
            event = self._parse_header()
            if isinstance(event, BadHeader):
                if self._reported:  # one report per run of garbage, however it trickles in
                    continue
                self._reported = True
                return event
            if event is not None:
                return event
            if self._length is None:
                return None
        length = self._length
        if len(self._buf) < length:
            return None
        body = bytes(self._buf[:length])
        del self._buf[:length]
        self._length = None
        self._reported = False
        return Frame(body)

    def _parse_header(self) -> BadHeader | TooLarge | None:
        """Consume one header block if complete; sets ``_length`` or returns an event."""
        start = self._start_of_header()
        if start is None:
            end = _end_of_headers(self._buf, 0)
            if end is not None:  # a whole header block, but no Content-Length in it
                del self._buf[: end[1]]
                return BadHeader("Content-Length needed")
            return self._garbage_only()
        end = _end_of_headers(self._buf, start)
        if end is None:
            if len(self._buf) - start > MAX_HEADER_BYTES:
                del self._buf[: start + 1]  # not a header after all: look further on
                return BadHeader("frame header too long")
            skipped = start
            del self._buf[:start]
            return BadHeader(f"skipped {skipped} bytes before a frame header") if skipped else None
        block = bytes(self._buf[start:end[0]])
        skipped = start
        del self._buf[: end[1]]
        length = _content_length(block)
        if length is None:
            return BadHeader("Content-Length must be a non-negative integer")
        if length > self.max_frame:
            dropped = min(length, len(self._buf))
            del self._buf[:dropped]
            self._skip = length - dropped
            return TooLarge(length)
        self._length = length
        if skipped:
            return BadHeader(f"skipped {skipped} bytes before a frame header")
        return None

    def _start_of_header(self) -> int | None:
        """Where the header block holding the next ``Content-Length`` starts: that line, and the
        well-formed header lines (``Content-Type: ...``) right before it."""
        m = _HEADER.search(self._buf)
        if m is None:
            return None
        line_start = self._buf.rfind(b"\n", 0, m.start()) + 1
        if line_start != m.start():
            return m.start()  # bytes before it on its line are garbage
        start = line_start
        while start > 0:
            prev = self._buf.rfind(b"\n", 0, start - 1) + 1
            if not _HEADER_LINE.fullmatch(self._buf, prev, start - 1):
                break
            start = prev
        return start

    def _garbage_only(self) -> BadHeader | None:
        """No header in sight: keep only a tail that could be the start of one."""
        keep = len(b"content-length:") - 1
        if len(self._buf) <= keep:
            return None
        dropped = len(self._buf) - keep
        del self._buf[:dropped]
        return BadHeader(f"skipped {dropped} bytes that are not a frame")


def _end_of_headers(buf: bytearray, start: int) -> tuple[int, int] | None:
    """(end of the header lines, start of the body), accepting CRLF or bare LF line ends."""
    crlf = buf.find(b"\r\n\r\n", start)
    lf = buf.find(b"\n\n", start)
    candidates = [(i, i + 4) for i in (crlf,) if i >= 0] + [(i, i + 2) for i in (lf,) if i >= 0]
    return min(candidates) if candidates else None


def _content_length(block: bytes) -> int | None:
    for line in block.splitlines():
        name, sep, value = line.partition(b":")
        if sep and name.strip().lower() == b"content-length":
            text = value.strip()
            if not text.isdigit() or len(text.lstrip(b"0")) > MAX_LENGTH_DIGITS:
                return None
            return int(text)
    return None
