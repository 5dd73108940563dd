"""Pydantic models of every livyd daemon message: the authored source of the wire contract.

Everything the daemon accepts or sends is one of these models. The generator
(``python -m livyd.protocol``) derives the committed artifacts under the top-level ``protocol/``
folder (JSON Schema, method table, prose reference, golden examples) and the TypeScript and Lua
type files of the editor clients from them; a test regenerates them and fails on any difference.

Conventions that matter on the wire:

* Field names are camelCase on the wire (``sessionId``), snake_case in Python. Models accept both
  on input (``populate_by_name``), and the daemon always emits the camelCase alias
  (``model_dump(mode="json", by_alias=True)``).
* Request params *forbid* unknown fields, so a typo (``sesionId``) is an InvalidParams error that
  names the field, instead of being silently ignored. The two exceptions are
  ``livy/createSession`` and ``livy/submitBatch``, which pass any further Livy session / batch
  field through (``driverMemory``, ``conf``...).
* Results and notifications *ignore* unknown fields when parsed by a client, so a newer daemon
  may add fields within a protocol major version (a minor bump); removing or retyping a field is a
  major bump.
* Ranges are LSP ranges (zero-based line and UTF-16 character).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

__all__ = [
    "AttachSessionParams",
    "BatchChangedNotification",
    "BatchIdParams",
    "BatchInfo",
    "BatchResult",
    "BuildStandaloneParams",
    "BuildStandaloneResult",
    "CancelParams",
    "CancelResult",
    "CreateSessionParams",
    "DaemonSettings",
    "DeployParams",
    "DeployResult",
    "DeployedFile",
    "Empty",
    "ExcludedFile",
    "ExecuteParams",
    "ExecuteResult",
    "FollowLogParams",
    "FollowLogResult",
    "HdfsDeleteParams",
    "HdfsDeleteResult",
    "HdfsEntry",
    "HdfsListParams",
    "HdfsListResult",
    "HdfsUploadParams",
    "HdfsUploadResult",
    "InitializationOptions",
    "KillAllSessionsParams",
    "KillAllSessionsResult",
    "KillResult",
    "ListBatchesParams",
    "ListBatchesResult",
    "ListSessionsParams",
    "ListSessionsResult",
    "ListStatementsParams",
    "ListStatementsResult",
    "LivydCapabilities",
    "LogNotification",
    "LogResult",
    "OkResult",
    "OutputNotification",
    "OutputStatus",
    "Position",
    "ProfileInfo",
    "ProfilesResult",
    "ProgressKind",
    "ProgressNotification",
    "Range",
    "ReadBatchLogParams",
    "ReadLogParams",
    "ReloadFailure",
    "ReloadInfo",
    "ReloadModuleParams",
    "ReloadModuleResult",
    "RestartSessionResult",
    "SelectProfileParams",
    "SessionChangedNotification",
    "SessionIdParams",
    "SessionInfo",
    "SessionInfoParams",
    "SessionInfoResult",
    "SessionResult",
    "SetCredentialsParams",
    "SparkLogInfo",
    "SparkLogParams",
    "SparkLogResult",
    "StatementOutput",
    "StatementParams",
    "StatementResult",
    "StatusResult",
    "SubmitBatchParams",
    "TaskChangedNotification",
    "TaskInfo",
    "TaskState",
    "WireModel",
]


class WireModel(BaseModel):
    """Base of every result and notification: camelCase aliases, unknown fields ignored."""

    # defer_build: the schema is built when the model is first used, not at import (start-up)
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", defer_build=True
    )

    def wire(self) -> dict[str, Any]:
        """The JSON-ready dict sent on the wire (camelCase, JSON types, ``None`` kept)."""
        return self.model_dump(mode="json", by_alias=True)


class Params(WireModel):
    """Base of request params: unknown fields are an error naming the field."""

    # defer_build: the schema is built when the model is first used, not at import (start-up)
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", defer_build=True
    )


class Empty(Params):
    """No parameters."""


# --------------------------------------------------------------------------- shared shapes


class Position(WireModel):
    """An LSP position: zero-based line and character."""

    line: int = Field(ge=0)
    character: int = Field(ge=0)


class Range(WireModel):
    """An LSP range in the document the code came from."""

    start: Position
    end: Position


class TaskState(StrEnum):
    """Where a statement task is.

    ``queued``: held by the daemon behind earlier tasks of the same session (not yet sent to Livy).
    ``waiting`` / ``running`` / ``available`` / ``cancelling`` / ``cancelled``: Livy's statement
    states. ``failed``: livyd could not run it (the session is gone, the submission was refused).
    """

    QUEUED = "queued"
    WAITING = "waiting"
    RUNNING = "running"
    AVAILABLE = "available"
    CANCELLING = "cancelling"
    CANCELLED = "cancelled"
    FAILED = "failed"


FINISHED_TASK_STATES = frozenset({TaskState.AVAILABLE, TaskState.CANCELLED, TaskState.FAILED})


class OutputStatus(StrEnum):
    """The outcome carried by ``livy/output``."""

    OK = "ok"
    ERROR = "error"
    CANCELLED = "cancelled"
    FAILED = "failed"


class SessionInfo(WireModel):
    """A Livy interactive session as the daemon knows it."""

    id: int = Field(description="Livy's session id.")
    name: str | None = None
    kind: str | None = Field(None, description="pyspark, spark, sparkr, sql or shared.")
    state: str = Field(description="Livy's session state (starting, idle, busy, error, dead, killed, ...).")
    app_id: str | None = None
    owner: str | None = None
    proxy_user: str | None = None
    spark_ui_url: str | None = None
    driver_log_url: str | None = None
    profile: str | None = Field(None, description="The livyd profile the session belongs to.")
    owned: bool = Field(False, description="True when this daemon created the session.")
    attached: bool = Field(False, description="True when it is the workspace's current session.")


class TaskInfo(WireModel):
    """A statement task: what ``livy/execute`` started."""

    task_id: str
    session_id: int
    statement_id: int | None = Field(None, description="Livy's statement id once submitted.")
    state: TaskState
    progress: float = Field(0.0, ge=0.0, le=1.0)
    queued_behind: int = Field(0, ge=0, description="How many tasks of the session run before this one.")
    code_preview: str = Field("", description="The first line of the code (at most 80 characters).")
    uri: str | None = None
    range: Range | None = None
    may_still_run: bool = Field(
        False,
        description="Livy marked the statement cancelled while its code may still run (livy-rest.md 7.5); "
        "livy/restartSession is the remedy.",
    )
    profile: str | None = Field(None, description="The profile of the task's session.")


class BatchInfo(WireModel):
    """A Livy batch."""

    id: int
    name: str | None = None
    state: str
    app_id: str | None = None
    owner: str | None = None
    proxy_user: str | None = None
    spark_ui_url: str | None = None
    driver_log_url: str | None = None
    log: list[str] = Field(default_factory=list, description="Livy's last log lines.")
    profile: str | None = Field(None, description="The profile whose Livy runs the batch.")


class ProfileInfo(WireModel):
    """A configured profile (never with its secrets)."""

    name: str
    url: str | None = Field(None, description="The Livy URL, without user info or secret query values.")
    auth: str = Field("none", description="none, basic, bearer or kerberos.")
    active: bool = False
    has_credentials: bool = Field(False, description="Whether livy/setCredentials gave it a secret.")


# --------------------------------------------------------------------------- initialize


class DaemonSettings(Params):
    """Settings from ``initializationOptions.settings`` and ``workspace/didChangeConfiguration``.

    None of them is a secret: passwords and tokens go through ``livy/setCredentials``.
    """

    url: str | None = Field(
        None, description="A Livy URL overriding the profile's; with neither, the embedded sandbox is used."
    )
    kind: str = Field("pyspark", description="Session kind for sessions the daemon creates.")
    poll_interval: float = Field(
        1.0,
        gt=0,
        le=60,
        description="The poll cap: the longest wait in seconds between two polls of a running "
        "statement. The first poll comes within milliseconds of the submission and the wait grows "
        "to this while nothing changes (fast again when the state moves).",
    )
    idle_poll_interval: float = Field(
        5.0, gt=0, le=600, description="Seconds between polls of an idle session."
    )
    max_output_bytes: int = Field(
        1_000_000,
        ge=1024,
        description="Outputs whose data takes more bytes than this as JSON are truncated in "
        "livy/output and written whole to a file.",
    )
    delete_sessions_on_exit: bool = Field(
        False, description="Delete the sessions this daemon created on exit."
    )
    heartbeat_timeout: int = Field(
        600,
        ge=0,
        description="heartbeatTimeoutInSecond of created sessions, so Livy reaps them if no daemon returns.",
    )
    state_dir: str | None = Field(
        None, description="Where per-workspace state lives (default: platformdirs)."
    )
    show_tracebacks: bool = Field(False, description="Include internal tracebacks in JSON-RPC error data.")
    auth: Literal["none", "basic", "bearer", "kerberos"] | None = Field(
        None,
        description="(1.2) How to authenticate to Livy, overriding every profile's auth type (like "
        "url; null: the profile's). The secret itself comes from livy/setCredentials (basic: "
        "username and password; bearer: token) or, for kerberos, the ticket cache.",
    )
    ca_bundle: str | None = Field(
        None,
        description="(1.2) A PEM file of CA certificates to trust for Livy (a Knox with an internal "
        "CA), overriding every profile's [tls] ca_bundle (null: the profile's). A relative path is "
        "relative to the workspace.",
    )

    @field_validator("url")
    @classmethod
    def _http_url(cls, v: str | None) -> str | None:
        # Refused when given, not at the first request; the value is never echoed (a password).
        if v:
            from urllib.parse import urlsplit

            parts = urlsplit(v.strip())
            if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
                raise ValueError("expected an http:// or https:// URL")
        return v


class InitializationOptions(Params):
    """What an editor passes as ``initializationOptions`` of LSP ``initialize``."""

    profile: str | None = Field(None, description="The livyd profile to use (None: the configured default).")
    settings: DaemonSettings = Field(default_factory=DaemonSettings)
    workspace: str | None = Field(None, description="The workspace folder; defaults to rootUri or the cwd.")


class LivydCapabilities(WireModel):
    """Found at ``capabilities.experimental.livyd`` in the ``initialize`` result.

    A client compares ``protocolVersion``'s major number with its own and refuses a different one,
    saying which side to upgrade.
    """

    version: str = Field(description="livyd's package version.")
    protocol_version: str = Field(description="MAJOR.MINOR of this protocol.")
    requests: list[str] = Field(description="Every livy/* request method the daemon answers.")
    notifications: list[str] = Field(description="Every livy/* notification the daemon may send.")
    commands: list[str] = Field(description="workspace/executeCommand ids (all prefixed livyd.).")
    shared: bool = Field(False, description="True when this is the per-user daemon shared by editors.")


# --------------------------------------------------------------------------- sessions


class CreateSessionParams(WireModel):
    """``livy/createSession``: further Livy session fields (``driverMemory``, ``conf``...) pass through."""

    # defer_build: the schema is built when the model is first used, not at import (start-up)
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="allow", defer_build=True
    )

    profile: str | None = None
    kind: str | None = None
    name: str | None = None
    attach: bool = Field(True, description="Make it the workspace's current session.")
    deploy: bool | None = Field(
        None,
        description="Deploy the workspace's project and add it to pyFiles (1.3; default: the profile's "
        "deploy.auto, for a project a livyd.toml or git marks, when WebHDFS is configured).",
    )


_SESSION_PROFILE = (
    "The profile whose Livy holds the session (two servers may both have session 0). Default: "
    "the only session with that id the daemon knows, else the active profile's."
)
_PROFILE_DEFAULT_ACTIVE = "The profile whose Livy to ask (default: the active profile)."


class SessionIdParams(Params):
    """A request about one session."""

    session_id: int = Field(ge=0)
    profile: str | None = Field(None, description=_SESSION_PROFILE)


class AttachSessionParams(SessionIdParams):
    """``livy/attachSession``: make an existing Livy session the workspace's current one."""


