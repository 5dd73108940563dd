/**
 * What a statement's livy/progress events (protocol 1.3) add up to, and how it reads: the
 * current phase with its elapsed time, then the active job and stage with task counts, the jobs'
 * Spark UI links, and the livy/sparkLog answer as text. Pure functions (no vscode import): the
 * daemon decides every event; this only keeps the latest of each and puts it into words.
 */
import type { TaskRecord } from './model';
import type { ProgressNotification, SparkLogResult } from './protocol.generated';

/** The latest event of one job or stage attempt, and when this window received it (ms). */
interface Seen {
  event: ProgressNotification;
  at: number;
  /** A phase: when this window first heard of it (the same phase again brings new facts only). */
  since?: number;
}

export interface SparkJob {
  jobId: number;
  name: string | null;
  status: string | null;
  numTasks: number | null;
  seconds: number | null;
  url: string | null;
}

/** A task's Spark view, kept on its TaskRecord. */
export interface SparkView {
  phase: Seen | null;
  jobs: Record<string, Seen>;
  stages: Record<string, Seen>;
  /** Livy's own number when the Spark UI cannot be read (kind livy_progress). */
  livy: Seen | null;
  sparkUiUrl: string | null;
  /** Warning codes already shown as a message (each once per statement). */
  warned: string[];
}

export function emptyView(): SparkView {
  return { phase: null, jobs: {}, stages: {}, livy: null, sparkUiUrl: null, warned: [] };
}

const stageKey = (n: ProgressNotification) => `${n.stageId ?? -1}.${n.attemptId ?? 0}`;

/** Keep the event in the view; returns the view. */
export function applyEvent(view: SparkView, n: ProgressNotification, now: number): SparkView {
  const seen = { event: n, at: now };
  switch (n.kind) {
    case 'phase':
      view.phase = { ...seen, since: view.phase && view.phase.event.phase === n.phase ? (view.phase.since ?? view.phase.at) : now };
      break;
    case 'job':
      if (n.jobId !== null && n.jobId !== undefined) {
        view.jobs[String(n.jobId)] = seen;
      }
      break;
    case 'stage':
      if (n.stageId !== null && n.stageId !== undefined) {
        view.stages[stageKey(n)] = seen;
      }
      break;
    case 'spark_ui':
      view.sparkUiUrl = n.url ?? view.sparkUiUrl;
      break;
    case 'livy_progress':
      view.livy = seen;
      break;
    case 'warning':
      break;
  }
  return view;
}

function counts(n: ProgressNotification): string {
  let s = `${n.completedTasks ?? 0}/${n.numTasks ?? 0} tasks`;
  if (n.activeTasks) {
    s += `, ${n.activeTasks} running`;
  }
  if (n.failedTasks) {
    s += `, ${n.failedTasks} failed`;
  }
  return s;
}

function seconds(s: number): string {
  return s < 60 ? `${Math.floor(s)} s` : `${Math.floor(s / 60)} min ${Math.floor(s % 60)} s`;
}

const newest = (a: Seen, b: Seen) => b.at - a.at || (b.event.elapsed - a.event.elapsed);

/**
 * One line for the progress notification: the active stage and its job with task counts
 * ("job 4 · stage 7: 12/40 tasks, 4 running"), else the running job, else the current phase
 * with how long it has lasted at `now` ("waiting in YARN for resources · 12 s"), followed by
 * Livy's number when the Spark UI cannot be read. Undefined when nothing was heard yet.
 */
export function progressText(view: SparkView | undefined, now: number): string | undefined {
  if (!view) {
    return undefined;
  }
  const active = Object.values(view.stages).filter((s) => s.event.status === 'ACTIVE').sort(newest);
  const running = Object.values(view.jobs).filter((j) => j.event.status === 'RUNNING').sort(newest);
  if (active.length) {
    const st = active[0].event;
    const jobs = st.jobIds?.length ? st.jobIds : running.map((j) => j.event.jobId!);
    const job = jobs.length ? `job ${jobs[jobs.length - 1]} · ` : '';
    const attempt = st.attemptId ? ` (attempt ${st.attemptId})` : '';
    const more = active.length > 1 ? ` (+${active.length - 1} more stage${active.length > 2 ? 's' : ''})` : '';
    return `${job}stage ${st.stageId}${attempt}: ${counts(st)}${more}`;
  }
  if (running.length) {
    const j = running[0].event;
    return `job ${j.jobId}: ${counts(j)}`;
  }
  // Without the Spark UI (kind livy_progress), Livy's number follows the phase.
  const livy = view.livy?.event.message;
  if (view.phase) {
    const p = view.phase.event;
    const detail = p.message.replace(/ \([a-z ]+ took [0-9.]+ s\)$/, '');
    const phase = `${detail} · ${seconds(Math.max(0, (now - (view.phase.since ?? view.phase.at)) / 1000))}`;
    return livy ? `${phase} · ${livy}` : phase;
  }
  return livy;
}

/**
 * What a statement is doing, in one line: queued, else what Spark does (livy/progress: the phase
 * and how long it has lasted, then the active job and stage with task counts), else Livy's number.
 */
export function describeTask(t: TaskRecord, now = Date.now()): string {
  if (t.state === 'queued') {
    return t.queuedBehind ? `queued behind ${t.queuedBehind}` : 'queued';
  }
  const spark = t.state === 'running' ? progressText(t.spark, now) : undefined;
  if (spark) {
    return `${spark}: ${t.codePreview}`;
  }
  if (t.state === 'running' && t.progress > 0) {
    return `running ${Math.round(t.progress * 100)}%: ${t.codePreview}`;
  }
  return `${t.state}: ${t.codePreview}`;
}

/** The statement's jobs, oldest first, with their Spark UI pages. */
export function jobsOf(view: SparkView | undefined): SparkJob[] {
  if (!view) {
    return [];
  }
  return Object.values(view.jobs).map(({ event: j }) => ({
    jobId: j.jobId!, name: j.name ?? null, status: j.status ?? null, numTasks: j.numTasks ?? null,
    seconds: j.seconds ?? null, url: j.url ?? null,
  })).sort((a, b) => a.jobId - b.jobId);
}

/** A job as one line for the output channel: "job 4 collect at <stdin>:1: succeeded, 6 tasks, 2 s  <url>". */
export function jobLine(j: SparkJob): string {
  const parts = [j.status?.toLowerCase() ?? '', j.numTasks !== null ? `${j.numTasks} tasks` : '', j.seconds !== null ? seconds(j.seconds) : '']
    .filter(Boolean).join(', ');
  return `job ${j.jobId}${j.name ? ` ${j.name}` : ''}: ${parts}${j.url ? `  ${j.url}` : ''}`;
}

/** A livy/sparkLog answer as one text: each log under a header naming it and where it was read. */
export function sparkLogText(r: SparkLogResult, sessionId: number): string {
  if (r.logs.length === 0) {
    return `# session ${sessionId}: no log was returned\n`;
  }
  return r.logs.map((l) => `# ${l.log} of session ${sessionId}: ${l.lines.length} lines from ${l.url}\n${l.lines.join('\n')}\n`).join('\n');
}
