"""The Livy REST routes (livy-rest.md sections 1-17), as a Starlette app.

Written from livy-rest.md, never from livyd's client: the point is that clients nobody here
wrote accept it. The parts that are easy to get wrong and are deliberately reproduced:

* three error shapes (1.3): ``{"msg": ...}`` for Livy's own messages (404 unknown session,
  400 validation), a **bare JSON string** for Jackson failures (400) and unexpected exceptions
  (500 ``"java.lang.IllegalStateException: Session is in state starting"``), and the bare
  ``"Statement not found"`` 404;
* ``{id}`` path segments are an id when all digits, otherwise a session *name*; the 404 says
  ``Session '<x>' not found.`` for batches too;
* 201 + a *relative* ``Location`` on creates; separate id counters for sessions and batches, each
  consuming an id even when the create is then rejected;
* the version switches of :mod:`livyd.sandbox._versions` (fields accepted and rendered, the
  ``Rejected, Reason: `` prefix, ``order=desc``);
* requests addressing a session refresh its heartbeat; only the activity-recording ones
  (statement, cancel, completion, connect, add/upload, jobs) reset the idle timer;
* ``ensureActive`` (statement reads, add/upload, jobs: a starting session is waited for, an
  inactive one is a 400) versus ``ensureRunning`` (statement, cancel, completion: 500).

Not reproduced: the serialized-job API runs nothing. ``submit-job``/``run-job`` answer 201
``SENT`` as Livy does and the job then reports ``FAILED`` with :data:`JOB_API_UNSUPPORTED`, so
Livy's job clients raise a clear error (a 4xx would leave their job handles waiting forever).

Gateway mode (Knox, section 19) is mostly done by :mod:`livyd.sandbox._server`; here it only
decides ``owner``/``proxyUser`` (``forced_user``) and whether a create body must be a JSON object.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Awaitable, Callable, Iterable
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from typing import Any, TypeVar

import anyio
import structlog
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from livyd.sandbox._batches import Batch, BatchManager
from livyd.sandbox._bodies import FieldType, JacksonError, Schema, decode
from livyd.sandbox._logbuffer import LogBuffer, slice_log
from livyd.sandbox._resources import ResourceError, Staged, resolve_resource, split_alias
from livyd.sandbox._sessions import Session, SessionManager, spark_submit_env
from livyd.sandbox._sparkui import driver_log_path, proxy_path
from livyd.sandbox._ui import ui_routes
from livyd.sandbox._versions import BATCH_FIELDS, VersionMode

__all__ = ["LivyApp", "parse_time_string"]

log = structlog.get_logger()

T = TypeVar("T")

SESSION_KINDS = {"spark": "spark", "scala": "spark", "pyspark": "pyspark", "python": "pyspark",
                 "sparkr": "sparkr", "r": "sparkr", "sql": "sql", "shared": "shared"}
STATEMENT_KINDS = {k: v for k, v in SESSION_KINDS.items() if k != "shared"}
BLACKLISTED_CONF = ("spark.master", "spark.submit.deployMode", "spark.yarn.jar", "spark.yarn.jars",
                    "spark.yarn.archive", "livy.rsc.server.idle-timeout",
                    "spark.submit.proxyUser.allowCustomClasspathInClusterMode")
STARTING_WAIT = 90.0

_CREATE_TYPES: dict[str, FieldType] = {
    "kind": "kind", "proxyUser": "str", "jars": "list", "pyFiles": "list", "files": "list",
    "driverMemory": "str", "driverCores": "int", "executorMemory": "str", "executorCores": "int",
    "numExecutors": "int", "archives": "list", "queue": "str", "name": "str", "conf": "map",
    "heartbeatTimeoutInSecond": "int", "ttl": "str", "idleTimeout": "str", "file": "str",
    "className": "str", "args": "list",
}
_EXECUTE: Schema = {"code": "str", "kind": "kind"}
_COMPLETION: Schema = {"code": "str", "kind": "str", "cursor": "int"}
_ADD_RESOURCE: Schema = {"uri": "str"}
_SERIALIZED_JOB: Schema = {"job": "str", "jobType": "str"}

_INTERACTIVE_CLASS = "org.apache.livy.server.interactive.CreateInteractiveRequest"
_BATCH_CLASS = "org.apache.livy.server.batch.CreateBatchRequest"
_EXECUTE_CLASS = "org.apache.livy.ExecuteRequest"
_COMPLETION_CLASS = "org.apache.livy.CompletionRequest"
_ADD_CLASS = "org.apache.livy.server.interactive.AddResource"
_JOB_CLASS = "org.apache.livy.client.common.HttpMessages$SerializedJob"
#: The ``error`` of every job status: the sandbox has no remote Spark context to run Livy's
#: serialized jobs in (the Java/Python job clients: ``HttpClient.submit``/``run``).
JOB_API_UNSUPPORTED = (
    "livyd sandbox: the serialized-job API (submit-job/run-job, used by Livy's Java and Python job "
    "clients) is not supported; run code with POST /sessions/{id}/statements instead"
)

_TIME = re.compile(r"^(-?[0-9]+)([a-z]+)?$")
_TIME_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}
_ACCEPT_VERSION = re.compile(r"application/vnd\.livy\.v([^+;,\s]+)")


class _Reply(Exception):
    """Short-circuit a handler with a ready response."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """Jackson-like compact JSON with ``application/json``."""
    return Response(json.dumps(body, separators=(",", ":"), ensure_ascii=False), status_code=status,
                    media_type="application/json", headers=headers)


def msg(status: int, text: str) -> _Reply:
    """Livy's ``ResponseMessage``: ``{"msg": text}``."""
    return _Reply(json_response({"msg": text}, status))