class SessionInfoParams(Params):
    """``livy/sessionInfo``: the given session, or the attached one."""

    session_id: int | None = Field(None, ge=0)
    profile: str | None = Field(None, description=_SESSION_PROFILE)


class ListSessionsParams(Params):
    """``livy/listSessions``."""

    owned_only: bool = Field(False, description="Only the sessions this daemon created.")
    profile: str | None = Field(
        None,
        description="Whose sessions: with ownedOnly, only this profile's (default: every profile's); "
        "otherwise the sessions on this profile's Livy (default: the active profile's).",
    )


class KillAllSessionsParams(Params):
    """``livy/killAllSessions``."""

    owned_only: bool = Field(True, description="Only the sessions this daemon created (the safe default).")
    profile: str | None = Field(
        None,
        description="With ownedOnly, only this profile's sessions (default: every profile's); "
        "otherwise every session on this profile's Livy (default: the active profile's).",
    )


class SessionResult(WireModel):
    """A result carrying one session."""

    session: SessionInfo


class ListSessionsResult(WireModel):
    """``livy/listSessions`` result."""

    sessions: list[SessionInfo]


class SessionInfoResult(WireModel):
    """``livy/sessionInfo`` result: the session and the daemon's tasks on it."""

    session: SessionInfo
    tasks: list[TaskInfo]


