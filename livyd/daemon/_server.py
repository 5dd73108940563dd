"""The pygls server behind ``livyd --stdio``: framing, lifecycle, handlers.

Theory of operation
-------------------

**Structured root.** :func:`serve` runs under ``anyio.run(..., backend="asyncio")``: one task
group owns the frame reader, every session poller and every batch follower; on ``exit`` or stdin
EOF the supervisor's shutdown runs (shielded, time-limited) and the group is cancelled. pygls runs
request handlers as asyncio tasks on the same loop; they only *start* work in the root group.

**Our own frame reader.** pygls' reader (``pygls.io_.run_async``) trusts its input: no error for
a body that is not JSON, no size limit, and it loses its place for good after garbage.
:func:`_read_frames` replaces it with the sans-IO parser of :mod:`livyd.daemon._framing`: a
``Content-Length`` above ``--max-frame-bytes`` is refused by *discarding* the body as it arrives
(never holding it), garbage and truncated frames are answered with JSON-RPC errors (id null) and
skipped up to the next frame header, and well-formed messages go to ``protocol.handle_message``.
Nothing but frames reaches stdout: ``sys.stdout`` is pointed at stderr for the process's
lifetime, and the only writer of the real stdout is the pygls protocol.

**Params as dicts.** The server uses ``lsprotocol.converters.get_converter``, so params of
``livy/*`` methods arrive as plain dicts; :func:`_rpc` validates them with the protocol's pydantic
model (InvalidParams with ``data.field`` = the field path), maps :class:`LivydError` to the
error-code table, and turns any other exception into InternalError without a traceback (unless
``settings.showTracebacks``). Results are ``model.wire()`` dicts.

**Secrets.** ``livy/setCredentials`` params are validated into pydantic ``SecretStr``-free local
variables and never logged; the pygls loggers sit at WARNING behind a filter that blanks the
arguments of any record mentioning that method.

**Fast initialize.** httpx and the Livy adapter are imported when the first Livy call needs them
(after ``initialized``); the import cost left is pygls/lsprotocol itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import os
import sys
import traceback
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import unquote, urlparse

import anyio
from lsprotocol import types
from lsprotocol.converters import get_converter
from pydantic import BaseModel, ValidationError
from pygls.exceptions import JsonRpcException, JsonRpcInternalError, JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

from livyd._exceptions import LivydError, redact_url
from livyd._version import __version__
from livyd.protocol import (
    COMMANDS,
    METHODS,
    PROTOCOL_VERSION,
    DaemonSettings,
    InitializationOptions,
    LivydCapabilities,
    OutputNotification,
    ProfileInfo,
    WireModel,
    jsonrpc_code_for,
)
from livyd.protocol._errors import INVALID_REQUEST, PARSE_ERROR, SERVER_NOT_INITIALIZED

if TYPE_CHECKING:
    from livyd.daemon._supervisor import Supervisor
    from livyd.daemon._tasks import Task

__all__ = ["DaemonState", "LivydServer", "serve"]

log = logging.getLogger("livyd.daemon")
M = TypeVar("M", bound=BaseModel)

DEFAULT_MAX_FRAME = 64 * 1024 * 1024
#: Settings that stay per client on a shared daemon (stateDir selects the shared supervisor).
PER_CLIENT_SETTINGS = frozenset({"showTracebacks", "stateDir"})
_CHUNK = 64 * 1024
#: livyd's own client-to-server methods (their params may be omitted).
_OWN_METHODS = frozenset(m.name for m in METHODS if m.direction == "clientToServer")


class _SecretFilter(logging.Filter):
    """Blank the arguments of log records that could carry livy/setCredentials params."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = str(record.msg)
        try:
            text += " ".join(str(a) for a in (record.args or ()))
        except Exception:
            pass
        if "setCredentials" in text or "password" in text.lower() or "token" in text.lower():
            record.msg = "[record redacted: it may contain credentials]"
            record.args = ()
            record.exc_info = None
            record.exc_text = None
        return True