def bare(status: int, text: str) -> _Reply:
    """A bare JSON string body (Jackson errors, exceptions' toString)."""
    return _Reply(json_response(text, status))


def parse_time_string(value: str) -> float:
    """Livy/Spark time strings (``ttl``, ``idleTimeout``) to seconds; no suffix = milliseconds.

    :raises ValueError: with Livy's message (``Invalid time string: ...``, ``Invalid suffix: ...``).
    """
    match = _TIME.match(value.strip().lower())
    if not match:
        raise ValueError(f"Invalid time string: {value}")
    number, suffix = int(match.group(1)), match.group(2)
    if suffix is not None and suffix not in _TIME_UNITS:
        raise ValueError(f'Invalid suffix: "{suffix}"')
    if number < 0:
        raise ValueError(f"Invalid value: {number}")
    return number * (_TIME_UNITS[suffix] if suffix else 1e-3)


def _java_int(raw: str) -> int:
    """*raw* as a Java int: anything else is Livy's NumberFormatException, 400 ``{"msg"}``."""
    try:
        value = int(raw)
    except ValueError:
        raise msg(400, f'For input string: "{raw}"') from None
    if not -(2**31) <= value < 2**31:
        raise msg(400, f'For input string: "{raw}"')
    return value


def _java_long(raw: str) -> int:
    """*raw* as a Java long (job ids): anything else is NumberFormatException, 400 ``{"msg"}``."""
    try:
        value = int(raw)
    except ValueError:
        raise msg(400, f'For input string: "{raw}"') from None
    if not -(2**63) <= value < 2**63:
        raise msg(400, f'For input string: "{raw}"')
    return value