class KillResult(WireModel):
    """A result of a kill: what was asked to stop."""

    id: int
    killed: bool


class KillAllSessionsResult(WireModel):
    """``livy/killAllSessions`` result."""

    killed: list[int]


class RestartSessionResult(WireModel):
    """``livy/restartSession`` result: a new session with the same configuration."""

    session: SessionInfo
    previous_session_id: int


# --------------------------------------------------------------------------- statements


class ExecuteParams(Params):
    """``livy/execute``: run code; returns at once."""

    code: str
    session_id: int | None = Field(None, ge=0, description="Default: the attached session, or a new one.")
    kind: str | None = Field(None, description="Statement kind (pyspark, spark, sql, sparkr).")
    uri: str | None = Field(None, description="The document the code came from (echoed in livy/output).")
    range: Range | None = Field(None, description="Where in the document (used for diagnostics).")
    profile: str | None = Field(
        None,
        description="With sessionId: the profile whose Livy holds it (default: the only session with that "
        "id the daemon knows, else the active profile's). Without: run on this profile's session (its "
        "last attached one, else a new one) instead of the attached session.",
    )


class ExecuteResult(WireModel):
    """``livy/execute`` result."""

    task_id: str
    session_id: int
    profile: str | None = Field(None, description="The profile of the session the task runs on.")


