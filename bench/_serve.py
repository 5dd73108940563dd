"""The servers the benchmarks run against, each in a process of its own, counting requests.

``python -m bench._serve sandbox``: the livyd sandbox (real REPL processes) behind a counting
wrapper. ``python -m bench._serve imitation``: a small Livy imitation whose statements take exactly
the time their code asks (``time.sleep(S)``; ``'x' * N`` gives an N-byte output), answered
``waiting`` at the POST and run one at a time per session as Livy does, with a 200-line session log
that grows at a chosen rate. Both print one line, ``ready <livy url>``, and then serve until stdin
closes (so they never outlive the benchmark).

Counting happens here, at the server: every request except the benchmark's own probes
(``/__bench/...``, or an ``X-Bench-Probe`` header) is appended to a log of ``[monotonic time,
method, path]``. ``time.monotonic`` is the system-wide CLOCK_MONOTONIC on Linux, so the runner can
compare these times with its own. Sockets set TCP_NODELAY, as the sandbox does.
"""

from __future__ import annotations

import asyncio
import collections
import json
import re
import socket
import sys
import threading
import time
from typing import Any
from urllib.parse import parse_qs

Scope = dict[str, Any]

_SESSION = re.compile(r"^/sessions/(\d+)(/.*)?$")
_STATEMENT = re.compile(r"^/statements/(\d+)(/cancel)?$")
_SLEEP = re.compile(r"time\.sleep\(([0-9.]+)\)")
_BYTES = re.compile(r"'x' \* (\d+)")


class Counter:
    """The request log, and the ``/__bench`` endpoints that read it."""

    def __init__(self) -> None:
        self.log: list[tuple[float, str, str]] = []

    def record(self, scope: Scope) -> bool:
        """Record a request; False for the benchmark's own probes (not counted)."""
        path: str = scope["path"]
        if path.startswith("/__bench") or any(k == b"x-bench-probe" for k, _ in scope["headers"]):
            return False
        self.log.append((time.monotonic(), scope["method"], path))
        return True

    def answer(self, scope: Scope) -> Any:
        query = parse_qs(scope.get("query_string", b"").decode())
        if scope["path"] == "/__bench/count":
            return {"count": len(self.log)}
        if scope["path"] == "/__bench/requests":
            since = int(query.get("since", ["0"])[0])
            return {"requests": self.log[since:]}
        return None


async def _send_json(
    send: Any, status: int, body: Any, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


async def _body(receive: Any) -> Any:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    raw = b"".join(chunks)
    return json.loads(raw) if raw.strip() else {}


# --------------------------------------------------------------------------- the imitation


class _Statement:
    def __init__(self, sid: int, code: str) -> None:
        self.id = sid
        self.code = code
        self.state = "waiting"
        self.output: dict[str, Any] | None = None
        self.started = 0  # epoch ms, as Livy
        self.completed = 0
        self.started_mono = 0.0
        self.completed_mono = 0.0

    def json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "code": self.code,
            "state": self.state,
            "output": self.output,
            "progress": 1.0 if self.state == "available" else 0.0,
            "started": self.started,
            "completed": self.completed,
        }


