// The protocol's golden examples (protocol/examples/) checked at run time against
// protocol/livyd.schema.json with ajv (every valid one accepted, every invalid one rejected),
// then the valid ones fed through the extension's own handlers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Ajv2020 from 'ajv/dist/2020.js';
import { examples, lib, methods, schema } from './helpers.mjs';

const api = lib('api');
const { LivyModel, keyOf } = lib('model');
const { notebookItems } = lib('notebook');
const render = lib('render');
const gen = lib('protocol.generated');

const SCHEMA = schema();
const METHODS = methods();
const ajv = new Ajv2020({ strict: false, allErrors: true });
ajv.addSchema(SCHEMA);
const byMethod = new Map(METHODS.methods.map((m) => [m.method, m]));
const ALL = examples();

function validator(method, part) {
  const m = byMethod.get(method);
  assert.ok(m, `${method} is not in methods.json`);
  const ref = part === 'result' ? m.result : m.params;
  assert.ok(ref, `${method} has no ${part} schema`);
  const v = ajv.getSchema(`${SCHEMA.$id}${ref}`);
  assert.ok(v, `schema ${ref} not found`);
  return v;
}

function body(ex) {
  return ex.part === 'result' ? ex.message.result : ex.message.params;
}

test('the examples cover every method, with valid and invalid ones', () => {
  assert.ok(ALL.length >= 50, `only ${ALL.length} examples`);
  assert.ok(ALL.some((e) => !e.valid), 'no invalid example');
  for (const m of METHODS.methods) {
    assert.ok(ALL.some((e) => e.method === m.method && e.valid), `no valid example for ${m.method}`);
  }
  assert.equal(METHODS.protocolVersion, gen.PROTOCOL_VERSION, 'protocol.generated.ts is not generated from this protocol/');
});

for (const ex of ALL) {
  test(`schema ${ex.valid ? 'accepts' : 'rejects'} ${ex.file} (${ex.why})`, () => {
    const v = validator(ex.method, ex.part);
    const ok = v(body(ex));
    assert.equal(ok, ex.valid, ex.valid ? `rejected: ${ajv.errorsText(v.errors)}` : `accepted, but: ${ex.why}`);
  });
}

test('every request has a result handler and every notification a model handler', () => {
  const model = new LivyModel();
  const results = api.resultHandlers(model);
  const notes = api.modelHandlers(model);
  for (const m of METHODS.methods) {
    const table = m.kind === 'request' ? results : notes;
    assert.equal(typeof table[m.method], 'function', `${m.method} (protocol ${METHODS.protocolVersion}) has no handler in src/api.ts`);
  }
  assert.deepEqual([...gen.REQUESTS].sort(), METHODS.methods.filter((m) => m.kind === 'request').map((m) => m.method).sort());
  assert.deepEqual([...gen.NOTIFICATIONS].sort(), METHODS.methods.filter((m) => m.kind === 'notification').map((m) => m.method).sort());
});

/** An Rpc that answers every request with the method's valid result example and records what was sent. */
function fakeRpc() {
  const sent = [];
  const handlers = new Map();
  const results = new Map(ALL.filter((e) => e.valid && e.part === 'result').map((e) => [e.method, e.message.result]));
  return {
    sent,
    rpc: {
      sendRequest: async (method, params) => {
        sent.push({ method, params });
        assert.ok(results.has(method), `no result example for ${method}`);
        return structuredClone(results.get(method));
      },
      onNotification: (method, h) => { handlers.set(method, h); return { dispose: () => handlers.delete(method) }; },
    },
    notify: (method, params) => handlers.get(method)(params),
  };
}

