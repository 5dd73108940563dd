"""A small Python client for the livyd daemon protocol (headless harness).

Spawns ``livyd --stdio`` (or any command) and speaks LSP framing to it. It is what the tests use,
and it is importable by users who want to script the daemon::

    async with DaemonClient.spawn() as client:
        await client.initialize({"profile": None, "settings": {"url": "http://127.0.0.1:8998"}})
        started = await client.request("livy/execute", {"code": "1 + 1"})
        out = await client.wait_for_notification(
            "livy/output", lambda p: p["taskId"] == started["taskId"], timeout=60)
        print(out["data"]["text/plain"])

The reader is strict on purpose: every byte the daemon writes to stdout must belong to a
well-formed frame (``Content-Length`` header, JSON body), and every frame must match the
protocol's JSON Schema (:class:`FrameValidator`, when ``jsonschema`` is installed). Anything else
is recorded in :attr:`DaemonClient.stdout_violations`, which tests assert to be empty.

Server-to-client requests (``window/workDoneProgress/create``, ...) are answered with ``null``
and recorded like notifications. stderr is drained continuously (a full pipe would block the
daemon).
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
from anyio.abc import ByteReceiveStream, Process, TaskGroup

__all__ = ["DaemonClient", "DaemonRequestError", "Message"]


class DaemonRequestError(Exception):
    """The daemon answered a request with a JSON-RPC error."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.data = data


@asynccontextmanager
async def _unwrap_single() -> AsyncIterator[None]:
    """Re-raise a lone exception out of a task group's ExceptionGroup (clearer test failures)."""
    try:
        yield
    except BaseExceptionGroup as group:
        if len(group.exceptions) == 1:
            raise group.exceptions[0] from None
        raise


@dataclass
class Message:
    """A message received from the daemon, with its arrival order."""

    seq: int
    raw: dict[str, Any]

    @property
    def method(self) -> str | None:
        """The method of a notification or request (``None`` for responses)."""
        m = self.raw.get("method")
        return m if isinstance(m, str) else None

    @property
    def params(self) -> Any:
        """Its params."""
        return self.raw.get("params")


class FrameValidator:
    """Checks every frame the daemon sends against the protocol's JSON Schema
    (``protocol/livyd.schema.json``, else the same schema generated from the models): ``livy/*``
    notifications and requests by their params model, responses to ``livy/*`` requests by their
    result model, livyd's capabilities in the ``initialize`` result, and every error's shape.
    Needs ``jsonschema`` (the test extra); without it nothing is checked."""

    def __init__(self) -> None:
        import jsonschema  # type: ignore[import-untyped]

        from livyd.protocol import METHODS

        path = os.path.join(os.path.dirname(__file__), "..", "..", "protocol", "livyd.schema.json")
        try:
            with open(path, encoding="utf-8") as f:
                schema = json.load(f)
        except OSError:
            from livyd.protocol._generate import schema as generated

            schema = generated()
        self._schema = schema
        self._jsonschema = jsonschema
        self._params = {m.name: m.params.__name__ for m in METHODS}
        self._results = {m.name: m.result.__name__ for m in METHODS if m.result is not None}
        self._validators: dict[str, Any] = {}

    def _validator(self, name: str) -> Any:
        found = self._validators.get(name)
        if found is None:
            cls = self._jsonschema.validators.validator_for(self._schema)
            found = cls({"$ref": f"#/$defs/{name}", "$defs": self._schema["$defs"]})
            self._validators[name] = found
        return found

    def problems(self, raw: dict[str, Any], request_method: str | None) -> list[str]:
        """What is wrong with *raw* (a frame from the daemon; *request_method*: the method of the
        request it answers, if known)."""
        method = raw.get("method")
        if isinstance(method, str) and method.startswith("livy/"):
            if method not in self._params:
                return [f"{method} is not in the method table"]
            return self._check(self._params[method], raw.get("params"), method)
        if "error" in raw:
            err = raw["error"]
            ok = (isinstance(err, dict) and isinstance(err.get("code"), int)
                  and isinstance(err.get("message"), str))
            return [] if ok else [f"malformed error: {err!r:.200}"]
        if "result" in raw and request_method is not None:
            if request_method == "initialize":
                caps = ((raw["result"] or {}).get("capabilities") or {}).get("experimental") or {}
                return self._check("LivydCapabilities", caps.get("livyd"), "initialize")
            name = self._results.get(request_method)
            if name is not None:
                return self._check(name, raw["result"], request_method)
        return []

    def _check(self, name: str, value: Any, where: str) -> list[str]:
        errors = sorted(self._validator(name).iter_errors(value), key=lambda e: list(e.path))
        return [f"{where}: {name} at {'/'.join(map(str, e.path)) or '(top)'}: {e.message:.200}"
                for e in errors[:3]]