class _OneLineLibraryErrors(logging.Filter):
    """pygls logs every message it cannot read with a full (exception-group) traceback: dozens of
    lines per bad message in the editor's log. Keep one line naming the error; ``-vv`` keeps all."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith("pygls"):
            return True
        try:
            text = record.getMessage()
        except Exception:
            return True
        summary = ""
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            summary = f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0]}"
        elif "Traceback (most recent call last)" in text:  # a traceback formatted into the text
            tail = [ln.strip(" |+-") for ln in text.splitlines() if ln.strip(" |+-")]
            summary = next((ln for ln in reversed(tail) if not ln.startswith("Structuring ")), "")
        else:
            return True
        record.msg = f"{text.splitlines()[0] if text else ''} ({summary})"
        record.args = ()
        record.exc_info = None
        record.exc_text = None
        return True


class _Fanout:
    """The client connections that share one supervisor."""

    def __init__(self, states: list[DaemonState]) -> None:
        self.states = states

    def _origin(self, task: Task) -> DaemonState | None:
        for st in self.states:
            if id(st) == task.origin:
                return st
        return None

    def notifier(self) -> Any:
        from livyd.daemon._supervisor import Notifier

        def notify(method: str, params: dict[str, Any]) -> None:
            for st in list(self.states):
                st.server.protocol.notify(method, params)

        def notify_encoded(method: str, params: bytes) -> None:
            for st in list(self.states):
                protocol = st.server.protocol
                if isinstance(protocol, LivydProtocol):
                    protocol.notify_encoded(method, params)

        def show(message: str, level: int) -> None:
            for st in list(self.states):
                st._show_message(message, level)

        def at_origin(name: str) -> Callable[..., None]:
            def call(task: Task, *args: Any) -> None:
                st = self._origin(task)
                if st is not None:
                    getattr(st, name)(task, *args)

            return call

        return Notifier(
            notify=notify,
            show_message=show,
            notify_encoded=notify_encoded,
            progress_begin=at_origin("_progress_begin"),
            progress_report=at_origin("_progress_report"),
            progress_end=at_origin("_progress_end"),
            diagnostics=at_origin("_diagnostics"),
        )


class DaemonState:
    """What the handlers share: settings, the supervisor, credentials, the workspace."""

    def __init__(self, server: LivydServer) -> None:
        self.server = server
        self.initialized = False
        self.options = InitializationOptions()
        self.settings = DaemonSettings()
        self.workspace = os.getcwd()
        self.credentials: dict[str | None, dict[str, str]] = {}
        self.supervisor: Supervisor | None = None
        self.tg: Any = None
        self.stack: contextlib.AsyncExitStack | None = None
        self.state_dir: Path | None = None
        self.progress_tokens: dict[str, str] = {}
        self.diag_uris: set[str] = set()
        self.stop = anyio.Event()
        #: Whether this client was told that a stateDir change needs a new daemon.
        self.state_dir_warned = False
        self.exit_code = 0
        self.registry: dict[str, tuple[Supervisor, _Fanout]] | None = None
        self.fanout: _Fanout | None = None

    # ---------------------------------------------------------------- connection

    def supervisor_or_new(self) -> Supervisor:
        """The workspace's supervisor (created on first use, so its imports stay out of initialize).

        In the shared per-user daemon, connections on the same state directory (workspace) share
        one supervisor: its notifications fan out to all of them; progress and diagnostics go to
        the connection that started the task.
        """
        if self.supervisor is None:
            from livyd.daemon._state import StateStore, default_state_dir
            from livyd.daemon._supervisor import Supervisor

            directory = (
                Path(self.settings.state_dir)
                if self.settings.state_dir
                else default_state_dir(self.workspace)
            )
            self.state_dir = directory
            key = str(directory)
            if self.registry is not None and key in self.registry:
                sup, fanout = self.registry[key]
                fanout.states.append(self)
                self.fanout = fanout
                self.supervisor = sup
                self._warn_ignored_settings(sup)
                return sup
            fanout = _Fanout([self])
            sup = Supervisor(self.settings, fanout.notifier())
            sup.tg = self.tg
            sup.profile = self.options.profile
            sup.resolver = self._resolve
            sup.opener = self._open_api
            store = StateStore(directory)
            if store.acquire():
                sup.use_store(store)
            else:
                self._show_message(
                    f"another livyd daemon owns the state of {self.workspace}; this one will not persist "
                    "its sessions",
                    2,
                )
            self.fanout = fanout
            self.supervisor = sup
            if self.registry is not None:
                self.registry[key] = (sup, fanout)
        return self.supervisor

    def _warn_ignored_settings(self, sup: Supervisor) -> None:
        """A client joining a shared supervisor: the first client's settings stay in force (see
        protocol/README.md, "Settings of clients sharing a workspace"); say which of ours are not."""
        mine = self.settings.model_dump(by_alias=True)
        theirs = sup.settings.model_dump(by_alias=True)
        ignored: list[str] = []
        for name, value in mine.items():
            if name in PER_CLIENT_SETTINGS or theirs.get(name) == value:
                continue
            shown = theirs.get(name)
            if name == "url" and shown:
                shown = redact_url(str(shown))
            ignored.append(f"{name} (in effect: {json.dumps(shown)})")
        if self.options.profile != sup.profile:
            ignored.append(f"profile (in effect: {json.dumps(sup.profile)})")
        if ignored:
            self._show_message(
                "livyd: this workspace's daemon is shared with another editor that connected first; "
                "its settings apply, so these of yours are ignored: " + ", ".join(ignored),
                2,
            )

    def detach(self) -> None:
        """This connection is gone: stop sending it notifications."""
        if self.fanout is not None and self in self.fanout.states:
            self.fanout.states.remove(self)

    async def connected(self) -> Supervisor:
        """The supervisor, able to open Livy connections (profiles are connected lazily, on first
        use: :meth:`Supervisor.connection`)."""
        return self.supervisor_or_new()

    async def _open_api(self, resolved: Any) -> tuple[Any, bool]:
        """A LivyAPI for a resolved profile (``settings.url`` already acting like ``--url``): the
        library's auth, TLS and retries, unless livy/setCredentials gave a password or token; with
        no URL, the embedded sandbox (one per daemon, never sent credentials). Returns the API and
        whether it is the embedded sandbox. Its client is closed when the daemon ends."""
        from livyd.daemon._livy import LivyAPI

        sup = self.supervisor_or_new()
        url = resolved.profile.url
        embedded = not url
        if embedded:
            from livyd._connect import build_livy_client

            if sup.embedded_url is None:
                sup.embedded_url = await self._embedded_sandbox()
            url = sup.embedded_url
            # Never send the profile's credentials to our own sandbox.
            client = build_livy_client(resolved, url=url, use_auth=False)
        else:
            client = self._client_for(resolved)
        assert self.stack is not None
        api = LivyAPI(client)
        self.stack.push_async_callback(api.aclose)
        log.info("connected to Livy at %s (profile %s)", redact_url(url), resolved.profile_name)
        return api, embedded

    async def _resolve(self, profile: str | None, url: str | None = None) -> Any:
        """Resolve *profile* (None: the configured default) with *url* (None: ``settings.url``) as
        ``--url``; an unknown profile is an ``unknown-profile`` error naming it and the known ones.
        The supervisor's settings are used (on a shared daemon: those in force for the workspace)."""
        sup = self.supervisor_or_new()
        target = url or sup.settings.url
        return await anyio.to_thread.run_sync(lambda: self.resolve_sync(profile, target))

    def resolve_sync(self, profile: str | None, url: str | None) -> Any:
        """:meth:`_resolve` without the event loop (it reads files): *url* is the editor's ``url``
        setting (errors about it name the setting, never a command-line flag)."""
        from livyd._config import load_config
        from livyd._exceptions import ConfigError

        try:
            settings = self.supervisor.settings if self.supervisor is not None else self.settings
            return load_config(
                profile=profile, cwd=self.workspace, overrides=config_overrides(url, settings, self.workspace)
            )
        except ConfigError as exc:
            if profile is None or exc.key != "profile" or not str(exc).startswith("unknown profile"):
                raise
            from livyd.daemon._connections import DaemonError

            known = self._known_profiles()
            listed = ", ".join(known) if known else "none (no [profiles.<name>] table in any livyd.toml)"
            raise DaemonError(
                f"unknown profile {profile!r}; known profiles: {listed}", "unknown-profile"
            ) from None

    def _known_profiles(self) -> list[str]:
        from livyd._config import load_config

        try:
            return list(load_config(cwd=self.workspace).known_profiles)
        except Exception:
            return []

    def _credentials_for(self, resolved: Any) -> dict[str, str] | None:
        """The editor's credentials for exactly this profile (never another profile's)."""
        return self.credentials.get(resolved.profile_name) or None

    def _client_for(self, resolved: Any) -> Any:
        """A LivyClient for a configured URL, with the editor's credentials if it gave some: the
        profile's auth with those secrets in it, built by the library (``livyd._auth``)."""
        from livyd._connect import build_livy_client

        creds = self._credentials_for(resolved)
        if creds:
            resolved = with_credentials(resolved, creds)
        return build_livy_client(resolved)

    async def apply_credentials(self, profile: str | None) -> bool:
        """After livy/setCredentials: replace the Livy client of every open connection of *profile*
        (a resolved profile name; None when no profile is configured) by one with the new
        credentials, closing each old one once its in-flight calls are done. Returns whether a
        client was replaced. The credentials themselves are never logged."""
        from livyd.daemon._livy import LivyAPI

        sup = self.supervisor
        if sup is None:
            return False
        replaced = False
        name = profile
        async with sup.connect_lock:
            for conn in sup.connections:
                if conn.embedded or conn.api is None or conn.resolved is None or conn.profile != name:
                    continue
                old = conn.api
                api = LivyAPI(self._client_for(conn.resolved))
                for w in sup.sessions.values():  # who each session is: the new client checks it too
                    known = old.session_identity(w.session_id) if w.conn is conn else None
                    if known is not None:
                        api.track_identity(known)
                assert self.stack is not None
                self.stack.push_async_callback(api.aclose)
                conn.api = api
                replaced = True
                log.info("replaced the Livy client of profile %s with new credentials from the editor", name)
                if self.tg is not None:
                    self.tg.start_soon(old.aclose_when_idle)
                for w in sup.sessions.values():
                    if w.conn is conn:
                        w.kick()
        return replaced

    async def _embedded_sandbox(self) -> str:
        try:
            from livyd.sandbox import Sandbox
        except ImportError as exc:
            raise LivydError("no Livy URL configured and the embedded sandbox is not available") from exc
        assert self.stack is not None
        sandbox = await self.stack.enter_async_context(Sandbox())
        url = str(sandbox.livy_url)
        self._show_message(f"no Livy configured: using an embedded sandbox at {url}", 3)
        return url

    # ---------------------------------------------------------------- client-facing helpers

    def _show_message(self, message: str, level: int) -> None:
        self.server.window_show_message(
            types.ShowMessageParams(type=types.MessageType(level), message=message)
        )

    def _progress_supported(self) -> bool:
        caps = self.server.protocol.client_capabilities
        return bool(caps and caps.window and caps.window.work_done_progress)

    def _progress_begin(self, task: Task) -> None:
        if not self._progress_supported() or self.tg is None:
            return
        token = f"livyd-{task.task_id}"
        task.progress_token = token
        self.progress_tokens[token] = task.task_id

        async def begin() -> None:
            try:
                with anyio.fail_after(5):
                    await self.server.work_done_progress.create_async(token)
            except Exception:
                task.progress_token = None
                return
            self.server.work_done_progress.begin(
                token,
                types.WorkDoneProgressBegin(
                    title=f"Livy statement ({task.task_id})",
                    cancellable=True,
                    percentage=int(task.progress * 100),
                    message=task.info().code_preview,
                ),
            )
            if task.finished:
                self._progress_end(task)

        self.tg.start_soon(begin)

    def _progress_report(self, task: Task, message: str | None = None) -> None:
        """A ``$/progress`` report: Livy's percentage; *message* says what Spark does (livy/progress),
        else the task's state."""
        token = task.progress_token
        if token and token in self.server.work_done_progress.tokens:
            self.server.work_done_progress.report(
                token,
                types.WorkDoneProgressReport(percentage=int(task.progress * 100),
                                             message=message or task.state.value),
            )

    def _progress_end(self, task: Task) -> None:
        token = task.progress_token
        if token and token in self.server.work_done_progress.tokens:
            task.progress_token = None
            self.server.work_done_progress.end(token, types.WorkDoneProgressEnd(message=task.state.value))

    def _diagnostics(self, task: Task, out: OutputNotification) -> None:
        if not task.uri or task.range is None:
            return
        diags: list[types.Diagnostic] = []
        if out.status.value == "error":
            # Livy drops the top-level `File "<stdin>", line N` frame (livy-rest.md 7.9): a line is
            # known only from inner frames and syntax errors (livy/output's errorRange, the same
            # range); otherwise the whole sent range is marked.
            where = out.error_range or task.range
            diags.append(
                types.Diagnostic(
                    range=types.Range(
                        start=types.Position(line=where.start.line, character=where.start.character),
                        end=types.Position(line=where.end.line, character=where.end.character),
                    ),
                    message=f"{out.ename}: {out.evalue}",
                    severity=types.DiagnosticSeverity.Error,
                    source="livyd",
                )
            )
        if diags or task.uri in self.diag_uris:
            self.server.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=task.uri, diagnostics=diags)
            )
            if diags:
                self.diag_uris.add(task.uri)
            else:
                self.diag_uris.discard(task.uri)

    def clear_diagnostics(self, uri: str | None) -> None:
        """Clear the diagnostics of a previous run on *uri* (the next run starts clean)."""
        if uri and uri in self.diag_uris:
            self.diag_uris.discard(uri)
            self.server.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
            )