test('valid request params go out unchanged through LivyApi and their results update the model', async () => {
  const model = new LivyModel(() => 1000);
  const fake = fakeRpc();
  const client = new api.LivyApi(fake.rpc, model);
  const requests = ALL.filter((e) => e.valid && e.part === 'params' && byMethod.get(e.method).kind === 'request');
  assert.ok(requests.length >= 20);
  for (const ex of requests) {
    const result = await client.request(ex.method, structuredClone(ex.message.params ?? {}));
    assert.deepEqual(fake.sent.at(-1), { method: ex.method, params: ex.message.params ?? {} });
    assert.ok(validator(ex.method, 'result')(result));
  }
  // What the results taught the model:
  const status = ALL.find((e) => e.method === 'livy/status' && e.part === 'result').message.result;
  assert.equal(model.activeProfile !== undefined, true);
  for (const s of status.sessions) {
    assert.ok(model.sessions.has(keyOf(s.profile, s.id)), `session ${s.id} of livy/status is not in the model`);
  }
  const exec = ALL.find((e) => e.method === 'livy/execute' && e.part === 'result' && e.valid).message.result;
  const execParams = ALL.find((e) => e.method === 'livy/execute' && e.part === 'params' && e.valid).message.params;
  const task = model.tasks.get(exec.taskId);
  assert.ok(task, 'the execute result did not create a task');
  // livy/statement (sent after livy/execute here) gives a task the daemon's whole code.
  const stmt = ALL.find((e) => e.method === 'livy/statement' && e.part === 'result' && e.valid).message.result;
  assert.equal(task.code, stmt.taskId === exec.taskId ? stmt.code : execParams.code);
  assert.equal(model.tasks.get(stmt.taskId).code, stmt.code, 'livy/statement did not give the task its whole code');
  const batch = ALL.find((e) => e.method === 'livy/batchInfo' && e.part === 'result').message.result.batch;
  assert.ok(model.batches.has(keyOf(batch.profile, batch.id)));
});

test('valid notifications go through the wired handlers into the model', () => {
  const model = new LivyModel(() => 2000);
  const fake = fakeRpc();
  const errors = [];
  api.wireNotifications(fake.rpc, api.modelHandlers(model), (m, e) => errors.push([m, e]));
  const seen = { task: [], output: [], log: [] };
  model.onTask((t) => seen.task.push(t.taskId));
  model.onOutput((t) => seen.output.push(t.taskId));
  model.onLog((e) => seen.log.push(e));
  const notes = ALL.filter((e) => e.valid && byMethod.get(e.method).kind === 'notification');
  assert.equal(new Set(notes.map((e) => e.method)).size, gen.NOTIFICATIONS.length);
  for (const ex of notes) {
    fake.notify(ex.method, structuredClone(ex.message.params));
    const p = ex.message.params;
    switch (ex.method) {
      case 'livy/sessionChanged':
        assert.equal(model.sessions.get(keyOf(p.session.profile, p.session.id)).state, p.session.state);
        break;
      case 'livy/taskChanged':
        assert.equal(model.tasks.get(p.taskId).state, p.state);
        assert.equal(model.tasks.get(p.taskId).progress, p.progress);
        break;
      case 'livy/output':
        assert.equal(model.tasks.get(p.taskId).output.status, p.status);
        assert.equal(model.tasks.get(p.taskId).finishedAt, 2000);
        break;
      case 'livy/log':
        assert.deepEqual(seen.log.at(-1).notification.lines, p.lines);
        break;
      case 'livy/batchChanged':
        assert.equal(model.batches.get(keyOf(p.batch.profile, p.batch.id)).state, p.batch.state);
        break;
      case 'livy/progress':
        assert.ok(model.tasks.get(p.taskId).spark, 'livy/progress left no Spark view on the task');
        break;
      default:
        assert.fail(`unhandled notification ${ex.method}`);
    }
  }
  assert.deepEqual(errors, []);
});

test('a valid livy/output renders as text, a status line and native notebook outputs', () => {
  for (const ex of ALL.filter((e) => e.valid && e.method === 'livy/output')) {
    const o = ex.message.params;
    const line = render.statusLine(o);
    assert.match(line, new RegExp(`session ${o.sessionId}`));
    const items = notebookItems(o);
    assert.ok(items.length > 0);
    if (o.status === 'ok' && typeof o.data?.['text/plain'] === 'string') {
      const text = items.find((i) => i.mime === 'text/plain');
      assert.equal(Buffer.from(text.data).toString(), o.data['text/plain']);
    }
  }
});

