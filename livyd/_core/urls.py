"""Livy base URLs: normalisation, path building and relative ``Location`` headers.

The base URL is the *Livy root*: where ``/sessions`` lives. Directly that is
``http://host:8998``; through Knox it is ``https://knox:8443/gateway/<topology>/livy/v1`` (or
``.../livy``). People paste the URL they see in a browser, so a URL ending in ``/sessions``,
``/sessions/``, ``/batches`` or ``/version`` is accepted and cut back to the root.

``Location`` headers from Livy are *relative to the Livy root*, not to the host: Livy answers
``Location: /sessions/3`` even when it sits behind a gateway prefix, where resolving the path
against the host would lose ``/gateway/<topology>/livy/v1``. :func:`resolve_location` therefore
treats an absolute path as Livy-root-relative unless it already starts with the base path (a
gateway that rewrote it).
"""

from __future__ import annotations

from urllib.parse import quote, urljoin, urlsplit, urlunsplit

from livyd._exceptions import ConfigError, redact_url

__all__ = ["join_path", "normalize_base_url", "resolve_location"]

_ROOT_SUFFIXES = ("/sessions", "/batches", "/version")


def normalize_base_url(url: str) -> str:
    """Return the Livy root for *url*, without a trailing slash.

    Raises :class:`ConfigError` (naming the URL, without credentials) for a URL that is not
    ``http(s)://host[:port][/path]`` or that carries a query or fragment.

    >>> normalize_base_url("https://knox:8443/gateway/dev/livy/v1/sessions/")
    'https://knox:8443/gateway/dev/livy/v1'
    """
    text = (url or "").strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"Livy URL {redact_url(text)!r} is not a valid URL: {exc}", key="url") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"Livy URL {redact_url(text)!r} must look like http://host:8998 or "
            "https://host:8443/gateway/<topology>/livy/v1",
            key="url",
        )
    if parts.query or parts.fragment:
        raise ConfigError(f"Livy URL {redact_url(text)!r} must not have a query or fragment", key="url")
    del port
    path = parts.path.rstrip("/")
    changed = True
    while changed:
        changed = False
        for suffix in _ROOT_SUFFIXES:
            if path.endswith(suffix):
                path = path[: -len(suffix)].rstrip("/")
                changed = True
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def join_path(base: str, *segments: str | int) -> str:
    """``base`` + ``/seg1/seg2``, each segment percent-quoted (a session *name* may hold anything).

    >>> join_path("http://h:8998", "sessions", "my name", "log")
    'http://h:8998/sessions/my%20name/log'
    """
    quoted = "/".join(quote(str(s), safe="") for s in segments)
    return f"{base}/{quoted}" if quoted else base


def resolve_location(base: str, location: str) -> str:
    """Resolve a ``Location`` header against the Livy root *base*.

    - absolute URL: returned unchanged;
    - absolute path already under the base path (a gateway rewrote it): host + path;
    - other absolute path (``/sessions/3``, Livy's own form): Livy root + path;
    - relative path: joined to the root as a directory.
    """
    loc = location.strip()
    parts = urlsplit(loc)
    if parts.scheme and parts.netloc:
        return loc
    b = urlsplit(base)
    base_path = b.path.rstrip("/")
    if loc.startswith("/"):
        if base_path and (loc == base_path or loc.startswith(base_path + "/")):
            return urlunsplit((b.scheme, b.netloc, loc, "", ""))
        return base.rstrip("/") + loc
    return urljoin(base.rstrip("/") + "/", loc)
