"""An async WebHDFS client (livy-rest.md sections 18 and 19): direct to a NameNode, or through Knox.

::

    async with WebHDFSClient("http://nn:9870/webhdfs/v1", user="alice") as hdfs:
        await hdfs.upload("/user/alice/app/main.py", Path("main.py"), overwrite=True)
        for st in await hdfs.list("/user/alice/app"):
            print(st.path_suffix, st.length)

The hard parts:

* **Two-step writes.** ``CREATE`` and ``APPEND`` are sent first *without a body* and with
  redirects off; the NameNode (or Knox) answers ``307`` with a ``Location`` -- a DataNode URL, or
  Knox's opaque ``.../webhdfs/data/v1/...?_=...`` route -- and only then are the bytes sent there.
  Letting an HTTP library follow a 307 while streaming a body sends the body twice or not at all;
  Knox discards a body sent on step 1. ``Location`` values are opaque: used as given, never
  parsed for host or port. ``OPEN`` is the same dance with GET. The follow-up request goes through
  this same client, so it carries the same authentication and the gateway's cookies.
* **Streaming.** A :class:`~pathlib.Path` is uploaded chunk by chunk (never read whole), through a
  body object that can be iterated *again* -- if an authentication flow needs to resend step 2
  (a SPNEGO challenge), the file is simply re-read. ``download(..., dest=...)`` streams into a
  temporary sibling of *dest* that is renamed into place when complete.
* **Identity.** ``user`` becomes ``user.name`` (simple security) unless the authentication is
  Kerberos, where the ticket names the user and ``user.name`` would be rejected or ignored.
  ``doas`` is sent as given. Behind Knox both are stripped by the gateway anyway.
* **Headers.** ``User-Agent: livyd/<version>`` always; ``X-XSRF-Header`` (Knox's CSRF filter) and
  ``X-Requested-By`` on every write. Cookies (``KNOXSESSIONID``, ``hadoop.auth``) are kept for the
  life of the client, sparing a negotiation per request.
* **Errors.** A ``RemoteException`` body becomes :class:`~livyd.WebHDFSError` carrying
  ``exception``/``java_class_name`` and a message naming the operation and the HDFS path; other
  error bodies (a gateway's HTML page, Knox's CSRF 400) are reduced to their text. 401 is an
  :class:`~livyd.AuthenticationError` naming the URL and the authentication that was tried.
  httpx failures become :class:`~livyd.ConnectError` / :class:`~livyd.TransportTimeout` /
  :class:`~livyd.TransportError`, raised ``from`` the original. URLs in messages are redacted
  (``delegation=***``); headers and credentials never appear in a message or a log line.
"""

from __future__ import annotations

import builtins
import json
import os
import posixpath
import tempfile
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import anyio
import httpx
from pydantic import BaseModel, ConfigDict, Field

from livyd._core.errors import extract_message
from livyd._core.redact import redact_text
from livyd._exceptions import (
    AuthenticationError,
    ConfigError,
    ConnectError,
    LivydError,
    TransportError,
    TransportTimeout,
    WebHDFSError,
    redact_url,
)
from livyd._logging import get_logger
from livyd._transport import new_http_client

__all__ = ["FileStatus", "ProgressCallback", "WebHDFSClient"]

log = get_logger("livyd.webhdfs")

CHUNK = 512 * 1024  # file reads/writes per worker-thread hop
_WRITE_METHODS = frozenset({"PUT", "POST", "DELETE", "PATCH"})

UploadData = bytes | Path | AsyncIterable[bytes]
#: ``progress(done, total)``: bytes sent or received so far, and the total when known (else None).
#: Called from the event loop after each chunk; keep it cheap (a rich progress bar's ``update``).
ProgressCallback = Callable[[int, int | None], None]


class FileStatus(BaseModel):
    """One WebHDFS ``FileStatus`` (livy-rest.md 18.3); unknown keys are kept, missing ones default.

    ``path`` is not part of the wire format: the client fills in the absolute HDFS path.
    """

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    path: str = ""
    path_suffix: str = Field("", alias="pathSuffix")
    type: str = "FILE"
    length: int = 0
    owner: str = ""
    group: str = ""
    permission: str = ""
    modification_time: int = Field(0, alias="modificationTime")
    access_time: int = Field(0, alias="accessTime")
    block_size: int = Field(0, alias="blockSize")
    replication: int = 0
    file_id: int | None = Field(None, alias="fileId")
    children_num: int | None = Field(None, alias="childrenNum")
    storage_policy: int | None = Field(None, alias="storagePolicy")
    symlink: str | None = None

    @property
    def is_dir(self) -> bool:
        """True for a directory."""
        return self.type.upper() == "DIRECTORY"

    @property
    def is_file(self) -> bool:
        """True for a regular file."""
        return self.type.upper() == "FILE"


