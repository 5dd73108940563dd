-- GENERATED from livyd/protocol (pydantic models) - DO NOT EDIT - regenerate with `python -m livyd.protocol`
---@meta

local M = {}

M.PROTOCOL_VERSION = "1.3"

--- ``livy/attachSession``: make an existing Livy session the workspace's current one.
---@class livy.AttachSessionParams
---@field sessionId integer
---@field profile? string|nil The profile whose Livy holds the session (two servers may both have session 0). Default: the only session with that id the daemon knows, else the active profile's.

--- ``livy/batchChanged``.
---@class livy.BatchChangedNotification
---@field batch livy.BatchInfo

--- A request about one batch.
---@class livy.BatchIdParams
---@field batchId integer
---@field profile? string|nil The profile whose Livy to ask (default: the active profile).

--- A Livy batch.
---@class livy.BatchInfo
---@field id integer
---@field name? string|nil
---@field state string
---@field appId? string|nil
---@field owner? string|nil
---@field proxyUser? string|nil
---@field sparkUiUrl? string|nil
---@field driverLogUrl? string|nil
---@field log? string[] Livy's last log lines.
---@field profile? string|nil The profile whose Livy runs the batch.

--- A result carrying one batch.
---@class livy.BatchResult
---@field batch livy.BatchInfo

--- ``livy/buildStandalone``: one self-contained .py (the project's packages + a script).
---@class livy.BuildStandaloneParams
---@field script? string|nil The script to embed (relative: to the workspace).
---@field output? string|nil Default: <script>_standalone.py in the workspace.

---@class livy.BuildStandaloneResult
---@field output string
---@field packages string[]
---@field bytes integer

--- ``livy/cancel``.
---@class livy.CancelParams
---@field taskId string

--- ``livy/cancel`` result: the task after the cancel was asked.
---@class livy.CancelResult
---@field task livy.TaskInfo

--- ``livy/createSession``: further Livy session fields (``driverMemory``, ``conf``...) pass through.
---@class livy.CreateSessionParams
---@field profile? string|nil
---@field kind? string|nil
---@field name? string|nil
---@field attach? boolean Make it the workspace's current session.
---@field deploy? boolean|nil Deploy the workspace's project and add it to pyFiles (1.3; default: the profile's deploy.auto, for a project a livyd.toml or git marks, when WebHDFS is configured).

--- Settings from ``initializationOptions.settings`` and ``workspace/didChangeConfiguration``.
---
--- None of them is a secret: passwords and tokens go through ``livy/setCredentials``.
---@class livy.DaemonSettings
---@field url? string|nil A Livy URL overriding the profile's; with neither, the embedded sandbox is used.
---@field kind? string Session kind for sessions the daemon creates.
---@field pollInterval? number The poll cap: the longest wait in seconds between two polls of a running statement. The first poll comes within milliseconds of the submission and the wait grows to this while nothing changes (fast again when the state moves).
---@field idlePollInterval? number Seconds between polls of an idle session.
---@field maxOutputBytes? integer Outputs whose data takes more bytes than this as JSON are truncated in livy/output and written whole to a file.
---@field deleteSessionsOnExit? boolean Delete the sessions this daemon created on exit.
---@field heartbeatTimeout? integer heartbeatTimeoutInSecond of created sessions, so Livy reaps them if no daemon returns.
---@field stateDir? string|nil Where per-workspace state lives (default: platformdirs).
---@field showTracebacks? boolean Include internal tracebacks in JSON-RPC error data.
---@field auth? "none"|"basic"|"bearer"|"kerberos"|nil (1.2) How to authenticate to Livy, overriding every profile's auth type (like url; null: the profile's). The secret itself comes from livy/setCredentials (basic: username and password; bearer: token) or, for kerberos, the ticket cache.
---@field caBundle? string|nil (1.2) A PEM file of CA certificates to trust for Livy (a Knox with an internal CA), overriding every profile's [tls] ca_bundle (null: the profile's). A relative path is relative to the workspace.

--- ``livy/deploy``: deploy the workspace's project (its livyd.toml / git root).
---@class livy.DeployParams
---@field profile? string|nil The profile whose WebHDFS and remote dir are used.
---@field sessionId? integer|nil Also add the files to this running session (without WebHDFS: upload-pyfile).
---@field dryRun? boolean Only say what would be deployed; send nothing.