class CancelParams(Params):
    """``livy/cancel``."""

    task_id: str = Field(min_length=1)


class CancelResult(WireModel):
    """``livy/cancel`` result: the task after the cancel was asked."""

    task: TaskInfo


class ListStatementsParams(Params):
    """``livy/listStatements``: the daemon's tasks (all sessions, or one)."""

    session_id: int | None = Field(None, ge=0)
    profile: str | None = Field(None, description="Only tasks on this profile's sessions.")


class ListStatementsResult(WireModel):
    """``livy/listStatements`` result."""

    tasks: list[TaskInfo]


class StatementParams(Params):
    """``livy/statement`` (1.2): one statement in full. Give ``taskId`` (a task of this daemon), or
    ``sessionId`` and ``statementId`` (any statement Livy still holds)."""

    task_id: str | None = Field(None, min_length=1)
    session_id: int | None = Field(None, ge=0)
    statement_id: int | None = Field(None, ge=0)
    profile: str | None = Field(None, description=_SESSION_PROFILE)


class StatementOutput(WireModel):
    """A finished statement's output, bounded like ``livy/output`` (``maxOutputBytes``)."""

    status: OutputStatus
    data: dict[str, Any] = Field(default_factory=dict, description="The mime bundle (text/plain, ...).")
    ename: str | None = None
    evalue: str | None = None
    traceback: list[str] = Field(default_factory=list)
    truncated: bool = False
    full_output_path: str | None = Field(None, description="Where the whole output is when truncated.")
    error_line: int | None = Field(None, ge=1, description="As in livy/output.")


