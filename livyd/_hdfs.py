"""The remote workspace: WebHDFS with guard rails and an upload cache.

:class:`RemoteWorkspace` wraps a :class:`~livyd.WebHDFSClient` with what the development loop
needs on top of raw WebHDFS:

* **A base dir.** Every profile has a remote base dir (``webhdfs.base_dir`` / ``LIVY_REMOTE_DIR``;
  relative paths are relative to the HDFS home; default ``<home>/livyd``). Relative remote paths
  given to the workspace are relative to it.
* **Safety.** Deleting, and overwriting an existing file, are limited to paths strictly inside the
  base dir unless forced; ``/``, the home directory and their ancestors are refused even when
  forced (the rule is :func:`livyd._core.remotepaths.check_mutation`). A refusal is an
  :class:`UnsafeRemotePathError` (a :class:`~livyd.ConfigError`: exit status 2 in the CLI).
* **An upload cache.** Each upload records the file's SHA-256 and what HDFS then reported (length
  and modification time) in a local JSON file (``$LIVYD_CACHE_DIR/uploads.json``, else the user
  cache dir). Uploading the same content to the same place again costs one ``GETFILESTATUS``
  and sends nothing, unless the remote file changed (someone else wrote it) or vanished.
* **Owner-only files.** Uploads default to permission ``600`` and created dirs to ``700``.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

from livyd._core.remotepaths import RemotePathRefused, check_mutation
from livyd._exceptions import ConfigError
from livyd._logging import get_logger
from livyd._webhdfs import FileStatus, ProgressCallback, WebHDFSClient

__all__ = ["DEFAULT_BASE_NAME", "RemoteWorkspace", "UnsafeRemotePathError", "UploadCache", "UploadResult",
           "file_sha256"]

log = get_logger("livyd.hdfs")

#: The base dir under the HDFS home when none is configured.
DEFAULT_BASE_NAME = "livyd"
_HASH_CHUNK = 1024 * 1024


class UnsafeRemotePathError(ConfigError):
    """A delete or overwrite outside the remote base dir (without force), or of ``/`` or the home."""

    code = "unsafe-path"

    def __init__(self, message: str, *, path: str, forceable: bool) -> None:
        super().__init__(message, key="path")
        self.path = path
        self.forceable = forceable


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, read in 1 MiB chunks (blocking: call it in a worker thread)."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _cache_path(env: dict[str, str] | None = None) -> Path:
    env = dict(os.environ) if env is None else env
    override = env.get("LIVYD_CACHE_DIR")
    if override:
        return Path(override) / "uploads.json"
    import platformdirs

    return Path(platformdirs.user_cache_dir("livyd", appauthor=False)) / "uploads.json"


class UploadCache:
    """What was uploaded where, by content hash: ``{key: {"sha256", "length", "mtime"}}``.

    The file is rewritten atomically (a temporary sibling renamed into place, mode 0600); a
    corrupt or unreadable cache is treated as empty (it only ever saves work).
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or _cache_path()
        self._data: dict[str, dict[str, Any]] | None = None

    def _load(self) -> dict[str, dict[str, Any]]:
        if self._data is None:
            try:
                raw = json.loads(self.path.read_text(encoding="utf-8"))
                self._data = raw if isinstance(raw, dict) else {}
            except (OSError, ValueError):
                self._data = {}
        return self._data

    def get(self, key: str) -> dict[str, Any] | None:
        entry = self._load().get(key)
        return entry if isinstance(entry, dict) else None

    def put(self, key: str, entry: dict[str, Any]) -> None:
        data = self._load()
        data[key] = entry
        self._write(data)

    def forget(self, prefix: str) -> None:
        """Drop every entry whose key starts with *prefix* (a deleted remote path or dir)."""
        data = self._load()
        gone = [k for k in data if k == prefix or k.startswith(prefix.rstrip("/") + "/")]
        if gone:
            for k in gone:
                del data[k]
            self._write(data)

    def _write(self, data: dict[str, dict[str, Any]]) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(prefix=".uploads.", suffix=".json", dir=self.path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f, indent=1, sort_keys=True)
            os.replace(tmp, self.path)
        except OSError as exc:  # a cache that cannot be written only costs re-uploads
            log.warning("upload cache not written", path=str(self.path), error=str(exc))


