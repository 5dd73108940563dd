/**
 * The extension's side of the livyd protocol, over any JSON-RPC connection: vscode-languageclient's
 * LanguageClient in the editor, a bare vscode-jsonrpc MessageConnection in tests. Typed requests
 * (types generated from livyd/protocol), the notification wiring into the model, the
 * initializationOptions built from settings, and the protocol-version check. No vscode import.
 */
import {
  type DaemonSettings, type InitializationOptions, type LivydCapabilities, type LivydNotifications,
  type LivydRequests, NOTIFICATIONS, PROTOCOL_VERSION,
} from './protocol.generated';
import { type LivyModel, keyOf } from './model';

export interface CancellationLike {
  readonly isCancellationRequested: boolean;
  onCancellationRequested: (listener: () => unknown) => { dispose(): unknown };
}

/** What both LanguageClient and MessageConnection provide. */
export interface Rpc {
  sendRequest<R>(method: string, params: unknown, token?: CancellationLike): Promise<R>;
  onNotification(method: string, handler: (params: never) => void): { dispose(): unknown };
}

export type Method = keyof LivydRequests;

export type ResultHandlers = { [M in Method]: (result: LivydRequests[M]['result'], params: LivydRequests[M]['params']) => void };

/** What the model learns from each request's result (the table the tests feed examples through). */
export function resultHandlers(model: LivyModel): ResultHandlers {
  const none = () => undefined;
  return {
    'livy/createSession': (r) => model.applySession(r.session),
    'livy/listSessions': (r, p) => {
      // The server's list includes sessions of others; only the daemon's own are kept in the tree.
      for (const s of r.sessions) {
        if (s.owned || p.ownedOnly || model.sessions.has(keyOf(s.profile, s.id))) {
          model.applySession(s);
        }
      }
    },
    'livy/attachSession': (r) => model.applySession({ ...r.session, attached: true }),
    'livy/killSession': none,
    'livy/killAllSessions': none,
    'livy/sessionInfo': (r) => {
      model.applySession(r.session);
      r.tasks.forEach((t) => model.applyTaskInfo(t));
    },
    'livy/restartSession': (r) => model.applySession(r.session),
    'livy/execute': (r, p) => { model.noteExecute(p, r); },
    'livy/cancel': (r) => { model.applyTaskInfo(r.task); },
    'livy/listStatements': (r) => r.tasks.forEach((t) => model.applyTaskInfo(t)),
    'livy/statement': (r) => { model.applyStatement(r); },
    'livy/readLog': none,
    'livy/sparkLog': none,
    'livy/followLog': none,
    'livy/unfollowLog': none,
    'livy/submitBatch': (r) => model.applyBatch(r.batch),
    'livy/listBatches': (r) => model.replaceBatches(r.batches),
    'livy/batchInfo': (r) => model.applyBatch(r.batch),
    'livy/killBatch': none,
    'livy/readBatchLog': none,
    'livy/listProfiles': (r) => { model.activeProfile = r.active; },
    'livy/selectProfile': (r) => { model.activeProfile = r.active; },
    'livy/setCredentials': none,
    'livy/status': (r) => model.applyStatus(r),
    // The development loop (1.3) changes files and driver modules, not sessions or tasks: its
    // results are for the command that asked (src/devloop.ts puts them into words).
    'livy/deploy': none,
    'livy/reloadModule': none,
    'livy/hdfsList': none,
    'livy/hdfsUpload': none,
    'livy/hdfsDelete': none,
    'livy/buildStandalone': none,
  };
}

/** Typed requests; each result also updates the model (when one is given). */
export class LivyApi {
  private readonly handlers: ResultHandlers | undefined;

  constructor(private readonly rpc: Rpc, model?: LivyModel) {
    this.handlers = model ? resultHandlers(model) : undefined;
  }

  async request<M extends Method>(method: M, params: LivydRequests[M]['params'], token?: CancellationLike): Promise<LivydRequests[M]['result']> {
    const result = await this.rpc.sendRequest<LivydRequests[M]['result']>(method, params, token);
    (this.handlers?.[method] as ((r: unknown, p: unknown) => void) | undefined)?.(result, params);
    return result;
  }
}

