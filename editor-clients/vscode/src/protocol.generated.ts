// GENERATED from livyd/protocol (pydantic models) - DO NOT EDIT - regenerate with `python -m livyd.protocol`
/* eslint-disable */

export const PROTOCOL_VERSION = "1.3";

/**
 * ``livy/attachSession``: make an existing Livy session the workspace's current one.
 */
export interface AttachSessionParams {
  sessionId: number;
  /** The profile whose Livy holds the session (two servers may both have session 0). Default: the only session with that id the daemon knows, else the active profile's. */
  profile?: string | null;
}

/**
 * ``livy/batchChanged``.
 */
export interface BatchChangedNotification {
  batch: BatchInfo;
}

/**
 * A request about one batch.
 */
export interface BatchIdParams {
  batchId: number;
  /** The profile whose Livy to ask (default: the active profile). */
  profile?: string | null;
}

/**
 * A Livy batch.
 */
export interface BatchInfo {
  id: number;
  name?: string | null;
  state: string;
  appId?: string | null;
  owner?: string | null;
  proxyUser?: string | null;
  sparkUiUrl?: string | null;
  driverLogUrl?: string | null;
  /** Livy's last log lines. */
  log?: Array<string>;
  /** The profile whose Livy runs the batch. */
  profile?: string | null;
}

/**
 * A result carrying one batch.
 */
export interface BatchResult {
  batch: BatchInfo;
}

/**
 * ``livy/buildStandalone``: one self-contained .py (the project's packages + a script).
 */
export interface BuildStandaloneParams {
  /** The script to embed (relative: to the workspace). */
  script?: string | null;
  /** Default: <script>_standalone.py in the workspace. */
  output?: string | null;
}

/**
 */
export interface BuildStandaloneResult {
  output: string;
  packages: Array<string>;
  bytes: number;
}

/**
 * ``livy/cancel``.
 */
export interface CancelParams {
  taskId: string;
}

/**
 * ``livy/cancel`` result: the task after the cancel was asked.
 */
export interface CancelResult {
  task: TaskInfo;
}

/**
 * ``livy/createSession``: further Livy session fields (``driverMemory``, ``conf``...) pass through.
 */
export interface CreateSessionParams {
  profile?: string | null;
  kind?: string | null;
  name?: string | null;
  /** Make it the workspace's current session. */
  attach?: boolean;
  /** Deploy the workspace's project and add it to pyFiles (1.3; default: the profile's deploy.auto, for a project a livyd.toml or git marks, when WebHDFS is configured). */
  deploy?: boolean | null;
  [field: string]: unknown;
}

/**
 * Settings from ``initializationOptions.settings`` and ``workspace/didChangeConfiguration``.
 *
 * None of them is a secret: passwords and tokens go through ``livy/setCredentials``.
 */
export interface DaemonSettings {
  /** A Livy URL overriding the profile's; with neither, the embedded sandbox is used. */
  url?: string | null;
  /** Session kind for sessions the daemon creates. */
  kind?: string;
  /** The poll cap: the longest wait in seconds between two polls of a running statement. The first poll comes within milliseconds of the submission and the wait grows to this while nothing changes (fast again when the state moves). */
  pollInterval?: number;
  /** Seconds between polls of an idle session. */
  idlePollInterval?: number;
  /** Outputs whose data takes more bytes than this as JSON are truncated in livy/output and written whole to a file. */
  maxOutputBytes?: number;
  /** Delete the sessions this daemon created on exit. */
  deleteSessionsOnExit?: boolean;
  /** heartbeatTimeoutInSecond of created sessions, so Livy reaps them if no daemon returns. */
  heartbeatTimeout?: number;
  /** Where per-workspace state lives (default: platformdirs). */
  stateDir?: string | null;
  /** Include internal tracebacks in JSON-RPC error data. */
  showTracebacks?: boolean;
  /** (1.2) How to authenticate to Livy, overriding every profile's auth type (like url; null: the profile's). The secret itself comes from livy/setCredentials (basic: username and password; bearer: token) or, for kerberos, the ticket cache. */
  auth?: "none" | "basic" | "bearer" | "kerberos" | null;
  /** (1.2) A PEM file of CA certificates to trust for Livy (a Knox with an internal CA), overriding every profile's [tls] ca_bundle (null: the profile's). A relative path is relative to the workspace. */
  caBundle?: string | null;
}

