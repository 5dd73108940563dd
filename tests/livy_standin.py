"""A raw HTTP stand-in for Livy: a tiny real HTTP/1.1 server on 127.0.0.1 returning livy-rest.md's
literal bodies and status codes, and misbehaving on request (drop the connection after reading a
POST, answer 502/503/504, stall, ...).

This is deliberately *not* the sandbox: the client must not only be tested against a server
written by the same hands. :class:`StandIn` is the socket layer (any handler function);
:class:`MiniLivy` is a small scripted Livy on top of it, emitting byte-for-byte the bodies the
reference shows (201 + relative ``Location``, bare-string errors, ``{"msg":"canceled"}`` ...).
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit


@dataclass
class Request:
    method: str
    target: str  # as sent: origin-form path, or absolute-form through a proxy
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def path(self) -> str:
        return unquote(urlsplit(self.target).path)

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.target).query, keep_blank_values=True))

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Reply:
    status: int
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = "application/json"
    delay: float = 0.0


#: Close the connection after reading the request, without any answer.
DROP = "DROP"

_REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    500: "Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

Handler = Callable[[Request], "Reply | str"]


class StandIn:
    """A threaded HTTP/1.1 server on loopback; one connection per request (``Connection: close``)."""

    def __init__(self, handler: Handler, tls: ssl.SSLContext | None = None) -> None:
        self.handler = handler
        self.tls = tls
        self.requests: list[Request] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.port = self._sock.getsockname()[1]
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self._stopped = False
        threading.Thread(target=self._serve, daemon=True).start()

    def close(self) -> None:
        self._stopped = True
        try:  # shutdown wakes the thread blocked in accept(); close alone would leave it listening
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self._sock.close()
        except OSError:
            pass

    def __enter__(self) -> StandIn:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _serve(self) -> None:
        while not self._stopped:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        if self.tls is not None:
            try:
                conn.settimeout(10)
                conn = self.tls.wrap_socket(conn, server_side=True)
            except (OSError, ssl.SSLError):
                conn.close()
                return
        with conn:
            conn.settimeout(10)
            data = b""
            try:
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                head, _, rest = data.partition(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _version = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    k, _, v = line.partition(":")
                    headers[k.strip().lower()] = v.strip()
                length = int(headers.get("content-length", "0"))
                while len(rest) < length:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    rest += chunk
            except (OSError, ValueError):
                return
            req = Request(method, target, headers, rest[:length], time.monotonic())
            with self._lock:
                self.requests.append(req)
                self.in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                reply = self.handler(req)
                if isinstance(reply, str) and reply == DROP:
                    return
                assert isinstance(reply, Reply)
                if reply.delay:
                    time.sleep(reply.delay)
                body = reply.body.encode() if isinstance(reply.body, str) else reply.body
                out = [
                    f"HTTP/1.1 {reply.status} {_REASONS.get(reply.status, 'Status')}",
                    f"Content-Length: {len(body)}",
                    "Connection: close",
                ]
                if reply.content_type and (body or reply.status != 204):
                    out.append(f"Content-Type: {reply.content_type}")
                out += [f"{k}: {v}" for k, v in reply.headers.items()]
                try:
                    conn.sendall(("\r\n".join(out) + "\r\n\r\n").encode("latin-1") + body)
                except OSError:
                    pass
            finally:
                with self._lock:
                    self.in_flight -= 1

    def count(self, method: str, path: str) -> int:
        return sum(1 for r in self.requests if r.method == method and r.path == path)


# --------------------------------------------------------------------------- a scripted Livy

JETTY_CSRF_400 = (
    '<html>\n<head>\n<meta http-equiv="Content-Type" content="text/html;charset=utf-8"/>\n'
    "<title>Error 400 Missing Required Header for CSRF protection.</title>\n</head>\n<body>"
    "<h2>HTTP ERROR 400</h2>\n<p>Problem accessing /sessions. Reason:\n<pre>    Missing Required "
    "Header for CSRF protection.</pre></p>\n</body>\n</html>\n"
)


def session_json(
    sid: int, name: str | None, state: str, version: str, kind: str = "pyspark"
) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": sid,
        "name": name,
        "appId": None,
        "owner": None,
        "proxyUser": None,
        "state": state,
        "kind": kind,
        "appInfo": {"driverLogUrl": None, "sparkUiUrl": None},
        "log": ["stdout: ", "\nstderr: "],
    }
    if not version.startswith("0.7"):
        base.update(
            {
                "ttl": None,
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
        )
    if version.startswith("0.9"):
        base["idleTimeout"] = None
        base["appInfo"]["executorLogUrls"] = None
    return base


class MiniLivy:
    """Enough of Livy, with failure injection, answered with livy-rest.md's literal shapes.

    Failure knobs (each a list consumed one per matching request):

    - ``post_faults["statements"|"sessions"|"batches"]``: ``"drop-after"`` (apply the POST, then
      drop the connection), ``"drop-before"`` (drop without applying), ``502``/``503``/``504``
      after applying (``("after", 502)``) or before (``("before", 503)``).
      ``("slow", seconds)`` applies the POST and delays the answer.
      ``("late", seconds)``: Livy is slow to accept it: the POST is applied (and answered) only
      after *seconds*, so a client with a shorter timeout gives up while it is still in flight.
      ``("gateway-late", status, seconds)``: a gateway answers *status* (e.g. 504) at once while
      Livy applies the POST *seconds* later. :meth:`wait_late` waits until late POSTs landed.
    - ``get_faults[path]``: ``503`` or ``"drop"`` for GETs of that exact path.
    """

    def __init__(
        self,
        version: str = "0.9.0-incubating",
        prefix: str = "",
        csrf: bool = True,
        unknown_fields_400: bool = True,
    ) -> None:
        self.version = version
        self.prefix = prefix
        self.csrf = csrf
        self.unknown_fields_400 = unknown_fields_400
        self.sessions: dict[int, dict[str, Any]] = {}
        self.statements: dict[int, list[dict[str, Any]]] = {}
        self.batches: dict[int, dict[str, Any]] = {}
        self.post_faults: dict[str, list[Any]] = {}
        self.get_faults: dict[str, list[Any]] = {}
        self.statement_script: Callable[[dict[str, Any], int], None] | None = None
        self.not_ready_posts = 0  # answer this many statement POSTs with the 500 starting error
        self.session_log: dict[int, tuple[deque[str], deque[str]]] = {}
        self.next_session = 0
        self.next_batch = 0
        self.lock = threading.Lock()
        self._no_fault = False  # set (under lock) while a "late" POST is applied
        self._late: list[threading.Event] = []
        self.server = StandIn(self.handle)
        self.url = self.server.url + prefix

    def close(self) -> None:
        self.server.close()

    # helpers for tests
    def add_session(self, state: str = "idle", name: str | None = None) -> int:
        with self.lock:
            sid = self.next_session
            self.next_session += 1
            self.sessions[sid] = session_json(sid, name, state, self.version)
            self.statements[sid] = []
            self.session_log[sid] = (deque(maxlen=200), deque(maxlen=200))
            return sid

    def add_statement(
        self, sid: int, code: str, state: str = "available", output: Any = None
    ) -> dict[str, Any]:
        stmts = self.statements[sid]
        st = {
            "id": len(stmts),
            "code": code.replace("\r\n", "\n"),
            "state": state,
            "output": output
            if output is not None or state != "available"
            else {"status": "ok", "execution_count": len(stmts), "data": {"text/plain": ""}},
            "progress": 1.0 if state == "available" else 0.0,
            "started": 0,
            "completed": 0,
        }
        stmts.append(st)
        return st

    def _fault(self, kind: str) -> Any:
        if self._no_fault:
            return None
        faults = self.post_faults.get(kind)
        return faults.pop(0) if faults else None

    def wait_late(self, timeout: float = 10.0) -> None:
        """Wait until every "late" / "gateway-late" POST so far has been applied."""
        for done in list(self._late):
            assert done.wait(timeout), "a late POST did not land"

    def _apply_late(self, req: Request, path: str, done: threading.Event) -> Reply | str:
        with self.lock:
            self._no_fault = True
            try:
                return self._route(req, path)
            finally:
                self._no_fault = False
                done.set()

    def _late_fault(self, req: Request, path: str) -> Reply | str | None:
        parts = [p for p in path.split("/") if p]
        kind = parts[-1] if parts and parts[-1] in ("sessions", "batches", "statements") else None
        with self.lock:
            faults = self.post_faults.get(kind or "")
            if not faults or not isinstance(faults[0], tuple) or faults[0][0] not in ("late", "gateway-late"):
                return None
            fault = faults.pop(0)
            done = threading.Event()
            self._late.append(done)
        if fault[0] == "late":
            time.sleep(fault[1])
            return self._apply_late(req, path, done)

        def land() -> None:
            time.sleep(fault[2])
            self._apply_late(req, path, done)

        threading.Thread(target=land, daemon=True).start()
        return Reply(fault[1], "<html><title>Gateway Timeout</title></html>", content_type="text/html")

    @staticmethod
    def _j(status: int, obj: Any, **headers: str) -> Reply:
        return Reply(status, json.dumps(obj, separators=(",", ":")), headers=headers)

    def handle(self, req: Request) -> Reply | str:
        path = req.path
        if self.prefix:
            if not path.startswith(self.prefix + "/") and path != self.prefix:
                return Reply(
                    404, "<html><body><h2>HTTP ERROR 404</h2></body></html>", content_type="text/html"
                )
            path = path[len(self.prefix) :]
        if self.csrf and req.method not in ("GET", "HEAD", "OPTIONS") and "x-requested-by" not in req.headers:
            return Reply(400, JETTY_CSRF_400, content_type="text/html;charset=iso-8859-1")
        if req.method == "GET" and path in self.get_faults and self.get_faults[path]:
            fault = self.get_faults[path].pop(0)
            if fault == "drop":
                return DROP
            return Reply(
                int(fault), "<html><title>Service Unavailable</title></html>", content_type="text/html"
            )
        if req.method == "POST":
            late = self._late_fault(req, path)
            if late is not None:
                return late
        with self.lock:
            return self._route(req, path)

    def _route(self, req: Request, path: str) -> Reply | str:
        parts = [p for p in path.split("/") if p]
        m = req.method
        if parts == ["version"]:
            return self._j(
                200,
                {
                    "version": self.version,
                    "user": "livy",
                    "revision": "abc",
                    "branch": "HEAD",
                    "date": "2024",
                    "url": "https://github.com/apache/incubator-livy",
                },
            )
        if parts and parts[0] in ("sessions", "batches"):
            coll = parts[0]
            store = self.sessions if coll == "sessions" else self.batches
            if len(parts) == 1 and m == "GET":
                q = req.query
                start, size = int(q.get("from", 0)), int(q.get("size", 100))
                items = list(store.values())
                return self._j(
                    200, {"from": start, "total": len(items), "sessions": items[max(0, start) : start + size]}
                )
            if len(parts) == 1 and m == "POST":
                return self._create(coll, req)
            ident = parts[1]
            obj = None
            if ident.isdigit():
                obj = store.get(int(ident))
            else:
                obj = next((x for x in store.values() if x.get("name") == ident), None)
            if obj is None:
                return self._j(404, {"msg": f"Session '{ident}' not found."})
            sid = obj["id"]
            rest = parts[2:]
            if not rest and m == "GET":
                return self._j(200, obj)
            if not rest and m == "DELETE":
                del store[sid]
                return self._j(200, {"msg": "deleted"})
            if rest == ["state"]:
                return self._j(200, {"id": sid, "state": obj["state"]})
            if rest == ["log"]:
                out, err = self.session_log.get(sid, (deque(), deque()))
                lines = ["stdout: ", *out, "\nstderr: ", *err]
                q = req.query
                size = int(q.get("size", 100))
                size = len(lines) if size < 0 else size
                start = int(q.get("from", -1))
                start = max(0, len(lines) - size) if start < 0 else start
                return self._j(
                    200, {"id": sid, "from": start, "total": len(lines), "log": lines[start : start + size]}
                )
            if coll == "batches":
                return Reply(405, "")
            if rest == ["connect"] and m == "POST":
                return self._j(200, obj)
            if rest == ["stop"] and m == "POST":
                obj["state"] = "dead"
                return Reply(204, b"", content_type=None)
            if rest == ["completion"] and m == "POST":
                return self._j(200, {"candidates": ["spark", "sparkContext"]})
            if (
                rest
                and rest[0]
                in ("add-jar", "add-pyfile", "add-file", "upload-jar", "upload-pyfile", "upload-file")
                and m == "POST"
            ):
                if rest[0].startswith("upload") and b"filename=" not in req.body:
                    return self._j(400, "No jar sent!" if rest[0] == "upload-jar" else "No file sent!")
                obj.setdefault("_added", []).append((rest[0], req.body))
                return Reply(200, b"", content_type="application/json")
            if rest and rest[0] == "statements":
                return self._statements(obj, req, rest[1:])
        return Reply(404, "<html><body>Not Found</body></html>", content_type="text/html")

    def _create(self, coll: str, req: Request) -> Reply | str:
        fault = self._fault(coll)
        if fault == "drop-before":
            return DROP
        if isinstance(fault, tuple) and fault[0] == "before":
            return Reply(fault[1], "<html><title>Gateway</title></html>", content_type="text/html")
        try:
            body = req.json()
        except ValueError:
            return self._j(400, "Unexpected character ('x' (code 120)): expected a valid value")
        known_09 = {
            "kind",
            "proxyUser",
            "jars",
            "pyFiles",
            "files",
            "driverMemory",
            "driverCores",
            "executorMemory",
            "executorCores",
            "numExecutors",
            "archives",
            "queue",
            "name",
            "conf",
            "heartbeatTimeoutInSecond",
            "ttl",
            "idleTimeout",
        }
        if coll == "batches":
            known_09 = (known_09 - {"kind", "heartbeatTimeoutInSecond", "ttl", "idleTimeout"}) | {
                "file",
                "className",
                "args",
            }
        known = set(known_09)
        if self.version.startswith("0.8"):
            known.discard("idleTimeout")
        if self.version.startswith("0.7"):
            known -= {"idleTimeout", "ttl"}
        for key in body:
            if key not in known and self.unknown_fields_400:
                cls = (
                    "org.apache.livy.server.interactive.CreateInteractiveRequest"
                    if coll == "sessions"
                    else "org.apache.livy.server.batch.CreateBatchRequest"
                )
                return self._j(400, f'Unrecognized field "{key}" (class {cls}), not marked as ignorable')
        store = self.sessions if coll == "sessions" else self.batches
        name = body.get("name")
        if name and any(x.get("name") == name for x in store.values()):
            return self._j(
                400, {"msg": f"Rejected, Reason: Duplicate session name: Some({name}) for session 9"}
            )
        if coll == "sessions":
            sid = self.next_session
            self.next_session += 1
            obj = session_json(sid, name, "starting", self.version, body.get("kind", "shared"))
            self.statements[sid] = []
            self.session_log[sid] = (deque(maxlen=200), deque(maxlen=200))
        else:
            sid = self.next_batch
            self.next_batch += 1
            obj = {
                "id": sid,
                "name": name,
                "owner": None,
                "proxyUser": None,
                "state": "running",
                "appId": None,
                "appInfo": {"driverLogUrl": None, "sparkUiUrl": None},
                "log": [],
            }
        obj["_request"] = body
        store[sid] = obj
        visible = {k: v for k, v in obj.items() if not k.startswith("_")}
        if fault == "drop-after":
            return DROP
        if isinstance(fault, tuple) and fault[0] == "after":
            return Reply(fault[1], "<html><title>Gateway Timeout</title></html>", content_type="text/html")
        return self._j(201, visible, Location=f"/{coll}/{sid}")

    def _statements(self, session: dict[str, Any], req: Request, rest: list[str]) -> Reply | str:
        sid = session["id"]
        stmts = self.statements[sid]
        if req.method == "GET" and session["state"] in ("dead", "killed", "shutting_down", "error"):
            # statements live in the driver: Livy cannot read them once the session ended
            return self._j(400, {"msg": "requirement failed: Session isn't active."})
        if not rest and req.method == "POST":
            fault = self._fault("statements")
            if fault == "drop-before":
                return DROP
            if isinstance(fault, tuple) and fault[0] == "before":
                return Reply(fault[1], "<html><title>Gateway</title></html>", content_type="text/html")
            if self.not_ready_posts > 0 or session["state"] in ("starting", "dead", "shutting_down"):
                self.not_ready_posts = max(0, self.not_ready_posts - 1)
                state = session["state"] if session["state"] != "idle" else "starting"
                return self._j(500, f"java.lang.IllegalStateException: Session is in state {state}")
            body = req.json()
            st = {
                "id": len(stmts),
                "code": body["code"].replace("\r\n", "\n").replace("\r", "\n"),
                "state": "waiting",
                "output": None,
                "progress": 0.0,
                "started": 0,
                "completed": 0,
            }
            stmts.append(st)
            if self.statement_script:
                self.statement_script(st, 0)
            if fault == "drop-after":
                return DROP
            if isinstance(fault, tuple) and fault[0] == "after":
                return Reply(fault[1], "<html><title>Bad Gateway</title></html>", content_type="text/html")
            reply = self._j(201, st, Location=f"/sessions/{sid}/statements/{st['id']}")
            if isinstance(fault, tuple) and fault[0] == "slow":  # applied, answer delayed
                reply.delay = fault[1]
            return reply
        if not rest and req.method == "GET":
            q = req.query
            items = list(stmts)
            if q.get("order", "").lower() == "desc" and not self.version.startswith("0.7"):
                items.reverse()
            start = int(q.get("from", 0))
            size = int(q["size"]) if "size" in q else len(items)
            return self._j(200, {"total_statements": len(stmts), "statements": items[start : start + size]})
        try:
            stid = int(rest[0])
        except ValueError:
            return self._j(400, {"msg": f'For input string: "{rest[0]}"'})
        if len(rest) == 2 and rest[1] == "cancel" and req.method == "POST":
            if 0 <= stid < len(stmts) and stmts[stid]["state"] in ("waiting", "running"):
                stmts[stid]["state"] = "cancelled"
                stmts[stid]["_cancelled"] = True
            return self._j(200, {"msg": "canceled"})
        if not (0 <= stid < len(stmts)):
            return self._j(404, "Statement not found")
        st = stmts[stid]
        if self.statement_script:
            st["_polls"] = st.get("_polls", 0) + 1
            self.statement_script(st, st["_polls"])
        return self._j(200, {k: v for k, v in st.items() if not k.startswith("_")})


def finish_after(polls: int, text: str = "2") -> Callable[[dict[str, Any], int], None]:
    """A statement script: running from the first poll, available with *text* after *polls* polls."""

    def script(st: dict[str, Any], n: int) -> None:
        if st["state"] in ("cancelled", "available"):
            return
        if n >= polls:
            st.update(
                state="available",
                progress=1.0,
                output={"status": "ok", "execution_count": st["id"], "data": {"text/plain": text}},
            )
        elif n >= 1:
            st.update(state="running", progress=round(n / polls, 2))

    return script