class _Session:
    def __init__(self, sid: int, body: dict[str, Any]) -> None:
        self.id = sid
        self.name = body.get("name")
        self.kind = body.get("kind", "pyspark")
        self.alive = True
        self.statements: list[_Statement] = []
        self.queue: asyncio.Queue[_Statement] = asyncio.Queue()
        self.running = False
        self.log_rate = 0.0
        self.log_t0 = 0.0
        self.log_written = 0
        self.lines: collections.deque[str] = collections.deque(maxlen=200)
        self.task = asyncio.get_running_loop().create_task(self._run())

    @property
    def state(self) -> str:
        if not self.alive:
            return "dead"
        return "busy" if self.running or any(s.state == "waiting" for s in self.statements) else "idle"

    def json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "appId": None,
            "owner": None,
            "proxyUser": None,
            "state": self.state,
            "kind": self.kind,
            "appInfo": {"driverLogUrl": None, "sparkUiUrl": None, "executorLogUrls": None},
            "log": [],
            "ttl": None,
            "idleTimeout": None,
            "driverMemory": None,
            "driverCores": 0,
            "executorMemory": None,
            "executorCores": 0,
            "conf": {},
            "archives": [],
            "files": [],
            "heartbeatTimeoutInSecond": 0,
            "jars": [],
            "numExecutors": 0,
            "pyFiles": [],
            "queue": None,
        }

    async def _run(self) -> None:
        while True:
            st = await self.queue.get()
            if st.state != "waiting":
                continue
            self.running = True
            st.state = "running"
            st.started_mono = time.monotonic()
            st.started = int(time.time() * 1000)
            sleep = _SLEEP.search(st.code)
            if sleep:
                await asyncio.sleep(float(sleep.group(1)))
            size = _BYTES.search(st.code)
            text = "x" * int(size.group(1)) if size else "done"
            st.completed_mono = time.monotonic()
            st.completed = int(time.time() * 1000)
            st.output = {"status": "ok", "execution_count": st.id, "data": {"text/plain": text}}
            st.state = "available"
            self.running = False

    def log_page(self, query: dict[str, list[str]]) -> dict[str, Any]:
        if self.log_rate > 0:
            due = int((time.monotonic() - self.log_t0) * self.log_rate)
            while self.log_written < due:
                self.log_written += 1
                self.lines.append(f"line {self.log_written:08d}")
        everything = ["stdout: ", *self.lines, "\nstderr: "]
        size = int(query.get("size", ["100"])[0])
        start = int(query.get("from", ["-1"])[0])
        if size < 0:
            size = len(everything)
        if start < 0:
            start = max(0, len(everything) - size)
        return {
            "id": self.id,
            "from": start,
            "total": len(everything),
            "log": everything[start : start + size],
        }


class Imitation:
    """Just enough of Livy 0.8 for pylivy, sparkmagic, livyd and the fixed-interval loop."""

    def __init__(self, counter: Counter) -> None:
        self.counter = counter
        self.sessions: dict[int, _Session] = {}
        self.next_id = 0

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        self.counter.record(scope)
        method, path = scope["method"], scope["path"]
        query = parse_qs(scope.get("query_string", b"").decode())
        probe = self.counter.answer(scope)
        if probe is not None:
            await _send_json(send, 200, probe)
            return
        if path == "/__bench/statement":
            session = self.sessions[int(query["session"][0])]
            st = session.statements[int(query["id"][0])] if "id" in query else session.statements[-1]
            await _send_json(
                send, 200, {"id": st.id, "started": st.started_mono, "completed": st.completed_mono}
            )
            return
        if path == "/__bench/log-rate":
            session = self.sessions[int(query["session"][0])]
            session.log_rate = float(query["rate"][0])
            session.log_t0 = time.monotonic()
            await _send_json(send, 200, {"ok": True})
            return
        if path == "/version":
            await _send_json(send, 200, {"version": "0.8.0-incubating", "user": "bench"})
            return
        if path == "/sessions":
            if method == "POST":
                body = await _body(receive)
                session = _Session(self.next_id, body)
                self.sessions[session.id] = session
                self.next_id += 1
                await _send_json(
                    send, 201, session.json(), [(b"location", f"/sessions/{session.id}".encode())]
                )
            else:
                items = [s.json() for s in self.sessions.values()]
                await _send_json(send, 200, {"from": 0, "total": len(items), "sessions": items})
            return
        m = _SESSION.match(path)
        if not m or int(m.group(1)) not in self.sessions:
            await _send_json(send, 404, f"Session '{m.group(1) if m else path}' not found.")
            return
        session, rest = self.sessions[int(m.group(1))], m.group(2) or ""
        if rest == "":
            if method == "DELETE":
                session.alive = False
                session.task.cancel()
                del self.sessions[session.id]
                await _send_json(send, 200, {"msg": "deleted"})
            else:
                await _send_json(send, 200, session.json())
        elif rest == "/state":
            await _send_json(send, 200, {"id": session.id, "state": session.state})
        elif rest == "/log":
            await _send_json(send, 200, session.log_page(query))
        elif rest == "/connect":
            await _send_json(send, 200, session.json())
        elif rest == "/statements":
            if method == "POST":
                body = await _body(receive)
                st = _Statement(len(session.statements), str(body.get("code", "")))
                session.statements.append(st)
                session.queue.put_nowait(st)
                await _send_json(
                    send,
                    201,
                    st.json(),
                    [(b"location", f"/sessions/{session.id}/statements/{st.id}".encode())],
                )
            else:
                items = [s.json() for s in session.statements]
                if query.get("order", [""])[0].lower() == "desc":
                    items.reverse()
                start = int(query.get("from", ["0"])[0])
                size = int(query.get("size", [str(len(items))])[0])
                await _send_json(
                    send, 200, {"total_statements": len(items), "statements": items[start : start + size]}
                )
        else:
            sm = _STATEMENT.match(rest)
            if not sm or int(sm.group(1)) >= len(session.statements):
                await _send_json(send, 404, "Statement not found")
                return
            st = session.statements[int(sm.group(1))]
            if sm.group(2):
                if st.state == "waiting":
                    st.state = "cancelled"
                await _send_json(send, 200, {"msg": "canceled"})
            else:
                await _send_json(send, 200, st.json())


