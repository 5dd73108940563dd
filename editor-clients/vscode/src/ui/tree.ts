/**
 * The Sessions view: each session the daemon knows (attached first), its statement history
 * (code preview, state, when, duration), and the batches; context actions come from package.json
 * by contextValue.
 */
import * as vscode from 'vscode';
import { type Key, type LivyModel, type TaskRecord, isActive, keyOf } from '../model';
import type { BatchInfo, SessionInfo } from '../protocol.generated';
import { formatElapsed } from '../render';
import { jobsOf, progressText } from '../spark';

export type Node =
  | { type: 'session'; key: Key; session: SessionInfo }
  | { type: 'task'; task: TaskRecord }
  | { type: 'batches' }
  | { type: 'batch'; key: Key; batch: BatchInfo };

const STATE_ICON: Record<string, string> = {
  idle: 'pass', busy: 'sync~spin', starting: 'loading~spin', error: 'error', dead: 'circle-slash',
  killed: 'circle-slash', shutting_down: 'loading~spin', not_started: 'circle-outline', success: 'pass',
  running: 'sync~spin', available: 'pass', queued: 'clock', waiting: 'clock', cancelling: 'loading~spin',
  cancelled: 'circle-slash', failed: 'error',
};

function links(x: { sparkUiUrl?: string | null; driverLogUrl?: string | null }): string {
  return `${x.sparkUiUrl ? '.sparkui' : ''}${x.driverLogUrl ? '.driverlog' : ''}`;
}

export class SessionsTree implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly sub: { dispose(): unknown };
  private pending: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly model: LivyModel) {
    this.sub = model.onDidChange(() => {
      // Progress notifications come in bursts: redraw at most every 200 ms.
      if (!this.pending) {
        this.pending = setTimeout(() => { this.pending = undefined; this.emitter.fire(undefined); }, 200);
      }
    });
  }

  getChildren(node?: Node): Node[] {
    if (!node) {
      const sessions = [...this.model.sessions.entries()]
        .sort(([ka, a], [kb, b]) => Number(kb === this.model.attached) - Number(ka === this.model.attached) || b.id - a.id)
        .map(([key, session]) => ({ type: 'session' as const, key, session }));
      return this.model.batches.size ? [...sessions, { type: 'batches' }] : sessions;
    }
    if (node.type === 'session') {
      return this.model.tasksOf(node.key).reverse().map((task) => ({ type: 'task' as const, task }));
    }
    if (node.type === 'batches') {
      return [...this.model.batches.entries()].sort(([, a], [, b]) => b.id - a.id).map(([key, batch]) => ({ type: 'batch' as const, key, batch }));
    }
    return [];
  }

  getTreeItem(node: Node): vscode.TreeItem {
    switch (node.type) {
      case 'session': {
        const s = node.session;
        const attached = this.model.attached === node.key;
        const item = new vscode.TreeItem(`Session ${s.id}${s.name ? ` ${s.name}` : ''}`, vscode.TreeItemCollapsibleState.Expanded);
        item.description = [s.state, s.kind, s.profile, attached ? 'attached' : '', s.owned === false ? 'not mine' : ''].filter(Boolean).join(' · ');
        item.iconPath = new vscode.ThemeIcon(attached ? 'plug' : (STATE_ICON[s.state] ?? 'circle-outline'));
        item.contextValue = `session${links(s)}`;
        item.tooltip = new vscode.MarkdownString([
          `**Session ${s.id}** (${s.state})`, s.profile ? `profile: ${s.profile}` : '', s.appId ? `YARN app: ${s.appId}` : '',
          s.owner ? `owner: ${s.owner}` : '', s.proxyUser ? `proxy user: ${s.proxyUser}` : '',
          s.sparkUiUrl ? `[Spark UI](${s.sparkUiUrl})` : '', s.driverLogUrl ? `[Driver log](${s.driverLogUrl})` : '',
        ].filter(Boolean).join('\n\n'));
        item.id = `session:${node.key}`;
        return item;
      }
      case 'task': {
        const t = node.task;
        const item = new vscode.TreeItem(t.codePreview || `task ${t.taskId}`, vscode.TreeItemCollapsibleState.None);
        const duration = t.output?.elapsedMs ?? (t.finishedAt ? t.finishedAt - t.seenAt : null);
        const state = t.output?.status === 'error' ? `error: ${t.output.ename ?? ''}` : t.state;
        const spark = t.state === 'running' ? progressText(t.spark, Date.now()) : undefined;
        const progress = spark ? `: ${spark}` : t.state === 'running' && t.progress > 0 ? ` ${Math.round(t.progress * 100)}%` : '';
        item.description = [state + progress, new Date(t.seenAt).toLocaleTimeString(), formatElapsed(duration)].filter(Boolean).join(' · ');
        item.iconPath = new vscode.ThemeIcon(t.output?.status === 'error' ? 'error' : (STATE_ICON[t.state] ?? 'circle-outline'));
        item.contextValue = isActive(t.state) ? 'task.active' : 'task.done';
        const tip = new vscode.MarkdownString().appendCodeblock((t.code ?? t.codePreview).slice(0, 2000), 'python');
        // Its Spark jobs, each linked to its Spark UI page (livy/progress).
        const jobs = jobsOf(t.spark);
        if (jobs.length) {
          tip.appendMarkdown(jobs.map((j) => `${j.url ? `[job ${j.jobId}](${j.url})` : `job ${j.jobId}`}: ${j.status?.toLowerCase() ?? ''}${j.name ? ` · ${j.name.replace(/[[\]<>*_`]/g, '')}` : ''}`).join('  \n'));
        }
        item.tooltip = tip;
        item.command = { command: 'livy.openStatement', title: 'Open Code and Output', arguments: [node] };
        item.id = `task:${t.taskId}`;
        return item;
      }
      case 'batches': {
        const item = new vscode.TreeItem('Batches', vscode.TreeItemCollapsibleState.Collapsed);
        item.iconPath = new vscode.ThemeIcon('rocket');
        item.id = 'batches';
        return item;
      }
      case 'batch': {
        const b = node.batch;
        const item = new vscode.TreeItem(`Batch ${b.id}${b.name ? ` ${b.name}` : ''}`, vscode.TreeItemCollapsibleState.None);
        item.description = [b.state, b.profile, b.appId].filter(Boolean).join(' · ');
        item.iconPath = new vscode.ThemeIcon(STATE_ICON[b.state] ?? 'circle-outline');
        item.contextValue = `batch${links(b)}`;
        item.id = `batch:${node.key}`;
        return item;
      }
    }
  }

  dispose(): void {
    this.sub.dispose();
    this.emitter.dispose();
    if (this.pending) {
      clearTimeout(this.pending);
    }
  }
}

export { keyOf };