def _base_url(url: str) -> str:
    """``http(s)://host[:port]/.../webhdfs/v1`` (appended when *url* stops before it)."""
    text = str(url).strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        raise ConfigError(f"webhdfs.url {redact_url(text)!r} is not a URL", key="webhdfs.url") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"webhdfs.url {redact_url(text)!r} must be an http:// or https:// URL "
                          "(e.g. http://namenode:9870/webhdfs/v1)", key="webhdfs.url")
    path = parts.path.rstrip("/")
    if not path.endswith("/webhdfs/v1"):
        path += "/webhdfs/v1"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _is_kerberos(auth: httpx.Auth | None) -> bool:
    return auth is not None and any("spnego" in c.__name__.lower() or "gssapi" in c.__module__.lower()
                                    for c in type(auth).__mro__)


def _describe(auth: httpx.Auth | None) -> str:
    if auth is None:
        return "an unauthenticated request"
    if _is_kerberos(auth):
        return "Kerberos (SPNEGO) authentication"
    if isinstance(auth, httpx.BasicAuth):
        return "HTTP Basic authentication"
    return f"{type(auth).__name__} authentication"


def _transport_error(exc: Exception, method: str, url: str) -> TransportError:
    where = f"{method} {redact_url(url)}"
    cls: type[TransportError]
    if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
        cls, what = TransportTimeout, "timed out connecting"
    elif isinstance(exc, httpx.TimeoutException):
        cls, what = TransportTimeout, "timed out waiting for the answer"
    elif isinstance(exc, httpx.ConnectError):
        text = str(exc)
        cls = ConnectError
        if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
            what = ("TLS certificate verification failed: configure the CA bundle that signed the "
                    "server's certificate (tls.ca_bundle)")
        elif "SSL" in text or "TLS" in text:
            what = "TLS handshake failed (client certificate, protocol or cipher)"
        else:
            what = "cannot connect"
    elif isinstance(exc, httpx.ProxyError):
        cls, what = ConnectError, "the proxy refused the connection"
    elif isinstance(exc, httpx.StreamConsumed):
        cls, what = TransportError, ("the server asked for the upload body a second time (an "
                                     "authentication retry) and an async iterable cannot be replayed; "
                                     "upload bytes or a Path instead")
    elif isinstance(exc, httpx.InvalidURL):
        cls, what = TransportError, "the URL is not valid (a Location the server sent?)"
    elif isinstance(exc, httpx.RemoteProtocolError):
        cls, what = TransportError, "the server closed the connection without a complete answer"
    else:
        cls, what = TransportError, "the connection failed"
    return cls(f"WebHDFS {where}: {what}", method=method, url=url)


class _FileBody:
    """An upload body that streams a file and can be iterated again (for an auth retry).

    Memory stays bounded by one chunk whatever the file's size; *progress* hears every chunk
    (a re-iteration starts counting again from zero)."""

    def __init__(self, path: Path, progress: ProgressCallback | None = None) -> None:
        self.path = path
        self.progress = progress
        self.total = path.stat().st_size

    async def __aiter__(self) -> AsyncIterator[bytes]:
        done = 0
        async with await anyio.open_file(self.path, "rb") as f:
            while chunk := await f.read(CHUNK):
                done += len(chunk)
                yield chunk
                if self.progress is not None:
                    self.progress(done, self.total)


class _BytesBody:
    """In-memory bytes as a replayable chunked body, so a progress callback hears each chunk."""

    def __init__(self, data: bytes, progress: ProgressCallback) -> None:
        self.data = data
        self.progress = progress

    async def __aiter__(self) -> AsyncIterator[bytes]:
        view = memoryview(self.data)
        total = len(view)
        for start in range(0, total, CHUNK):
            chunk = bytes(view[start:start + CHUNK])
            yield chunk
            self.progress(min(start + CHUNK, total), total)
        if total == 0:
            self.progress(0, 0)


