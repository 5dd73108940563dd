// Unit tests of the extension's pure parts: cells, rendering, the model, finding the daemon,
// the daemon's process settings, the table grid's HTML.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { lib } from './helpers.mjs';

const cells = lib('cells');
const render = lib('render');
const { LivyModel, keyOf, preview } = lib('model');
const dp = lib('daemonPath');
const settings = lib('settings');
const api = lib('api');
const { gridHtml } = lib('ui/panels');

test('percent files split into cells and join back', () => {
  const text = 'import os\n\n# %% load\nx = 1\n\n# %%\nprint(x)\n';
  const c = cells.splitCells(text);
  assert.deepEqual(c, [{ title: null, code: 'import os' }, { title: 'load', code: 'x = 1' }, { title: '', code: 'print(x)' }]);
  assert.deepEqual(cells.splitCells(cells.joinCells(c)).map((x) => x.code), ['import os', 'x = 1', 'print(x)']);
});

test('dedent removes the common indentation of a selection only', () => {
  assert.equal(cells.dedent('    x = 1\n    if x:\n        y = 2'), 'x = 1\nif x:\n    y = 2');
  assert.equal(cells.dedent('x\n  y'), 'x\n  y');
});

test('tables: Livy table values, CSV with quoting, text form', () => {
  const data = { 'application/vnd.livy.table.v1+json': { headers: [{ name: 'id', type: 'INT_TYPE' }, { name: 'name', type: 'STRING_TYPE' }], data: [[1, 'a,b'], [2, 'say "hi"'], [3, null]] } };
  const t = render.tableOf(data);
  assert.deepEqual(t.columns.map((c) => c.name), ['id', 'name']);
  assert.equal(render.toCsv(t), 'id,name\r\n1,"a,b"\r\n2,"say ""hi"""\r\n3,\r\n');
  assert.match(render.tableText(t), /^id \| name/);
  assert.equal(render.tableOf({ 'text/plain': 'x' }), undefined);
  assert.equal(render.cellText({ a: 1 }), '{"a":1}');
});

test('traceback <stdin> frames map to document lines from the sent range', () => {
  const tb = ['Traceback (most recent call last):\n', '  File "<stdin>", line 3, in <module>\n', '  File "/usr/lib/x.py", line 9, in f\n', 'ZeroDivisionError: division by zero\n'];
  assert.deepEqual(render.tracebackLocations(tb, { start: { line: 10, character: 0 }, end: { line: 14, character: 0 } }), [{ index: 1, documentLine: 12 }]);
  assert.deepEqual(render.tracebackLocations(tb, null), [{ index: 1, documentLine: 2 }]);
});

test('status lines and elapsed times read like a person would say them', () => {
  assert.equal(render.formatElapsed(412), '412 ms');
  assert.equal(render.formatElapsed(12_340), '12.3 s');
  assert.equal(render.formatElapsed(125_000), '2 min 5 s');
  assert.equal(render.statusLine({ status: 'error', ename: 'ValueError', sessionId: 3, statementId: 4, elapsedMs: 50, taskId: 't' }), '✗ ValueError in 50 ms (session 3, statement 4)');
});

