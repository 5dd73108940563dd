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
    """Writes frames to *stream* from one thread, in the order they were given."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.closed = False
        self._thread = threading.Thread(target=self._run, name="livyd-stdout", daemon=True)
        self._thread.start()

    def write(self, data: bytes) -> None:
        """Queue *data* (whole frames) for writing; never blocks."""
        if not self.closed:
            self._queue.put(data)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            try:
                self._stream.write(item)
                # Everything queued meanwhile goes out before the flush (fewer syscalls).
                while True:
                    try:
                        more = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if more is _STOP:
                        self._stream.flush()
                        return
                    self._stream.write(more)
                self._stream.flush()
            except (BrokenPipeError, ValueError, OSError):
                self.closed = True  # the editor is gone: drop what comes

    def drain(self, timeout: float = 10.0) -> None:
        """Write what is queued, then stop the thread (at exit)."""
        self._queue.put(_STOP)
        self._thread.join(timeout)

    def close(self) -> None:
        """pygls calls this on exit; stdout stays open until :meth:`drain`."""
