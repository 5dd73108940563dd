"""Pydantic models of every Livy object, tolerant of versions and of the unexpected.

Design points:

- Python names are snake_case; Livy's camelCase names are aliases (``populate_by_name=True``),
  so ``Session.model_validate(livy_json)`` works and ``model_dump(by_alias=True,
  exclude_none=True)`` gives Livy's wire form back.
- Response models accept *extra* fields (a newer Livy adds some) and *missing* newer fields
  (0.7 returns only ``id, name, appId, owner, proxyUser, state, kind, appInfo, log``).
- State enums survive unknown values: ``SessionState("hibernating")`` is a pseudo-member whose
  ``value`` is the string and whose ``is_known`` is false, instead of a validation error that
  would take a whole listing down because one session is in a state this livyd never heard of.
- Request models (:class:`CreateSessionRequest`, :class:`CreateBatchRequest`) forbid extra fields
  (a typo fails here, naming the field, not as Livy's 400) and build their payload for the
  server's version with :meth:`CreateSessionRequest.to_payload`: fields the version does not know
  are dropped (Livy < 0.9 rejects ``idleTimeout`` with 400), and blacklisted Spark configuration
  keys are refused with a :class:`ConfigError` naming the key before anything is sent.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from livyd._core.tolerant import TolerantEnum
from livyd._core.versions import BATCH_FIELD_SINCE, SESSION_FIELD_SINCE, LivyVersion
from livyd._exceptions import ConfigError, StatementFailedError

__all__ = [
    "BLACKLISTED_CONF_KEYS",
    "AppInfo",
    "Batch",
    "BatchList",
    "BatchState",
    "CompletionResult",
    "CreateBatchRequest",
    "CreateSessionRequest",
    "LogPage",
    "Session",
    "SessionKind",
    "SessionList",
    "SessionState",
    "StateInfo",
    "Statement",
    "StatementList",
    "StatementOutput",
    "StatementState",
    "VersionInfo",
]

#: Spark configuration keys Livy refuses in ``conf`` (its typical spark-blacklist.conf, plus the
#: custom-classpath switch it refuses unless livy.server.session.allow-custom-classpath; livy-rest.md
#: section 3). Configuration checks the same set before anything is sent.
BLACKLISTED_CONF_KEYS = frozenset({
    "spark.master",
    "spark.submit.deployMode",
    "spark.yarn.jar",
    "spark.yarn.jars",
    "spark.yarn.archive",
    "livy.rsc.server.idle-timeout",
    "spark.submit.proxyUser.allowCustomClasspathInClusterMode",
})


class SessionState(TolerantEnum):
    """Interactive session state (livy-rest.md §5)."""

    NOT_STARTED = "not_started"
    STARTING = "starting"
    RECOVERING = "recovering"
    IDLE = "idle"
    RUNNING = "running"
    BUSY = "busy"
    SHUTTING_DOWN = "shutting_down"
    ERROR = "error"
    DEAD = "dead"
    KILLED = "killed"
    SUCCESS = "success"

    @property
    def is_starting(self) -> bool:
        """Not ready yet, but on its way."""
        return self.value in ("not_started", "starting", "recovering")

    @property
    def is_ready(self) -> bool:
        """Accepts statements (they queue while busy)."""
        return self.value in ("idle", "busy", "running")

    @property
    def is_terminal(self) -> bool:
        """Can never run code again."""
        return self.value in ("shutting_down", "dead", "killed", "success")


class BatchState(TolerantEnum):
    """Batch state (livy-rest.md §5.3)."""

    NOT_STARTED = "not_started"
    STARTING = "starting"
    RECOVERING = "recovering"
    IDLE = "idle"
    RUNNING = "running"
    BUSY = "busy"
    SHUTTING_DOWN = "shutting_down"
    ERROR = "error"
    DEAD = "dead"
    KILLED = "killed"
    SUCCESS = "success"

    @property
    def is_terminal(self) -> bool:
        """The batch has finished (successfully or not)."""
        return self.value in ("success", "dead", "killed", "error")


class SessionKind(TolerantEnum):
    """Session / statement kind. Livy normalises the aliases scala/python/r in responses."""

    SPARK = "spark"
    PYSPARK = "pyspark"
    SPARKR = "sparkr"
    SQL = "sql"
    SHARED = "shared"


class StatementState(TolerantEnum):
    """Statement state. Real Livy never sets ``error`` (failures are ``available`` + error output)."""

    WAITING = "waiting"
    RUNNING = "running"
    AVAILABLE = "available"
    ERROR = "error"
    CANCELLING = "cancelling"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        """The statement has finished, failed or been cancelled."""
        return self.value in ("available", "error", "cancelled")


class _LivyModel(BaseModel):
    # defer_build: the schema is built when the model is first used, not at import (start-up)
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="allow", defer_build=True
    )


class AppInfo(_LivyModel):
    """``appInfo``: links to the driver log and Spark UI (``executorLogUrls`` 0.9+)."""

    driver_log_url: str | None = None
    spark_ui_url: str | None = None
    executor_log_urls: str | None = None


class Session(_LivyModel):
    """An interactive session (all 0.9 fields; 0.7's subset is enough)."""

    id: int
    name: str | None = None
    app_id: str | None = None
    owner: str | None = None
    proxy_user: str | None = None
    state: SessionState = SessionState.NOT_STARTED
    kind: SessionKind = SessionKind.SHARED
    app_info: AppInfo = Field(default_factory=AppInfo)
    log: list[str] = Field(default_factory=list)
    ttl: str | None = None
    idle_timeout: str | None = None
    driver_memory: str | None = None
    driver_cores: int | None = None
    executor_memory: str | None = None
    executor_cores: int | None = None
    conf: dict[str, Any] | None = None
    archives: list[str] | None = None
    files: list[str] | None = None
    heartbeat_timeout_in_second: int | None = None
    jars: list[str] | None = None
    num_executors: int | None = None
    py_files: list[str] | None = None
    queue: str | None = None

    @field_validator("log", mode="before")
    @classmethod
    def _log_list(cls, v: Any) -> Any:
        return [] if v is None else v

    @field_validator("app_info", mode="before")
    @classmethod
    def _app_info(cls, v: Any) -> Any:
        return {} if v is None else v


class Batch(_LivyModel):
    """A batch (``POST /batches``)."""

    id: int
    name: str | None = None
    owner: str | None = None
    proxy_user: str | None = None
    state: BatchState = BatchState.NOT_STARTED
    app_id: str | None = None
    app_info: AppInfo = Field(default_factory=AppInfo)
    log: list[str] = Field(default_factory=list)

    @field_validator("log", mode="before")
    @classmethod
    def _log_list(cls, v: Any) -> Any:
        return [] if v is None else v

    @field_validator("app_info", mode="before")
    @classmethod
    def _app_info(cls, v: Any) -> Any:
        return {} if v is None else v


MIME_TEXT = "text/plain"
MIME_JSON = "application/json"
MIME_TABLE = "application/vnd.livy.table.v1+json"
MIME_PNG = "image/png"


class StatementOutput(BaseModel):
    """A statement's ``output``: ``status`` ok (with a mime bundle in ``data``) or error."""

    # defer_build: the schema is built when the model is first used, not at import (start-up)
    model_config = ConfigDict(populate_by_name=True, extra="allow", defer_build=True)

    status: str
    execution_count: int | None = None
    data: dict[str, Any] | None = None
    ename: str | None = None
    evalue: str | None = None
    traceback: list[str] | None = None

    @property
    def is_error(self) -> bool:
        """The code raised (``status == "error"``)."""
        return self.status == "error"

    @property
    def text(self) -> str | None:
        """``text/plain``, if present."""
        value = (self.data or {}).get(MIME_TEXT)
        return value if isinstance(value, str) else None

    @property
    def json(self) -> Any:
        """``application/json`` (``None`` when absent)."""
        return (self.data or {}).get(MIME_JSON)

    @property
    def table(self) -> dict[str, Any] | None:
        """``application/vnd.livy.table.v1+json``: ``{"headers": [...], "data": [[...]]}``."""
        value = (self.data or {}).get(MIME_TABLE)
        return value if isinstance(value, dict) else None

    @property
    def image_png(self) -> bytes | None:
        """``image/png``, base64-decoded; ``None`` when absent or not valid base64."""
        value = (self.data or {}).get(MIME_PNG)
        if not isinstance(value, str):
            return None
        try:
            return base64.b64decode(value, validate=False)
        except (binascii.Error, ValueError):
            return None

    def raise_for_error(self, *, session_id: int | None = None, statement_id: int | None = None) -> None:
        """Raise :class:`StatementFailedError` (with ename, evalue, traceback) if the code raised."""
        if self.is_error:
            ename = self.ename or "Error"
            evalue = self.evalue or ""
            where = f"statement {statement_id} of session {session_id}: " if statement_id is not None else ""
            raise StatementFailedError(f"{where}{ename}: {evalue}", ename=ename, evalue=evalue,
                                       traceback=self.traceback or [], session_id=session_id,
                                       statement_id=statement_id)


class Statement(BaseModel):
    """A statement (``started``/``completed`` in epoch ms, 0.7+; 0 when not yet)."""

    # defer_build: the schema is built when the model is first used, not at import (start-up)
    model_config = ConfigDict(populate_by_name=True, extra="allow", defer_build=True)

    id: int
    code: str | None = None
    state: StatementState = StatementState.WAITING
    output: StatementOutput | None = None
    progress: float = 0.0
    started: int | None = None
    completed: int | None = None

    @field_validator("progress", mode="before")
    @classmethod
    def _progress(cls, v: Any) -> Any:
        return 0.0 if v is None else v


class _ListModel(BaseModel):
    # defer_build: the schema is built when the model is first used, not at import (start-up)
    model_config = ConfigDict(populate_by_name=True, extra="allow", defer_build=True)


class SessionList(_ListModel):
    """``GET /sessions``: ``total`` counts all sessions, not the page."""

    from_: int = Field(0, alias="from")
    total: int = 0
    sessions: list[Session] = Field(default_factory=list)


class BatchList(_ListModel):
    """``GET /batches`` (the key is ``sessions`` for batches too)."""

    from_: int = Field(0, alias="from")
    total: int = 0
    sessions: list[Batch] = Field(default_factory=list)

    @property
    def batches(self) -> list[Batch]:
        """The batches of this page."""
        return self.sessions


class StatementList(_ListModel):
    """``GET /sessions/{id}/statements``."""

    total_statements: int = 0
    statements: list[Statement] = Field(default_factory=list)


class LogPage(_ListModel):
    """``GET .../log``: ``from_`` is the effective offset, ``total`` the buffered line count."""

    id: int | None = None
    from_: int = Field(0, alias="from")
    total: int = 0
    log: list[str] = Field(default_factory=list)

    @field_validator("log", mode="before")
    @classmethod
    def _log_list(cls, v: Any) -> Any:
        return [] if v is None else v


class StateInfo(_ListModel):
    """``GET /sessions/{id}/state`` and ``/batches/{id}/state``."""

    id: int | None = None
    state: str


class CompletionResult(_ListModel):
    """``POST /sessions/{id}/completion``."""

    candidates: list[str] = Field(default_factory=list)


class VersionInfo(_ListModel):
    """``GET /version``; :attr:`parsed` compares numerically."""

    version: str = ""
    user: str | None = None
    revision: str | None = None
    branch: str | None = None
    date: str | None = None
    url: str | None = None

    @property
    def parsed(self) -> LivyVersion:
        """The version as a :class:`LivyVersion` (conservative 0.7.0 when unparseable)."""
        from livyd._core.versions import parse_version

        return parse_version(self.version)


def _check_conf(conf: dict[str, str] | None, what: str) -> None:
    for key in conf or {}:
        if key in BLACKLISTED_CONF_KEYS:
            raise ConfigError(
                f"{what}: conf key {key!r} is refused by Livy (spark-blacklist.conf); Livy decides it, "
                "remove it from the configuration", key=f"conf.{key}",
            )


def _gate(
    payload: dict[str, Any], since: dict[str, tuple[int, int, int]], version: LivyVersion
) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k not in since or version.key >= since[k]}


