"""The development-loop commands: ``livyd hdfs``, ``deploy``, ``reload``, ``build-standalone``, and
the hooks ``exec``/``run``/``batch submit`` use (auto-deploy, staging, ``--dry-run``).

Thin: the work is in the library (``livyd._hdfs``, ``_project``, ``_deploy``, ``_reload``,
``_standalone``, ``_batch``, ``_dryrun``); this module parses, connects and renders.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

from livyd._config import ResolvedConfig, load_config
from livyd._exceptions import ConfigError, SessionGoneError
from livyd.cli._render import Renderer

if TYPE_CHECKING:
    from livyd._client import LivyClient
    from livyd._connect import Connection
    from livyd._deploy import DeployResult
    from livyd._project import Project

__all__ = [
    "COMMANDS",
    "after_session_ready",
    "before_create_session",
    "deploy_into_session",
    "dry_run_session",
    "plan_batch_submit",
]

EXIT_OK = 0


def _resolve(args: argparse.Namespace) -> ResolvedConfig:
    return load_config(profile=getattr(args, "profile", None), url=getattr(args, "url", None))


def _project(resolved: ResolvedConfig) -> Project:
    from livyd._devloop import _discover

    return _discover(resolved, None)


def _workspace(resolved: ResolvedConfig, url: str | None = None, *, use_auth: bool = True,
               required: bool = True, cache: bool = True) -> Any:
    from livyd._devloop import open_workspace

    return open_workspace(resolved, url, use_auth=use_auth, required=required, cache=cache,
                          interactive=sys.stdin.isatty())


# --------------------------------------------------------------------------- hdfs


def _fmt_time(ms: int) -> str:
    import datetime

    if not ms:
        return ""
    return datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.UTC).strftime("%Y-%m-%d %H:%M")


async def cmd_hdfs(args: argparse.Namespace, r: Renderer) -> int:
    if getattr(args, "action", None) is None:
        raise ConfigError("hdfs needs an action: ls, put, get, rm or mkdir", key="ACTION")
    resolved = _resolve(args)
    async with _workspace(resolved, cache=not getattr(args, "no_cache", False)) as ws:
        assert ws is not None
        if args.action == "ls":
            entries = await ws.ls(args.path)
            if r.json_mode:
                r.json([e.model_dump(mode="json", by_alias=True) for e in entries])
            else:
                r.table(("permission", "owner", "size", "modified", "path"),
                        [(("d" if e.is_dir else "-") + e.permission, e.owner, e.length,
                          _fmt_time(e.modification_time), e.path + ("/" if e.is_dir else ""))
                         for e in entries])
            return EXIT_OK
        if args.action == "put":
            local = Path(args.local).expanduser()  # noqa: ASYNC240 (a CLI's own argument)
            if local.is_dir():
                return await _put_tree(r, ws, local, args)
            if not local.is_file():
                raise ConfigError(f"LOCAL {args.local} does not exist", key="LOCAL")
            with r.transfer(f"put {local.name}", local.stat().st_size) as update:
                put = await ws.put(local, args.remote, force=args.force, progress=update,
                                   use_cache=not args.no_cache)
            if r.json_mode:
                r.json({"local": str(local), "remote": put.remote, "uri": put.uri, "uploaded": put.uploaded,
                        "size": put.size, "sha256": put.sha256})
            else:
                r.text(put.uri)
                r.notice(f"{'uploaded' if put.uploaded else 'unchanged, not sent'}: {local} -> {put.remote} "
                         f"({put.size} bytes)")
            return EXIT_OK
        if args.action == "get":
            remote = await ws.resolve(args.remote)
            status = await ws.hdfs.status(remote)
            if status is None or status.is_dir:
                raise ConfigError(f"REMOTE {remote} is {'a directory' if status else 'not on HDFS'}",
                                  key="REMOTE")
            with r.transfer(f"get {Path(remote).name}", status.length) as update:
                dest = await ws.get(remote, Path(args.local), progress=update)
            if r.json_mode:
                r.json({"remote": remote, "local": str(dest), "size": status.length})
            else:
                r.text(str(dest))
            return EXIT_OK
        if args.action == "rm":
            deleted = await ws.rm(args.path, recursive=args.recursive, force=args.force)
            target = await ws.resolve(args.path)
            if r.json_mode:
                r.json({"path": target, "deleted": deleted})
            else:
                r.notice(f"deleted {target}" if deleted else f"{target} did not exist")
            return EXIT_OK
        made = await ws.mkdir(args.path)
        if r.json_mode:
            r.json({"path": made})
        else:
            r.text(made)
        return EXIT_OK


async def _put_tree(r: Renderer, ws: Any, local: Path, args: argparse.Namespace) -> int:
    """``hdfs put DIR [REMOTE]``: every file under DIR (the deploy exclusions apply), what changed."""
    import posixpath

    from livyd._project import Excluder

    local = await anyio.to_thread.run_sync(local.resolve)
    excluder = Excluder(local)
    files = await anyio.to_thread.run_sync(excluder.walk, local)
    target = await ws.resolve(args.remote or local.name)
    results = []
    for path in files:
        remote = posixpath.join(target, path.relative_to(local).as_posix())
        with r.transfer(f"put {path.relative_to(local)}", path.stat().st_size) as update:
            results.append(await ws.put(path, remote, force=args.force, progress=update,
                                        use_cache=not args.no_cache))
    if r.json_mode:
        listed = [{"local": str(p.local), "remote": p.remote, "uploaded": p.uploaded} for p in results]
        r.json({"remote": target, "files": listed,
                "excluded": [{"path": p, "reason": why} for p, why in excluder.excluded]})
    else:
        sent = sum(p.uploaded for p in results)
        r.text("hdfs://" + target)
        r.notice(f"{len(results)} file(s) under {target}: {sent} sent, {len(results) - sent} unchanged"
                 + (f"; {len(excluder.excluded)} left out (caches, secrets, git-ignored)"
                    if excluder.excluded else ""))
    return EXIT_OK


# --------------------------------------------------------------------------- deploy


def _deploy_summary(r: Renderer, result: DeployResult) -> None:
    if result.via == "none":
        r.notice(f"nothing to deploy: no scripts or packages found under {result.project.root} "
                 "(deploy.scripts / deploy.package_dirs / deploy.packages)")
        return
    sent = len(result.sent)
    r.notice(f"deployed {len(result.files)} file(s) via {result.via}"
             + (f" to {result.remote_dir}" if result.remote_dir else "")
             + f": {sent} sent, {len(result.files) - sent} unchanged")


async def cmd_deploy(args: argparse.Namespace, r: Renderer) -> int:
    resolved = _resolve(args)
    project = await anyio.to_thread.run_sync(_project, resolved)
    if args.dry_run:
        doc = {"root": str(project.root), "rootReason": project.root_reason,
               "scripts": [str(p) for p in project.scripts], "packages": [str(p) for p in project.packages],
               "excluded": [{"path": p, "reason": why} for p, why in project.excluded], "sent": False}
        if r.json_mode:
            r.json(doc)
        else:
            for line in project.describe():
                r.text(line)
            for path, why in project.excluded:
                r.text(f"excluded: {path} ({why})")
        return EXIT_OK
    from livyd._devloop import deploy

    async with _workspace(resolved, required=not args.session) as ws:
        if args.session:
            from livyd.cli._commands import _client_for, _find_session

            _, client = await _client_for(args)
            async with client:
                sid = (await _find_session(client, args.session)).id
                result = await deploy(resolved, project, ws, client=client, session_id=sid)
        else:
            result = await deploy(resolved, project, ws)
    if r.json_mode:
        r.json(result.as_dict())
    else:
        for uri in result.py_files:
            r.text(uri)
        _deploy_summary(r, result)
    return EXIT_OK


async def before_create_session(args: argparse.Namespace, r: Renderer, resolved: ResolvedConfig,
                                conn: Connection, fields: dict[str, Any]) -> Project | None:
    """Auto-deploy for ``exec``/``run`` creating a session (``deploy.auto`` or ``--deploy``): the
    deployed files are added to *fields*' ``py_files``. Returns the project when the files must
    instead go through Livy's upload endpoints once the session is up (no WebHDFS)."""
    choice = getattr(args, "deploy", None)
    if choice is False or (choice is None and not resolved.profile.deploy.auto):
        return None
    from livyd._deploy import deploy_project

    project = await anyio.to_thread.run_sync(_project, resolved)
    if choice is None and not project.marked:
        return None  # no livyd.toml, no git: no project to auto-deploy (--deploy forces it)
    if not project.scripts and not project.packages:
        if choice:
            r.warn(f"--deploy: no scripts or packages found under {project.root}")
        return None
    url = resolved.profile.webhdfs.url or (conn.webhdfs_url if conn.embedded else None)
    async with _workspace(resolved, url, use_auth=not conn.embedded, required=False) as ws:
        if ws is None:
            return project
        result = await deploy_project(project, workspace=ws)
    fields["py_files"] = [*(fields.get("py_files") or []), *result.py_files]
    _deploy_summary(r, result)
    return None


