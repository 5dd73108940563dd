"""Masking credentials in free text and structures (pure; used by error messages and logging).

Values stored under secret-looking keys (``authorization``, ``cookie``, ``password``, ``token``,
``keytab``, ...) become ``"***"``; strings get ``Negotiate``/``Basic``/``Bearer`` credentials, URL
user-info, secret-looking query parameters and ``Cookie``/``Authorization`` header values masked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["MASK", "is_secret_conf_key", "redact", "redact_conf", "redact_text"]

_SECRET_KEY = re.compile(
    r"(authorization|cookie|password|passwd|secret|token|api[_-]?key|keytab|credential|negotiate|"
    r"delegation|private[_-]?key)", re.I)
# A credential after an auth scheme: header-style capitalisation, and a token that looks like one
# (8+ characters with a digit or base64 punctuation), so "Basic authentication" stays readable.
_AUTH_VALUE = re.compile(r"\b(Negotiate|Basic|Bearer|Kerberos|Digest|NEGOTIATE|BASIC|BEARER)\s+"
                         r"(?=[A-Za-z0-9+/=._~-]*[0-9+/=])[A-Za-z0-9+/=._~-]{8,}")
# The scheme is bounded: an unbounded one backtracks quadratically over a long word (a 100 KB
# value took minutes to redact).
_USERINFO = re.compile(r"(?P<scheme>\b[a-z][a-z0-9+.-]{0,31}://)[^/@\s:]+(:[^/@\s]*)?@", re.I)
_QUERY_SECRET = re.compile(r"([?&](?:[a-z._-]*"
                           r"(?:token|password|passwd|secret|delegation|signature|sig|key|auth)"
                           r"[a-z._-]*)=)[^&\s#\"']*", re.I)
_HEADER_LINE = re.compile(r"((?:proxy-)?authorization|cookie|set-cookie)(\s*[:=]\s*)([^\r\n,;]+)", re.I)
# httpcore's trace events log headers as tuple reprs: [(b'Set-Cookie', b'hadoop.auth=...'), ...]
_HEADER_TUPLE = re.compile(
    r"""(\(\s*b?(['"])(?:(?:proxy-)?authorization|cookie|set-cookie|www-authenticate)\2\s*,\s*b?(['"]))"""
    r"""(.*?)(?<!\\)\3""", re.I)
MASK = "***"


def redact_text(text: str) -> str:
    """Mask credentials inside a free-form string."""
    text = _HEADER_TUPLE.sub(lambda m: m.group(1) + MASK + m.group(3), text)
    text = _AUTH_VALUE.sub(lambda m: f"{m.group(1)} {MASK}", text)
    text = _USERINFO.sub(lambda m: m.group("scheme"), text)
    text = _QUERY_SECRET.sub(lambda m: m.group(1) + MASK, text)
    return _HEADER_LINE.sub(lambda m: m.group(1) + m.group(2) + MASK, text)


def redact(value: Any, key: str | None = None) -> Any:
    """Return *value* with secrets masked (recursively); *key* is the name it was stored under."""
    if key is not None and _SECRET_KEY.search(key) and value not in (None, "", False):
        return MASK
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact(v) for v in value)
    if isinstance(value, bytes):
        return redact_text(value.decode("utf-8", "replace"))
    return value


# Spark/Hadoop property names are dotted and camelCased: "spark.hadoop.fs.s3a.secret.key",
# "spark.ssl.keyPassword", "fs.azure.account.key.<account>.blob.core.windows.net",
# "spark.hadoop.fs.s3a.access.key". A part that is (or ends with) "key" counts as well, beyond the
# words _SECRET_KEY knows; "spark.ssl.keyStore" or "keySizeBits" do not end with "key".
_CONF_SECRET_PART = re.compile(r"(^|[_-])(key|keys|sas|signature|pass|pwd)$|[a-z](Key|Pwd|Sas)$")


def is_secret_conf_key(key: str) -> bool:
    """Whether a Spark/Hadoop property name looks like it holds a credential."""
    if _SECRET_KEY.search(key):
        return True
    return any(_CONF_SECRET_PART.search(part) or part.lower() in ("key", "accesskey", "secretkey")
               for part in key.split("."))


def redact_conf(key: str, value: Any) -> Any:
    """*value* of the Spark property *key* as it may be shown: ``"***"`` for a secret-looking
    key, else with credentials inside it (URL user-info, ``password=`` parameters) masked."""
    if is_secret_conf_key(key) and value not in (None, "", False):
        return MASK
    if isinstance(value, str):
        return _CONF_INLINE_SECRET.sub(lambda m: m.group(1) + MASK, redact_text(value))
    return redact(value)


# JDBC URLs carry credentials as ";password=..." or after "?" / "&" (redact_text handles those two)
_CONF_INLINE_SECRET = re.compile(
    r"([;:](?:[a-z._-]*(?:password|passwd|pwd|secret|token)[a-z._-]*)=)[^;&\s\"']*", re.I)
