"""WebHDFS (livy-rest.md sections 18 and 19.3), backed by a local directory, as a Starlette app.

Written from livy-rest.md, never from livyd's client (this module imports nothing of it), so that
clients nobody here wrote -- HdfsCLI first -- accept it. The HDFS namespace ``/`` is ``data_dir``.

The parts that are easy to get wrong and are deliberately reproduced:

* **The two-step write.** ``CREATE`` (PUT) and ``APPEND`` (POST) are answered with a ``307`` and an
  empty body *without reading the request body* (a NameNode never does; Knox never forwards it),
  and only the second request, to the ``Location``, carries the bytes. ``noredirect=true`` gives
  ``200 {"Location": ...}`` instead. In direct mode the "DataNode" is this same server: the
  ``Location`` is the same path with a DataNode-style query (``namenoderpcaddress=...``), and a
  request carrying ``namenoderpcaddress`` is the data step. In gateway mode the ``Location`` is
  Knox's rewritten data route ``PREFIX/webhdfs/data/v1/webhdfs/v1/<path>?_=<opaque>`` where the
  opaque value encodes the DataNode query (base64, so no host or port appears in clear), and the
  NameNode route treats every request as step 1 -- a client must really use the ``Location``.
  ``Location`` URLs are absolute and built from the request's ``Host``, since clients follow them.
* **Where errors happen.** Existence is checked by the *data* step of CREATE (403
  ``FileAlreadyExistsException`` for ``overwrite=false``), as on a DataNode; OPEN and APPEND check
  the file at step 1 as well, as the NameNode must locate blocks first.
* **Errors** are ``{"RemoteException": {"exception", "javaClassName", "message"}}`` with 18.4's
  status mapping (404 FileNotFound, 400 IllegalArgument/UnsupportedOperation, 403 every other
  IOException) and Hadoop-like messages, because clients match on them (HdfsCLI's upload looks for
  ``does not exist`` and ``not a directory``). ``DELETE`` of a missing path is ``{"boolean": false}``.
* **FileStatus** keys are alphabetical (a Java TreeMap); ``LISTSTATUS`` of a *file* is a one-entry
  list with ``pathSuffix: ""`` -- that is how clients tell "not a directory".
* **Identity**: ``user.name``/``doas`` (direct mode); behind the gateway Knox strips both and asserts
  its authenticated user, so the configured ``user`` is everyone. ``~`` is ``/user/<identity>``.
* **Uploads stream to disk** chunk by chunk into a ``.<name>.<random>._COPYING_`` sibling (the name
  ``hadoop fs -put`` uses) that is renamed into place when complete; ``overwrite=false`` uses a hard
  link so two racing creators cannot both win. An aborted upload leaves nothing behind.
* **Containment**: ``.``/``..``/``:`` components are invalid HDFS names (400), and every path is
  resolved (symlinks included) and must stay inside ``data_dir`` (403 otherwise). Symlinks that
  stay inside are followed; the sandbox never reports ``SYMLINK`` entries.
* **XSRF** (gateway): with ``require_xsrf``, a non-GET request without ``X-XSRF-Header`` gets Knox's
  plain 400, not a RemoteException -- it never reaches "HDFS".

:func:`resolve_hdfs_uri` maps ``hdfs://``/``webhdfs://`` URIs and this server's own URLs to files
under ``data_dir``, for the Livy side (jars, pyFiles, batch files).
"""

from __future__ import annotations

import base64
import binascii
import errno
import json
import os
import shutil
import stat
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

import anyio
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

__all__ = ["create_webhdfs_app", "resolve_hdfs_uri"]

T = TypeVar("T")

#: What a DataNode URL names as the NameNode's RPC address; also the authority of ``hdfs://`` URIs
#: the sandbox hands out.
NAMENODE_RPC = "localhost:8020"
BLOCK_SIZE = 134217728
CHUNK = 512 * 1024  # OPEN reads (each read is one worker-thread hop)
LS_LIMIT = 1000  # dfs.ls.limit: entries per LISTSTATUS_BATCH page

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

