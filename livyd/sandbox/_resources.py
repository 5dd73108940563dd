"""Where ``jars`` / ``pyFiles`` / ``files`` / ``archives`` / batch ``file`` URIs point on this machine.

Real Livy prepends ``fs.defaultFS`` to scheme-less paths (so ``/apps/x.py`` is an HDFS path),
requires them to be absolute (``Path 'x' is not absolute.``), and accepts ``file:`` URIs only under
``livy.file.local-dir-whitelist``. The sandbox behaves as if that whitelist covered the machine,
and as if its own WebHDFS (backed by ``--data-dir``) were the cluster file system:

* ``hdfs:///p``, ``hdfs://host:port/p``, ``webhdfs://...`` and the sandbox's WebHDFS URLs map to
  ``DATA_DIR/p`` (via the WebHDFS module's :func:`resolve_hdfs_uri`, which refuses escapes);
* ``file:///p`` and plain absolute paths that do not exist in the sandbox's HDFS are local files;
* anything else (``s3a://``, relative paths, missing files) is refused with a message naming
  the field and the URI, because a sandbox session that dies later is a worse error.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

__all__ = ["ResourceError", "Staged", "resolve_resource", "split_alias"]


class ResourceError(ValueError):
    """A URI the sandbox cannot serve; the message names the field and the URI."""


@dataclass(frozen=True)
class Staged:
    """A ``files`` / ``archives`` entry on this machine, with YARN's ``#alias``: the name it gets
    in the working directory (``deps.zip#deps`` is extracted into ``./deps``)."""

    path: Path
    alias: str | None = None

    @property
    def name(self) -> str:
        return self.alias or self.path.name

    def spec(self) -> str:
        """``path#alias`` (what the REPL worker's add_path takes)."""
        return f"{self.path}#{self.alias}" if self.alias else str(self.path)


def split_alias(uri: str, *, field: str) -> tuple[str, str | None]:
    """``'hdfs:///x/deps.zip#deps'`` -> ``('hdfs:///x/deps.zip', 'deps')``.

    :raises ResourceError: an empty alias, or one that is not a plain name."""
    if "#" not in uri:
        return uri, None
    base, alias = uri.rsplit("#", 1)
    if not alias or "/" in alias or "\\" in alias or alias in (".", ".."):
        raise ResourceError(f"{field}: {uri!r}: the alias after '#' must be a plain file name")
    return base, alias


def resolve_resource(uri: str, *, field: str, data_dir: Path, webhdfs_url: str | None) -> Path:
    """Map *uri* (from request field *field*) to an existing local path.

    :raises ResourceError: relative, unsupported scheme, escaping the data dir, or missing.
    """
    from livyd.sandbox._webhdfs import resolve_hdfs_uri

    if not uri:
        raise ResourceError(f"{field}: empty path")
    try:
        hdfs_path = resolve_hdfs_uri(data_dir, uri, webhdfs_url=webhdfs_url)
    except ValueError as exc:
        raise ResourceError(f"{field}: {exc}") from None
    if hdfs_path is not None:
        if not hdfs_path.exists():
            raise ResourceError(f"{field}: {uri!r} does not exist in the sandbox's HDFS ({data_dir})")
        return Path(hdfs_path)
    parts = urlsplit(uri)
    if parts.scheme == "file":
        local = Path(unquote(parts.path))
        if not local.is_absolute():
            raise ResourceError(f"Path '{uri}' is not absolute.")
    elif parts.scheme == "" or (len(parts.scheme) == 1 and uri[1:3] == ":\\"):
        if not uri.startswith("/"):
            raise ResourceError(f"Path '{uri}' is not absolute.")
        # fs.defaultFS first: a scheme-less path is an HDFS path in real Livy.
        try:
            in_hdfs = resolve_hdfs_uri(data_dir, "hdfs://" + uri, webhdfs_url=webhdfs_url)
        except ValueError:
            in_hdfs = None
        if in_hdfs is not None and in_hdfs.exists():
            return Path(in_hdfs)
        local = Path(uri)
    else:
        raise ResourceError(
            f"{field}: {uri!r} uses the scheme {parts.scheme!r}, which the sandbox cannot read "
            "(use a local path, a file:// URI, or an hdfs:/// path into the sandbox's WebHDFS)"
        )
    if not local.exists():
        raise ResourceError(f"{field}: {uri!r} does not exist (neither in the sandbox's HDFS nor locally)")
    return local

