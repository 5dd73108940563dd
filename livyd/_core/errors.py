"""An HTTP error response, whatever its body looks like, to the most specific livyd exception.

Livy's error bodies come in several shapes (livy-rest.md §1.3, §14):

- ``{"msg": "Session '7' not found."}``               Livy's own messages
- ``"Statement not found"``                           a bare JSON string (Jackson errors, 500s)
- ``<html>...<pre>Missing Required Header ...</pre>`` Jetty error pages from servlet filters
- an empty body                                       403 from ACL checks, 401 challenges
- ``{"RemoteException": {...}}``                      WebHDFS behind the same gateway

:func:`extract_message` reduces any of them to ``(message, body_kind)`` and :func:`map_http_error`
picks the class: 404 on a ``/sessions`` path is :class:`SessionNotFoundError` (also a
:class:`SessionGoneError`), on ``/batches`` :class:`BatchNotFoundError`, the bare string
``Statement not found`` is :class:`StatementNotFoundError`; 400 ``Session isn't active`` on a
``/sessions`` path (statements read on a session that ended) is :class:`SessionInactiveError`
(also a :class:`SessionGoneError`); 500 ``Session is in state X`` is
:class:`SessionNotReadyError` with ``state=X``; the CSRF filter's HTML 400 says which header was
missing; 401 names the authentication that was tried (and for Kerberos that a ticket is needed).

Messages carry the method and the *redacted* URL, never headers or credentials. A gateway's 404
(HTML, e.g. an unknown Knox topology) is a plain :class:`NotFoundError` with a hint that the URL
may be wrong, so a mistyped URL is never reported as "session gone".
"""

from __future__ import annotations

import html
import json
import re
from urllib.parse import unquote, urlsplit

from livyd._core.redact import redact_text
from livyd._exceptions import (
    AuthenticationError,
    BadRequestError,
    BatchNotFoundError,
    ForbiddenError,
    LivyHTTPError,
    NotFoundError,
    ServerError,
    SessionInactiveError,
    SessionNotFoundError,
    SessionNotReadyError,
    StatementNotFoundError,
    redact_url,
)

__all__ = ["extract_message", "map_http_error", "map_redirect", "resource_of"]

_REASONS = {
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    405: "Method Not Allowed", 406: "Not Acceptable", 409: "Conflict", 429: "Too Many Requests",
    500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
    504: "Gateway Timeout",
}
_STATE = re.compile(r"Session is in state (\w+)")
_INACTIVE = re.compile(r"session (isn't|is not|not) active", re.I)
_PRE = re.compile(r"<pre>(.*?)</pre>", re.I | re.S)
_TITLE = re.compile(r"<title>(.*?)</title>", re.I | re.S)
_H = re.compile(r"<h[1-3][^>]*>(.*?)</h[1-3]>", re.I | re.S)
_TAGS = re.compile(r"<[^>]+>")
_MAX = 500


def _clean(text: str) -> str:
    text = redact_text(" ".join(html.unescape(_TAGS.sub(" ", text)).split()))
    return text if len(text) <= _MAX else text[: _MAX - 1] + "…"


def extract_message(body: bytes, content_type: str | None = None) -> tuple[str | None, str]:
    """Return ``(message, body_kind)`` for an error body.

    ``body_kind`` is ``"msg"``, ``"string"``, ``"json"``, ``"html"``, ``"text"`` or ``"empty"``.
    """
    text = body.decode("utf-8", "replace").strip() if body else ""
    if not text:
        return None, "empty"
    ctype = (content_type or "").lower()
    if text.startswith(("{", "[", '"')) or "json" in ctype:
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):  # RecursionError: nested thousands deep
            value = None
        else:
            if isinstance(value, str):
                return _clean(value), "string"
            if isinstance(value, dict):
                if isinstance(value.get("msg"), str):
                    return _clean(value["msg"]), "msg"
                remote = value.get("RemoteException")
                if isinstance(remote, dict) and isinstance(remote.get("message"), str):
                    name = remote.get("exception", "RemoteException")
                    return _clean(f"{name}: {remote['message']}"), "json"
                for key in ("message", "error", "detail"):
                    if isinstance(value.get(key), str):
                        return _clean(value[key]), "json"
            return _clean(text), "json"
    if "html" in ctype or text[:100].lower().lstrip().startswith(("<!doctype", "<html", "<head", "<body")):
        for pattern in (_PRE, _TITLE, _H):
            m = pattern.search(text)
            if m and _clean(m.group(1)):
                return _clean(m.group(1)), "html"
        return _clean(text), "html"
    return _clean(text), "text"


def resource_of(url: str) -> tuple[str | None, str | None]:
    """``("sessions" | "batches" | None, id-or-name)`` from the path of a Livy URL.

    The *last* ``sessions``/``batches`` segment followed by an id wins, so a gateway prefix that
    happens to contain either word does not confuse it.
    """
    segments = [unquote(s) for s in urlsplit(url).path.split("/") if s]
    found: tuple[str | None, str | None] = (None, None)
    for i, seg in enumerate(segments[:-1]):
        if seg in ("sessions", "batches"):
            found = (seg, segments[i + 1])
    return found


