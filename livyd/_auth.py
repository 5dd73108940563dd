"""Authentication for Livy, WebHDFS and the gateways in front of them.

One frozen :class:`AuthConfig` per profile says *which* scheme to use; :func:`build_auth` turns it
into an :class:`httpx.Auth` (or ``None``) for one base URL, and :func:`describe_auth` says in words
what was tried, for error messages ("authentication failed for URL using HTTP Basic as user
'alice'") -- never a secret.

Schemes
-------
``none``
    No ``Authorization`` header (``build_auth`` returns ``None``).
``basic``
    HTTP Basic. The user comes from ``auth.username``, else ``LIVY_USER``. The password from
    ``auth.password``, else ``LIVY_PASSWORD``, else the OS keyring (service ``auth.keyring_service``,
    default ``"livyd"``; looked up under ``"<user>@<url host>"``, then ``"<url host>"``, then
    ``"<user>"``), else a prompt on the terminal when ``interactive``. Everything is resolved when
    the auth is built, so a missing value is a :class:`ConfigError` naming the variable up front.
``bearer``
    ``Authorization: Bearer <token>``. The token is ``auth.token``, else ``LIVY_TOKEN``, else the
    stdout of ``auth.token_command`` (shlex-split, no shell). The command runs lazily on the first
    request (in a worker thread), its result is cached, and it is run again once after a 401, so a
    command that mints short-lived tokens keeps working. A failing command is a
    :class:`ConfigError` naming the command's program and exit status -- never its output.
``kerberos``
    SPNEGO through httpx-gssapi (the ``livyd[kerberos]`` extra; without it
    :class:`MissingExtraError` names the extra and the system packages gssapi compiles against).

The hard parts of Kerberos
--------------------------
* **GSS steps block.** Creating the first security context may make a synchronous round trip to
  the KDC for a service ticket (and a keytab login one for the TGT). httpx-gssapi does that inside
  its synchronous ``auth_flow``, i.e. on the event loop. :class:`_SpnegoAuth` reuses its context
  construction and mutual-auth checking but overrides ``async_auth_flow`` so that every GSS call
  runs through :func:`anyio.to_thread.run_sync`; the sync ``auth_flow`` (for a sync client) shares
  the same helpers.
* **Tokens must not be logged.** httpx-gssapi logs the outgoing ``Authorization: Negotiate ...``
  header at DEBUG. Our flow never calls that code path, and the ``httpx_gssapi`` logger gets a
  redacting filter (and INFO level unless someone configured it), so a Negotiate token cannot
  reach a log even at debug level.
* **httpx-gssapi swallows GSS errors** (logs them and returns the 401). We raise instead: a GSS
  failure while answering a ``Negotiate`` challenge becomes an :class:`AuthenticationError` whose
  message carries the URL (redacted), the GSS library's explanation (e.g. "No Kerberos credentials
  available (default cache: FILE:/tmp/krb5cc_1000)") and what to do about it ("run kinit").
* **Cookies spare round trips.** A gateway (Knox's ``hadoop.auth``, mod_auth_gssapi sessions) sets a
  cookie after the first successful negotiation; httpx sends it back, the gateway answers 200
  without a challenge and no GSS step happens. With ``opportunistic = true`` the token is sent
  pre-emptively, except when the request already carries a cookie.
* **Hostnames.** The service principal is ``HTTP@<URL host>``; a host that does not canonicalise
  (``127.0.0.1``, a load balancer alias) needs ``target_name = "HTTP@real.host"``.
* **Keytab login.** ``principal`` + ``keytab`` acquire initiator credentials into a private
  in-memory ccache (no kinit, nothing written to the user's cache); acquisition is lazy, in the
  worker thread. Before each GSS step the credential's remaining lifetime is checked and a TGT that
  has expired (or has less than a minute left) is acquired afresh from the keytab: MIT's own
  refresh of keytab credentials runs at half-life and then waits 30 s between attempts, and
  Heimdal has none, so a long-lived client (the daemon) would otherwise fail the morning after.
* **Expired tickets.** The most common Kerberos complaint. A ticket from kinit is never renewed by
  livyd; each request builds a new security context from the credential cache, so after a fresh
  ``kinit`` the same client works again (a gateway's session cookie may even outlive the ticket). An
  expired ticket ("Ticket expired", "The referenced credential has expired") gives an
  :class:`AuthenticationError` saying that the Kerberos ticket of the cache's principal has
  expired and to run ``kinit <principal>``; the principal is read from the cache file itself (it is
  not secret and not a ticket) when the cache is a plain ``FILE:`` cache.
"""

