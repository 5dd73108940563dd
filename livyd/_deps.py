"""Dependencies of a live session: what the profile and the project want vs what the session has.

:func:`dependency_report` lists, per field (``pyFiles``, ``jars``, ``files``, ``archives``), every
URI the profile configures plus what a deploy of the project would add, against what the running
session was created with (Livy 0.8+ reports it; older Livy does not, then everything is
``unknown``):

* ``active``: the session has it (and, for the project's own files, the local content is what was
  uploaded);
* ``pending``: wanted, but the session was created without it;
* ``changed``: a project file the session has, whose local content changed since the upload;
* ``missing``: an ``hdfs://`` URI that does not exist on HDFS (checked when WebHDFS is configured);
* ``extra``: the session has it, but nothing configures it any more.

:func:`refresh_session` re-zips and uploads what changed, creates a new session with the current
settings and ``pyFiles`` (waits until it is idle), then deletes the old one: Livy cannot change a
running session's ``pyFiles`` in place (``add-pyfile`` adds, it never replaces a module already
imported).
"""

from __future__ import annotations

import posixpath
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

from livyd._config import ResolvedConfig
from livyd._deploy import build_artifacts, deploy_project
from livyd._project import Project

if TYPE_CHECKING:
    from livyd._client import LivyClient
    from livyd._hdfs import RemoteWorkspace

__all__ = ["Dependency", "dependency_report", "refresh_session"]

_FIELDS = (("pyFiles", "py_files"), ("jars", "jars"), ("files", "files"), ("archives", "archives"))


@dataclass(frozen=True)
class Dependency:
    field: str
    uri: str
    status: str
    source: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "uri": self.uri, "status": self.status, "source": self.source}


def _hdfs_path(uri: str) -> str:
    """``hdfs://nn:8020/a/b#x`` or ``hdfs:///a/b`` -> ``/a/b``."""
    return "/" + _norm(uri).removeprefix("hdfs://").split("/", 1)[-1]


def _norm(uri: str) -> str:
    return uri.split("#", 1)[0].rstrip("/")


async def _project_files(project: Project, workspace: RemoteWorkspace | None) -> dict[str, str | None]:
    """``{hdfs uri: local sha256}`` a deploy of *project* would produce (``{}`` without WebHDFS)."""
    if workspace is None or (not project.scripts and not project.packages):
        return {}
    remote_dir = await workspace.resolve(project.name)
    with tempfile.TemporaryDirectory(prefix="livyd-deps-") as tmp:
        artifacts = await anyio.to_thread.run_sync(build_artifacts, project, Path(tmp))
    return {"hdfs://" + posixpath.join(remote_dir, a.path.name): a.sha256 for a in artifacts}


async def dependency_report(resolved: ResolvedConfig, project: Project, session: Any,
                            workspace: RemoteWorkspace | None) -> list[Dependency]:
    """The rows described in the module docstring."""
    deployed = await _project_files(project, workspace)
    rows: list[Dependency] = []
    for wire, key in _FIELDS:
        wanted: dict[str, str] = {u: resolved.source_of(f"session.{key}")
                                  for u in getattr(resolved.profile.session, key)}
        if wire == "pyFiles" and resolved.profile.deploy.auto:
            wanted.update({u: f"deploy of {project.root}" for u in deployed})
        has_list = getattr(session, key, None)
        has = {_norm(u) for u in has_list} if has_list is not None else None
        for uri, source in wanted.items():
            if has is None:
                status = "unknown"
            elif _norm(uri) in has:
                status = "active"
                sha = deployed.get(uri)
                if sha is not None and workspace is not None and workspace.cache is not None:
                    entry = workspace.cache.get(f"{workspace.hdfs.url}|{uri.removeprefix('hdfs://')}")
                    if entry is None or entry.get("sha256") != sha:
                        status = "changed"
            else:
                status = "pending"
            if (uri.startswith("hdfs://") and workspace is not None and uri not in deployed
                    and await workspace.hdfs.status(_hdfs_path(uri)) is None):
                status = "missing"
            rows.append(Dependency(wire, uri, status, source))
        for uri in sorted(has or ()):
            if not any(_norm(w) == uri for w in wanted):
                rows.append(Dependency(wire, uri, "extra", "the session (configured nowhere now)"))
    return rows


async def refresh_session(resolved: ResolvedConfig, project: Project, client: LivyClient, old: Any,
                          workspace: RemoteWorkspace | None) -> Any:
    """Deploy what changed, start a new session with the current settings, delete *old*; return
    the new session (idle)."""
    fields = resolved.profile.session.session_fields()
    fields["kind"] = fields.get("kind") or str(getattr(old.kind, "value", old.kind) or "pyspark")
    if workspace is not None:
        result = await deploy_project(project, workspace=workspace)
        fields["py_files"] = [*(fields.get("py_files") or []), *result.py_files]
    new = await client.create_session(**fields)
    await client.wait_session_ready(new.id)
    if workspace is None:
        from livyd._deploy import deploy_to_session

        await deploy_to_session(project, client, new.id)
    await client.delete_session(old.id)
    return await client.get_session(new.id)