export type NotificationHandlers = { [N in keyof LivydNotifications]: (params: LivydNotifications[N]) => void };

/** The model's handler for each livy/* notification (the table the tests feed examples through). */
export function modelHandlers(model: LivyModel): NotificationHandlers {
  return {
    'livy/sessionChanged': (p) => model.applySession(p.session),
    'livy/taskChanged': (p) => { model.applyTaskChanged(p); },
    'livy/output': (p) => { model.applyOutput(p); },
    'livy/log': (p) => { model.applyLog(p); },
    'livy/batchChanged': (p) => model.applyBatch(p.batch),
    'livy/progress': (p) => { model.applyProgress(p); },
  };
}

/** Register every livy/* notification of the protocol; returns the disposables. */
export function wireNotifications(rpc: Rpc, handlers: NotificationHandlers, onError: (method: string, e: unknown) => void): { dispose(): unknown }[] {
  return NOTIFICATIONS.map((method) =>
    rpc.onNotification(method, (params: never) => {
      try {
        (handlers[method] as (p: unknown) => void)(params);
      } catch (e) {
        onError(method, e);
      }
    }));
}

/** The livy.* settings the daemon sees (others stay in the extension). */
export interface LivySettings {
  profile: string;
  url: string;
  kind: string;
  pollInterval: number;
  idlePollInterval: number;
  maxOutputBytes: number;
  deleteSessionsOnExit: boolean;
  showTracebacks: boolean;
  /** '' : the profile's. */
  auth: string;
  caBundle: string;
}

export function daemonSettings(s: LivySettings): DaemonSettings {
  const out: DaemonSettings = {
    kind: s.kind,
    pollInterval: s.pollInterval,
    idlePollInterval: s.idlePollInterval,
    maxOutputBytes: s.maxOutputBytes,
    deleteSessionsOnExit: s.deleteSessionsOnExit,
    showTracebacks: s.showTracebacks,
  };
  if (s.url.trim()) {
    out.url = s.url.trim();
  }
  if (s.auth) {
    out.auth = s.auth as DaemonSettings['auth'];
  }
  if (s.caBundle.trim()) {
    out.caBundle = s.caBundle.trim();
  }
  return out;
}

export function initializationOptions(s: LivySettings, workspace: string | null): InitializationOptions {
  return { profile: s.profile.trim() || null, settings: daemonSettings(s), workspace };
}

/**
 * Read livyd's capabilities from an initialize result and refuse another protocol major version,
 * saying which side to upgrade. Returns the capabilities.
 */
export function checkCapabilities(initializeResult: unknown): LivydCapabilities {
  const caps = (initializeResult as { capabilities?: { experimental?: { livyd?: LivydCapabilities } } } | undefined)
    ?.capabilities?.experimental?.livyd;
  if (!caps || typeof caps.protocolVersion !== 'string') {
    throw new Error('The program started as livyd did not answer like livyd (no capabilities.experimental.livyd in its initialize result): check livy.daemonPath.');
  }
  const theirs = Number(caps.protocolVersion.split('.')[0]);
  const ours = Number(PROTOCOL_VERSION.split('.')[0]);
  if (theirs !== ours) {
    const upgrade = theirs > ours ? 'upgrade the extension' : 'upgrade livyd (pip install -U livyd)';
    throw new Error(`livyd ${caps.version} speaks protocol ${theirs}.x, this extension ${ours}.x: ${upgrade}.`);
  }
  return caps;
}

/** A JSON-RPC error's message and livyd code, for user-facing text. */
export function describeError(e: unknown): string {
  const err = e as { message?: unknown; code?: unknown; data?: { code?: unknown; field?: unknown } };
  const msg = typeof err?.message === 'string' ? err.message : String(e);
  return msg;
}

export function isCancelledError(e: unknown): boolean {
  return (e as { code?: unknown })?.code === -32800;
}