# exception simple name -> (javaClassName, HTTP status), livy-rest.md 18.4
_EXCEPTIONS: dict[str, tuple[str, int]] = {
    "FileNotFoundException": ("java.io.FileNotFoundException", 404),
    "FileAlreadyExistsException": ("org.apache.hadoop.fs.FileAlreadyExistsException", 403),
    "PathIsNotEmptyDirectoryException": ("org.apache.hadoop.fs.PathIsNotEmptyDirectoryException", 403),
    "ParentNotDirectoryException": ("org.apache.hadoop.fs.ParentNotDirectoryException", 403),
    "AccessControlException": ("org.apache.hadoop.security.AccessControlException", 403),
    "IOException": ("java.io.IOException", 403),
    "InvalidPathException": ("org.apache.hadoop.fs.InvalidPathException", 400),
    "IllegalArgumentException": ("java.lang.IllegalArgumentException", 400),
    "UnsupportedOperationException": ("java.lang.UnsupportedOperationException", 400),
    "RuntimeException": ("java.lang.RuntimeException", 500),
}

_OPS: dict[str, tuple[str, frozenset[str]]] = {
    "GET": ("GetOpParam", frozenset({"OPEN", "GETFILESTATUS", "LISTSTATUS", "LISTSTATUS_BATCH",
                                     "GETCONTENTSUMMARY", "GETHOMEDIRECTORY", "GETFILECHECKSUM",
                                     "GETACLSTATUS", "GETXATTRS", "LISTXATTRS", "GETTRASHROOT",
                                     "GETDELEGATIONTOKEN", "GETSERVERDEFAULTS"})),
    "PUT": ("PutOpParam", frozenset({"CREATE", "MKDIRS", "RENAME", "SETPERMISSION", "SETOWNER",
                                     "SETTIMES", "SETREPLICATION", "CREATESYMLINK", "SETXATTR",
                                     "REMOVEXATTR", "SETACL", "RENEWDELEGATIONTOKEN",
                                     "CANCELDELEGATIONTOKEN", "CREATESNAPSHOT", "RENAMESNAPSHOT"})),
    "POST": ("PostOpParam", frozenset({"APPEND", "CONCAT", "TRUNCATE", "UNSETSTORAGEPOLICY"})),
    "DELETE": ("DeleteOpParam", frozenset({"DELETE", "DELETESNAPSHOT"})),
}


