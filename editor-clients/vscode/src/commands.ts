/**
 * The livy.* commands. Each one reads the editor, sends one typed daemon request and renders
 * the answer; every failure is shown as what happened and what to do.
 */
import * as vscode from 'vscode';
import { describeError } from './api';
import { dedent, isCellMarker } from './cells';
import { CredentialStore, credentialParams } from './credentials';
import { type Report, describeDeploy, describeReload, describeStandalone, moduleForFile, reloadChoices, reloadParams, standaloneScript } from './devloop';
import type { Daemon } from './daemon';
import { type LivyModel, type TaskRecord, isActive, keyOf } from './model';
import type { ExecuteParams, ExecuteResult, SessionInfo } from './protocol.generated';
import { dataText, statusLine } from './render';
import { sparkLogText } from './spark';
import type { SessionOutputs } from './ui/outputs';
import { showTaskProgress } from './ui/status';
import type { Node } from './ui/tree';

export interface Context {
  daemon: Daemon;
  model: LivyModel;
  outputs: SessionOutputs;
  credentials: CredentialStore;
  statements: StatementDocuments;
}

/** Read-only documents showing a past statement's code and output (livy-statement: scheme). */
export class StatementDocuments implements vscode.TextDocumentContentProvider {
  static readonly scheme = 'livy-statement';
  constructor(private readonly model: LivyModel) {}
  provideTextDocumentContent(uri: vscode.Uri): string {
    const m = /^\/(.+)\.(py|out)$/.exec(uri.path);
    const t = m ? this.model.tasks.get(decodeURIComponent(m[1])) : undefined;
    if (!t) {
      return 'This statement is no longer known to this window.';
    }
    if (m![2] === 'py') {
      return t.code ?? `${t.codePreview}\n# (only the first line is known: the daemon no longer has this statement)\n`;
    }
    const o = t.output;
    if (!o) {
      return `(${t.state}${t.message ? `: ${t.message}` : ''})`;
    }
    const parts = [dataText(o.data)];
    if (o.status === 'error') {
      parts.push(`${o.ename ?? 'Error'}: ${o.evalue ?? ''}`, (o.traceback ?? []).join(''));
    }
    parts.push(statusLine(o));
    return parts.filter(Boolean).join('\n');
  }
}

async function api(c: Context) {
  return c.daemon.ensure();
}

function showError(what: string, e: unknown): void {
  void vscode.window.showErrorMessage(`Livy: ${what} failed: ${describeError(e)}`, 'Show Daemon Log').then((choice) => {
    if (choice) {
      c_log?.show(true);
    }
  });
}
let c_log: vscode.LogOutputChannel | undefined;

/** Send code from a document; shows its header and progress. */
export async function runCode(c: Context, code: string, uri: vscode.Uri | undefined, range: vscode.Range | undefined, sessionId?: number | null): Promise<TaskRecord | undefined> {
  if (!code.trim()) {
    void vscode.window.showInformationMessage('Livy: nothing to run (the selection, cell or line is empty).');
    return undefined;
  }
  try {
    const a = await api(c);
    const params: ExecuteParams = { code, uri: uri?.toString() ?? null };
    if (range) {
      params.range = { start: { line: range.start.line, character: range.start.character }, end: { line: range.end.line, character: range.end.character } };
    }
    if (sessionId !== undefined && sessionId !== null) {
      params.sessionId = sessionId;
    }
    const result = await a.request('livy/execute', params);
    const record = c.model.tasks.get(result.taskId)!;
    c.outputs.submitted(record);
    showTaskProgress(c.model, record, (id) => cancelTask(c, id));
    return record;
  } catch (e) {
    showError('running the statement', e);
    return undefined;
  }
}

async function cancelTask(c: Context, taskId: string): Promise<void> {
  try {
    const a = await api(c);
    await a.request('livy/cancel', { taskId });
  } catch (e) {
    showError('cancelling', e);
  }
}

function editorOrWarn(): vscode.TextEditor | undefined {
  const ed = vscode.window.activeTextEditor;
  if (!ed) {
    void vscode.window.showWarningMessage('Livy: open a Python file first.');
  }
  return ed;
}