test('what the extension builds validates: initializationOptions and setCredentials params', () => {
  const settings = { profile: 'dev', url: ' https://knox.example:8443/gateway/t/livy/v1 ', kind: 'pyspark', pollInterval: 1, idlePollInterval: 10, maxOutputBytes: 1000000, deleteSessionsOnExit: false, showTracebacks: false, auth: 'kerberos', caBundle: '/etc/ssl/knox-ca.pem' };
  const init = api.initializationOptions(settings, '/w');
  const vInit = ajv.getSchema(`${SCHEMA.$id}#/$defs/InitializationOptions`);
  assert.ok(vInit(init), ajv.errorsText(vInit.errors));
  assert.equal(init.settings.url, 'https://knox.example:8443/gateway/t/livy/v1');
  assert.equal(init.settings.auth, 'kerberos');
  const noUrl = api.initializationOptions({ ...settings, url: '', profile: '', auth: '', caBundle: '' }, null);
  assert.equal(noUrl.profile, null);
  assert.equal('url' in noUrl.settings, false, 'an empty url setting must leave the embedded sandbox possible');
  assert.ok(vInit(noUrl));
  const { credentialParams } = lib('credentials');
  const vCred = validator('livy/setCredentials', 'params');
  assert.ok(vCred(credentialParams('', { token: 's3cret' })));
  assert.ok(vCred(credentialParams('prod', { username: 'alice', password: 'pw' })));
  // Secrets are never part of initializationOptions.
  assert.doesNotMatch(JSON.stringify(init), /password|token/i);
});

test('another protocol major is refused, naming what to upgrade', () => {
  const caps = (v) => ({ capabilities: { experimental: { livyd: { version: '9.0', protocolVersion: v, requests: [], notifications: [], commands: [] } } } });
  assert.equal(api.checkCapabilities(caps(`${gen.PROTOCOL_VERSION.split('.')[0]}.99`)).protocolVersion.endsWith('.99'), true);
  assert.throws(() => api.checkCapabilities(caps('99.0')), /speaks protocol 99\.x, this extension 1\.x: upgrade the extension/);
  assert.throws(() => api.checkCapabilities(caps('0.1')), /upgrade livyd/);
  assert.throws(() => api.checkCapabilities({ capabilities: {} }), /did not answer like livyd/);
});