@dataclass(frozen=True)
class UploadResult:
    """One file put by :meth:`RemoteWorkspace.put`; ``uploaded`` is False when the cache spared it."""

    local: Path
    remote: str
    uploaded: bool
    size: int
    sha256: str

    @property
    def uri(self) -> str:
        """``hdfs:///path``: what Livy's ``pyFiles`` / ``files`` / ``jars`` / batch ``file`` take."""
        return "hdfs://" + self.remote


class RemoteWorkspace:
    """WebHDFS limited to a base dir, with an upload cache. Does not own *hdfs* (close it yourself).

    :param base_dir: absolute, or relative to the HDFS home; ``None``: ``<home>/livyd``.
    :param cache: the upload cache (``None``: the default file; ``False``: no cache).
    """

    def __init__(self, hdfs: WebHDFSClient, *, base_dir: str | None = None,
                 cache: UploadCache | bool | None = None) -> None:
        self.hdfs = hdfs
        self._configured_base = base_dir
        self._base: str | None = None
        self.cache: UploadCache | None = (UploadCache() if cache is None or cache is True
                                          else cache or None)
        #: every file actually sent through :meth:`put` (what "second deploy sends no file" counts)
        self.sent: list[str] = []

    async def base(self) -> str:
        """The absolute base dir."""
        if self._base is None:
            home = await self.hdfs.home()
            configured = self._configured_base or DEFAULT_BASE_NAME
            if configured == "~" or configured.startswith("~/"):
                configured = home + configured[1:]
            self._base = (posixpath.normpath(configured) if configured.startswith("/")
                          else posixpath.normpath(posixpath.join(home, configured)))
        return self._base

    async def resolve(self, path: str | None) -> str:
        """An absolute remote path: absolute as is, ``~/...`` under the home, else under the base."""
        base = await self.base()
        if not path:
            return base
        if path == "~" or path.startswith("~/"):
            return posixpath.normpath((await self.hdfs.home()) + path[1:])
        if path.startswith("hdfs://"):
            path = "/" + path.removeprefix("hdfs://").split("/", 1)[-1]
        if path.startswith("/"):
            return posixpath.normpath(path)
        return posixpath.normpath(posixpath.join(base, path))

    async def check(self, path: str, *, action: str, force: bool = False) -> str:
        """The absolute path when *action* may touch it; else :class:`UnsafeRemotePathError`."""
        absolute = await self.resolve(path)
        try:
            return check_mutation(absolute, base_dir=await self.base(), home=await self.hdfs.home(),
                                  action=action, force=force)
        except RemotePathRefused as exc:
            raise UnsafeRemotePathError(str(exc), path=exc.path, forceable=exc.forceable) from None

    def _key(self, remote: str) -> str:
        return f"{self.hdfs.url}|{remote}"

    async def ensure_dir(self, path: str | None = None, *, permission: str = "700") -> str:
        """Create *path* if missing; returns the absolute path.

        Only the directory itself gets *permission* (owner-only by default, ``SETPERMISSION``):
        missing ancestors get the server's default, as ``hdfs dfs -mkdir -p`` gives them, so that
        creating ``/user/alice/x`` on a fresh file system never makes ``/user`` alice's alone.
        An existing directory is left as it is (it may not be ours to change).
        """
        absolute = await self.resolve(path)
        existing = await self.hdfs.status(absolute)
        if existing is None:
            await self.hdfs.mkdirs(absolute)
            await self.hdfs.set_permission(absolute, permission)
        elif not existing.is_dir:
            raise ConfigError(f"{absolute} exists on HDFS and is not a directory", key="path")
        return absolute

    async def put(self, local: Path, remote: str | None = None, *, overwrite: bool = True,
                  force: bool = False, progress: ProgressCallback | None = None,
                  permission: str = "600", use_cache: bool = True) -> UploadResult:
        """Upload *local* to *remote* (default: ``<base>/<name>``; a remote ending in ``/`` is a dir).

        Skipped when the cache shows the same content already there. Overwriting an existing file
        outside the base dir needs *force*.
        """
        local = Path(os.path.expanduser(local))  # noqa: ASYNC240 (no I/O)
        if not await anyio.to_thread.run_sync(local.is_file):
            raise ConfigError(f"{local}: no such local file to upload", key="path")
        if remote is None or remote.endswith("/"):
            remote = (remote or "") + local.name
        target = await self.resolve(remote)
        size = (await anyio.to_thread.run_sync(local.stat)).st_size
        sha = await anyio.to_thread.run_sync(file_sha256, local)
        existing = await self.hdfs.status(target)
        if existing is not None and existing.is_dir:
            target = posixpath.join(target, local.name)
            existing = await self.hdfs.status(target)
        if existing is not None:
            if not overwrite:
                raise ConfigError(f"{target} already exists on HDFS (overwrite it with --overwrite)",
                                  key="path")
            await self.check(target, action="overwrite", force=force)
            entry = self.cache.get(self._key(target)) if (self.cache and use_cache) else None
            if (entry and entry.get("sha256") == sha and entry.get("length") == existing.length == size
                    and entry.get("mtime") == existing.modification_time):
                log.debug("upload skipped: unchanged", path=target)
                if progress is not None:
                    progress(size, size)
                return UploadResult(local, target, False, size, sha)
        await self.ensure_dir(posixpath.dirname(target))
        await self.hdfs.upload(target, local, overwrite=existing is not None, permission=permission,
                               progress=progress)
        self.sent.append(target)
        if self.cache is not None:
            st = await self.hdfs.status(target)
            if st is not None:
                self.cache.put(self._key(target), {"sha256": sha, "length": st.length,
                                                   "mtime": st.modification_time})
        return UploadResult(local, target, True, size, sha)

    async def put_bytes(self, data: bytes, remote: str, *, force: bool = False,
                        permission: str = "600") -> UploadResult:
        """Upload in-memory bytes (through a private temporary file, so the cache applies)."""
        with tempfile.TemporaryDirectory(prefix="livyd-put-") as tmp:
            path = Path(tmp) / posixpath.basename(remote)
            await anyio.Path(path).write_bytes(data)
            return await self.put(path, remote, force=force, permission=permission)

    async def get(self, remote: str, dest: Path, *, progress: ProgressCallback | None = None) -> Path:
        """Download *remote* into *dest* (a file, or an existing directory)."""
        result = await self.hdfs.download(await self.resolve(remote), Path(dest), progress=progress)
        assert isinstance(result, Path)
        return result

    async def ls(self, path: str | None = None) -> list[FileStatus]:
        """The entries of a directory (or the one entry of a file)."""
        target = await self.resolve(path)
        st = await self.hdfs.status(target)
        if st is None:
            from livyd._exceptions import WebHDFSError

            raise WebHDFSError(f"{target}: no such file or directory on HDFS", status=404,
                               exception="FileNotFoundException")
        if not st.is_dir:
            return [st]
        return await self.hdfs.list(target)

    async def mkdir(self, path: str, *, permission: str = "700") -> str:
        return await self.ensure_dir(path, permission=permission)

    async def rm(self, path: str, *, recursive: bool = False, force: bool = False) -> bool:
        """Delete (refused outside the base dir without *force*; never ``/`` or the home)."""
        target = await self.check(path, action="delete", force=force)
        deleted = await self.hdfs.delete(target, recursive=recursive)
        if self.cache is not None:
            self.cache.forget(self._key(target))
        return deleted


def workspace_for(resolved: Any, *, url: str | None = None, use_auth: bool = True,
                  interactive: bool = False, cache: UploadCache | bool | None = None
                  ) -> tuple[WebHDFSClient, RemoteWorkspace] | None:
    """``(client, workspace)`` for the profile's WebHDFS (``webhdfs.url`` / ``LIVY_WEBHDFS_URL``, or
    *url*, e.g. the embedded sandbox's), base dir ``webhdfs.base_dir`` / ``LIVY_REMOTE_DIR``;
    ``None`` when no WebHDFS URL is known. Close the client when done."""
    from livyd._connect import build_webhdfs_client

    target = url or resolved.profile.webhdfs.url
    if not target:
        return None
    client = build_webhdfs_client(resolved, url=target, use_auth=use_auth, interactive=interactive)
    return client, RemoteWorkspace(client, base_dir=resolved.profile.webhdfs.base_dir, cache=cache)
