"""A lean JSON-RPC client for ``livyd --stdio``, built for measuring (not livyd's harness).

Frames are parsed as they arrive and dispatched at once: a response wakes its request, a
``livy/output`` wakes whoever waits for that task, so the time measured is the daemon's, not a
client scanning its message list. Every arrival is stamped with ``time.monotonic()``.

The daemon's stdout is read by a thread of its own (one blocking read of the frame's size into
one bytes object: one copy, the GIL released while the kernel copies), which stamps each frame's arrival and
hands it to the event loop; so neither a big frame's reading nor the loop's other work delays the
stamp of the ``livy/status`` replies queued behind it. With :attr:`Daemon.defer_over` set, a frame
bigger than that is not parsed when it arrives but queued unparsed in :attr:`Daemon.deferred` with
its arrival time: parsing 20 MB of JSON holds this process for tens of milliseconds, and the
pings' replies would charge the daemon with the benchmark's own stall. The caller parses it later
(and adds the parse to the delivery time, as the raw-read baseline includes its ``json.loads``).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any


class RpcError(Exception):
    """The daemon answered with a JSON-RPC error."""


class Daemon:
    """One ``livyd --stdio`` process (``--standalone`` unless *command* says otherwise)."""

    def __init__(self, proc: asyncio.subprocess.Process, stdout_fd: int) -> None:
        self.proc = proc
        self._next = 0
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._outputs: dict[str, asyncio.Future[tuple[float, dict[str, Any]]]] = {}
        self.listeners: list[Callable[[str, Any, float], None]] = []
        self.stderr = bytearray()
        self.defer_over: int | None = None
        self.deferred: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        self._loop = asyncio.get_running_loop()
        self.exited = asyncio.Event()
        self.reader = threading.Thread(
            target=self._read, args=(stdout_fd,), name="bench-rpc-reader", daemon=True
        )
        self.reader.start()
        self.stderr_task = self._loop.create_task(self._drain())

    @classmethod
    async def spawn(
        cls, command: list[str] | None = None, env: dict[str, str] | None = None, cwd: str | None = None
    ) -> Daemon:
        cmd = command or [sys.executable, "-m", "livyd", "--stdio", "--standalone"]
        read_fd, write_fd = os.pipe()
        try:
            proc = await asyncio.create_subprocess_exec(
                *cmd,
                stdin=asyncio.subprocess.PIPE,
                stdout=write_fd,
                stderr=asyncio.subprocess.PIPE,
                env={**os.environ, **(env or {})},
                cwd=cwd,
            )
        except BaseException:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)
        return cls(proc, read_fd)

    async def _drain(self) -> None:
        assert self.proc.stderr is not None
        while chunk := await self.proc.stderr.read(65536):
            self.stderr += chunk[-100_000:]

    def _read(self, fd: int) -> None:
        """The reader thread: frames off the pipe, each stamped when its last byte is in."""
        with io.BufferedReader(io.FileIO(fd, "rb"), 1 << 16) as stream:
            while True:
                length = -1
                while line := stream.readline():
                    if line in (b"\r\n", b"\n"):
                        break
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                if not line or length < 0:
                    break
                # One bytes object of the frame's size, filled by the kernel while the GIL is
                # released (a bytearray(length) would zero 20 MB first, holding the GIL).
                body = stream.read(length)
                if len(body) < length:
                    break
                now = time.monotonic()
                try:
                    self._loop.call_soon_threadsafe(self._arrived, now, body)
                except RuntimeError:  # the loop is closed
                    return
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._eof)

    def _arrived(self, now: float, body: bytes) -> None:
        if self.defer_over is not None and len(body) > self.defer_over:
            self.deferred.put_nowait((now, body))
            return
        self._dispatch(json.loads(body), now)

    def _eof(self) -> None:
        self.exited.set()
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(RpcError("the daemon exited"))

    def _dispatch(self, message: dict[str, Any], now: float) -> None:
        if "method" in message and "id" in message:  # a server-to-client request
            self._write({"jsonrpc": "2.0", "id": message["id"], "result": None})
            return
        if "method" in message:
            method, params = message["method"], message.get("params")
            if method == "livy/output":
                fut = self._outputs.setdefault(params["taskId"], asyncio.get_running_loop().create_future())
                if not fut.done():
                    fut.set_result((now, params))
            for listener in self.listeners:
                listener(method, params, now)
            return
        fut = self._pending.pop(message.get("id"), None)  # type: ignore[arg-type]
        if fut is not None and not fut.done():
            if "error" in message:
                fut.set_exception(RpcError(str(message["error"])))
            else:
                fut.set_result(message.get("result"))

    def _write(self, message: dict[str, Any]) -> None:
        body = json.dumps(message).encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    async def request(self, method: str, params: Any = None, timeout: float = 120) -> Any:  # noqa: ASYNC109
        self._next += 1
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[self._next] = fut
        self._write({"jsonrpc": "2.0", "id": self._next, "method": method, "params": params or {}})
        return await asyncio.wait_for(fut, timeout)

    def notify(self, method: str, params: Any = None) -> None:
        self._write({"jsonrpc": "2.0", "method": method, "params": params or {}})

    async def output(self, task_id: str, timeout: float = 600) -> tuple[float, dict[str, Any]]:  # noqa: ASYNC109
        """(arrival time, params) of the task's ``livy/output``."""
        fut = self._outputs.setdefault(task_id, asyncio.get_running_loop().create_future())
        try:
            return await asyncio.wait_for(asyncio.shield(fut), timeout)
        finally:
            if fut.done():
                self._outputs.pop(task_id, None)

    async def initialize(self, settings: dict[str, Any], workspace: str) -> dict[str, Any]:
        result = await self.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": None,
                "capabilities": {},
                "initializationOptions": {"profile": None, "workspace": workspace, "settings": settings},
            },
        )
        self.notify("initialized", {})
        return dict(result)

    def peak_rss_mb(self) -> float:
        """The daemon's peak resident set (VmHWM), in MiB."""
        return _status_kb(self.proc.pid, "VmHWM") / 1024

    def rss_mb(self) -> float:
        return _status_kb(self.proc.pid, "VmRSS") / 1024

    async def close(self) -> None:
        if self.proc.returncode is None:
            try:
                await self.request("shutdown", timeout=10)
                self.notify("exit")
                await asyncio.wait_for(self.proc.wait(), 10)
            except (RpcError, TimeoutError, ConnectionError, BrokenPipeError):
                pass
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        self.stderr_task.cancel()


def _status_kb(pid: int, field: str) -> float:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return float(line.split()[1])
    except OSError:
        pass
    return float("nan")
