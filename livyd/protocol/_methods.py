"""The method table: every livyd request and notification, its params/result models and an example.

This table drives the daemon's validation, the generated ``protocol/methods.json``, the prose
reference and the golden examples. Adding a method means adding one :class:`Method` here (and a
handler in the daemon); ``python -m livyd.protocol`` then regenerates the artifacts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

from livyd.protocol import _models as m

__all__ = ["COMMANDS", "METHODS", "PROTOCOL_VERSION", "Method", "method"]

from livyd._version import PROTOCOL_VERSION  # MAJOR.MINOR; cheap to import (livyd --version --json)

_SESSION: dict[str, Any] = {
    "id": 3,
    "name": "etl",
    "kind": "pyspark",
    "state": "idle",
    "appId": None,
    "owner": None,
    "proxyUser": None,
    "sparkUiUrl": None,
    "driverLogUrl": None,
    "profile": "dev",
    "owned": True,
    "attached": True,
}
_TASK: dict[str, Any] = {
    "taskId": "t-1f3a",
    "sessionId": 3,
    "statementId": 0,
    "state": "running",
    "progress": 0.5,
    "queuedBehind": 0,
    "codePreview": "spark.range(10).count()",
    "uri": "file:///w/job.py",
    "range": {"start": {"line": 4, "character": 0}, "end": {"line": 6, "character": 0}},
    "mayStillRun": False,
}
_BATCH: dict[str, Any] = {
    "id": 1,
    "name": "nightly",
    "state": "running",
    "appId": None,
    "owner": None,
    "proxyUser": None,
    "sparkUiUrl": None,
    "driverLogUrl": None,
    "log": ["stdout: ", "\nstderr: "],
}
_PROFILE: dict[str, Any] = {
    "name": "dev",
    "url": "http://127.0.0.1:8998",
    "auth": "none",
    "active": True,
    "hasCredentials": False,
}


@dataclass(frozen=True)
class Method:
    """One wire method."""

    name: str
    kind: Literal["request", "notification"]
    direction: Literal["clientToServer", "serverToClient"]
    params: type[BaseModel]
    result: type[BaseModel] | None
    doc: str
    example_params: dict[str, Any]
    example_result: dict[str, Any] | None = None
    #: (what is wrong, params) pairs that must fail validation.
    invalid: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


METHODS: list[Method] = [
    # ---------------------------------------------------------------- sessions
    Method(
        "livy/createSession",
        "request",
        "clientToServer",
        m.CreateSessionParams,
        m.SessionResult,
        "Create a Livy session on the profile's Livy (default: the active profile) from the profile's "
        "session defaults plus these fields (the request wins; conf is merged key by key). Returns at "
        "once (state starting); livy/sessionChanged follows as it becomes idle. An unknown profile is "
        "error unknown-profile, naming it and the known ones.",
        {"kind": "pyspark", "name": "etl", "driverMemory": "2g"},
        {"session": {**_SESSION, "state": "starting"}},
        [("kind must be a string", {"kind": 3})],
    ),
    Method(
        "livy/listSessions",
        "request",
        "clientToServer",
        m.ListSessionsParams,
        m.ListSessionsResult,
        "The sessions on the Livy server (or only those this daemon created).",
        {"ownedOnly": False},
        {"sessions": [_SESSION]},
        [("ownedOnly must be a boolean", {"ownedOnly": "maybe"})],
    ),
    Method(
        "livy/attachSession",
        "request",
        "clientToServer",
        m.AttachSessionParams,
        m.SessionResult,
        "Make an existing session the workspace's current session (livy/execute's default).",
        {"sessionId": 3},
        {"session": _SESSION},
        [("sessionId is required", {}), ("sessionId must be >= 0", {"sessionId": -1})],
    ),
    Method(
        "livy/killSession",
        "request",
        "clientToServer",
        m.SessionIdParams,
        m.KillResult,
        "Delete a session; its queued tasks fail, its running task is lost.",
        {"sessionId": 3},
        {"id": 3, "killed": True},
        [("sessionId must be an integer", {"sessionId": "three"})],
    ),
    Method(
        "livy/killAllSessions",
        "request",
        "clientToServer",
        m.KillAllSessionsParams,
        m.KillAllSessionsResult,
        "Delete the sessions this daemon created (ownedOnly=false: every session visible).",
        {"ownedOnly": True},
        {"killed": [3, 4]},
    ),
    Method(
        "livy/sessionInfo",
        "request",
        "clientToServer",
        m.SessionInfoParams,
        m.SessionInfoResult,
        "One session (default: the attached one) and the daemon's tasks on it.",
        {"sessionId": 3},
        {"session": _SESSION, "tasks": [_TASK]},
        [("unknown field", {"session": 3})],
    ),
    Method(
        "livy/restartSession",
        "request",
        "clientToServer",
        m.SessionIdParams,
        m.RestartSessionResult,
        "Kill the session and create a new one with the same configuration; the new one is attached. "
        "The remedy when a cancelled statement may still be running.",
        {"sessionId": 3},
        {"session": {**_SESSION, "id": 4, "state": "starting"}, "previousSessionId": 3},
    ),
    # ---------------------------------------------------------------- statements
    Method(
        "livy/execute",
        "request",
        "clientToServer",
        m.ExecuteParams,
        m.ExecuteResult,
        "Queue code on a session and return at once with a taskId; never waits for the statement. "
        "Without sessionId: the attached session, else a new one from the active profile (with its "
        "session defaults). Tasks of one session run in order; livy/taskChanged and then livy/output "
        "follow.",
        {
            "code": "spark.range(10).count()",
            "uri": "file:///w/job.py",
            "range": {"start": {"line": 4, "character": 0}, "end": {"line": 6, "character": 0}},
        },
        {"taskId": "t-1f3a", "sessionId": 3},
        [
            ("code is required", {"sessionId": 3}),
            (
                "range.start.line must be >= 0",
                {
                    "code": "1",
                    "range": {"start": {"line": -1, "character": 0}, "end": {"line": 0, "character": 0}},
                },
            ),
            ("unknown field", {"code": "1", "sesionId": 3}),
        ],
    ),
    Method(
        "livy/cancel",
        "request",
        "clientToServer",
        m.CancelParams,
        m.CancelResult,
        "Cancel a task: a queued one is dropped; a running one is cancelled on Livy. If Livy only marks "
        "it cancelled while the code may still run, the task says mayStillRun and a window/showMessage "
        "offers livy/restartSession.",
        {"taskId": "t-1f3a"},
        {"task": {**_TASK, "state": "cancelling"}},
        [("taskId must not be empty", {"taskId": ""})],
    ),
    Method(
        "livy/listStatements",
        "request",
        "clientToServer",
        m.ListStatementsParams,
        m.ListStatementsResult,
        "The daemon's tasks (queued, running and finished), oldest first.",
        {"sessionId": 3},
        {"tasks": [_TASK]},
    ),
    Method(
        "livy/statement",
        "request",
        "clientToServer",
        m.StatementParams,
        m.StatementResult,
        "(1.2) One statement in full, for history views: its whole code and, once finished, its "
        "output (bounded like livy/output). By taskId (a task of this daemon, also one that never "
        "reached Livy) or by sessionId and statementId (any statement Livy still holds). A task's "
        "finished output is read back from the workspace output log, never asked of Livy again.",
        {"taskId": "t-1f3a"},
        {
            "sessionId": 3,
            "statementId": 0,
            "taskId": "t-1f3a",
            "profile": "dev",
            "code": "df = spark.range(10)\ndf.count()",
            "state": "available",
            "progress": 1.0,
            "started": 1714550400000,
            "completed": 1714550400412,
            "uri": "file:///w/job.py",
            "range": {"start": {"line": 4, "character": 0}, "end": {"line": 6, "character": 0}},
            "output": {
                "status": "ok",
                "data": {"text/plain": "10"},
                "ename": None,
                "evalue": None,
                "traceback": [],
                "truncated": False,
                "fullOutputPath": None,
                "errorLine": None,
            },
        },
        [("statementId must be >= 0", {"sessionId": 3, "statementId": -1}),
         ("unknown field", {"taskId": "t", "statement": 1})],
    ),
    # ---------------------------------------------------------------- logs
    Method(
        "livy/readLog",
        "request",
        "clientToServer",
        m.ReadLogParams,
        m.LogResult,
        "One page of a session's (or batch's) log. Without from: the tail. With waitSeconds, a "
        "long-poll: an empty page is held until lines appear at from (or the time passes); "
        "$/cancelRequest ends it with -32800.",
        {"sessionId": 3, "from": 0, "size": 100},
        {"lines": ["stdout: "], "from": 0, "total": 1},
        [
            ("size must be <= 10000", {"sessionId": 3, "size": 10001}),
            ("waitSeconds must be > 0", {"sessionId": 3, "waitSeconds": 0}),
        ],
    ),
    Method(
        "livy/sparkLog",
        "request",
        "clientToServer",
        m.SparkLogParams,
        m.SparkLogResult,
        "(1.3) The Spark driver's whole log of a session (appInfo.driverLogUrl), or with executors "
        "every executor's (executorLogUrls, Livy 0.9+): beyond Livy's 200 lines, through the "
        "profile's spark_ui.log_url template when set. Unreachable (a cluster-internal host) or not "
        "reported: an error naming the URL and that key.",
        {"sessionId": 3, "tail": 200},
        {"logs": [{"log": "driver", "url": "http://nm7:8042/node/containerlogs/container_1_2_01_000001/alice",
                   "lines": ["24/05/01 INFO SparkContext: Running Spark version 3.5.1"]}]},
        [("tail must be >= 0", {"sessionId": 3, "tail": -1})],
    ),
    Method(
        "livy/followLog",
        "request",
        "clientToServer",
        m.FollowLogParams,
        m.FollowLogResult,
        "Stream new log lines of a session or batch as livy/log until livy/unfollowLog.",
        {"sessionId": 3},
        {"following": True},
    ),
    Method(
        "livy/unfollowLog",
        "request",
        "clientToServer",
        m.FollowLogParams,
        m.FollowLogResult,
        "Stop streaming a log.",
        {"sessionId": 3},
        {"following": False},
    ),
    # ---------------------------------------------------------------- batches
    Method(
        "livy/submitBatch",
        "request",
        "clientToServer",
        m.SubmitBatchParams,
        m.BatchResult,
        "Submit a batch (file plus any Livy batch field); livy/batchChanged follows its states.",
        {"file": "hdfs:///apps/job.py", "args": ["--day", "2024-05-01"]},
        {"batch": _BATCH},
        [("file is required", {"args": []})],
    ),
    Method(
        "livy/listBatches",
        "request",
        "clientToServer",
        m.ListBatchesParams,
        m.ListBatchesResult,
        "The batches on the Livy server.",
        {},
        {"batches": [_BATCH]},
    ),
    Method(
        "livy/batchInfo",
        "request",
        "clientToServer",
        m.BatchIdParams,
        m.BatchResult,
        "One batch.",
        {"batchId": 1},
        {"batch": _BATCH},
    ),
    Method(
        "livy/killBatch",
        "request",
        "clientToServer",
        m.BatchIdParams,
        m.KillResult,
        "Delete (kill) a batch.",
        {"batchId": 1},
        {"id": 1, "killed": True},
    ),
    Method(
        "livy/readBatchLog",
        "request",
        "clientToServer",
        m.ReadBatchLogParams,
        m.LogResult,
        "One page of a batch's log.",
        {"batchId": 1},
        {"lines": ["stdout: "], "from": 0, "total": 1},
    ),
    # ---------------------------------------------------------------- profiles, credentials, status
    Method(
        "livy/listProfiles",
        "request",
        "clientToServer",
        m.Empty,
        m.ProfilesResult,
        "The configured profiles (URLs redacted, never secrets).",
        {},
        {"profiles": [_PROFILE], "active": "dev"},
    ),
    Method(
        "livy/selectProfile",
        "request",
        "clientToServer",
        m.SelectProfileParams,
        m.ProfilesResult,
        "Make a profile active for new sessions and for livy/execute without sessionId. An attached "
        "session of another profile stops being the default (it keeps running, and its tasks finish "
        "and are delivered); the next execute uses the new profile's last attached session or creates "
        "one.",
        {"profile": "dev"},
        {"profiles": [_PROFILE], "active": "dev"},
        [("profile is required", {})],
    ),
    Method(
        "livy/setCredentials",
        "request",
        "clientToServer",
        m.SetCredentialsParams,
        m.OkResult,
        "Give the daemon a password or token from the editor's secret store. Its params are never "
        "logged, echoed or persisted. Takes effect at once: if the daemon already talks to that "
        "profile's Livy, its client is rebuilt with the new credentials (sessions and tasks are kept).",
        {"profile": "dev", "username": "alice", "password": "s3cret"},
        {"ok": True},
        [("password must be a string", {"password": 42})],
    ),
    Method(
        "livy/status",
        "request",
        "clientToServer",
        m.Empty,
        m.StatusResult,
        "The daemon's state: versions, profiles, sessions and tasks.",
        {},
        {
            "version": "0.1.0",
            "protocolVersion": PROTOCOL_VERSION,
            "pid": 4242,
            "workspace": "/w",
            "stateDir": "/home/alice/.local/state/livyd/ws-3f2a",
            "activeProfile": "dev",
            "livyUrl": "http://127.0.0.1:8998",
            "profiles": [_PROFILE],
            "sessions": [_SESSION],
            "tasks": [_TASK],
        },
    ),
    # ---------------------------------------------------------------- development loop (1.3)
    Method(
        "livy/deploy",
        "request",
        "clientToServer",
        m.DeployParams,
        m.DeployResult,
        "Deploy the workspace's project (scripts, package zips) to the remote dir; what changed only. "
        "With sessionId the files are added to that session's pyFiles.",
        {"sessionId": 3},
        {"root": "/w", "via": "webhdfs", "remoteDir": "/user/alice/livyd/w",
         "files": [{"kind": "package", "name": "mypkg", "remote": "/user/alice/livyd/w/mypkg.zip",
                    "uploaded": False}],
         "pyFiles": ["hdfs:///user/alice/livyd/w/mypkg.zip"],
         "excluded": [{"path": "mypkg/.env", "reason": "a secrets file"}]},
        [("sessionId must be an integer", {"sessionId": "x"})],
    ),
    Method(
        "livy/reloadModule",
        "request",
        "clientToServer",
        m.ReloadModuleParams,
        m.ReloadModuleResult,
        "Hot-reload a module or a whole package of the project into a running session.",
        {"module": "mypkg"},
        {"sessionId": 3, "results": [{"mode": "package", "target": "mypkg", "via": "inline",
                                      "reloaded": ["mypkg.core", "mypkg"], "failed": []}]},
        [("module must be a string", {"module": 5})],
    ),
    Method(
        "livy/hdfsList",
        "request",
        "clientToServer",
        m.HdfsListParams,
        m.HdfsListResult,
        "List an HDFS directory (default: the remote base dir).",
        {"path": "w"},
        {"entries": [{"path": "/user/alice/livyd/w/mypkg.zip", "type": "FILE", "length": 2048,
                      "owner": "alice", "permission": "600", "modificationTime": 1716200000000}]},
    ),
    Method(
        "livy/hdfsUpload",
        "request",
        "clientToServer",
        m.HdfsUploadParams,
        m.HdfsUploadResult,
        "Upload a local file (unchanged content is not sent again; overwriting outside the remote "
        "base dir needs force).",
        {"local": "data/lookup.csv", "remote": "w/lookup.csv"},
        {"remote": "/user/alice/livyd/w/lookup.csv", "uri": "hdfs:///user/alice/livyd/w/lookup.csv",
         "uploaded": True, "size": 1234},
        [("local is required", {})],
    ),
    Method(
        "livy/hdfsDelete",
        "request",
        "clientToServer",
        m.HdfsDeleteParams,
        m.HdfsDeleteResult,
        "Delete on HDFS: only inside the remote base dir unless force; never / or the home directory.",
        {"path": "w/old.zip"},
        {"path": "/user/alice/livyd/w/old.zip", "deleted": True},
        [("path is required", {})],
    ),
    Method(
        "livy/buildStandalone",
        "request",
        "clientToServer",
        m.BuildStandaloneParams,
        m.BuildStandaloneResult,
        "Write one self-contained, reproducible .py embedding the project's packages and a script.",
        {"script": "scripts/job.py"},
        {"output": "/w/job_standalone.py", "packages": ["mypkg"], "bytes": 40960},
    ),
    # ---------------------------------------------------------------- notifications
    Method(
        "livy/sessionChanged",
        "notification",
        "serverToClient",
        m.SessionChangedNotification,
        None,
        "A session's state (or attachment) changed.",
        {"session": _SESSION},
    ),
    Method(
        "livy/taskChanged",
        "notification",
        "serverToClient",
        m.TaskChangedNotification,
        None,
        "A task changed state or progress.",
        {
            "taskId": "t-1f3a",
            "sessionId": 3,
            "statementId": 0,
            "state": "running",
            "progress": 0.25,
            "queuedBehind": 0,
            "message": None,
            "mayStillRun": False,
        },
        None,
        [("state must be a known task state", {"taskId": "t", "sessionId": 3, "state": "exploded"})],
    ),
    Method(
        "livy/output",
        "notification",
        "serverToClient",
        m.OutputNotification,
        None,
        "A task's result; sent once per task, after it was appended to the workspace output log.",
        {
            "taskId": "t-1f3a",
            "sessionId": 3,
            "statementId": 0,
            "status": "ok",
            "data": {"text/plain": "10"},
            "ename": None,
            "evalue": None,
            "traceback": [],
            "uri": "file:///w/job.py",
            "range": None,
            "truncated": False,
            "fullOutputPath": None,
            "elapsedMs": 412,
        },
        None,
        [("status is required", {"taskId": "t", "sessionId": 3})],
    ),
    Method(
        "livy/log",
        "notification",
        "serverToClient",
        m.LogNotification,
        None,
        "New log lines of a followed session or batch (or of a session running a statement).",
        {
            "sessionId": 3,
            "batchId": None,
            "lines": ["24/05/01 INFO SparkContext: ..."],
            "from": 12,
            "total": 13,
        },
    ),
    Method(
        "livy/batchChanged",
        "notification",
        "serverToClient",
        m.BatchChangedNotification,
        None,
        "A batch changed state.",
        {"batch": _BATCH},
    ),
    Method(
        "livy/progress",
        "notification",
        "serverToClient",
        m.ProgressNotification,
        None,
        "(1.3) What Spark does for a task's running statement: a phase, a Spark job or stage of the "
        "statement that changed (from the session's Spark UI), a warning, or Livy's progress when the "
        "Spark UI cannot be reached. The same message is the task's $/progress report.",
        {
            "taskId": "t-1f3a",
            "sessionId": 3,
            "statementId": 0,
            "profile": "dev",
            "kind": "stage",
            "elapsed": 4.2,
            "message": "stage 7.0 reduceByKey at <stdin>:3: 12/40 tasks, 4 running (active, 3 s)",
            "phase": None,
            "previousPhase": None,
            "previousSeconds": None,
            "appId": None,
            "yarnState": None,
            "url": "https://knox:8443/gateway/dev/yarn/proxy/application_1_2/stages/stage/?id=7&attempt=0",
            "jobId": None,
            "stageId": 7,
            "attemptId": 0,
            "jobIds": [4],
            "stageIds": None,
            "name": "reduceByKey at <stdin>:3",
            "status": "ACTIVE",
            "numTasks": 40,
            "completedTasks": 12,
            "activeTasks": 4,
            "failedTasks": 0,
            "seconds": 3.1,
            "code": None,
            "progress": None,
        },
        None,
        [("kind must be a known kind", {"taskId": "t", "sessionId": 3, "kind": "gossip", "elapsed": 0,
                                        "message": "x"})],
    ),
]

#: workspace/executeCommand ids. Arguments are a single object, as described.
COMMANDS: dict[str, str] = {
    "livyd.runCell": 'Run the `# %%` cell at [uri, line]: arguments [{"uri": ..., "line": N}].',
    "livyd.runFile": 'Run the whole document: arguments [{"uri": ...}].',
    "livyd.cancelTask": 'Cancel a task: arguments [{"taskId": ...}].',
    "livyd.restartSession": 'Restart a session: arguments [{"sessionId": N}].',
}

_BY_NAME = {meth.name: meth for meth in METHODS}


def method(name: str) -> Method | None:
    """The :class:`Method` called *name*, or ``None``."""
    return _BY_NAME.get(name)