/**
 * ``livy/deploy``: deploy the workspace's project (its livyd.toml / git root).
 */
export interface DeployParams {
  /** The profile whose WebHDFS and remote dir are used. */
  profile?: string | null;
  /** Also add the files to this running session (without WebHDFS: upload-pyfile). */
  sessionId?: number | null;
  /** Only say what would be deployed; send nothing. */
  dryRun?: boolean;
}

/**
 * What ``livy/deploy`` did (or, with dryRun, would do).
 */
export interface DeployResult {
  /** The project root. */
  root: string;
  via: "webhdfs" | "livy-upload" | "none" | "dry-run";
  remoteDir?: string | null;
  files?: Array<DeployedFile>;
  /** The hdfs:// URIs for pyFiles. */
  pyFiles?: Array<string>;
  excluded?: Array<ExcludedFile>;
}

/**
 * One deployed script or package zip.
 */
export interface DeployedFile {
  kind: "script" | "package";
  name: string;
  /** The HDFS path (None: sent through upload-pyfile). */
  remote?: string | null;
  /** False when the upload cache showed it unchanged: nothing was sent. */
  uploaded: boolean;
}

/**
 * No parameters.
 */
export interface Empty {
}

/**
 * A file left out of the deploy, and why (secrets, caches, git-ignored, outside symlinks).
 */
export interface ExcludedFile {
  path: string;
  reason: string;
}

/**
 * ``livy/execute``: run code; returns at once.
 */
export interface ExecuteParams {
  code: string;
  /** Default: the attached session, or a new one. */
  sessionId?: number | null;
  /** Statement kind (pyspark, spark, sql, sparkr). */
  kind?: string | null;
  /** The document the code came from (echoed in livy/output). */
  uri?: string | null;
  /** Where in the document (used for diagnostics). */
  range?: Range | null;
  /** With sessionId: the profile whose Livy holds it (default: the only session with that id the daemon knows, else the active profile's). Without: run on this profile's session (its last attached one, else a new one) instead of the attached session. */
  profile?: string | null;
}

/**
 * ``livy/execute`` result.
 */
export interface ExecuteResult {
  taskId: string;
  sessionId: number;
  /** The profile of the session the task runs on. */
  profile?: string | null;
}

/**
 * ``livy/followLog`` / ``livy/unfollowLog`` (exactly one id).
 */
export interface FollowLogParams {
  sessionId?: number | null;
  batchId?: number | null;
  /** The profile whose Livy holds the session or batch (as for livy/readLog). */
  profile?: string | null;
}

/**
 * ``livy/followLog`` / ``livy/unfollowLog`` result.
 */
export interface FollowLogResult {
  following: boolean;
}

/**
 * ``livy/hdfsDelete``: only inside the remote base dir unless force; never / or the home.
 */
export interface HdfsDeleteParams {
  path: string;
  recursive?: boolean;
  force?: boolean;
  profile?: string | null;
}

/**
 */
export interface HdfsDeleteResult {
  path: string;
  /** False when it did not exist. */
  deleted: boolean;
}

/**
 */
export interface HdfsEntry {
  path: string;
  /** FILE or DIRECTORY. */
  type: string;
  length?: number;
  owner?: string;
  permission?: string;
  /** Milliseconds since the epoch. */
  modificationTime?: number;
}

/**
 * ``livy/hdfsList``: a directory under the profile's remote base dir (relative paths).
 */
export interface HdfsListParams {
  /** Absolute, ~/..., or relative to the remote base dir. */
  path?: string | null;
  profile?: string | null;
}

/**
 */
export interface HdfsListResult {
  entries: Array<HdfsEntry>;
}

/**
 * ``livy/hdfsUpload``: a local file to HDFS (unchanged content is not sent again).
 */
export interface HdfsUploadParams {
  /** A local path (relative: to the workspace). */
  local: string;
  /** Default: the remote base dir. */
  remote?: string | null;
  /** Allow overwriting outside the remote base dir. */
  force?: boolean;
  profile?: string | null;
}

/**
 */
export interface HdfsUploadResult {
  remote: string;
  uri: string;
  uploaded: boolean;
  size: number;
}

/**
 * What an editor passes as ``initializationOptions`` of LSP ``initialize``.
 */
