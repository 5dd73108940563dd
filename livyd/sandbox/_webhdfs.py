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
  The configured ``user`` is HDFS's superuser; every other identity is checked as the NameNode
  checks it, and owns what it creates (owners, groups, ACLs, snapshots, times, replication:
  livyd.sandbox._hdfsfs and _hdfsmeta).
* **Paths are decoded exactly once, from the raw request path**: ``%3F``/``%23`` are a ``?``/``#``
  in a name, ``%253F`` is the literal text ``%3F``, and a redirect's ``Location`` encodes the name
  again (``%`` as ``%25``).
* **Operations**: every op of WebHDFS.md is known; unknown names are ``No enum constant ...``
  (400), and the few the sandbox does not serve (xattrs, quotas, EC, storage policies, snapshot
  diffs, tokens, CONCAT/TRUNCATE, symlinks) are a NameNode's ``UnsupportedOperationException``
  ``<OP> is not supported`` (400). GETFILECHECKSUM is two steps like OPEN.
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
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qsl, quote, unquote, unquote_to_bytes, urlencode, urlsplit

import anyio
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from livyd.sandbox._hdfsfs import HdfsError, HdfsFs, contained, os_error
from livyd.sandbox._hdfsfs import fail as _fail
from livyd.sandbox._hdfsmeta import PermissionChecker

__all__ = ["create_webhdfs_app", "resolve_hdfs_uri"]

T = TypeVar("T")

#: What a DataNode URL names as the NameNode's RPC address; also the authority of ``hdfs://`` URIs
#: the sandbox hands out.
NAMENODE_RPC = "localhost:8020"
CHUNK = 512 * 1024  # OPEN reads (each read is one worker-thread hop)

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

# exception simple name -> (javaClassName, HTTP status), livy-rest.md 18.4
_EXCEPTIONS: dict[str, tuple[str, int]] = {
    "FileNotFoundException": ("java.io.FileNotFoundException", 404),
    "FileAlreadyExistsException": ("org.apache.hadoop.fs.FileAlreadyExistsException", 403),
    "PathIsNotEmptyDirectoryException": ("org.apache.hadoop.fs.PathIsNotEmptyDirectoryException", 403),
    "ParentNotDirectoryException": ("org.apache.hadoop.fs.ParentNotDirectoryException", 403),
    "AccessControlException": ("org.apache.hadoop.security.AccessControlException", 403),
    "IOException": ("java.io.IOException", 403),
    "PathIsNotDirectoryException": ("org.apache.hadoop.fs.PathIsNotDirectoryException", 403),
    "SnapshotException": ("org.apache.hadoop.hdfs.protocol.SnapshotException", 403),
    "SnapshotAccessControlException": ("org.apache.hadoop.hdfs.protocol.SnapshotAccessControlException", 403),
    "InvalidPathException": ("org.apache.hadoop.fs.InvalidPathException", 400),
    "HadoopIllegalArgumentException": ("org.apache.hadoop.HadoopIllegalArgumentException", 400),
    "IllegalArgumentException": ("java.lang.IllegalArgumentException", 400),
    "UnsupportedOperationException": ("java.lang.UnsupportedOperationException", 400),
    "RuntimeException": ("java.lang.RuntimeException", 500),
}