export async function runSelection(c: Context): Promise<TaskRecord | undefined> {
  const ed = editorOrWarn();
  if (!ed) {
    return undefined;
  }
  const doc = ed.document;
  const sel = ed.selection;
  if (!sel.isEmpty) {
    // Whole lines from the selection's first line, so traceback line numbers map back.
    const range = new vscode.Range(sel.start, sel.end);
    return runCode(c, dedent(doc.getText(range)), doc.uri, range);
  }
  // Nothing selected: the current cell in a file with # %% markers, else the current line.
  if (doc.getText().split(/\r?\n/).some(isCellMarker)) {
    return runCellAt(c, doc, sel.active.line);
  }
  const line = doc.lineAt(sel.active.line);
  return runCode(c, line.text.trim(), doc.uri, line.range);
}

/**
 * A task the daemon started from a command (livyd.runCell / livyd.runFile, ours or a CodeLens's):
 * fetch its whole code (livy/statement), then show its header and progress like any other.
 */
export async function trackServerRun(c: Context, result: unknown): Promise<TaskRecord | undefined> {
  const r = result as Partial<ExecuteResult> | undefined;
  if (!r || typeof r.taskId !== 'string' || typeof r.sessionId !== 'number') {
    return undefined;
  }
  const a = await api(c);
  try {
    await a.request('livy/statement', { taskId: r.taskId, profile: r.profile ?? null });
  } catch (e) {
    c.daemon.log.warn(`livy/statement for task ${r.taskId}: ${describeError(e)}`);
  }
  const record = c.model.tasks.get(r.taskId) ?? c.model.noteExecute({ code: '' }, { taskId: r.taskId, sessionId: r.sessionId, profile: r.profile ?? null });
  c.outputs.submitted(record);
  showTaskProgress(c.model, record, (id) => cancelTask(c, id));
  return record;
}

/** The daemon decides where a `# %%` cell starts and ends (the same rule as its CodeLenses). */
async function runCellAt(c: Context, doc: vscode.TextDocument, line: number): Promise<TaskRecord | undefined> {
  try {
    await api(c);
    const result = await c.daemon.executeCommand('livyd.runCell', [{ uri: doc.uri.toString(), line }]);
    return await trackServerRun(c, result);
  } catch (e) {
    showError('running the cell', e);
    return undefined;
  }
}

export async function runCell(c: Context, uri?: vscode.Uri, line?: number): Promise<TaskRecord | undefined> {
  const doc = uri ? await vscode.workspace.openTextDocument(uri) : editorOrWarn()?.document;
  if (!doc) {
    return undefined;
  }
  return runCellAt(c, doc, line ?? vscode.window.activeTextEditor?.selection.active.line ?? 0);
}

/** The whole document as the daemon holds it (unsaved changes included: it is synced over LSP). */
export async function runFile(c: Context, uri?: vscode.Uri): Promise<TaskRecord | undefined> {
  const doc = uri ? await vscode.workspace.openTextDocument(uri) : editorOrWarn()?.document;
  if (!doc) {
    return undefined;
  }
  try {
    await api(c);
    const result = await c.daemon.executeCommand('livyd.runFile', [{ uri: doc.uri.toString() }]);
    return await trackServerRun(c, result);
  } catch (e) {
    showError('running the file', e);
    return undefined;
  }
}

function sessionLabel(s: SessionInfo): vscode.QuickPickItem & { session: SessionInfo } {
  return {
    label: `Session ${s.id}${s.name ? ` ${s.name}` : ''}`,
    description: [s.state, s.kind, s.profile, s.owner ? `owner ${s.owner}` : '', s.attached ? 'attached' : ''].filter(Boolean).join(' · '),
    detail: s.appId ?? undefined,
    session: s,
  };
}

/** A session from a tree node, else the attached one, else a quick pick of the known ones. */
async function pickSession(c: Context, node: Node | undefined, placeHolder: string): Promise<SessionInfo | undefined> {
  if (node?.type === 'session') {
    return node.session;
  }
  const known = [...c.model.sessions.values()];
  if (known.length === 0) {
    void vscode.window.showInformationMessage('Livy: there is no session yet. Run a statement or use Livy: Create Session.');
    return undefined;
  }
  if (known.length === 1) {
    return known[0];
  }
  const picked = await vscode.window.showQuickPick(known.map(sessionLabel), { placeHolder });
  return picked?.session;
}