test('the model keeps session 0 of two profiles apart and finishes tasks on output', () => {
  let now = 100;
  const m = new LivyModel(() => now);
  m.applySession({ id: 0, state: 'idle', profile: 'dev', attached: true });
  m.applySession({ id: 0, state: 'busy', profile: 'prod' });
  assert.equal(m.sessions.size, 2);
  assert.equal(m.attachedSession().profile, 'dev');
  m.noteExecute({ code: '\n  spark.range(10).count()\nmore' }, { taskId: 't1', sessionId: 0, profile: 'prod' });
  assert.equal(m.tasks.get('t1').codePreview, 'spark.range(10).count()');
  m.applyTaskChanged({ taskId: 't1', sessionId: 0, state: 'running', progress: 0.5, profile: 'prod' });
  assert.deepEqual(m.activeTasks().map((t) => t.taskId), ['t1']);
  now = 600;
  m.applyOutput({ taskId: 't1', sessionId: 0, status: 'ok', data: { 'text/plain': '10' }, profile: 'prod' });
  assert.equal(m.tasks.get('t1').state, 'available');
  assert.equal(m.tasks.get('t1').finishedAt, 600);
  assert.deepEqual(m.tasksOf(keyOf('prod', 0)).map((t) => t.taskId), ['t1']);
  assert.deepEqual(m.tasksOf(keyOf('dev', 0)), []);
  m.applySession({ id: 0, state: 'idle', profile: 'dev', attached: false });
  assert.equal(m.attachedSession(), undefined);
  assert.equal(preview('x'.repeat(100)).length, 80);
});

test('history kept across a reload shows only under a session of the same name (Livy reuses ids)', () => {
  const m = new LivyModel(() => 5);
  m.applySession({ id: 0, state: 'idle', name: 'livyd-aaa', profile: null });
  m.noteExecute({ code: 'big = 1' }, { taskId: 't1', sessionId: 0 });
  m.applyOutput({ taskId: 't1', sessionId: 0, status: 'ok', data: { 'text/plain': 'x'.repeat(50), 'image/png': 'A'.repeat(500) } });
  m.noteExecute({ code: 'still running' }, { taskId: 't2', sessionId: 0 });
  const snap = JSON.parse(JSON.stringify(m.snapshot(100, 100)));
  assert.deepEqual(snap.map((t) => t.taskId), ['t1'], 'only finished tasks are kept');
  assert.equal(snap[0].sessionName, 'livyd-aaa');
  assert.equal('image/png' in snap[0].output.data, false, 'values too big to keep are dropped');
  const same = new LivyModel();
  same.restore(snap);
  same.applySession({ id: 0, state: 'idle', name: 'livyd-aaa', profile: null });
  assert.deepEqual(same.tasksOf(keyOf(null, 0)).map((t) => t.code), ['big = 1']);
  const other = new LivyModel();
  other.restore(snap);
  other.applySession({ id: 0, state: 'idle', name: 'someone-else', profile: null });
  assert.deepEqual(other.tasksOf(keyOf(null, 0)), [], 'a new session 0 must not inherit the old one\'s history');
});

test('finding livyd: the setting wins and is never second-guessed; then the Python env, PATH, the managed venv', () => {
  const dir = mkdtempSync(join(tmpdir(), 'livy-find-'));
  const bin = join(dir, 'envbin');
  mkdirSync(bin);
  const exe = join(bin, 'livyd');
  writeFileSync(exe, '#!/bin/sh\n');
  chmodSync(exe, 0o755);
  const managed = join(dir, 'venv');
  const c1 = dp.daemonCandidates({ daemonPath: '', pythonPath: join(bin, 'python'), envPath: `/nonexistent${':'}${bin}`, managedVenv: managed });
  assert.deepEqual(c1.map((c) => c.source), ['the selected Python environment', 'PATH', 'PATH', 'the extension-managed environment']);
  const found = dp.pickDaemon(c1);
  assert.equal(found.path, exe);
  assert.equal(found.source, 'the selected Python environment');
  const missing = dp.pickDaemon(dp.daemonCandidates({ daemonPath: '', envPath: '/nonexistent', managedVenv: managed }));
  assert.equal(missing, 'livyd was not found (looked in: PATH, the extension-managed environment).');
  const bad = dp.pickDaemon(dp.daemonCandidates({ daemonPath: '/no/such/livyd', envPath: bin, managedVenv: managed }));
  assert.match(bad, /^livy\.daemonPath is \/no\/such\/livyd, which is not an executable file/);
  assert.equal(dp.bundledWheel(dir), undefined);
  mkdirSync(join(dir, 'bundled'));
  writeFileSync(join(dir, 'bundled', 'livyd-0.1.0-py3-none-any.whl'), '');
  assert.equal(dp.bundledWheel(dir), join(dir, 'bundled', 'livyd-0.1.0-py3-none-any.whl'));
});

