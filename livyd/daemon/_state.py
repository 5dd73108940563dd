"""Per-workspace persistence: the daemon's state file, its output log, and the writer lock.

Layout of a workspace's state directory (``<user_state_dir>/livyd/workspaces/<hash>/`` unless
``settings.stateDir`` says otherwise)::

    lock            flock()ed by the daemon that owns the directory (one writer at a time)
    state.json      the sessions this daemon created and its unfinished tasks (rewritten atomically)
    outputs.jsonl   every completed output, appended *before* it is notified
    outputs/<taskId>.json   whole outputs that were too big for a notification

A second daemon on the same workspace cannot take the lock: it runs without persistence and says
so (window/showMessage), rather than corrupting the first one's state.

**Never on the event loop, never per event.** :class:`StateWriter` takes "the state changed"
marks (O(1) each, however many tasks there are) and writes ``state.json`` from one background
task in a worker thread: marks that arrive while a write is in flight are folded into the next
one, and writes come at most every :data:`WRITE_INTERVAL` (0.1 s), so 200 queued statements cost
a handful of writes, not 861, and a thousand running ones a few per second. The output log is appended in a
worker thread too, before the output is notified.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import anyio

from livyd.daemon._wire import dumps, loads

__all__ = ["StateStore", "StateWriter", "default_state_dir"]


def default_state_dir(workspace: str) -> Path:
    """The platformdirs state directory for *workspace*."""
    import platformdirs

    digest = hashlib.sha256(os.path.realpath(workspace).encode()).hexdigest()[:16]
    return Path(platformdirs.user_state_dir("livyd")) / "workspaces" / digest


class StateStore:
    """Owns one workspace's state directory while the lock is held."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock_file: BinaryIO | None = None

    @property
    def locked(self) -> bool:
        """Whether this daemon owns the directory."""
        return self._lock_file is not None

    def acquire(self) -> bool:
        """Create the directory (private to the user) and take its lock; ``False`` if another holds it."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        (self.directory / "outputs").mkdir(exist_ok=True, mode=0o700)
        f = open(self.directory / "lock", "ab")  # noqa: SIM115 - held for the daemon's lifetime
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.close()
            return False
        self._lock_file = f
        return True

    def release(self) -> None:
        """Drop the lock."""
        if self._lock_file is not None:
            fcntl.flock(self._lock_file.fileno(), fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None

    def load(self) -> dict[str, Any]:
        """The saved state, or an empty one (a corrupt file is set aside, not fatal)."""
        path = self.directory / "state.json"
        try:
            data = loads(path.read_bytes())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            path.replace(path.with_suffix(".corrupt"))
            return {}
        return data if isinstance(data, dict) else {}

    def save(self, data: dict[str, Any]) -> None:
        """Atomically replace state.json (only while locked)."""
        if not self.locked:
            return
        # One temporary file per writing thread: the final synchronous save at exit never tears a
        # write the writer thread is still finishing.
        tmp = self.directory / f"state.json.{threading.get_ident()}.tmp"
        tmp.write_bytes(dumps(data))  # orjson: a big state holds the GIL briefly
        tmp.replace(self.directory / "state.json")

    def append_output(self, record: dict[str, Any] | bytes) -> int | None:
        """Append one completed output (a record, or its JSON already encoded) to outputs.jsonl
        and fsync it; return the byte offset of its line (for :meth:`read_output`), or None when
        this daemon does not own the directory."""
        if not self.locked:
            return None
        # orjson: a 20 MB output holds the GIL for milliseconds, not the 100+ of json.dumps; the
        # newline is written after it, not joined to it (a 20 MB copy)
        line = record if isinstance(record, bytes) else dumps(record)
        with open(self.directory / "outputs.jsonl", "ab") as f:
            offset = f.seek(0, os.SEEK_END)
            f.write(line)
            f.write(b"\n")
            f.flush()
            os.fsync(f.fileno())
        return offset

    def read_output(self, offset: int) -> dict[str, Any] | None:
        """The output record appended at *offset* (None if the log no longer holds it)."""
        try:
            with open(self.directory / "outputs.jsonl", "rb") as f:
                f.seek(offset)
                record = loads(f.readline())
        except (OSError, ValueError):
            return None
        return record if isinstance(record, dict) else None

    def write_full_output(self, task_id: str, record: dict[str, Any] | bytes) -> Path:
        """Write a whole (too big) output (a record, or its JSON already encoded) to its own file;
        return the path."""
        directory = self.directory / "outputs"
        directory.mkdir(parents=True, exist_ok=True)
        safe = "".join(c for c in task_id if c.isalnum() or c in "-_")
        path = directory / f"{safe}.json"
        path.write_bytes(record if isinstance(record, bytes) else dumps(record))
        return path


#: The shortest time between two writes of state.json: marks within it are folded into one write,
#: so a daemon running a thousand queued statements writes a few times a second, not once per event.
WRITE_INTERVAL = 0.1


class StateWriter:
    """Writes the state file off the event loop, folding marks that arrive meanwhile (see the
    module docstring). *snapshot()* builds what is saved; it runs on the loop, once per write,
    at most every *interval* seconds."""

    def __init__(self, store: StateStore, snapshot: Callable[[], dict[str, Any]], *,
                 interval: float = WRITE_INTERVAL) -> None:
        self.store = store
        self.snapshot = snapshot
        self.interval = interval
        self._dirty = False
        self._wake = anyio.Event()
        self.running = False
        #: Writes done (a benchmark and test figure).
        self.writes = 0

    def mark(self) -> None:
        """The state changed: it will be written soon (at once if no writer task runs)."""
        self._dirty = True
        if self.running:
            self._wake.set()
        else:
            self.flush()

    def flush(self) -> None:
        """Write now, synchronously (start-up, shutdown)."""
        self._dirty = False
        self._save(self.snapshot())

    def _save(self, data: dict[str, Any]) -> None:
        try:
            self.store.save(data)
            self.writes += 1
        except OSError as exc:
            from livyd._logging import get_logger

            get_logger("livyd.daemon.state").warning("could not save daemon state", error=str(exc))

    async def run(self) -> None:
        """The writer task (a child of the daemon's task group)."""
        self.running = True
        try:
            while True:
                await self._wake.wait()
                self._wake = anyio.Event()
                while self._dirty:
                    self._dirty = False
                    data = self.snapshot()
                    started = anyio.current_time()
                    await anyio.to_thread.run_sync(self._save, data)
                    del data
                    # what changed meanwhile (and until the interval is over) goes in the next write
                    await anyio.sleep(max(0.0, self.interval - (anyio.current_time() - started)))
        finally:
            self.running = False