def with_credentials(resolved: Any, creds: dict[str, str]) -> Any:
    """*resolved* with the editor's credentials (livy/setCredentials) as its auth: a token is
    bearer auth, a password basic auth (with the given username, else the profile's); the token
    wins when both are given."""
    import dataclasses

    from pydantic import SecretStr

    from livyd._auth import AuthConfig

    current = resolved.profile.auth
    if creds.get("token"):
        auth = AuthConfig(type="bearer", token=SecretStr(creds["token"]))
    elif creds.get("password") is not None:
        auth = AuthConfig(
            type="basic", username=creds.get("username") or current.username or "",
            password=SecretStr(creds["password"]),
        )
    else:
        return resolved
    return dataclasses.replace(resolved, profile=resolved.profile.model_copy(update={"auth": auth}))


class LivydProtocol(LanguageServerProtocol):
    """pygls' LSP protocol with livyd's capabilities in ``initialize`` and a non-exiting ``exit``."""

    def handle_message(self, message: Any) -> None:
        """After ``shutdown`` a request is answered with InvalidRequest, as LSP says (pygls drops it
        silently, and the client would wait for ever); only ``exit`` is still acted on."""
        method = getattr(message, "method", None)
        if self._shutdown and method is not None and method != types.EXIT:
            msg_id = getattr(message, "id", None)
            if msg_id is not None:
                self._send_response(msg_id, error=types.ResponseError(
                    code=INVALID_REQUEST,
                    message="livyd is shutting down (shutdown was received): only exit is accepted"))
            return
        super().handle_message(message)

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(self, params: types.InitializeParams) -> Any:
        result = yield from super().lsp_initialize(params)
        server = self._server
        assert isinstance(server, LivydServer)
        caps = LivydCapabilities(
            version=__version__,
            protocol_version=PROTOCOL_VERSION,
            requests=[m.name for m in METHODS if m.kind == "request"],
            notifications=[m.name for m in METHODS if m.kind == "notification"],
            commands=list(COMMANDS),
            shared=server.livyd.registry is not None,
        )
        result.capabilities.experimental = {"livyd": caps.wire()}
        return result

    def _send_data(self, data: Any) -> None:
        """Every message pygls sends: encoded once with orjson (the bytes on the wire, also what
        output sizes are measured in) and queued for the stdout thread, never written on the loop."""
        if not data or self.writer is None:
            return
        from livyd.daemon._wire import dumps, frame

        try:
            body = dumps(data, default=self._serialize_message)
        except Exception:
            log.error("could not encode a message (%s)", type(data).__name__, exc_info=True)
            return
        self.writer.write(frame(body))

    def notify_encoded(self, method: str, params: bytes) -> None:
        """A notification whose params are already JSON (a big output, encoded once in a worker
        thread for the output log and reused here as is)."""
        if self.writer is None:
            return
        from livyd.daemon._wire import dumps

        head = b'{"jsonrpc":"2.0","method":' + dumps(method) + b',"params":'
        length = len(head) + len(params) + 1
        # Written in pieces (one writer, in order): a 20 MB body is never copied into a frame.
        self.writer.write(b"Content-Length: %d\r\n\r\n" % length + head)
        self.writer.write(params)
        self.writer.write(b"}")

    def _send_response(self, msg_id: Any, result: Any = None, error: Any = None) -> None:
        """pygls answers an unexpected exception in a handler it runs itself (initialize, codeLens,
        a message its converter chokes on) with ``data.traceback``: local paths, maybe secrets in
        frames. Unless ``showTracebacks`` is set, such an error says only what failed."""
        if error is not None:
            error = _scrub_error(error, self._server)
        super()._send_response(msg_id, result, error)

    @lsp_method(types.EXIT)
    def lsp_exit(self, *args: Any) -> Any:
        server = self._server
        assert isinstance(server, LivydServer)
        server.livyd.exit_code = 0 if self._shutdown else 1
        server.livyd.stop.set()


