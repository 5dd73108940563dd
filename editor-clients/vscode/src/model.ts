/**
 * What the extension knows about sessions, statement tasks and batches: a plain store fed by the
 * daemon's results and notifications. No vscode import, so unit tests drive it directly. It never
 * decides anything about Livy (states, polling, retries are the daemon's); it only remembers what
 * the daemon said, keyed so that session 0 of one profile is not session 0 of another.
 */
import type {
  BatchInfo, ExecuteParams, ExecuteResult, LogNotification, OutputNotification, ProgressNotification,
  SessionInfo, StatementResult, StatusResult, TaskChangedNotification, TaskInfo, TaskState,
} from './protocol.generated';
import { type SparkView, applyEvent, emptyView } from './spark';

export type Key = string;

/** The key of a session or batch: its profile and Livy id (ids repeat across servers). */
export function keyOf(profile: string | null | undefined, id: number): Key {
  return `${profile ?? ''}#${id}`;
}

export interface TaskRecord {
  taskId: string;
  sessionId: number;
  profile: string | null;
  state: TaskState;
  statementId: number | null;
  progress: number;
  queuedBehind: number;
  message: string | null;
  mayStillRun: boolean;
  /** The code as sent (only for tasks this window started; else the daemon's preview). */
  code: string | null;
  codePreview: string;
  uri: string | null;
  range: ExecuteParams['range'];
  /** When this window learnt of the task (epoch ms). */
  seenAt: number;
  finishedAt: number | null;
  output: OutputNotification | null;
  /** What livy/progress said of its Spark phases, jobs and stages (protocol 1.3). */
  spark?: SparkView;
  /**
   * For a record restored from an earlier window: the name of the session it ran on. Livy numbers
   * sessions from 0 again after a restart, so it is shown only under a session of that name.
   */
  sessionName?: string | null;
}

const ACTIVE: ReadonlySet<TaskState> = new Set(['queued', 'waiting', 'running', 'cancelling']);

export function isActive(state: TaskState): boolean {
  return ACTIVE.has(state);
}

type Listener<T> = (value: T) => void;

class Emitter<T> {
  private readonly listeners = new Set<Listener<T>>();
  on(listener: Listener<T>): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }
  fire(value: T): void {
    for (const l of [...this.listeners]) {
      l(value);
    }
  }
}

export interface ProgressEvent {
  record: TaskRecord;
  event: ProgressNotification;
}

export interface LogEvent {
  key: Key;
  kind: 'session' | 'batch';
  notification: LogNotification;
}

export class LivyModel {
  readonly sessions = new Map<Key, SessionInfo>();
  readonly batches = new Map<Key, BatchInfo>();
  readonly tasks = new Map<string, TaskRecord>();
  attached: Key | undefined;
  activeProfile: string | null = null;

  private readonly changed = new Emitter<void>();
  private readonly taskEvents = new Emitter<TaskRecord>();
  private readonly outputs = new Emitter<TaskRecord>();
  private readonly logs = new Emitter<LogEvent>();
  private readonly progressEvents = new Emitter<ProgressEvent>();
  readonly onDidChange = (l: Listener<void>) => this.changed.on(l);
  readonly onTask = (l: Listener<TaskRecord>) => this.taskEvents.on(l);
  readonly onOutput = (l: Listener<TaskRecord>) => this.outputs.on(l);
  readonly onLog = (l: Listener<LogEvent>) => this.logs.on(l);
  readonly onProgress = (l: Listener<ProgressEvent>) => this.progressEvents.on(l);

  constructor(private readonly now: () => number = Date.now) {}

  attachedSession(): SessionInfo | undefined {
    return this.attached === undefined ? undefined : this.sessions.get(this.attached);
  }

  /** Tasks of one session, oldest first (restored ones only when the session's name matches). */
  tasksOf(key: Key): TaskRecord[] {
    const name = this.sessions.get(key)?.name ?? null;
    return [...this.tasks.values()]
      .filter((t) => keyOf(t.profile, t.sessionId) === key && (t.sessionName === undefined || (t.sessionName !== null && t.sessionName === name)))
      .sort((a, b) => a.seenAt - b.seenAt);
  }