# Every operation of WebHDFS.md / the *OpParam enums (Hadoop 3.4): anything else is "No enum
# constant"; the ones in _UNSUPPORTED are answered as a NameNode answers an op it does not serve.
_OPS: dict[str, tuple[str, frozenset[str]]] = {
    "GET": ("GetOpParam", frozenset({
        "OPEN", "GETFILESTATUS", "LISTSTATUS", "LISTSTATUS_BATCH", "GETCONTENTSUMMARY", "GETQUOTAUSAGE",
        "GETFILECHECKSUM", "GETHOMEDIRECTORY", "GETDELEGATIONTOKEN", "GET_BLOCK_LOCATIONS", "GETACLSTATUS",
        "GETXATTRS", "GETTRASHROOT", "LISTXATTRS", "GETALLSTORAGEPOLICY", "GETSTORAGEPOLICY", "CHECKACCESS",
        "GETSERVERDEFAULTS", "GETSNAPSHOTDIFF", "GETSNAPSHOTDIFFLISTING", "GETSNAPSHOTTABLEDIRECTORYLIST",
        "GETSNAPSHOTLIST", "GETFILEBLOCKLOCATIONS", "GETECPOLICY", "GETLINKTARGET", "GETFILELINKSTATUS",
        "GETSTATUS", "GETECPOLICIES", "GETTRASHROOTS"})),
    "PUT": ("PutOpParam", frozenset({
        "CREATE", "MKDIRS", "CREATESYMLINK", "RENAME", "SETREPLICATION", "SETOWNER", "SETPERMISSION",
        "SETTIMES", "RENEWDELEGATIONTOKEN", "CANCELDELEGATIONTOKEN", "MODIFYACLENTRIES", "REMOVEACLENTRIES",
        "REMOVEDEFAULTACL", "REMOVEACL", "SETACL", "SETXATTR", "REMOVEXATTR", "ALLOWSNAPSHOT",
        "DISALLOWSNAPSHOT", "CREATESNAPSHOT", "RENAMESNAPSHOT", "SETSTORAGEPOLICY", "SATISFYSTORAGEPOLICY",
        "ENABLEECPOLICY", "DISABLEECPOLICY", "SETECPOLICY", "SETQUOTA", "SETQUOTABYSTORAGETYPE"})),
    "POST": ("PostOpParam", frozenset({"APPEND", "CONCAT", "TRUNCATE", "UNSETSTORAGEPOLICY",
                                       "UNSETECPOLICY"})),
    "DELETE": ("DeleteOpParam", frozenset({"DELETE", "DELETESNAPSHOT"})),
}

_ACL_OPS = frozenset({"SETACL", "MODIFYACLENTRIES", "REMOVEACLENTRIES", "REMOVEDEFAULTACL", "REMOVEACL"})


def _remote_exception(exc: HdfsError) -> Response:
    java, status = _EXCEPTIONS[exc.kind]
    body = {"RemoteException": {"exception": exc.kind, "javaClassName": java, "message": exc.message}}
    return _json(body, status)


def _empty() -> Response:
    """HDFS's zero-length 200 (SETPERMISSION, SETOWNER, snapshots, ACLs...)."""
    return Response(b"", status_code=200, media_type="application/octet-stream")


def _json(obj: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(obj, sort_keys=True, separators=(",", ":")), status_code=status,
                    media_type="application/json", headers=headers)


# --------------------------------------------------------------------------- paths