def _scrub_error(error: Any, server: Any) -> Any:
    """*error* (an lsprotocol ResponseError) without pygls' traceback, its message redacted."""
    data = getattr(error, "data", None)
    if not (isinstance(data, dict) and "traceback" in data):
        return error
    from livyd._core.redact import redact_text

    livyd_state = getattr(server, "livyd", None)
    if livyd_state is not None and livyd_state.settings.show_tracebacks:
        lines = data.get("traceback")
        if isinstance(lines, list):  # asked for, but never a secret in it
            data = {**data, "traceback": [redact_text(str(line)) for line in lines]}
        return types.ResponseError(code=error.code, message=redact_text(str(error.message)), data=data)

    message = redact_text(str(error.message or "Internal Error").splitlines()[0])[:300]
    return types.ResponseError(code=error.code, message=message, data={"code": "internal"})


@functools.cache
def _converter() -> Any:
    """lsprotocol's converter, built once per process (~35 ms): the shared daemon builds a server
    per editor connection, and the converter keeps no per-connection state (pygls only reads
    it; its hooks are registered when it is built)."""
    return get_converter()


class LivydServer(LanguageServer):
    """The pygls server with livyd's state attached."""

    def __init__(self) -> None:
        super().__init__("livyd", __version__, protocol_cls=LivydProtocol, converter_factory=_converter)
        self.livyd = DaemonState(self)