--- What ``livy/deploy`` did (or, with dryRun, would do).
---@class livy.DeployResult
---@field root string The project root.
---@field via "webhdfs"|"livy-upload"|"none"|"dry-run"
---@field remoteDir? string|nil
---@field files? livy.DeployedFile[]
---@field pyFiles? string[] The hdfs:// URIs for pyFiles.
---@field excluded? livy.ExcludedFile[]

--- One deployed script or package zip.
---@class livy.DeployedFile
---@field kind "script"|"package"
---@field name string
---@field remote? string|nil The HDFS path (None: sent through upload-pyfile).
---@field uploaded boolean False when the upload cache showed it unchanged: nothing was sent.

--- No parameters.
---@class livy.Empty

--- A file left out of the deploy, and why (secrets, caches, git-ignored, outside symlinks).
---@class livy.ExcludedFile
---@field path string
---@field reason string

--- ``livy/execute``: run code; returns at once.
---@class livy.ExecuteParams
---@field code string
---@field sessionId? integer|nil Default: the attached session, or a new one.
---@field kind? string|nil Statement kind (pyspark, spark, sql, sparkr).
---@field uri? string|nil The document the code came from (echoed in livy/output).
---@field range? livy.Range|nil Where in the document (used for diagnostics).
---@field profile? string|nil With sessionId: the profile whose Livy holds it (default: the only session with that id the daemon knows, else the active profile's). Without: run on this profile's session (its last attached one, else a new one) instead of the attached session.

--- ``livy/execute`` result.
---@class livy.ExecuteResult
---@field taskId string
---@field sessionId integer
---@field profile? string|nil The profile of the session the task runs on.

--- ``livy/followLog`` / ``livy/unfollowLog`` (exactly one id).
---@class livy.FollowLogParams
---@field sessionId? integer|nil
---@field batchId? integer|nil
---@field profile? string|nil The profile whose Livy holds the session or batch (as for livy/readLog).

--- ``livy/followLog`` / ``livy/unfollowLog`` result.
---@class livy.FollowLogResult
---@field following boolean

--- ``livy/hdfsDelete``: only inside the remote base dir unless force; never / or the home.
---@class livy.HdfsDeleteParams
---@field path string
---@field recursive? boolean
---@field force? boolean
---@field profile? string|nil

---@class livy.HdfsDeleteResult
---@field path string
---@field deleted boolean False when it did not exist.

---@class livy.HdfsEntry
---@field path string
---@field type string FILE or DIRECTORY.
---@field length? integer
---@field owner? string
---@field permission? string
---@field modificationTime? integer Milliseconds since the epoch.

--- ``livy/hdfsList``: a directory under the profile's remote base dir (relative paths).
---@class livy.HdfsListParams
---@field path? string|nil Absolute, ~/..., or relative to the remote base dir.
---@field profile? string|nil

---@class livy.HdfsListResult
---@field entries livy.HdfsEntry[]

--- ``livy/hdfsUpload``: a local file to HDFS (unchanged content is not sent again).
---@class livy.HdfsUploadParams
---@field local string A local path (relative: to the workspace).
---@field remote? string|nil Default: the remote base dir.
---@field force? boolean Allow overwriting outside the remote base dir.
---@field profile? string|nil

---@class livy.HdfsUploadResult
---@field remote string
---@field uri string
---@field uploaded boolean
---@field size integer

--- What an editor passes as ``initializationOptions`` of LSP ``initialize``.
---@class livy.InitializationOptions
---@field profile? string|nil The livyd profile to use (None: the configured default).
---@field settings? livy.DaemonSettings
---@field workspace? string|nil The workspace folder; defaults to rootUri or the cwd.

--- ``livy/killAllSessions``.
---@class livy.KillAllSessionsParams
---@field ownedOnly? boolean Only the sessions this daemon created (the safe default).
---@field profile? string|nil With ownedOnly, only this profile's sessions (default: every profile's); otherwise every session on this profile's Livy (default: the active profile's).

--- ``livy/killAllSessions`` result.
---@class livy.KillAllSessionsResult
---@field killed integer[]

--- A result of a kill: what was asked to stop.
---@class livy.KillResult
---@field id integer
---@field killed boolean

