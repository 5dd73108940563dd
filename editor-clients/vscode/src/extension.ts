/**
 * Entry point: build the model, the daemon manager and the UI, register the commands, start
 * livyd. Everything Livy-specific happens in the daemon; this file only wires pieces together.
 */
import * as vscode from 'vscode';
import { type Context, StatementDocuments, registerCommands, runCode, trackServerRun } from './commands';
import { CredentialStore } from './credentials';
import { Daemon } from './daemon';
import { LivyModel, type TaskRecord } from './model';
import { LivyNotebooks } from './notebook';
import { RESTART_SETTINGS, readSettings } from './settings';
import { SessionOutputs } from './ui/outputs';
import { Panels } from './ui/panels';
import { StatusBar } from './ui/status';
import { SessionsTree } from './ui/tree';

export interface LivyExtensionApi {
  /** The store of sessions and tasks (for other extensions and tests). */
  model: LivyModel;
  daemon: Daemon;
}

export function activate(context: vscode.ExtensionContext): LivyExtensionApi {
  const log = vscode.window.createOutputChannel('Livy', { log: true });
  const model = new LivyModel();
  const panels = new Panels();
  const outputs = new SessionOutputs(model, (t) => panels.showTable(t), (t) => panels.showImage(t), () => readSettings().revealOutput);
  const credentials = new CredentialStore(context.secrets, context.globalState);
  const statements = new StatementDocuments(model);
  const wired: { ctx?: Context } = {};
  const daemon = new Daemon(context, model, log, credentials, (command, result) => {
    if (wired.ctx && (command === 'livyd.runCell' || command === 'livyd.runFile')) {
      void trackServerRun(wired.ctx, result);
    }
  });
  const ctx: Context = { daemon, model, outputs, credentials, statements };
  wired.ctx = ctx;

  // Statement history survives a window reload (the daemon keeps the sessions, this keeps what
  // this window showed of them).
  const HISTORY = 'livy.history.v1';
  model.restore(context.workspaceState.get<TaskRecord[]>(HISTORY, []));
  let saveTimer: ReturnType<typeof setTimeout> | undefined;
  const saveHistory = () => context.workspaceState.update(HISTORY, model.snapshot(100, 8_000));
  context.subscriptions.push(model.onDidChange(() => {
    daemon.rememberAttached();
    if (!saveTimer) {
      saveTimer = setTimeout(() => { saveTimer = undefined; void saveHistory(); }, 1000);
    }
  }));
  flushHistory = () => {
    if (saveTimer) {
      clearTimeout(saveTimer);
      saveTimer = undefined;
    }
    return saveHistory();
  };

  const status = new StatusBar(model, () => readSettings().profile);
  const tree = new SessionsTree(model);
  const notebooks = new LivyNotebooks(model, {
    execute: async (doc) => {
      // The whole cell as the range, so the daemon's diagnostics and errorRange land in the cell.
      const last = doc.lineAt(doc.lineCount - 1);
      const t = await runCode(ctx, doc.getText(), doc.uri, new vscode.Range(0, 0, last.lineNumber, last.text.length));
      if (!t) {
        throw new Error('The statement was not sent (see the notification).');
      }
      return t;
    },
    cancel: async (taskId) => { await (await daemon.ensure()).request('livy/cancel', { taskId }); },
    profileLabel: () => model.activeProfile ?? (readSettings().profile || 'default'),
  });

  context.subscriptions.push(
    log, panels, outputs, status, tree, notebooks, daemon,
    vscode.window.registerTreeDataProvider('livy.sessions', tree),
    vscode.workspace.registerTextDocumentContentProvider(StatementDocuments.scheme, statements),
    daemon.onDidChangeState((s) => { status.daemonState = s; status.update(); notebooks.relabel(); }),
    model.onDidChange(() => notebooks.relabel()),
    ...registerCommands(ctx),
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (!e.affectsConfiguration('livy')) {
        return;
      }
      if (RESTART_SETTINGS.some((k) => e.affectsConfiguration(k))) {
        const choice = await vscode.window.showInformationMessage('Livy: this setting takes effect when the daemon restarts.', 'Restart Daemon');
        if (choice) {
          await vscode.commands.executeCommand('livy.restartDaemon');
        }
        return;
      }
      if (e.affectsConfiguration('livy.profile') && daemon.api) {
        const profile = readSettings().profile;
        if (profile && profile !== model.activeProfile) {
          try {
            await daemon.api.request('livy/selectProfile', { profile });
            model.activeProfile = profile;
          } catch (err) {
            void vscode.window.showErrorMessage(`Livy: profile ${profile}: ${String((err as Error).message ?? err)}`);
          }
        }
      }
      await daemon.configurationChanged();
    }),
  );

  // Start the daemon now (activation is only on Python files, notebooks and our own commands), so
  // a reloaded window reattaches to its sessions at once.
  daemon.ensure().catch((e: unknown) => {
    void vscode.window.showErrorMessage(`Livy: ${(e as Error).message}`, 'Show Daemon Log', 'Restart Daemon').then((choice) => {
      if (choice === 'Show Daemon Log') {
        log.show();
      } else if (choice === 'Restart Daemon') {
        void vscode.commands.executeCommand('livy.restartDaemon');
      }
    });
  });
  return { model, daemon };
}

let flushHistory: (() => Thenable<void>) | undefined;

/** Keeps the statement history; the daemon is stopped through context.subscriptions. */
export async function deactivate(): Promise<void> {
  await flushHistory?.();
}