async def deploy_into_session(args: argparse.Namespace, r: Renderer, resolved: ResolvedConfig,
                              conn: Connection, session_id: int) -> None:
    """``exec``/``run --deploy --session ID``: deploy the project into that running session
    (``add-pyfile`` after a WebHDFS upload, else ``upload-pyfile``)."""
    if getattr(args, "deploy", None) is not True:
        return
    from livyd._devloop import deploy

    project = await anyio.to_thread.run_sync(_project, resolved)
    if not project.scripts and not project.packages:
        r.warn(f"--deploy: no scripts or packages found under {project.root}")
        return
    url = resolved.profile.webhdfs.url or (conn.webhdfs_url if conn.embedded else None)
    async with _workspace(resolved, url, use_auth=not conn.embedded, required=False) as ws:
        _deploy_summary(r, await deploy(resolved, project, ws, client=conn.client, session_id=session_id))


async def after_session_ready(r: Renderer, client: LivyClient, session_id: int,
                              project: Project | None) -> None:
    """The no-WebHDFS half of auto-deploy: ``upload-pyfile`` into the new session."""
    if project is None:
        return
    from livyd._deploy import deploy_to_session

    _deploy_summary(r, await deploy_to_session(project, client, session_id))


# --------------------------------------------------------------------------- reload