# --------------------------------------------------------------------------- handler plumbing


def _field_path(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(p) for p in loc)


def _invalid_params(exc: ValidationError, method: str) -> JsonRpcInvalidParams:
    errors = [{"field": _field_path(e["loc"]), "message": e["msg"]} for e in exc.errors()]
    first = errors[0] if errors else {"field": "", "message": "invalid"}
    where = first["field"] or "params"
    return JsonRpcInvalidParams(
        f"invalid params for {method}: {where}: {first['message']}",
        data={"code": "invalid-params", "field": first["field"], "errors": errors},
    )


def validate(model: type[M], params: Any, method: str) -> M:
    """Validate raw params into *model*; InvalidParams naming the field path otherwise."""
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise JsonRpcInvalidParams(
            f"invalid params for {method}: params must be an object",
            data={"code": "invalid-params", "field": "", "errors": []},
        )
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        raise _invalid_params(exc, method) from None


def _livyd_error(exc: LivydError) -> JsonRpcException:
    return JsonRpcException(message=str(exc), code=jsonrpc_code_for(exc.code), data={"code": exc.code})


Handler = Callable[[LivydServer, Any], Awaitable[Any]]


def _rpc(server: LivydServer, name: str, *, command: bool = False) -> Callable[[Handler], Handler]:
    """Register a livy/* request handler from the method table (or, with *command*, a
    workspace/executeCommand command): the initialized check, params validated with the table's
    model (the handler gets the model), the result checked against the table's result model and
    sent as ``wire()``, and the error mapping. A name the table does not have is refused here, at
    start-up (see tests/daemon/test_daemon_structure.py)."""
    from livyd.protocol import method as table_entry

    meth = None if command else table_entry(name)
    if command:
        if name not in COMMANDS:
            raise LookupError(f"command {name} is not in livyd/protocol/_methods.py COMMANDS: add it there")
    elif meth is None or meth.kind != "request" or meth.direction != "clientToServer":
        raise LookupError(f"{name} has no request entry in livyd/protocol/_methods.py: add it there first")

    def deco(fn: Handler) -> Handler:
        async def handler(ls: LivydServer, params: Any) -> Any:
            if not ls.livyd.initialized:
                raise JsonRpcException(
                    message=f"{name} before initialize",
                    code=SERVER_NOT_INITIALIZED,
                    data={"code": "not-initialized"},
                )
            try:
                arg = validate(meth.params, params, name) if meth is not None else params
                result = await fn(ls, arg)
                if isinstance(result, WireModel):
                    expected = meth.result if meth is not None else None
                    if expected is not None and not isinstance(result, expected):
                        raise TypeError(f"{name} returned {type(result).__name__}, not {expected.__name__}")
                    return result.wire()
                return result
            except JsonRpcException:
                raise
            except LivydError as exc:
                raise _livyd_error(exc) from None
            except (asyncio.CancelledError, anyio.get_cancelled_exc_class()):
                raise
            except Exception as exc:
                if name == "livy/setCredentials":
                    raise JsonRpcInternalError(
                        "livy/setCredentials failed", data={"code": "internal"}
                    ) from None
                log.error("internal error in %s: %s", name, type(exc).__name__, exc_info=True)
                data: dict[str, Any] = {"code": "internal"}
                if ls.livyd.settings.show_tracebacks:
                    from livyd._core.redact import redact_text

                    data["traceback"] = [redact_text(line) for line in traceback.format_exception(exc)]
                raise JsonRpcInternalError(
                    f"internal error in {name}: {type(exc).__name__}", data=data
                ) from None

        if command:

            async def command_handler(ls: LivydServer, *args: Any) -> Any:
                return await handler(ls, args)

            server.command(name)(command_handler)
        else:
            server.feature(name)(handler)
        return handler

    return deco