export interface InitializationOptions {
  /** The livyd profile to use (None: the configured default). */
  profile?: string | null;
  settings?: DaemonSettings;
  /** The workspace folder; defaults to rootUri or the cwd. */
  workspace?: string | null;
}

/**
 * ``livy/killAllSessions``.
 */
export interface KillAllSessionsParams {
  /** Only the sessions this daemon created (the safe default). */
  ownedOnly?: boolean;
  /** With ownedOnly, only this profile's sessions (default: every profile's); otherwise every session on this profile's Livy (default: the active profile's). */
  profile?: string | null;
}

/**
 * ``livy/killAllSessions`` result.
 */
export interface KillAllSessionsResult {
  killed: Array<number>;
}

/**
 * A result of a kill: what was asked to stop.
 */
export interface KillResult {
  id: number;
  killed: boolean;
}

/**
 * ``livy/listBatches``.
 */
export interface ListBatchesParams {
  /** The profile whose Livy to ask (default: the active profile). */
  profile?: string | null;
}

/**
 * ``livy/listBatches`` result.
 */
export interface ListBatchesResult {
  batches: Array<BatchInfo>;
}

/**
 * ``livy/listSessions``.
 */
export interface ListSessionsParams {
  /** Only the sessions this daemon created. */
  ownedOnly?: boolean;
  /** Whose sessions: with ownedOnly, only this profile's (default: every profile's); otherwise the sessions on this profile's Livy (default: the active profile's). */
  profile?: string | null;
}

/**
 * ``livy/listSessions`` result.
 */
export interface ListSessionsResult {
  sessions: Array<SessionInfo>;
}

/**
 * ``livy/listStatements``: the daemon's tasks (all sessions, or one).
 */
export interface ListStatementsParams {
  sessionId?: number | null;
  /** Only tasks on this profile's sessions. */
  profile?: string | null;
}

/**
 * ``livy/listStatements`` result.
 */
export interface ListStatementsResult {
  tasks: Array<TaskInfo>;
}

/**
 * Found at ``capabilities.experimental.livyd`` in the ``initialize`` result.
 *
 * A client compares ``protocolVersion``'s major number with its own and refuses a different one,
 * saying which side to upgrade.
 */
export interface LivydCapabilities {
  /** livyd's package version. */
  version: string;
  /** MAJOR.MINOR of this protocol. */
  protocolVersion: string;
  /** Every livy/* request method the daemon answers. */
  requests: Array<string>;
  /** Every livy/* notification the daemon may send. */
  notifications: Array<string>;
  /** workspace/executeCommand ids (all prefixed livyd.). */
  commands: Array<string>;
  /** True when this is the per-user daemon shared by editors. */
  shared?: boolean;
}

/**
 * ``livy/log``: new log lines of a followed (or running) session, or of a batch.
 */
export interface LogNotification {
  sessionId?: number | null;
  batchId?: number | null;
  lines: Array<string>;
  /** How many lines of this stream the daemon had sent before these. */
  from: number;
  /** How many lines Livy holds now (its buffers roll: not an offset). */
  total: number;
  /** The profile of the session or batch. */
  profile?: string | null;
}

/**
 * A page of log lines.
 */
export interface LogResult {
  lines: Array<string>;
  from: number;
  total: number;
}

/**
 * A plain acknowledgement.
 */
export interface OkResult {
  ok?: true;
}

/**
 * ``livy/output``: a task's result, sent once, after it was appended to the output log.
 */
export interface OutputNotification {
  taskId: string;
  sessionId: number;
  statementId?: number | null;
  status: OutputStatus;
  /** The mime bundle (text/plain, ...). */
  data?: Record<string, unknown>;
  ename?: string | null;
  evalue?: string | null;
  traceback?: Array<string>;
  uri?: string | null;
  range?: Range | null;
  truncated?: boolean;
  /** Where the whole output is when truncated. */
  fullOutputPath?: string | null;
  elapsedMs?: number | null;
  /** The profile of the task's session. */
  profile?: string | null;
  /** (1.2) For an error: the 1-based line of the sent code the traceback points at (its last frame in the code), when the traceback names one. */
  errorLine?: number | null;
  /** (1.2) For an error with errorLine, sent with uri and range: that line in the document (the range textDocument/publishDiagnostics marks). */
  errorRange?: Range | null;
}

/**
 * The outcome carried by ``livy/output``.
 */