def _int_param(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    return None if raw is None else _java_int(raw)


def _statement_id(request: Request) -> int:
    """The ``{sid}`` path segment as a Java int (NumberFormatException → 400 ``{"msg"}``)."""
    return _java_int(request.path_params["sid"])


def _decode(raw: bytes, schema: Schema, java_class: str,
            kinds: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Jackson-like decoding; a failure is Livy's bare-string 400."""
    try:
        return decode(raw, schema, java_class, kinds)
    except JacksonError as exc:
        raise bare(400, str(exc)) from None


def _list_json(request: Request, items: list[T], render: Callable[[T], dict[str, Any]]) -> Response:
    """``GET /sessions`` and ``GET /batches``: ``?from&size`` slice; total counts all, from is echoed raw."""
    from_ = _int_param(request, "from")
    size = _int_param(request, "size")
    start = max(0, from_ or 0)
    count = 100 if size is None else max(0, size)
    return json_response({"from": 0 if from_ is None else from_, "total": len(items),
                          "sessions": [render(item) for item in items[start:start + count]]})


def _log_json(request: Request, owner_id: int, log_buffer: LogBuffer) -> Response:
    """``GET .../log`` of a session or batch with Livy's from/size semantics (section 10)."""
    from_, size = _int_param(request, "from"), _int_param(request, "size")
    lines = log_buffer.lines()
    eff_from, chunk = slice_log(lines, from_, size)
    return json_response({"id": owner_id, "from": eff_from, "total": len(lines), "log": chunk})


Handler = Callable[[Request], Awaitable[Response]]


def _guard(handler: Handler) -> Handler:
    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except _Reply as reply:
            return reply.response

    wrapped.__name__ = handler.__name__
    return wrapped


class LivyApp:
    """The Livy routes over a :class:`SessionManager` and a :class:`BatchManager`."""

    def __init__(self, *, sessions: SessionManager, batches: BatchManager, mode: VersionMode,
                 forced_user: str | None = None, public_url: str = "", gateway_url: str | None = None
                 ) -> None:
        #: the Livy root as clients reach it (for absolute appInfo links); *gateway_url*: the
        #: gateway's root (scheme://host:port/PREFIX) in gateway mode, where the Spark UI is proxied
        self.public_url = public_url.rstrip("/")
        self.gateway_url = gateway_url
        self.sessions = sessions
        self.batches = batches
        self.mode = mode
        self.forced_user = forced_user
        self.options = sessions.options
        # Serialized jobs per session id: Livy's per-session operation counter (ids from 1) and
        # the ids not cancelled yet. Session ids are never reused, so stale entries are harmless.
        self._job_counters: dict[int, int] = {}
        self._jobs: dict[int, set[int]] = {}

    # ------------------------------------------------------------------ app

    def build(self) -> Starlette:
        """The Starlette app with every route (trailing-slash variants included)."""
        g = _guard
        table: list[tuple[str, Handler, list[str]]] = [
            ("/", self.root, ["GET"]),
            ("/version", self.version, ["GET"]),
            ("/sessions", self.list_sessions, ["GET"]),
            ("/sessions", self.create_session, ["POST"]),
            ("/sessions/{id}", self.get_session, ["GET"]),
            ("/sessions/{id}", self.delete_session, ["DELETE"]),
            ("/sessions/{id}/state", self.session_state, ["GET"]),
            ("/sessions/{id}/log", self.session_log, ["GET"]),
            ("/sessions/{id}/stop", self.stop_session, ["POST"]),
            ("/sessions/{id}/interrupt", self.interrupt_session, ["POST"]),
            ("/sessions/{id}/connect", self.connect_session, ["POST"]),
            ("/sessions/{id}/statements", self.list_statements, ["GET"]),
            ("/sessions/{id}/statements", self.create_statement, ["POST"]),
            ("/sessions/{id}/statements/{sid}", self.get_statement, ["GET"]),
            ("/sessions/{id}/statements/{sid}/cancel", self.cancel_statement, ["POST"]),
            ("/sessions/{id}/completion", self.completion, ["POST"]),
            ("/sessions/{id}/upload-jar", self.upload("jar", "jar"), ["POST"]),
            ("/sessions/{id}/upload-pyfile", self.upload("file", "pyfile"), ["POST"]),
            ("/sessions/{id}/upload-file", self.upload("file", "file"), ["POST"]),
            ("/sessions/{id}/add-jar", self.add_resource("jar"), ["POST"]),
            ("/sessions/{id}/add-pyfile", self.add_resource("pyfile"), ["POST"]),
            ("/sessions/{id}/add-file", self.add_resource("file"), ["POST"]),
            ("/sessions/{id}/submit-job", self.submit_job, ["POST"]),
            ("/sessions/{id}/run-job", self.submit_job, ["POST"]),
            ("/sessions/{id}/jobs/{jobid}", self.job_status, ["GET"]),
            ("/sessions/{id}/jobs/{jobid}/cancel", self.cancel_job, ["POST"]),
            ("/livyd-sandbox/sessions/{id}/driver.log", self.driver_log, ["GET"]),
            ("/batches", self.list_batches, ["GET"]),
            ("/batches", self.create_batch, ["POST"]),
            ("/batches/{id}", self.get_batch, ["GET"]),
            ("/batches/{id}", self.delete_batch, ["DELETE"]),
            ("/batches/{id}/state", self.batch_state, ["GET"]),
            ("/batches/{id}/log", self.batch_log, ["GET"]),
        ]
        # Group methods per path so that an unknown method on a known path is a 405.
        by_path: dict[str, dict[str, Handler]] = {}
        for path, handler, methods in table:
            for method in methods:
                by_path.setdefault(path, {})[method] = g(handler)
        routes: list[Route] = []
        for path, handlers in by_path.items():
            endpoint = _dispatch(handlers)
            routes.append(Route(path, endpoint, methods=list(handlers)))
            if path != "/":
                routes.append(Route(path + "/", endpoint, methods=list(handlers)))
        routes += ui_routes()  # Livy's web UI at /ui (GET / redirects there)
        app = Starlette(routes=routes, exception_handlers={Exception: _unexpected})
        app.router.redirect_slashes = False
        return app

    # ------------------------------------------------------------------ helpers

    def _session(self, request: Request) -> Session:
        session = _by_key(request, self.sessions.lookup)
        session.heartbeat()
        return session

    def _batch(self, request: Request) -> Batch:
        return _by_key(request, self.batches.lookup)

    @staticmethod
    def _require_running(session: Session) -> None:
        if session.server_state != "running":
            raise bare(500, f"java.lang.IllegalStateException: Session is in state {session.server_state}")

    def _rejected(self, text: str) -> _Reply:
        return msg(400, f"{self.mode.rejected_prefix}{text}")

    async def _body(self, request: Request, schema: Schema, java_class: str,
                    kinds: frozenset[str] = frozenset()) -> dict[str, Any]:
        return _decode(await request.body(), schema, java_class, kinds)

    async def _create_body(self, request: Request, fields: Iterable[str], java_class: str,
                           kinds: frozenset[str] = frozenset()) -> dict[str, Any]:
        """A POST /sessions or /batches body, limited to the version mode's *fields*."""
        raw = await request.body()
        self._forced_body(raw)
        return _decode(raw, {k: _CREATE_TYPES[k] for k in fields}, java_class, kinds)

    def _app_info(self, session: Session | None = None) -> dict[str, Any]:
        """``appInfo``: for a session, its driver log and (once Spark runs) its Spark UI; local mode
        has no executors apart from the driver, so ``executorLogUrls`` stays null."""
        info: dict[str, Any] = {"driverLogUrl": None, "sparkUiUrl": None}
        if session is not None and session.repl is not None and self.public_url:
            info["driverLogUrl"] = self.public_url + driver_log_path(session.id)
        if session is not None and session.spark_ui_url:
            if self.gateway_url and session.app_id:
                info["sparkUiUrl"] = self.gateway_url + proxy_path("", session.app_id)
            else:
                info["sparkUiUrl"] = session.spark_ui_url
        if self.mode.executor_log_urls:
            info["executorLogUrls"] = None
        return info

    def _resolve_all(self, values: list[str], field: str) -> list[Path]:
        return [staged.path for staged in self._resolve_staged(values, field)]

    def _resolve_staged(self, values: list[str], field: str) -> list[Staged]:
        """Resolve each URI, keeping YARN's ``#alias`` (meaningful for files and archives)."""
        try:
            staged = []
            for value in values:
                uri, alias = split_alias(value, field=field)
                staged.append(Staged(resolve_resource(uri, field=field, data_dir=self.options.data_dir,
                                                      webhdfs_url=self.options.webhdfs_url), alias))
            return staged
        except ResourceError as exc:
            raise self._rejected(str(exc)) from None

    def _common_validation(self, body: dict[str, Any], live_names: Callable[[str], bool],
                           new_id: int) -> None:
        name = body.get("name")
        if name is not None:
            if name == "" or name.isdigit():
                raise self._rejected(f"Invalid session name: {name}")
            if live_names(name):
                raise self._rejected(f"Duplicate session name: Some({name}) for session {new_id}")
        conf = body.get("conf") or {}
        bad = [k for k in conf if k in BLACKLISTED_CONF]
        if bad:
            raise self._rejected(f"Blacklisted configuration values in session config: {', '.join(bad)}")

    def _owner_proxy(self, body: dict[str, Any]) -> tuple[str | None, str | None]:
        if self.forced_user is not None:
            return self.forced_user, self.forced_user
        # Impersonation is off, as in Livy's default: proxyUser is accepted and ignored.
        return None, None

    def _forced_body(self, raw: bytes) -> None:
        """Knox parses POST /sessions|/batches bodies as a JSON object to force proxyUser."""
        if self.forced_user is None:
            return
        try:
            value = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            value = None
        if not isinstance(value, dict):
            raise _Reply(Response(
                "Knox gateway: the body of POST /sessions or /batches must be a JSON object "
                "(Knox rewrites its proxyUser)", status_code=500, media_type="text/plain"))

    # ------------------------------------------------------------------ server-wide

    async def root(self, request: Request) -> Response:
        """``GET /`` redirects to the UI, as Livy does (behind the gateway, to the UI under the
        gateway's mount, as Knox rewrites Livy's UI redirects)."""
        return RedirectResponse(f"{request.scope.get('livyd.mount', '')}/ui/", status_code=302)

    async def version(self, request: Request) -> Response:
        """``GET /version``."""
        return json_response({"version": self.mode.version, "user": "livy", "revision": self.mode.revision,
                              "branch": f"branch-{self.mode.short}", "date": self.mode.date,
                              "url": "https://github.com/apache/incubator-livy"},
                             headers={"X-Livyd-Sandbox": "1"})  # how livyd tells it from a real Livy

    # ------------------------------------------------------------------ sessions

    def session_json(self, session: Session) -> dict[str, Any]:
        """The Session object in the field order and field set of the version mode (4.1, 16)."""
        out: dict[str, Any] = {
            "id": session.id, "name": session.name, "appId": session.app_id, "owner": session.owner,
            "proxyUser": session.proxy_user, "state": session.state, "kind": session.kind,
            "appInfo": self._app_info(session), "log": session.log.tail(10),
        }
        if self.mode.extended_session_json:
            r = session.request
            out["ttl"] = session.proxy_user if self.mode.ttl_holds_proxy_user else r.get("ttl")
            if self.mode.idle_timeout_field:
                out["idleTimeout"] = r.get("idleTimeout")
            out.update({
                "driverMemory": r.get("driverMemory"), "driverCores": r.get("driverCores", 0),
                "executorMemory": r.get("executorMemory"), "executorCores": r.get("executorCores", 0),
                "conf": r.get("conf", {}), "archives": r.get("archives", []), "files": r.get("files", []),
                "heartbeatTimeoutInSecond": r.get("heartbeatTimeoutInSecond", 0), "jars": r.get("jars", []),
                "numExecutors": r.get("numExecutors", 0), "pyFiles": r.get("pyFiles", []),
                "queue": r.get("queue"),
            })
        return out

    async def list_sessions(self, request: Request) -> Response:
        """``GET /sessions?from&size``: total counts all sessions, from is echoed raw."""
        return _list_json(request, list(self.sessions.sessions.values()), self.session_json)

    async def create_session(self, request: Request) -> Response:
        """``POST /sessions``: 201, state starting, relative Location."""
        body = await self._create_body(request, self.mode.create_fields, _INTERACTIVE_CLASS,
                                       frozenset(SESSION_KINDS))
        new_id = self.sessions.allocate_id()
        kind = SESSION_KINDS[body.get("kind", "shared")]
        if kind == "sparkr":
            raise self._rejected(
                f"the livyd sandbox has no R interpreter: session kind '{body['kind']}' is not "
                "supported (use spark, pyspark, sql, or shared with spark/pyspark/sql statements)")
        if kind == "spark" and not _has_pyspark():
            raise self._rejected(
                f"session kind '{body['kind']}' runs Spark's Scala REPL, which comes with pyspark: "
                "pip install 'livyd[spark]' (or use pyspark or sql)")
        idle_timeout: float | None = None
        for fname in ("ttl", "idleTimeout"):
            if fname in body:
                try:
                    seconds = parse_time_string(body[fname])
                except ValueError as exc:
                    raise self._rejected(str(exc)) from None
                if fname == "idleTimeout" or (fname == "ttl" and self.mode.ttl_is_idle_timeout):
                    idle_timeout = seconds
        self._common_validation(body, self.sessions.name_taken, new_id)
        jars = self._resolve_all(body.get("jars", []), "jars")
        py_files = self._resolve_all(body.get("pyFiles", []), "pyFiles")
        files = self._resolve_staged(body.get("files", []), "files")
        archives = self._resolve_staged(body.get("archives", []), "archives")
        owner, proxy = self._owner_proxy(body)
        env_extra = spark_submit_env(jars, body.get("conf", {}), body.get("name") or f"livy-session-{new_id}")
        session = Session(id=new_id, request=body, kind=kind, owner=owner, proxy_user=proxy,
                          options=self.options, idle_timeout=idle_timeout,
                          sys_path=[str(p) for p in py_files], archives=archives, files=files,
                          env_extra=env_extra)
        self.sessions.add(session)
        log.info("session created", session=new_id, kind=kind)
        return json_response(self.session_json(session), 201, {"Location": f"/sessions/{new_id}"})

    async def get_session(self, request: Request) -> Response:
        """``GET /sessions/{id}``."""
        return json_response(self.session_json(self._session(request)))

    async def session_state(self, request: Request) -> Response:
        """``GET /sessions/{id}/state``."""
        session = self._session(request)
        return json_response({"id": session.id, "state": session.state})

    async def delete_session(self, request: Request) -> Response:
        """``DELETE /sessions/{id}``: stops synchronously, then 404 forever."""
        session = self._session(request)
        await self.sessions.delete(session)
        return json_response({"msg": "deleted"})

    async def session_log(self, request: Request) -> Response:
        """``GET /sessions/{id}/log`` with Livy's from/size semantics."""
        session = self._session(request)
        return _log_json(request, session.id, session.log)

    async def driver_log(self, request: Request) -> Response:
        """The whole driver log (``appInfo.driverLogUrl``); ``?start=N`` as on YARN's log pages."""
        session = _by_key(request, self.sessions.lookup)
        raw = request.query_params.get("start")
        start = None if raw is None else _java_long(raw)
        return Response(session.driver_log.render(start), media_type="text/plain; charset=utf-8")

    async def stop_session(self, request: Request) -> Response:
        """``POST /sessions/{id}/stop``: 204, the dead record stays until GC."""
        session = self._session(request)
        await session.stop()
        return Response(status_code=204)

    async def interrupt_session(self, request: Request) -> Response:
        """``POST /sessions/{id}/interrupt``: misnamed, stops the whole session."""
        session = self._session(request)
        await session.stop()
        return json_response({"msg": "interrupted"})

    async def connect_session(self, request: Request) -> Response:
        """``POST /sessions/{id}/connect``: records activity, returns the session."""
        session = self._session(request)
        session.touch()
        return json_response(self.session_json(session))

    # ------------------------------------------------------------------ statements

    @staticmethod
    async def _ensure_active(session: Session) -> None:
        """Livy's ``ensureActive()`` followed by a call into the driver.

        Statement reads, add/upload of files and jars and the job API accept a *starting*
        session and block until the driver connects (livy-rest.md 7.4, inferred); an inactive one
        is ``require``'s 400. Livy's Python job client uploads right after creating its session.
        """
        if session.server_state in ("starting", "recovering"):  # recovering: --recovery
            with anyio.move_on_after(STARTING_WAIT):
                await session.ready.wait()
        if not session.active or session.server_state != "running":
            raise msg(400, "requirement failed: Session isn't active.")

    async def _statement_session(self, request: Request) -> Session:
        session = self._session(request)
        await self._ensure_active(session)
        return session

    async def list_statements(self, request: Request) -> Response:
        """``GET /sessions/{id}/statements?from&size&order``: a positional slice."""
        session = await self._statement_session(request)
        from_, size = _int_param(request, "from"), _int_param(request, "size")
        items = list(session.statements)
        if self.mode.order_desc and request.query_params.get("order", "").lower() == "desc":
            items.reverse()
        start = max(0, from_ or 0)
        chosen = items[start:] if size is None else items[start:start + max(0, size)]
        rendered = [s.to_json(await session.progress_of(s)) for s in chosen]
        return json_response({"total_statements": len(items), "statements": rendered})

    async def get_statement(self, request: Request) -> Response:
        """``GET /sessions/{id}/statements/{sid}``; unknown → bare ``"Statement not found"``."""
        session = await self._statement_session(request)
        sid = _statement_id(request)
        statement = session.find_statement(sid)
        if statement is None:
            raise bare(404, "Statement not found")
        return json_response(statement.to_json(await session.progress_of(statement)))

    async def create_statement(self, request: Request) -> Response:
        """``POST /sessions/{id}/statements``: 201 + Location; 500 unless running."""
        session = self._session(request)
        body = await self._body(request, _EXECUTE, _EXECUTE_CLASS, frozenset(STATEMENT_KINDS))
        self._require_running(session)
        code = body.get("code")
        if code is None:
            raise bare(500, "java.lang.NullPointerException: code")
        kind = STATEMENT_KINDS[body["kind"]] if "kind" in body else session.kind
        if kind == "shared":
            raise bare(500, "java.util.concurrent.ExecutionException: java.lang.IllegalArgumentException: "
                            "Code type should be specified if session kind is shared")
        if kind == "sparkr":
            raise msg(400, f"the livyd sandbox has no R interpreter: statement kind "
                           f"'{body['kind']}' is not supported (use spark, pyspark or sql)")
        statement = session.submit(code, kind)
        return json_response(statement.to_json(), 201,
                             {"Location": f"/sessions/{session.id}/statements/{statement.id}"})

    async def cancel_statement(self, request: Request) -> Response:
        """``POST .../statements/{sid}/cancel``: always ``{"msg":"canceled"}`` while running."""
        session = self._session(request)
        self._require_running(session)
        session.cancel(_statement_id(request))
        return json_response({"msg": "canceled"})

    async def completion(self, request: Request) -> Response:
        """``POST /sessions/{id}/completion``: only Scala completes in Livy (Python, R and SQL: [])."""
        session = self._session(request)
        body = await self._body(request, _COMPLETION, _COMPLETION_CLASS)
        self._require_running(session)
        session.touch()
        kind = STATEMENT_KINDS.get(str(body.get("kind")), session.kind)
        if kind != "spark":
            return json_response({"candidates": []})
        code = str(body.get("code") or "")
        raw = body.get("cursor")
        cursor = raw if isinstance(raw, int) else len(code)
        return json_response({"candidates": await session.complete(code, max(0, min(cursor, len(code))))})

    # ------------------------------------------------------------------ resources

    def upload(self, field: str, what: str) -> Handler:
        """``upload-jar`` / ``upload-pyfile`` / ``upload-file``: multipart, 400 when the part is missing."""
        missing = "No jar sent!" if field == "jar" else "No file sent!"

        async def handler(request: Request) -> Response:
            session = self._session(request)
            parts = _multipart_files(request.headers.get("content-type", ""), await request.body())
            if field not in parts:
                raise bare(400, missing)
            await self._ensure_active(session)
            filename, data = parts[field]
            target_dir = session.cwd / "uploads"
            target = target_dir / (Path(filename).name or f"upload-{what}")

            def write() -> None:
                target_dir.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)

            await anyio.to_thread.run_sync(write)
            await self._add_to_session(session, target, what)
            return Response(status_code=200)

        handler.__name__ = f"upload_{what}"
        return handler

    def add_resource(self, what: str) -> Handler:
        """``add-jar`` / ``add-pyfile`` / ``add-file`` by URI."""

        async def handler(request: Request) -> Response:
            session = self._session(request)
            body = await self._body(request, _ADD_RESOURCE, _ADD_CLASS)
            await self._ensure_active(session)
            uri = body.get("uri")
            if not uri:
                raise msg(400, "requirement failed: uri is required")
            try:
                path = resolve_resource(uri, field="uri", data_dir=self.options.data_dir,
                                        webhdfs_url=self.options.webhdfs_url)
            except ResourceError as exc:
                raise msg(400, str(exc)) from None
            await self._add_to_session(session, path, what)
            return Response(status_code=200)

        handler.__name__ = f"add_{what}"
        return handler

    async def _add_to_session(self, session: Session, path: Path, what: str) -> None:
        session.touch()
        if what == "pyfile" and session.repl is not None:
            await session.repl.add_path(str(path))
        elif what == "file":
            target = session.cwd / path.name
            await anyio.to_thread.run_sync(_copy_unless_same, path, target)
        # jars: recorded only; a running SparkContext cannot load them in a plain-Python sandbox.

    # ------------------------------------------------------------------ serialized jobs

    async def submit_job(self, request: Request) -> Response:
        """``submit-job`` / ``run-job``: 201 ``SENT`` as in Livy; the job then reports ``FAILED``.

        Livy's job clients read only ``id`` here and learn the outcome by polling
        ``GET .../jobs/{jobid}``; a 4xx would leave them waiting forever (the Python client's
        job handle never completes), so the refusal travels as the job's ``error``.
        """
        session = self._session(request)
        body = await self._body(request, _SERIALIZED_JOB, _JOB_CLASS)
        if not body.get("job"):
            raise msg(400, "requirement failed: no job provided.")
        if not session.active:
            raise msg(400, "requirement failed: Session isn't active.")
        session.touch()
        job_id = self._job_counters.get(session.id, 0) + 1
        self._job_counters[session.id] = job_id
        self._jobs.setdefault(session.id, set()).add(job_id)
        log.warning("serialized job refused: the sandbox does not run Livy's job API",
                    session=session.id, job=job_id)
        return json_response({"id": job_id, "state": "SENT", "result": None, "error": None}, 201)

    async def job_status(self, request: Request) -> Response:
        """``GET /sessions/{id}/jobs/{jobid}``: ``FAILED`` with :data:`JOB_API_UNSUPPORTED`."""
        session = self._session(request)
        job_id = _java_long(request.path_params["jobid"])
        await self._ensure_active(session)
        if job_id not in self._jobs.get(session.id, set()):
            raise bare(500, f"java.util.NoSuchElementException: key not found: {job_id}")
        session.touch()
        return json_response({"id": job_id, "state": "FAILED", "result": None, "error": JOB_API_UNSUPPORTED})

    async def cancel_job(self, request: Request) -> Response:
        """``POST .../jobs/{jobid}/cancel``: forgets the job, 200 with an empty body (Unit)."""
        session = self._session(request)
        job_id = _java_long(request.path_params["jobid"])
        if not session.active:
            raise msg(400, "requirement failed: Session isn't active.")
        session.touch()
        self._jobs.get(session.id, set()).discard(job_id)
        return Response(status_code=200)

    # ------------------------------------------------------------------ batches

    def batch_json(self, batch: Batch) -> dict[str, Any]:
        """The Batch object (9.2)."""
        return {"id": batch.id, "name": batch.name, "owner": batch.owner, "proxyUser": batch.proxy_user,
                "state": batch.state, "appId": None, "appInfo": self._app_info(), "log": batch.log.tail(10)}

    async def list_batches(self, request: Request) -> Response:
        """``GET /batches``: the list key is ``sessions`` for batches too."""
        return _list_json(request, list(self.batches.batches.values()), self.batch_json)

    async def create_batch(self, request: Request) -> Response:
        """``POST /batches``: 201 + Location; validation as for sessions."""
        body = await self._create_body(request, BATCH_FIELDS, _BATCH_CLASS)
        new_id = self.batches.allocate_id()
        if not body.get("file"):
            raise self._rejected("requirement failed: File is required.")
        self._common_validation(body, lambda n: any(b.name == n for b in self.batches.batches.values()),
                                new_id)
        file = self._resolve_all([body["file"]], "file")[0]
        jars = self._resolve_all(body.get("jars", []), "jars")
        py_files = self._resolve_all(body.get("pyFiles", []), "pyFiles")
        files = self._resolve_staged(body.get("files", []), "files")
        self._resolve_all(body.get("archives", []), "archives")
        try:
            command, env = self.batches.build_command(
                batch_id=new_id, file=file, class_name=body.get("className"), args=body.get("args", []),
                py_files=py_files, files=files, jars=jars, conf=body.get("conf", {}), name=body.get("name"))
        except ValueError as exc:
            raise self._rejected(str(exc)) from None
        owner, proxy = self._owner_proxy(body)
        batch = Batch(id=new_id, request=body, owner=owner, proxy_user=proxy, command=command, env=env,
                      cwd=self.options.work_dir / "batches" / str(new_id), files=files)
        self.batches.add(batch)
        log.info("batch created", batch=new_id)
        return json_response(self.batch_json(batch), 201, {"Location": f"/batches/{new_id}"})

    async def get_batch(self, request: Request) -> Response:
        """``GET /batches/{id}``."""
        return json_response(self.batch_json(self._batch(request)))

    async def batch_state(self, request: Request) -> Response:
        """``GET /batches/{id}/state``."""
        batch = self._batch(request)
        return json_response({"id": batch.id, "state": batch.state})

    async def batch_log(self, request: Request) -> Response:
        """``GET /batches/{id}/log``."""
        batch = self._batch(request)
        return _log_json(request, batch.id, batch.log)

    async def delete_batch(self, request: Request) -> Response:
        """``DELETE /batches/{id}``: kills the process tree."""
        batch = self._batch(request)
        await self.batches.delete(batch)
        return json_response({"msg": "deleted"})


async def _unexpected(request: Request, exc: Exception) -> Response:
    """Anything unexpected is a 500 with a bare JSON string, like Livy's JsonServlet."""
    log.error("unexpected error in a Livy route", path=request.url.path, error=repr(exc))
    return json_response(f"java.lang.RuntimeException: {type(exc).__name__}: {exc}", 500)


def _has_pyspark() -> bool:
    import importlib.util

    return importlib.util.find_spec("pyspark") is not None


def _by_key(request: Request, lookup: Callable[[str], T | None]) -> T:
    """The session or batch named by the ``{id}`` segment: an id when all digits, else a name."""
    key = request.path_params["id"]
    if key.isdigit() and int(key) >= 2**31:
        raise msg(400, f'For input string: "{key}"')
    found = lookup(key)
    if found is None:
        raise msg(404, f"Session '{key}' not found.")  # batches say "Session" too
    return found


def _copy_unless_same(source: Path, target: Path) -> None:
    if source.resolve() != target.resolve():
        shutil.copy2(source, target)


def _dispatch(handlers: dict[str, Handler]) -> Handler:
    async def endpoint(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method  # Starlette adds HEAD to GET
        return await handlers[method](request)

    return endpoint


def _multipart_files(content_type: str, body: bytes) -> dict[str, tuple[str, bytes]]:
    """The file parts of a multipart/form-data body, by field name (stdlib parser, no extra)."""
    if "multipart/form-data" not in content_type.lower():
        return {}
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body)
    out: dict[str, tuple[str, bytes]] = {}
    if not message.is_multipart():
        return out
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        out[str(name)] = (str(part.get_filename() or name), data)
    return out