class WebHDFSClient:
    """An async WebHDFS client; use it as an async context manager (or call :meth:`aclose`).

    *url* is the WebHDFS base (``http://nn:9870/webhdfs/v1``, or Knox's
    ``https://knox:8443/gateway/<topology>/webhdfs/v1``); ``/webhdfs/v1`` is appended when missing.
    *user* is sent as ``user.name`` unless *auth* is Kerberos; *doas* asks to act as another user.
    *verify*, *cert*, *proxy* and *timeout* are as for :class:`~livyd.LivyClient`; *transport*
    replaces the network (tests). Relative HDFS paths are relative to :meth:`home`.
    """

    def __init__(
        self,
        url: str,
        *,
        auth: httpx.Auth | None = None,
        user: str | None = None,
        doas: str | None = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxy: str | None = None,
        timeout: float = 60.0,
        headers: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        auth_description: str | None = None,
    ) -> None:
        if timeout <= 0:
            raise ConfigError(f"timeout must be > 0 seconds, not {timeout}", key="timeout")
        self.url = _base_url(url)
        self.auth_description = auth_description or _describe(auth)
        self._user = None if _is_kerberos(auth) else (user or None)
        self._doas = doas or None
        self._home: str | None = None
        if verify is False:
            log.warning("TLS certificate verification is DISABLED for WebHDFS: anyone on the network path "
                        "can read and change this traffic, credentials included. Use a CA bundle instead.")
        self._http = new_http_client(auth=auth, verify=verify, cert=cert, proxy=proxy, timeout=timeout,
                                     headers=dict(headers or {}), transport=transport)

    async def __aenter__(self) -> WebHDFSClient:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    # ------------------------------------------------------------------ plumbing

    def _op_url(self, path: str) -> str:
        return self.url + quote(path, safe="/")

    def _params(self, op: str, extra: Mapping[str, object] | None = None) -> dict[str, str]:
        params: dict[str, str] = {"op": op}
        if self._user:
            params["user.name"] = self._user
        if self._doas:
            params["doas"] = self._doas
        for key, value in (extra or {}).items():
            if value is None:
                continue
            params[key] = str(value).lower() if isinstance(value, bool) else str(value)
        return params

    @staticmethod
    def _headers(method: str) -> dict[str, str]:
        if method in _WRITE_METHODS:
            return {"X-XSRF-Header": "livyd", "X-Requested-By": "livyd"}
        return {}

    async def _send(self, method: str, url: str, *, op: str, path: str,
                    params: Mapping[str, str] | None = None, content: Any = None,
                    headers: Mapping[str, str] | None = None, stream: bool = False) -> httpx.Response:
        """One request; transport failures and error statuses become livyd errors."""
        shown = url
        started = time.monotonic()
        try:
            request = self._http.build_request(method, url, params=params, content=content,
                                               headers={**self._headers(method), **(headers or {})})
            shown = str(request.url)
            response = await self._http.send(request, stream=stream)
        except LivydError:
            raise
        except (httpx.HTTPError, httpx.StreamError, httpx.InvalidURL) as exc:
            raise _transport_error(exc, method, shown) from exc
        log.debug("webhdfs request", method=method, url=redact_url(shown), op=op,
                  status=response.status_code, seconds=round(time.monotonic() - started, 4))
        if response.status_code >= 400:
            try:
                body = await response.aread()
            except httpx.HTTPError:
                body = b""
            finally:
                await response.aclose()
            raise self._error(response, body, method, shown, op, path)
        return response

    def _error(self, response: httpx.Response, body: bytes, method: str, url: str, op: str,
               path: str) -> LivydError:
        status = response.status_code
        shown = redact_url(url)
        if status == 401:
            return AuthenticationError(
                f"WebHDFS at {redact_url(self.url)} refused {self.auth_description} (401 on {op} {path})",
                status=401, method=method, url=url)
        remote: dict[str, Any] | None = None
        try:
            decoded = json.loads(body) if body else None
            if isinstance(decoded, dict) and isinstance(decoded.get("RemoteException"), dict):
                remote = decoded["RemoteException"]
        except ValueError:
            remote = None
        if remote is not None:
            exception = str(remote.get("exception") or "") or None
            message = redact_text(str(remote.get("message") or ""))
            return WebHDFSError(
                f"WebHDFS {op} {path} failed: {exception or 'RemoteException'}: {message} ({status})",
                status=status, method=method, url=url, livy_message=message, body_kind="json",
                exception=exception, java_class_name=str(remote.get("javaClassName") or "") or None)
        text, kind = extract_message(body, response.headers.get("content-type"))
        hint = ""
        if status == 400 and not text:
            hint = " (a gateway's CSRF filter? livyd sends X-XSRF-Header on writes)"
        elif status == 404:
            hint = f" (is webhdfs.url right? {redact_url(self.url)})"
        detail = f": {text}" if text else ""
        return WebHDFSError(f"WebHDFS {op} {path} failed with HTTP {status} from {shown}{detail}{hint}",
                            status=status, method=method, url=url, livy_message=text, body_kind=kind)

    async def _json(self, method: str, path: str, op: str, extra: Mapping[str, object] | None = None) -> Any:
        response = await self._send(method, self._op_url(path), op=op, path=path,
                                    params=self._params(op, extra))
        try:
            return response.json()
        except ValueError:
            raise WebHDFSError(f"WebHDFS {op} {path}: the answer is not JSON ({response.status_code} from "
                               f"{redact_url(str(response.url))})", status=response.status_code,
                               method=method, url=str(response.url), body_kind="text") from None

    def _field(self, answer: Any, op: str, path: str, *keys: str) -> Any:
        """``answer[k1][k2]...``, or a WebHDFSError saying the answer has an unexpected shape."""
        value = answer
        for key in keys:
            if not isinstance(value, dict) or key not in value:
                raise WebHDFSError(f"WebHDFS {op} {path}: unexpected answer from {redact_url(self.url)} "
                                   f"(no {'.'.join(keys)!r})", status=200, method="GET", url=self.url,
                                   body_kind="json")
            value = value[key]
        return value

    async def _location(self, method: str, path: str, op: str, extra: Mapping[str, object]) -> str:
        """Step 1 of CREATE / APPEND / OPEN: no body, no redirect following; the data URL."""
        response = await self._send(method, self._op_url(path), op=op, path=path,
                                    params=self._params(op, extra))
        location = response.headers.get("location")
        if not location and response.status_code == 200:
            try:
                location = response.json().get("Location")
            except (ValueError, AttributeError):
                location = None
        if not location:
            raise WebHDFSError(f"WebHDFS {op} {path}: the server answered {response.status_code} without a "
                               "Location to send the data to", status=response.status_code, method=method,
                               url=str(response.url))
        return str(response.url.join(location))

    async def _abs(self, path: str | os.PathLike[str]) -> str:
        text = os.fspath(path)
        if not text:
            raise ValueError("HDFS path must not be empty")
        if text == "~" or text.startswith("~/"):
            text = (await self.home()) + text[1:]
        elif not text.startswith("/"):
            text = (await self.home()) + "/" + text
        normalized = posixpath.normpath(text)
        return "/" + normalized.lstrip("/")

    @staticmethod
    def _body(data: UploadData, progress: ProgressCallback | None = None) -> tuple[Any, dict[str, str]]:
        headers = {"Content-Type": "application/octet-stream"}
        if isinstance(data, bytes | bytearray | memoryview):
            if progress is None:
                return bytes(data), headers
            raw = bytes(data)
            headers["Content-Length"] = str(len(raw))
            return _BytesBody(raw, progress), headers
        if isinstance(data, Path):
            if not data.is_file():
                raise ValueError(f"upload source {data} is not a readable file")
            body = _FileBody(data, progress)
            headers["Content-Length"] = str(body.total)
            return body, headers
        if isinstance(data, AsyncIterable):
            return data, headers
        raise TypeError("upload data must be bytes, a Path or an async iterable of bytes, "
                        f"not {type(data).__name__}")

    # ------------------------------------------------------------------ operations

    async def home(self) -> str:
        """The user's home directory (``GETHOMEDIRECTORY``), cached."""
        if self._home is None:
            answer = await self._json("GET", "/", "GETHOMEDIRECTORY")
            self._home = str(self._field(answer, "GETHOMEDIRECTORY", "/", "Path"))
        return self._home

    async def status(self, path: str | os.PathLike[str]) -> FileStatus | None:
        """The ``FileStatus`` of *path*, or ``None`` if it does not exist."""
        hdfs_path = await self._abs(path)
        try:
            answer = await self._json("GET", hdfs_path, "GETFILESTATUS")
        except WebHDFSError as exc:
            if exc.status == 404 and exc.exception == "FileNotFoundException":
                return None
            raise
        status = FileStatus.model_validate(self._field(answer, "GETFILESTATUS", hdfs_path, "FileStatus"))
        status.path = hdfs_path
        return status

    async def list(self, path: str | os.PathLike[str]) -> list[FileStatus]:
        """The entries of directory *path* (``LISTSTATUS``), each with its absolute ``path``.

        :raises WebHDFSError: the path does not exist (404), or is a file (``exception`` is
            ``"NotADirectory"``; WebHDFS itself answers 200 with one nameless entry).
        """
        hdfs_path = await self._abs(path)
        answer = await self._json("GET", hdfs_path, "LISTSTATUS")
        raw = self._field(answer, "LISTSTATUS", hdfs_path, "FileStatuses", "FileStatus")
        entries = [FileStatus.model_validate(e) for e in raw]
        # A file lists as itself with an empty pathSuffix (HttpFS may name it: ask again then).
        if len(entries) == 1 and (entries[0].path_suffix == "" or (
                entries[0].is_file and (st := await self.status(hdfs_path)) is not None and st.is_file)):
            raise WebHDFSError(f"WebHDFS LISTSTATUS {hdfs_path}: not a directory (it is a file)", status=200,
                               method="GET", url=self._op_url(hdfs_path), exception="NotADirectory")
        for entry in entries:
            entry.path = posixpath.join(hdfs_path, entry.path_suffix)
        return entries

    async def mkdirs(self, path: str | os.PathLike[str], permission: int | str | None = None) -> bool:
        """Create *path* and its parents (``MKDIRS``); true also if it already existed."""
        hdfs_path = await self._abs(path)
        answer = await self._json("PUT", hdfs_path, "MKDIRS", {"permission": _octal(permission)})
        return bool(self._field(answer, "MKDIRS", hdfs_path, "boolean"))

    async def set_permission(self, path: str | os.PathLike[str], permission: int | str) -> None:
        """``SETPERMISSION`` (octal, e.g. ``"700"``); the caller must own *path*."""
        hdfs_path = await self._abs(path)
        response = await self._send("PUT", self._op_url(hdfs_path), op="SETPERMISSION", path=hdfs_path,
                                    params=self._params("SETPERMISSION", {"permission": _octal(permission)}))
        await response.aclose()

    async def upload(self, path: str | os.PathLike[str], data: UploadData, *, overwrite: bool = False,
                     permission: int | str | None = None, progress: ProgressCallback | None = None) -> str:
        """Write *data* (bytes, a local file, or an async iterable of chunks) to *path*
        (``CREATE``, two steps); parents are created. Returns the absolute HDFS path.

        *progress* (``progress(sent, total)``) is called after each chunk of bytes or a file
        (an async iterable reports itself). A file is streamed: memory stays at one chunk.

        :raises WebHDFSError: ``FileAlreadyExistsException`` (403) when it exists and not *overwrite*.
        """
        hdfs_path = await self._abs(path)
        content, headers = self._body(data, progress)
        location = await self._location("PUT", hdfs_path, "CREATE",
                                        {"overwrite": overwrite, "permission": _octal(permission)})
        response = await self._send("PUT", location, op="CREATE", path=hdfs_path, content=content,
                                    headers=headers)
        await response.aclose()
        log.info("webhdfs uploaded", path=hdfs_path)
        return hdfs_path

    async def append(self, path: str | os.PathLike[str], data: UploadData) -> None:
        """Append *data* to the existing file *path* (``APPEND``, two steps)."""
        hdfs_path = await self._abs(path)
        content, headers = self._body(data)
        location = await self._location("POST", hdfs_path, "APPEND", {})
        response = await self._send("POST", location, op="APPEND", path=hdfs_path, content=content,
                                    headers=headers)
        await response.aclose()

    async def download(self, path: str | os.PathLike[str], dest: Path | None = None, *, offset: int = 0,
                       length: int | None = None, progress: ProgressCallback | None = None) -> bytes | Path:
        """Read *path* (``OPEN``; the redirect is followed with the same authentication).

        Returns the bytes, or, with *dest*, streams them into *dest* (atomically: a temporary
        sibling is renamed into place) and returns *dest*. *progress* (``progress(received,
        total)``) is called after each chunk; total is the Content-Length when the server sent one.
        """
        if offset < 0 or (length is not None and length < 0):
            raise ValueError(f"offset and length must be >= 0 (got offset={offset}, length={length})")
        hdfs_path = await self._abs(path)
        extra: dict[str, object] = {"offset": offset, "length": length}
        step1 = await self._send("GET", self._op_url(hdfs_path), op="OPEN", path=hdfs_path,
                                 params=self._params("OPEN", extra), stream=True)
        if step1.is_redirect and step1.headers.get("location"):
            await step1.aclose()
            target = str(step1.url.join(step1.headers["location"]))
            response = await self._send("GET", target, op="OPEN", path=hdfs_path, stream=True)
        else:
            response = step1  # a server that answers directly (HttpFS)
        try:
            if dest is None and progress is None:
                return await response.aread()
            if dest is None:
                parts = bytearray()
                async for chunk in self._counted(response, progress):
                    parts += chunk
                return bytes(parts)
            return await self._stream_to(response, Path(dest), hdfs_path, progress)
        except httpx.HTTPError as exc:
            raise _transport_error(exc, "GET", str(response.url)) from exc
        finally:
            await response.aclose()

    @staticmethod
    async def _counted(response: httpx.Response,
                       progress: ProgressCallback | None) -> AsyncIterator[bytes]:
        raw_total = response.headers.get("content-length")
        total = int(raw_total) if raw_total and raw_total.isdigit() else None
        done = 0
        async for chunk in response.aiter_bytes(CHUNK):
            done += len(chunk)
            yield chunk
            if progress is not None:
                progress(done, total)

    @classmethod
    async def _stream_to(cls, response: httpx.Response, dest: Path, hdfs_path: str,
                         progress: ProgressCallback | None = None) -> Path:
        dest = await anyio.to_thread.run_sync(dest.expanduser)
        if await anyio.to_thread.run_sync(dest.is_dir):
            dest = dest / posixpath.basename(hdfs_path)
        fd, tmp_name = await anyio.to_thread.run_sync(
            lambda: tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent))
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            async with await anyio.open_file(tmp, "wb") as f:
                async for chunk in cls._counted(response, progress):
                    await f.write(chunk)
            await anyio.to_thread.run_sync(os.replace, tmp, dest)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(lambda: tmp.unlink(missing_ok=True))
            raise
        return dest

    async def delete(self, path: str | os.PathLike[str], *, recursive: bool = False) -> bool:
        """Delete *path* (``DELETE``); false if it did not exist.

        :raises WebHDFSError: ``PathIsNotEmptyDirectoryException`` (403) for a non-empty directory
            without *recursive*.
        """
        hdfs_path = await self._abs(path)
        answer = await self._json("DELETE", hdfs_path, "DELETE", {"recursive": recursive})
        return bool(self._field(answer, "DELETE", hdfs_path, "boolean"))

    async def rename(self, src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> bool:
        """Rename *src* to *dst* (``RENAME``); false when HDFS refuses (missing source, existing
        destination file, missing destination parent). An existing directory *dst* receives *src*."""
        source = await self._abs(src)
        destination = await self._abs(dst)
        answer = await self._json("PUT", source, "RENAME", {"destination": destination})
        return bool(self._field(answer, "RENAME", source, "boolean"))

    async def upload_tree(self, local_dir: Path, remote_dir: str | os.PathLike[str], *,
                          overwrite: bool = False, concurrency: int = 4) -> builtins.list[str]:
        """Upload every file under *local_dir* to the same relative place under *remote_dir*
        (at most *concurrency* at a time). Returns the uploaded HDFS paths, sorted."""
        root = await anyio.to_thread.run_sync(Path(local_dir).expanduser)
        if not await anyio.to_thread.run_sync(root.is_dir):
            raise ValueError(f"upload_tree: {root} is not a directory")
        remote_root = await self._abs(remote_dir)
        files = await anyio.to_thread.run_sync(lambda: sorted(p for p in root.rglob("*") if p.is_file()))
        limiter = anyio.CapacityLimiter(max(1, concurrency))
        done: builtins.list[str] = []

        async def one(local: Path) -> None:
            async with limiter:
                remote = posixpath.join(remote_root, local.relative_to(root).as_posix())
                done.append(await self.upload(remote, local, overwrite=overwrite))

        async with anyio.create_task_group() as tg:
            for local in files:
                tg.start_soon(one, local)
        return sorted(done)


def _octal(permission: int | str | None) -> str | None:
    """``0o644``/``420``/``"644"`` -> ``"644"``; a bad value is a ValueError naming it."""
    if permission is None:
        return None
    if isinstance(permission, int):
        if not 0 <= permission <= 0o1777:
            raise ValueError(f"permission {permission:o} (octal) is out of range 0..1777")
        return format(permission, "o")
    text = str(permission).strip()
    try:
        value = int(text, 8)
    except ValueError:
        raise ValueError(f"permission {permission!r} is not an octal string like '644'") from None
    if not 0 <= value <= 0o1777:
        raise ValueError(f"permission {permission!r} is out of range 0..1777")
    return format(value, "o")