export type OutputStatus = "ok" | "error" | "cancelled" | "failed";

/**
 * An LSP position: zero-based line and character.
 */
export interface Position {
  line: number;
  character: number;
}

/**
 * A configured profile (never with its secrets).
 */
export interface ProfileInfo {
  name: string;
  /** The Livy URL, without user info or secret query values. */
  url?: string | null;
  /** none, basic, bearer or kerberos. */
  auth?: string;
  active?: boolean;
  /** Whether livy/setCredentials gave it a secret. */
  hasCredentials?: boolean;
}

/**
 * ``livy/listProfiles`` result.
 */
export interface ProfilesResult {
  profiles: Array<ProfileInfo>;
  active: string | null;
}

/**
 * What a ``livy/progress`` notification is about.
 */
export type ProgressKind = "phase" | "spark_ui" | "job" | "stage" | "warning" | "livy_progress";

/**
 * (1.3) ``livy/progress``: what Spark does for a task's running statement.
 *
 * Read from the session's Spark UI (its monitoring REST API; the statement's jobs are those of
 * its Spark job group) while the statement runs, and from the session before it: phases (the
 * session starting with YARN's application id, the interpreter or the local Spark JVM starting,
 * the statement waiting behind others, running), each Spark job and stage attempt of the
 * statement as it changes (task counts, status, a link to its Spark UI page), warnings (failed
 * and retried tasks, a stage run again, spill to disk, skew, the Spark UI unreachable: then Livy's
 * own progress follows). Fields that do not apply to a ``kind`` are null. ``message`` is one line
 * for people, also sent as the message of the task's ``$/progress`` report.
 */
export interface ProgressNotification {
  taskId: string;
  sessionId: number;
  statementId?: number | null;
  /** The profile of the task's session. */
  profile?: string | null;
  kind: ProgressKind;
  /** Seconds since livyd began watching the statement. */
  elapsed: number;
  message: string;
  /** kind phase: session_starting, interpreter_starting, spark_starting, waiting or running. */
  phase?: string | null;
  /** kind phase: the phase this one ends. */
  previousPhase?: string | null;
  /** kind phase: how long that one took. */
  previousSeconds?: number | null;
  /** The Spark (YARN) application id, once known. */
  appId?: string | null;
  /** kind phase: YARN's state of the application (ACCEPTED: waiting for resources). */
  yarnState?: string | null;
  /** The Spark UI (kind spark_ui) or the page of the job or stage, as reachable from here (the profile's spark_ui.url template). */
  url?: string | null;
  jobId?: number | null;
  stageId?: number | null;
  attemptId?: number | null;
  /** kind stage: the statement's jobs it belongs to. */
  jobIds?: Array<number> | null;
  /** kind job: its stages. */
  stageIds?: Array<number> | null;
  /** The job's or stage's name (its call site). */
  name?: string | null;
  /** Spark's status: RUNNING, SUCCEEDED, FAILED (jobs); ACTIVE, COMPLETE, PENDING, SKIPPED, FAILED (stages). */
  status?: string | null;
  numTasks?: number | null;
  completedTasks?: number | null;
  activeTasks?: number | null;
  failedTasks?: number | null;
  /** How long the job or stage ran (so far). */
  seconds?: number | null;
  /** kind warning: task_failures, stage_retry, spill, skew or spark_ui_unreachable. */
  code?: string | null;
  /** kind livy_progress: Livy's number. */
  progress?: number | null;
}

/**
 * An LSP range in the document the code came from.
 */
export interface Range {
  start: Position;
  end: Position;
}

/**
 * ``livy/readBatchLog``.
 */
export interface ReadBatchLogParams {
  batchId: number;
  from?: number | null;
  size?: number;
  /** The profile whose Livy to ask (default: the active profile). */
  profile?: string | null;
}

/**
 * ``livy/readLog``: one page of a session's or a batch's log (exactly one id).
 */
export interface ReadLogParams {
  sessionId?: number | null;
  batchId?: number | null;
  /** First line; default: the tail. */
  from?: number | null;
  size?: number;
  /** The profile whose Livy holds the session or batch (sessions: default the only known session with that id, else the active profile's; batches: the active profile's). */
  profile?: string | null;
  /** Long-poll: when the page at `from` is empty, hold the request until lines appear there or this many seconds pass (then answer the empty page). Cancellable with $/cancelRequest. */
  waitSeconds?: number | null;
}

