"""Where the Spark UI and the driver/executor logs of a session are, seen from this machine.

Livy reports ``appInfo.sparkUiUrl`` (YARN's web proxy: ``http://rm:8088/proxy/<appId>/``),
``appInfo.driverLogUrl`` (the NodeManager's container log page) and, from 0.9,
``executorLogUrls`` (``name#url;name#url``). On a cluster those hosts are usually internal:
behind a Knox gateway the same pages are reached through the gateway's YARN UI services. A
profile can therefore give a URL *template* per kind of link (``[spark_ui] url`` and
``log_url`` in livyd.toml), expanded with:

=============  ==========================================================================
``{gateway}``  the Livy URL without its trailing ``/livy/v1`` or ``/livy`` (Knox's topology URL)
``{livy_url}`` the Livy URL
``{app_id}``   the session's application id
``{url}``      the URL Livy reported; ``{scheme}``, ``{host}``, ``{port}``, ``{path}``,
               ``{query}`` are its parts (``{path}`` starts with ``/``)
=============  ==========================================================================

e.g. ``url = "{gateway}/yarn/proxy/{app_id}"`` or
``log_url = "{gateway}/yarn/nodemanager{path}?scheme={scheme}&host={host}&port={port}"``.
"""

from __future__ import annotations

import string
from urllib.parse import urlsplit

from livyd._exceptions import ConfigError

__all__ = ["PLACEHOLDERS", "check_template", "expand_link", "gateway_root", "parse_executor_log_urls",
           "template_problem"]

PLACEHOLDERS = ("gateway", "livy_url", "app_id", "url", "scheme", "host", "port", "path", "query")


def gateway_root(livy_url: str) -> str:
    """The Livy URL without a trailing ``/livy/v1`` or ``/livy`` (a Knox topology's URL).

    >>> gateway_root("https://knox:8443/gateway/dev/livy/v1")
    'https://knox:8443/gateway/dev'
    """
    url = livy_url.rstrip("/")
    for suffix in ("/livy/v1", "/livy"):
        if url.endswith(suffix):
            return url[: -len(suffix)]
    return url


def template_problem(template: str) -> str | None:
    """What is wrong with a URL template (an unknown placeholder, a stray brace), or ``None``."""
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as exc:
        return f"{template!r} is not a valid URL template ({exc})"
    unknown = sorted({f for f in fields if f not in PLACEHOLDERS})
    if unknown:
        return (f"unknown placeholder {{{unknown[0]}}} in {template!r}; known: "
                + ", ".join("{" + p + "}" for p in PLACEHOLDERS))
    return None


def check_template(template: str, key: str) -> None:
    """A :class:`ConfigError` naming *key* for a template :func:`template_problem` refuses."""
    problem = template_problem(template)
    if problem:
        raise ConfigError(f"{key}: {problem}", key=key)


def expand_link(template: str | None, *, reported: str | None, livy_url: str, app_id: str | None,
                key: str) -> str | None:
    """The URL to use: *template* expanded (``None`` when it needs an ``{app_id}`` or ``{url}``
    that is not known yet), or the *reported* URL when there is no template."""
    if not template:
        return reported.rstrip("/") if reported else None
    check_template(template, key)
    fields = {f for _, f, _, _ in string.Formatter().parse(template) if f}
    if "app_id" in fields and not app_id:
        return None
    parts = urlsplit(reported or "")
    needs_url = fields & {"url", "scheme", "host", "port", "path", "query"}
    if needs_url and not reported:
        return None
    values = {
        "gateway": gateway_root(livy_url), "livy_url": livy_url.rstrip("/"), "app_id": app_id or "",
        "url": reported or "", "scheme": parts.scheme, "host": parts.hostname or "",
        "port": str(parts.port or ""), "path": parts.path or "/", "query": parts.query,
    }
    return template.format(**values).rstrip("/")


def parse_executor_log_urls(value: str | None) -> list[tuple[str, str]]:
    """Livy 0.9's ``executorLogUrls``: ``name#url;name#url`` as ``[(name, url), ...]``."""
    out: list[tuple[str, str]] = []
    for item in (value or "").split(";"):
        item = item.strip()
        if not item:
            continue
        name, sep, url = item.partition("#")
        out.append((name, url) if sep else (f"executor-{len(out) + 1}", name))
    return out
