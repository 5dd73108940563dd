"""What differs between Livy 0.7, 0.8 and 0.9 as a client sees it (livy-rest.md section 16).

The sandbox speaks one version at a time (``--livy-version``, default 0.9). A version mode decides:

* ``GET /version``'s ``version`` string (pylivy parses it with ``(\\d+)\\.(\\d+)\\.(\\d+)(\\S*)$``
  and compares the parts *as strings*, so it must stay below ``0.10``);
* which request fields exist: Jackson rejects unknown ones with 400, so ``idleTimeout`` before
  0.9 and ``ttl`` before 0.8 are errors, not ignored;
* the session JSON: 0.7 has only the nine original fields, 0.8 adds the request echo (with the
  0.8.0 bug that ``ttl`` holds the proxy user), 0.9 adds ``idleTimeout`` and
  ``appInfo.executorLogUrls``;
* the ``Rejected, Reason: `` prefix on create-time validation errors (0.8+);
* whether ``order=desc`` is honoured on the statements list (0.8+; ignored before);
* the meaning of ``ttl``: per-session idle timeout in 0.8, absolute lifetime (only with a server
  ttl check, which the sandbox leaves off like Livy's default) in 0.9.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BATCH_FIELDS", "VERSIONS", "VersionMode", "version_mode"]


_COMMON_CREATE = (
    "kind", "proxyUser", "jars", "pyFiles", "files", "driverMemory", "driverCores",
    "executorMemory", "executorCores", "numExecutors", "archives", "queue", "name", "conf",
    "heartbeatTimeoutInSecond",
)

BATCH_FIELDS = (
    "file", "proxyUser", "className", "args", "jars", "pyFiles", "files", "driverMemory",
    "driverCores", "executorMemory", "executorCores", "numExecutors", "archives", "queue", "name",
    "conf",
)


@dataclass(frozen=True)
class VersionMode:
    """The behaviour switches of one Livy release line."""

    short: str
    version: str
    revision: str
    date: str
    create_fields: tuple[str, ...]
    extended_session_json: bool     # ttl ... queue fields (0.8+)
    idle_timeout_field: bool        # idleTimeout in request and JSON (0.9+)
    executor_log_urls: bool         # appInfo.executorLogUrls (0.9+)
    ttl_holds_proxy_user: bool      # the 0.8.0 serialisation bug
    ttl_is_idle_timeout: bool       # 0.8.0 semantics of ttl
    rejected_prefix: str            # "Rejected, Reason: " (0.8+) or ""
    order_desc: bool                # statements ?order=desc honoured


VERSIONS: dict[str, VersionMode] = {
    "0.7": VersionMode(
        short="0.7", version="0.7.1-incubating", revision="livyd-sandbox",
        date="2021-02-04T00:00:00Z", create_fields=_COMMON_CREATE, extended_session_json=False,
        idle_timeout_field=False, executor_log_urls=False, ttl_holds_proxy_user=False,
        ttl_is_idle_timeout=False, rejected_prefix="", order_desc=False,
    ),
    "0.8": VersionMode(
        short="0.8", version="0.8.0-incubating", revision="78b51265",
        date="2023-09-01T00:00:00Z", create_fields=(*_COMMON_CREATE, "ttl"),
        extended_session_json=True, idle_timeout_field=False, executor_log_urls=False,
        ttl_holds_proxy_user=True, ttl_is_idle_timeout=True, rejected_prefix="Rejected, Reason: ",
        order_desc=True,
    ),
    "0.9": VersionMode(
        short="0.9", version="0.9.0-incubating", revision="7215f209",
        date="2026-01-15T00:00:00Z", create_fields=(*_COMMON_CREATE, "ttl", "idleTimeout"),
        extended_session_json=True, idle_timeout_field=True, executor_log_urls=True,
        ttl_holds_proxy_user=False, ttl_is_idle_timeout=False, rejected_prefix="Rejected, Reason: ",
        order_desc=True,
    ),
}


def version_mode(name: str) -> VersionMode:
    """The mode for ``"0.7"``, ``"0.8"`` or ``"0.9"`` (a full ``0.9.0-incubating`` works too)."""
    key = ".".join(name.split(".")[:2])
    try:
        return VERSIONS[key]
    except KeyError:
        raise ValueError(
            f"--livy-version {name!r} is not supported: choose one of {', '.join(VERSIONS)}"
        ) from None
