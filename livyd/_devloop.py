"""The development loop's operations for a resolved profile: what the CLI, the REPL facade and the
daemon call, so that each rule lives in one place.

* :func:`open_workspace` -- the profile's WebHDFS (or the embedded sandbox's) as a
  :class:`~livyd._hdfs.RemoteWorkspace`, or ``None`` without WebHDFS;
* :func:`project_for` -- the project discovered from a working directory;
* :func:`deploy` -- deploy the project: through WebHDFS (and ``add-pyfile`` into a running
  session when one is given), else through the session's ``upload-pyfile``;
* :func:`reload` -- ``livyd reload [MODULE]`` / ``--push``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import anyio

from livyd._config import ResolvedConfig
from livyd._exceptions import ConfigError

if TYPE_CHECKING:
    from livyd._client import LivyClient, SessionRef
    from livyd._deploy import DeployResult
    from livyd._hdfs import RemoteWorkspace
    from livyd._project import Project
    from livyd._reload import ReloadResult

__all__ = ["NO_WEBHDFS", "deploy", "open_workspace", "project_for", "reload"]

NO_WEBHDFS = ("no WebHDFS configured: set webhdfs.url in livyd.toml or LIVY_WEBHDFS_URL (e.g. "
              "http://namenode:9870/webhdfs/v1 or https://knox:8443/gateway/<topology>/webhdfs/v1)")


@asynccontextmanager
async def open_workspace(resolved: ResolvedConfig, url: str | None = None, *, use_auth: bool = True,
                         required: bool = False, cache: bool = True,
                         interactive: bool = False) -> AsyncIterator[RemoteWorkspace | None]:
    """The remote workspace for *resolved* (*url*: e.g. the embedded sandbox's WebHDFS, without
    auth); ``None`` without WebHDFS, or a :class:`ConfigError` when *required*."""
    from livyd._hdfs import workspace_for

    found = workspace_for(resolved, url=url, use_auth=use_auth, interactive=interactive,
                          cache=None if cache else False)
    if found is None:
        if required:
            raise ConfigError(NO_WEBHDFS, key="webhdfs.url")
        yield None
        return
    client, workspace = found
    async with client:
        yield workspace


def _discover(resolved: ResolvedConfig, cwd: Path | None) -> Project:
    from livyd._project import discover_project

    return discover_project(resolved.profile.deploy, cwd=cwd or Path.cwd(), config_root=resolved.project_root)


async def project_for(resolved: ResolvedConfig, cwd: Path | None = None) -> Project:
    """The project around *cwd* (default: the working directory), discovered in a worker thread."""
    return await anyio.to_thread.run_sync(_discover, resolved, cwd)


async def deploy(resolved: ResolvedConfig, project: Project, workspace: RemoteWorkspace | None, *,
                 client: LivyClient | None = None, session_id: SessionRef | None = None) -> DeployResult:
    """Deploy *project*; with a running session, its pyFiles get the files too."""
    from livyd._deploy import deploy_project, deploy_to_session

    if workspace is not None:
        result = await deploy_project(project, workspace=workspace)
        if client is not None and session_id is not None:
            for uri in result.py_files:
                await client.add_pyfile(session_id, uri)
        return result
    if client is None or session_id is None:
        raise ConfigError(NO_WEBHDFS + "; or name a running session to deploy through Livy's "
                          "upload-pyfile", key="webhdfs.url")
    return await deploy_to_session(project, client, session_id)


async def reload(resolved: ResolvedConfig, project: Project, client: LivyClient, session_id: SessionRef,
                 workspace: RemoteWorkspace | None, module: str | None = None, *,
                 push: bool = False) -> list[ReloadResult]:
    """Hot-reload *module* (a package: the whole package; none: every project package), or push it
    fresh with *push*, into the session."""
    from livyd._reload import Reloader

    session = await client.get_session(session_id)
    kind = "pyspark" if str(getattr(session.kind, "value", session.kind)) == "shared" else None
    reloader = Reloader(client, session_id, project, workspace=workspace,
                        inline_limit=resolved.profile.deploy.inline_limit, kind=kind)
    if push:
        if not module:
            raise ConfigError("push needs a module name", key="module")
        return [await reloader.push_module(module)]
    return await reloader.reload(module)
