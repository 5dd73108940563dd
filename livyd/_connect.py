"""From a resolved profile to live clients, including the embedded-sandbox fallback.

:func:`build_livy_client` and :func:`build_webhdfs_client` turn a :class:`~livyd._config.ResolvedConfig`
into a :class:`~livyd._client.LivyClient` / :class:`~livyd._webhdfs.WebHDFSClient`: authentication
via :func:`livyd._auth.build_auth` (given the environment merged with ``.env``, so LIVY_PASSWORD in
a project's ``.env`` works), TLS (verify / CA bundle / client certificate), proxy, timeouts,
connection limits and poll settings.

:func:`open_client` is what the CLI and the daemon use. When no Livy URL is configured anywhere
(no flag, no profile, no LIVY_URL, no livyd.toml) it starts an embedded sandbox
(:class:`livyd.sandbox.Sandbox`) in the current event loop, says so on stderr (never stdout: the
daemon speaks JSON-RPC there), and stops it when the block ends. That makes ``livyd exec
'sum(range(101))'`` work on a fresh machine.

Imports of the client, auth and sandbox modules happen inside the functions so that ``livyd
--version`` and argument errors stay fast.
"""

from __future__ import annotations

import ssl
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from livyd._config import ResolvedConfig
from livyd._exceptions import ConfigError
from livyd._logging import get_logger

if TYPE_CHECKING:
    from livyd._client import LivyClient
    from livyd._webhdfs import WebHDFSClient

__all__ = [
    "Connection",
    "build_livy_client",
    "build_webhdfs_client",
    "open_client",
    "open_connection",
    "tls_settings",
]

log = get_logger("livyd.connect")


def tls_settings(resolved: ResolvedConfig) -> tuple[bool | str, str | tuple[str, str] | None]:
    """Return ``(verify, cert)`` for httpx from the profile's ``tls`` table."""
    tls = resolved.profile.tls
    verify: bool | str = tls.verify
    if tls.verify and tls.ca_bundle is not None:
        if not tls.ca_bundle.is_file():
            raise ConfigError(
                f"{resolved.source_of('tls.ca_bundle')}: tls.ca_bundle {tls.ca_bundle} "
                "is not a readable file",
                source=resolved.source_of("tls.ca_bundle"), key="tls.ca_bundle",
            )
        try:  # a file that holds no certificate is a configuration error, not an ssl.SSLError
            ssl.create_default_context(cafile=str(tls.ca_bundle))
        except (ssl.SSLError, OSError, ValueError) as exc:
            raise ConfigError(
                f"{resolved.source_of('tls.ca_bundle')}: tls.ca_bundle {tls.ca_bundle} holds no usable "
                f"PEM certificate ({_ssl_reason(exc)})",
                source=resolved.source_of("tls.ca_bundle"), key="tls.ca_bundle",
            ) from None
        verify = str(tls.ca_bundle)
    cert: str | tuple[str, str] | None = None
    if tls.client_cert is not None:
        for key, path in (("tls.client_cert", tls.client_cert), ("tls.client_key", tls.client_key)):
            if path is not None and not path.is_file():
                raise ConfigError(f"{resolved.source_of(key)}: {key} {path} is not a readable file",
                                  source=resolved.source_of(key), key=key)
        try:
            ssl.create_default_context().load_cert_chain(
                str(tls.client_cert), str(tls.client_key) if tls.client_key else None)
        except (ssl.SSLError, OSError, ValueError) as exc:
            key = "tls.client_key" if tls.client_key is not None else "tls.client_cert"
            raise ConfigError(
                f"{resolved.source_of('tls.client_cert')}: tls.client_cert {tls.client_cert}"
                + (f" with tls.client_key {tls.client_key}" if tls.client_key else "")
                + f" is not a usable certificate and key ({_ssl_reason(exc)})",
                source=resolved.source_of("tls.client_cert"), key=key,
            ) from None
        cert = (str(tls.client_cert), str(tls.client_key)) if tls.client_key else str(tls.client_cert)
    elif tls.client_key is not None:
        raise ConfigError(
            f"{resolved.source_of('tls.client_key')}: tls.client_key is set but tls.client_cert is not",
            source=resolved.source_of("tls.client_key"), key="tls.client_cert",
        )
    return verify, cert


def _ssl_reason(exc: BaseException) -> str:
    """OpenSSL's reason (``NO_CERTIFICATE_OR_CRL_FOUND``, ``PEM_LIB``), never file contents."""
    reason = getattr(exc, "reason", None)
    return str(reason) if reason else type(exc).__name__