# --------------------------------------------------------------------------- handlers


def build_server() -> LivydServer:
    """A server with every handler registered."""
    from livyd.daemon import _handlers

    server = LivydServer()
    _handlers.register(server, _rpc)
    return server


def _uri_path(uri: str) -> str:
    parsed = urlparse(uri)
    return unquote(parsed.path) if parsed.scheme == "file" else uri


# --------------------------------------------------------------------------- framing


def _send_error(writer: Any, msg_id: Any, code: int, message: str, data: Any = None) -> None:
    from livyd.daemon._wire import dumps, frame

    error: dict[str, Any] = {"code": code, "message": message}
    if data:
        error["data"] = data
    writer.write(frame(dumps({"jsonrpc": "2.0", "id": msg_id, "error": error})))


async def _read_frames(
    reader: asyncio.StreamReader, server: LivydServer, writer: Any, max_frame: int
) -> None:
    """Feed stdin (or a relay socket) through the sans-IO :class:`FrameParser` until EOF."""
    from livyd.daemon._framing import BadHeader, FrameParser, TooLarge

    parser = FrameParser(max_frame)
    while True:
        chunk = await reader.read(_CHUNK)
        if not chunk:
            return  # EOF
        parser.feed(chunk)
        while (event := parser.next_event()) is not None:
            if isinstance(event, BadHeader):
                reason = f"Parse error: malformed frame header ({event.reason})"
                _send_error(writer, None, PARSE_ERROR, reason)
            elif isinstance(event, TooLarge):
                _send_error(
                    writer,
                    None,
                    INVALID_REQUEST,
                    f"Invalid Request: frame of {event.length} bytes exceeds the limit of {max_frame} bytes",
                    {"code": "frame-too-large", "limit": max_frame},
                )
            elif not _dispatch(event.body, server, server.protocol, writer):
                parser.resync(event.body)  # maybe a truncated frame glued to the next one
            if server.livyd.stop.is_set():
                return


