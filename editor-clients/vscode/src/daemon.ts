/**
 * Starting, restarting and stopping `livyd --stdio` through vscode-languageclient, and what
 * follows a start: the protocol check, the credentials from secret storage, the first status.
 */
import * as vscode from 'vscode';
import { LanguageClient, type LanguageClientOptions, RevealOutputChannelOn, type ServerOptions, State, Trace, TransportKind } from 'vscode-languageclient/node';
import { LivyApi, type Rpc, checkCapabilities, daemonSettings, describeError, initializationOptions, modelHandlers, wireNotifications } from './api';
import { CredentialStore, credentialParams } from './credentials';
import { bundledWheel, daemonCandidates, installManaged, pickDaemon, type FoundDaemon } from './daemonPath';
import type { LivyModel } from './model';
import type { LivydCapabilities, SetCredentialsParams } from './protocol.generated';
import { daemonArgs, readSettings } from './settings';

export type DaemonState = 'stopped' | 'starting' | 'running' | 'failed';

const ATTACHED_KEY = 'livy.attachedSession.v1';

/** Told about what the daemon's own commands (livyd.runCell from a CodeLens, ...) returned. */
export type ServerCommandHandler = (command: string, result: unknown) => void;

export class Daemon implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private disposables: vscode.Disposable[] = [];
  private readonly stateEmitter = new vscode.EventEmitter<DaemonState>();
  readonly onDidChangeState = this.stateEmitter.event;
  state: DaemonState = 'stopped';
  api: LivyApi | undefined;
  capabilities: LivydCapabilities | undefined;
  found: FoundDaemon | undefined;
  private starting: Promise<LivyApi> | undefined;

  constructor(
    private readonly context: vscode.ExtensionContext,
    readonly model: LivyModel,
    readonly log: vscode.LogOutputChannel,
    private readonly credentials: CredentialStore,
    private readonly serverCommand: ServerCommandHandler,
  ) {}

  private setState(s: DaemonState): void {
    this.state = s;
    this.stateEmitter.fire(s);
  }

  get managedVenv(): string {
    return vscode.Uri.joinPath(this.context.globalStorageUri, 'venv').fsPath;
  }

  /** The running daemon's API, starting it first if needed. */
  ensure(): Promise<LivyApi> {
    if (this.api && this.state === 'running') {
      return Promise.resolve(this.api);
    }
    if (!this.starting) {
      this.starting = this.start().finally(() => { this.starting = undefined; });
    }
    return this.starting;
  }

  private async pythonPath(): Promise<string | undefined> {
    const ext = vscode.extensions.getExtension<{ environments?: { getActiveEnvironmentPath(r?: vscode.Uri): { path: string } } }>('ms-python.python');
    try {
      if (ext) {
        const api = ext.isActive ? ext.exports : await ext.activate();
        const p = api?.environments?.getActiveEnvironmentPath(vscode.workspace.workspaceFolders?.[0]?.uri)?.path;
        if (p) {
          return p;
        }
      }
    } catch (e) {
      this.log.warn(`could not ask the Python extension for the selected environment: ${describeError(e)}`);
    }
    const configured = vscode.workspace.getConfiguration('python').get<string>('defaultInterpreterPath');
    return configured && configured !== 'python' ? configured : undefined;
  }

  private async locate(): Promise<FoundDaemon> {
    const s = readSettings();
    const candidates = daemonCandidates({
      daemonPath: s.daemonPath, pythonPath: await this.pythonPath(), envPath: process.env.PATH, managedVenv: this.managedVenv,
    });
    const picked = pickDaemon(candidates);
    if (typeof picked !== 'string') {
      return picked;
    }
    this.log.error(picked);
    if (s.daemonPath.trim()) {
      throw new Error(picked);
    }
    const install = 'Install livyd';
    const choice = await vscode.window.showErrorMessage(
      `${picked} Install it into an extension-managed environment from the wheel this extension carries?`, install, 'Open Settings');
    if (choice === 'Open Settings') {
      void vscode.commands.executeCommand('workbench.action.openSettings', 'livy.daemonPath');
    }
    if (choice !== install) {
      throw new Error(picked);
    }
    const path = await this.install();
    return { source: 'the extension-managed environment', path, command: path, args: [] };
  }

  /** Install livyd into the extension-managed venv (the livy.installDaemon command). */
  async install(): Promise<string> {
    const python = (await this.pythonPath()) ?? (process.platform === 'win32' ? 'python' : 'python3');
    this.log.show(true);
    return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Livy: installing livyd' }, () =>
      installManaged({ python, venv: this.managedVenv, wheel: bundledWheel(this.context.extensionPath), log: (l) => this.log.info(l) }));
  }

  private async start(): Promise<LivyApi> {
    await this.stop();
    this.setState('starting');
    try {
      const found = await this.locate();
      this.found = found;
      const s = readSettings();
      const args = daemonArgs(s);
      const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? null;
      this.log.info(`starting ${found.command} ${args.join(' ')} (found via ${found.source})`);
      const serverOptions: ServerOptions = {
        command: found.command,
        args: [...found.args, ...args],
        transport: TransportKind.stdio,
        options: { cwd: folder ?? undefined },
      };
      const clientOptions: LanguageClientOptions = {
        // Untitled buffers too: livyd.runCell / runFile read the text the daemon was sent.
        documentSelector: [{ scheme: 'file', language: 'python' }, { scheme: 'untitled', language: 'python' }, { scheme: 'vscode-notebook-cell', language: 'python' }],
        initializationOptions: initializationOptions(s, folder),
        outputChannel: this.log,
        revealOutputChannelOn: RevealOutputChannelOn.Never,
        middleware: {
          // Notebook cells get completion, but not the daemon's file-level "Run file"/"Run cell"
          // lenses (the notebook has its own run buttons).
          provideCodeLenses: (document, token, next) => (document.uri.scheme === 'vscode-notebook-cell' ? [] : next(document, token)),
          executeCommand: async (command, args, next): Promise<unknown> => {
            const result: unknown = await next(command, args);
            this.serverCommand(command, result);
            return result;
          },
        },
      };
      const client = new LanguageClient('livy', 'Livy', serverOptions, clientOptions);
      this.client = client;
      const rpc: Rpc = {
        // Never pass an undefined token: it would be sent as a second positional param.
        sendRequest: <R>(method: string, params: unknown, token?: unknown) => (token
          ? client.sendRequest<R>(method, params, token as vscode.CancellationToken)
          : client.sendRequest<R>(method, params)),
        onNotification: (method, handler) => client.onNotification(method, handler as (p: unknown) => void),
      };
      this.disposables.push(...wireNotifications(rpc, modelHandlers(this.model), (m, e) => this.log.error(`handling ${m}: ${describeError(e)}`)));
      this.disposables.push(client.onDidChangeState((e) => {
        if (e.newState === State.Stopped && this.state === 'running') {
          this.log.warn('livyd stopped');
          this.setState('stopped');
        } else if (e.newState === State.Running && this.state === 'stopped' && this.api) {
          // vscode-languageclient restarted a daemon that died: same client, fresh process.
          this.log.info('livyd was restarted after it stopped');
          this.setState('running');
          void this.sendStoredCredentials(this.api).then(() => this.refresh());
        }
      }));
      await client.start();
      this.capabilities = checkCapabilities(client.initializeResult);
      this.log.info(`livyd ${this.capabilities.version}, protocol ${this.capabilities.protocolVersion}${this.capabilities.shared ? ', shared daemon' : ''}`);
      const api = new LivyApi(rpc, this.model);
      this.api = api;
      await this.sendStoredCredentials(api);
      this.setState('running');
      void this.refresh();
      return api;
    } catch (e) {
      this.setState('failed');
      const msg = describeError(e);
      this.log.error(`livyd did not start: ${msg}`);
      await this.stop(true);
      this.setState('failed');
      throw new Error(`livyd did not start: ${msg}`);
    }
  }

  /**
   * livy/setCredentials with message tracing off: with the "Livy" channel at log level Trace,
   * vscode-languageclient would otherwise write the request, secret included, to that channel.
   */
  async setCredentials(params: SetCredentialsParams, api?: LivyApi): Promise<void> {
    const target = api ?? (await this.ensure());
    const client = this.client;
    const tracing = client !== undefined && this.log.logLevel === vscode.LogLevel.Trace;
    if (tracing) {
      await client.setTrace(Trace.Off);
    }
    try {
      await target.request('livy/setCredentials', params);
    } finally {
      if (tracing) {
        await client.setTrace(Trace.Messages);
      }
    }
  }

  async sendStoredCredentials(api: LivyApi): Promise<void> {
    for (const profile of this.credentials.profiles()) {
      const c = await this.credentials.get(profile);
      if (!c) {
        continue;
      }
      try {
        await this.setCredentials(credentialParams(profile, c), api);
      } catch (e) {
        this.log.warn(`stored credentials for profile ${profile || '(default)'} were not accepted: ${describeError(e)}`);
      }
    }
  }

  /** workspace/executeCommand on the daemon (livyd.runCell, livyd.runFile, ...), bypassing the middleware. */
  async executeCommand(command: string, args: unknown[]): Promise<unknown> {
    await this.ensure();
    if (!this.client) {
      throw new Error('livyd is not running');
    }
    return this.client.sendRequest('workspace/executeCommand', { command, arguments: args });
  }

  /** Ask the daemon what it knows (sessions, tasks) and feed the model. */
  async refresh(): Promise<void> {
    if (!this.api) {
      return;
    }
    try {
      const status = await this.api.request('livy/status', {});
      const attached = status.sessions.find((x) => x.attached);
      this.log.info(`daemon knows ${status.sessions.length} session(s)${attached ? `, session ${attached.id} attached` : ''} and ${status.tasks.length} task(s)`);
      if (!attached) {
        await this.reattachRemembered(this.api);
      }
    } catch (e) {
      this.log.warn(`livy/status failed: ${describeError(e)}`);
    }
  }

  /**
   * The session this workspace had attached in an earlier window. A new daemon reattaches it by
   * itself, but only if Livy let it in: with a password or token that arrives (livy/setCredentials)
   * after the daemon's restore ran, the restore fails. Then attach it again here, and only if the
   * server still has a session with that id AND that name (Livy reuses ids after a restart).
   */
  private async reattachRemembered(api: LivyApi): Promise<void> {
    const prev = this.context.workspaceState.get<{ id: number; name: string; profile: string | null }>(ATTACHED_KEY);
    if (!prev?.name) {
      return;
    }
    const list = await api.request('livy/listSessions', { ownedOnly: false, profile: prev.profile });
    const same = list.sessions.find((x) => x.id === prev.id && x.name === prev.name && !['dead', 'killed', 'error', 'success'].includes(x.state));
    if (!same) {
      this.log.info(`the session attached before (${prev.id}, ${prev.name}) is gone`);
      return;
    }
    await api.request('livy/attachSession', { sessionId: same.id, profile: same.profile ?? null });
    this.log.info(`reattached session ${same.id} (${same.name}) of the earlier window`);
  }

  /** Remember the attached session (see reattachRemembered). */
  rememberAttached(): void {
    const s = this.model.attachedSession();
    const prev = this.context.workspaceState.get<{ id: number; name: string; profile: string | null }>(ATTACHED_KEY);
    if (s?.name && (prev?.id !== s.id || prev.name !== s.name || prev.profile !== (s.profile ?? null))) {
      void this.context.workspaceState.update(ATTACHED_KEY, { id: s.id, name: s.name, profile: s.profile ?? null });
    }
  }

  /** Tell the daemon about changed settings (those it takes without a restart). */
  async configurationChanged(): Promise<void> {
    if (this.client && this.state === 'running') {
      await this.client.sendNotification('workspace/didChangeConfiguration', { settings: daemonSettings(readSettings()) });
    }
  }

  async restart(): Promise<LivyApi> {
    await this.stop();
    return this.ensure();
  }

  async stop(keepState = false): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.api = undefined;
    for (const d of this.disposables.splice(0)) {
      d.dispose();
    }
    if (client) {
      try {
        if (client.isRunning()) {
          await client.stop(5000);
        } else {
          await client.dispose(2000);
        }
      } catch (e) {
        this.log.warn(`stopping livyd: ${describeError(e)}`);
      }
    }
    if (!keepState) {
      this.setState('stopped');
    }
  }

  dispose(): void {
    void this.stop();
    this.stateEmitter.dispose();
  }
}
