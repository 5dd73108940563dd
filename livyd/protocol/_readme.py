"""The hand-written prose of ``protocol/README.md``; the generator adds the tables around it."""

from __future__ import annotations

__all__ = ["PROSE_END", "PROSE_START"]

PROSE_START = """\
# The livyd daemon protocol, version {PROTOCOL_VERSION}

`livyd --stdio` is a long-running process an editor spawns. It speaks the LSP base protocol on
stdin/stdout: each message is a frame `Content-Length: N\\r\\n\\r\\n` followed by N bytes of UTF-8
JSON-RPC 2.0. Nothing else is ever written to stdout; logs go to stderr (or `--log-file F`).
Everything below can be checked against `livyd.schema.json` (JSON Schema of every params,
result and notification, under `$defs`) and `methods.json` (the method table); the
`examples/` folder holds golden valid and invalid messages that every client's tests load.

Field names are camelCase. Params reject unknown fields (except `livy/createSession` and
`livy/submitBatch`, which pass further Livy fields through); results and notifications may gain
fields within a major version, so clients must ignore fields they do not know.

## Lifecycle

1. The client sends LSP `initialize`. `initializationOptions` is an `InitializationOptions`:

   ```json
   {"profile": null, "settings": {"url": "http://127.0.0.1:8998", "kind": "pyspark"}, "workspace": "/w"}
   ```

   `profile` names the active livyd profile (`livyd.toml`; null: the configured default);
   `settings` (`DaemonSettings`) tune the daemon; `settings.url`, when set, overrides every
   profile's Livy URL (like `--url`). With no URL anywhere, the daemon starts the embedded
   sandbox. **Never put secrets here**: use `livy/setCredentials`.
   Invalid options are answered with -32602 naming the field (`settings.url` must be an
   `http://` or `https://` URL). An unknown `profile` does not fail `initialize`: it is answered
   normally, the client receives one `window/showMessage` (type Error) naming the profile and the
   known ones, and the configured default profile is used.
2. The result is a normal LSP `InitializeResult` (`serverInfo` = `{"name": "livyd", "version"}`);
   livyd's own capabilities are at `capabilities.experimental.livyd` (`LivydCapabilities`):
   `version`, `protocolVersion` (`MAJOR.MINOR`), `requests`, `notifications`, `commands`,
   `shared`. A client must compare the major number of `protocolVersion` with its own and, if
   they differ, refuse to continue with a message saying which to upgrade ("livyd speaks
   protocol 2.x, this extension 1.x: upgrade the extension"). A higher minor is compatible.
3. The client sends `initialized`. Persisted state (sessions and in-flight statements of this
   workspace) is restored only after that, so `initialize` is answered fast.
4. `shutdown` then `exit` end the daemon (exit code 0). Closing stdin (EOF) does the same. On exit
   the daemon cancels its pollers; the sessions it created are kept (they were created with
   `heartbeatTimeoutInSecond`, so Livy reaps them if no daemon comes back) unless
   `settings.deleteSessionsOnExit` is true.

## Sharing between editors

`livyd --stdio` relays its stdin/stdout to a per-user background daemon over a Unix socket
(`$XDG_RUNTIME_DIR/livyd/daemon-<version>-p<major>.sock`, directory 0700, socket 0600, started on
demand, one per livyd version), so every editor window on the machine shares sessions, tasks and
pollers; clients on the same workspace receive each other's `livy/taskChanged` / `livy/output` /
`livy/log` notifications (work-done progress and diagnostics go only to the client that ran the
task). Each client still does its own `initialize` ... `exit`. The shared daemon exits
`LIVYD_DAEMON_IDLE_EXIT` seconds (default 600) after its last client left. `livyd --stdio
--standalone` keeps everything in the editor's process; if the shared daemon cannot be reached or
started, or does not answer the relay's handshake within 5 s (`LIVYD_DAEMON_HANDSHAKE_TIMEOUT`),
the relay falls back to that and says why on stderr. The wire protocol is the same either way.

**Settings of clients sharing a workspace.** Clients whose `settings.stateDir` resolves to the
same directory (by default: the same workspace) share one supervisor, and with it one set of
supervisor-wide settings: `url`, `kind`, `pollInterval`, `idlePollInterval`, `maxOutputBytes`,
`deleteSessionsOnExit`, `heartbeatTimeout`, and the `profile` of `initializationOptions`. **The
first client to initialize on the workspace wins**: a later client's differing values are ignored,
and that client receives one `window/showMessage` (type Warning) naming each ignored field and the
value in effect (URLs redacted). `showTracebacks` stays per client (it only shapes that client's
error replies). `workspace/didChangeConfiguration` from any client is a deliberate change: it
replaces the shared settings for every client of the workspace (the latest change wins). A new
`url` applies at once to new connections (see "Profiles and several Livy servers"). `stateDir`
changes only with a new daemon: a client that changes it gets one `window/showMessage` (type
Warning) naming `stateDir` and the directory still in use.
With `--standalone` there is one client per daemon, so its settings always apply.

`workspace/didChangeConfiguration` with `{"settings": {...DaemonSettings...}}` (or
`{"settings": {"livyd": {...}}}`) replaces the settings. A change with an invalid value (a
`url` that is not `http://` or `https://`, `pollInterval: -1`, an unknown setting) is refused
whole and the previous settings stay; the client receives one `window/showMessage` (type Error)
with one line per bad setting, its name and what is expected (`pollInterval: expected a number
greater than 0`), never its value.

## Profiles and several Livy servers

One daemon talks to several Livy servers at once. A **connection** is a profile at its effective
URL (`settings.url` if set, else the profile's); the daemon opens one per connection on first
use, keeps it while sessions live on it, and closes them all on exit. Every session remembers its
connection: its polling, statements, cancels, logs, kill, restart and completion all go there,
whatever is selected later.

* `livy/createSession {profile?, ...}` creates the session on `profile`'s Livy (default: the
  active profile) from that profile's `[session]` defaults in `livyd.toml` (`driverMemory`,
  `conf`, `pyFiles`, `queue`, `kind`, the name prefix, ...); fields of the request win, `conf`
  is merged key by key (the request's value wins per key). The kind is the request's, else the
  profile's, else `settings.kind`. An unknown profile is error `unknown-profile`
  (-32052) naming it and the known profiles. A bad Livy session field is -32602 whose
  `data.field` is the name as sent (`driverMemory: expected a string`; a field Livy does not
  have: `foo is not a Livy session field`; a Spark property Livy refuses: `conf.spark.master`).
  `livy/execute` without `sessionId` and with no attached session creates its session the same
  way, from the active profile.
* `livy/selectProfile {profile}` makes the profile active: new sessions and `livy/execute`
  without `sessionId` use it from now on. If the attached session belongs to another profile it
  is detached (a `livy/sessionChanged` with `attached: false`): the next execute uses the new
  profile's last attached session, or creates one. Nothing of the old profile stops: its sessions
  keep polling, and their queued and running tasks finish and are delivered as usual. Selecting
  the old profile again makes its last attached session the default again.
* A changed `settings.url` (`workspace/didChangeConfiguration`) applies to new connections at
  once; sessions on the old URL keep their connection until they end. An attached session not on
  the new URL is detached, as above.
* **Session ids are Livy's**, so two servers may both have session 0. Requests that take a
  `sessionId` (`livy/execute`, `attachSession`, `killSession`, `sessionInfo`, `restartSession`,
  `readLog`, `followLog`, `unfollowLog`, `listStatements`) accept an optional `profile`; the
  session meant is that profile's; without `profile`, the only session with that id the daemon
  knows (a live one before a dead one); else the active profile's. `livy/execute` with `profile`
  and no `sessionId` runs on that profile's last attached session (or a new one) without changing
  the attachment. Batch requests (`submitBatch`, `listBatches`, `batchInfo`, `killBatch`,
  `readBatchLog`, and `readLog`/`followLog` with `batchId`) take `profile` too, default the
  active one; `submitBatch` applies the profile's session defaults that batches accept.
* Every `SessionInfo` (so every `livy/sessionChanged`), `TaskInfo`, `livy/taskChanged`,
  `livy/output`, `livy/log`, `BatchInfo` and the `livy/execute` result carry `profile`, so a
  client can tell session 0 of one server from session 0 of another. `livy/status` lists the
  sessions of every profile and gives the active profile's URL as `livyUrl`.

## Cancelling a request

`$/cancelRequest {"id": N}` cancels request N if it is still pending: it is answered once, with
error -32800 (RequestCancelled), and whatever it was waiting for (a Livy call, a long-poll) is
abandoned; the daemon, its sessions and its tasks carry on. A request that was already answered
is not answered again. Most requests answer at once; the one meant to be held open is
`livy/readLog` with `waitSeconds` (a long-poll for log lines). `$/cancelRequest` never cancels a
statement: that is `livy/cancel`.

## Running code

`livy/execute {code, sessionId?, kind?, uri?, range?}` returns **at once** with
`{taskId, sessionId}`; it never waits for Livy. Without `sessionId` it uses the workspace's
attached session, or creates one from the active profile (and attaches it). Then, for each task,
the client receives, in this order:

* `livy/taskChanged` with `state` going through `queued` (held by the daemon; `queuedBehind`
  says how many tasks of the session are ahead; as the queue moves, the queued tasks are
  re-sent with their new place, moves within 50 ms folded into one round), `waiting`
  (submitted to Livy), `running` (with `progress` 0..1), and finally one of `available`,
  `cancelled` or `failed` (livyd could not run it: the session died, Livy refused the
  submission; `message` says why);
* `livy/output` exactly once, when the task is finished: `status` is `ok`, `error` (with
  `ename`, `evalue`, `traceback`), `cancelled` or `failed`; `data` is the mime bundle
  (`text/plain`, `application/json`, `image/png`, ...). The output is appended to the
  workspace's output log *before* it is notified, so nothing is lost if the client is gone.
  Outputs whose `data` takes more than `settings.maxOutputBytes` (default 1 MB) as JSON on the
  wire are cut to that size: `text/plain` at a character boundary, ending with a note; a value
  too big to keep whole (`application/json`, `image/png`, a table) is left out and named in a
  `text/plain` note; values that fit are kept. An error's `evalue` and `traceback` are bounded
  to half of it: the message keeps its start, the traceback its first two lines (header and the
  `<stdin>` frame) and its end, with a line saying how many were left out. `truncated` is true and
  `fullOutputPath` names a file holding the whole output.

A session that was deleted or ended fails its pending tasks (`failed`, "session N was deleted or
is shutting down" / "session N is dead") and `livy/sessionChanged` reports it `dead`. Errors while
polling do not fail tasks: they are retried with backoff, with one `window/showMessage` per streak
of failures. `livy/sessionChanged` follows right after a session's last task finishes.

Tasks of one session run strictly in order; the daemon submits the next only when the previous
one finished. While a statement runs, its progress is also reported as LSP work-done progress
(`window/workDoneProgress/create` then `$/progress` begin/report/end, cancellable) when the client
advertised `window.workDoneProgress`, and new session log lines (what the driver writes to its
stdout and stderr) are sent as `livy/log {sessionId, lines, from, total}`, without a
`livy/followLog`: each line once, in order, and every line Livy held before the statement's
result was read arrives *before* that task's `livy/output`. Lines already in the log when the
statement was submitted are not sent again.
After an `error` output with a traceback naming a line, `livy/output` carries it as `errorLine`
(1-based, in the sent code) and, when the task had `uri` and `range`, as `errorRange` (that line
in the document); `textDocument/publishDiagnostics` marks the same range in `uri`; the next run
on that document clears it (1.2: `errorLine`, `errorRange`).

**History.** `livy/listStatements` lists tasks with an 80-character `codePreview`; `livy/statement
{taskId}` (or `{sessionId, statementId, profile?}` for any statement Livy still holds) returns the
whole code and, once finished, the output, bounded like `livy/output` (1.2). A finished task's
output is read back from the workspace output log; Livy is not asked again.

## Editor features over standard LSP

* `textDocument/codeLens`: "Run file" on line 0 and "Run cell" on each `# %%` cell; they call
  `workspace/executeCommand` with `livyd.runFile` / `livyd.runCell` (command ids are prefixed
  `livyd.` so they never collide with an extension's own), which return what `livy/execute` does.
  Bad arguments are -32602 with `data.field` `arguments.0.uri` / `arguments.0.line` (a line is a
  zero-based integer; a file that cannot be read is named in the message).
* `textDocument/completion`: from the attached live session. Scala sessions use Livy's
  `/completion`; Python sessions run a short `rlcompleter` statement, only when the session is
  idle and has no livyd task, cancelled after 2 s; it never appears as a task.
* `textDocument/publishDiagnostics` (see above) and `window/showMessage` / `window/logMessage`
  for what people must see.

## Cancelling

`livy/cancel {taskId}` (or the cancel button of the task's work-done progress, i.e.
`window/workDoneProgress/cancel`) cancels a task. A `queued` task is dropped at once (`cancelled`,
output status `cancelled`, it never reaches Livy). A `waiting`/`running` task is cancelled on Livy:
the task goes `cancelling` then `cancelled`. Livy may mark a statement cancelled while its code
keeps running (pure-Python loops cannot be interrupted; after 30 s Livy gives up): the daemon then
sets `mayStillRun` on the task, and sends `window/showMessage` saying so and suggesting
`livy/restartSession`, which kills the session and creates a new one with the same configuration.

## Polling (owned by the daemon)

One engine per session (the library's `livyd.SessionEngine`). Tasks of a session run one at a
time, so one request per poll reads the statement in flight (`GET
/sessions/{id}/statements/{statementId}`); finished outputs are never downloaded again, and the
next queued task is submitted in the same round its predecessor is seen finished. The first poll
after a submission comes within milliseconds; while nothing changes the wait grows up to
`pollInterval` (the poll cap, default 1 s), and it is short again when a statement's state moves.
The session log is read right after a result (its lines come first) while it is active, on the
poll plan while followed (at once again after a burst of lines), and otherwise at most every fifth
poll while it is quiet. A quiet log (its last read brought no line: the usual case on YARN, where
the driver logs to its container) is not read before each result but once the queue is empty, so
a line that appears in it comes right after the result of the statement that wrote it.
An idle session is polled every `idlePollInterval`.

## Settings

`DaemonSettings` (all optional; none is a secret): `url`, `auth` and `caBundle` (1.2) override
every profile's Livy URL, auth type and CA bundle, as the command line's flags would (null: the
profile's); `kind`; `pollInterval` (the poll cap) and `idlePollInterval`; `maxOutputBytes`;
`deleteSessionsOnExit`; `heartbeatTimeout`; `stateDir`; `showTracebacks`. The secrets that `auth`
needs come from `livy/setCredentials` (basic, bearer) or the Kerberos ticket cache.

`livyd --version --json` prints `{"version": ..., "protocolVersion": ...}` (1.2) without starting
anything, so an editor can check compatibility before it spawns the daemon.

## Sessions and state

The daemon persists, per workspace (a platformdirs state dir, or `settings.stateDir`, locked
against a second writer), the sessions it created and its in-flight statements. A new daemon on
the same workspace reattaches, each session on its own profile's connection (at the URL it was
created on; URLs are stored redacted): finished results are delivered as `livy/output`, running
ones resume polling. Sessions of the previous daemon's embedded sandbox died with it; their tasks
end `failed`. Every completed output is appended to `outputs.jsonl` in that directory.

## Credentials

`livy/setCredentials {profile?, username?, password?, token?}` hands the daemon secrets from the
editor's secret store (a token is sent as `Authorization: Bearer`, a password as Basic auth). It
takes effect at once: for every open connection of that profile (`profile` null means the
profile active at that moment; credentials are only ever sent to their own profile's server, even
after `livy/selectProfile`), the daemon replaces its Livy client with one using the new credentials and closes
the old one once its in-flight calls ended; sessions, tasks and pollers carry on. An unknown
`profile` is error `unknown-profile` (-32052) naming it and the known profiles; nothing is stored.
The params are never logged, echoed in errors, or persisted. Before that, a Livy that refuses
the daemon (HTTP 401) makes the request that needed it fail with a JSON-RPC error whose
`data.code` is `auth` and whose message names authentication (and a task needing it ends
`failed`, saying the same).

## Robustness

A frame whose body is not JSON gets -32700 (id null); a JSON value that is not a request or
notification gets -32600; an unknown method -32601; invalid params -32602 with `error.data`
`{"code": "invalid-params", "field": "range.start.line", "errors": [...]}`. A `livy/*` request may
omit `params` (as JSON-RPC allows): that reads like `{}`, so only a required field is then
missing. A frame whose `Content-Length` exceeds the limit (`--max-frame-bytes`, default 64 MiB) is
skipped without being read into memory and answered -32600 (id null); a `Content-Length` of more
than 15 digits is not a frame at all: it is a malformed header (-32700, id null) and the next
frame is read. The daemon never exits on bad input. Errors from
Livy carry `error.data.code` (the stable livyd code, e.g. `session-gone`) and no traceback,
unless `settings.showTracebacks` is true.
"""

PROSE_END = """\
## Writing a client

1. Spawn `livyd --stdio` (or `python -m livyd --stdio`); read frames from its stdout; drain its
   stderr (or pass `--log-file`).
2. Send `initialize` with `initializationOptions`, check `capabilities.experimental.livyd.protocolVersion`,
   send `initialized`.
3. Handle `window/workDoneProgress/create` requests (answer `null`) if you advertise
   `window.workDoneProgress`.
4. Send `livy/execute`; render `livy/taskChanged` and `livy/output` keyed by `taskId`.
5. On close: `shutdown`, `exit`.

The Python reference client is `livyd.daemon.DaemonClient`.
"""
