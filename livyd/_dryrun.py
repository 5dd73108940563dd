"""See before sending: the exact request body livyd would send, secrets masked, and where each
value came from (a livyd.toml line, a variable, a flag, a deploy, a staging upload).

:func:`explain_request` takes the body (what ``CreateSessionRequest`` / ``CreateBatchRequest``
``.to_payload`` returns) and the resolved configuration, and returns ``{"method", "url", "body",
"sources"}`` where ``sources`` maps each body field (``conf`` keys as ``conf."spark.x"``) to its
origin. Nothing here performs I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from livyd._config import ResolvedConfig
from livyd._core.redact import redact_conf, redact_text
from livyd._exceptions import redact_url

__all__ = ["FIELD_SETTINGS", "explain_request"]

#: Livy body field -> the livyd setting that feeds it.
FIELD_SETTINGS: dict[str, str] = {
    "kind": "session.kind",
    "proxyUser": "session.proxy_user",
    "jars": "session.jars",
    "pyFiles": "session.py_files",
    "files": "session.files",
    "archives": "session.archives",
    "driverMemory": "session.driver_memory",
    "driverCores": "session.driver_cores",
    "executorMemory": "session.executor_memory",
    "executorCores": "session.executor_cores",
    "numExecutors": "session.num_executors",
    "queue": "session.queue",
    "name": "session.name",
    "heartbeatTimeoutInSecond": "session.heartbeat_timeout",
    "ttl": "session.ttl",
    "idleTimeout": "session.idle_timeout",
}


def _mask(value: Any) -> Any:
    if isinstance(value, str):
        if "://" in value and urlsplit(value).netloc:  # hdfs:///x has no authority to redact
            return redact_url(value)
        return redact_text(value)
    if isinstance(value, list):
        return [_mask(v) for v in value]
    return value


def explain_request(method: str, url: str, body: Mapping[str, Any], resolved: ResolvedConfig, *,
                    sources: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The dry-run document for one request. *sources* overrides/extends the origins (e.g.
    ``{"file": "staged from ./job.py"}``, ``{"pyFiles[2]": "deploy"}``)."""
    extra = dict(sources or {})
    shown: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for key, value in body.items():
        if key == "conf" and isinstance(value, Mapping):
            shown[key] = {k: redact_conf(k, v) for k, v in value.items()}
            for k in value:
                origin[f'conf."{k}"'] = extra.get(f'conf."{k}"') or resolved.source_of(f"session.conf.{k}")
            continue
        shown[key] = _mask(value)
        if key in extra:
            origin[key] = extra[key]
        elif isinstance(value, list) and any(k.startswith(f"{key}[") for k in extra):
            configured = resolved.source_of(FIELD_SETTINGS.get(key, key))
            for i, _ in enumerate(value):
                origin[f"{key}[{i}]"] = extra.get(f"{key}[{i}]") or configured
        else:
            setting = FIELD_SETTINGS.get(key)
            origin[key] = resolved.source_of(setting) if setting else "command line"
    return {"method": method, "url": redact_url(url), "body": shown, "sources": origin,
            "sent": False}
