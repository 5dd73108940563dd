"""What the daemon writes to stdout: JSON encoded once, frames written off the event loop.

A 20 MB output used to be ``json.dumps``-ed several times on the event loop (each ~100 ms under
the GIL) and written to stdout in one blocking write, so every other editor request waited.

* :func:`dumps` encodes with orjson (about ten times faster than the standard library, UTF-8
  out, no ASCII escaping), falling back to the standard library for what orjson refuses (an
  integer beyond 64 bits). The bytes it produces are the bytes on the wire, so sizes measured with
  it (:func:`wire_size`) are exactly what an editor receives.
* :class:`FrameWriter` is the only writer of the real stdout: frames are queued and written, in
  order, by one thread, so a slow reader (or a big frame) never blocks the loop.
"""

from __future__ import annotations

import asyncio
import json
import queue
import threading
from typing import Any, BinaryIO

__all__ = ["FrameWriter", "dumps", "frame", "loads", "wire_size"]

try:
    import orjson

    _OPTIONS = orjson.OPT_NON_STR_KEYS

    def _fast(value: Any, default: Any) -> bytes:
        return orjson.dumps(value, default=default, option=_OPTIONS)

    _FAST_ERRORS: tuple[type[Exception], ...] = (orjson.JSONEncodeError,)
except ImportError:  # pragma: no cover - orjson is a dependency; keep working without it
    _fast = None  # type: ignore[assignment]
    _FAST_ERRORS = ()


def dumps(value: Any, default: Any = None) -> bytes:
    """*value* as compact JSON bytes (UTF-8); *default* converts what JSON does not know. What
    orjson refuses (an integer beyond 64 bits, a lone surrogate) goes through the standard
    library (a lone surrogate as its ``\\uXXXX`` escape)."""
    if _fast is not None:
        try:
            return _fast(value, default)
        except _FAST_ERRORS:
            pass
    text = json.dumps(value, default=default, ensure_ascii=False, separators=(",", ":"))
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, default=default, separators=(",", ":")).encode("ascii")


def loads(data: bytes) -> Any:
    """The JSON value of *data* (orjson when it can)."""
    if _fast is not None:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    return json.loads(data)


def wire_size(value: Any) -> int:
    """Bytes of *value* as JSON on the wire (what :func:`dumps` writes)."""
    return len(dumps(value))


def frame(body: bytes) -> bytes:
    """An LSP base-protocol frame around *body*."""
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


_STOP = object()


class FrameWriter:
    """Writes frames to *stream* from one thread, in the order they were given.

    Frames written during one turn of the event loop are handed to the thread together at the
    end of that turn: one wake-up of the writer (and one flush) for the handful of notifications
    a finished statement causes, not one each."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        #: Written during this turn of the loop, not handed over yet.
        self._pending: list[bytes] | None = None
        self.closed = False
        self._thread = threading.Thread(target=self._run, name="livyd-stdout", daemon=True)
        self._thread.start()

    def write(self, data: bytes) -> None:
        """Queue *data* (whole frames, or consecutive pieces of one) for writing; never blocks."""
        if self.closed:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not on the event loop (its pending list is the loop's alone)
            self._queue.put(data)
            return
        if self._pending is not None:
            self._pending.append(data)
            return
        self._pending = [data]
        loop.call_soon(self._hand_over)

    def _hand_over(self) -> None:
        pending, self._pending = self._pending, None
        if pending:
            self._queue.put(pending)

    def _write(self, item: bytes | list[bytes]) -> None:
        if isinstance(item, list):
            self._stream.writelines(item)
        else:
            self._stream.write(item)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            try:
                self._write(item)
                # Everything queued meanwhile goes out before the flush (fewer syscalls).
                while True:
                    try:
                        more = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if more is _STOP:
                        self._stream.flush()
                        return
                    self._write(more)
                self._stream.flush()
            except (BrokenPipeError, ValueError, OSError):
                self.closed = True  # the editor is gone: drop what comes
            # Not held while waiting for the next frame: a 20 MB output would stay alive until then.
            item = more = None

    def drain(self, timeout: float = 10.0) -> None:
        """Write what is queued, then stop the thread (at exit)."""
        self._hand_over()  # what the last turn of the loop wrote
        self._queue.put(_STOP)
        self._thread.join(timeout)

    def close(self) -> None:
        """pygls calls this on exit; stdout stays open until :meth:`drain`."""