function taskOf(c: Context, node: unknown): TaskRecord | undefined {
  const n = node as Node | undefined;
  return n?.type === 'task' ? c.model.tasks.get(n.task.taskId) ?? n.task : undefined;
}

/** Ask the daemon for a statement's whole code and output (livy/statement) when this window lacks them. */
async function fullStatement(c: Context, t: TaskRecord): Promise<void> {
  if (t.code && (t.output || isActive(t.state))) {
    return;
  }
  try {
    const a = await api(c);
    await a.request('livy/statement', { taskId: t.taskId, profile: t.profile });
  } catch (e) {
    c.daemon.log.warn(`livy/statement for task ${t.taskId}: ${describeError(e)}`);
  }
}

function workspaceDir(): string | null {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? null;
}

/** A development-loop report: the details in the session's output (else the daemon log), the summary as a message. */
function showReport(c: Context, report: Report, session: SessionInfo | undefined, ...actions: string[]): Thenable<string | undefined> {
  if (session) {
    const ch = c.outputs.channel(session.profile ?? null, session.id);
    report.lines.forEach((l) => ch.appendLine(l));
  } else {
    report.lines.forEach((l) => c.daemon.log.info(l));
  }
  const show = report.warning ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
  return show(`Livy: ${report.summary}`, ...actions);
}

/** livy.deploy: the project's scripts and package zips (only what changed is sent), into the attached session's pyFiles. */
async function deployProject(c: Context): Promise<void> {
  try {
    const a = await api(c);
    const session = c.model.attachedSession();
    const params = session ? { sessionId: session.id, profile: session.profile ?? null } : {};
    const r = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Livy: deploying the project' },
      () => a.request('livy/deploy', params));
    void showReport(c, describeDeploy(r, session?.id), session);
  } catch (e) {
    showError('deploying the project', e);
  }
}

