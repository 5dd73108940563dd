"""The whole livyd error tree, in one place.

Every failure the library can raise is a :class:`LivydError`. Lower layers (httpx, httpx-gssapi,
pydantic, the file system) never leak: the transport maps them to the most specific class below
and raises it ``from`` the original. Messages name the culprit (URL, variable, file, key) and never
contain credentials: URLs are stripped of user info and secret-looking query parameters first.

::

    LivydError                                 .code (stable, machine readable)
     ├── ConfigError                           "config"          bad configuration
     │    └── MissingExtraError                "missing-extra"   e.g. Kerberos without livyd[kerberos]
     ├── TransportError                        "transport"       no HTTP answer
     │    ├── ConnectError                     "connect"
     │    └── TransportTimeout                 "timeout"         (also a LivydTimeout)
     ├── LivyHTTPError                         "http"            an error status from Livy or a gateway
     │    ├── BadRequestError         400      "bad-request"
     │    │    └── SessionInactiveError        "session-gone"  "Session isn't active" (a SessionGoneError)
     │    ├── AuthenticationError     401      "auth"
     │    ├── ForbiddenError          403      "forbidden"
     │    ├── NotFoundError           404      "not-found"
     │    │    ├── SessionNotFoundError        "session-not-found"  (also a SessionGoneError)
     │    │    ├── BatchNotFoundError          "batch-not-found"
     │    │    └── StatementNotFoundError      "statement-not-found"
     │    ├── SessionNotReadyError    500      "session-not-ready"  "Session is in state starting"
     │    ├── ServerError             5xx      "server"
     │    └── WebHDFSError            any      "webhdfs"          RemoteException bodies
     ├── SessionGoneError                      "session-gone"    dead, killed, or 404
     │    ├── SessionReplacedError             "session-replaced" the id now names someone else's session
     │    └── SessionUnverifiedError           "session-unverified" after a gap, not shown to be ours
     ├── StatementFailedError                  "statement-failed" the code raised (ename/evalue/traceback)
     ├── StatementCancelledError               "statement-cancelled"
     ├── SubmissionUnknownError                "submission-unknown" a POST's fate could not be established
     └── LivydTimeout                          "timeout"
          └── WaitTimeout                      "wait-timeout"    a wait outlived its deadline
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = [
    "AuthenticationError",
    "BadRequestError",
    "BatchNotFoundError",
    "ConfigError",
    "ConnectError",
    "ForbiddenError",
    "LivyHTTPError",
    "LivydError",
    "LivydTimeout",
    "MissingExtraError",
    "NotFoundError",
    "ServerError",
    "SessionGoneError",
    "SessionInactiveError",
    "SessionNotFoundError",
    "SessionNotReadyError",
    "SessionReplacedError",
    "SessionUnverifiedError",
    "StatementCancelledError",
    "StatementFailedError",
    "StatementNotFoundError",
    "SubmissionUnknownError",
    "TransportError",
    "TransportTimeout",
    "WaitTimeout",
    "WebHDFSError",
    "redact_url",
]

_SECRET_PARAMS = re.compile(r"(token|password|passwd|secret|delegation|signature|sig|key|auth)", re.I)


def redact_url(url: str) -> str:
    """Return *url* without user info and with secret-looking query values masked.

    >>> redact_url("https://alice:pw@knox:8443/gateway/x/livy/v1/sessions?delegation=abc&from=0")
    'https://knox:8443/gateway/x/livy/v1/sessions?delegation=***&from=0'
    """
    try:
        parts = urlsplit(str(url))
    except ValueError:
        return "<unparseable URL>"
    netloc = parts.hostname or ""
    if parts.hostname and ":" in parts.hostname:
        netloc = f"[{parts.hostname}]"
    try:
        port = parts.port
    except ValueError:  # out of range or not a number: show it as written, still without user info
        port_text = parts.netloc.rpartition("@")[2].rpartition(":")[2]
        netloc = f"{netloc}:{port_text}"
    else:
        if port is not None:
            netloc = f"{netloc}:{port}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, "***" if _SECRET_PARAMS.search(k) else v) for k, v in pairs], safe="/:*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


class LivydError(Exception):
    """Base class of every error livyd raises."""

    code: ClassVar[str] = "livyd"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(LivydError):
    """The configuration is wrong. The message names the file or variable, the key, and what was
    expected."""

    code = "config"

    def __init__(self, message: str, *, source: str | None = None, key: str | None = None) -> None:
        super().__init__(message)
        self.source = source
        self.key = key


class MissingExtraError(ConfigError):
    """A feature needs an optional extra (and maybe system packages) that is not installed."""

    code = "missing-extra"

    def __init__(self, message: str, *, extra: str) -> None:
        super().__init__(message)
        self.extra = extra


class TransportError(LivydError):
    """The request got no HTTP answer (connection refused, reset, TLS failure, timeout)."""

    code = "transport"

    def __init__(self, message: str, *, method: str | None = None, url: str | None = None) -> None:
        super().__init__(message)
        self.method = method
        self.url = redact_url(url) if url else None


class ConnectError(TransportError):
    """Could not connect (refused, DNS, TLS handshake)."""

    code = "connect"


class LivydTimeout(LivydError):
    """Something took longer than allowed."""

    code = "timeout"


class TransportTimeout(TransportError, LivydTimeout):
    """An HTTP request timed out."""

    code = "timeout"


class WaitTimeout(LivydTimeout):
    """A wait (for a session to become idle, a statement to finish, ...) outlived its deadline."""

    code = "wait-timeout"


class LivyHTTPError(LivydError):
    """Livy (or a gateway in front of it) answered with an error status.

    ``livy_message`` is Livy's own message, whatever shape the body had: ``{"msg": ...}``,
    a bare JSON string, an HTML error page (its title/message), or empty (``None``).
    ``body_kind`` says which: ``"msg"``, ``"string"``, ``"html"``, ``"json"``, ``"text"``, ``"empty"``.
    """

    code = "http"

    def __init__(
        self,
        message: str,
        *,
        status: int,
        method: str | None = None,
        url: str | None = None,
        livy_message: str | None = None,
        body_kind: str = "empty",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.method = method
        self.url = redact_url(url) if url else None
        self.livy_message = livy_message
        self.body_kind = body_kind


class BadRequestError(LivyHTTPError):
    """400: Livy refused the request (unknown field, bad value, CSRF filter, ...)."""

    code = "bad-request"


class AuthenticationError(LivyHTTPError):
    """401: authentication failed. The message says which authentication was tried."""

    code = "auth"


class ForbiddenError(LivyHTTPError):
    """403: authenticated, but not allowed (ACL, impersonation refused)."""

    code = "forbidden"


class NotFoundError(LivyHTTPError):
    """404."""

    code = "not-found"


class SessionGoneError(LivydError):
    """The session no longer exists or can never run code again (404, dead, killed)."""

    code = "session-gone"

    def __init__(
        self, message: str, *, session_id: int | str | None = None, state: str | None = None
    ) -> None:
        super().__init__(message)
        self.session_id = session_id
        self.state = state


class SessionReplacedError(SessionGoneError):
    """What Livy now says about the session (its name, appId, kind, owner, proxyUser, or a statement
    livyd ran there) differs from what livyd knew: the server restarted and the id names another
    session. livyd touches nothing in it. ``check`` is the :class:`livyd._core.identity.Check`."""

    code = "session-replaced"

    def __init__(self, message: str, *, session_id: int | str | None = None, check: object = None) -> None:
        super().__init__(message, session_id=session_id, state="replaced")
        self.check = check


class SessionUnverifiedError(SessionGoneError):
    """After a connection gap the session could not be shown to be the one livyd knew (Livy 0.7 or a
    local server leave appId, owner and proxyUser empty, and it has no unique name or statement of
    livyd's to compare): livyd writes nothing into it."""

    code = "session-unverified"

    def __init__(self, message: str, *, session_id: int | str | None = None, check: object = None) -> None:
        super().__init__(message, session_id=session_id, state="unverified")
        self.check = check


class SessionNotFoundError(NotFoundError, SessionGoneError):
    """404 ``{"msg": "Session 'x' not found."}`` on a /sessions path."""

    code = "session-not-found"

    def __init__(self, message: str, *, session_id: int | str | None = None, **kwargs: object) -> None:
        NotFoundError.__init__(self, message, **kwargs)  # type: ignore[arg-type]
        self.session_id = session_id
        self.state = None


class SessionInactiveError(BadRequestError, SessionGoneError):
    """400 ``{"msg": "requirement failed: Session isn't active."}``: statements were read or listed on
    a session that ended (dead, killed, shutting down). It is a :class:`SessionGoneError` and keeps
    that class's code."""

    code = "session-gone"

    def __init__(self, message: str, *, session_id: int | str | None = None, **kwargs: object) -> None:
        BadRequestError.__init__(self, message, **kwargs)  # type: ignore[arg-type]
        self.session_id = session_id
        self.state = None


class BatchNotFoundError(NotFoundError):
    """404 on a /batches path (Livy says "Session 'x' not found." there too)."""

    code = "batch-not-found"

    def __init__(self, message: str, *, batch_id: int | str | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.batch_id = batch_id


class StatementNotFoundError(NotFoundError):
    """404 with the bare string ``"Statement not found"`` (unknown or evicted statement)."""

    code = "statement-not-found"


class SessionNotReadyError(LivyHTTPError):
    """500 ``"java.lang.IllegalStateException: Session is in state starting"``: wait for idle."""

    code = "session-not-ready"

    def __init__(self, message: str, *, state: str | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.state = state


class ServerError(LivyHTTPError):
    """5xx that is not one of the above."""

    code = "server"


class WebHDFSError(LivyHTTPError):
    """A WebHDFS ``RemoteException`` (or a non-JSON WebHDFS/gateway error)."""

    code = "webhdfs"

    def __init__(
        self,
        message: str,
        *,
        exception: str | None = None,
        java_class_name: str | None = None,
        **kwargs: object,
    ) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.exception = exception
        self.java_class_name = java_class_name


class StatementFailedError(LivydError):
    """The statement ran and the code raised: ``ename``, ``evalue`` and ``traceback`` are Livy's."""

    code = "statement-failed"

    def __init__(
        self,
        message: str,
        *,
        ename: str,
        evalue: str,
        traceback: Sequence[str] = (),
        session_id: int | None = None,
        statement_id: int | None = None,
    ) -> None:
        super().__init__(message)
        self.ename = ename
        self.evalue = evalue
        self.traceback = list(traceback)
        self.session_id = session_id
        self.statement_id = statement_id


class StatementCancelledError(LivydError):
    """The statement was cancelled (by us or someone else)."""

    code = "statement-cancelled"

    def __init__(
        self, message: str, *, session_id: int | None = None, statement_id: int | None = None
    ) -> None:
        super().__init__(message)
        self.session_id = session_id
        self.statement_id = statement_id


class SubmissionUnknownError(LivydError):
    """A POST failed ambiguously and livyd could not establish whether it landed.

    livyd never re-sends such a POST blindly; the caller decides (the message says how to look).
    """

    code = "submission-unknown"