async def _newest_session(client: LivyClient) -> int:
    """Without --session: the one running session livyd named with this profile's prefix.

    These commands run code in the session, and a session id is not an identity (anyone's
    session may have the newest id), so anything but exactly one candidate is an error listing
    what there is."""
    sessions = [s async for s in client.iter_sessions()]
    live = [s for s in sessions if not s.state.is_terminal]
    prefix = f"{client.name_prefix}-"
    ours = [s for s in live if (s.name or "").startswith(prefix)]
    if len(ours) == 1:
        return int(ours[0].id)
    if not live:
        raise SessionGoneError(f"no running session at {client.url}: pass --session or create one "
                               "(livyd exec --keep ...)")
    shown = ", ".join(f"{s.id} ({s.name or 'no name'})" for s in live[-10:])
    why = "several" if ours else f"no session named {prefix}..."
    raise ConfigError(f"{why} among the running sessions at {client.url} ({shown}): pass --session ID|NAME",
                      key="--session")


async def cmd_reload(args: argparse.Namespace, r: Renderer) -> int:
    from livyd._devloop import reload
    from livyd.cli._commands import _client_for, _find_session

    resolved = _resolve(args)
    project = await anyio.to_thread.run_sync(_project, resolved)
    if args.push and not args.module:
        raise ConfigError("reload --push needs a MODULE", key="MODULE")
    _, client = await _client_for(args)
    async with client, _workspace(resolved, required=False) as ws:
        sid = ((await _find_session(client, args.session)).id if args.session
               else await _newest_session(client))
        if not args.session and not r.json_mode:
            r.notice(f"session {sid}")
        results = await reload(resolved, project, client, sid, ws, args.module, push=args.push)
    failed = [f for res in results for f in res.failed]
    if r.json_mode:
        r.json({"session": sid, "results": [res.as_dict() for res in results]})
    else:
        for res in results:
            r.text(f"reloaded ({res.mode}, {res.via}): {', '.join(res.reloaded) or 'nothing loaded yet'}")
        for name, why in failed:
            r.warn(f"{name} did not reload: {why}")
    return 1 if failed else EXIT_OK


# --------------------------------------------------------------------------- standalone