def _dispatch(body: bytes, server: LivydServer, protocol: Any, writer: Any) -> bool:
    """Handle one frame body; False when it is not JSON at all. Whatever the body (nested a
    thousand deep, an id that is an array), it is answered or handed to pygls; nothing raises."""
    from livyd.daemon._jsonrpc import Undecodable, decode, problem

    try:
        raw = decode(body)
    except Undecodable as exc:
        _send_error(writer, None, PARSE_ERROR, f"Parse error: {exc}")
        return False
    refused = problem(raw)
    if refused is not None:
        _send_error(writer, refused.msg_id, refused.code, refused.message, refused.data)
        return True
    msg_id = raw.get("id")
    if "params" not in raw and raw.get("method") in _OWN_METHODS:
        # JSON-RPC lets a request omit params (vscode-jsonrpc's sendRequest(method) does); pygls
        # would refuse it, so it is read like params null (= {}: required fields are still named).
        raw = {**raw, "params": None}
    try:
        # The body is parsed once: pygls structures the envelope (its object hook leaves any dict
        # without "jsonrpc" alone, so only the top level needs it).
        message = protocol.structure_message(raw)
    except JsonRpcException as exc:
        if "method" in raw and msg_id is not None:
            _send_error(
                writer, msg_id, exc.code, f"invalid params for {raw['method']}", {"code": "invalid-params"}
            )
        return True
    except Exception:
        if "method" in raw and msg_id is not None:
            _send_error(writer, msg_id, INVALID_REQUEST, f"Invalid Request: cannot read {raw['method']}")
        return True
    try:
        protocol.handle_message(message)
    except SystemExit:
        server.livyd.stop.set()
    except Exception:
        log.error("failed to handle a message", exc_info=True)
        if msg_id is not None and "method" in raw:
            _send_error(writer, msg_id, -32603, "Internal Error", {"code": "internal"})
    return True