/**
 */
export interface ReloadFailure {
  module: string;
  error: string;
}

/**
 * One reload on the driver.
 */
export interface ReloadInfo {
  mode: "module" | "package" | "push";
  target: string;
  via: "inline" | "webhdfs" | "livy-upload";
  /** The modules reloaded, in order. */
  reloaded?: Array<string>;
  failed?: Array<ReloadFailure>;
}

/**
 * ``livy/reloadModule``: hot-reload a module or package of the workspace's project.
 */
export interface ReloadModuleParams {
  /** A package (reloaded whole) or a module; None: every project package. */
  module?: string | null;
  /** Default: the attached session. */
  sessionId?: number | null;
  profile?: string | null;
  /** Drop the module from sys.modules and import it fresh. */
  push?: boolean;
}

/**
 */
export interface ReloadModuleResult {
  sessionId: number;
  results: Array<ReloadInfo>;
}

/**
 * ``livy/restartSession`` result: a new session with the same configuration.
 */
export interface RestartSessionResult {
  session: SessionInfo;
  previousSessionId: number;
}

/**
 * ``livy/selectProfile``.
 */
export interface SelectProfileParams {
  profile: string;
}

/**
 * ``livy/sessionChanged``.
 */
export interface SessionChangedNotification {
  session: SessionInfo;
}

/**
 * A request about one session.
 */
export interface SessionIdParams {
  sessionId: number;
  /** The profile whose Livy holds the session (two servers may both have session 0). Default: the only session with that id the daemon knows, else the active profile's. */
  profile?: string | null;
}

/**
 * A Livy interactive session as the daemon knows it.
 */
export interface SessionInfo {
  /** Livy's session id. */
  id: number;
  name?: string | null;
  /** pyspark, spark, sparkr, sql or shared. */
  kind?: string | null;
  /** Livy's session state (starting, idle, busy, error, dead, killed, ...). */
  state: string;
  appId?: string | null;
  owner?: string | null;
  proxyUser?: string | null;
  sparkUiUrl?: string | null;
  driverLogUrl?: string | null;
  /** The livyd profile the session belongs to. */
  profile?: string | null;
  /** True when this daemon created the session. */
  owned?: boolean;
  /** True when it is the workspace's current session. */
  attached?: boolean;
}

/**
 * ``livy/sessionInfo``: the given session, or the attached one.
 */
export interface SessionInfoParams {
  sessionId?: number | null;
  /** The profile whose Livy holds the session (two servers may both have session 0). Default: the only session with that id the daemon knows, else the active profile's. */
  profile?: string | null;
}

/**
 * ``livy/sessionInfo`` result: the session and the daemon's tasks on it.
 */
export interface SessionInfoResult {
  session: SessionInfo;
  tasks: Array<TaskInfo>;
}

/**
 * A result carrying one session.
 */
export interface SessionResult {
  session: SessionInfo;
}

/**
 * ``livy/setCredentials``: secrets from the editor's secret store. Never logged, never echoed.
 */
export interface SetCredentialsParams {
  profile?: string | null;
  username?: string | null;
  password?: string | null;
  token?: string | null;
}

/**
 * One log as read.
 */
export interface SparkLogInfo {
  /** driver, or executor <name>. */
  log: string;
  /** Where it was read (userinfo removed). */
  url: string;
  lines: Array<string>;
}

/**
 * (1.3) ``livy/sparkLog``: the Spark driver's whole log, or every executor's, beyond Livy's
 * 200 lines (``appInfo.driverLogUrl`` / ``executorLogUrls``, through the profile's
 * ``spark_ui.log_url`` template when set).
 */
export interface SparkLogParams {
  sessionId: number;
  /** The profile whose Livy holds the session (default: the only known session with that id, else the active profile's). */
  profile?: string | null;
  /** Every executor's log (Livy 0.9+) instead of the driver's. */
  executors?: boolean;
  /** Only the last lines of each log. */
  tail?: number | null;
}

/**
 * ``livy/sparkLog``'s answer. A URL that does not answer, or a session that reports none, is an
 * error whose message names the URL and the profile key (spark_ui.log_url) that would fix it.
 */
export interface SparkLogResult {
  logs: Array<SparkLogInfo>;
}

/**
 * A finished statement's output, bounded like ``livy/output`` (``maxOutputBytes``).
 */