class StatementResult(WireModel):
    """``livy/statement`` result: the whole code and, once finished, the output."""

    session_id: int
    statement_id: int | None = Field(None, description="None for a task that never reached Livy.")
    task_id: str | None = Field(None, description="The daemon's task that ran it, if any.")
    profile: str | None = None
    code: str = Field(description="The whole code, as submitted.")
    state: str = Field(
        description="The task's state (TaskState) for a task of this daemon, else Livy's statement state."
    )
    progress: float = Field(0.0, ge=0.0, le=1.0)
    started: int | None = Field(None, description="When Livy started it (ms since the epoch; 0.5+).")
    completed: int | None = Field(None, description="When Livy finished it (ms since the epoch; 0.5+).")
    uri: str | None = None
    range: Range | None = None
    output: StatementOutput | None = Field(None, description="None until the statement finished.")


# --------------------------------------------------------------------------- logs


class ReadLogParams(Params):
    """``livy/readLog``: one page of a session's or a batch's log (exactly one id)."""

    session_id: int | None = Field(None, ge=0)
    batch_id: int | None = Field(None, ge=0)
    from_: int | None = Field(None, alias="from", description="First line; default: the tail.")
    size: int = Field(100, ge=0, le=10_000)
    profile: str | None = Field(
        None,
        description="The profile whose Livy holds the session or batch (sessions: default the only "
        "known session with that id, else the active profile's; batches: the active profile's).",
    )
    wait_seconds: float | None = Field(
        None,
        gt=0,
        le=300,
        description="Long-poll: when the page at `from` is empty, hold the request until lines "
        "appear there or this many seconds pass (then answer the empty page). Cancellable with "
        "$/cancelRequest.",
    )


class SparkLogParams(Params):
    """(1.3) ``livy/sparkLog``: the Spark driver's whole log, or every executor's, beyond Livy's
    200 lines (``appInfo.driverLogUrl`` / ``executorLogUrls``, through the profile's
    ``spark_ui.log_url`` template when set)."""

    session_id: int = Field(ge=0)
    profile: str | None = Field(None, description="The profile whose Livy holds the session (default: "
                                "the only known session with that id, else the active profile's).")
    executors: bool = Field(False, description="Every executor's log (Livy 0.9+) instead of the driver's.")
    tail: int | None = Field(None, ge=0, le=1_000_000, description="Only the last lines of each log.")


class SparkLogInfo(WireModel):
    """One log as read."""

    log: str = Field(description="driver, or executor <name>.")
    url: str = Field(description="Where it was read (userinfo removed).")
    lines: list[str]


class SparkLogResult(WireModel):
    """``livy/sparkLog``'s answer. A URL that does not answer, or a session that reports none, is an
    error whose message names the URL and the profile key (spark_ui.log_url) that would fix it."""

    logs: list[SparkLogInfo]


class ReadBatchLogParams(Params):
    """``livy/readBatchLog``."""

    batch_id: int = Field(ge=0)
    from_: int | None = Field(None, alias="from")
    size: int = Field(100, ge=0, le=10_000)
    profile: str | None = Field(None, description=_PROFILE_DEFAULT_ACTIVE)


class LogResult(WireModel):
    """A page of log lines."""

    lines: list[str]
    from_: int = Field(alias="from")
    total: int


class FollowLogParams(Params):
    """``livy/followLog`` / ``livy/unfollowLog`` (exactly one id)."""

    session_id: int | None = Field(None, ge=0)
    batch_id: int | None = Field(None, ge=0)
    profile: str | None = Field(
        None,
        description="The profile whose Livy holds the session or batch (as for livy/readLog).",
    )


class FollowLogResult(WireModel):
    """``livy/followLog`` / ``livy/unfollowLog`` result."""

    following: bool


# --------------------------------------------------------------------------- batches