  /** Finished tasks as plain records to keep across a window reload (bounded). */
  snapshot(limit = 100, maxText = 20_000): TaskRecord[] {
    const done = [...this.tasks.values()].filter((t) => !isActive(t.state) && (t.sessionName ?? this.sessions.get(keyOf(t.profile, t.sessionId))?.name));
    return done.slice(-limit).map((t) => ({
      ...t,
      sessionName: t.sessionName ?? this.sessions.get(keyOf(t.profile, t.sessionId))?.name ?? null,
      code: t.code && t.code.length > maxText ? null : t.code,
      // Of the Spark view only the jobs (their links) outlive the statement.
      spark: t.spark ? { ...emptyView(), jobs: t.spark.jobs } : undefined,
      output: t.output ? { ...t.output, data: slimData(t.output.data, maxText) } : null,
    }));
  }

  /** Records from an earlier window (see snapshot); the daemon's own knowledge wins. */
  restore(records: readonly TaskRecord[]): void {
    for (const r of records) {
      if (!this.tasks.has(r.taskId) && r.sessionName) {
        this.tasks.set(r.taskId, { ...r });
      }
    }
    this.changed.fire();
  }

  activeTasks(): TaskRecord[] {
    return [...this.tasks.values()].filter((t) => isActive(t.state));
  }

  applySession(session: SessionInfo): void {
    const key = keyOf(session.profile, session.id);
    this.sessions.set(key, session);
    if (session.attached) {
      this.attached = key;
    } else if (session.attached === false && this.attached === key) {
      this.attached = undefined;
    }
    this.changed.fire();
  }

  /** Replace what is known of the sessions (a livy/listSessions or livy/status answer). */
  replaceSessions(sessions: SessionInfo[]): void {
    this.sessions.clear();
    this.attached = undefined;
    for (const s of sessions) {
      const key = keyOf(s.profile, s.id);
      this.sessions.set(key, s);
      if (s.attached) {
        this.attached = key;
      }
    }
    this.changed.fire();
  }

  applyBatch(batch: BatchInfo): void {
    this.batches.set(keyOf(batch.profile, batch.id), batch);
    this.changed.fire();
  }

  replaceBatches(batches: BatchInfo[]): void {
    this.batches.clear();
    for (const b of batches) {
      this.batches.set(keyOf(b.profile, b.id), b);
    }
    this.changed.fire();
  }

  /** A task this window started: remember its code (the daemon only keeps a preview). */
  noteExecute(params: ExecuteParams, result: ExecuteResult): TaskRecord {
    const record = this.ensureTask(result.taskId, result.sessionId, result.profile ?? null);
    record.code = params.code;
    record.codePreview = preview(params.code);
    record.uri = params.uri ?? null;
    record.range = params.range ?? null;
    this.changed.fire();
    return record;
  }

  applyTaskInfo(info: TaskInfo): TaskRecord {
    const record = this.ensureTask(info.taskId, info.sessionId, info.profile ?? null);
    record.state = info.state;
    record.statementId = info.statementId ?? record.statementId;
    record.progress = info.progress ?? record.progress;
    record.queuedBehind = info.queuedBehind ?? 0;
    record.mayStillRun = info.mayStillRun ?? false;
    if (info.codePreview && !record.code) {
      record.codePreview = info.codePreview;
    }
    record.uri = record.uri ?? info.uri ?? null;
    record.range = record.range ?? info.range ?? null;
    if (!isActive(info.state) && record.finishedAt === null) {
      record.finishedAt = this.now();
    }
    this.changed.fire();
    return record;
  }

  applyTaskChanged(n: TaskChangedNotification): TaskRecord {
    const record = this.ensureTask(n.taskId, n.sessionId, n.profile ?? null);
    record.state = n.state;
    record.statementId = n.statementId ?? record.statementId;
    record.progress = n.progress ?? record.progress;
    record.queuedBehind = n.queuedBehind ?? 0;
    record.message = n.message ?? record.message;
    record.mayStillRun = n.mayStillRun ?? record.mayStillRun;
    if (!isActive(n.state) && record.finishedAt === null) {
      record.finishedAt = this.now();
    }
    this.taskEvents.fire(record);
    this.changed.fire();
    return record;
  }