def _decode(raw: str) -> str:
    """Percent-decode a raw URL path once (UTF-8; invalid bytes kept as surrogates)."""
    return unquote_to_bytes(raw).decode("utf-8", "surrogateescape")


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
    if not contained(root, target):
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

    def long(self, name: str, default: int | None, *, minimum: int | None = 0) -> int | None:
        value = self.get(name)
        if value is None or value == "" or value.lower() == "null":
            return default
        try:
            number = int(value, 10)
        except ValueError:
            _fail("IllegalArgumentException", f'Invalid value for webhdfs parameter "{name}": '
                  f'Failed to parse "{value}" as a radix-10 long integer.')
        if minimum is not None and number < minimum:
            _fail("IllegalArgumentException", f'Invalid value for webhdfs parameter "{name}": '
                  f"Invalid parameter range: {name} = {number} < {minimum}")
        return number

    def fs_action(self) -> int:
        """``fsaction`` (CHECKACCESS): ``rwx``-style, as FsActionParam's pattern."""
        value = self.get("fsaction") or ""
        if len(value) != 3 or any(c not in (flag, "-") for c, flag in zip(value, "rwx", strict=True)):
            _fail("IllegalArgumentException", f'Invalid value for webhdfs parameter "fsaction": '
                  f'"{value or "null"}" does not match the pattern [r-][w-][x-]')
        return (4 if value[0] == "r" else 0) | (2 if value[1] == "w" else 0) | (1 if value[2] == "x" else 0)

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
        self.fs = HdfsFs(self.root, user)
        prefix = self.gateway or ""
        self.nn_prefix = f"{prefix}/webhdfs/v1"
        self.data_prefix = f"{prefix}/webhdfs/data/v1/webhdfs/v1"

    # ---------------------------------------------------------------- helpers

    async def _run(self, fn: Callable[..., T], *args: Any, hdfs_path: str) -> T:
        try:
            return await anyio.to_thread.run_sync(lambda: fn(*args))
        except OSError as exc:
            raise os_error(exc, hdfs_path) from None

    def _identity(self, params: _Params) -> str:
        if self.gateway is not None:
            return self.user  # Knox strips doAs/user.name and asserts the authenticated user
        return params.get("doas") or params.get("user.name") or self.user

    @staticmethod
    def _origin(request: Request) -> str:
        return f"{request.url.scheme}://{request.url.netloc}"

    def _data_location(self, request: Request, hdfs_path: str, query: list[tuple[str, str]]) -> str:
        quoted = quote(hdfs_path, safe="/")  # a literal "%" becomes %25: "%3F" in a name is sent as %253F
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

    @staticmethod
    def _raw_path(request: Request) -> str:
        """The request path as the client sent it (still percent-encoded): the one place a path is
        decoded is :func:`_decode`, exactly once (Starlette's ``url.path`` re-quotes ``?``/``#``
        but not ``%``, so decoding that would be ambiguous)."""
        raw = request.scope.get("raw_path")
        if isinstance(raw, bytes | bytearray):
            return bytes(raw).split(b"?", 1)[0].decode("latin-1")
        return quote(request.scope.get("path", "/"), safe="/")

    # ---------------------------------------------------------------- entry point

    async def handle(self, request: Request) -> Response:
        """Answer one WebHDFS request (a Starlette endpoint)."""
        method = request.method.upper()
        if self.require_xsrf and method not in _SAFE_METHODS and "x-xsrf-header" not in request.headers:
            return Response(b"Missing Required Header for CSRF Vulnerability Protection\n", status_code=400,
                            media_type="text/plain")
        path = self._raw_path(request)
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
            return Response(f"Not found: {unquote(path)} (WebHDFS is at {self.nn_prefix})\n".encode(),
                            status_code=404, media_type="text/plain")
        params = _Params(pairs)
        if self.gateway is None and params.get("namenoderpcaddress") is not None:
            data_step = True
        hdfs_path = "/"
        try:
            identity = self._identity(params)
            hdfs_path = _normalize(_decode(raw), identity)
            op = self._op(method, params)
            return await self._dispatch(request, method, op, params, hdfs_path, identity, data_step)
        except HdfsError as exc:
            return _remote_exception(exc)
        except OSError as exc:
            return _remote_exception(os_error(exc, hdfs_path))

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
        pc = fs.checker(identity)

        async def run(fn: Callable[..., T], *args: Any) -> T:
            return await self._run(fn, pc, *args, hdfs_path=hdfs_path)

        if op == "GETHOMEDIRECTORY":
            return _json({"Path": f"/user/{identity}"})
        if op == "GETTRASHROOT":
            return _json({"Path": f"/user/{identity}/.Trash"})
        if op == "GETFILESTATUS":
            return _json({"FileStatus": await run(fs.status, hdfs_path)})
        if op == "LISTSTATUS":
            return _json({"FileStatuses": {"FileStatus": await run(fs.list, hdfs_path)}})
        if op == "LISTSTATUS_BATCH":
            return _json(await run(fs.list_batch, hdfs_path, params.get("startAfter")))
        if op == "GETCONTENTSUMMARY":
            return _json(await run(fs.content_summary, hdfs_path))
        if op == "GETACLSTATUS":
            return _json(await run(fs.acl_status, hdfs_path))
        if op == "CHECKACCESS":
            await run(fs.check_access, hdfs_path, params.fs_action())
            return _empty()
        if op == "MKDIRS":
            mode = params.permission(0o755)
            assert mode is not None
            return _json({"boolean": await run(fs.mkdirs, hdfs_path, mode)})
        if op == "DELETE":
            recursive = params.boolean("recursive", False)
            return _json({"boolean": await run(fs.delete, hdfs_path, recursive)})
        if op == "RENAME":
            destination = params.get("destination")
            if not destination or not destination.startswith("/"):
                _fail("IllegalArgumentException", 'Invalid value for webhdfs parameter "destination": '
                      f"{destination or 'null'} is not an absolute path")
            dst = _normalize(destination, identity)
            return _json({"boolean": await run(fs.rename, hdfs_path, dst)})
        if op == "SETPERMISSION":
            mode = params.permission(0o755)
            assert mode is not None
            await run(fs.set_permission, hdfs_path, mode)
            return _empty()
        if op == "SETOWNER":
            await run(fs.set_owner, hdfs_path, params.get("owner") or None, params.get("group") or None)
            return _empty()
        if op == "SETTIMES":
            mtime = params.long("modificationtime", None, minimum=-1)
            atime = params.long("accesstime", None, minimum=-1)
            await run(fs.set_times, hdfs_path, mtime, atime)
            return _empty()
        if op == "SETREPLICATION":
            replication = params.long("replication", None, minimum=1)  # ReplicationParam's range
            return _json({"boolean": await run(fs.set_replication, hdfs_path,
                                               3 if replication is None else replication)})
        if op in _ACL_OPS:
            spec = params.get("aclspec")
            if op in ("SETACL", "MODIFYACLENTRIES", "REMOVEACLENTRIES") and not spec:
                _fail("IllegalArgumentException", 'Invalid value for webhdfs parameter "aclspec": '
                      "an ACL spec is required")
            await run(fs.change_acl, hdfs_path, op, spec)
            return _empty()
        if op in ("ALLOWSNAPSHOT", "DISALLOWSNAPSHOT"):
            await run(fs.allow_snapshot, hdfs_path, op == "ALLOWSNAPSHOT")
            return _empty()
        if op == "CREATESNAPSHOT":
            return _json(await run(fs.create_snapshot, hdfs_path, params.get("snapshotname")))
        if op == "DELETESNAPSHOT":
            await run(fs.delete_snapshot, hdfs_path, params.get("snapshotname"))
            return _empty()
        if op == "RENAMESNAPSHOT":
            await run(fs.rename_snapshot, hdfs_path, params.get("oldsnapshotname"),
                      params.get("snapshotname"))
            return _empty()
        if op == "CREATE":
            return await self._create(request, params, hdfs_path, identity, pc, data_step)
        if op == "APPEND":
            return await self._append(request, params, hdfs_path, identity, pc, data_step)
        if op == "OPEN":
            return await self._open(request, params, hdfs_path, identity, pc, data_step)
        if op == "GETFILECHECKSUM":
            await run(fs.readable_file, hdfs_path)  # the NameNode locates the blocks first
            if not data_step:
                return await self._redirect(request, params, op, hdfs_path, identity, [])
            return _json(await run(fs.checksum, hdfs_path))
        # A real NameNode's answer for an operation it knows but does not serve.
        _fail("UnsupportedOperationException", f"{op} is not supported")

    # ---------------------------------------------------------------- two-step operations

    async def _create(self, request: Request, params: _Params, hdfs_path: str, identity: str,
                      pc: PermissionChecker, data_step: bool) -> Response:
        overwrite = params.boolean("overwrite", False)
        permission = params.permission(0o644)
        replication = params.long("replication", None, minimum=1)
        block_size = params.long("blocksize", None, minimum=1)
        assert permission is not None
        if not data_step:
            # Step 1 (NameNode): no existence check, no body read.
            extra = [("createflag", ""), ("createparent", "true"), ("overwrite", str(overwrite).lower())]
            for name in ("permission", "replication", "blocksize"):
                if params.get(name):
                    value = format(permission, "o") if name == "permission" else str(params.get(name))
                    extra.append((name, value))
            return await self._redirect(request, params, "CREATE", hdfs_path, identity, extra)
        target, tmp = await self._run(self.fs.prepare_create, pc, hdfs_path, overwrite, hdfs_path=hdfs_path)
        try:
            await self._receive(request, tmp, hdfs_path, append=False)
            await self._run(self.fs.commit_create, pc, hdfs_path, tmp, target, overwrite, permission,
                            replication, block_size or None, hdfs_path=hdfs_path)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(lambda: tmp.unlink(missing_ok=True))
            raise
        return Response(b"", status_code=201, headers={
            "Location": f"hdfs://{NAMENODE_RPC}{quote(hdfs_path, safe='/')}",
            "Access-Control-Allow-Origin": "*"})

    async def _append(self, request: Request, params: _Params, hdfs_path: str, identity: str,
                      pc: PermissionChecker, data_step: bool) -> Response:
        target = await self._run(self.fs.appendable_file, pc, hdfs_path, hdfs_path=hdfs_path)
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
            raise os_error(exc, hdfs_path) from None

    async def _open(self, request: Request, params: _Params, hdfs_path: str, identity: str,
                    pc: PermissionChecker, data_step: bool) -> Response:
        offset = params.long("offset", 0) or 0
        length = params.long("length", None)
        target = await self._run(self.fs.readable_file, pc, hdfs_path, hdfs_path=hdfs_path)
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
    *user*. *user* is also the default identity (no ``user.name``) and HDFS's superuser; other
    users own what they create and are held to its permissions.
    *require_xsrf* rejects non-GET requests without ``X-XSRF-Header`` with Knox's plain 400.
    """
    handler = _WebHDFS(data_dir, gateway_prefix=gateway_prefix, user=user, require_xsrf=require_xsrf)
    methods = ["GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS", "PATCH"]
    return Starlette(routes=[Route("/{rest:path}", handler.handle, methods=methods)])
