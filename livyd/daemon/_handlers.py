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
    CancelParams,
    CancelResult,
    CreateSessionParams,
    DaemonSettings,
    Empty,
    ExecuteParams,
    ExecuteResult,
    FollowLogParams,
    FollowLogResult,
    InitializationOptions,
    KillAllSessionsParams,
    KillAllSessionsResult,
    KillResult,
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
    StatusResult,
    SubmitBatchParams,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from livyd.daemon._server import Handler, LivydServer

__all__ = ["register"]

_CELL = re.compile(r"^\s*#\s*%%")


def _one_id(params: FollowLogParams | ReadLogParams, method: str) -> None:
    if (params.session_id is None) == (params.batch_id is None):
        raise JsonRpcInvalidParams(
            f"invalid params for {method}: give exactly one of sessionId and batchId",
            data={"code": "invalid-params", "field": "sessionId", "errors": []},
        )


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


def register(
    server: LivydServer, rpc: Callable[..., Callable[[Handler], Handler]], validate: Callable[..., Any]
) -> None:
    """Register every handler on *server*."""
    state = server.livyd

    # ---------------------------------------------------------------- lifecycle

    @server.feature(types.INITIALIZE)
    def initialize(ls: LivydServer, params: types.InitializeParams) -> None:
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
        state.initialized = True

    @server.feature(types.INITIALIZED)
    async def initialized(ls: LivydServer, params: Any) -> None:
        # Restoring persisted state happens after initialize was answered.
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

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(ls: LivydServer, params: types.DidChangeConfigurationParams) -> None:
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
            ls.window_show_message(
                types.ShowMessageParams(
                    type=types.MessageType.Error, message=f"livyd: invalid settings ignored: {exc}"
                )
            )
            return
        state.settings = settings
        if state.supervisor is not None:
            state.supervisor.settings = settings

    @server.feature(types.WINDOW_WORK_DONE_PROGRESS_CANCEL)
    async def progress_cancel(ls: LivydServer, params: types.WorkDoneProgressCancelParams) -> None:
        task_id = state.progress_tokens.get(str(params.token))
        if task_id and state.supervisor is not None:
            await state.supervisor.cancel(task_id)

    # ---------------------------------------------------------------- sessions

    @rpc(server, "livy/createSession")
    async def create_session(ls: LivydServer, params: Any) -> Any:
        p = validate(CreateSessionParams, params, "livy/createSession")
        sup = await state.connected()
        fields = {k: v for k, v in (p.model_extra or {}).items()}
        if p.kind:
            fields["kind"] = p.kind
        if p.name:
            fields["name"] = p.name
        w = await sup.create_session(fields, attach=p.attach)
        return SessionResult(session=sup.session_info(w)).wire()

    @rpc(server, "livy/listSessions")
    async def list_sessions(ls: LivydServer, params: Any) -> Any:
        p = validate(ListSessionsParams, params, "livy/listSessions")
        sup = await state.connected()
        from livyd.daemon._supervisor import SessionWorker

        if p.owned_only:
            workers = [w for w in sup.sessions.values() if w.owned and not w.gone]
        else:
            raws = await sup.require_api().list_sessions()
            workers = []
            for raw in raws:
                w = sup.sessions.get(int(raw["id"]))
                if w is not None:
                    w.raw = raw
                else:
                    w = SessionWorker(int(raw["id"]), raw, None, False)
                workers.append(w)
        return ListSessionsResult(sessions=[sup.session_info(w) for w in workers]).wire()

    @rpc(server, "livy/attachSession")
    async def attach_session(ls: LivydServer, params: Any) -> Any:
        p = validate(AttachSessionParams, params, "livy/attachSession")
        sup = await state.connected()
        w = await sup.attach_session(p.session_id)
        return SessionResult(session=sup.session_info(w)).wire()

    @rpc(server, "livy/killSession")
    async def kill_session(ls: LivydServer, params: Any) -> Any:
        p = validate(SessionIdParams, params, "livy/killSession")
        sup = await state.connected()
        killed = await sup.kill_session(p.session_id)
        return KillResult(id=p.session_id, killed=killed).wire()

    @rpc(server, "livy/killAllSessions")
    async def kill_all_sessions(ls: LivydServer, params: Any) -> Any:
        p = validate(KillAllSessionsParams, params, "livy/killAllSessions")
        sup = await state.connected()
        if p.owned_only:
            ids = [w.session_id for w in sup.sessions.values() if w.owned and not w.gone]
        else:
            ids = [int(r["id"]) for r in await sup.require_api().list_sessions()]
        killed = [sid for sid in ids if await sup.kill_session(sid)]
        return KillAllSessionsResult(killed=killed).wire()

    @rpc(server, "livy/sessionInfo")
    async def session_info(ls: LivydServer, params: Any) -> Any:
        p = validate(SessionInfoParams, params, "livy/sessionInfo")
        sup = await state.connected()
        sid = p.session_id if p.session_id is not None else sup.attached
        if sid is None:
            from livyd.daemon._supervisor import DaemonError

            raise DaemonError("no session is attached; pass sessionId", "no-session")
        w = sup.sessions.get(sid)
        if w is None or not w.gone:
            raw = await sup.require_api().get_session(sid)
            if w is None:
                from livyd.daemon._supervisor import SessionWorker

                w = SessionWorker(sid, raw, None, False)
            else:
                w.raw = raw
        return SessionInfoResult(
            session=sup.session_info(w), tasks=[sup.task_info(t) for t in w.tasks]
        ).wire()

    @rpc(server, "livy/restartSession")
    async def restart_session(ls: LivydServer, params: Any) -> Any:
        p = validate(SessionIdParams, params, "livy/restartSession")
        sup = await state.connected()
        new, old = await sup.restart_session(p.session_id)
        return RestartSessionResult(session=sup.session_info(new), previous_session_id=old).wire()

    # ---------------------------------------------------------------- statements

    @rpc(server, "livy/execute")
    async def execute(ls: LivydServer, params: Any) -> Any:
        p = validate(ExecuteParams, params, "livy/execute")
        sup = await state.connected()
        state.clear_diagnostics(p.uri)
        task = await sup.execute(
            p.code, session_id=p.session_id, kind=p.kind, uri=p.uri, range_=p.range, origin=id(state)
        )
        return ExecuteResult(task_id=task.task_id, session_id=task.session_id).wire()

    @rpc(server, "livy/cancel")
    async def cancel(ls: LivydServer, params: Any) -> Any:
        p = validate(CancelParams, params, "livy/cancel")
        sup = await state.connected()
        task = await sup.cancel(p.task_id)
        return CancelResult(task=sup.task_info(task)).wire()

    @rpc(server, "livy/listStatements")
    async def list_statements(ls: LivydServer, params: Any) -> Any:
        p = validate(ListStatementsParams, params, "livy/listStatements")
        sup = state.supervisor_or_new()
        tasks = [t for t in sup.tasks.values() if p.session_id is None or t.session_id == p.session_id]
        return ListStatementsResult(tasks=[sup.task_info(t) for t in tasks]).wire()

    # ---------------------------------------------------------------- logs

    @rpc(server, "livy/readLog")
    async def read_log(ls: LivydServer, params: Any) -> Any:
        p = validate(ReadLogParams, params, "livy/readLog")
        _one_id(p, "livy/readLog")
        sup = await state.connected()

        async def fetch() -> dict[str, Any]:
            api = sup.require_api()  # looked up each time: setCredentials may replace it
            if p.session_id is not None:
                return await api.session_log(p.session_id, p.from_, p.size)
            assert p.batch_id is not None
            return await api.batch_log(p.batch_id, p.from_, p.size)

        page = await fetch()
        if p.wait_seconds is not None and p.from_ is not None and not page.get("log"):
            # Long-poll: hold the request (cancellable by $/cancelRequest, which cancels this
            # handler's task) until lines appear at `from` or the time is up.
            with anyio.move_on_after(p.wait_seconds):
                while not page.get("log"):
                    await anyio.sleep(sup.settings.poll_interval)
                    page = await fetch()
        return LogResult(
            lines=list(page.get("log") or []),
            from_=int(page.get("from") or 0),
            total=int(page.get("total") or 0),
        ).wire()

    @rpc(server, "livy/readBatchLog")
    async def read_batch_log(ls: LivydServer, params: Any) -> Any:
        p = validate(ReadBatchLogParams, params, "livy/readBatchLog")
        sup = await state.connected()
        page = await sup.require_api().batch_log(p.batch_id, p.from_, p.size)
        return LogResult(
            lines=list(page.get("log") or []),
            from_=int(page.get("from") or 0),
            total=int(page.get("total") or 0),
        ).wire()

    @rpc(server, "livy/followLog")
    async def follow_log(ls: LivydServer, params: Any) -> Any:
        p = validate(FollowLogParams, params, "livy/followLog")
        _one_id(p, "livy/followLog")
        sup = await state.connected()
        if p.session_id is not None:
            w = sup.sessions.get(p.session_id) or await sup.attach_session(p.session_id)
            w.following = True
            w.kick()
        else:
            assert p.batch_id is not None
            await sup.follow_batch(p.batch_id)
        return FollowLogResult(following=True).wire()

    @rpc(server, "livy/unfollowLog")
    async def unfollow_log(ls: LivydServer, params: Any) -> Any:
        p = validate(FollowLogParams, params, "livy/unfollowLog")
        _one_id(p, "livy/unfollowLog")
        sup = state.supervisor_or_new()
        if p.session_id is not None:
            w = sup.sessions.get(p.session_id)
            if w is not None:
                w.following = False
        else:
            assert p.batch_id is not None
            scope = sup.followed_batches.pop(p.batch_id, None)
            if scope is not None:
                scope.cancel()
        return FollowLogResult(following=False).wire()

    # ---------------------------------------------------------------- batches

    @rpc(server, "livy/submitBatch")
    async def submit_batch(ls: LivydServer, params: Any) -> Any:
        from livyd.daemon._supervisor import batch_info

        p = validate(SubmitBatchParams, params, "livy/submitBatch")
        sup = await state.connected()
        body: dict[str, Any] = {"file": p.file, **(p.model_extra or {})}
        if p.args:
            body["args"] = p.args
        if p.name:
            body["name"] = p.name
        raw = await sup.require_api().create_batch(body)
        await sup.follow_batch(int(raw["id"]), from_start=True)
        return {"batch": batch_info(raw).wire()}

    @rpc(server, "livy/listBatches")
    async def list_batches(ls: LivydServer, params: Any) -> Any:
        from livyd.daemon._supervisor import batch_info

        validate(Empty, params, "livy/listBatches")
        sup = await state.connected()
        raws = await sup.require_api().list_batches()
        return ListBatchesResult(batches=[batch_info(r) for r in raws]).wire()

    @rpc(server, "livy/batchInfo")
    async def batch_info_h(ls: LivydServer, params: Any) -> Any:
        from livyd.daemon._supervisor import batch_info

        p = validate(BatchIdParams, params, "livy/batchInfo")
        sup = await state.connected()
        return {"batch": batch_info(await sup.require_api().get_batch(p.batch_id)).wire()}

    @rpc(server, "livy/killBatch")
    async def kill_batch(ls: LivydServer, params: Any) -> Any:
        p = validate(BatchIdParams, params, "livy/killBatch")
        sup = await state.connected()
        await sup.require_api().delete_batch(p.batch_id)
        return KillResult(id=p.batch_id, killed=True).wire()

    # ---------------------------------------------------------------- profiles, credentials, status

    @rpc(server, "livy/listProfiles")
    async def list_profiles(ls: LivydServer, params: Any) -> Any:
        from livyd.daemon._server import profile_infos

        validate(Empty, params, "livy/listProfiles")
        infos, active = await anyio.to_thread.run_sync(profile_infos, state)
        return ProfilesResult(profiles=infos, active=active).wire()

    @rpc(server, "livy/selectProfile")
    async def select_profile(ls: LivydServer, params: Any) -> Any:
        from livyd._config import load_config
        from livyd.daemon._server import profile_infos

        p = validate(SelectProfileParams, params, "livy/selectProfile")
        await anyio.to_thread.run_sync(lambda: load_config(profile=p.profile, cwd=state.workspace))
        state.options = state.options.model_copy(update={"profile": p.profile})
        if state.supervisor is not None:
            state.supervisor.profile = p.profile
        infos, active = await anyio.to_thread.run_sync(profile_infos, state)
        return ProfilesResult(profiles=infos, active=active).wire()

    @rpc(server, "livy/setCredentials")
    async def set_credentials(ls: LivydServer, params: Any) -> Any:
        p = validate(SetCredentialsParams, params, "livy/setCredentials")
        creds = {
            k: v
            for k, v in (("username", p.username), ("password", p.password), ("token", p.token))
            if v is not None
        }
        state.credentials[p.profile] = creds
        await state.apply_credentials(p.profile)
        return OkResult().wire()

    @rpc(server, "livy/status")
    async def status(ls: LivydServer, params: Any) -> Any:
        from livyd._exceptions import redact_url
        from livyd.daemon._server import profile_infos

        validate(Empty, params, "livy/status")
        sup = state.supervisor_or_new()
        infos, active = await anyio.to_thread.run_sync(profile_infos, state)
        return StatusResult(
            version=__version__,
            protocol_version=PROTOCOL_VERSION,
            pid=os.getpid(),
            workspace=state.workspace,
            state_dir=str(state.state_dir or ""),
            active_profile=active,
            livy_url=redact_url(state.livy_url) if state.livy_url else None,
            profiles=infos,
            sessions=[sup.session_info(w) for w in sup.sessions.values()],
            tasks=[sup.task_info(t) for t in sup.tasks.values()],
        ).wire()

    # ---------------------------------------------------------------- completion

    @server.feature(
        types.TEXT_DOCUMENT_COMPLETION,
        types.CompletionOptions(trigger_characters=["."], resolve_provider=False),
    )
    async def completion(ls: LivydServer, params: types.CompletionParams) -> types.CompletionList:
        from livyd.daemon._supervisor import complete

        empty = types.CompletionList(is_incomplete=True, items=[])
        sup = state.supervisor
        if sup is None or sup.api is None:
            return empty
        try:
            lines = _document_text(ls, params.text_document.uri).splitlines()
        except OSError:
            return empty
        line_no = params.position.line
        line = lines[line_no] if line_no < len(lines) else ""
        try:
            found = await complete(sup, line, params.position.character)
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

    @server.feature(types.TEXT_DOCUMENT_CODE_LENS)
    def code_lens(ls: LivydServer, params: types.CodeLensParams) -> list[types.CodeLens]:
        uri = params.text_document.uri
        try:
            text = _document_text(ls, uri)
        except OSError:
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

    async def _run_range(uri: str, start: int, end: int) -> Any:
        text = _document_text(server, uri)
        lines = text.splitlines()
        code = "\n".join(lines[start:end])
        return await execute(
            server,
            {
                "code": code,
                "uri": uri,
                "range": Range(
                    start=Position(line=start, character=0), end=Position(line=end, character=0)
                ).wire(),
            },
        )

    def _arg(args: tuple[Any, ...], name: str) -> Any:
        if not args or not isinstance(args[0], dict) or name not in args[0]:
            raise JsonRpcInvalidParams(
                f"missing argument {name}",
                data={"code": "invalid-params", "field": f"arguments.0.{name}", "errors": []},
            )
        return args[0][name]

    @rpc(server, "livyd.runFile", command=True)
    async def run_file(ls: LivydServer, args: Any) -> Any:
        uri = str(_arg(args, "uri"))
        text = _document_text(ls, uri)
        return await _run_range(uri, 0, len(text.splitlines()))

    @rpc(server, "livyd.runCell", command=True)
    async def run_cell(ls: LivydServer, args: Any) -> Any:
        uri = str(_arg(args, "uri"))
        line = int(_arg(args, "line"))
        for start, end in cells(_document_text(ls, uri)):
            if start <= line < end:
                return await _run_range(uri, start, end)
        raise JsonRpcInvalidParams(
            f"line {line} is not in a cell of {uri}",
            data={"code": "invalid-params", "field": "arguments.0.line", "errors": []},
        )

    @rpc(server, "livyd.cancelTask", command=True)
    async def cancel_task(ls: LivydServer, args: Any) -> Any:
        return await cancel(ls, {"taskId": _arg(args, "taskId")})

    @rpc(server, "livyd.restartSession", command=True)
    async def restart_cmd(ls: LivydServer, args: Any) -> Any:
        return await restart_session(ls, {"sessionId": _arg(args, "sessionId")})
