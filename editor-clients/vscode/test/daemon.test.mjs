// The extension's client code (LivyApi, the notification wiring, the model, initializationOptions,
// the protocol check) against a real `livyd --stdio` and a real sandbox, over vscode-jsonrpc.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as rpc from 'vscode-jsonrpc/node';
import { lib } from './helpers.mjs';
import { livydPython, startSandbox } from './sandbox.mjs';

const api = lib('api');
const { LivyModel } = lib('model');
const render = lib('render');
const { waitForOutput } = lib('notebook');
const devloop = lib('devloop');
const spark = lib('spark');

let sandbox;
let daemon;
let conn;
let model;
let client;
let workspace;
const stderr = [];

function waitFor(predicate, what) {
  return new Promise((resolve, reject) => {
    const check = () => {
      const v = predicate();
      if (v) { sub.dispose(); clearTimeout(timer); resolve(v); }
    };
    const sub = model.onDidChange(check);
    // A guard against a hang, not a timing assertion: the suite's per-test timeout is the real bound.
    const timer = setTimeout(() => { sub.dispose(); reject(new Error(`timed out waiting for ${what}; daemon stderr:\n${stderr.join('')}`)); }, 90_000);
    check();
  });
}

before(async () => {
  sandbox = await startSandbox('--cancel-timeout', '3', '--interrupt-on-cancel');
  const tmp = mkdtempSync(join(tmpdir(), 'livy-vscode-daemon-'));
  workspace = tmp;
  daemon = spawn(livydPython(), ['-m', 'livyd', '--stdio', '--standalone'], {
    stdio: ['pipe', 'pipe', 'pipe'], cwd: tmp,
    env: { ...process.env, XDG_RUNTIME_DIR: tmp, XDG_CONFIG_HOME: join(tmp, 'config'), XDG_STATE_HOME: join(tmp, 'state') },
  });
  daemon.stderr.on('data', (b) => stderr.push(String(b)));
  conn = rpc.createMessageConnection(new rpc.StreamMessageReader(daemon.stdout), new rpc.StreamMessageWriter(daemon.stdin));
  model = new LivyModel();
  const wired = { sendRequest: (m, p, t) => (t ? conn.sendRequest(m, p, t) : conn.sendRequest(m, p)), onNotification: (m, h) => conn.onNotification(m, h) };
  api.wireNotifications(wired, api.modelHandlers(model), (m, e) => { throw new Error(`${m}: ${e}`); });
  conn.onRequest('window/workDoneProgress/create', () => null);
  conn.onNotification('window/showMessage', () => {});
  conn.onNotification('window/logMessage', () => {});
  conn.onNotification('$/progress', () => {});
  conn.onNotification('textDocument/publishDiagnostics', () => {});
  conn.listen();
  const settings = { profile: '', url: sandbox.url, kind: 'pyspark', pollInterval: 0.1, idlePollInterval: 1, maxOutputBytes: 1_000_000, deleteSessionsOnExit: true, showTracebacks: false, auth: '', caBundle: '' };
  const opts = api.initializationOptions(settings, tmp);
  opts.settings.stateDir = join(tmp, 'state-dir');
  const init = await conn.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: { window: { workDoneProgress: true } }, initializationOptions: opts });
  api.checkCapabilities(init);
  conn.sendNotification('initialized', {});
  client = new api.LivyApi(wired, model);
});

after(async () => {
  if (conn) {
    await conn.sendRequest('shutdown');
    conn.sendNotification('exit');
    const code = await new Promise((resolve) => (daemon.exitCode !== null ? resolve(daemon.exitCode) : daemon.once('exit', resolve)));
    conn.dispose();
    assert.equal(code, 0, `livyd exited ${code}:\n${stderr.join('')}`);
  }
  await sandbox?.stop();
});

test('a statement runs in the session\'s process: the pid only the server knows comes back', async () => {
  const code = 'import os\nos.getpid()';
  const started = await client.request('livy/execute', { code, uri: 'file:///w/job.py', range: { start: { line: 4, character: 0 }, end: { line: 5, character: 11 } } });
  assert.equal(model.tasks.get(started.taskId).code, code);
  const done = await waitForOutput(model, started.taskId);
  assert.equal(done.output.status, 'ok', JSON.stringify(done.output));
  const pid = Number(render.dataText(done.output.data));
  assert.ok(Number.isInteger(pid) && pid > 0, `not a pid: ${render.dataText(done.output.data)}`);
  // That process is the sandbox's REPL child, not the daemon nor this test.
  const ppid = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
  assert.equal(ppid, sandbox.pid, `pid ${pid} is not a child of the sandbox (${sandbox.pid})`);
  assert.notEqual(pid, daemon.pid);
  const session = await waitFor(() => model.attachedSession(), 'the attached session');
  assert.equal(session.id, started.sessionId);
  assert.equal(done.state, 'available');
  assert.equal(typeof done.output.elapsedMs, 'number');
});