from __future__ import annotations

import base64
import collections
import getpass
import logging
import os
import re
import shlex
import struct
import subprocess
import sys
import threading
from collections.abc import AsyncGenerator, Generator, Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import anyio.to_thread
import httpx
from pydantic import BaseModel, ConfigDict, SecretStr, field_validator

from livyd._exceptions import AuthenticationError, ConfigError, MissingExtraError, redact_url
from livyd._logging import get_logger

__all__ = [
    "KERBEROS_INSTALL_HINT",
    "AuthConfig",
    "BearerTokenAuth",
    "auth_failure_hint",
    "build_auth",
    "describe_auth",
    "kerberos_available",
]

log = get_logger(__name__)

KERBEROS_INSTALL_HINT = (
    "Kerberos authentication needs the optional extra: pip install 'livyd[kerberos]' "
    "(with pipx: pipx install 'livyd[kerberos]'). Its gssapi dependency compiles against the "
    "system Kerberos libraries: on Debian/Ubuntu apt-get install libkrb5-dev (plus krb5-user for "
    "kinit); on RHEL/Fedora dnf install krb5-devel krb5-workstation; on macOS Heimdal ships with "
    "the OS."
)

_TOKEN_COMMAND_TIMEOUT = 120.0


class AuthConfig(BaseModel):
    """How to authenticate to one Livy (and its WebHDFS / gateway). Part of a profile (``auth``).

    ========== ===========================================================================
    type       ``none`` | ``basic`` | ``bearer`` | ``kerberos``
    basic      ``username`` (else ``LIVY_USER``), ``password`` (else ``LIVY_PASSWORD``, the
               keyring under ``keyring_service``, or a prompt on a terminal)
    bearer     ``token`` (else ``LIVY_TOKEN``) or ``token_command`` (its stdout is the token)
    kerberos   ``principal`` + ``keytab`` (login without kinit), ``delegate``, ``mutual``,
               ``target_name`` (``HTTP@host`` when the URL host does not canonicalise, or a
               full principal ``HTTP/host@REALM``),
               ``opportunistic`` (send the token on the first request)
    ========== ===========================================================================
    """

    # defer_build: the schema is built when the model is first used, not at import (start-up)
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, defer_build=True)

    type: Literal["none", "basic", "bearer", "kerberos"] = "none"
    username: str | None = None
    password: SecretStr | None = None
    keyring_service: str = "livyd"
    token: SecretStr | None = None
    token_command: str | None = None
    principal: str | None = None
    keytab: Path | None = None
    delegate: bool = False
    mutual: Literal["disabled", "optional", "required"] = "disabled"
    target_name: str | None = None
    opportunistic: bool = False

    @field_validator("type", "mutual", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("token_command")
    @classmethod
    def _command(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            argv = shlex.split(value)
        except ValueError as exc:
            raise ValueError(f"not a valid command line ({exc})") from None
        if not argv:
            raise ValueError("must not be empty")
        return value

    @field_validator("target_name")
    @classmethod
    def _target(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be empty (e.g. 'HTTP@gateway.example.com')")
        return value.strip() if value is not None else None


# --------------------------------------------------------------------------- helpers


def kerberos_available() -> bool:
    """True when httpx-gssapi (and therefore gssapi) can be imported."""
    try:
        import httpx_gssapi  # noqa: F401
    except Exception:  # ImportError, or an OSError from a broken libgssapi
        return False
    return True


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


def _program(command: str) -> str:
    """The program name of a token command: enough to name it, without arguments that may be secret."""
    try:
        argv = shlex.split(command)
    except ValueError:
        return "<unparseable command>"
    return argv[0] if argv else "<empty command>"


def describe_auth(cfg: AuthConfig, *, env: Mapping[str, str] | None = None) -> str:
    """Say in words which authentication *cfg* uses, for messages. Never contains a secret.

    >>> describe_auth(AuthConfig(type="basic", username="alice"))
    "HTTP Basic as user 'alice'"
    """
    environ = os.environ if env is None else env
    if cfg.type == "none":
        return "no authentication"
    if cfg.type == "basic":
        user = cfg.username or environ.get("LIVY_USER")
        if user:
            return f"HTTP Basic as user {user!r}"
        return "HTTP Basic (no user configured: set auth.username or LIVY_USER)"
    if cfg.type == "bearer":
        if cfg.token is not None:
            return "a bearer token from the profile (auth.token)"
        if environ.get("LIVY_TOKEN"):
            return "a bearer token from LIVY_TOKEN"
        if cfg.token_command:
            program = _program(cfg.token_command)
            return f"a bearer token printed by the command {program!r} (auth.token_command)"
        return "a bearer token (none configured: set LIVY_TOKEN or auth.token_command)"
    # kerberos
    if cfg.principal and cfg.keytab:
        who = f"as principal {cfg.principal!r} from keytab {str(cfg.keytab)!r}"
    else:
        who = "as the ticket in the credential cache"
    extras = []
    if cfg.target_name:
        extras.append(f"service {cfg.target_name!r}")
    if cfg.delegate:
        extras.append("delegating credentials")
    if cfg.mutual != "disabled":
        extras.append(f"mutual authentication {cfg.mutual}")
    suffix = f" ({', '.join(extras)})" if extras else ""
    return f"Kerberos (SPNEGO) {who}{suffix}"


def auth_failure_hint(cfg: AuthConfig) -> str:
    """What a user should do after a 401 with *cfg*: one sentence for the error message."""
    if cfg.type == "none":
        return ("the server requires authentication: set auth.type in the profile "
                "(basic, bearer or kerberos) or LIVY_AUTH")
    if cfg.type == "basic":
        return "check the user and password (auth.username / LIVY_USER, LIVY_PASSWORD or the keyring)"
    if cfg.type == "bearer":
        return "the token was refused: check LIVY_TOKEN / auth.token_command (it may have expired)"
    if cfg.principal and cfg.keytab:
        return (f"a Kerberos ticket is needed: check that keytab {str(cfg.keytab)!r} holds keys "
                f"for {cfg.principal!r} (klist -kt), or run kinit")
    return "a Kerberos ticket is needed: run kinit (klist shows the credential cache)"


# --------------------------------------------------------------------------- basic


def _keyring_password(service: str, user: str, host: str) -> str | None:
    try:
        import keyring
        import keyring.errors
    except Exception:
        return None
    keys = [f"{user}@{host}", host, user] if host else [user]
    for key in keys:
        try:
            value = keyring.get_password(service, key)
        except Exception as exc:  # no backend, locked keychain, D-Bus trouble ...
            log.debug("keyring lookup failed", service=service, error_type=type(exc).__name__)
            return None
        if value:
            log.debug("password taken from the keyring", service=service, key=key)
            return str(value)
    return None


def _prompt_line(prompt: str) -> str:
    """Read one line from the terminal, prompting on stderr (stdout belongs to results/JSON-RPC)."""
    sys.stderr.write(prompt)
    sys.stderr.flush()
    return sys.stdin.readline().strip()


def _can_prompt(interactive: bool) -> bool:
    try:
        return interactive and sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def _basic(cfg: AuthConfig, url: str, interactive: bool, environ: Mapping[str, str]) -> httpx.Auth:
    host = _host(url)
    where = redact_url(url)
    user = cfg.username or environ.get("LIVY_USER") or None
    if not user:
        if _can_prompt(interactive):
            user = _prompt_line(f"User for {where}: ") or None
        if not user:
            raise ConfigError(
                f"HTTP Basic authentication for {where} needs a user: set auth.username in the "
                "profile or the variable LIVY_USER", key="auth.username")
    password: str | None = cfg.password.get_secret_value() if cfg.password is not None else None
    if not password:
        password = environ.get("LIVY_PASSWORD") or None
    if not password:
        password = _keyring_password(cfg.keyring_service, user, host)
    if not password and _can_prompt(interactive):
        password = getpass.getpass(f"Password for {user} at {where}: ", stream=sys.stderr) or None
    if not password:
        raise ConfigError(
            f"HTTP Basic authentication for {where} as user {user!r} needs a password: set the "
            f"variable LIVY_PASSWORD, store it in the keyring (keyring set {cfg.keyring_service} "
            f"{user}@{host or '<host>'}), or run on a terminal to be prompted", key="auth.password")
    return httpx.BasicAuth(user, password)


# --------------------------------------------------------------------------- bearer


#: After this many seconds a token command that has not finished is named on stderr (it may be
#: waiting for a browser login or a hardware key, or be stuck), then waited for up to the timeout.
_TOKEN_COMMAND_NOTICE = 3.0


def _run_saying_when_slow(argv: list[str], program: str) -> subprocess.CompletedProcess[bytes]:
    """Run the token command; if it is still running after a few seconds, say so (a command that
    hangs otherwise looks like livyd hanging), then wait until the timeout, killing it then."""
    with subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE) as proc:
        try:
            out, _ = proc.communicate(timeout=_TOKEN_COMMAND_NOTICE)
        except subprocess.TimeoutExpired:
            log.warning(f"waiting for auth.token_command {program!r} to print a token (still running after "
                        f"{_TOKEN_COMMAND_NOTICE:.0f} s; given up after {_TOKEN_COMMAND_TIMEOUT:.0f} s)")
            try:
                out, _ = proc.communicate(timeout=_TOKEN_COMMAND_TIMEOUT - _TOKEN_COMMAND_NOTICE)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
                raise
        return subprocess.CompletedProcess(argv, proc.returncode, out, None)


class BearerTokenAuth(httpx.Auth):
    """``Authorization: Bearer`` from a fixed token, or from a command run lazily (and again after a 401).

    The command runs without a shell; its stdout (stripped) is the token; its stderr goes to ours,
    like a git credential helper. Errors name the program and the exit status, never the output.
    """

    def __init__(self, *, token: str | None = None, command: str | None = None) -> None:
        if token is None and command is None:
            raise ValueError("BearerTokenAuth needs a token or a command")
        self._token = token
        self._command = command
        self._lock = threading.Lock()

    def _run_command(self) -> str:
        assert self._command is not None
        argv = shlex.split(self._command)
        program = argv[0]
        try:
            proc = _run_saying_when_slow(argv, program)
        except FileNotFoundError:
            raise ConfigError(f"auth.token_command: the program {program!r} was not found",
                              key="auth.token_command") from None
        except PermissionError:
            raise ConfigError(f"auth.token_command: the program {program!r} is not executable",
                              key="auth.token_command") from None
        except subprocess.TimeoutExpired:
            raise ConfigError(f"auth.token_command: {program!r} did not finish within "
                              f"{_TOKEN_COMMAND_TIMEOUT:.0f} s", key="auth.token_command") from None
        if proc.returncode != 0:
            raise ConfigError(f"auth.token_command: {program!r} failed with exit status {proc.returncode}",
                              key="auth.token_command")
        token = proc.stdout.decode("utf-8", "replace").strip()
        if not token:
            raise ConfigError(f"auth.token_command: {program!r} printed no token on stdout",
                              key="auth.token_command")
        if any(c in token for c in "\r\n\0"):
            raise ConfigError(f"auth.token_command: {program!r} printed more than one line; "
                              "expected only the token", key="auth.token_command")
        return token

    def _current(self, *, refresh: bool = False) -> str:
        with self._lock:
            if self._command is not None and (refresh or self._token is None):
                self._token = self._run_command()
            assert self._token is not None
            return self._token

    @staticmethod
    def _apply(request: httpx.Request, token: str) -> None:
        request.headers["Authorization"] = f"Bearer {token}"

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self._current()
        self._apply(request, token)
        response = yield request
        if response.status_code == 401 and self._command is not None:
            fresh = self._current(refresh=True)
            if fresh != token:
                self._apply(request, fresh)
                yield request

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await anyio.to_thread.run_sync(self._current) if self._command else self._current()
        self._apply(request, token)
        response = yield request
        if response.status_code == 401 and self._command is not None:
            fresh = await anyio.to_thread.run_sync(lambda: self._current(refresh=True))
            if fresh != token:
                self._apply(request, fresh)
                yield request


def _bearer(cfg: AuthConfig, url: str, environ: Mapping[str, str]) -> httpx.Auth:
    if cfg.token is not None and cfg.token.get_secret_value():
        return BearerTokenAuth(token=cfg.token.get_secret_value())
    if environ.get("LIVY_TOKEN"):
        return BearerTokenAuth(token=environ["LIVY_TOKEN"].strip())
    if cfg.token_command:
        return BearerTokenAuth(command=cfg.token_command)
    raise ConfigError(
        f"bearer authentication for {redact_url(url)} needs a token: set the variable LIVY_TOKEN "
        "or auth.token_command in the profile (a command that prints the token)", key="auth.token")


# --------------------------------------------------------------------------- kerberos

_NEGOTIATE = re.compile(r"(Negotiate|Bearer|Basic)\s+[A-Za-z0-9+/=._~-]+", re.I)
_BYTES = re.compile(r"b(['\"]).{8,}?\1", re.S)


class _RedactNegotiateFilter(logging.Filter):
    """Rewrites ``httpx_gssapi`` records so no token (header value or raw bytes) can be logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            message = str(record.msg)
        redacted = _BYTES.sub("<redacted bytes>", _NEGOTIATE.sub(r"\1 <redacted>", message))
        if redacted != message or record.args:
            record.msg = redacted
            record.args = ()
        return True


_FILTER = _RedactNegotiateFilter()


def _silence_httpx_gssapi() -> None:
    # Logger filters only see records logged on that very logger, not those propagated from
    # children, so the filter goes on the module logger httpx-gssapi actually uses as well.
    for name in ("httpx_gssapi", "httpx_gssapi.gssapi_"):
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
    parent = logging.getLogger("httpx_gssapi")
    if parent.level == logging.NOTSET:
        parent.setLevel(logging.INFO)


#: How MIT and Heimdal say that the ticket (or the credential made from it) is past its end time.
_EXPIRED = re.compile(r"Ticket expired|ticket has expired|credential has expired|"
                      r"credentials have expired|expired credential", re.I)

#: A keytab credential is acquired afresh when it has less than this left (seconds), so that the
#: service ticket obtained with it does not expire in the middle of a request.
_KEYTAB_REFRESH_MARGIN = 60

_HINTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"No Kerberos credentials|credentials cache.*not found|No credentials cache|"
                r"Credentials cache.*(?:not found|permission)", re.I),
     "run kinit (or set auth.principal and auth.keytab to log in from a keytab)"),
    (re.compile(r"not found in Kerberos database|Server not found", re.I),
     "the service principal is unknown to the KDC: if the URL host is an IP address or an alias, "
     "set auth.target_name (e.g. 'HTTP@gateway.example.com')"),
    (re.compile(r"Cannot find KDC|Cannot contact any KDC|Cannot resolve", re.I),
     "the KDC cannot be reached: check KRB5_CONFIG / /etc/krb5.conf and the network"),
    (re.compile(r"Key table|keytab|No key table entry", re.I),
     "check auth.keytab and auth.principal (klist -kt KEYTAB)"),
    (re.compile(r"Clock skew", re.I), "the clocks of this machine and the KDC differ too much"),
)


def _gss_detail(exc: BaseException) -> str:
    """The GSS library's own words (major/minor messages), without a token (they never hold one)."""
    messages: list[str] = []
    gen = getattr(exc, "gen_message", None)
    if callable(gen):
        try:
            messages.append(str(gen()))
        except Exception:
            pass
    if not messages:
        messages.append(str(exc) or type(exc).__name__)
    detail = " ".join(messages)
    # The minor status carries the interesting part; drop gssapi's boilerplate around it.
    minor = re.search(r"Minor \(\d+\):\s*(.+)$", detail, re.S)
    major = re.search(r"Major \(\d+\):\s*(.+?)(?:, Minor|$)", detail, re.S)
    # MIT reports e.g. an expired credential as major "The referenced credential has expired",
    # minor "Success": a minor message that says nothing must not hide the major one.
    minor_text = minor.group(1).strip() if minor else ""
    if minor_text and "Unknown error" not in minor_text and minor_text.rstrip(".").lower() != "success":
        text = minor_text
    elif major:
        text = major.group(1).strip()
    else:
        text = detail.strip()
    text = re.sub(r"\s+", " ", text.replace("\x00", " ")).strip()
    return _NEGOTIATE.sub(r"\1 <redacted>", text).rstrip(".")


def _ccache_principal() -> str | None:
    """The default principal of the default credential cache, when it is a plain ``FILE:`` cache.

    Best effort, for messages only ("run kinit alice@EXAMPLE.COM"): the principal is the first
    thing in the file, ahead of any ticket, and is read even when every ticket has expired (GSS
    refuses to say whose they were then). Any other cache type, or any doubt, gives ``None``.
    """
    try:
        from gssapi.raw import ext_krb5

        name = ext_krb5.krb5_ccache_name(None)  # the name in effect (KRB5CCNAME, krb5.conf, built-in)
        text = name.decode("utf-8", "replace") if isinstance(name, bytes) else str(name or "")
    except Exception:
        text = os.environ.get("KRB5CCNAME", "")
    if text.startswith("FILE:"):
        text = text[len("FILE:"):]
    if not text.startswith("/"):
        return None
    try:
        with open(text, "rb") as f:
            data = f.read(4096)
    except OSError:
        return None
    return _parse_ccache_principal(data)


def _parse_ccache_principal(data: bytes) -> str | None:
    """``name/instance@REALM`` from the start of an MIT/Heimdal FILE ccache (versions 3 and 4)."""
    try:
        if data[0] != 5 or data[1] not in (3, 4):
            return None
        pos = 2
        if data[1] == 4:
            (header_len,) = struct.unpack_from(">H", data, pos)
            pos += 2 + header_len
        _name_type, count = struct.unpack_from(">II", data, pos)
        pos += 8
        if not 0 < count <= 16:
            return None
        parts: list[str] = []
        for _ in range(count + 1):  # the realm, then the components
            (length,) = struct.unpack_from(">I", data, pos)
            pos += 4
            if length > 1024 or pos + length > len(data):
                return None
            parts.append(data[pos:pos + length].decode("utf-8"))
            pos += length
    except (IndexError, struct.error, UnicodeDecodeError):
        return None
    realm, components = parts[0], parts[1:]
    principal = "/".join(components) + "@" + realm
    return principal if re.fullmatch(r"[^\s@]+@[^\s@]+", principal) else None


def _explain(detail: str, cfg: AuthConfig, principal: str | None = None) -> str:
    """The end of an authentication error: what went wrong (GSS's words) and what to do about it.

    An expired ticket is said in plain words, naming the principal when it is known (the keytab
    principal, else *principal*, the one in the credential cache)."""
    if _EXPIRED.search(detail):
        if cfg.principal and cfg.keytab:
            return (f"the Kerberos ticket of {cfg.principal} has expired and could not be renewed "
                    f"from keytab {str(cfg.keytab)!r} ({detail}): check the keytab (klist -kt) and "
                    "the KDC, or run kinit")
        if principal:
            return (f"the Kerberos ticket of {principal} has expired ({detail}): run kinit {principal} "
                    "to get a new one, then retry")
        return (f"the Kerberos ticket has expired ({detail}): run kinit to get a new one "
                "(klist shows whose it was), then retry")
    return f"{detail}: {_hint_for(detail, cfg)}"


def _hint_for(detail: str, cfg: AuthConfig) -> str:
    for pattern, hint in _HINTS:
        if pattern.search(detail):
            if "kinit" in hint and cfg.principal and cfg.keytab:
                return (f"check that keytab {str(cfg.keytab)!r} holds keys for {cfg.principal!r} "
                        "(klist -kt), or run kinit")
            return hint
    return "run kinit, or check the Kerberos configuration (KRB5_CONFIG, klist)"


class _GSSFailure(Exception):
    """A GSS step failed; ``detail`` is the GSS library's explanation (no token, ever), and
    ``principal`` the credential cache's principal when the ticket expired (for "run kinit ...")."""

    def __init__(self, detail: str, principal: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.principal = principal


def _make_spnego_auth(cfg: AuthConfig, url: str) -> httpx.Auth:
    """Build the SPNEGO auth object (imports httpx-gssapi; the caller checked it is installed)."""
    import gssapi
    from gssapi.raw.misc import GSSError
    from httpx_gssapi import HTTPSPNEGOAuth
    from httpx_gssapi.exceptions import MutualAuthenticationError
    from httpx_gssapi.gssapi_ import DISABLED, OPTIONAL, REQUIRED, _negotiate_value

    _silence_httpx_gssapi()
    mutual = {"disabled": DISABLED, "optional": OPTIONAL, "required": REQUIRED}[cfg.mutual]

    class _SpnegoAuth(HTTPSPNEGOAuth):
        """httpx-gssapi's SPNEGO with every GSS call in a worker thread and errors made explicit."""

        def __init__(self) -> None:
            target: Any = cfg.target_name or "HTTP"
            if "/" in target:  # a full principal, "HTTP/gw.example.com@REALM"
                target = gssapi.Name(target, gssapi.NameType.kerberos_principal)
            super().__init__(mutual_authentication=mutual, target_name=target,
                             delegate=cfg.delegate, opportunistic_auth=cfg.opportunistic)
            self._creds_lock = threading.Lock()
            self._creds_ready = not (cfg.principal and cfg.keytab)
            #: how often credentials were acquired from the keytab (tests and diagnostics)
            self.keytab_logins = 0
            #: idents of the threads the latest GSS calls ran in (bounded; tests and diagnostics)
            self.step_threads: collections.deque[int] = collections.deque(maxlen=256)

        # -- blocking helpers, run in a worker thread by the async flow ----------------------

        def _ensure_creds(self) -> None:
            """Keytab login: acquire the TGT on first use, and again once it has (nearly) expired."""
            if self._creds_ready and not self._creds_stale():
                return
            with self._creds_lock:
                if self._creds_ready and not self._creds_stale():
                    return
                name = gssapi.Name(cfg.principal, gssapi.NameType.kerberos_principal)
                store: dict[bytes | str, bytes | str] = {
                    "client_keytab": str(cfg.keytab),
                    "ccache": f"MEMORY:livyd-{id(self)}",
                }
                # With an expired TGT in the (same) private ccache, acquiring from the keytab
                # fetches a new one; nothing else holds that ccache.
                self.creds = gssapi.Credentials(name=name, usage="initiate", store=store)
                self.keytab_logins += 1
                self._creds_ready = True

        def _creds_stale(self) -> bool:
            """True when the keytab credential has expired or is about to (never for kinit's)."""
            if self.creds is None or not (cfg.principal and cfg.keytab):
                return False
            try:
                remaining = self.creds.lifetime
            except GSSError:  # ExpiredCredentialsError, or the ccache is unusable: acquire again
                return True
            return remaining is not None and remaining < _KEYTAB_REFRESH_MARGIN

        def _step(self, request: httpx.Request, response: httpx.Response | None) -> Any:
            """Create a context, step it with the server's token (if any), set the header.

            Runs in a worker thread. A GSS failure becomes :class:`_GSSFailure` carrying a useful
            explanation (never a token); the token itself is never logged."""
            self.step_threads.append(threading.get_ident())
            try:
                self._ensure_creds()
                ctx = self._make_context.__wrapped__(self, request)
                token = _negotiate_value(response) if response is not None else None
                out = ctx.step(token or None)
            except GSSError as exc:
                detail = self._diagnose(exc)
                expired_cache = _EXPIRED.search(detail) and not (cfg.principal and cfg.keytab)
                raise _GSSFailure(detail, _ccache_principal() if expired_cache else None) from None
            request.headers["Authorization"] = f"Negotiate {base64.b64encode(out or b'').decode()}"
            return ctx

        def _diagnose(self, exc: BaseException) -> str:
            """SPNEGO hides the real cause ("cannot find mechanisms to negotiate"): ask krb5 itself."""
            detail = _gss_detail(exc)
            if "cannot find mechanisms" in detail or "No credentials were supplied" in detail:
                try:
                    if self.creds is None:
                        gssapi.Credentials(usage="initiate", mechs=[gssapi.MechType.kerberos])
                except GSSError as inner:
                    detail = _gss_detail(inner)
            return detail

        def _mutual(self, response: httpx.Response, ctx: Any) -> None:
            self.step_threads.append(threading.get_ident())
            try:
                self.handle_mutual_auth(response, ctx)
            except MutualAuthenticationError:
                raise AuthenticationError(
                    f"Kerberos (SPNEGO) mutual authentication of the server {redact_url(str(response.url))} "
                    f"failed (auth.mutual = {cfg.mutual!r}): the response is not trusted",
                    status=response.status_code, method=response.request.method,
                    url=str(response.url)) from None

        def _failure(self, exc: _GSSFailure, response: httpx.Response) -> AuthenticationError:
            detail = exc.detail
            where = redact_url(str(response.request.url))
            # debug only: the error raised next carries all of it, and the CLI prints that once
            log.debug("kerberos negotiation failed", url=where, detail=detail)
            return AuthenticationError(
                f"authentication failed for {response.request.method} {where} using "
                f"{describe_auth(cfg)}: {_explain(detail, cfg, exc.principal)}",
                status=response.status_code, method=response.request.method, url=str(response.request.url))

        def _wants_opportunistic(self, request: httpx.Request) -> bool:
            # A gateway cookie (hadoop.auth, mod_auth_gssapi session) makes the token unnecessary.
            return bool(self.opportunistic_auth) and "cookie" not in request.headers

        # -- flows -----------------------------------------------------------------------------

        def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
            ctx = None
            if self._wants_opportunistic(request):
                try:
                    ctx = self._step(request, None)
                except _GSSFailure:
                    ctx = None  # the 401 path below reports it properly
            response = yield request
            tries = 0
            while response.status_code == 401 and tries < 2 and _negotiate_value(response) is not None:
                tries += 1
                try:
                    ctx = self._step(response.request, response)
                except _GSSFailure as exc:
                    raise self._failure(exc, response) from None
                response = yield response.request
            if response.status_code != 401 and ctx is not None and self.mutual_authentication != DISABLED:
                self._mutual(response, ctx)

        async def async_auth_flow(
            self, request: httpx.Request
        ) -> AsyncGenerator[httpx.Request, httpx.Response]:
            ctx = None
            if self._wants_opportunistic(request):
                try:
                    ctx = await anyio.to_thread.run_sync(self._step, request, None)
                except _GSSFailure:
                    ctx = None
            response = yield request
            tries = 0
            while response.status_code == 401 and tries < 2 and _negotiate_value(response) is not None:
                tries += 1
                try:
                    ctx = await anyio.to_thread.run_sync(self._step, response.request, response)
                except _GSSFailure as exc:
                    raise self._failure(exc, response) from None
                response = yield response.request
            if response.status_code != 401 and ctx is not None and self.mutual_authentication != DISABLED:
                await anyio.to_thread.run_sync(self._mutual, response, ctx)

    return _SpnegoAuth()


def _kerberos(cfg: AuthConfig, url: str) -> httpx.Auth:
    if not kerberos_available():
        raise MissingExtraError(KERBEROS_INSTALL_HINT, extra="kerberos")
    if bool(cfg.principal) != bool(cfg.keytab):
        missing = "auth.keytab" if cfg.principal else "auth.principal"
        raise ConfigError(f"Kerberos keytab login needs both auth.principal and auth.keytab; {missing} is "
                          "missing (leave both unset to use the ticket from kinit)", key=missing)
    if cfg.keytab is not None:
        keytab = cfg.keytab.expanduser()
        if not keytab.is_file():
            raise ConfigError(f"auth.keytab: no such file: {keytab}", key="auth.keytab")
        if not os.access(keytab, os.R_OK):
            raise ConfigError(f"auth.keytab: not readable: {keytab}", key="auth.keytab")
        if keytab != cfg.keytab:
            cfg = cfg.model_copy(update={"keytab": keytab})
    return _make_spnego_auth(cfg, url)


# --------------------------------------------------------------------------- entry point


def build_auth(cfg: AuthConfig, *, url: str, interactive: bool = False,
               env: Mapping[str, str] | None = None) -> httpx.Auth | None:
    """Build the :class:`httpx.Auth` for *cfg* against the base *url* (``None`` for ``type = "none"``).

    *env* replaces ``os.environ`` for LIVY_USER / LIVY_PASSWORD / LIVY_TOKEN (the config layer passes
    the environment merged with ``.env``). With *interactive* and a terminal on stdin, a missing
    Basic user or password is prompted for (on stderr). Raises :class:`ConfigError` naming the
    missing variable or key, or :class:`MissingExtraError` for Kerberos without ``livyd[kerberos]``.
    """
    environ = os.environ if env is None else env
    if cfg.type == "none":
        return None
    if cfg.type == "basic":
        return _basic(cfg, url, interactive, environ)
    if cfg.type == "bearer":
        return _bearer(cfg, url, environ)
    return _kerberos(cfg, url)