class HdfsError(Exception):
    """A failure to render as a RemoteException (``kind`` is the simple Java class name)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def _fail(kind: str, message: str) -> NoReturn:
    raise HdfsError(kind, message)


def _remote_exception(exc: HdfsError) -> Response:
    java, status = _EXCEPTIONS[exc.kind]
    body = {"RemoteException": {"exception": exc.kind, "javaClassName": java, "message": exc.message}}
    return _json(body, status)


def _json(obj: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(obj, sort_keys=True, separators=(",", ":")), status_code=status,
                    media_type="application/json", headers=headers)


# --------------------------------------------------------------------------- paths


def _normalize(raw: str, identity: str) -> str:
    """The absolute HDFS path for a URL path (``~`` expanded, ``//`` collapsed), or 400."""
    parts = [p for p in raw.split("/") if p]
    if parts and parts[0] == "~":
        parts = ["user", identity, *parts[1:]]
    path = "/" + "/".join(parts)
    for part in parts:
        if part in (".", "..") or ":" in part or "\x00" in part:
            _fail("InvalidPathException", f"Invalid path name Invalid file name: {path}")
    return path


def _contained(root: Path, candidate: Path) -> bool:
    return candidate == root or root in candidate.parents


def _local(root: Path, hdfs_path: str) -> Path:
    """The file under *root* for a normalized HDFS path; 403 when it would resolve outside."""
    parts = [p for p in hdfs_path.split("/") if p]
    target = root.joinpath(*parts).resolve()
    if not _contained(root, target):
        _fail("AccessControlException",
              f"Permission denied: {hdfs_path} resolves outside the sandbox's HDFS (a symbolic link)")
    return target


def resolve_hdfs_uri(data_dir: Path, uri: str, *, webhdfs_url: str | None = None) -> Path | None:
    """The file under *data_dir* that *uri* names in the sandbox's HDFS, or ``None`` if *uri* is
    not an HDFS URI.

    Understood: ``hdfs:///p``, ``hdfs://host:port/p``, ``webhdfs://host/p`` (and ``swebhdfs``), and
    this server's own WebHDFS URLs ``<webhdfs_url>/p`` (query ignored; ``127.0.0.1`` and
    ``localhost`` are the same host). Local paths, ``file:`` URIs and other URLs give ``None``. The
    file need not exist.

    :raises ValueError: naming *uri*, when it is not a valid HDFS path or would escape *data_dir*.
    """
    try:
        parts = urlsplit(uri)
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme in ("hdfs", "webhdfs", "swebhdfs"):
        raw = unquote(parts.path)
    elif scheme in ("http", "https") and webhdfs_url:
        base = urlsplit(webhdfs_url)
        if not (_same_authority(parts, base) and scheme == base.scheme.lower()):
            return None
        base_path = base.path.rstrip("/")
        if parts.path != base_path and not parts.path.startswith(base_path + "/"):
            return None
        raw = unquote(parts.path[len(base_path):])
    else:
        return None
    root = Path(data_dir).resolve()
    segments = [p for p in raw.split("/") if p]
    if any(p in (".", "..") or "\x00" in p for p in segments):
        raise ValueError(f"{uri!r} is not a valid HDFS path ('.' and '..' are not allowed)")
    target = root.joinpath(*segments).resolve()
    if not _contained(root, target):
        raise ValueError(f"{uri!r} escapes the sandbox's HDFS data directory")
    return target


def _same_authority(a: Any, b: Any) -> bool:
    loopback = {"127.0.0.1", "localhost", "::1"}
    try:
        ports_match = a.port == b.port
    except ValueError:
        return False
    host_a, host_b = (a.hostname or "").lower(), (b.hostname or "").lower()
    return ports_match and (host_a == host_b or (host_a in loopback and host_b in loopback))


# --------------------------------------------------------------------------- parameters


class _Params:
    """Query parameters, case-insensitive by name as in Hadoop (the last value wins)."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.values = {k.lower(): v for k, v in pairs}

    def get(self, name: str) -> str | None:
        return self.values.get(name.lower())

    def boolean(self, name: str, default: bool) -> bool:
        value = self.get(name)
        if value is None or value == "":
            return default
        if value.lower() in ("true", "false"):
            return value.lower() == "true"
        _fail("IllegalArgumentException",
              f'Invalid value for webhdfs parameter "{name}": Failed to parse "{value}" to Boolean.')

    def long(self, name: str, default: int | None) -> int | None:
        value = self.get(name)
        if value is None or value == "" or value.lower() == "null":
            return default
        try:
            number = int(value, 10)
        except ValueError:
            _fail("IllegalArgumentException", f'Invalid value for webhdfs parameter "{name}": '
                  f'Failed to parse "{value}" as a radix-10 long integer.')
        if number < 0:
            _fail("IllegalArgumentException", f'Invalid value for webhdfs parameter "{name}": '
                  f"Invalid parameter range: {name} = {number} < 0")
        return number

    def permission(self, default: int | None) -> int | None:
        value = self.get("permission")
        if value is None or value == "" or value.lower() == "null":
            return default
        try:
            mode = int(value, 8)
        except ValueError:
            _fail("IllegalArgumentException", 'Invalid value for webhdfs parameter "permission": '
                  f'Failed to parse "{value}" as a radix-8 short integer.')
        if not 0 <= mode <= 0o1777:
            _fail("IllegalArgumentException", 'Invalid value for webhdfs parameter "permission": '
                  f"Invalid parameter range: permission = {value} > 1777")
        return mode


# --------------------------------------------------------------------------- file system (blocking)


def _file_status(path: Path, suffix: str, owner: str) -> dict[str, object]:
    st = path.stat()
    is_dir = stat.S_ISDIR(st.st_mode)
    children = 0
    if is_dir:
        try:
            children = sum(1 for _ in os.scandir(path))
        except OSError:
            children = 0
    return {
        "accessTime": 0 if is_dir else int(st.st_atime * 1000),
        "blockSize": 0 if is_dir else BLOCK_SIZE,
        "childrenNum": children,
        "fileId": st.st_ino,
        "group": "supergroup",
        "length": 0 if is_dir else st.st_size,
        "modificationTime": int(st.st_mtime * 1000),
        "owner": owner,
        "pathSuffix": suffix,
        "permission": format(stat.S_IMODE(st.st_mode) & 0o1777, "o"),
        "replication": 0 if is_dir else 1,
        "storagePolicy": 0,
        "type": "DIRECTORY" if is_dir else "FILE",
    }


class _Fs:
    """The blocking file-system half: every method runs in a worker thread."""

    def __init__(self, root: Path, owner: str) -> None:
        self.root = root
        self.owner = owner

    def local(self, hdfs_path: str) -> Path:
        return _local(self.root, hdfs_path)

    def status(self, hdfs_path: str) -> dict[str, object]:
        target = self.local(hdfs_path)
        if not target.exists():
            _fail("FileNotFoundException", f"File does not exist: {hdfs_path}")
        return _file_status(target, "", self.owner)

    def _children(self, hdfs_path: str, target: Path) -> list[dict[str, object]]:
        entries: list[dict[str, object]] = []
        for name in sorted(os.listdir(target), key=lambda n: n.encode("utf-8", "surrogateescape")):
            child = target / name
            try:
                real = child.resolve()
                if not _contained(self.root, real):
                    continue  # a link out of the data dir is not part of HDFS
                entries.append(_file_status(real, name, self.owner))
            except OSError:
                continue  # vanished meanwhile, or a dangling link
        return entries

    def list(self, hdfs_path: str) -> list[dict[str, object]]:
        target = self.local(hdfs_path)
        if not target.exists():
            _fail("FileNotFoundException", f"File {hdfs_path} does not exist.")
        if not target.is_dir():
            return [_file_status(target, "", self.owner)]
        return self._children(hdfs_path, target)

    def list_batch(self, hdfs_path: str, start_after: str | None) -> dict[str, object]:
        entries = self.list(hdfs_path)
        if start_after:
            entries = [e for e in entries if str(e["pathSuffix"]) > start_after]
        page, rest = entries[:LS_LIMIT], entries[LS_LIMIT:]
        return {"DirectoryListing": {"partialListing": {"FileStatuses": {"FileStatus": page}},
                                     "remainingEntries": len(rest)}}

    def content_summary(self, hdfs_path: str) -> dict[str, object]:
        target = self.local(hdfs_path)
        if not target.exists():
            _fail("FileNotFoundException", f"File does not exist: {hdfs_path}")
        files = dirs = size = 0
        if target.is_dir():
            dirs = 1
            for _top, subdirs, names in os.walk(target):
                dirs += len(subdirs)
                for name in names:
                    files += 1
                    try:
                        size += (Path(_top) / name).stat().st_size
                    except OSError:
                        pass
        else:
            files, size = 1, target.stat().st_size
        return {"ContentSummary": {"directoryCount": dirs, "ecPolicy": "", "fileCount": files,
                                   "length": size, "quota": -1, "spaceConsumed": size,
                                   "spaceQuota": -1, "typeQuota": {}}}

    def _ensure_dirs(self, hdfs_path: str, permission: int) -> None:
        """``mkdir -p`` of *hdfs_path*, component by component (403 when a component is a file)."""
        current = self.root
        walked = ""
        for part in [p for p in hdfs_path.split("/") if p]:
            walked += "/" + part
            current = _local(self.root, walked)
            if current.is_dir():
                continue
            try:  # no exists() pre-check: a concurrent request may create it between two calls
                current.mkdir()
                current.chmod(permission)
            except FileExistsError:
                if not current.is_dir():
                    _fail("ParentNotDirectoryException", f"{walked} (is not a directory)")

    def mkdirs(self, hdfs_path: str, permission: int) -> bool:
        target = self.local(hdfs_path)
        if target.exists() and not target.is_dir():
            _fail("FileAlreadyExistsException", f"Path is not a directory: {hdfs_path}")
        self._ensure_dirs(hdfs_path, permission)
        return True

    def prepare_create(self, hdfs_path: str, overwrite: bool) -> tuple[Path, Path]:
        """Check and create parents; return (target, a fresh temporary sibling)."""
        if hdfs_path == "/":
            _fail("FileAlreadyExistsException", "/ already exists as a directory")
        target = self.local(hdfs_path)
        if target.is_dir():
            _fail("FileAlreadyExistsException", f"{hdfs_path} already exists as a directory")
        if target.exists() and not overwrite:
            _fail("FileAlreadyExistsException", f"{hdfs_path} for client 127.0.0.1 already exists")
        parent = hdfs_path.rsplit("/", 1)[0] or "/"
        self._ensure_dirs(parent, 0o755)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name[:100]}.", suffix="._COPYING_", dir=target.parent)
        os.close(fd)
        return target, Path(tmp)

    def commit_create(self, hdfs_path: str, tmp: Path, target: Path, overwrite: bool,
                      permission: int) -> None:
        try:
            tmp.chmod(permission)
            if target.is_dir():
                _fail("FileAlreadyExistsException", f"{hdfs_path} already exists as a directory")
            if overwrite:
                os.replace(tmp, target)
            else:
                try:
                    os.link(tmp, target)
                except FileExistsError:
                    _fail("FileAlreadyExistsException", f"{hdfs_path} for client 127.0.0.1 already exists")
        finally:
            tmp.unlink(missing_ok=True)

    def existing_file(self, hdfs_path: str) -> Path:
        target = self.local(hdfs_path)
        if not target.exists():
            _fail("FileNotFoundException", f"File does not exist: {hdfs_path}")
        if not target.is_file():
            _fail("FileNotFoundException", f"Path is not a file: {hdfs_path}")
        return target

    def delete(self, hdfs_path: str, recursive: bool) -> bool:
        if hdfs_path == "/":
            return False  # HDFS refuses to delete the root, with false
        target = self.local(hdfs_path)
        if not target.exists():
            return False
        if target.is_dir():
            if any(os.scandir(target)):
                if not recursive:
                    _fail("PathIsNotEmptyDirectoryException",
                          f"`{hdfs_path} is non empty': Directory is not empty")
                shutil.rmtree(target)
            else:
                target.rmdir()
        else:
            target.unlink()
        return True

    def rename(self, src: str, dst: str) -> bool:
        if src == "/":
            return False
        if dst == src:
            return self.local(src).exists()
        source = self.local(src)
        if not source.exists():
            return False
        destination = self.local(dst)
        if destination.is_dir():
            destination = destination / source.name
            dst = dst.rstrip("/") + "/" + source.name
        if destination.exists() or not destination.parent.is_dir():
            return False
        if source.is_dir() and _contained(source, destination):
            return False  # into itself
        os.rename(source, destination)
        return True

    def set_permission(self, hdfs_path: str, permission: int) -> None:
        target = self.local(hdfs_path)
        if not target.exists():
            _fail("FileNotFoundException", f"File does not exist: {hdfs_path}")
        target.chmod(permission)

    def set_times(self, hdfs_path: str, mtime: int | None, atime: int | None) -> None:
        target = self.local(hdfs_path)
        if not target.exists():
            _fail("FileNotFoundException", f"File does not exist: {hdfs_path}")
        st = target.stat()
        os.utime(target, (atime / 1000 if atime is not None else st.st_atime,
                          mtime / 1000 if mtime is not None else st.st_mtime))

    def exists(self, hdfs_path: str) -> bool:
        return self.local(hdfs_path).exists()


def _os_error(exc: OSError, hdfs_path: str) -> HdfsError:
    """An OSError from the local file system as the HDFS error a client would see."""
    if isinstance(exc, PermissionError):
        return HdfsError("AccessControlException",
                         f"Permission denied: access to {hdfs_path} refused by the sandbox's file system")
    if isinstance(exc, FileNotFoundError):
        return HdfsError("FileNotFoundException", f"File does not exist: {hdfs_path}")
    if isinstance(exc, NotADirectoryError):
        return HdfsError("ParentNotDirectoryException", f"{hdfs_path} (a parent is not a directory)")
    if exc.errno == errno.ENAMETOOLONG:
        return HdfsError("IllegalArgumentException", f"Invalid path name (too long): {hdfs_path}")
    if exc.errno == errno.ENOSPC:
        return HdfsError("IOException", f"No space left on the sandbox's disk writing {hdfs_path}")
    return HdfsError("IOException", f"{exc.strerror or exc.__class__.__name__}: {hdfs_path}")


# --------------------------------------------------------------------------- the app


class _WebHDFS:
    def __init__(self, data_dir: Path, *, gateway_prefix: str | None, user: str, require_xsrf: bool) -> None:
        self.root = Path(data_dir).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.gateway = "/" + gateway_prefix.strip("/") if gateway_prefix is not None else None
        if self.gateway == "/":
            self.gateway = ""
        self.user = user
        self.require_xsrf = require_xsrf
        self.fs = _Fs(self.root, user)
        prefix = self.gateway or ""
        self.nn_prefix = f"{prefix}/webhdfs/v1"
        self.data_prefix = f"{prefix}/webhdfs/data/v1/webhdfs/v1"

    # ---------------------------------------------------------------- helpers

    async def _run(self, fn: Callable[..., T], *args: Any, hdfs_path: str) -> T:
        try:
            return await anyio.to_thread.run_sync(lambda: fn(*args))
        except OSError as exc:
            raise _os_error(exc, hdfs_path) from None

    def _identity(self, params: _Params) -> str:
        if self.gateway is not None:
            return self.user  # Knox strips doAs/user.name and asserts the authenticated user
        return params.get("doas") or params.get("user.name") or self.user

    @staticmethod
    def _origin(request: Request) -> str:
        return f"{request.url.scheme}://{request.url.netloc}"

    def _data_location(self, request: Request, hdfs_path: str, query: list[tuple[str, str]]) -> str:
        quoted = quote(hdfs_path, safe="/")
        if self.gateway is None:
            return f"{self._origin(request)}{self.nn_prefix}{quoted}?{urlencode(query, safe=':')}"
        opaque = base64.urlsafe_b64encode(urlencode(query).encode()).decode().rstrip("=")
        return f"{self._origin(request)}{self.data_prefix}{quoted}?_={opaque}"

    async def _redirect(self, request: Request, params: _Params, op: str, hdfs_path: str,
                        identity: str, extra: list[tuple[str, str]]) -> Response:
        query = [("op", op), ("user.name", identity), ("namenoderpcaddress", NAMENODE_RPC), *extra]
        location = self._data_location(request, hdfs_path, query)
        if params.boolean("noredirect", False):
            return _json({"Location": location})
        return Response(b"", status_code=307, headers={"Location": location})

    # ---------------------------------------------------------------- entry point

    async def handle(self, request: Request) -> Response:
        """Answer one WebHDFS request (a Starlette endpoint)."""
        method = request.method.upper()
        if self.require_xsrf and method not in _SAFE_METHODS and "x-xsrf-header" not in request.headers:
            return Response(b"Missing Required Header for CSRF Vulnerability Protection\n", status_code=400,
                            media_type="text/plain")
        path = request.url.path
        data_step = False
        if self.gateway is not None and (path == self.data_prefix or path.startswith(self.data_prefix + "/")):
            raw = path[len(self.data_prefix):]
            try:
                opaque = request.query_params.get("_") or ""
                decoded = base64.urlsafe_b64decode(opaque + "=" * (-len(opaque) % 4)).decode()
                pairs = parse_qsl(decoded, keep_blank_values=True, strict_parsing=True)
            except (ValueError, binascii.Error, UnicodeDecodeError):
                pairs = []
            if not pairs:
                return Response(b"Missing or invalid '_' parameter on the gateway's data route\n",
                                status_code=400, media_type="text/plain")
            data_step = True
        elif path == self.nn_prefix or path.startswith(self.nn_prefix + "/"):
            raw = path[len(self.nn_prefix):]
            pairs = request.query_params.multi_items()
        else:
            return Response(f"Not found: {path} (WebHDFS is at {self.nn_prefix})\n".encode(), status_code=404,
                            media_type="text/plain")
        params = _Params(pairs)
        if self.gateway is None and params.get("namenoderpcaddress") is not None:
            data_step = True
        hdfs_path = "/"
        try:
            identity = self._identity(params)
            hdfs_path = _normalize(raw, identity)
            op = self._op(method, params)
            return await self._dispatch(request, method, op, params, hdfs_path, identity, data_step)
        except HdfsError as exc:
            return _remote_exception(exc)
        except OSError as exc:
            return _remote_exception(_os_error(exc, hdfs_path))

    @staticmethod
    def _op(method: str, params: _Params) -> str:
        enum_class, known = _OPS.get("GET" if method == "HEAD" else method, ("", frozenset()))
        if not enum_class:
            _fail("UnsupportedOperationException", f"HTTP method {method} is not supported by WebHDFS")
        op = params.get("op")
        if op is None or op == "":
            _fail("UnsupportedOperationException", "op=NULL is not supported")
        name = op.upper()
        if name not in known:
            _fail("IllegalArgumentException", f'Invalid value for webhdfs parameter "op": No enum constant '
                  f"org.apache.hadoop.hdfs.web.resources.{enum_class}.Op.{name}")
        return name

    async def _dispatch(self, request: Request, method: str, op: str, params: _Params, hdfs_path: str,
                        identity: str, data_step: bool) -> Response:
        fs = self.fs
        run = self._run
        if op == "GETHOMEDIRECTORY":
            return _json({"Path": f"/user/{identity}"})
        if op == "GETFILESTATUS":
            return _json({"FileStatus": await run(fs.status, hdfs_path, hdfs_path=hdfs_path)})
        if op == "LISTSTATUS":
            entries = await run(fs.list, hdfs_path, hdfs_path=hdfs_path)
            return _json({"FileStatuses": {"FileStatus": entries}})
        if op == "LISTSTATUS_BATCH":
            return _json(await run(fs.list_batch, hdfs_path, params.get("startAfter"), hdfs_path=hdfs_path))
        if op == "GETCONTENTSUMMARY":
            return _json(await run(fs.content_summary, hdfs_path, hdfs_path=hdfs_path))
        if op == "MKDIRS":
            mode = params.permission(0o755)
            assert mode is not None
            return _json({"boolean": await run(fs.mkdirs, hdfs_path, mode, hdfs_path=hdfs_path)})
        if op == "DELETE":
            recursive = params.boolean("recursive", False)
            return _json({"boolean": await run(fs.delete, hdfs_path, recursive, hdfs_path=hdfs_path)})
        if op == "RENAME":
            destination = params.get("destination")
            if not destination or not destination.startswith("/"):
                _fail("IllegalArgumentException", 'Invalid value for webhdfs parameter "destination": '
                      f"{destination or 'null'} is not an absolute path")
            dst = _normalize(destination, identity)
            return _json({"boolean": await run(fs.rename, hdfs_path, dst, hdfs_path=hdfs_path)})
        if op == "SETPERMISSION":
            mode = params.permission(0o755)
            assert mode is not None
            await run(fs.set_permission, hdfs_path, mode, hdfs_path=hdfs_path)
            return Response(b"", status_code=200, media_type="application/octet-stream")
        if op == "SETTIMES":
            mtime = params.long("modificationtime", None)
            atime = params.long("accesstime", None)
            await run(fs.set_times, hdfs_path, mtime, atime, hdfs_path=hdfs_path)
            return Response(b"", status_code=200, media_type="application/octet-stream")
        if op in ("SETOWNER", "SETREPLICATION"):
            if not await run(fs.exists, hdfs_path, hdfs_path=hdfs_path):
                _fail("FileNotFoundException", f"File does not exist: {hdfs_path}")
            if op == "SETREPLICATION":
                return _json({"boolean": True})
            return Response(b"", status_code=200, media_type="application/octet-stream")
        if op == "CREATE":
            return await self._create(request, params, hdfs_path, identity, data_step)
        if op == "APPEND":
            return await self._append(request, params, hdfs_path, identity, data_step)
        if op == "OPEN":
            return await self._open(request, params, hdfs_path, identity, data_step)
        _fail("UnsupportedOperationException", f"{op} is not supported by the livyd sandbox")

    # ---------------------------------------------------------------- two-step operations

    async def _create(self, request: Request, params: _Params, hdfs_path: str, identity: str,
                      data_step: bool) -> Response:
        overwrite = params.boolean("overwrite", False)
        permission = params.permission(0o644)
        assert permission is not None
        if not data_step:
            # Step 1 (NameNode): no existence check, no body read.
            extra = [("createflag", ""), ("createparent", "true"), ("overwrite", str(overwrite).lower())]
            if params.get("permission"):
                extra.append(("permission", format(permission, "o")))
            return await self._redirect(request, params, "CREATE", hdfs_path, identity, extra)
        target, tmp = await self._run(self.fs.prepare_create, hdfs_path, overwrite, hdfs_path=hdfs_path)
        try:
            await self._receive(request, tmp, hdfs_path, append=False)
            await self._run(self.fs.commit_create, hdfs_path, tmp, target, overwrite, permission,
                            hdfs_path=hdfs_path)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(lambda: tmp.unlink(missing_ok=True))
            raise
        return Response(b"", status_code=201, headers={
            "Location": f"hdfs://{NAMENODE_RPC}{quote(hdfs_path, safe='/')}",
            "Access-Control-Allow-Origin": "*"})

    async def _append(self, request: Request, params: _Params, hdfs_path: str, identity: str,
                      data_step: bool) -> Response:
        target = await self._run(self.fs.existing_file, hdfs_path, hdfs_path=hdfs_path)
        if not data_step:
            return await self._redirect(request, params, "APPEND", hdfs_path, identity, [])
        await self._receive(request, target, hdfs_path, append=True)
        return Response(b"", status_code=200, media_type="application/octet-stream")

    async def _receive(self, request: Request, dest: Path, hdfs_path: str, *, append: bool) -> None:
        """Stream the request body into *dest*, chunk by chunk."""
        try:
            async with await anyio.open_file(dest, "ab" if append else "wb") as f:
                pending = bytearray()  # the network delivers ~64 KiB pieces: write in bigger ones
                async for chunk in request.stream():
                    pending += chunk
                    if len(pending) >= CHUNK:
                        await f.write(bytes(pending))
                        pending.clear()
                if pending:
                    await f.write(bytes(pending))
        except ClientDisconnect:
            raise HdfsError("IOException", f"the client went away while writing {hdfs_path}") from None
        except OSError as exc:
            raise _os_error(exc, hdfs_path) from None

    async def _open(self, request: Request, params: _Params, hdfs_path: str, identity: str,
                    data_step: bool) -> Response:
        offset = params.long("offset", 0) or 0
        length = params.long("length", None)
        target = await self._run(self.fs.existing_file, hdfs_path, hdfs_path=hdfs_path)
        if not data_step:
            extra = [("offset", str(offset))]
            if length is not None:
                extra.append(("length", str(length)))
            return await self._redirect(request, params, "OPEN", hdfs_path, identity, extra)
        size = (await self._run(target.stat, hdfs_path=hdfs_path)).st_size
        if offset > size:
            _fail("IOException", f"Offset={offset} out of the range [0, {size}]; path={hdfs_path}")
        count = size - offset if length is None else min(length, size - offset)

        async def body() -> AsyncIterator[bytes]:
            remaining = count
            async with await anyio.open_file(target, "rb") as f:
                await f.seek(offset)
                while remaining > 0:
                    chunk = await f.read(min(CHUNK, remaining))
                    if not chunk:
                        break
                    remaining -= len(chunk)
                    yield chunk

        return StreamingResponse(body(), media_type="application/octet-stream",
                                 headers={"Content-Length": str(count)})


def create_webhdfs_app(data_dir: Path, *, gateway_prefix: str | None = None, user: str,
                       require_xsrf: bool = False) -> Starlette:
    """The WebHDFS app for *data_dir*, serving full paths.

    Direct mode serves ``/webhdfs/v1/<path>``, and is also the "DataNode" of the two-step
    operations. With *gateway_prefix* (Knox, livy-rest.md 19) it serves
    ``<gateway_prefix>/webhdfs/v1/<path>`` and the data route
    ``<gateway_prefix>/webhdfs/data/v1/webhdfs/v1/<path>?_=<opaque>``, and every request acts as
    *user*. *user* is also the default identity (no ``user.name``) and every file's owner.
    *require_xsrf* rejects non-GET requests without ``X-XSRF-Header`` with Knox's plain 400.
    """
    handler = _WebHDFS(data_dir, gateway_prefix=gateway_prefix, user=user, require_xsrf=require_xsrf)
    methods = ["GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS", "PATCH"]
    return Starlette(routes=[Route("/{rest:path}", handler.handle, methods=methods)])