def _frame_validator() -> FrameValidator | None:
    try:
        return FrameValidator()
    except ImportError:
        return None


def _major(version: str) -> int | None:
    """The major number of a ``"MAJOR.MINOR"`` protocol version (None when it has none): compared
    as integers, so 10.0 is newer than 9.1."""
    head = version.split(".", 1)[0].strip()
    return int(head) if head.isdigit() else None


@dataclass
class DaemonClient:
    """A connection to one daemon process."""

    process: Process
    tg: TaskGroup
    messages: list[Message] = field(default_factory=list)
    stdout_violations: list[str] = field(default_factory=list)
    stderr_chunks: list[bytes] = field(default_factory=list)
    stdout_bytes: int = 0
    _next_id: int = 0
    _pending: dict[int | str, Any] = field(default_factory=dict)
    _waiters: dict[int | str, Any] = field(default_factory=dict)
    _changed: anyio.Event = field(default_factory=anyio.Event)
    _eof: bool = False
    initialize_result: dict[str, Any] | None = None
    #: The method of each request sent (to check its response against the schema).
    _methods: dict[int | str, str] = field(default_factory=dict)
    #: Checks every frame against the protocol's JSON Schema (None: jsonschema not installed).
    validator: FrameValidator | None = field(default_factory=_frame_validator)
    #: How many frames were checked against the schema.
    frames_validated: int = 0

    # ---------------------------------------------------------------- spawning

    @classmethod
    @asynccontextmanager
    async def spawn(
        cls,
        command: Sequence[str] | None = None,
        *,
        env: dict[str, str] | None = None,
        cwd: str | None = None,
    ) -> AsyncIterator[DaemonClient]:
        """Start the daemon (default: ``python -m livyd.daemon``), yield a client, and on exit make
        sure the process is gone (``shutdown`` + ``exit`` if still running, then kill)."""
        cmd = list(command or [sys.executable, "-m", "livyd.daemon"])
        full_env = {**os.environ, **(env or {})}
        process = await anyio.open_process(cmd, env=full_env, cwd=cwd)
        try:
            async with _unwrap_single(), anyio.create_task_group() as tg:
                client = cls(process, tg)
                tg.start_soon(client._read_stdout)
                tg.start_soon(client._drain_stderr)
                try:
                    yield client
                finally:
                    with anyio.move_on_after(10, shield=True):
                        await client.close()
                    tg.cancel_scope.cancel()
        finally:
            if process.returncode is None:
                process.kill()
                with anyio.move_on_after(5, shield=True):
                    await process.wait()

    # ---------------------------------------------------------------- wire

    def _record(self, raw: Any) -> None:
        if not isinstance(raw, dict):
            self.stdout_violations.append(f"frame body is not a JSON object: {raw!r:.200}")
            return
        if raw.get("jsonrpc") != "2.0":
            self.stdout_violations.append(f"frame without jsonrpc 2.0: {raw!r:.200}")
        if self.validator is not None:
            answered = None
            if "method" not in raw and isinstance(raw.get("id"), int | str):
                answered = self._methods.pop(raw["id"], None)
            self.stdout_violations.extend(
                f"schema: {p}" for p in self.validator.problems(raw, answered))
            self.frames_validated += 1
        if "method" in raw and "id" in raw:  # a server-to-client request: answer null
            self.tg.start_soon(self._send, {"jsonrpc": "2.0", "id": raw["id"], "result": None})
        elif "method" not in raw and "id" in raw:
            waiter = self._pending.pop(raw["id"], None)
            if waiter is not None:
                waiter[1] = raw
                waiter[0].set()
            elif raw["id"] is not None:
                self.stdout_violations.append(f"response to unknown id: {raw!r:.200}")
        self.messages.append(Message(len(self.messages), raw))
        self._changed.set()
        self._changed = anyio.Event()

    async def _read_stdout(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        buf = bytearray()
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    if not await self._fill(stream, buf):
                        if buf:
                            self.stdout_violations.append(f"trailing bytes at EOF: {bytes(buf[:200])!r}")
                        return
                head, _, rest = bytes(buf).partition(b"\r\n\r\n")
                length: int | None = None
                for line in head.split(b"\r\n"):
                    name, sep, value = line.partition(b":")
                    if not sep:
                        self.stdout_violations.append(f"not a header line: {line[:200]!r}")
                        continue
                    key = name.strip().lower()
                    if key == b"content-length" and value.strip().isdigit():
                        length = int(value.strip())
                    elif key != b"content-type":
                        self.stdout_violations.append(f"unexpected header: {line[:200]!r}")
                if length is None:
                    self.stdout_violations.append(f"frame without Content-Length: {head[:200]!r}")
                    return
                buf = bytearray(rest)
                while len(buf) < length:
                    if not await self._fill(stream, buf):
                        self.stdout_violations.append("EOF inside a frame body")
                        return
                body, buf = bytes(buf[:length]), bytearray(buf[length:])
                try:
                    raw = json.loads(body)
                except ValueError:
                    self.stdout_violations.append(f"frame body is not JSON: {body[:200]!r}")
                    continue
                self._record(raw)
        finally:
            self._eof = True
            for waiter in self._pending.values():
                waiter[0].set()
            self._changed.set()

    async def _fill(self, stream: ByteReceiveStream, buf: bytearray) -> bool:
        try:
            chunk = await stream.receive(65536)
        except (anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError):
            return False
        self.stdout_bytes += len(chunk)
        buf.extend(chunk)
        return True

    async def _drain_stderr(self) -> None:
        stream = self.process.stderr
        assert stream is not None
        try:
            while True:
                self.stderr_chunks.append(await stream.receive(65536))
                self._changed.set()  # wait_until predicates may look at stderr too
                self._changed = anyio.Event()
        except (anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError):
            return

    @property
    def stderr(self) -> str:
        """Everything the daemon wrote to stderr so far."""
        return b"".join(self.stderr_chunks).decode("utf-8", "replace")

    async def send_raw(self, data: bytes) -> None:
        """Write raw bytes to the daemon's stdin (for malformed-input tests)."""
        assert self.process.stdin is not None
        await self.process.stdin.send(data)

    async def _send(self, message: dict[str, Any]) -> None:
        body = json.dumps(message).encode("utf-8")
        try:
            await self.send_raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, BrokenPipeError):
            pass

    # ---------------------------------------------------------------- API

    async def request(
        self,
        method: str,
        params: Any = None,
        *,
        timeout: float = 30.0,  # noqa: ASYNC109
        msg_id: int | str | None = None,
    ) -> Any:
        """Send a request and return its result; raise :class:`DaemonRequestError` on an error."""
        msg_id = await self.send_request(method, params, msg_id=msg_id)
        return await self.response(msg_id, timeout=timeout, method=method)

    async def send_request(
        self, method: str, params: Any = None, *, msg_id: int | str | None = None
    ) -> int | str:
        """Send a request without waiting; return its id (for :meth:`response` and
        :meth:`cancel_request`)."""
        if msg_id is None:
            self._next_id += 1
            msg_id = self._next_id
        waiter: list[Any] = [anyio.Event(), None]
        self._methods[msg_id] = method
        self._pending[msg_id] = waiter
        self._waiters[msg_id] = waiter
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": msg_id, "method": method}
        if params is not None:
            message["params"] = params
        await self._send(message)
        return msg_id

    async def response(
        self,
        msg_id: int | str,
        *,
        timeout: float = 30.0,  # noqa: ASYNC109
        method: str = "the request",
    ) -> Any:
        """The result of the request *msg_id* sent with :meth:`send_request` (waiting for it);
        :class:`DaemonRequestError` if it was answered with an error."""
        waiter = self._waiters[msg_id]
        with anyio.fail_after(timeout):
            await waiter[0].wait()
        self._waiters.pop(msg_id, None)
        raw = waiter[1]
        if raw is None:
            raise DaemonRequestError(-1, f"the daemon exited before answering {method}")
        if "error" in raw:
            err = raw["error"]
            raise DaemonRequestError(int(err.get("code", 0)), str(err.get("message")), err.get("data"))
        return raw.get("result")

    async def cancel_request(self, msg_id: int | str) -> None:
        """Send ``$/cancelRequest`` for a pending request."""
        await self.notify("$/cancelRequest", {"id": msg_id})

    async def notify(self, method: str, params: Any = None) -> None:
        """Send a notification."""
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        await self._send(message)

    async def initialize(
        self,
        options: dict[str, Any] | None = None,
        *,
        work_done_progress: bool = True,
        root_uri: str | None = None,
    ) -> dict[str, Any]:
        """``initialize`` + ``initialized``; checks the protocol major version like a real client."""
        from livyd.protocol import PROTOCOL_VERSION

        result = await self.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": root_uri,
                "clientInfo": {"name": "livyd-harness"},
                "capabilities": {"window": {"workDoneProgress": work_done_progress}},
                "initializationOptions": options or {},
            },
        )
        theirs = str(result["capabilities"]["experimental"]["livyd"]["protocolVersion"])
        their_major, our_major = _major(theirs), _major(PROTOCOL_VERSION)
        if their_major != our_major:
            side = "livyd" if (their_major or 0) < (our_major or 0) else "this client"
            raise RuntimeError(
                f"livyd speaks protocol {theirs}, this client {PROTOCOL_VERSION}: upgrade {side}"
            )
        self.initialize_result = result
        await self.notify("initialized", {})
        return dict(result)

    async def close(self) -> int | None:
        """``shutdown`` + ``exit`` (if the daemon still runs), then wait for it; return its exit code."""
        if self.process.returncode is None and not self._eof:
            try:
                await self.request("shutdown", timeout=5)
                await self.notify("exit")
            except (DaemonRequestError, TimeoutError):
                pass
        with anyio.move_on_after(10):
            await self.process.wait()
        return self.process.returncode

    # ---------------------------------------------------------------- waiting

    def notifications(self, method: str | None = None) -> list[Any]:
        """Params of the notifications received so far (of *method*, if given), in order."""
        return [
            m.params
            for m in self.messages
            if m.method and "id" not in m.raw and (method is None or m.method == method)
        ]

    async def wait_until(
        self,
        predicate: Callable[[], bool],
        *,
        timeout: float = 30.0,  # noqa: ASYNC109
        what: str = "condition",
    ) -> None:
        """Wait until *predicate()* holds (re-checked on every message and stderr output)."""
        with anyio.move_on_after(timeout) as scope:
            while not predicate():
                if self._eof:
                    raise RuntimeError(
                        f"the daemon exited while waiting for {what}; stderr:\n{self.stderr[-3000:]}"
                    )
                await self._changed.wait()
        if scope.cancelled_caught:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")

    async def wait_for_notification(
        self,
        method: str,
        predicate: Callable[[Any], bool] = lambda p: True,
        *,
        timeout: float = 30.0,  # noqa: ASYNC109
    ) -> Any:
        """The first notification of *method* whose params satisfy *predicate* (waiting for it)."""
        found: list[Any] = []

        def check() -> bool:
            for p in self.notifications(method):
                if predicate(p):
                    found.append(p)
                    return True
            return False

        await self.wait_until(check, timeout=timeout, what=method)
        return found[0]

    async def wait_exit(self, timeout: float = 10.0) -> int:  # noqa: ASYNC109
        """Wait for the process to end; return its exit code."""
        with anyio.fail_after(timeout):
            code = await self.process.wait()
        return code if not math.isnan(code) else -1
