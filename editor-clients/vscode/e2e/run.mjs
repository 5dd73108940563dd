// End-to-end test in a real VS Code: the packaged .vsix installed into code-server (Node 24) on
// 127.0.0.1, driven by playwright-core with Debian chromium. ONE code-server start for all
// checks, no retries:
//   1. open a Python file, run a selection computing the sandbox REPL's os.getpid(), and
//      check that exact pid shows in the session's output channel (and that it is the sandbox's
//      child process, a value only the server knows);
//   2. run a long statement and cancel it with the Cancel button of its progress notification;
//   3. a %table result in the grid webview: sort, filter, copy as CSV;
//   3b. Shift+Enter runs a # %% cell of unsaved text;
//   4. run a notebook cell with the "Livy" kernel and see its native output;
//   5. reload the window: the session is reattached (the same REPL pid again);
//   6. the Sessions view shows the session and its statement history;
//   0./7. the sandbox needs a bearer token, given through Livy: Set Password or Token, and found
//      afterwards in no file under the test's directory.
// A screenshot is kept in LIVY_E2E_ARTIFACTS (default test-artifacts/). Prints one JSON line
// `LIVY_E2E_RESULT {...}` and exits 0 when every check passed.
//
// Env: LIVY_E2E_VSIX (default dist/livy.vsix), LIVYD_PYTHON (the Python with livyd),
//      LIVY_E2E_CODE_SERVER, LIVY_E2E_NODE24 (defaults: .e2e/ from scripts/ci-setup.sh),
//      LIVY_E2E_CHROMIUM (default /usr/bin/chromium).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { livydPython, startSandbox } from '../test/sandbox.mjs';

const EXT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const VSIX = resolve(process.env.LIVY_E2E_VSIX || join(EXT, 'dist', 'livy.vsix'));
const CODE_SERVER = process.env.LIVY_E2E_CODE_SERVER || join(EXT, '.e2e', 'code-server', 'node_modules', 'code-server', 'out', 'node', 'entry.js');
const NODE24 = process.env.LIVY_E2E_NODE24 || join(EXT, '.e2e', 'node24', 'package', 'bin', 'node');
const CHROMIUM = process.env.LIVY_E2E_CHROMIUM || '/usr/bin/chromium';
const ARTIFACTS = resolve(process.env.LIVY_E2E_ARTIFACTS || join(EXT, 'test-artifacts'));
const STEP_TIMEOUT = 90_000; // a hang guard per UI wait; nothing asserts on time

const t0 = Date.now();
const timings = {};
const mark = (name) => { timings[name] = Math.round((Date.now() - t0) / 100) / 10; };
const log = (...a) => process.stderr.write(`[e2e ${((Date.now() - t0) / 1000).toFixed(1)}s] ${a.join(' ')}\n`);

for (const [what, p] of [['the .vsix (npm run package)', VSIX], ['code-server (scripts/ci-setup.sh)', CODE_SERVER], ['Node 24 (scripts/ci-setup.sh)', NODE24], ['chromium (apt-get install chromium)', CHROMIUM]]) {
  if (!existsSync(p)) {
    process.stderr.write(`e2e: missing ${what}: ${p}\n`);
    process.exit(2);
  }
}

function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => res(port)); });
    srv.on('error', rej);
  });
}

function ppidOf(pid) {
  return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
}

const T = mkdtempSync(join(tmpdir(), 'livy-e2e-'));
// The sandbox requires this bearer token; it reaches livyd only through Livy: Set Password or
// Token (SecretStorage, livy/setCredentials), and must not appear in any file code-server writes.
const TOKEN = `tok-${randomBytes(12).toString('hex')}`;
const W = join(T, 'workspace');
mkdirSync(join(T, 'ud', 'User'), { recursive: true });
mkdirSync(W);
mkdirSync(ARTIFACTS, { recursive: true });

let sandbox;
let cs;
let browser;
let page;
const children = [];

