/**
 * The status bar item (profile, attached session and its state, running statements) and the
 * cancellable progress notification of each statement this window started.
 */
import * as vscode from 'vscode';
import type { DaemonState } from '../daemon';
import { type LivyModel, type TaskRecord, isActive } from '../model';
import { describeTask, progressText } from '../spark';

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('livy.status', vscode.StatusBarAlignment.Left, 50);
  private readonly sub: { dispose(): unknown };
  daemonState: DaemonState = 'stopped';

  constructor(private readonly model: LivyModel, private readonly profile: () => string) {
    this.item.name = 'Livy';
    this.item.command = 'livy.attachSession';
    this.sub = model.onDidChange(() => this.update());
    this.update();
    this.item.show();
  }

  update(): void {
    const profile = this.model.activeProfile ?? (this.profile() || 'default');
    const s = this.model.attachedSession();
    const active = this.model.activeTasks();
    const running = active.length;
    if (this.daemonState === 'failed') {
      this.item.text = '$(error) Livy: daemon failed';
      this.item.tooltip = 'livyd did not start: see Livy: Show Daemon Log. Click to retry.';
      this.item.command = 'livy.restartDaemon';
      return;
    }
    this.item.command = 'livy.attachSession';
    const icon = running ? '$(sync~spin)' : this.daemonState === 'starting' ? '$(loading~spin)' : '$(zap)';
    const session = s ? ` · session ${s.id} ${s.state}` : this.daemonState === 'running' ? ' · no session' : '';
    // The newest running statement's Spark job and stage (livy/progress), kept short.
    const newest = [...active].reverse().find((t) => t.state === 'running');
    const spark = newest ? progressText(newest.spark, Date.now()) : undefined;
    const short = spark && spark.length > 48 ? `${spark.slice(0, 47)}…` : spark;
    this.item.text = `${icon} Livy: ${profile}${session}${running ? ` · ${running} running` : ''}${short ? ` · ${short}` : ''}`;
    this.item.tooltip = `Livy profile ${profile}${s ? `, session ${s.id} (${s.state})` : ''}${spark ? `; ${spark}` : ''}. Click to attach to another session.`;
  }

  dispose(): void {
    this.sub.dispose();
    this.item.dispose();
  }
}

/**
 * A notification with a Cancel button for a statement, until its output arrives. `cancel` sends
 * livy/cancel for the task.
 */
export function showTaskProgress(model: LivyModel, record: TaskRecord, cancel: (taskId: string) => Promise<void>, delayMs = 500): void {
  // Statements that finish at once get no notification (it would only flash; and a progress
  // notification resolved while VS Code was still opening it was seen to stay on screen).
  setTimeout(() => {
    if (!record.output && isActive(record.state)) {
      openTaskProgress(model, record, cancel);
    }
  }, delayMs);
}

function openTaskProgress(model: LivyModel, record: TaskRecord, cancel: (taskId: string) => Promise<void>): void {
  void vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Livy: session ${record.sessionId}`, cancellable: true },
    (progress, token) => new Promise<void>((resolve) => {
      let reported = 0;
      const report = (increment?: number) => progress.report({ message: describeTask(model.tasks.get(record.taskId) ?? record), increment });
      report();
      // A phase's elapsed time goes on between events: say it again every second.
      const ticker = setInterval(() => report(), 1000);
      const subs = [
        model.onTask((t) => {
          if (t.taskId !== record.taskId) {
            return;
          }
          const pct = Math.round(t.progress * 100);
          report(pct > reported ? pct - reported : undefined);
          reported = Math.max(reported, pct);
          if (!isActive(t.state)) {
            done();
          }
        }),
        model.onProgress(({ record: t }) => { if (t.taskId === record.taskId) { report(); } }),
        model.onOutput((t) => { if (t.taskId === record.taskId) { done(); } }),
        token.onCancellationRequested(() => { void cancel(record.taskId); }),
        { dispose: () => clearInterval(ticker) },
      ];
      function done() {
        for (const s of subs) {
          s.dispose();
        }
        resolve();
      }
      if (record.output) {
        done();
      }
    }));
}