export interface StatementOutput {
  status: OutputStatus;
  /** The mime bundle (text/plain, ...). */
  data?: Record<string, unknown>;
  ename?: string | null;
  evalue?: string | null;
  traceback?: Array<string>;
  truncated?: boolean;
  /** Where the whole output is when truncated. */
  fullOutputPath?: string | null;
  /** As in livy/output. */
  errorLine?: number | null;
}

/**
 * ``livy/statement`` (1.2): one statement in full. Give ``taskId`` (a task of this daemon), or
 * ``sessionId`` and ``statementId`` (any statement Livy still holds).
 */
export interface StatementParams {
  taskId?: string | null;
  sessionId?: number | null;
  statementId?: number | null;
  /** The profile whose Livy holds the session (two servers may both have session 0). Default: the only session with that id the daemon knows, else the active profile's. */
  profile?: string | null;
}

/**
 * ``livy/statement`` result: the whole code and, once finished, the output.
 */
export interface StatementResult {
  sessionId: number;
  /** None for a task that never reached Livy. */
  statementId?: number | null;
  /** The daemon's task that ran it, if any. */
  taskId?: string | null;
  profile?: string | null;
  /** The whole code, as submitted. */
  code: string;
  /** The task's state (TaskState) for a task of this daemon, else Livy's statement state. */
  state: string;
  progress?: number;
  /** When Livy started it (ms since the epoch; 0.5+). */
  started?: number | null;
  /** When Livy finished it (ms since the epoch; 0.5+). */
  completed?: number | null;
  uri?: string | null;
  range?: Range | null;
  /** None until the statement finished. */
  output?: StatementOutput | null;
}

/**
 * ``livy/status``: the daemon's state.
 */
export interface StatusResult {
  version: string;
  protocolVersion: string;
  pid: number;
  workspace: string;
  stateDir: string;
  activeProfile: string | null;
  /** The active profile's Livy URL (redacted), once the daemon connected to it. */
  livyUrl?: string | null;
  profiles: Array<ProfileInfo>;
  sessions: Array<SessionInfo>;
  tasks: Array<TaskInfo>;
}

/**
 * ``livy/submitBatch``: ``file`` plus any Livy batch field (``args``, ``conf``...).
 */
export interface SubmitBatchParams {
  file: string;
  /** Submit on this profile's Livy with its session defaults (default: the active profile). */
  profile?: string | null;
  name?: string | null;
  args?: Array<string>;
  [field: string]: unknown;
}

/**
 * ``livy/taskChanged``: sent on every state change of a task, and on progress changes.
 */
export interface TaskChangedNotification {
  taskId: string;
  sessionId: number;
  statementId?: number | null;
  state: TaskState;
  progress?: number;
  queuedBehind?: number;
  /** Why, for failed tasks and unsafe cancels. */
  message?: string | null;
  mayStillRun?: boolean;
  /** The profile of the task's session. */
  profile?: string | null;
}

/**
 * A statement task: what ``livy/execute`` started.
 */
export interface TaskInfo {
  taskId: string;
  sessionId: number;
  /** Livy's statement id once submitted. */
  statementId?: number | null;
  state: TaskState;
  progress?: number;
  /** How many tasks of the session run before this one. */
  queuedBehind?: number;
  /** The first line of the code (at most 80 characters). */
  codePreview?: string;
  uri?: string | null;
  range?: Range | null;
  /** Livy marked the statement cancelled while its code may still run (livy-rest.md 7.5); livy/restartSession is the remedy. */
  mayStillRun?: boolean;
  /** The profile of the task's session. */
  profile?: string | null;
}

/**
 * Where a statement task is.
 *
 * ``queued``: held by the daemon behind earlier tasks of the same session (not yet sent to Livy).
 * ``waiting`` / ``running`` / ``available`` / ``cancelling`` / ``cancelled``: Livy's statement
 * states. ``failed``: livyd could not run it (the session is gone, the submission was refused).
 */
export type TaskState = "queued" | "waiting" | "running" | "available" | "cancelling" | "cancelled" | "failed";