async function cleanup() {
  if (browser) {
    await browser.close().catch(() => {});
  }
  for (const c of children) {
    try { process.kill(-c.pid, 'SIGTERM'); } catch { /* already gone */ }
  }
  if (cs) {
    await new Promise((r) => (cs.exitCode !== null || cs.signalCode !== null ? r() : cs.once('exit', r)));
    // code-server's helpers (extension host, livyd) leave with the group; give SIGKILL to stragglers.
    try { process.kill(-cs.pid, 'SIGKILL'); } catch { /* gone */ }
  }
  // Every process this run started carries XDG_RUNTIME_DIR=T (the shared daemon too, which
  // detaches from code-server's process group): wait for them to leave, then end stragglers.
  const ours = () => readdirSync('/proc').filter((d) => /^\d+$/.test(d) && Number(d) !== process.pid).filter((d) => {
    try {
      return readFileSync(`/proc/${d}/environ`, 'latin1').split('\0').includes(`XDG_RUNTIME_DIR=${T}`);
    } catch {
      return false;
    }
  }).map(Number);
  for (let i = 0; i < 40 && ours().length; i++) {
    await new Promise((r) => setTimeout(r, 250));
  }
  for (const pid of ours()) {
    log(`ending leftover process ${pid}`);
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }
  await sandbox?.stop();
}