class _Request(BaseModel):
    # defer_build: the schema is built when the model is first used, not at import (start-up)
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", defer_build=True
    )

    @field_validator("conf", mode="before", check_fields=False)
    @classmethod
    def _conf_strings(cls, v: Any) -> Any:
        if isinstance(v, dict):
            return {str(k): (str(x).lower() if isinstance(x, bool) else str(x)) for k, x in v.items()}
        return v


class CreateSessionRequest(_Request):
    """Body of ``POST /sessions``. ``ttl`` needs Livy 0.8+, ``idle_timeout`` 0.9+ (dropped below)."""

    kind: str | None = None
    proxy_user: str | None = None
    jars: list[str] | None = None
    py_files: list[str] | None = None
    files: list[str] | None = None
    driver_memory: str | None = None
    driver_cores: int | None = None
    executor_memory: str | None = None
    executor_cores: int | None = None
    num_executors: int | None = None
    archives: list[str] | None = None
    queue: str | None = None
    name: str | None = None
    conf: dict[str, str] | None = None
    heartbeat_timeout_in_second: int | None = None
    ttl: str | None = None
    idle_timeout: str | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str | None) -> str | None:
        if v is not None and (v == "" or v.isdigit()):
            raise ValueError(f"session name {v!r} must not be empty or all digits (Livy reads those as ids)")
        return v

    def to_payload(self, version: LivyVersion) -> dict[str, Any]:
        """The JSON body for a server of *version*: unknown-to-it fields dropped, blacklist refused."""
        _check_conf(self.conf, "session")
        return _gate(self.model_dump(by_alias=True, exclude_none=True), SESSION_FIELD_SINCE, version)