  applyOutput(n: OutputNotification): TaskRecord {
    const record = this.ensureTask(n.taskId, n.sessionId, n.profile ?? null);
    record.output = n;
    record.statementId = n.statementId ?? record.statementId;
    record.uri = record.uri ?? n.uri ?? null;
    record.range = record.range ?? n.range ?? null;
    if (record.finishedAt === null) {
      record.finishedAt = this.now();
    }
    if (isActive(record.state)) {
      // livy/output is final whatever taskChanged said last.
      record.state = n.status === 'ok' || n.status === 'error' ? 'available' : n.status === 'cancelled' ? 'cancelled' : 'failed';
    }
    this.outputs.fire(record);
    this.changed.fire();
    return record;
  }

  /** A livy/progress event (protocol 1.3): kept in the task's Spark view. */
  applyProgress(n: ProgressNotification): TaskRecord {
    const record = this.ensureTask(n.taskId, n.sessionId, n.profile ?? null);
    record.statementId = n.statementId ?? record.statementId;
    record.spark = applyEvent(record.spark ?? emptyView(), n, this.now());
    this.progressEvents.fire({ record, event: n });
    this.changed.fire();
    return record;
  }

  applyLog(n: LogNotification): LogEvent | undefined {
    let event: LogEvent | undefined;
    if (n.batchId !== null && n.batchId !== undefined) {
      event = { key: keyOf(n.profile, n.batchId), kind: 'batch', notification: n };
    } else if (n.sessionId !== null && n.sessionId !== undefined) {
      event = { key: keyOf(n.profile, n.sessionId), kind: 'session', notification: n };
    }
    if (event) {
      this.logs.fire(event);
    }
    return event;
  }

  /**
   * A past statement in full (livy/statement, protocol 1.2): its whole code, and its output when
   * this window missed the livy/output. Returns the task record when it is one of the daemon's.
   */
  applyStatement(r: StatementResult): TaskRecord | undefined {
    if (!r.taskId) {
      return undefined;
    }
    const record = this.ensureTask(r.taskId, r.sessionId, r.profile ?? null);
    record.code = r.code;
    record.codePreview = record.codePreview || preview(r.code);
    record.statementId = r.statementId ?? record.statementId;
    record.uri = record.uri ?? r.uri ?? null;
    record.range = record.range ?? r.range ?? null;
    if (r.output && !record.output) {
      record.output = {
        taskId: r.taskId, sessionId: r.sessionId, statementId: r.statementId ?? null, profile: r.profile ?? null,
        uri: record.uri, range: record.range,
        elapsedMs: r.started && r.completed ? r.completed - r.started : null,
        ...r.output,
      };
    }
    this.changed.fire();
    return record;
  }

  applyStatus(status: StatusResult): void {
    this.activeProfile = status.activeProfile;
    for (const t of status.tasks) {
      this.applyTaskInfo(t);
    }
    this.replaceSessions(status.sessions);
  }

  private ensureTask(taskId: string, sessionId: number, profile: string | null): TaskRecord {
    let record = this.tasks.get(taskId);
    if (!record) {
      record = {
        taskId, sessionId, profile, state: 'queued', statementId: null, progress: 0, queuedBehind: 0,
        message: null, mayStillRun: false, code: null, codePreview: '', uri: null, range: null,
        seenAt: this.now(), finishedAt: null, output: null,
      };
      this.tasks.set(taskId, record);
    } else if (record.profile === null && profile !== null) {
      record.profile = profile;
    }
    return record;
  }
}

/** An output's mime bundle without values too big to keep (images, big tables); text cut. */
function slimData(data: Record<string, unknown> | undefined, maxText: number): Record<string, unknown> | undefined {
  if (!data) {
    return data;
  }
  const out: Record<string, unknown> = {};
  for (const [mime, v] of Object.entries(data)) {
    if (typeof v === 'string' && mime.startsWith('text/')) {
      out[mime] = v.length > maxText ? `${v.slice(0, maxText)}\n[cut: the whole output is in the session's output channel of the earlier window]` : v;
    } else if (JSON.stringify(v).length <= maxText) {
      out[mime] = v;
    }
  }
  return out;
}

/** The first non-blank line of some code, at most 80 characters. */
export function preview(code: string): string {
  const line = code.split(/\r?\n/).find((l) => l.trim() !== '') ?? '';
  const t = line.trim();
  return t.length > 80 ? `${t.slice(0, 79)}…` : t;
}
