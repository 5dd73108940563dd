"""Deploy a project: zip its packages, upload what changed, and hand Livy the ``pyFiles``.

::

    project = discover_project(resolved.profile.deploy, cwd=Path.cwd(), config_root=resolved.project_root)
    result = await deploy_project(project, workspace=RemoteWorkspace(hdfs, base_dir=...))
    session = await client.create_session(py_files=[*configured, *result.py_files])

**Through WebHDFS** (the default when a WebHDFS URL is known): everything goes to
``<base dir>/<project name>/`` (created ``700``; files ``600``, readable by their owner only):
each script as ``<name>.py``, each package as ``<package>.zip`` (a reproducible zip, so an
unchanged package has the same bytes). The upload cache (content hashes) makes a second deploy of
an unchanged project send no file at all.

**Without WebHDFS** (not every cluster exposes it), files go through Livy's own
``upload-pyfile`` endpoint of a running session (:func:`deploy_to_session`), which puts them on
the driver's ``sys.path``.
"""

from __future__ import annotations

import posixpath
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import anyio

from livyd._hdfs import RemoteWorkspace, file_sha256
from livyd._logging import get_logger
from livyd._packaging import PackageZip, zip_package
from livyd._project import Excluder, Project
from livyd._webhdfs import ProgressCallback

if TYPE_CHECKING:
    from livyd._client import LivyClient, SessionRef

__all__ = ["DeployResult", "DeployedFile", "build_artifacts", "deploy_project", "deploy_to_session"]

log = get_logger("livyd.deploy")


@dataclass(frozen=True)
class DeployedFile:
    """One script or package zip: where it went and whether bytes were actually sent."""

    kind: Literal["script", "package"]
    name: str
    local: Path
    sha256: str
    remote: str | None = None
    uploaded: bool = True

    @property
    def uri(self) -> str | None:
        return None if self.remote is None else "hdfs://" + self.remote


@dataclass
class DeployResult:
    """What a deploy did; ``py_files`` is what to add to the session's ``pyFiles``."""

    project: Project
    via: Literal["webhdfs", "livy-upload", "none"]
    remote_dir: str | None = None
    files: list[DeployedFile] = field(default_factory=list)

    @property
    def py_files(self) -> list[str]:
        return [f.uri for f in self.files if f.uri is not None]

    @property
    def sent(self) -> list[DeployedFile]:
        return [f for f in self.files if f.uploaded]

    def as_dict(self) -> dict[str, object]:
        return {"root": str(self.project.root), "via": self.via, "remoteDir": self.remote_dir,
                "files": [{"kind": f.kind, "name": f.name, "local": str(f.local), "remote": f.remote,
                           "uploaded": f.uploaded, "sha256": f.sha256} for f in self.files],
                "pyFiles": self.py_files,
                "excluded": [{"path": p, "reason": r} for p, r in self.project.excluded]}


@dataclass(frozen=True)
class Artifact:
    kind: Literal["script", "package"]
    name: str
    path: Path          # the file to send (a script, or a zip written to the build dir)
    sha256: str
    zipped: PackageZip | None = None


def build_artifacts(project: Project, build_dir: Path) -> list[Artifact]:
    """Zip the packages into *build_dir* and list the scripts (blocking: run in a thread)."""
    excluder = Excluder(project.root)
    out: list[Artifact] = []
    for script in project.scripts:
        out.append(Artifact("script", script.name, script, file_sha256(script)))
    for package in project.packages:
        zipped = zip_package(package, excluder)
        target = build_dir / f"{zipped.name}.zip"
        target.write_bytes(zipped.data)
        target.chmod(0o600)
        out.append(Artifact("package", zipped.name, target, zipped.sha256, zipped))
    return out


async def deploy_project(project: Project, *, workspace: RemoteWorkspace, remote_dir: str | None = None,
                         progress: ProgressCallback | None = None) -> DeployResult:
    """Upload the project's scripts and package zips to ``<base>/<project>/`` (what changed only)."""
    if not project.scripts and not project.packages:
        return DeployResult(project, "none")
    target_dir = await workspace.resolve(remote_dir or project.name)
    await workspace.ensure_dir(target_dir)
    result = DeployResult(project, "webhdfs", target_dir)
    with tempfile.TemporaryDirectory(prefix="livyd-deploy-") as tmp:
        artifacts = await anyio.to_thread.run_sync(build_artifacts, project, Path(tmp))
        for art in artifacts:
            put = await workspace.put(art.path, posixpath.join(target_dir, art.path.name),
                                      progress=progress)
            local = art.path if art.kind == "script" else project.root / art.name
            result.files.append(DeployedFile(art.kind, art.name, local, art.sha256, put.remote, put.uploaded))
            log.info("deployed" if put.uploaded else "unchanged", file=put.remote)
    return result


async def deploy_to_session(project: Project, client: LivyClient, session_id: SessionRef) -> DeployResult:
    """Without WebHDFS: send the scripts and zips through ``POST /sessions/{id}/upload-pyfile``."""
    result = DeployResult(project, "livy-upload")
    if not project.scripts and not project.packages:
        result.via = "none"
        return result
    with tempfile.TemporaryDirectory(prefix="livyd-deploy-") as tmp:
        artifacts = await anyio.to_thread.run_sync(build_artifacts, project, Path(tmp))
        for art in artifacts:
            await client.upload_pyfile(session_id, art.path)
            local = art.path if art.kind == "script" else project.root / art.name
            result.files.append(DeployedFile(art.kind, art.name, local, art.sha256, None, True))
    return result