def _auth(resolved: ResolvedConfig, url: str, interactive: bool) -> tuple[Any, str]:
    from livyd._auth import build_auth, describe_auth

    cfg = resolved.profile.auth
    env = dict(resolved.env)
    return build_auth(cfg, url=url, interactive=interactive, env=env), describe_auth(cfg, env=env)


def build_livy_client(
    resolved: ResolvedConfig, *, url: str | None = None, interactive: bool = False, use_auth: bool = True,
    auth: tuple[Any, str] | None = None,
) -> LivyClient:
    """A :class:`LivyClient` for the resolved profile. *url* overrides the profile's URL;
    *use_auth* ``False`` talks without authentication (the embedded sandbox); *auth*, an
    ``(httpx.Auth, description)`` pair, replaces the profile's authentication (credentials an editor
    handed over). *interactive* allows a password prompt on a terminal. Raises
    :class:`ConfigError` when no URL is known."""
    from livyd._client import LivyClient, PollSettings

    p = resolved.profile
    target = url or p.url
    if not target:
        raise ConfigError("no Livy URL configured: set url in livyd.toml, LIVY_URL, or pass --url", key="url")
    if auth is None:
        auth = _auth(resolved, target, interactive) if use_auth else (None, "no authentication")
    verify, cert = tls_settings(resolved)
    return LivyClient(
        target,
        auth=auth[0],
        auth_description=auth[1],
        verify=verify,
        cert=cert,
        proxy=p.proxy,
        timeout=p.timeout,
        max_connections_per_host=p.max_connections,
        retries=p.retries,
        poll=PollSettings(initial=p.poll.initial, maximum=p.poll.maximum),
        keepalive_interval=p.poll.keepalive_interval,
        name_prefix=p.session.name_prefix,
        insight=p.spark_ui,
    )


def build_webhdfs_client(
    resolved: ResolvedConfig, *, url: str | None = None, interactive: bool = False, use_auth: bool = True
) -> WebHDFSClient:
    """A :class:`WebHDFSClient` for the profile's ``webhdfs`` table (same auth, TLS and proxy as
    Livy); *url* and *use_auth* as for :func:`build_livy_client`."""
    from livyd._webhdfs import WebHDFSClient

    p = resolved.profile
    target = url or p.webhdfs.url
    if not target:
        raise ConfigError("no WebHDFS URL configured: set webhdfs.url in livyd.toml", key="webhdfs.url")
    auth = _auth(resolved, target, interactive)[0] if use_auth else None
    verify, cert = tls_settings(resolved)
    return WebHDFSClient(
        target,
        auth=auth,
        user=p.webhdfs.user,
        doas=p.session.proxy_user,
        verify=verify,
        cert=cert,
        proxy=p.proxy,
        timeout=max(p.timeout, 60.0),
    )


def _stderr(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


@dataclass(frozen=True)
class Connection:
    """What :func:`open_connection` yields: the client, and the embedded sandbox's URLs if one runs."""

    client: LivyClient
    embedded: bool
    livy_url: str
    webhdfs_url: str | None


@asynccontextmanager
async def open_connection(
    resolved: ResolvedConfig,
    *,
    interactive: bool = False,
    announce: Callable[[str], None] | None = None,
    embedded_ok: bool = True,
) -> AsyncIterator[Connection]:
    """Open a Livy client for *resolved*; with no URL configured (and *embedded_ok*), start an
    embedded sandbox first and *announce* it (default: one line on stderr)."""
    if resolved.profile.url or not embedded_ok:
        async with build_livy_client(resolved, interactive=interactive) as client:
            yield Connection(client, False, client.url, resolved.profile.webhdfs.url)
        return

    from livyd.sandbox import Sandbox

    async with Sandbox() as sandbox:
        livy_url = str(sandbox.livy_url)
        (announce or _stderr)(f"no Livy configured: using an embedded sandbox at {livy_url}")
        log.info("embedded sandbox started", livy_url=livy_url, webhdfs_url=str(sandbox.webhdfs_url))
        async with build_livy_client(resolved, url=livy_url, use_auth=False) as client:
            yield Connection(client, True, livy_url, str(sandbox.webhdfs_url))


@asynccontextmanager
async def open_client(
    resolved: ResolvedConfig,
    *,
    interactive: bool = False,
    announce: Callable[[str], None] | None = None,
) -> AsyncIterator[LivyClient]:
    """``async with open_client(resolved) as client``: the configured Livy, or an embedded sandbox
    when none is configured (announced on stderr)."""
    async with open_connection(resolved, interactive=interactive, announce=announce) as conn:
        yield conn.client