# --------------------------------------------------------------------------- the sandbox, counted


class CountedSandboxApp:
    """The sandbox's Livy app behind the counter, plus a statement-times probe."""

    def __init__(self, app: Any, counter: Counter, sandbox: Any) -> None:
        self.app, self.counter, self.sandbox = app, counter, sandbox

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.counter.record(scope)
            probe = self.counter.answer(scope)
            if probe is not None:
                await _send_json(send, 200, probe)
                return
            if scope["path"] == "/__bench/statement":
                query = parse_qs(scope.get("query_string", b"").decode())
                session = self.sandbox.sessions.lookup(query["session"][0])
                st = session.find_statement(int(query["id"][0])) if "id" in query else session.statements[-1]
                # the sandbox keeps Livy's epoch milliseconds: convert to this clock
                offset = time.time() - time.monotonic()
                await _send_json(
                    send,
                    200,
                    {
                        "id": st.id,
                        "started": st.started / 1000 - offset,
                        "completed": st.completed / 1000 - offset,
                    },
                )
                return
        await self.app(scope, receive, send)


def _nodelay_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(512)
    sock.setblocking(False)
    return sock


def _exit_when_stdin_closes() -> None:
    def watch() -> None:
        sys.stdin.read()
        import os

        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


async def _serve_imitation() -> None:
    import uvicorn

    counter = Counter()
    sock = _nodelay_socket()
    config = uvicorn.Config(
        Imitation(counter),
        lifespan="off",
        log_config=None,
        access_log=False,
        log_level="warning",
        http="h11",
        ws="none",
        server_header=False,
    )
    server = uvicorn.Server(config)
    print(f"ready http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    await server.serve(sockets=[sock])


async def _serve_sandbox() -> None:
    import anyio

    from livyd.sandbox import _server as sandbox_server

    counter = Counter()
    holder: dict[str, Any] = {}
    original = sandbox_server._EmbeddedServer.__init__

    def counted_init(self: Any, app: Any) -> None:
        if "livy" not in holder:  # the first app is Livy's; WebHDFS is left alone
            holder["livy"] = True
            app = CountedSandboxApp(app, counter, holder["sandbox"])
        original(self, app)

    sandbox_server._EmbeddedServer.__init__ = counted_init  # type: ignore[method-assign]
    sandbox = sandbox_server.Sandbox(livy_version="0.8", heartbeat_check_interval=3600)
    holder["sandbox"] = sandbox
    async with sandbox:
        print(f"ready {sandbox.livy_url}", flush=True)
        await anyio.sleep_forever()


def main(argv: list[str]) -> None:
    _exit_when_stdin_closes()
    which = argv[0] if argv else "imitation"
    if which == "sandbox":
        import anyio

        anyio.run(_serve_sandbox)
    else:
        asyncio.run(_serve_imitation())


if __name__ == "__main__":
    main(sys.argv[1:])