async def cmd_build_standalone(args: argparse.Namespace, r: Renderer) -> int:
    from livyd._standalone import build_standalone

    resolved = _resolve(args)
    project = await anyio.to_thread.run_sync(_project, resolved)
    packages = ([Path(p).resolve() for p in args.packages]  # noqa: ASYNC240 (CLI arguments)
                if args.packages else list(project.packages))
    for p in packages:
        if not (p / "__init__.py").is_file():
            raise ConfigError(f"--package {p} is not a package (no __init__.py)", key="--package")
    script = Path(args.script) if args.script else None
    if script is not None and not script.is_file():
        raise ConfigError(f"SCRIPT {args.script} does not exist", key="SCRIPT")
    if not packages and script is None:
        raise ConfigError(f"nothing to build: no packages found under {project.root} and no SCRIPT given",
                          key="SCRIPT")
    text = await anyio.to_thread.run_sync(lambda: build_standalone(packages, script, root=project.root))
    stem = script.stem if script else project.name
    out = Path(args.output) if args.output else Path(f"{stem}_standalone.py")
    await anyio.Path(out).write_text(text, encoding="utf-8")
    if r.json_mode:
        r.json({"output": str(out), "packages": [p.name for p in packages],
                "script": str(script) if script else None, "bytes": len(text.encode())})
    else:
        r.text(str(out))
    return EXIT_OK


# --------------------------------------------------------------------------- dry-run / batches


async def dry_run_session(args: argparse.Namespace, r: Renderer, resolved: ResolvedConfig,
                          code: str | None) -> int:
    """``exec``/``run --dry-run``: the session body (if one would be created, with what auto-deploy
    would add to ``pyFiles``) and the statement body. Only GETs (the HDFS home) may be sent."""
    from livyd._core.versions import LivyVersion
    from livyd._dryrun import explain_request
    from livyd._models import CreateSessionRequest

    url = resolved.profile.url or "<embedded sandbox>"
    docs = []
    sources: dict[str, str] = {}
    if not args.session:
        fields = resolved.profile.session.session_fields()
        if "kind" not in fields:
            fields["kind"] = "pyspark"
            sources["kind"] = "default (pyspark)"
        choice = getattr(args, "deploy", None)
        if choice is True or (choice is None and resolved.profile.deploy.auto):
            project = await anyio.to_thread.run_sync(_project, resolved)
            names = [s.name for s in project.scripts] + [f"{p.name}.zip" for p in project.packages]
            if names and (choice is True or project.marked):
                async with _workspace(resolved, required=False) as ws:
                    remote = await ws.resolve(project.name) if ws is not None else None
                configured = list(fields.get("py_files") or [])
                if remote is None:
                    r.notice("auto-deploy: no WebHDFS configured, the files would go through Livy's "
                             f"upload-pyfile once the session runs: {', '.join(names)}")
                else:
                    added = [f"hdfs://{remote}/{n}" for n in names]
                    fields["py_files"] = [*configured, *added]
                    for i in range(len(configured)):
                        sources[f"pyFiles[{i}]"] = resolved.source_of("session.py_files")
                    for i in range(len(configured), len(configured) + len(names)):
                        sources[f"pyFiles[{i}]"] = f"auto-deploy of {project.root} (deploy.auto)"
        body = CreateSessionRequest.model_validate(fields).to_payload(LivyVersion(0, 9, 0, ""))
        docs.append(explain_request("POST", url.rstrip("/") + "/sessions", body, resolved, sources=sources))
    if code is not None:
        docs.append({"method": "POST", "url": url.rstrip("/") + "/sessions/<id>/statements",
                     "body": {"code": code}, "sources": {"code": "CODE/FILE"}, "sent": False})
    _print_dry(r, docs)
    return EXIT_OK


def _print_dry(r: Renderer, docs: list[dict[str, Any]]) -> None:
    import json

    if r.json_mode:
        r.json({"dryRun": True, "requests": docs})
        return
    for doc in docs:
        r.text(f"{doc['method']} {doc['url']}")
        r.text(json.dumps(doc["body"], indent=2, ensure_ascii=False))
        for key, source in doc["sources"].items():
            r.text(f"  {key}: {source}")
    r.notice("dry run: nothing was sent")