class SubmitBatchParams(WireModel):
    """``livy/submitBatch``: ``file`` plus any Livy batch field (``args``, ``conf``...)."""

    # defer_build: the schema is built when the model is first used, not at import (start-up)
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="allow", defer_build=True
    )

    file: str = Field(min_length=1)
    profile: str | None = Field(
        None,
        description="Submit on this profile's Livy with its session defaults (default: the active profile).",
    )
    name: str | None = None
    args: list[str] = Field(default_factory=list)


class BatchIdParams(Params):
    """A request about one batch."""

    batch_id: int = Field(ge=0)
    profile: str | None = Field(None, description=_PROFILE_DEFAULT_ACTIVE)


class ListBatchesParams(Params):
    """``livy/listBatches``."""

    profile: str | None = Field(None, description=_PROFILE_DEFAULT_ACTIVE)


class BatchResult(WireModel):
    """A result carrying one batch."""

    batch: BatchInfo


class ListBatchesResult(WireModel):
    """``livy/listBatches`` result."""

    batches: list[BatchInfo]


# --------------------------------------------------------------------------- profiles, credentials, status


class ProfilesResult(WireModel):
    """``livy/listProfiles`` result."""

    profiles: list[ProfileInfo]
    active: str | None


class SelectProfileParams(Params):
    """``livy/selectProfile``."""

    profile: str = Field(min_length=1)


class SetCredentialsParams(Params):
    """``livy/setCredentials``: secrets from the editor's secret store. Never logged, never echoed."""

    profile: str | None = None
    username: str | None = None
    password: str | None = Field(None, json_schema_extra={"writeOnly": True})
    token: str | None = Field(None, json_schema_extra={"writeOnly": True})


class OkResult(WireModel):
    """A plain acknowledgement."""

    ok: Literal[True] = True


class StatusResult(WireModel):
    """``livy/status``: the daemon's state."""

    version: str
    protocol_version: str
    pid: int
    workspace: str
    state_dir: str
    active_profile: str | None
    livy_url: str | None = Field(
        None, description="The active profile's Livy URL (redacted), once the daemon connected to it."
    )
    profiles: list[ProfileInfo]
    sessions: list[SessionInfo]
    tasks: list[TaskInfo]


# --------------------------------------------------------------------------- notifications


class SessionChangedNotification(WireModel):
    """``livy/sessionChanged``."""

    session: SessionInfo


class TaskChangedNotification(WireModel):
    """``livy/taskChanged``: sent on every state change of a task, and on progress changes."""

    task_id: str
    session_id: int
    statement_id: int | None = None
    state: TaskState
    progress: float = Field(0.0, ge=0.0, le=1.0)
    queued_behind: int = Field(0, ge=0)
    message: str | None = Field(None, description="Why, for failed tasks and unsafe cancels.")
    may_still_run: bool = False
    profile: str | None = Field(None, description="The profile of the task's session.")


class OutputNotification(WireModel):
    """``livy/output``: a task's result, sent once, after it was appended to the output log."""

    task_id: str
    session_id: int
    statement_id: int | None = None
    status: OutputStatus
    data: dict[str, Any] = Field(default_factory=dict, description="The mime bundle (text/plain, ...).")
    ename: str | None = None
    evalue: str | None = None
    traceback: list[str] = Field(default_factory=list)
    uri: str | None = None
    range: Range | None = None
    truncated: bool = False
    full_output_path: str | None = Field(None, description="Where the whole output is when truncated.")
    elapsed_ms: int | None = None
    profile: str | None = Field(None, description="The profile of the task's session.")
    error_line: int | None = Field(
        None,
        ge=1,
        description="(1.2) For an error: the 1-based line of the sent code the traceback points at "
        "(its last frame in the code), when the traceback names one.",
    )
    error_range: Range | None = Field(
        None,
        description="(1.2) For an error with errorLine, sent with uri and range: that line in the "
        "document (the range textDocument/publishDiagnostics marks).",
    )