class CreateBatchRequest(_Request):
    """Body of ``POST /batches``; ``file`` is required."""

    file: str
    proxy_user: str | None = None
    class_name: str | None = None
    args: list[str] | None = None
    jars: list[str] | None = None
    py_files: list[str] | None = None
    files: list[str] | None = None
    driver_memory: str | None = None
    driver_cores: int | None = None
    executor_memory: str | None = None
    executor_cores: int | None = None
    num_executors: int | None = None
    archives: list[str] | None = None
    queue: str | None = None
    name: str | None = None
    conf: dict[str, str] | None = None

    @field_validator("args", mode="before")
    @classmethod
    def _args(cls, v: Any) -> Any:
        if isinstance(v, list | tuple):
            return [str(x) for x in v]
        return v

    @field_validator("name")
    @classmethod
    def _name(cls, v: str | None) -> str | None:
        if v is not None and (v == "" or v.isdigit()):
            raise ValueError(f"batch name {v!r} must not be empty or all digits (Livy reads those as ids)")
        return v

    def to_payload(self, version: LivyVersion) -> dict[str, Any]:
        """The JSON body for a server of *version*, blacklisted conf keys refused."""
        _check_conf(self.conf, "batch")
        return _gate(self.model_dump(by_alias=True, exclude_none=True), BATCH_FIELD_SINCE, version)