--- ``livy/listBatches``.
---@class livy.ListBatchesParams
---@field profile? string|nil The profile whose Livy to ask (default: the active profile).

--- ``livy/listBatches`` result.
---@class livy.ListBatchesResult
---@field batches livy.BatchInfo[]

--- ``livy/listSessions``.
---@class livy.ListSessionsParams
---@field ownedOnly? boolean Only the sessions this daemon created.
---@field profile? string|nil Whose sessions: with ownedOnly, only this profile's (default: every profile's); otherwise the sessions on this profile's Livy (default: the active profile's).

--- ``livy/listSessions`` result.
---@class livy.ListSessionsResult
---@field sessions livy.SessionInfo[]

--- ``livy/listStatements``: the daemon's tasks (all sessions, or one).
---@class livy.ListStatementsParams
---@field sessionId? integer|nil
---@field profile? string|nil Only tasks on this profile's sessions.

--- ``livy/listStatements`` result.
---@class livy.ListStatementsResult
---@field tasks livy.TaskInfo[]

--- Found at ``capabilities.experimental.livyd`` in the ``initialize`` result.
---
--- A client compares ``protocolVersion``'s major number with its own and refuses a different one,
--- saying which side to upgrade.
---@class livy.LivydCapabilities
---@field version string livyd's package version.
---@field protocolVersion string MAJOR.MINOR of this protocol.
---@field requests string[] Every livy/* request method the daemon answers.
---@field notifications string[] Every livy/* notification the daemon may send.
---@field commands string[] workspace/executeCommand ids (all prefixed livyd.).
---@field shared? boolean True when this is the per-user daemon shared by editors.

--- ``livy/log``: new log lines of a followed (or running) session, or of a batch.
---@class livy.LogNotification
---@field sessionId? integer|nil
---@field batchId? integer|nil
---@field lines string[]
---@field from integer How many lines of this stream the daemon had sent before these.
---@field total integer How many lines Livy holds now (its buffers roll: not an offset).
---@field profile? string|nil The profile of the session or batch.

--- A page of log lines.
---@class livy.LogResult
---@field lines string[]
---@field from integer
---@field total integer

--- A plain acknowledgement.
---@class livy.OkResult
---@field ok? true

--- ``livy/output``: a task's result, sent once, after it was appended to the output log.
---@class livy.OutputNotification
---@field taskId string
---@field sessionId integer
---@field statementId? integer|nil
---@field status livy.OutputStatus
---@field data? table<string, any> The mime bundle (text/plain, ...).
---@field ename? string|nil
---@field evalue? string|nil
---@field traceback? string[]
---@field uri? string|nil
---@field range? livy.Range|nil
---@field truncated? boolean
---@field fullOutputPath? string|nil Where the whole output is when truncated.
---@field elapsedMs? integer|nil
---@field profile? string|nil The profile of the task's session.
---@field errorLine? integer|nil (1.2) For an error: the 1-based line of the sent code the traceback points at (its last frame in the code), when the traceback names one.
---@field errorRange? livy.Range|nil (1.2) For an error with errorLine, sent with uri and range: that line in the document (the range textDocument/publishDiagnostics marks).

--- The outcome carried by ``livy/output``.
---@alias livy.OutputStatus "ok"|"error"|"cancelled"|"failed"

--- An LSP position: zero-based line and character.
---@class livy.Position
---@field line integer
---@field character integer

--- A configured profile (never with its secrets).
---@class livy.ProfileInfo
---@field name string
---@field url? string|nil The Livy URL, without user info or secret query values.
---@field auth? string none, basic, bearer or kerberos.
---@field active? boolean
---@field hasCredentials? boolean Whether livy/setCredentials gave it a secret.

--- ``livy/listProfiles`` result.
---@class livy.ProfilesResult
---@field profiles livy.ProfileInfo[]
---@field active string|nil

--- What a ``livy/progress`` notification is about.
---@alias livy.ProgressKind "phase"|"spark_ui"|"job"|"stage"|"warning"|"livy_progress"

--- (1.3) ``livy/progress``: what Spark does for a task's running statement.
---
--- Read from the session's Spark UI (its monitoring REST API; the statement's jobs are those of
--- its Spark job group) while the statement runs, and from the session before it: phases (the
--- session starting with YARN's application id, the interpreter or the local Spark JVM starting,
--- the statement waiting behind others, running), each Spark job and stage attempt of the
--- statement as it changes (task counts, status, a link to its Spark UI page), warnings (failed
--- and retried tasks, a stage run again, spill to disk, skew, the Spark UI unreachable: then Livy's
--- own progress follows). Fields that do not apply to a ``kind`` are null. ``message`` is one line
--- for people, also sent as the message of the task's ``$/progress`` report.
---@class livy.ProgressNotification
---@field taskId string
---@field sessionId integer
---@field statementId? integer|nil
---@field profile? string|nil The profile of the task's session.
---@field kind livy.ProgressKind
---@field elapsed number Seconds since livyd began watching the statement.
---@field message string
---@field phase? string|nil kind phase: session_starting, interpreter_starting, spark_starting, waiting or running.
---@field previousPhase? string|nil kind phase: the phase this one ends.
---@field previousSeconds? number|nil kind phase: how long that one took.
---@field appId? string|nil The Spark (YARN) application id, once known.
---@field yarnState? string|nil kind phase: YARN's state of the application (ACCEPTED: waiting for resources).
---@field url? string|nil The Spark UI (kind spark_ui) or the page of the job or stage, as reachable from here (the profile's spark_ui.url template).
---@field jobId? integer|nil
---@field stageId? integer|nil
---@field attemptId? integer|nil
---@field jobIds? integer[]|nil kind stage: the statement's jobs it belongs to.
---@field stageIds? integer[]|nil kind job: its stages.
---@field name? string|nil The job's or stage's name (its call site).
---@field status? string|nil Spark's status: RUNNING, SUCCEEDED, FAILED (jobs); ACTIVE, COMPLETE, PENDING, SKIPPED, FAILED (stages).
---@field numTasks? integer|nil
---@field completedTasks? integer|nil
---@field activeTasks? integer|nil
---@field failedTasks? integer|nil
---@field seconds? number|nil How long the job or stage ran (so far).
---@field code? string|nil kind warning: task_failures, stage_retry, spill, skew or spark_ui_unreachable.
---@field progress? number|nil kind livy_progress: Livy's number.

--- An LSP range in the document the code came from.
---@class livy.Range
---@field start livy.Position
---@field end livy.Position

--- ``livy/readBatchLog``.
---@class livy.ReadBatchLogParams
---@field batchId integer
---@field from? integer|nil
---@field size? integer
---@field profile? string|nil The profile whose Livy to ask (default: the active profile).

--- ``livy/readLog``: one page of a session's or a batch's log (exactly one id).
---@class livy.ReadLogParams
---@field sessionId? integer|nil
---@field batchId? integer|nil
---@field from? integer|nil First line; default: the tail.
---@field size? integer
---@field profile? string|nil The profile whose Livy holds the session or batch (sessions: default the only known session with that id, else the active profile's; batches: the active profile's).
---@field waitSeconds? number|nil Long-poll: when the page at `from` is empty, hold the request until lines appear there or this many seconds pass (then answer the empty page). Cancellable with $/cancelRequest.

---@class livy.ReloadFailure
---@field module string
---@field error string

--- One reload on the driver.
---@class livy.ReloadInfo
---@field mode "module"|"package"|"push"
---@field target string
---@field via "inline"|"webhdfs"|"livy-upload"
---@field reloaded? string[] The modules reloaded, in order.
---@field failed? livy.ReloadFailure[]

--- ``livy/reloadModule``: hot-reload a module or package of the workspace's project.
---@class livy.ReloadModuleParams
---@field module? string|nil A package (reloaded whole) or a module; None: every project package.
---@field sessionId? integer|nil Default: the attached session.
---@field profile? string|nil
---@field push? boolean Drop the module from sys.modules and import it fresh.

---@class livy.ReloadModuleResult
---@field sessionId integer
---@field results livy.ReloadInfo[]

--- ``livy/restartSession`` result: a new session with the same configuration.
---@class livy.RestartSessionResult
---@field session livy.SessionInfo
---@field previousSessionId integer

--- ``livy/selectProfile``.
---@class livy.SelectProfileParams
---@field profile string

--- ``livy/sessionChanged``.
---@class livy.SessionChangedNotification
---@field session livy.SessionInfo

--- A request about one session.
---@class livy.SessionIdParams
---@field sessionId integer
---@field profile? string|nil The profile whose Livy holds the session (two servers may both have session 0). Default: the only session with that id the daemon knows, else the active profile's.

--- A Livy interactive session as the daemon knows it.
---@class livy.SessionInfo
---@field id integer Livy's session id.
---@field name? string|nil
---@field kind? string|nil pyspark, spark, sparkr, sql or shared.
---@field state string Livy's session state (starting, idle, busy, error, dead, killed, ...).
---@field appId? string|nil
---@field owner? string|nil
---@field proxyUser? string|nil
---@field sparkUiUrl? string|nil
---@field driverLogUrl? string|nil
---@field profile? string|nil The livyd profile the session belongs to.
---@field owned? boolean True when this daemon created the session.
---@field attached? boolean True when it is the workspace's current session.

--- ``livy/sessionInfo``: the given session, or the attached one.
---@class livy.SessionInfoParams
---@field sessionId? integer|nil
---@field profile? string|nil The profile whose Livy holds the session (two servers may both have session 0). Default: the only session with that id the daemon knows, else the active profile's.

--- ``livy/sessionInfo`` result: the session and the daemon's tasks on it.
---@class livy.SessionInfoResult
---@field session livy.SessionInfo
---@field tasks livy.TaskInfo[]

--- A result carrying one session.
---@class livy.SessionResult
---@field session livy.SessionInfo

--- ``livy/setCredentials``: secrets from the editor's secret store. Never logged, never echoed.
---@class livy.SetCredentialsParams
---@field profile? string|nil
---@field username? string|nil
---@field password? string|nil
---@field token? string|nil

--- One log as read.
---@class livy.SparkLogInfo
---@field log string driver, or executor <name>.
---@field url string Where it was read (userinfo removed).
---@field lines string[]

--- (1.3) ``livy/sparkLog``: the Spark driver's whole log, or every executor's, beyond Livy's
--- 200 lines (``appInfo.driverLogUrl`` / ``executorLogUrls``, through the profile's
--- ``spark_ui.log_url`` template when set).
---@class livy.SparkLogParams
---@field sessionId integer
---@field profile? string|nil The profile whose Livy holds the session (default: the only known session with that id, else the active profile's).
---@field executors? boolean Every executor's log (Livy 0.9+) instead of the driver's.
---@field tail? integer|nil Only the last lines of each log.

--- ``livy/sparkLog``'s answer. A URL that does not answer, or a session that reports none, is an
--- error whose message names the URL and the profile key (spark_ui.log_url) that would fix it.
---@class livy.SparkLogResult
---@field logs livy.SparkLogInfo[]

--- A finished statement's output, bounded like ``livy/output`` (``maxOutputBytes``).
---@class livy.StatementOutput
---@field status livy.OutputStatus
---@field data? table<string, any> The mime bundle (text/plain, ...).
---@field ename? string|nil
---@field evalue? string|nil
---@field traceback? string[]
---@field truncated? boolean
---@field fullOutputPath? string|nil Where the whole output is when truncated.
---@field errorLine? integer|nil As in livy/output.

--- ``livy/statement`` (1.2): one statement in full. Give ``taskId`` (a task of this daemon), or
--- ``sessionId`` and ``statementId`` (any statement Livy still holds).
---@class livy.StatementParams
---@field taskId? string|nil
---@field sessionId? integer|nil
---@field statementId? integer|nil
---@field profile? string|nil The profile whose Livy holds the session (two servers may both have session 0). Default: the only session with that id the daemon knows, else the active profile's.

--- ``livy/statement`` result: the whole code and, once finished, the output.
---@class livy.StatementResult
---@field sessionId integer
---@field statementId? integer|nil None for a task that never reached Livy.
---@field taskId? string|nil The daemon's task that ran it, if any.
---@field profile? string|nil
---@field code string The whole code, as submitted.
---@field state string The task's state (TaskState) for a task of this daemon, else Livy's statement state.
---@field progress? number
---@field started? integer|nil When Livy started it (ms since the epoch; 0.5+).
---@field completed? integer|nil When Livy finished it (ms since the epoch; 0.5+).
---@field uri? string|nil
---@field range? livy.Range|nil
---@field output? livy.StatementOutput|nil None until the statement finished.

--- ``livy/status``: the daemon's state.
---@class livy.StatusResult
---@field version string
---@field protocolVersion string
---@field pid integer
---@field workspace string
---@field stateDir string
---@field activeProfile string|nil
---@field livyUrl? string|nil The active profile's Livy URL (redacted), once the daemon connected to it.
---@field profiles livy.ProfileInfo[]
---@field sessions livy.SessionInfo[]
---@field tasks livy.TaskInfo[]

--- ``livy/submitBatch``: ``file`` plus any Livy batch field (``args``, ``conf``...).
---@class livy.SubmitBatchParams
---@field file string
---@field profile? string|nil Submit on this profile's Livy with its session defaults (default: the active profile).
---@field name? string|nil
---@field args? string[]

--- ``livy/taskChanged``: sent on every state change of a task, and on progress changes.
---@class livy.TaskChangedNotification
---@field taskId string
---@field sessionId integer
---@field statementId? integer|nil
---@field state livy.TaskState
---@field progress? number
---@field queuedBehind? integer
---@field message? string|nil Why, for failed tasks and unsafe cancels.
---@field mayStillRun? boolean
---@field profile? string|nil The profile of the task's session.

--- A statement task: what ``livy/execute`` started.
---@class livy.TaskInfo
---@field taskId string
---@field sessionId integer
---@field statementId? integer|nil Livy's statement id once submitted.
---@field state livy.TaskState
---@field progress? number
---@field queuedBehind? integer How many tasks of the session run before this one.
---@field codePreview? string The first line of the code (at most 80 characters).
---@field uri? string|nil
---@field range? livy.Range|nil
---@field mayStillRun? boolean Livy marked the statement cancelled while its code may still run (livy-rest.md 7.5); livy/restartSession is the remedy.
---@field profile? string|nil The profile of the task's session.

--- Where a statement task is.
---
--- ``queued``: held by the daemon behind earlier tasks of the same session (not yet sent to Livy).
--- ``waiting`` / ``running`` / ``available`` / ``cancelling`` / ``cancelled``: Livy's statement
--- states. ``failed``: livyd could not run it (the session is gone, the submission was refused).
---@alias livy.TaskState "queued"|"waiting"|"running"|"available"|"cancelling"|"cancelled"|"failed"

M.REQUESTS = {
  "livy/createSession",
  "livy/listSessions",
  "livy/attachSession",
  "livy/killSession",
  "livy/killAllSessions",
  "livy/sessionInfo",
  "livy/restartSession",
  "livy/execute",
  "livy/cancel",
  "livy/listStatements",
  "livy/statement",
  "livy/readLog",
  "livy/sparkLog",
  "livy/followLog",
  "livy/unfollowLog",
  "livy/submitBatch",
  "livy/listBatches",
  "livy/batchInfo",
  "livy/killBatch",
  "livy/readBatchLog",
  "livy/listProfiles",
  "livy/selectProfile",
  "livy/setCredentials",
  "livy/status",
  "livy/deploy",
  "livy/reloadModule",
  "livy/hdfsList",
  "livy/hdfsUpload",
  "livy/hdfsDelete",
  "livy/buildStandalone",
}
M.NOTIFICATIONS = {
  "livy/sessionChanged",
  "livy/taskChanged",
  "livy/output",
  "livy/log",
  "livy/batchChanged",
  "livy/progress",
}
M.ERROR_CODES = {
  ["auth"] = -32022,
  ["bad-request"] = -32021,
  ["batch-not-found"] = -32026,
  ["config"] = -32001,
  ["connect"] = -32011,
  ["forbidden"] = -32023,
  ["http"] = -32020,
  ["livyd"] = -32000,
  ["missing-extra"] = -32003,
  ["no-session"] = -32051,
  ["not-found"] = -32024,
  ["server"] = -32029,
  ["session-gone"] = -32040,
  ["session-not-found"] = -32025,
  ["session-not-ready"] = -32028,
  ["statement-cancelled"] = -32042,
  ["statement-failed"] = -32041,
  ["statement-not-found"] = -32027,
  ["submission-unknown"] = -32043,
  ["timeout"] = -32012,
  ["transport"] = -32010,
  ["unknown-profile"] = -32052,
  ["unknown-task"] = -32050,
  ["wait-timeout"] = -32013,
  ["webhdfs"] = -32030,
}

return M