class LogNotification(WireModel):
    """``livy/log``: new log lines of a followed (or running) session, or of a batch."""

    session_id: int | None = None
    batch_id: int | None = None
    lines: list[str]
    from_: int = Field(
        alias="from", description="How many lines of this stream the daemon had sent before these."
    )
    total: int = Field(description="How many lines Livy holds now (its buffers roll: not an offset).")
    profile: str | None = Field(None, description="The profile of the session or batch.")


class BatchChangedNotification(WireModel):
    """``livy/batchChanged``."""

    batch: BatchInfo


class ProgressKind(StrEnum):
    """What a ``livy/progress`` notification is about."""

    PHASE = "phase"
    SPARK_UI = "spark_ui"
    JOB = "job"
    STAGE = "stage"
    WARNING = "warning"
    LIVY_PROGRESS = "livy_progress"


class ProgressNotification(WireModel):
    """(1.3) ``livy/progress``: what Spark does for a task's running statement.

    Read from the session's Spark UI (its monitoring REST API; the statement's jobs are those of
    its Spark job group) while the statement runs, and from the session before it: phases (the
    session starting with YARN's application id, the interpreter or the local Spark JVM starting,
    the statement waiting behind others, running), each Spark job and stage attempt of the
    statement as it changes (task counts, status, a link to its Spark UI page), warnings (failed
    and retried tasks, a stage run again, spill to disk, skew, the Spark UI unreachable: then Livy's
    own progress follows). Fields that do not apply to a ``kind`` are null. ``message`` is one line
    for people, also sent as the message of the task's ``$/progress`` report.
    """

    task_id: str
    session_id: int
    statement_id: int | None = None
    profile: str | None = Field(None, description="The profile of the task's session.")
    kind: ProgressKind
    elapsed: float = Field(ge=0, description="Seconds since livyd began watching the statement.")
    message: str
    phase: str | None = Field(None, description="kind phase: session_starting, interpreter_starting, "
                              "spark_starting, waiting or running.")
    previous_phase: str | None = Field(None, description="kind phase: the phase this one ends.")
    previous_seconds: float | None = Field(None, description="kind phase: how long that one took.")
    app_id: str | None = Field(None, description="The Spark (YARN) application id, once known.")
    yarn_state: str | None = Field(None, description="kind phase: YARN's state of the application "
                                   "(ACCEPTED: waiting for resources).")
    url: str | None = Field(None, description="The Spark UI (kind spark_ui) or the page of the job or "
                            "stage, as reachable from here (the profile's spark_ui.url template).")
    job_id: int | None = None
    stage_id: int | None = None
    attempt_id: int | None = None
    job_ids: list[int] | None = Field(None, description="kind stage: the statement's jobs it belongs to.")
    stage_ids: list[int] | None = Field(None, description="kind job: its stages.")
    name: str | None = Field(None, description="The job's or stage's name (its call site).")
    status: str | None = Field(None, description="Spark's status: RUNNING, SUCCEEDED, FAILED (jobs); "
                               "ACTIVE, COMPLETE, PENDING, SKIPPED, FAILED (stages).")
    num_tasks: int | None = None
    completed_tasks: int | None = None
    active_tasks: int | None = None
    failed_tasks: int | None = None
    seconds: float | None = Field(None, description="How long the job or stage ran (so far).")
    code: str | None = Field(None, description="kind warning: task_failures, stage_retry, spill, skew or "
                             "spark_ui_unreachable.")
    progress: float | None = Field(None, ge=0.0, le=1.0, description="kind livy_progress: Livy's number.")

    @classmethod
    def of_event(cls, event: Any, *, task_id: str, session_id: int, statement_id: int | None,
                 profile: str | None, message: str) -> ProgressNotification:
        """The notification for one of the library's progress events (``livyd.ProgressEvent``)."""
        data = event.model_dump(mode="json")
        kind = data.pop("kind")
        data.pop("message", None)  # a warning's own text: *message* says it
        if "previous" in data:
            data["previous_phase"] = data.pop("previous")
        known = set(cls.model_fields)
        return cls(task_id=task_id, session_id=session_id, statement_id=statement_id, profile=profile,
                   kind=ProgressKind(kind), message=message, **{k: v for k, v in data.items() if k in known})


# --------------------------------------------------------------------------- development loop (1.3)