/** livy.reloadModule: the active file's module when it is in a package of the workspace, else a pick of the project's. */
async function reloadModule(c: Context, module?: string | null): Promise<void> {
  try {
    const a = await api(c);
    const session = c.model.attachedSession();
    if (!session) {
      void vscode.window.showInformationMessage('Livy: no session is attached, so there is nothing to reload into. Run a statement or use Livy: Attach to Session first.');
      return;
    }
    let target: string | null | undefined = module;
    if (target === undefined) {
      const file = vscode.window.activeTextEditor?.document;
      target = file?.uri.scheme === 'file' ? moduleForFile(file.uri.fsPath, workspaceDir()) : undefined;
      if (file && target && file.isDirty) {
        await file.save(); // the daemon sends the file's source from disk
      }
    }
    if (target === undefined) {
      const dry = await a.request('livy/deploy', { dryRun: true, profile: session.profile ?? null });
      const other = { label: '$(edit) Enter a module name...', description: '', module: '' };
      const picked = await vscode.window.showQuickPick([...reloadChoices(dry), other], { placeHolder: `Reload which module of ${dry.root}?` });
      if (!picked) {
        return;
      }
      target = picked === other ? await vscode.window.showInputBox({ prompt: 'Module or package to reload', placeHolder: 'mypkg.core' }) : picked.module;
      if (target === undefined || target === '') {
        return;
      }
    }
    const r = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Livy: reloading ${target ?? 'the project\'s packages'}` },
      () => a.request('livy/reloadModule', reloadParams(target, session)));
    void showReport(c, describeReload(r), session);
  } catch (e) {
    showError('reloading', e);
  }
}

/** livy.buildStandalone: one self-contained .py of the project's packages and the active script. */
async function buildStandalone(c: Context): Promise<void> {
  try {
    const a = await api(c);
    const script = standaloneScript(vscode.window.activeTextEditor?.document.uri.fsPath, workspaceDir());
    const r = await a.request('livy/buildStandalone', { script });
    if (await showReport(c, describeStandalone(r), undefined, 'Open')) {
      await vscode.window.showTextDocument(vscode.Uri.file(r.output));
    }
  } catch (e) {
    showError('building the standalone script', e);
  }
}

function parseArgs(s: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  let m;
  while ((m = re.exec(s))) {
    out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2] ?? m[3]);
  }
  return out;
}

export function registerCommands(c: Context): vscode.Disposable[] {
  c_log = c.daemon.log;
  const reg = (id: string, fn: (...args: never[]) => unknown) => vscode.commands.registerCommand(id, fn);
  return [
    reg('livy.runSelection', () => runSelection(c)),
    reg('livy.runCell', (uri?: vscode.Uri) => runCell(c, uri instanceof vscode.Uri ? uri : undefined)),
    reg('livy.runFile', (uri?: vscode.Uri) => runFile(c, uri instanceof vscode.Uri ? uri : undefined)),
    reg('livy.deploy', () => deployProject(c)),
    reg('livy.reloadModule', (module?: unknown) => reloadModule(c, typeof module === 'string' ? module : undefined)),
    reg('livy.buildStandalone', () => buildStandalone(c)),
    reg('livy.createSession', async () => {
      try {
        const a = await api(c);
        const kind = await vscode.window.showQuickPick(['pyspark', 'spark', 'sql', 'sparkr'], { placeHolder: 'Session kind (Esc: the profile\'s default)' });
        const r = await a.request('livy/createSession', { attach: true, ...(kind ? { kind } : {}) });
        void vscode.window.showInformationMessage(`Livy: session ${r.session.id} is ${r.session.state}${r.session.profile ? ` on ${r.session.profile}` : ''}; it is attached.`);
      } catch (e) {
        showError('creating a session', e);
      }
    }),
    reg('livy.attachSession', async (node?: Node) => {
      try {
        const a = await api(c);
        let session = node?.type === 'session' ? node.session : undefined;
        if (!session) {
          const list = await a.request('livy/listSessions', { ownedOnly: false });
          if (list.sessions.length === 0) {
            const create = await vscode.window.showInformationMessage('Livy: the server has no sessions.', 'Create Session');
            if (create) {
              await vscode.commands.executeCommand('livy.createSession');
            }
            return;
          }
          session = (await vscode.window.showQuickPick(list.sessions.map(sessionLabel), { placeHolder: 'Attach to which session? (statements without a session go there)' }))?.session;
        }
        if (!session) {
          return;
        }
        await a.request('livy/attachSession', { sessionId: session.id, profile: session.profile ?? null });
        await c.daemon.refresh();
      } catch (e) {
        showError('attaching', e);
      }
    }),
    reg('livy.killSession', async (node?: Node) => {
      const s = await pickSession(c, node, 'Kill which session?');
      if (!s) {
        return;
      }
      const ok = await vscode.window.showWarningMessage(`Kill Livy session ${s.id}${s.profile ? ` on ${s.profile}` : ''}? Its running statement is lost.`, { modal: true }, 'Kill');
      if (ok !== 'Kill') {
        return;
      }
      try {
        const a = await api(c);
        await a.request('livy/killSession', { sessionId: s.id, profile: s.profile ?? null });
        await c.daemon.refresh();
      } catch (e) {
        showError(`killing session ${s.id}`, e);
      }
    }),
    reg('livy.killAllSessions', async () => {
      const ok = await vscode.window.showWarningMessage('Kill every Livy session this daemon created?', { modal: true }, 'Kill All');
      if (ok !== 'Kill All') {
        return;
      }
      try {
        const a = await api(c);
        const r = await a.request('livy/killAllSessions', { ownedOnly: true });
        void vscode.window.showInformationMessage(r.killed.length ? `Livy: killed sessions ${r.killed.join(', ')}.` : 'Livy: there was no session to kill.');
        await c.daemon.refresh();
      } catch (e) {
        showError('killing the sessions', e);
      }
    }),
    reg('livy.restartSession', async (node?: Node) => {
      const s = await pickSession(c, node, 'Restart which session?');
      if (!s) {
        return;
      }
      try {
        const a = await api(c);
        const r = await a.request('livy/restartSession', { sessionId: s.id, profile: s.profile ?? null });
        void vscode.window.showInformationMessage(`Livy: session ${r.previousSessionId} was replaced by session ${r.session.id} (same configuration).`);
        await c.daemon.refresh();
      } catch (e) {
        showError(`restarting session ${s.id}`, e);
      }
    }),
    reg('livy.cancel', async () => {
      const active = c.model.activeTasks();
      if (active.length === 0) {
        void vscode.window.showInformationMessage('Livy: no statement is running.');
        return;
      }
      // The newest running one (a queued one only when nothing runs).
      const target = [...active].reverse().find((t) => t.state !== 'queued') ?? active[active.length - 1];
      await cancelTask(c, target.taskId);
    }),
    reg('livy.cancelTask', (node?: Node) => {
      const t = taskOf(c, node);
      return t ? cancelTask(c, t.taskId) : undefined;
    }),
    reg('livy.showLogs', async (node?: Node) => {
      const s = await pickSession(c, node, 'Show the log of which session?');
      if (!s) {
        return;
      }
      try {
        const a = await api(c);
        const page = await a.request('livy/readLog', { sessionId: s.id, profile: s.profile ?? null, size: 500 });
        const ch = c.outputs.logChannel(keyOf(s.profile, s.id), 'session');
        ch.appendLine(`──── session ${s.id}: lines ${page.from}..${page.from + page.lines.length} of ${page.total}`);
        for (const l of page.lines) {
          ch.appendLine(l);
        }
        ch.show(true);
      } catch (e) {
        showError(`reading the log of session ${s.id}`, e);
      }
    }),
    reg('livy.showSparkLog', async (node?: Node) => {
      const s = await pickSession(c, node, 'Show the Spark log of which session?');
      if (!s) {
        return;
      }
      const which = await vscode.window.showQuickPick([
        { label: 'Driver', description: 'the driver\'s whole log (appInfo.driverLogUrl)', executors: false },
        { label: 'Executors', description: 'every executor\'s log (Livy 0.9+)', executors: true },
      ], { placeHolder: `Which Spark log of session ${s.id}?` });
      if (!which) {
        return;
      }
      const what = `the ${which.executors ? 'executors\'' : 'driver\'s'} log of session ${s.id}`;
      try {
        const a = await api(c);
        const r = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Livy: reading ${what}` },
          () => a.request('livy/sparkLog', { sessionId: s.id, profile: s.profile ?? null, executors: which.executors }));
        const doc = await vscode.workspace.openTextDocument({ content: sparkLogText(r, s.id), language: 'log' });
        await vscode.window.showTextDocument(doc, { preview: false });
      } catch (e) {
        // The daemon's message names the URL that did not answer and the key (spark_ui.log_url) that fixes it.
        showError(`reading ${what}`, e);
      }
    }),
    reg('livy.followLogs', async (node?: Node) => {
      const s = await pickSession(c, node, 'Follow the log of which session?');
      if (!s) {
        return;
      }
      try {
        const a = await api(c);
        const r = await a.request('livy/followLog', { sessionId: s.id, profile: s.profile ?? null });
        const ch = c.outputs.logChannel(keyOf(s.profile, s.id), 'session');
        ch.show(true);
        const stop = await vscode.window.showInformationMessage(`Livy: following the log of session ${s.id}${r.following ? '' : ' (not started)'}.`, 'Stop Following');
        if (stop) {
          await a.request('livy/unfollowLog', { sessionId: s.id, profile: s.profile ?? null });
        }
      } catch (e) {
        showError(`following the log of session ${s.id}`, e);
      }
    }),
    reg('livy.submitBatch', async () => {
      const choice = await vscode.window.showQuickPick([
        { label: '$(file) Pick a local file...', id: 'pick' },
        { label: '$(cloud) Enter a path Livy can read (hdfs://, s3a://, local:/...)', id: 'type' },
      ], { placeHolder: 'The JAR or Python file to run as a Livy batch' });
      if (!choice) {
        return;
      }
      let file: string | undefined;
      if (choice.id === 'pick') {
        const picked = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'Spark applications': ['jar', 'py', 'zip'] }, openLabel: 'Submit' });
        file = picked?.[0]?.fsPath;
      } else {
        file = await vscode.window.showInputBox({ prompt: 'Path or URL of the application', placeHolder: 'hdfs:///apps/etl.jar' });
      }
      if (!file) {
        return;
      }
      const className = /\.jar$/i.test(file)
        ? await vscode.window.showInputBox({ prompt: 'Main class (empty: the JAR manifest\'s)', placeHolder: 'com.example.Main' })
        : '';
      if (className === undefined) {
        return;
      }
      const argLine = await vscode.window.showInputBox({ prompt: 'Arguments (quote those with spaces)', placeHolder: '--date 2024-01-01 "two words"' });
      if (argLine === undefined) {
        return;
      }
      try {
        const a = await api(c);
        const r = await a.request('livy/submitBatch', { file, args: parseArgs(argLine), ...(className ? { className } : {}) });
        const open = await vscode.window.showInformationMessage(`Livy: batch ${r.batch.id} submitted (${r.batch.state}).`, 'Show Log');
        if (open) {
          await vscode.commands.executeCommand('livy.showBatchLog', { type: 'batch', key: keyOf(r.batch.profile, r.batch.id), batch: r.batch });
        }
      } catch (e) {
        showError('submitting the batch', e);
      }
    }),
    reg('livy.showBatchLog', async (node?: Node) => {
      if (node?.type !== 'batch') {
        return;
      }
      try {
        const a = await api(c);
        const page = await a.request('livy/readBatchLog', { batchId: node.batch.id, profile: node.batch.profile ?? null, size: 500 });
        const ch = c.outputs.logChannel(node.key, 'batch');
        for (const l of page.lines) {
          ch.appendLine(l);
        }
        ch.show(true);
        await a.request('livy/followLog', { batchId: node.batch.id, profile: node.batch.profile ?? null });
      } catch (e) {
        showError(`reading the log of batch ${node.batch.id}`, e);
      }
    }),
    reg('livy.killBatch', async (node?: Node) => {
      if (node?.type !== 'batch') {
        return;
      }
      try {
        const a = await api(c);
        await a.request('livy/killBatch', { batchId: node.batch.id, profile: node.batch.profile ?? null });
        await a.request('livy/listBatches', { profile: node.batch.profile ?? null });
      } catch (e) {
        showError(`killing batch ${node.batch.id}`, e);
      }
    }),
    reg('livy.selectProfile', async () => {
      try {
        const a = await api(c);
        const r = await a.request('livy/listProfiles', {});
        if (r.profiles.length === 0) {
          void vscode.window.showInformationMessage('Livy: no profiles are configured (livyd.toml); set livy.url or write a livyd.toml.');
          return;
        }
        const picked = await vscode.window.showQuickPick(r.profiles.map((p) => ({
          label: p.name, description: [p.url ?? 'embedded sandbox', p.auth, p.active ? 'active' : ''].filter(Boolean).join(' · '), profile: p.name,
        })), { placeHolder: 'Profile for new sessions and statements' });
        if (!picked) {
          return;
        }
        await a.request('livy/selectProfile', { profile: picked.profile });
        const target = vscode.workspace.workspaceFolders ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
        await vscode.workspace.getConfiguration('livy').update('profile', picked.profile, target);
        await c.daemon.refresh();
      } catch (e) {
        showError('selecting the profile', e);
      }
    }),
    reg('livy.setCredentials', async () => {
      try {
        const a = await api(c);
        const r = await a.request('livy/listProfiles', {});
        let profile = r.active ?? '';
        if (r.profiles.length > 1) {
          const picked = await vscode.window.showQuickPick(r.profiles.map((p) => ({ label: p.name, description: p.url ?? '' })), { placeHolder: 'Credentials for which profile?' });
          if (!picked) {
            return;
          }
          profile = picked.label;
        }
        const kind = await vscode.window.showQuickPick([{ label: 'Password', id: 'password' }, { label: 'Bearer token', id: 'token' }], { placeHolder: 'What does this Livy accept?' });
        if (!kind) {
          return;
        }
        const creds: { username?: string; password?: string; token?: string } = {};
        if (kind.id === 'password') {
          const username = await vscode.window.showInputBox({ prompt: 'User name', value: vscode.workspace.getConfiguration('livy').get<string>('username', '') });
          if (username === undefined) {
            return;
          }
          const password = await vscode.window.showInputBox({ prompt: `Password for ${username}`, password: true });
          if (!password) {
            return;
          }
          Object.assign(creds, { username, password });
        } else {
          const token = await vscode.window.showInputBox({ prompt: 'Token', password: true });
          if (!token) {
            return;
          }
          creds.token = token;
        }
        await c.daemon.setCredentials(credentialParams(profile, creds), a);
        await c.credentials.set(profile, creds);
        void vscode.window.showInformationMessage(`Livy: credentials for ${profile || 'the default profile'} are stored in VS Code's secret storage and in use.`);
      } catch (e) {
        showError('setting credentials', e);
      }
    }),
    reg('livy.clearCredentials', async () => {
      const profiles = c.credentials.profiles();
      if (profiles.length === 0) {
        void vscode.window.showInformationMessage('Livy: no credentials are stored.');
        return;
      }
      const picked = await vscode.window.showQuickPick(profiles.map((p) => p || '(default profile)'), { placeHolder: 'Forget the credentials of which profile?' });
      if (picked === undefined) {
        return;
      }
      await c.credentials.delete(picked === '(default profile)' ? '' : picked);
      void vscode.window.showInformationMessage('Livy: forgotten. The running daemon keeps them until Livy: Restart Daemon.');
    }),
    reg('livy.restartDaemon', async () => {
      try {
        await c.daemon.restart();
        void vscode.window.setStatusBarMessage('Livy: daemon restarted', 3000);
      } catch (e) {
        showError('restarting the daemon', e);
      }
    }),
    reg('livy.showOutputLog', () => c.daemon.log.show()),
    reg('livy.installDaemon', async () => {
      try {
        const path = await c.daemon.install();
        void vscode.window.showInformationMessage(`Livy: livyd is installed at ${path}.`);
        await c.daemon.restart();
      } catch (e) {
        void vscode.window.showErrorMessage(`Livy: ${describeError(e)}`);
      }
    }),
    reg('livy.refreshSessions', async () => {
      try {
        await api(c);
        await c.daemon.refresh();
        const a = await api(c);
        await a.request('livy/listBatches', {});
      } catch (e) {
        showError('refreshing', e);
      }
    }),
    reg('livy.showSessionOutput', (node?: Node) => {
      if (node?.type === 'session') {
        c.outputs.show(node.session);
      }
    }),
    reg('livy.openStatement', async (node?: Node) => {
      const t = taskOf(c, node);
      if (!t) {
        return;
      }
      await fullStatement(c, t);
      const id = encodeURIComponent(t.taskId);
      const code = await vscode.workspace.openTextDocument(vscode.Uri.parse(`${StatementDocuments.scheme}:/${id}.py`));
      await vscode.window.showTextDocument(code, { viewColumn: vscode.ViewColumn.One, preview: true });
      const out = await vscode.workspace.openTextDocument(vscode.Uri.parse(`${StatementDocuments.scheme}:/${id}.out`));
      await vscode.window.showTextDocument(out, { viewColumn: vscode.ViewColumn.Beside, preview: true, preserveFocus: true });
    }),
    reg('livy.runAgain', async (node?: Node) => {
      const t = taskOf(c, node);
      if (!t) {
        return;
      }
      await fullStatement(c, t);
      if (!t.code) {
        void vscode.window.showWarningMessage('Livy: the daemon no longer has this statement\'s code, so it cannot be run again.');
        return;
      }
      await runCode(c, t.code, t.uri ? vscode.Uri.parse(t.uri) : undefined, undefined, t.sessionId);
    }),
    reg('livy.openSparkUi', (node?: Node) => {
      const url = node?.type === 'session' ? node.session.sparkUiUrl : node?.type === 'batch' ? node.batch.sparkUiUrl : c.model.attachedSession()?.sparkUiUrl;
      if (url) {
        void vscode.env.openExternal(vscode.Uri.parse(url));
      } else {
        void vscode.window.showInformationMessage('Livy has not reported a Spark UI address for this session (yet).');
      }
    }),
    reg('livy.openDriverLog', (node?: Node) => {
      const url = node?.type === 'session' ? node.session.driverLogUrl : node?.type === 'batch' ? node.batch.driverLogUrl : c.model.attachedSession()?.driverLogUrl;
      if (url) {
        void vscode.env.openExternal(vscode.Uri.parse(url));
      } else {
        void vscode.window.showInformationMessage('Livy has not reported a driver log address for this session (yet).');
      }
    }),
    reg('livy.walkthroughSample', async () => {
      const doc = await vscode.workspace.openTextDocument({
        language: 'python',
        content: '# A first statement: it runs on the Livy session (the embedded sandbox when nothing is configured).\nimport os, platform\nprint(f"hello from process {os.getpid()} on {platform.node()}")\n',
      });
      const ed = await vscode.window.showTextDocument(doc);
      ed.selection = new vscode.Selection(1, 0, 2, doc.lineAt(2).text.length);
      await runSelection(c);
    }),
  ];
}

export { isActive };