async function main() {
  sandbox = await startSandbox('--cancel-timeout', '3', '--interrupt-on-cancel', { LIVYD_SANDBOX_TOKEN: TOKEN });
  log(`sandbox ${sandbox.url} pid ${sandbox.pid}`);
  const python = livydPython();
  const livyd = join(dirname(python), 'livyd');
  writeFileSync(join(T, 'ud', 'User', 'settings.json'), JSON.stringify({
    'chat.disableAIFeatures': true, 'workbench.startupEditor': 'none', 'telemetry.telemetryLevel': 'off',
    'extensions.autoCheckUpdates': false, 'extensions.autoUpdate': false, 'update.mode': 'none',
    'security.workspace.trust.enabled': false, 'workbench.tips.enabled': false, 'editor.minimap.enabled': false,
    'workbench.welcomePage.walkthroughs.openOnInstall': false, 'notebook.output.textLineLimit': 50,
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
    'remote.autoForwardPorts': false, // else a toast about the sandbox's and livyd's ports covers the UI
  }, null, 2));
  // The extension runs on the "remote" side (extensionKind workspace): machine settings such as
  // livy.daemonPath are taken from the remote machine's settings, as with Remote-SSH.
  mkdirSync(join(T, 'ud', 'Machine'), { recursive: true });
  writeFileSync(join(T, 'ud', 'Machine', 'settings.json'), JSON.stringify({
    // The default mode: livyd --stdio relays to the per-user shared daemon (its socket under this
    // run's XDG_RUNTIME_DIR), which keeps sessions and credentials while the window reloads.
    'livy.daemonPath': livyd, 'livy.url': sandbox.url, 'livy.auth': 'bearer',
    'livy.pollInterval': 0.2, 'livy.deleteSessionsOnExit': false, // the session must survive the reload
  }, null, 2));
  writeFileSync(join(W, 'demo.py'), [
    'import os, time',
    'print("LIVY-PID", os.getpid())',
    'for _ in range(3000): time.sleep(0.1)',
    'rows = [{"id": i, "name": "n%d" % i} for i in range(3)]',
    '%table rows',
    '',
  ].join('\n'));
  writeFileSync(join(W, 'cells.py'), '# %% first\nx = 6\n\n# %% second\nprint("CELL", x * 7)\n');
  writeFileSync(join(W, 'nb.ipynb'), JSON.stringify({
    cells: [{ cell_type: 'code', execution_count: null, metadata: {}, outputs: [], source: ['import os\n', 'print("NB-PID", os.getpid())'] }],
    metadata: { language_info: { name: 'python' } }, nbformat: 4, nbformat_minor: 5,
  }));

  const env = {
    ...process.env, PATH: `${dirname(NODE24)}:${process.env.PATH}`,
    XDG_CONFIG_HOME: join(T, 'xdg-config'), XDG_DATA_HOME: join(T, 'xdg-data'), XDG_STATE_HOME: join(T, 'xdg-state'),
    XDG_RUNTIME_DIR: T, XDG_CACHE_HOME: join(T, 'xdg-cache'),
    LIVYD_DAEMON_IDLE_EXIT: '2', // the shared daemon leaves 2 s after code-server's relay did
  };
  const args = ['--auth', 'none', '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust',
    '--user-data-dir', join(T, 'ud'), '--extensions-dir', join(T, 'ext')];
  const install = spawn(NODE24, [CODE_SERVER, ...args, '--install-extension', VSIX], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let installOut = '';
  install.stdout.on('data', (b) => { installOut += b; });
  install.stderr.on('data', (b) => { installOut += b; });
  const rc = await new Promise((r) => install.once('exit', r));
  assert.equal(rc, 0, `code-server --install-extension failed:\n${installOut}`);
  assert.match(installOut, /successfully installed/i, installOut);
  mark('installed');

  const port = await freePort();
  const csLog = join(ARTIFACTS, 'code-server.log');
  writeFileSync(csLog, '');
  cs = spawn(NODE24, [CODE_SERVER, ...args, '--bind-addr', `127.0.0.1:${port}`, W], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(cs);
  const url = await new Promise((res, rej) => {
    let out = '';
    const onData = (b) => {
      out += b;
      writeFileSync(csLog, out);
      if (/HTTP server listening on/.test(out)) {
        res(`http://127.0.0.1:${port}`);
      }
    };
    cs.stdout.on('data', onData);
    cs.stderr.on('data', onData);
    cs.once('exit', (code) => rej(new Error(`code-server exited ${code}:\n${out}`)));
  });
  mark('code-server');
  log(`code-server ${url}`);

  browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: url });
  page = await ctx.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT);
  await page.goto(`${url}/?folder=${encodeURIComponent(W)}`);
  await page.locator('.monaco-workbench').waitFor();
  mark('workbench');

  const palette = async (title) => {
    await page.keyboard.press('F1');
    await page.locator('.quick-input-widget input').waitFor();
    await page.keyboard.type(title);
    await page.waitForFunction((t) => document.querySelector('.quick-input-widget input')?.value === `>${t}`, title);
    await page.locator('.quick-input-list .monaco-list-row.focused', { hasText: title }).waitFor();
    await page.keyboard.press('Enter');
    // The palette has taken the command once it closed or shows the command's own quick pick.
    await page.waitForFunction((t) => {
      const w = document.querySelector('.quick-input-widget');
      return !w || w.style.display === 'none' || w.offsetParent === null || w.querySelector('input')?.value !== `>${t}`;
    }, title);
  };
  const openFile = async (name) => {
    await page.keyboard.press('Control+P');
    await page.locator('.quick-input-widget input').waitFor();
    await page.keyboard.type(name);
    // Quick open lists recent files before it filters: wait until the typed text is in the box
    // and the focused row is the file, then open it.
    await page.waitForFunction((n) => document.querySelector('.quick-input-widget input')?.value === n, name);
    await page.locator('.quick-input-list .monaco-list-row.focused', { hasText: name }).waitFor();
    await page.keyboard.press('Enter');
    await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
    await page.locator('.tab.active', { hasText: name }).waitFor();
  };
  const gotoLine = async (n) => {
    await page.keyboard.press('Control+G');
    await page.locator('.quick-input-widget input').waitFor();
    await page.keyboard.type(String(n));
    await page.keyboard.press('Enter');
    await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
  };
  const panelText = async () => (await page.locator('.part.panel .view-lines').first().innerText()).replace(/\u00a0/g, ' ');
  // Webviews (the table grid, notebook outputs) are nested iframes: wait for the frame whose
  // document satisfies `test` (a predicate run in the frame).
  const frameWith = async (test) => {
    const deadline = Date.now() + STEP_TIMEOUT;
    for (;;) {
      for (const f of page.frames()) {
        if (await f.evaluate(`(${test.toString()})(document)`).catch(() => false)) {
          return f;
        }
      }
      if (Date.now() > deadline) {
        throw new Error(`no frame matched ${test}`);
      }
      await page.waitForTimeout(250);
    }
  };
  // Monaco renders spaces as U+00A0: the patterns use \s, which matches both.
  const waitPanel = async (re) => {
    await page.locator('.part.panel .view-lines', { hasText: re }).first().waitFor();
    return re.exec(await panelText());
  };

  // 0. The token, typed into the extension's password box (the sandbox refuses everything without it).
  await openFile('demo.py');
  await page.locator('.monaco-editor .view-lines', { hasText: 'LIVY-PID' }).first().waitFor();
  await palette('Livy: Set Password or Token...');
  const bearer = page.locator('.quick-input-list .monaco-list-row', { hasText: 'Bearer token' });
  await bearer.waitFor();
  await bearer.click();
  await page.locator('.quick-input-widget input[type="password"]').waitFor();
  await page.keyboard.type(TOKEN);
  await page.keyboard.press('Enter');
  await page.locator('.notifications-toasts .notification-toast', { hasText: 'stored in VS Code\'s secret storage and in use' }).waitFor();
  mark('credentials');

  // 1. A selection (lines 1-2) runs on the server: the REPL's pid comes back.
  await page.locator('.editor-group-container .monaco-editor .view-lines').first().click();
  await gotoLine(1);
  await page.keyboard.press('Home');
  await page.keyboard.press('Shift+ArrowDown');
  await page.keyboard.press('Shift+End');
  await page.keyboard.press('Control+Enter');
  const m = await waitPanel(/LIVY-PID\s(\d+)/);
  const pid = Number(m[1]);
  assert.equal(ppidOf(pid), sandbox.pid, `pid ${pid} shown in VS Code is not the sandbox's REPL (a child of ${sandbox.pid})`);
  await waitPanel(/✓\sdone\sin\s.*\(session\s\d+,\sstatement\s\d+\)/);
  await page.locator('.statusbar', { hasText: /Livy:\sdefault\s·\ssession\s\d+/ }).waitFor();
  mark('selection');
  log(`selection ran in pid ${pid}`);

  // 2. Cancel a running statement from its progress notification.
  await page.locator('.editor-group-container .monaco-editor .view-lines').first().click();
  await gotoLine(3);
  await page.keyboard.press('Control+Enter');
  // Its phase and elapsed time from livy/progress, then the code.
  const toast = page.locator('.notifications-toasts .notification-toast', { hasText: /running\s·\s\d+\ss.*:\sfor\s_\sin\srange/ });
  await toast.waitFor();
  await page.screenshot({ path: join(ARTIFACTS, 'vscode-running.png') });
  await toast.hover();
  await toast.locator('.monaco-button', { hasText: 'Cancel' }).click();
  await waitPanel(/■\scancelled/);
  mark('cancel');
  log('cancelled');

  // 3. A %table result opens in the grid webview: sort by a column, filter, copy as CSV.
  for (const line of [4, 5]) {
    await page.locator('.editor-group-container .monaco-editor .view-lines').first().click();
    await gotoLine(line);
    await page.keyboard.press('Control+Enter');
    await waitPanel(new RegExp(`statement\\s${line - 2}\\)`));
  }
  const grid = await frameWith((doc) => doc.querySelector('#grid tbody tr') !== null && doc.body.innerText.includes('n2'));
  const firstId = () => grid.evaluate(() => document.querySelector('#grid tbody tr td')?.textContent);
  assert.equal(await firstId(), '0');
  await grid.locator('#head th', { hasText: 'id' }).click();
  await grid.locator('#head th', { hasText: 'id' }).click(); // second click: descending
  assert.equal(await firstId(), '2', 'sorting by id descending did not put id 2 first');
  await grid.locator('#filter').fill('n1');
  await grid.locator('#count', { hasText: '1 of 3 rows' }).waitFor();
  await grid.locator('#copy').click();
  await page.locator('.statusbar', { hasText: 'Livy: copied 1 row as CSV' }).waitFor();
  await page.screenshot({ path: join(ARTIFACTS, 'vscode-table.png') });
  mark('table');
  log('table grid sorted, filtered, copied');

  // 4. Shift+Enter runs the # %% cell at the cursor (the daemon decides the cell's lines), in
  //    unsaved text: the second cell sees the first one's variable.
  await palette('View: Close All Editors'); // the notebook gets the whole width (its toolbar collapses when narrow)
  await openFile('cells.py');
  await page.locator('.editor-group-container .monaco-editor .view-lines', { hasText: 'second' }).first().click();
  await gotoLine(2);
  await page.keyboard.press('End');
  await page.keyboard.type('  # edited, not saved');
  await page.keyboard.press('Shift+Enter');
  await waitPanel(/edited,\snot\ssaved[\s\S]*✓\sdone/);
  await gotoLine(5);
  await page.keyboard.press('Shift+Enter');
  await waitPanel(/CELL\s42/);
  mark('cells');
  log('cells ran');
  await palette('View: Close All Editors');

  // 5. A notebook cell on the "Livy" kernel.
  await openFile('nb.ipynb');
  await page.locator('.notebook-editor').first().waitFor();
  // The toolbar's kernel button shows "Livy: default" once the controller is offered (suggested
  // or selected); clicking it opens the kernel picker either way, and picking Livy selects it.
  const toolbar = page.locator('.notebook-editor .notebook-toolbar-container').first();
  const kernelButton = toolbar.getByText('Livy: default', { exact: true });
  await kernelButton.waitFor();
  await kernelButton.click();
  const kernel = page.locator('.quick-input-list .monaco-list-row', { hasText: 'Livy: default' }).first();
  await kernel.waitFor();
  await kernel.click();
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
  await toolbar.getByText('Run All', { exact: true }).click();
  // The notebook statement also goes to the session's output channel; the cell's own output is
  // rendered in the notebook's output webview (an iframe): look for it in every frame.
  await waitPanel(/NB-PID\s(\d+)/);
  const outFrame = await frameWith((doc) => /NB-PID\s\d+/.test(doc.body?.innerText ?? ''));
  const cellOutput = Number(/NB-PID\s(\d+)/.exec(await outFrame.evaluate(() => document.body.innerText))[1]);
  assert.equal(cellOutput, pid, 'the notebook cell output did not show the REPL pid of the attached session');
  mark('notebook');
  log('notebook cell ran');
  await page.screenshot({ path: join(ARTIFACTS, 'vscode.png') });

  // 6. The attached session survives a window reload: the new daemon reattaches, and a statement
  //    runs in the same REPL process as before.
  const reloaded = page.waitForEvent('load');
  await palette('Developer: Reload Window');
  await reloaded;
  await page.locator('.monaco-workbench').waitFor();
  await page.locator('.statusbar', { hasText: /Livy:\sdefault\s·\ssession\s\d+\sidle/ }).waitFor();
  await openFile('demo.py');
  await page.locator('.editor-group-container .monaco-editor .view-lines', { hasText: 'LIVY-PID' }).first().click();
  await gotoLine(1);
  await page.keyboard.press('Home');
  await page.keyboard.press('Shift+ArrowDown');
  await page.keyboard.press('Shift+End');
  await page.keyboard.press('Control+Enter');
  const again = Number((await waitPanel(/LIVY-PID\s(\d+)/))[1]);
  assert.equal(again, pid, 'after a reload the statement ran in another process: the session was not reattached');
  mark('reload');
  log('reattached after reload');

  // 7. The Sessions view lists the session and its statement history (restored from the daemon).
  await page.locator('.activitybar .action-item a[aria-label^="Livy"]').first().click();
  const view = page.locator('.pane', { has: page.locator('.pane-header', { hasText: 'Sessions' }) }).first();
  await view.locator('.monaco-list-row', { hasText: /Session\s0/ }).waitFor();
  await view.locator('.monaco-list-row', { hasText: '%table rows' }).waitFor();
  await view.locator('.monaco-list-row', { hasText: /for _ in range\(3000\).*cancelled/ }).waitFor();
  await page.screenshot({ path: join(ARTIFACTS, 'vscode-sessions.png') });
  mark('sessions view');

  // 8. The token is in no file code-server, the extension or livyd wrote (logs, state, settings).
  const leaks = [];
  const scan = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        scan(p);
      } else if (e.isFile() && readFileSync(p).includes(TOKEN)) {
        leaks.push(p);
      }
    }
  };
  scan(T);
  assert.deepEqual(leaks, [], 'the token was written to these files');
  return { pid, sandboxPid: sandbox.pid, timings };
}

let exitCode = 0;
try {
  const result = await main();
  process.stdout.write(`LIVY_E2E_RESULT ${JSON.stringify({ ok: true, ...result })}\n`);
} catch (e) {
  exitCode = 1;
  process.stderr.write(`e2e failed: ${e?.stack ?? e}\n`);
  if (page) {
    await page.screenshot({ path: join(ARTIFACTS, 'vscode-failure.png') }).catch(() => {});
  }
  process.stdout.write(`LIVY_E2E_RESULT ${JSON.stringify({ ok: false, error: String(e?.message ?? e), timings })}\n`);
} finally {
  await cleanup();
  mark('total');
  log(`timings ${JSON.stringify(timings)}`);
}
process.exit(exitCode);