class DeployParams(Params):
    """``livy/deploy``: deploy the workspace's project (its livyd.toml / git root)."""

    profile: str | None = Field(None, description="The profile whose WebHDFS and remote dir are used.")
    session_id: int | None = Field(
        None, description="Also add the files to this running session (without WebHDFS: upload-pyfile).")
    dry_run: bool = Field(False, description="Only say what would be deployed; send nothing.")


class DeployedFile(WireModel):
    """One deployed script or package zip."""

    kind: Literal["script", "package"]
    name: str
    remote: str | None = Field(None, description="The HDFS path (None: sent through upload-pyfile).")
    uploaded: bool = Field(description="False when the upload cache showed it unchanged: nothing was sent.")


class ExcludedFile(WireModel):
    """A file left out of the deploy, and why (secrets, caches, git-ignored, outside symlinks)."""

    path: str
    reason: str


class DeployResult(WireModel):
    """What ``livy/deploy`` did (or, with dryRun, would do)."""

    root: str = Field(description="The project root.")
    via: Literal["webhdfs", "livy-upload", "none", "dry-run"]
    remote_dir: str | None = None
    files: list[DeployedFile] = Field(default_factory=list)
    py_files: list[str] = Field(default_factory=list, description="The hdfs:// URIs for pyFiles.")
    excluded: list[ExcludedFile] = Field(default_factory=list)


class ReloadModuleParams(Params):
    """``livy/reloadModule``: hot-reload a module or package of the workspace's project."""

    module: str | None = Field(
        None, description="A package (reloaded whole) or a module; None: every project package.")
    session_id: int | None = Field(None, description="Default: the attached session.")
    profile: str | None = None
    push: bool = Field(False, description="Drop the module from sys.modules and import it fresh.")


class ReloadFailure(WireModel):
    module: str
    error: str


class ReloadInfo(WireModel):
    """One reload on the driver."""

    mode: Literal["module", "package", "push"]
    target: str
    via: Literal["inline", "webhdfs", "livy-upload"]
    reloaded: list[str] = Field(default_factory=list, description="The modules reloaded, in order.")
    failed: list[ReloadFailure] = Field(default_factory=list)


class ReloadModuleResult(WireModel):
    session_id: int
    results: list[ReloadInfo]


class HdfsListParams(Params):
    """``livy/hdfsList``: a directory under the profile's remote base dir (relative paths)."""

    path: str | None = Field(None, description="Absolute, ~/..., or relative to the remote base dir.")
    profile: str | None = None


class HdfsEntry(WireModel):
    path: str
    type: str = Field(description="FILE or DIRECTORY.")
    length: int = 0
    owner: str = ""
    permission: str = ""
    modification_time: int = Field(0, description="Milliseconds since the epoch.")


class HdfsListResult(WireModel):
    entries: list[HdfsEntry]


class HdfsUploadParams(Params):
    """``livy/hdfsUpload``: a local file to HDFS (unchanged content is not sent again)."""

    local: str = Field(min_length=1, description="A local path (relative: to the workspace).")
    remote: str | None = Field(None, description="Default: the remote base dir.")
    force: bool = Field(False, description="Allow overwriting outside the remote base dir.")
    profile: str | None = None


class HdfsUploadResult(WireModel):
    remote: str
    uri: str
    uploaded: bool
    size: int


class HdfsDeleteParams(Params):
    """``livy/hdfsDelete``: only inside the remote base dir unless force; never / or the home."""

    path: str = Field(min_length=1)
    recursive: bool = False
    force: bool = False
    profile: str | None = None


class HdfsDeleteResult(WireModel):
    path: str
    deleted: bool = Field(description="False when it did not exist.")


class BuildStandaloneParams(Params):
    """``livy/buildStandalone``: one self-contained .py (the project's packages + a script)."""

    script: str | None = Field(None, description="The script to embed (relative: to the workspace).")
    output: str | None = Field(None, description="Default: <script>_standalone.py in the workspace.")


class BuildStandaloneResult(WireModel):
    output: str
    packages: list[str]
    bytes: int
