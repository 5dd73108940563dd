"""The handlers of every livyd method and of the standard LSP features livyd offers.

Each ``livy/*`` handler validates its params with the model from the method table, does its work
through the :class:`~livyd.daemon._supervisor.Supervisor`, and returns ``model.wire()``. Handlers
never wait for a statement: ``livy/execute`` returns as soon as the task is queued.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from livyd._version import __version__
from livyd.protocol import (
    PROTOCOL_VERSION,
    AttachSessionParams,
    BatchIdParams,
    BatchResult,
    CancelParams,
    CancelResult,
    CreateSessionParams,
    DaemonSettings,
    ExecuteParams,
    ExecuteResult,
    FollowLogParams,
    FollowLogResult,
    InitializationOptions,
    KillAllSessionsParams,
    KillAllSessionsResult,
    KillResult,
    ListBatchesParams,
    ListBatchesResult,
    ListSessionsParams,
    ListSessionsResult,
    ListStatementsParams,
    ListStatementsResult,
    LogResult,
    OkResult,
    Position,
    ProfilesResult,
    Range,
    ReadBatchLogParams,
    ReadLogParams,
    RestartSessionResult,
    SelectProfileParams,
    SessionIdParams,
    SessionInfoParams,
    SessionInfoResult,
    SessionResult,
    SetCredentialsParams,
    SparkLogInfo,
    SparkLogParams,
    SparkLogResult,
    StatementParams,
    StatusResult,
    SubmitBatchParams,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from livyd._models import LogPage as LivyLogPage
    from livyd.daemon._server import Handler, LivydServer

__all__ = ["register"]

_CELL = re.compile(r"^\s*#\s*%%")


def _one_id(params: FollowLogParams | ReadLogParams, method: str) -> None:
    if (params.session_id is None) == (params.batch_id is None):
        raise JsonRpcInvalidParams(
            f"invalid params for {method}: give exactly one of sessionId and batchId",
            data={"code": "invalid-params", "field": "sessionId", "errors": []},
        )


def _session_fields(fields: dict[str, Any]) -> None:
    """Check livy/createSession's Livy session fields as the client sent them: InvalidParams naming
    the field as sent (``driverMemory``) and what is expected, never a config error in snake_case."""
    from pydantic import ValidationError

    from livyd._models import BLACKLISTED_CONF_KEYS, CreateSessionRequest

    errors = []
    try:
        CreateSessionRequest.model_validate(fields)
    except ValidationError as exc:
        for e in exc.errors():
            field = ".".join(str(p) for p in e["loc"])
            if e["type"] == "extra_forbidden":
                message = f"{field} is not a Livy session field"
            else:
                message = f"{field}: {_expected(e['msg'])}"
            errors.append({"field": field, "message": message})
    conf = fields.get("conf")
    for key in conf if isinstance(conf, dict) else ():
        if key in BLACKLISTED_CONF_KEYS:
            message = f"conf.{key}: Livy refuses this Spark property (spark-blacklist.conf: Livy decides it)"
            errors.append({"field": f"conf.{key}", "message": message})
    if errors:
        raise JsonRpcInvalidParams(
            f"invalid params for livy/createSession: {errors[0]['message']}",
            data={"code": "invalid-params", "field": errors[0]["field"], "errors": errors},
        )


def _expected(msg: str) -> str:
    """A pydantic message as "what is expected" (pydantic's messages do not echo the input)."""
    msg = msg.removeprefix("Value error, ")
    if not msg.startswith("Input should be "):
        return msg
    what = msg.removeprefix("Input should be ").split(", unable to", 1)[0]
    what = what.replace("a valid integer", "an integer").replace("a valid ", "a ")
    if what.startswith(("greater", "less")):
        what = "a number " + what
    return "expected " + what


def settings_errors(exc: Exception) -> list[str]:
    """One short line per bad setting of a ValidationError: its name and what is expected, never
    its value (a URL may carry a password)."""
    from pydantic import ValidationError

    if not isinstance(exc, ValidationError):
        return ["the settings are not an object"]
    lines = []
    for e in exc.errors():
        name = ".".join(str(p) for p in e["loc"]) or "settings"
        if e["type"] == "extra_forbidden":
            lines.append(f"{name}: not a livyd setting")
        else:
            lines.append(f"{name}: {_expected(e['msg'])}")
    return lines


def _document_text(ls: LivydServer, uri: str) -> str:
    from livyd.daemon._server import uri_path

    try:
        return ls.workspace.get_text_document(uri).source
    except Exception:
        return Path(uri_path(uri)).read_text(encoding="utf-8")


def cells(text: str) -> list[tuple[int, int]]:
    """``(first line, end line exclusive)`` of each ``# %%`` cell (the text before the first marker too)."""
    lines = text.splitlines()
    marks = [i for i, line in enumerate(lines) if _CELL.match(line)]
    bounds: list[tuple[int, int]] = []
    starts = ([0] if not marks or marks[0] > 0 else []) + marks
    for k, start in enumerate(starts):
        end = starts[k + 1] if k + 1 < len(starts) else len(lines)
        bounds.append((start, end))
    return bounds


#: The handlers of livyd's requests and commands, by method name (module-level functions taking
#: the validated params model); :func:`register` installs them from the method table.
HANDLERS: dict[str, Handler] = {}
COMMAND_HANDLERS: dict[str, Handler] = {}
#: Standard LSP features livyd offers: (pygls feature arguments, function).
LSP_FEATURES: list[tuple[tuple[Any, ...], Callable[..., Any]]] = []


def handles(name: str) -> Callable[[Handler], Handler]:
    """Declare the handler of request *name* (an entry of livyd/protocol/_methods.py)."""

    def deco(fn: Handler) -> Handler:
        HANDLERS[name] = fn
        return fn

    return deco


def command(name: str) -> Callable[[Handler], Handler]:
    """Declare the handler of workspace/executeCommand command *name* (one of ``COMMANDS``)."""

    def deco(fn: Handler) -> Handler:
        COMMAND_HANDLERS[name] = fn
        return fn

    return deco


def lsp_feature(*args: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a standard LSP feature handler (registered with pygls as is)."""

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        LSP_FEATURES.append((args, fn))
        return fn

    return deco


def register(server: LivydServer, rpc: Callable[..., Callable[[Handler], Handler]]) -> None:
    """Register every handler on *server*: one per request of the method table (a request without
    a handler, or a handler without a request, is an error here), the commands and the LSP
    features."""
    from livyd.protocol import COMMANDS, METHODS

    requests = [m.name for m in METHODS if m.kind == "request" and m.direction == "clientToServer"]
    missing = [name for name in requests if name not in HANDLERS]
    unknown = sorted(set(HANDLERS) - set(requests))
    if missing or unknown:
        raise LookupError(f"the method table and the handlers disagree: no handler for {missing}, "
                          f"no table entry for {unknown}")
    for name in requests:
        rpc(server, name)(HANDLERS[name])
    for name in COMMANDS:
        rpc(server, name, command=True)(COMMAND_HANDLERS[name])
    for args, fn in LSP_FEATURES:
        server.feature(*args)(fn)


# ---------------------------------------------------------------- lifecycle
@lsp_feature(types.INITIALIZE)
def initialize(ls: LivydServer, params: types.InitializeParams) -> None:
    state = ls.livyd
    from livyd.daemon._server import validate

    options = validate(InitializationOptions, params.initialization_options, "initialize")
    state.options = options
    state.settings = options.settings
    if options.workspace:
        state.workspace = options.workspace
    elif params.root_uri:
        from livyd.daemon._server import uri_path

        state.workspace = uri_path(params.root_uri)
    elif params.workspace_folders:
        from livyd.daemon._server import uri_path

        state.workspace = uri_path(params.workspace_folders[0].uri)
    if options.profile is not None:
        _check_initial_profile(ls, options.profile)
    state.initialized = True

def _check_initial_profile(ls: LivydServer, profile: str) -> None:
    """An unknown initializationOptions.profile: initialize is still answered, the user is told
    once (naming it and the known profiles) and the configured default profile is used."""
    state = ls.livyd
    from livyd._exceptions import LivydError

    try:
        state.resolve_sync(profile, state.settings.url)
    except LivydError as exc:
        if exc.code != "unknown-profile":
            return  # a known profile that does not resolve: its requests will say why
        state.options = state.options.model_copy(update={"profile": None})
        ls.window_show_message(
            types.ShowMessageParams(
                type=types.MessageType.Error,
                message=f"livyd: initializationOptions.profile: {exc}; using the default profile",
            )
        )

@lsp_feature(types.INITIALIZED)
async def initialized(ls: LivydServer, params: Any) -> None:
    # Restoring persisted state happens after initialize was answered.
    state = ls.livyd
    sup = state.supervisor_or_new()
    if sup.store is None or sup.restored:
        return
    sup.restored = True  # before any await: a second client of a shared daemon must not restore
    data = await anyio.to_thread.run_sync(sup.store.load)
    if not data.get("sessions") and not data.get("tasks"):
        return
    try:
        sup = await state.connected()
        await sup.restore(data)
    except Exception as exc:
        ls.window_log_message(
            types.LogMessageParams(
                type=types.MessageType.Warning, message=f"livyd could not restore its sessions: {exc}"
            )
        )

@lsp_feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
def did_change_configuration(ls: LivydServer, params: types.DidChangeConfigurationParams) -> None:
    state = ls.livyd
    raw = params.settings
    if isinstance(raw, dict) and isinstance(raw.get("livyd"), dict):
        raw = raw["livyd"]
    if not isinstance(raw, dict):
        return
    from livyd.daemon._server import PER_CLIENT_SETTINGS

    # On a shared daemon the supervisor's settings are the base (not this client's ignored
    # initial ones); per-client fields stay this client's unless the change names them.
    sup = state.supervisor
    base = (sup.settings if sup is not None else state.settings).model_dump(by_alias=True)
    own = state.settings.model_dump(by_alias=True)
    base.update({k: own[k] for k in PER_CLIENT_SETTINGS})
    try:
        settings = DaemonSettings.model_validate({**base, **raw})
    except Exception as exc:
        lines = settings_errors(exc)
        ls.window_show_message(
            types.ShowMessageParams(
                type=types.MessageType.Error,
                message="livyd: settings not applied (the previous ones stay):\n" + "\n".join(lines),
            )
        )
        return
    state.settings = settings
    if sup is None:
        return
    old_url = sup.settings.url
    sup.apply_settings(settings)
    if settings.url != old_url:
        # New connections use the new URL at once; sessions on the old one keep it until they
        # end, but the attached one stops being execute's default unless it is on the new URL.
        sup.invalidate()
        sup.detach_if(lambda w: settings.url is None or w.conn.url != settings.url)
    if state.state_dir is not None and not state.state_dir_warned:
        from livyd.daemon._state import default_state_dir

        wanted = Path(settings.state_dir) if settings.state_dir else default_state_dir(state.workspace)
        if wanted != state.state_dir:
            state.state_dir_warned = True
            ls.window_show_message(
                types.ShowMessageParams(
                    type=types.MessageType.Warning,
                    message=f"livyd: the stateDir setting changes only with a new daemon; this one "
                    f"keeps {state.state_dir} (restart the livyd daemon to use {wanted})",
                )
            )

@lsp_feature(types.WINDOW_WORK_DONE_PROGRESS_CANCEL)
async def progress_cancel(ls: LivydServer, params: types.WorkDoneProgressCancelParams) -> None:
    state = ls.livyd
    task_id = state.progress_tokens.get(str(params.token))
    if task_id and state.supervisor is not None:
        await state.supervisor.cancel(task_id)

# ---------------------------------------------------------------- sessions

@handles("livy/createSession")
async def create_session(ls: LivydServer, params: Any) -> Any:
    state = ls.livyd
    p: CreateSessionParams = params
    fields = {k: v for k, v in (p.model_extra or {}).items()}
    _session_fields({**fields, "kind": p.kind, "name": p.name})
    sup = await state.connected()
    conn = await sup.connection(p.profile)
    if p.kind:
        fields["kind"] = p.kind
    if p.name:
        fields["name"] = p.name
    from livyd.daemon._devloop_handlers import auto_deploy

    await auto_deploy(ls, conn, fields, p.deploy)  # the project into pyFiles (protocol 1.3)
    w = await sup.create_session(fields, conn=conn, attach=p.attach)
    return SessionResult(session=sup.session_info(w))

@handles("livy/listSessions")
async def list_sessions(ls: LivydServer, params: Any) -> Any:
    state = ls.livyd
    p: ListSessionsParams = params
    sup = await state.connected()
    from livyd.daemon._workers import SessionWorker

    if p.owned_only:
        workers = [
            w
            for w in sup.sessions.values()
            if w.owned and not w.gone and (p.profile is None or w.profile == p.profile)
        ]
    else:
        conn = await sup.connection(p.profile)
        workers = []
        for session in await conn.require_api().list_sessions():
            w = sup.sessions.get((conn.cid, session.id))
            if w is not None:
                w.session = session
            else:
                w = SessionWorker(session.id, session, conn, False)
            workers.append(w)
    return ListSessionsResult(sessions=[sup.session_info(w) for w in workers])

@handles("livy/attachSession")
async def attach_session(ls: LivydServer, params: Any) -> Any:
    state = ls.livyd
    p: AttachSessionParams = params
    sup = await state.connected()
    conn, _known = await sup.resolve_session(p.session_id, p.profile)
    w = await sup.attach_session(conn, p.session_id)
    return SessionResult(session=sup.session_info(w))

@handles("livy/killSession")
async def kill_session(ls: LivydServer, params: Any) -> Any:
    state = ls.livyd
    p: SessionIdParams = params
    sup = await state.connected()
    conn, _known = await sup.resolve_session(p.session_id, p.profile)
    killed = await sup.kill_session(conn, p.session_id)
    return KillResult(id=p.session_id, killed=killed)

@handles("livy/killAllSessions")
async def kill_all_sessions(ls: LivydServer, params: Any) -> Any:
    state = ls.livyd
    p: KillAllSessionsParams = params
    sup = await state.connected()
    if p.owned_only:
        targets = [
            (w.conn, w.session_id)
            for w in sup.sessions.values()
            if w.owned and not w.gone and (p.profile is None or w.profile == p.profile)
        ]
    else:
        conn = await sup.connection(p.profile)
        targets = [(conn, s.id) for s in await conn.require_api().list_sessions()]
    killed = [sid for conn, sid in targets if await sup.kill_session(conn, sid)]
    return KillAllSessionsResult(killed=killed)

@handles("livy/sessionInfo")
async def session_info(ls: LivydServer, params: Any) -> Any:
    state = ls.livyd
    p: SessionInfoParams = params
    sup = await state.connected()
    from livyd.daemon._connections import DaemonError
    from livyd.daemon._workers import SessionWorker

    if p.session_id is None:
        attached = sup.attached
        if attached is None:
            raise DaemonError("no session is attached; pass sessionId", "no-session")
        w = attached
    else:
        conn, known = await sup.resolve_session(p.session_id, p.profile)
        w = known if known is not None else SessionWorker(p.session_id, None, conn, False)
    if not w.gone:
        w.session = await w.conn.require_api().get_session(w.session_id)
    return SessionInfoResult(
        session=sup.session_info(w), tasks=[sup.task_info(t) for t in w.tasks]
    )

@handles("livy/restartSession")
async def restart_session(ls: LivydServer, params: Any) -> Any:
    state = ls.livyd
    p: SessionIdParams = params
    sup = await state.connected()
    conn, _known = await sup.resolve_session(p.session_id, p.profile)
    new, old = await sup.restart_session(conn, p.session_id)
    return RestartSessionResult(session=sup.session_info(new), previous_session_id=old)

# ---------------------------------------------------------------- statements

@handles("livy/execute")
async def execute(ls: LivydServer, params: Any) -> Any:
    state = ls.livyd
    p: ExecuteParams = params
    sup = await state.connected()
    state.clear_diagnostics(p.uri)
    task = await sup.execute(
        p.code,
        session_id=p.session_id,
        kind=p.kind,
        uri=p.uri,
        range_=p.range,
        origin=id(state),
        profile=p.profile,
    )
    return ExecuteResult(task_id=task.task_id, session_id=task.session_id, profile=task.profile)

@handles("livy/cancel")
async def cancel(ls: LivydServer, params: Any) -> Any:
    state = ls.livyd
    p: CancelParams = params
    sup = await state.connected()
    task = await sup.cancel(p.task_id)
    return CancelResult(task=sup.task_info(task))

@handles("livy/listStatements")
async def list_statements(ls: LivydServer, params: Any) -> Any:
    state = ls.livyd
    p: ListStatementsParams = params
    sup = state.supervisor_or_new()
    tasks = [
        t
        for t in sup.tasks.values()
        if (p.session_id is None or t.session_id == p.session_id)
        and (p.profile is None or t.profile == p.profile)
    ]
    return ListStatementsResult(tasks=[sup.task_info(t) for t in tasks])

@handles("livy/statement")
async def statement(ls: LivydServer, params: Any) -> Any:
    state = ls.livyd
    p: StatementParams = params
    if (p.task_id is None) == (p.session_id is None and p.statement_id is None) or (
        p.task_id is None and (p.session_id is None or p.statement_id is None)
    ):
        raise JsonRpcInvalidParams(
            "invalid params for livy/statement: give taskId, or sessionId and statementId",
            data={"code": "invalid-params", "field": "taskId", "errors": []},
        )
    sup = await state.connected()
    found = await sup.statement(
        task_id=p.task_id, session_id=p.session_id, statement_id=p.statement_id, profile=p.profile
    )
    return found

# ---------------------------------------------------------------- logs

@handles("livy/readLog")
async def read_log(ls: LivydServer, params: Any) -> Any:
    state = ls.livyd
    p: ReadLogParams = params
    _one_id(p, "livy/readLog")
    sup = await state.connected()
    if p.session_id is not None:
        conn, _known = await sup.resolve_session(p.session_id, p.profile)
    else:
        conn = await sup.connection(p.profile)

    async def fetch() -> LivyLogPage:
        api = conn.require_api()  # looked up each time: setCredentials may replace it
        if p.session_id is not None:
            return await api.session_log(p.session_id, from_=p.from_, size=p.size)
        assert p.batch_id is not None
        return await api.batch_log(p.batch_id, from_=p.from_, size=p.size)

    page = await fetch()
    if p.wait_seconds is not None and p.from_ is not None and not page.log:
        # Long-poll: hold the request (cancellable by $/cancelRequest, which cancels this
        # handler's task) until lines appear at `from` or the time is up.
        with anyio.move_on_after(p.wait_seconds):
            while not page.log:
                await anyio.sleep(min(sup.settings.poll_interval, 0.25))
                page = await fetch()
    return _log_result(page)

@handles("livy/sparkLog")
async def spark_log(ls: LivydServer, params: Any) -> Any:
    """The driver's (or the executors') own log, read by the library (livyd._insight.spark_logs)."""
    from livyd._insight import spark_logs

    state = ls.livyd
    p: SparkLogParams = params
    sup = await state.connected()
    conn, _known = await sup.resolve_session(p.session_id, p.profile)
    logs = await spark_logs(conn.require_api().client, p.session_id, driver=not p.executors,
                            executors=p.executors, tail=p.tail)
    return SparkLogResult(logs=[SparkLogInfo(log=x.log, url=x.url, lines=x.lines) for x in logs])

@handles("livy/readBatchLog")
async def read_batch_log(ls: LivydServer, params: Any) -> Any:
    state = ls.livyd
    p: ReadBatchLogParams = params
    sup = await state.connected()
    conn = await sup.connection(p.profile)
    page = await conn.require_api().batch_log(p.batch_id, from_=p.from_, size=p.size)
    return _log_result(page)

@handles("livy/followLog")
async def follow_log(ls: LivydServer, params: Any) -> Any:
    state = ls.livyd
    p: FollowLogParams = params
    _one_id(p, "livy/followLog")
    sup = await state.connected()
    if p.session_id is not None:
        conn, known = await sup.resolve_session(p.session_id, p.profile)
        w = known
        if w is None or w.gone:
            w = await sup.attach_session(conn, p.session_id)
        w.following = True
        w.kick()
    else:
        assert p.batch_id is not None
        await sup.follow_batch(await sup.connection(p.profile), p.batch_id)
    return FollowLogResult(following=True)

@handles("livy/unfollowLog")
async def unfollow_log(ls: LivydServer, params: Any) -> Any:
    state = ls.livyd
    p: FollowLogParams = params
    _one_id(p, "livy/unfollowLog")
    sup = await state.connected()
    if p.session_id is not None:
        for w in sup.find_sessions(p.session_id, p.profile):
            w.following = False
    else:
        assert p.batch_id is not None
        sup.unfollow_batch(await sup.connection(p.profile), p.batch_id)
    return FollowLogResult(following=False)

# ---------------------------------------------------------------- batches

@handles("livy/submitBatch")
async def submit_batch(ls: LivydServer, params: Any) -> Any:
    state = ls.livyd
    from pydantic.alias_generators import to_snake

    from livyd.daemon._batches import batch_info

    p: SubmitBatchParams = params
    sup = await state.connected()
    conn = await sup.connection(p.profile)
    # The profile's session defaults (those batches take), then the request's fields.
    body: dict[str, Any] = dict(conn.batch_defaults)
    for key, value in {"file": p.file, **(p.model_extra or {})}.items():
        key = to_snake(key)
        if key == "conf" and isinstance(value, dict) and isinstance(body.get("conf"), dict):
            body["conf"] = {**body["conf"], **value}
        else:
            body[key] = value
    if p.args:
        body["args"] = p.args
    if p.name:
        body["name"] = p.name
    batch = await conn.require_api().create_batch(body)
    await sup.follow_batch(conn, batch.id, from_start=True)
    return BatchResult(batch=batch_info(batch, conn.profile))

@handles("livy/listBatches")
async def list_batches(ls: LivydServer, params: Any) -> Any:
    state = ls.livyd
    from livyd.daemon._batches import batch_info

    p: ListBatchesParams = params
    sup = await state.connected()
    conn = await sup.connection(p.profile)
    raws = await conn.require_api().list_batches()
    return ListBatchesResult(batches=[batch_info(r, conn.profile) for r in raws])

@handles("livy/batchInfo")
async def batch_info_h(ls: LivydServer, params: Any) -> Any:
    state = ls.livyd
    from livyd.daemon._batches import batch_info

    p: BatchIdParams = params
    sup = await state.connected()
    conn = await sup.connection(p.profile)
    batch = await conn.require_api().get_batch(p.batch_id)
    return BatchResult(batch=batch_info(batch, conn.profile))

@handles("livy/killBatch")
async def kill_batch(ls: LivydServer, params: Any) -> Any:
    state = ls.livyd
    p: BatchIdParams = params
    sup = await state.connected()
    conn = await sup.connection(p.profile)
    await conn.require_api().delete_batch(p.batch_id)
    sup.unfollow_batch(conn, p.batch_id)
    return KillResult(id=p.batch_id, killed=True)

# ---------------------------------------------------------------- profiles, credentials, status

@handles("livy/listProfiles")
async def list_profiles(ls: LivydServer, params: Any) -> Any:
    state = ls.livyd
    from livyd.daemon._server import profile_infos

    infos, active = await anyio.to_thread.run_sync(profile_infos, state)
    return ProfilesResult(profiles=infos, active=active)

@handles("livy/selectProfile")
async def select_profile(ls: LivydServer, params: Any) -> Any:
    state = ls.livyd
    from livyd.daemon._server import profile_infos

    p: SelectProfileParams = params
    sup = state.supervisor_or_new()
    resolved = await state._resolve(p.profile)  # unknown-profile error, naming the known ones
    state.options = state.options.model_copy(update={"profile": p.profile})
    sup.profile = p.profile
    sup.invalidate()
    # The attached session of another profile is no longer execute's default; it keeps
    # running and its tasks are delivered.
    sup.detach_if(lambda w: w.profile != resolved.profile_name)
    infos, active = await anyio.to_thread.run_sync(profile_infos, state)
    return ProfilesResult(profiles=infos, active=active)

@handles("livy/setCredentials")
async def set_credentials(ls: LivydServer, params: Any) -> Any:
    state = ls.livyd
    p: SetCredentialsParams = params
    creds = {
        k: v
        for k, v in (("username", p.username), ("password", p.password), ("token", p.token))
        if v is not None
    }
    key = p.profile
    from livyd._exceptions import LivydError

    if key is not None:
        try:
            await state._resolve(key)
        except LivydError as exc:
            if exc.code == "unknown-profile":
                raise  # as selectProfile and createSession give it, naming the known ones
            # A known profile that does not resolve yet (it may lack these very credentials).
    if key is None:
        # "The active profile" is fixed now: these credentials never go to another profile's
        # server, even after livy/selectProfile.

        sup = state.supervisor_or_new()
        active = sup.active_connection()
        if active is not None:
            key = active.profile
        else:
            try:
                key = (await state._resolve(sup.profile)).profile_name
            except LivydError:
                key = sup.profile
    state.credentials[key] = creds
    await state.apply_credentials(key)
    return OkResult()

@handles("livy/status")
async def status(ls: LivydServer, params: Any) -> Any:
    state = ls.livyd
    from livyd._exceptions import redact_url
    from livyd.daemon._server import profile_infos

    sup = state.supervisor_or_new()
    infos, active = await anyio.to_thread.run_sync(profile_infos, state)
    active_conn = sup.active_connection()
    live_url = active_conn.live_url if active_conn is not None else None
    return StatusResult(
        version=__version__,
        protocol_version=PROTOCOL_VERSION,
        pid=os.getpid(),
        workspace=state.workspace,
        state_dir=str(state.state_dir or ""),
        active_profile=active,
        livy_url=redact_url(live_url) if live_url else None,
        profiles=infos,
        sessions=[sup.session_info(w) for w in sup.sessions.values()],
        tasks=[sup.task_info(t) for t in sup.tasks.values()],
    )

# ---------------------------------------------------------------- completion

@lsp_feature(
    types.TEXT_DOCUMENT_COMPLETION,
    types.CompletionOptions(trigger_characters=["."], resolve_provider=False),
)
async def completion(ls: LivydServer, params: types.CompletionParams) -> types.CompletionList:
    state = ls.livyd
    from livyd.daemon._completion import complete

    empty = types.CompletionList(is_incomplete=True, items=[])
    sup = state.supervisor
    if sup is None or sup.attached is None:
        return empty
    try:
        lines = _document_text(ls, params.text_document.uri).splitlines()
    except (OSError, ValueError):  # unreadable, or not UTF-8 text
        return empty
    line_no = params.position.line
    line = lines[line_no] if line_no < len(lines) else ""
    try:
        found = await complete(sup.attached, line, params.position.character)
    except Exception:
        return empty
    items = [
        types.CompletionItem(
            label=name.rsplit(".", 1)[-1].rstrip("("), insert_text=name.rsplit(".", 1)[-1]
        )
        for name in found
    ]
    return types.CompletionList(is_incomplete=True, items=items)

# ---------------------------------------------------------------- code lenses and commands

@lsp_feature(types.TEXT_DOCUMENT_CODE_LENS)
def code_lens(ls: LivydServer, params: types.CodeLensParams) -> list[types.CodeLens]:
    uri = params.text_document.uri
    try:
        text = _document_text(ls, uri)
    except (OSError, ValueError):  # unreadable, or not UTF-8 text
        return []
    lenses = [
        types.CodeLens(
            range=types.Range(
                start=types.Position(line=0, character=0), end=types.Position(line=0, character=0)
            ),
            command=types.Command(title="Run file", command="livyd.runFile", arguments=[{"uri": uri}]),
        )
    ]
    if any(_CELL.match(line) for line in text.splitlines()):
        for start, _end in cells(text):
            lenses.append(
                types.CodeLens(
                    range=types.Range(
                        start=types.Position(line=start, character=0),
                        end=types.Position(line=start, character=0),
                    ),
                    command=types.Command(
                        title="Run cell", command="livyd.runCell", arguments=[{"uri": uri, "line": start}]
                    ),
                )
            )
    return lenses

async def _run_range(ls: LivydServer, uri: str, start: int, end: int) -> Any:
    text = _text_arg(ls, uri)
    lines = text.splitlines()
    code = "\n".join(lines[start:end])
    from livyd.daemon._server import validate

    params = {
        "code": code,
        "uri": uri,
        "range": Range(start=Position(line=start, character=0), end=Position(line=end, character=0)).wire(),
    }
    return await execute(ls, validate(ExecuteParams, params, "livy/execute"))

def _text_arg(ls: LivydServer, uri: str) -> str:
    try:
        return _document_text(ls, uri)
    except (OSError, ValueError) as exc:
        from livyd.daemon._server import uri_path

        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not a UTF-8 text file"
        raise JsonRpcInvalidParams(
            f"cannot read {uri_path(uri)} ({why}); open it in the editor or pass the URI of a file",
            data={"code": "invalid-params", "field": "arguments.0.uri", "errors": []},
        ) from None

def _str_arg(args: tuple[Any, ...], name: str) -> str:
    value = _arg(args, name)
    if not isinstance(value, str):
        raise JsonRpcInvalidParams(
            f"argument {name} must be a string",
            data={"code": "invalid-params", "field": f"arguments.0.{name}", "errors": []},
        )
    return value

def _line_arg(args: tuple[Any, ...], name: str) -> int:
    value = _arg(args, name)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise JsonRpcInvalidParams(
            f"argument {name} must be a zero-based line number (an integer >= 0)",
            data={"code": "invalid-params", "field": f"arguments.0.{name}", "errors": []},
        )
    return value

def _arg(args: tuple[Any, ...], name: str) -> Any:
    if not args or not isinstance(args[0], dict) or name not in args[0]:
        raise JsonRpcInvalidParams(
            f"missing argument {name}",
            data={"code": "invalid-params", "field": f"arguments.0.{name}", "errors": []},
        )
    return args[0][name]

@command("livyd.runFile")
async def run_file(ls: LivydServer, args: Any) -> Any:
    uri = _str_arg(args, "uri")
    text = _text_arg(ls, uri)
    return await _run_range(ls, uri, 0, len(text.splitlines()))

@command("livyd.runCell")
async def run_cell(ls: LivydServer, args: Any) -> Any:
    uri = _str_arg(args, "uri")
    line = _line_arg(args, "line")
    for start, end in cells(_text_arg(ls, uri)):
        if start <= line < end:
            return await _run_range(ls, uri, start, end)
    raise JsonRpcInvalidParams(
        f"line {line} is not in a cell of {uri}",
        data={"code": "invalid-params", "field": "arguments.0.line", "errors": []},
    )

@command("livyd.cancelTask")
async def cancel_task(ls: LivydServer, args: Any) -> Any:
    from livyd.daemon._server import validate

    return await cancel(ls, validate(CancelParams, {"taskId": _arg(args, "taskId")}, "livy/cancel"))

@command("livyd.restartSession")
async def restart_cmd(ls: LivydServer, args: Any) -> Any:
    from livyd.daemon._server import validate

    params = validate(SessionIdParams, {"sessionId": _arg(args, "sessionId")}, "livy/restartSession")
    return await restart_session(ls, params)




def _log_result(page: LivyLogPage) -> Any:
    """A Livy log page (``{id, from, total, log}``) as the wire ``LogResult``."""
    return LogResult(lines=list(page.log), from_=page.from_, total=page.total)


# The development-loop requests (protocol 1.3) live in their own module; importing it registers them.
from livyd.daemon import _devloop_handlers  # noqa: E402, F401