test('the development loop\'s examples read as words, and the params its commands build validate', () => {
  const devloop = lib('devloop');
  const result = (m) => ALL.find((e) => e.method === m && e.part === 'result' && e.valid).message.result;
  const deploy = devloop.describeDeploy(result('livy/deploy'), 3);
  assert.equal(deploy.summary, 'deployed /w: 0 uploaded, 1 unchanged in /user/alice/livyd/w; session 3 has them in its pyFiles.');
  assert.deepEqual(deploy.lines, [
    'project /w -> /user/alice/livyd/w through WebHDFS',
    '  package mypkg (/user/alice/livyd/w/mypkg.zip): unchanged, not sent',
    '  left out: mypkg/.env (a secrets file)',
    '  pyFiles: hdfs:///user/alice/livyd/w/mypkg.zip',
  ]);
  assert.equal(devloop.describeDeploy({ ...result('livy/deploy'), via: 'dry-run' }).summary, 'would deploy 1 file from /w.');
  assert.match(devloop.describeDeploy({ root: '/w', via: 'none', files: [] }).summary, /^nothing to deploy: no scripts or packages found in \/w\.$/);
  const reload = devloop.describeReload(result('livy/reloadModule'));
  assert.equal(reload.summary, 'reloaded mypkg.core, mypkg in session 3.');
  assert.equal(reload.warning, false);
  const failed = devloop.describeReload({ sessionId: 1, results: [{ mode: 'package', target: 'p', via: 'inline', reloaded: ['p.a'], failed: [{ module: 'p.b', error: 'SyntaxError: invalid syntax (b.py, line 2)' }] }] });
  assert.equal(failed.warning, true);
  assert.match(failed.summary, /^reloaded p\.a in session 1; p\.b failed \(see the session's output\)\.$/);
  assert.ok(failed.lines.includes('  p.b failed: SyntaxError: invalid syntax (b.py, line 2)'));
  assert.equal(devloop.describeStandalone(result('livy/buildStandalone')).summary, 'wrote /w/job_standalone.py (40.0 KiB with mypkg).');
  // What the commands send is what the schema accepts.
  const vReload = validator('livy/reloadModule', 'params');
  for (const p of [devloop.reloadParams('mypkg.core', { id: 3, profile: 'dev', state: 'idle' }), devloop.reloadParams(null, undefined)]) {
    assert.ok(vReload(p), ajv.errorsText(vReload.errors));
  }
  const vBuild = validator('livy/buildStandalone', 'params');
  assert.ok(vBuild({ script: devloop.standaloneScript('/w/scripts/job.py', '/w') }));
  assert.equal(devloop.standaloneScript('/w/scripts/job.py', '/w'), 'scripts/job.py');
  assert.equal(devloop.standaloneScript('/w/notes.md', '/w'), null);
  // A dry run's files become the reload quick pick: every package first when there are several.
  const choices = devloop.reloadChoices({ root: '/w', via: 'dry-run', files: [
    { kind: 'script', name: 'job.py', uploaded: false }, { kind: 'package', name: 'a', uploaded: false }, { kind: 'package', name: 'b', uploaded: false }] });
  assert.deepEqual(choices.map((c) => c.module), [null, 'a', 'b', 'job']);
});

test('livy/progress examples read as the progress notification says them: phase with elapsed time, then job and stage with task counts', () => {
  const spark = lib('spark');
  let now = 10_000;
  const model = new LivyModel(() => now);
  const fake = fakeRpc();
  const errors = [];
  api.wireNotifications(fake.rpc, api.modelHandlers(model), (m, e) => errors.push([m, e]));
  const stage = ALL.find((e) => e.method === 'livy/progress' && e.valid).message.params;
  const v = validator('livy/progress', 'params');
  const none = Object.fromEntries(Object.keys(stage).filter((k) => !['taskId', 'sessionId', 'statementId', 'profile', 'kind', 'elapsed', 'message'].includes(k)).map((k) => [k, null]));
  const send = (p) => { assert.ok(v(p), ajv.errorsText(v.errors)); fake.notify('livy/progress', structuredClone(p)); return model.tasks.get(p.taskId); };
  const base = { taskId: stage.taskId, sessionId: stage.sessionId, statementId: stage.statementId, profile: stage.profile };
  // The task is running (livy/taskChanged), nothing from Spark yet: Livy's state and the code.
  fake.notify('livy/taskChanged', { ...base, state: 'running', progress: 0, queuedBehind: 0, message: null, mayStillRun: false });
  const t = model.tasks.get(stage.taskId);
  t.codePreview = 'sc.parallelize(range(100)).map(f).reduceByKey(add).collect()';
  assert.equal(spark.describeTask(t, now), 'running: sc.parallelize(range(100)).map(f).reduceByKey(add).collect()');
  // A phase, and its elapsed time as this window's clock moves on.
  send({ ...base, ...none, kind: 'phase', elapsed: 0.3, phase: 'spark_starting', message: 'starting the local Spark JVM' });
  now += 5_000;
  // The same phase again brings new facts; its time still counts from its start.
  send({ ...base, ...none, kind: 'phase', elapsed: 5.3, phase: 'spark_starting', message: 'starting the local Spark JVM (spark-submit running)' });
  now += 7_400;
  assert.equal(spark.progressText(t.spark, now), 'starting the local Spark JVM (spark-submit running) · 12 s');
  send({ ...base, ...none, kind: 'phase', elapsed: 12.7, phase: 'running', previousPhase: 'spark_starting', previousSeconds: 12.4, message: 'running (spark starting took 12.4 s)' });
  now += 2_000;
  assert.equal(spark.progressText(t.spark, now), 'running · 2 s');
  // The job, then the golden stage example: the stage's job and its task counts.
  send({ ...base, ...none, kind: 'job', elapsed: 13, jobId: 4, stageIds: [6, 7], name: 'collect at <stdin>:3', status: 'RUNNING', numTasks: 44, completedTasks: 4, activeTasks: 0, failedTasks: 0, seconds: 0.2, url: 'https://knox:8443/gateway/dev/yarn/proxy/application_1_2/jobs/job/?id=4', message: 'job 4 collect at <stdin>:3: 4/44 tasks (running, 0 s)' });
  assert.equal(spark.progressText(t.spark, now), 'job 4: 4/44 tasks');
  now += 100;
  send(stage);
  assert.equal(spark.progressText(t.spark, now), 'job 4 · stage 7: 12/40 tasks, 4 running');
  assert.equal(spark.describeTask(t, now), 'job 4 · stage 7: 12/40 tasks, 4 running: sc.parallelize(range(100)).map(f).reduceByKey(add).collect()');
  // A retried attempt with failures is the active one; the completed first attempt is not shown.
  now += 100;
  send({ ...stage, elapsed: 20, attemptId: 1, completedTasks: 3, activeTasks: 1, failedTasks: 2, message: 'stage 7.1: 3/40 tasks' });
  send({ ...stage, elapsed: 20.1, status: 'FAILED', message: 'stage 7.0 failed' });
  assert.equal(spark.progressText(t.spark, now), 'job 4 · stage 7 (attempt 1): 3/40 tasks, 1 running, 2 failed');
  // A warning is kept nowhere in the text (it goes to the output channel and one message).
  send({ ...base, ...none, kind: 'warning', elapsed: 21, code: 'task_failures', stageId: 7, attemptId: 1, url: stage.url, message: 'stage 7.1: 2 tasks failed and are being retried' });
  assert.equal(spark.progressText(t.spark, now), 'job 4 · stage 7 (attempt 1): 3/40 tasks, 1 running, 2 failed');
  // All done: the job's line for the output channel and the Sessions view carries its link.
  send({ ...stage, elapsed: 30, attemptId: 1, status: 'COMPLETE', completedTasks: 40, activeTasks: 0, failedTasks: 2 });
  send({ ...base, ...none, kind: 'job', elapsed: 30.1, jobId: 4, stageIds: [6, 7], name: 'collect at <stdin>:3', status: 'SUCCEEDED', numTasks: 44, completedTasks: 44, activeTasks: 0, failedTasks: 0, seconds: 17.2, url: 'https://knox:8443/gateway/dev/yarn/proxy/application_1_2/jobs/job/?id=4', message: 'job 4 done' });
  assert.equal(spark.progressText(t.spark, now), 'running · 2 s');
  assert.deepEqual(spark.jobsOf(t.spark).map(spark.jobLine), ['job 4 collect at <stdin>:3: succeeded, 44 tasks, 17 s  https://knox:8443/gateway/dev/yarn/proxy/application_1_2/jobs/job/?id=4']);
  // Without the Spark UI, Livy's own number follows the last phase.
  const other = { ...base, taskId: 't-other' };
  send({ ...other, ...none, kind: 'phase', elapsed: 0.3, phase: 'running', message: 'running' });
  send({ ...other, ...none, kind: 'warning', elapsed: 0.5, code: 'spark_ui_unreachable', message: 'the Spark UI at http://rm:8088/proxy/a/ cannot be reached (connection refused); showing Livy\'s progress only' });
  send({ ...other, ...none, kind: 'livy_progress', elapsed: 1, progress: 0.5, message: '50% of the statement\'s tasks done' });
  assert.equal(spark.progressText(model.tasks.get('t-other').spark, now + 3_000), 'running · 3 s · 50% of the statement\'s tasks done');
  // Only the jobs outlive a window reload.
  const kept = model.snapshot().find((r) => r.taskId === stage.taskId);
  assert.equal(kept, undefined, 'a running task is not kept');
  assert.deepEqual(errors, []);
});

test('the livy/sparkLog example reads as one text naming each log and where it was read', () => {
  const spark = lib('spark');
  const r = ALL.find((e) => e.method === 'livy/sparkLog' && e.part === 'result' && e.valid).message.result;
  assert.equal(spark.sparkLogText(r, 3), '# driver of session 3: 1 lines from http://nm7:8042/node/containerlogs/container_1_2_01_000001/alice\n24/05/01 INFO SparkContext: Running Spark version 3.5.1\n');
  assert.equal(spark.sparkLogText({ logs: [] }, 3), '# session 3: no log was returned\n');
});
