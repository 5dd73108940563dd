"""Daemon handlers of the development-loop requests (protocol 1.3): ``livy/deploy``,
``livy/reloadModule``, ``livy/hdfsList``, ``livy/hdfsUpload``, ``livy/hdfsDelete``,
``livy/buildStandalone``.

Thin: the work is the library's (``livyd._devloop``, ``livyd._hdfs``, ``livyd._standalone``), the
same code the CLI and the REPL facade run; the project is the workspace's (its livyd.toml or git
root), the remote dir and WebHDFS those of the request's profile.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

from livyd.daemon._handlers import handles
from livyd.protocol._models import (
    BuildStandaloneParams,
    BuildStandaloneResult,
    DeployedFile,
    DeployParams,
    DeployResult,
    ExcludedFile,
    HdfsDeleteParams,
    HdfsDeleteResult,
    HdfsEntry,
    HdfsListParams,
    HdfsListResult,
    HdfsUploadParams,
    HdfsUploadResult,
    ReloadFailure,
    ReloadInfo,
    ReloadModuleParams,
    ReloadModuleResult,
)

if TYPE_CHECKING:
    from livyd.daemon._server import LivydServer

__all__: list[str] = []


async def _connection(ls: LivydServer, profile: str | None, session_id: int | None) -> Any:
    sup = await ls.livyd.connected()
    if session_id is not None:
        conn, _known = await sup.resolve_session(session_id, profile)
        return sup, conn
    return sup, await sup.connection(profile)


def _workspace_dir(ls: LivydServer) -> Path:
    return Path(ls.livyd.workspace)


def _session_id(sup: Any, session_id: int | None) -> int:
    from livyd.daemon._connections import DaemonError

    if session_id is not None:
        return session_id
    if sup.attached is None:
        raise DaemonError("no session is attached; pass sessionId", "no-session")
    return int(sup.attached.session_id)


async def auto_deploy(ls: LivydServer, conn: Any, fields: dict[str, Any], choice: bool | None) -> None:
    """``livy/createSession``: deploy the workspace's project through WebHDFS and add it to the
    session's pyFiles (*choice* None: the profile's ``deploy.auto``, only for a project a
    livyd.toml or git marks). Without a WebHDFS URL nothing is deployed here (``livy/deploy`` with
    the new session's id sends the files through Livy's upload-pyfile)."""
    from livyd import _devloop

    resolved = conn.resolved
    if resolved is None or choice is False or (choice is None and not resolved.profile.deploy.auto):
        return
    if not resolved.profile.webhdfs.url:
        return
    project = await _devloop.project_for(resolved, _workspace_dir(ls))
    if (choice is None and not project.marked) or not (project.scripts or project.packages):
        return
    async with _devloop.open_workspace(resolved) as ws:
        result = await _devloop.deploy(resolved, project, ws)
    given = fields.pop("pyFiles", None) or fields.pop("py_files", None)
    configured = given if given is not None else conn.session_defaults.get("py_files") or []
    fields["py_files"] = [*configured, *[u for u in result.py_files if u not in configured]]


@handles("livy/deploy")
async def deploy(ls: LivydServer, params: Any) -> Any:
    from livyd import _devloop

    p: DeployParams = params
    _sup, conn = await _connection(ls, p.profile, p.session_id)
    resolved = conn.resolved
    project = await _devloop.project_for(resolved, _workspace_dir(ls))
    excluded = [ExcludedFile(path=path, reason=why) for path, why in project.excluded]
    if p.dry_run:
        files = [DeployedFile(kind="script", name=x.name, remote=None, uploaded=False)
                 for x in project.scripts]
        files += [DeployedFile(kind="package", name=x.name, remote=None, uploaded=False)
                  for x in project.packages]
        return DeployResult(root=str(project.root), via="dry-run", files=files, excluded=excluded)
    client = conn.require_api().client if p.session_id is not None else None
    async with _devloop.open_workspace(resolved) as ws:
        result = await _devloop.deploy(resolved, project, ws, client=client, session_id=p.session_id)
    deployed = [DeployedFile(kind=f.kind, name=f.name, remote=f.remote, uploaded=f.uploaded)
                for f in result.files]
    return DeployResult(root=str(project.root), via=result.via, remote_dir=result.remote_dir, files=deployed,
                        py_files=result.py_files, excluded=excluded)


@handles("livy/reloadModule")
async def reload_module(ls: LivydServer, params: Any) -> Any:
    from livyd import _devloop

    p: ReloadModuleParams = params
    sup, conn = await _connection(ls, p.profile, p.session_id)
    sid = _session_id(sup, p.session_id)
    if p.session_id is None:
        conn = sup.attached.conn
    resolved = conn.resolved
    project = await _devloop.project_for(resolved, _workspace_dir(ls))
    async with _devloop.open_workspace(resolved) as ws:
        results = await _devloop.reload(resolved, project, conn.require_api().client, sid, ws, p.module,
                                        push=p.push)
    return ReloadModuleResult(session_id=sid, results=[
        ReloadInfo(mode=r.mode, target=r.target, via=r.via, reloaded=r.reloaded,
                   failed=[ReloadFailure(module=n, error=e) for n, e in r.failed]) for r in results])


@handles("livy/hdfsList")
async def hdfs_list(ls: LivydServer, params: Any) -> Any:
    from livyd import _devloop

    p: HdfsListParams = params
    _sup, conn = await _connection(ls, p.profile, None)
    async with _devloop.open_workspace(conn.resolved, required=True) as ws:
        assert ws is not None
        entries = await ws.ls(p.path)
    return HdfsListResult(entries=[HdfsEntry(path=e.path, type=e.type, length=e.length, owner=e.owner,
                                             permission=e.permission, modification_time=e.modification_time)
                                   for e in entries])


@handles("livy/hdfsUpload")
async def hdfs_upload(ls: LivydServer, params: Any) -> Any:
    from livyd import _devloop
    from livyd._exceptions import ConfigError

    p: HdfsUploadParams = params
    _sup, conn = await _connection(ls, p.profile, None)
    local = Path(p.local)
    if not local.is_absolute():
        local = _workspace_dir(ls) / local
    if not await anyio.Path(local).is_file():
        raise ConfigError(f"local: {local} is not a file", key="local")
    async with _devloop.open_workspace(conn.resolved, required=True) as ws:
        assert ws is not None
        put = await ws.put(local, p.remote, force=p.force)
    return HdfsUploadResult(remote=put.remote, uri=put.uri, uploaded=put.uploaded, size=put.size)


@handles("livy/hdfsDelete")
async def hdfs_delete(ls: LivydServer, params: Any) -> Any:
    from livyd import _devloop

    p: HdfsDeleteParams = params
    _sup, conn = await _connection(ls, p.profile, None)
    async with _devloop.open_workspace(conn.resolved, required=True) as ws:
        assert ws is not None
        target = await ws.resolve(p.path)
        deleted = await ws.rm(p.path, recursive=p.recursive, force=p.force)
    return HdfsDeleteResult(path=target, deleted=deleted)


@handles("livy/buildStandalone")
async def build_standalone(ls: LivydServer, params: Any) -> Any:
    from livyd import _devloop
    from livyd._exceptions import ConfigError
    from livyd._standalone import build_standalone as build

    p: BuildStandaloneParams = params
    state = ls.livyd
    resolved = await anyio.to_thread.run_sync(lambda: state.resolve_sync(None, None))
    root = _workspace_dir(ls)
    project = await _devloop.project_for(resolved, root)
    script = None
    if p.script:
        script = Path(p.script) if Path(p.script).is_absolute() else root / p.script
        if not await anyio.Path(script).is_file():
            raise ConfigError(f"script: {script} does not exist", key="script")
    if not project.packages and script is None:
        raise ConfigError(f"nothing to build: no packages under {project.root} and no script", key="script")
    text = await anyio.to_thread.run_sync(lambda: build(list(project.packages), script, root=project.root))
    stem = script.stem if script else project.name
    out = Path(p.output) if p.output else root / f"{stem}_standalone.py"
    if not out.is_absolute():
        out = root / out
    await anyio.Path(out).write_text(text, encoding="utf-8")
    return BuildStandaloneResult(output=str(out), packages=[k.name for k in project.packages],
                                 bytes=len(text.encode()))
