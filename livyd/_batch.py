"""Batches in one step: stage a local FILE (and local dependencies) to the remote dir, then submit.

:func:`plan_batch` turns ``livyd batch submit FILE`` into the fields of ``POST /batches``:

* FILE with a scheme (``hdfs://``, ``s3a://``, ...) or an absolute remote path that does not exist
  locally is passed as is. A local FILE that does not exist is a :class:`~livyd.ConfigError`
  naming it (exit status 2), before anything is sent.
* ``batch.stage`` decides what happens to a local FILE: ``never`` sends its absolute local path
  (only a server on this machine can read it), ``always`` uploads it through WebHDFS, ``auto``
  (the default) uploads it unless the server is livyd's own sandbox -- recognised by what it
  reports about itself (:meth:`LivyClient.is_livyd_sandbox`), not by a loopback address, since an
  SSH tunnel to a cluster is loopback too.
* Staged files go to ``<base dir>/batches/<sha256[:12]>/<name>`` (content-addressed: a running
  batch's file is never overwritten, and the upload cache sends an unchanged file once). The
  profile's ``jars`` / ``files`` / ``archives`` / ``pyFiles`` entries that are local paths are
  staged the same way (a ``#alias`` suffix is kept).
* ``sources`` records where each value came from, for ``--dry-run``.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from livyd._config import ResolvedConfig
from livyd._exceptions import ConfigError
from livyd._hdfs import RemoteWorkspace, UploadResult, file_sha256

if TYPE_CHECKING:
    from livyd._client import LivyClient

__all__ = ["BatchPlan", "is_local_reference", "plan_batch"]

_DEPENDENCY_FIELDS = (("jars", "jars", "session.jars"), ("py_files", "pyFiles", "session.py_files"),
                      ("files", "files", "session.files"), ("archives", "archives", "session.archives"))


@dataclass
class BatchPlan:
    """The ``create_batch`` keyword fields, what was staged, and each field's origin."""

    fields: dict[str, Any]
    staged: list[UploadResult] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    stage: str = "never"


def is_local_reference(text: str) -> bool:
    """True for a path on this machine (no URI scheme, or ``file:``); Windows drives count as local."""
    scheme = urlsplit(text).scheme
    return scheme in ("", "file") or (len(scheme) == 1 and text[1:2] == ":")


def _local_path(text: str) -> Path:
    return Path(urlsplit(text).path if text.startswith("file:") else text).expanduser()


async def _staged_uri(workspace: RemoteWorkspace, local: Path) -> str:
    """Where :func:`_stage` would put *local* (hashing it locally; nothing is sent)."""
    import anyio

    sha = await anyio.to_thread.run_sync(file_sha256, local)
    return "hdfs://" + posixpath.join(await workspace.resolve("batches"), sha[:12], local.name)


async def _stage(workspace: RemoteWorkspace, local: Path, *, force: bool = False) -> UploadResult:
    import anyio

    sha = await anyio.to_thread.run_sync(file_sha256, local)
    remote = posixpath.join(await workspace.resolve("batches"), sha[:12], local.name)
    return await workspace.put(local, remote, force=force)


async def plan_batch(resolved: ResolvedConfig, file: str, *, client: LivyClient,
                     workspace: RemoteWorkspace | None, args: list[str] | None = None,
                     class_name: str | None = None, name: str | None = None,
                     stage: str | None = None, dry_run: bool = False) -> BatchPlan:
    """Decide, stage (unless *dry_run*) and return the batch's fields."""
    choice = stage or resolved.profile.batch.stage
    stage_source = "--stage" if stage else resolved.source_of("batch.stage")
    fields = resolved.profile.session.batch_fields()
    plan = BatchPlan(fields)
    local_file = is_local_reference(file)
    path = _local_path(file) if local_file else None
    if path is not None and not path.is_file():
        if path.exists():
            raise ConfigError(f"FILE {file} is not a file", key="FILE")
        if file.startswith("/") and not file.startswith("//"):
            # an absolute path that is not here: a path on the cluster's default file system
            path, local_file = None, False
        else:
            raise ConfigError(f"FILE {file} does not exist (a local path; for a file on the cluster "
                              "give an hdfs:// URI or an absolute remote path)", key="FILE")
    if path is None:
        plan.fields["file"] = file
        plan.sources["file"] = "FILE (remote)"
    else:
        if choice == "auto":
            choice = "never" if await client.is_livyd_sandbox() else "always"
            stage_source += " (auto: " + ("the server is livyd's sandbox" if choice == "never"
                                          else "the server is not livyd's sandbox") + ")"
        plan.stage = choice
        if choice == "never":
            plan.fields["file"] = str(path.resolve())
            plan.sources["file"] = f"FILE, local path not staged ({stage_source})"
        else:
            if workspace is None:
                raise ConfigError(
                    f"FILE {file} is local and must be staged ({stage_source}), but no WebHDFS is "
                    "configured: set webhdfs.url (LIVY_WEBHDFS_URL), give an hdfs:// FILE, or set "
                    "batch.stage = \"never\" if the server can read this machine's files", key="webhdfs.url")
            if dry_run:
                plan.fields["file"] = await _staged_uri(workspace, path)
            else:
                put = await _stage(workspace, path)
                plan.staged.append(put)
                plan.fields["file"] = put.uri
            plan.sources["file"] = f"FILE {file}, staged ({stage_source})"
        # local dependencies from the profile go the same way
        for key, wire, setting in _DEPENDENCY_FIELDS:
            values = list(plan.fields.get(key) or [])
            for i, entry in enumerate(values):
                ref, _, alias = entry.partition("#")
                if not is_local_reference(ref):
                    continue
                dep = _local_path(ref)
                if not dep.is_file():
                    raise ConfigError(f"{resolved.source_of(setting)}: {setting} names {ref}, a local "
                                      "path that does not exist", key=setting)
                if choice == "never":
                    values[i] = str(dep.resolve()) + (f"#{alias}" if alias else "")
                    continue
                assert workspace is not None
                if dry_run:
                    uri = await _staged_uri(workspace, dep)
                else:
                    put = await _stage(workspace, dep)
                    plan.staged.append(put)
                    uri = put.uri
                values[i] = uri + (f"#{alias}" if alias else "")
                plan.sources[f"{wire}[{i}]"] = f"{resolved.source_of(setting)}, staged from {ref}"
            if values:
                plan.fields[key] = values
    if class_name:
        plan.fields["class_name"] = class_name
        plan.sources["className"] = "--class-name"
    if name:
        plan.fields["name"] = name
        plan.sources["name"] = "--name"
    if args:
        plan.fields["args"] = list(args)
        plan.sources["args"] = "ARGS"
    return plan