/** Every livyd method: params and result types. */
export interface LivydRequests {
  "livy/createSession": { params: CreateSessionParams; result: SessionResult };
  "livy/listSessions": { params: ListSessionsParams; result: ListSessionsResult };
  "livy/attachSession": { params: AttachSessionParams; result: SessionResult };
  "livy/killSession": { params: SessionIdParams; result: KillResult };
  "livy/killAllSessions": { params: KillAllSessionsParams; result: KillAllSessionsResult };
  "livy/sessionInfo": { params: SessionInfoParams; result: SessionInfoResult };
  "livy/restartSession": { params: SessionIdParams; result: RestartSessionResult };
  "livy/execute": { params: ExecuteParams; result: ExecuteResult };
  "livy/cancel": { params: CancelParams; result: CancelResult };
  "livy/listStatements": { params: ListStatementsParams; result: ListStatementsResult };
  "livy/statement": { params: StatementParams; result: StatementResult };
  "livy/readLog": { params: ReadLogParams; result: LogResult };
  "livy/sparkLog": { params: SparkLogParams; result: SparkLogResult };
  "livy/followLog": { params: FollowLogParams; result: FollowLogResult };
  "livy/unfollowLog": { params: FollowLogParams; result: FollowLogResult };
  "livy/submitBatch": { params: SubmitBatchParams; result: BatchResult };
  "livy/listBatches": { params: ListBatchesParams; result: ListBatchesResult };
  "livy/batchInfo": { params: BatchIdParams; result: BatchResult };
  "livy/killBatch": { params: BatchIdParams; result: KillResult };
  "livy/readBatchLog": { params: ReadBatchLogParams; result: LogResult };
  "livy/listProfiles": { params: Empty; result: ProfilesResult };
  "livy/selectProfile": { params: SelectProfileParams; result: ProfilesResult };
  "livy/setCredentials": { params: SetCredentialsParams; result: OkResult };
  "livy/status": { params: Empty; result: StatusResult };
  "livy/deploy": { params: DeployParams; result: DeployResult };
  "livy/reloadModule": { params: ReloadModuleParams; result: ReloadModuleResult };
  "livy/hdfsList": { params: HdfsListParams; result: HdfsListResult };
  "livy/hdfsUpload": { params: HdfsUploadParams; result: HdfsUploadResult };
  "livy/hdfsDelete": { params: HdfsDeleteParams; result: HdfsDeleteResult };
  "livy/buildStandalone": { params: BuildStandaloneParams; result: BuildStandaloneResult };
}

export interface LivydNotifications {
  "livy/sessionChanged": SessionChangedNotification;
  "livy/taskChanged": TaskChangedNotification;
  "livy/output": OutputNotification;
  "livy/log": LogNotification;
  "livy/batchChanged": BatchChangedNotification;
  "livy/progress": ProgressNotification;
}

export const REQUESTS = ["livy/createSession", "livy/listSessions", "livy/attachSession", "livy/killSession", "livy/killAllSessions", "livy/sessionInfo", "livy/restartSession", "livy/execute", "livy/cancel", "livy/listStatements", "livy/statement", "livy/readLog", "livy/sparkLog", "livy/followLog", "livy/unfollowLog", "livy/submitBatch", "livy/listBatches", "livy/batchInfo", "livy/killBatch", "livy/readBatchLog", "livy/listProfiles", "livy/selectProfile", "livy/setCredentials", "livy/status", "livy/deploy", "livy/reloadModule", "livy/hdfsList", "livy/hdfsUpload", "livy/hdfsDelete", "livy/buildStandalone"] as const;
export const NOTIFICATIONS = ["livy/sessionChanged", "livy/taskChanged", "livy/output", "livy/log", "livy/batchChanged", "livy/progress"] as const;
export const ERROR_CODES: Record<string, number> = {
  "auth": -32022,
  "bad-request": -32021,
  "batch-not-found": -32026,
  "config": -32001,
  "connect": -32011,
  "forbidden": -32023,
  "http": -32020,
  "livyd": -32000,
  "missing-extra": -32003,
  "no-session": -32051,
  "not-found": -32024,
  "server": -32029,
  "session-gone": -32040,
  "session-not-found": -32025,
  "session-not-ready": -32028,
  "statement-cancelled": -32042,
  "statement-failed": -32041,
  "statement-not-found": -32027,
  "submission-unknown": -32043,
  "timeout": -32012,
  "transport": -32010,
  "unknown-profile": -32052,
  "unknown-task": -32050,
  "wait-timeout": -32013,
  "webhdfs": -32030,
};