def map_http_error(
    status: int,
    *,
    method: str,
    url: str,
    body: bytes = b"",
    content_type: str | None = None,
    auth_description: str = "no authentication",
    www_authenticate: str | None = None,
) -> LivyHTTPError:
    """Build (do not raise) the exception for an error response."""
    shown = redact_url(url)
    message, kind = extract_message(body, content_type)
    reason = _REASONS.get(status, "error")
    head = f"{method} {shown}: {status} {reason}"
    detail = f"{head}: {message}" if message else head
    common: dict[str, object] = {
        "status": status, "method": method, "url": url, "livy_message": message, "body_kind": kind,
    }
    resource, ident = resource_of(url)
    lowered = (message or "").lower()

    if status == 401:
        schemes = ""
        if www_authenticate:
            names = sorted({part.strip().split(" ")[0] for part in www_authenticate.split(",")
                            if part.strip() and "=" not in part.strip().split(" ")[0]})
            if names:
                schemes = f" (the server offers: {', '.join(names)})"
        text = f"Livy at {shown} answered 401 to {auth_description}{schemes}"
        if re.search(r"kerberos|spnego|negotiate|gssapi", auth_description, re.I):
            text += "; a valid Kerberos ticket is needed: run kinit (check with klist)"
        elif auth_description == "no authentication":
            text += "; configure authentication for this profile (auth = basic, bearer or kerberos)"
        return AuthenticationError(text, **common)  # type: ignore[arg-type]
    if status == 403:
        text = f"{detail}" if message else f"{head}: not allowed (the server gave no reason)"
        return ForbiddenError(text, **common)  # type: ignore[arg-type]
    if status == 404:
        if kind == "string" and "statement not found" in lowered:
            return StatementNotFoundError(f"{head}: statement not found (unknown, or evicted: Livy keeps "
                                          "the last 100)", **common)  # type: ignore[arg-type]
        if resource is not None and kind in ("msg", "string") and "not found" in lowered:
            if resource == "batches":
                return BatchNotFoundError(f"{head}: batch {ident} not found", batch_id=ident, **common)
            return SessionNotFoundError(f"{head}: session {ident} not found (it ended or was deleted)",
                                        session_id=ident, **common)
        if kind in ("html", "empty", "text"):
            return NotFoundError(f"{detail}: the Livy URL looks wrong (nothing Livy-like answers this path; "
                                 "direct it is http://host:8998, through Knox "
                                 "https://host:8443/gateway/<topology>/livy/v1)",
                                 **common)  # type: ignore[arg-type]
        return NotFoundError(detail, **common)  # type: ignore[arg-type]
    if status == 400:
        if "csrf" in lowered or (kind == "html" and "required header" in lowered):
            return BadRequestError(
                f"{detail} (the CSRF header was missing: Livy needs X-Requested-By and Knox needs "
                "X-XSRF-Header on writes; a proxy in between may strip them)",
                **common,  # type: ignore[arg-type]
            )
        if resource == "sessions" and _INACTIVE.search(message or ""):
            return SessionInactiveError(f"{head}: session {ident} is not active (it ended: dead, killed or "
                                        "shutting down)", session_id=ident, **common)
        return BadRequestError(detail, **common)  # type: ignore[arg-type]
    if status == 500:
        m = _STATE.search(message or "")
        if m:
            return SessionNotReadyError(f"{head}: session is {m.group(1)}, not ready for this request",
                                        state=m.group(1), **common)
    if status >= 500:
        return ServerError(detail, **common)  # type: ignore[arg-type]
    return LivyHTTPError(detail, **common)  # type: ignore[arg-type]


_SIGN_ON = re.compile(r"login|logon|signin|sign-in|sso|oauth|saml|auth", re.I)


def map_redirect(
    status: int,
    *,
    method: str,
    url: str,
    location: str | None,
    auth_description: str = "no authentication",
) -> LivyHTTPError:
    """Build the exception for a 3xx answer. Livy's API never redirects a client (only ``/`` to the
    web UI); a gateway that does is usually sending an unauthenticated caller to a browser sign-on
    page (Knox SSO, an OAuth proxy). livyd does not follow it: following would turn the login page
    into an empty, "successful" answer."""
    shown = redact_url(url)
    target = redact_url(location) if location else "(no Location)"
    common: dict[str, object] = {
        "status": status, "method": method, "url": url, "livy_message": None, "body_kind": "empty",
    }
    if location and _SIGN_ON.search(location):
        return AuthenticationError(
            f"{method} {shown}: {status} redirect to a sign-on page ({target}) with {auth_description}: "
            "this gateway wants a browser login; use a gateway topology (or URL) that accepts "
            "Kerberos, Basic or a token for API calls, and configure that auth for the profile",
            **common,  # type: ignore[arg-type]
        )
    return LivyHTTPError(
        f"{method} {shown}: {status} redirect to {target}; livyd does not follow redirects: set the "
        "profile's url to the Livy root (http://host:8998, or through Knox "
        "https://host:8443/gateway/<topology>/livy/v1)",
        **common,  # type: ignore[arg-type]
    )