test('livy/sparkLog: the driver\'s log reads as text naming where it was read; no executor logs is the daemon\'s error, shown as it is', async () => {
  const s = model.attachedSession();
  const { sparkLogText } = lib('spark');
  const r = await client.request('livy/sparkLog', { sessionId: s.id, profile: s.profile ?? null, executors: false });
  assert.equal(r.logs[0].log, 'driver');
  assert.ok(sparkLogText(r, s.id).startsWith(`# driver of session ${s.id}: ${r.logs[0].lines.length} lines from ${r.logs[0].url}\n`), sparkLogText(r, s.id));
  // The sandbox runs Spark locally: no executors, and the daemon says why.
  const err = await client.request('livy/sparkLog', { sessionId: s.id, profile: s.profile ?? null, executors: true }).then(() => null, (e) => e);
  assert.ok(err, 'executor logs of a local session were not refused');
  assert.equal(api.describeError(err), err.message);
  assert.match(err.message, /appInfo\.executorLogUrls/);
});

test('an error comes back with a traceback whose <stdin> frame maps to the document line', async () => {
  const range = { start: { line: 10, character: 0 }, end: { line: 12, character: 5 } };
  const code = 'def ratio(x, y):\n    return x / y\nratio(1, 0)';
  const started = await client.request('livy/execute', { code, uri: 'file:///w/job.py', range });
  const done = await waitForOutput(model, started.taskId);
  assert.equal(done.output.status, 'error');
  assert.equal(done.output.ename, 'ZeroDivisionError');
  const locs = render.tracebackLocations(done.output.traceback, done.range);
  assert.deepEqual(locs.map((l) => l.documentLine), [11], JSON.stringify(done.output.traceback));
  assert.equal(done.output.errorRange?.start.line, 11, 'the daemon marks the same line (protocol 1.2 errorRange)');
});

test('livy/cancel stops a running statement and its output says cancelled', async () => {
  const started = await client.request('livy/execute', { code: 'import time\nfor _ in range(3000):\n    time.sleep(0.1)' });
  await waitFor(() => model.tasks.get(started.taskId)?.state === 'running', 'the statement to run');
  // livy/progress says the phase a plain Python statement is in (no Spark job to show), and the
  // progress notification reads it with its elapsed time.
  const running = await waitFor(() => model.tasks.get(started.taskId)?.spark?.phase?.event.phase === 'running' && model.tasks.get(started.taskId), 'the running phase (livy/progress)');
  assert.match(spark.describeTask(running, running.spark.phase.at + 3_000), /^running.* · 3 s: import time$/);
  const r = await client.request('livy/cancel', { taskId: started.taskId });
  assert.ok(['cancelling', 'cancelled'].includes(r.task.state), r.task.state);
  const done = await waitForOutput(model, started.taskId);
  assert.equal(done.output.status, 'cancelled');
  assert.equal(model.tasks.get(started.taskId).state, 'cancelled');
});

test('livy/status and livy/listStatements feed the Sessions view with this window\'s history', async () => {
  const status = await client.request('livy/status', {});
  assert.ok(status.sessions.some((s) => s.attached));
  await client.request('livy/listStatements', {});
  const key = [...model.sessions.keys()].find((k) => model.sessions.get(k).attached);
  const history = model.tasksOf(key);
  assert.equal(history.length, 3);
  assert.deepEqual(history.map((t) => t.output?.status), ['ok', 'error', 'cancelled']);
  assert.equal(history[0].code, 'import os\nos.getpid()', 'the code this window sent is kept');
  // A window that did not send it (a reloaded one) gets the whole code and output with livy/statement.
  const fresh = new LivyModel();
  const other = new api.LivyApi({ sendRequest: (m, p) => conn.sendRequest(m, p), onNotification: () => ({ dispose() {} }) }, fresh);
  await other.request('livy/listStatements', {});
  assert.equal(fresh.tasks.get(history[1].taskId).code, null);
  await other.request('livy/statement', { taskId: history[1].taskId });
  const full = fresh.tasks.get(history[1].taskId);
  assert.match(full.code, /^def ratio\(x, y\):/);
  assert.equal(full.output.ename, 'ZeroDivisionError');
});