test('installing without a wheel, or with a python that does not exist, says what failed', async () => {
  await assert.rejects(dp.installManaged({ python: 'python3', venv: '/tmp/x', wheel: undefined, log: () => {} }), /carries no livyd wheel/);
  const dir = mkdtempSync(join(tmpdir(), 'livy-inst-'));
  await assert.rejects(dp.installManaged({ python: join(dir, 'no-python'), venv: join(dir, 'v'), wheel: join(dir, 'w.whl'), log: () => {} }),
    /Creating the virtual environment failed: ".*no-python -m venv .*" could not start/);
});

test('auth and caBundle reach the daemon as settings only when set; the daemon args start with --stdio', () => {
  const base = { profile: '', url: '', kind: 'pyspark', pollInterval: 1, idlePollInterval: 10, maxOutputBytes: 1, deleteSessionsOnExit: false, showTracebacks: false, auth: '', caBundle: '' };
  assert.equal('auth' in api.daemonSettings(base), false);
  assert.equal('caBundle' in api.daemonSettings(base), false);
  const s = api.daemonSettings({ ...base, auth: 'kerberos', caBundle: ' /etc/ca.pem ' });
  assert.equal(s.auth, 'kerberos');
  assert.equal(s.caBundle, '/etc/ca.pem');
  assert.deepEqual(settings.daemonArgs({ daemonArgs: ['--log-file', '/tmp/l'] }), ['--stdio', '--log-file', '/tmp/l']);
});

test('the table grid embeds its data safely and locks scripts to a nonce', () => {
  const html = gridHtml({ columns: [{ name: '<b>' }], rows: [['</script><script>alert(1)</script>']] }, 'h <i>', 'vscode-resource:', 'N0NCE');
  assert.doesNotMatch(html, /<\/script><script>alert/);
  assert.match(html, /script-src 'nonce-N0NCE'/);
  assert.match(html, /<h3>h &lt;i&gt;<\/h3>/);
});

test('the module of a Python file: its package directories up to the workspace, else none', () => {
  const { moduleForFile } = lib('devloop');
  const w = mkdtempSync(join(tmpdir(), 'livy-vscode-mod-'));
  const pkg = join(w, 'modules', 'pkg', 'sub');
  mkdirSync(pkg, { recursive: true });
  writeFileSync(join(w, 'modules', 'pkg', '__init__.py'), '');
  writeFileSync(join(pkg, '__init__.py'), '');
  assert.equal(moduleForFile(join(pkg, 'mod.py'), w), 'pkg.sub.mod');
  assert.equal(moduleForFile(join(pkg, '__init__.py'), w), 'pkg.sub');
  assert.equal(moduleForFile(join(w, 'modules', 'pkg', '__init__.py'), w), 'pkg');
  assert.equal(moduleForFile(join(w, 'modules', 'loose.py'), w), undefined, 'not in a package: the command asks');
  assert.equal(moduleForFile(join(pkg, 'mod.py'), null), undefined, 'no workspace');
  assert.equal(moduleForFile(join(pkg, 'mod.py'), join(w, 'elsewhere')), undefined, 'outside the workspace');
  assert.equal(moduleForFile(join(pkg, 'notes.txt'), w), undefined);
  assert.equal(moduleForFile(join(pkg, 'my-mod.py'), w), undefined, 'not a Python identifier');
  // Every package directory counts, up to but never including the workspace folder itself.
  writeFileSync(join(w, '__init__.py'), '');
  writeFileSync(join(w, 'modules', '__init__.py'), '');
  assert.equal(moduleForFile(join(pkg, 'mod.py'), w), 'modules.pkg.sub.mod');
});