async def _stdin_reader(tg: Any) -> asyncio.StreamReader:
    """stdin as a StreamReader: an event-loop pipe when stdin is a pipe or socket, else (a file,
    a tty) a worker thread feeding it."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=_CHUNK)
    try:
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin.buffer)
    except ValueError:
        fd = sys.stdin.buffer.fileno()

        async def pump() -> None:
            while chunk := await anyio.to_thread.run_sync(os.read, fd, _CHUNK, abandon_on_cancel=True):
                reader.feed_data(chunk)
            reader.feed_eof()

        tg.start_soon(pump)
    return reader


async def serve(max_frame: int = DEFAULT_MAX_FRAME) -> int:
    """Run the daemon on stdin/stdout until ``exit`` or EOF; return the exit code."""
    real_stdout = sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing but frames on the real stdout
    from livyd.daemon._wire import FrameWriter

    writer = FrameWriter(real_stdout)
    server = build_server()
    server.protocol.set_writer(writer)
    state = server.livyd
    async with contextlib.AsyncExitStack() as stack:
        state.stack = stack
        async with anyio.create_task_group() as tg:
            state.tg = tg
            reader = await _stdin_reader(tg)

            async def read_all() -> None:
                try:
                    await _read_frames(reader, server, writer, max_frame)
                finally:
                    state.stop.set()

            tg.start_soon(read_all)
            await state.stop.wait()
            if state.supervisor is not None:
                with anyio.move_on_after(20, shield=True):
                    await state.supervisor.shutdown()
            tg.cancel_scope.cancel()
        if state.supervisor is not None and state.supervisor.store is not None:
            state.supervisor.persist()
            state.supervisor.store.release()
    writer.drain()
    return state.exit_code


def new_task_token() -> str:
    """A fresh id (exposed for handlers)."""
    return uuid.uuid4().hex


def profile_infos(state: DaemonState) -> tuple[list[ProfileInfo], str | None]:
    """The configured profiles, each with the URL it connects to (``settings.url`` if set; redacted)
    and its auth type; a profile that does not resolve (say, an undefined variable) shows no URL."""
    from livyd._config import load_config

    sup = state.supervisor
    chosen = sup.profile if sup is not None else state.options.profile
    settings = sup.settings if sup is not None else state.settings
    names: list[str] = []
    active = chosen
    try:
        overrides = config_overrides(settings.url, settings, state.workspace)
        resolved = load_config(profile=chosen, cwd=state.workspace, overrides=overrides)
        names = list(resolved.known_profiles)
        active = chosen or resolved.profile_name
    except Exception as exc:
        log.info("could not load the configuration: %s", type(exc).__name__)
        resolved = None
    if active and active not in names:
        names.append(active)
    infos: list[ProfileInfo] = []
    for n in names:
        url: str | None = None
        auth = "none"
        try:
            r = resolved if (resolved is not None and n == active) else load_config(
                profile=n, cwd=state.workspace, overrides=overrides
            )
            url, auth = r.profile.url, str(r.profile.auth.type)
        except Exception as exc:
            log.info("could not resolve profile %s: %s", n, type(exc).__name__)
        infos.append(
            ProfileInfo(
                name=n,
                url=redact_url(url) if url else None,
                auth=auth,
                active=n == active,
                has_credentials=n in state.credentials,
            )
        )
    return infos, active


def config_overrides(url: str | None, settings: DaemonSettings, workspace: str) -> dict[str, Any]:
    """The editor's settings as load_config overrides that act like ``--url``, ``--auth`` and
    ``--ca-bundle`` but are named for what they are: an error about one says "the url setting", not
    a CLI flag an editor user never typed. *url* is the effective URL (a restored session's, or
    ``settings.url``); a relative ``caBundle`` is relative to the workspace."""
    overrides: dict[str, Any] = {}
    if url:
        overrides["url"] = (url, "the url setting")
    if settings.auth:
        overrides["auth.type"] = (settings.auth, "the auth setting")
    if settings.ca_bundle:
        bundle = Path(settings.ca_bundle).expanduser()
        overrides["tls.ca_bundle"] = (str(Path(workspace) / bundle), "the caBundle setting")
    return overrides


def uri_path(uri: str) -> str:
    """The file system path of a ``file://`` URI (other URIs unchanged)."""
    return _uri_path(uri)