test('bad params are refused naming the field, and the daemon carries on', async () => {
  await assert.rejects(client.request('livy/execute', { code: '1', range: { start: { line: -1, character: 0 }, end: { line: 0, character: 0 } } }),
    (e) => e instanceof rpc.ResponseError && e.code === -32602 && /range\.start\.line/.test(JSON.stringify(e.data)));
  const r = await client.request('livy/listProfiles', {});
  assert.ok(Array.isArray(r.profiles));
});

/** A tiny package of the workspace (modules/ is where livyd looks for packages by default). */
function writePackage(value) {
  const pkg = join(workspace, 'modules', 'vsdemo');
  mkdirSync(pkg, { recursive: true });
  writeFileSync(join(pkg, '__init__.py'), 'from .core import f\n');
  writeFileSync(join(pkg, 'core.py'), `def f():\n    return ${value}\n`);
  return join(pkg, 'core.py');
}

async function evaluate(code) {
  const started = await client.request('livy/execute', { code });
  const done = await waitForOutput(model, started.taskId);
  assert.equal(done.output.status, 'ok', JSON.stringify(done.output));
  return render.dataText(done.output.data);
}

test('livy.deploy and livy.reloadModule: a package deployed to the session, changed, reloaded, runs the new code', async () => {
  const core = writePackage(1);
  const session = model.attachedSession();
  assert.ok(session, 'no attached session from the earlier tests');
  // What livy.deploy sends (the attached session) and shows, against the real daemon.
  const deployed = await client.request('livy/deploy', { sessionId: session.id, profile: session.profile ?? null });
  assert.equal(deployed.via, 'livy-upload', 'no WebHDFS here: the files go through Livy\'s upload-pyfile');
  assert.deepEqual(deployed.files.map((f) => [f.kind, f.name, f.uploaded]), [['package', 'vsdemo', true]]);
  const report = devloop.describeDeploy(deployed, session.id);
  assert.match(report.summary, /1 uploaded, 0 unchanged; session \d+ has them in its pyFiles/);
  assert.ok(report.lines.some((l) => /package vsdemo.*: uploaded$/.test(l)), report.lines.join('\n'));
  assert.equal(await evaluate('import vsdemo\nvsdemo.f()'), '1');

  // The active file names its module; the daemon sends its new source to the driver.
  writePackage(2);
  const module = devloop.moduleForFile(core, workspace);
  assert.equal(module, 'vsdemo.core');
  const reloaded = await client.request('livy/reloadModule', devloop.reloadParams(module, session));
  assert.equal(reloaded.sessionId, session.id);
  assert.deepEqual(reloaded.results.map((r) => [r.mode, r.target]), [['module', 'vsdemo.core']]);
  assert.match(devloop.describeReload(reloaded).summary, new RegExp(`^reloaded vsdemo\\.core in session ${session.id}\\.$`));
  assert.equal(await evaluate('vsdemo.core.f()'), '2');

  // A file outside any package: the quick pick offers the project's packages (from a dry run); the whole package reloads.
  assert.equal(devloop.moduleForFile(join(workspace, 'loose.py'), workspace), undefined);
  writePackage(3);
  const dry = await client.request('livy/deploy', { dryRun: true });
  assert.equal(dry.via, 'dry-run');
  const choices = devloop.reloadChoices(dry);
  assert.deepEqual(choices.map((c) => c.module), ['vsdemo']);
  const whole = await client.request('livy/reloadModule', devloop.reloadParams(choices[0].module, session));
  assert.deepEqual(whole.results.map((r) => r.mode), ['package']);
  assert.ok(whole.results[0].reloaded.includes('vsdemo.core'), JSON.stringify(whole));
  assert.equal(await evaluate('vsdemo.f()'), '3', 'the package reload re-binds the name its __init__ imported');

  // A module the project does not have is refused, naming it.
  await assert.rejects(client.request('livy/reloadModule', devloop.reloadParams('nosuch', session)),
    (e) => e instanceof rpc.ResponseError && /nosuch/.test(e.message) && /vsdemo/.test(e.message));
});

test('livy.buildStandalone writes one .py that embeds the workspace\'s package', async () => {
  writeFileSync(join(workspace, 'job.py'), 'import vsdemo\nprint("job", vsdemo.f())\n');
  const r = await client.request('livy/buildStandalone', { script: devloop.standaloneScript(join(workspace, 'job.py'), workspace) });
  assert.deepEqual(r.packages, ['vsdemo']);
  assert.ok(existsSync(r.output), r.output);
  assert.match(devloop.describeStandalone(r).summary, /^wrote .*job_standalone\.py \(.* KiB with vsdemo\)\.$/);
  const ran = spawnSync(livydPython(), [r.output], { cwd: tmpdir(), encoding: 'utf8' });
  assert.equal(ran.stdout.trim(), 'job 3', ran.stderr);
});