async def plan_batch_submit(args: argparse.Namespace, r: Renderer, resolved: ResolvedConfig,
                            client: LivyClient) -> dict[str, Any] | None:
    """``batch submit``: stage and plan; ``None`` after printing a ``--dry-run``."""
    from livyd._batch import plan_batch

    dry = bool(getattr(args, "dry_run", False))
    async with _workspace(resolved, required=False) as ws:
        plan = await plan_batch(resolved, args.file, client=client, workspace=ws, args=list(args.args or []),
                                class_name=args.class_name, name=args.name,
                                stage=getattr(args, "stage", None), dry_run=dry)
    for put in plan.staged:
        if not r.json_mode:
            r.notice(f"staged {put.local} -> {put.uri}" + ("" if put.uploaded else " (unchanged, not sent)"))
    if not dry:
        return plan.fields
    from livyd._core.versions import LivyVersion
    from livyd._dryrun import explain_request
    from livyd._models import CreateBatchRequest

    body = CreateBatchRequest.model_validate(plan.fields).to_payload(LivyVersion(0, 9, 0, ""))
    _print_dry(r, [explain_request("POST", client.url.rstrip("/") + "/batches", body, resolved,
                                   sources=plan.sources)])
    return None


# --------------------------------------------------------------------------- fetch / deps


async def _session_arg(client: LivyClient, ref: str | None, r: Renderer) -> int:
    from livyd.cli._commands import _find_session

    if ref:
        return int((await _find_session(client, ref)).id)
    sid = await _newest_session(client)
    if not r.json_mode:
        r.notice(f"session {sid}")
    return sid


async def cmd_fetch(args: argparse.Namespace, r: Renderer) -> int:
    import csv
    import io

    from livyd._fetch import fetch_rows
    from livyd.cli._commands import _client_for

    _, client = await _client_for(args)
    async with client:
        sid = await _session_arg(client, args.session, r)
        columns, rows = await fetch_rows(client, sid, args.what, limit=args.limit, page=args.page)
    if r.json_mode and not args.output:
        r.json({"columns": columns, "rows": rows})
        return EXIT_OK
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    writer.writerows(rows)
    if args.output:
        await anyio.Path(args.output).write_text(buffer.getvalue(), encoding="utf-8")
        r.notice(f"wrote {len(rows)} row(s) to {args.output}")
    else:
        r.stdout.write(buffer.getvalue())
        r.stdout.flush()
    return EXIT_OK


async def cmd_deps(args: argparse.Namespace, r: Renderer) -> int:
    from livyd._deps import dependency_report, refresh_session
    from livyd.cli._commands import _client_for

    resolved, client = await _client_for(args)
    project = await anyio.to_thread.run_sync(_project, resolved)
    async with client, _workspace(resolved, required=False) as ws:
        sid = await _session_arg(client, args.session, r)
        session = await client.get_session(sid)
        if args.refresh:
            new = await refresh_session(resolved, project, client, session, ws)
            if not r.json_mode:
                r.notice(f"session {sid} replaced by session {new.id} with the current dependencies")
            session, sid = new, new.id
        rows = await dependency_report(resolved, project, session, ws)
    if r.json_mode:
        r.json({"session": sid, "dependencies": [d.as_dict() for d in rows]})
    elif rows:
        r.table(("field", "status", "uri", "source"), [(d.field, d.status, d.uri, d.source) for d in rows])
    else:
        r.notice("no dependencies configured or deployed")
    return EXIT_OK


async def cmd_params(args: argparse.Namespace, r: Renderer) -> int:
    from livyd.cli._commands import _client_for

    given = list(args.args)
    argv = ["livyd", *(given[1:] if given[:1] == ["--"] else given)]
    _, client = await _client_for(args)
    async with client:
        sid = await _session_arg(client, args.session, r)
        st = await client.run_statement(sid, f"import sys as _livyd_sys; _livyd_sys.argv = {argv!r}; "
                                        "del _livyd_sys")
    if st.output is not None:
        st.output.raise_for_error()
    if r.json_mode:
        r.json({"session": sid, "argv": argv})
    else:
        r.notice(f"session {sid}: sys.argv = {argv!r}")
    return EXIT_OK


COMMANDS: dict[str, Callable[[argparse.Namespace, Renderer], Awaitable[int]]] = {
    "hdfs": cmd_hdfs,
    "deploy": cmd_deploy,
    "reload": cmd_reload,
    "build-standalone": cmd_build_standalone,
    "fetch": cmd_fetch,
    "deps": cmd_deps,
    "params": cmd_params,
}
