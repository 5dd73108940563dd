/**
 * One output channel per session: each statement's code header, its result, how long it took,
 * and error tracebacks whose `<stdin>` frames are printed as `path:line` links to the source.
 * Session and batch log lines go to a separate "log" channel per session or batch.
 */
import * as vscode from 'vscode';
import { type Key, type LivyModel, type TaskRecord, keyOf } from '../model';
import { dataText, imageOf, statusLine, tableOf, tableText, tracebackLocations } from '../render';
import type { ProgressNotification, SessionInfo } from '../protocol.generated';
import { jobLine, jobsOf } from '../spark';

function sessionTitle(profile: string | null, id: number): string {
  return `Livy: session ${id}${profile ? ` (${profile})` : ''}`;
}

export class SessionOutputs implements vscode.Disposable {
  private readonly channels = new Map<Key, vscode.OutputChannel>();
  private readonly logChannels = new Map<Key, vscode.OutputChannel>();
  private readonly headerWritten = new Set<string>();
  private readonly subscriptions: { dispose(): unknown }[] = [];

  constructor(
    model: LivyModel,
    private readonly showTable: (record: TaskRecord) => void,
    private readonly showImage: (record: TaskRecord) => void,
    private readonly reveal: () => 'always' | 'onError' | 'never',
  ) {
    this.subscriptions.push(
      model.onTask((t) => this.taskChanged(t)),
      model.onOutput((t) => this.output(t)),
      model.onProgress(({ record, event }) => this.progress(record, event)),
      model.onLog((e) => {
        const ch = this.logChannel(e.key, e.kind);
        for (const line of e.notification.lines) {
          ch.appendLine(line);
        }
      }),
    );
  }

  channel(profile: string | null, sessionId: number): vscode.OutputChannel {
    const key = keyOf(profile, sessionId);
    let ch = this.channels.get(key);
    if (!ch) {
      ch = vscode.window.createOutputChannel(sessionTitle(profile, sessionId), 'log');
      this.channels.set(key, ch);
    }
    return ch;
  }

  logChannel(key: Key, kind: 'session' | 'batch'): vscode.OutputChannel {
    let ch = this.logChannels.get(key);
    if (!ch) {
      const [profile, id] = key.split('#');
      ch = vscode.window.createOutputChannel(`Livy log: ${kind} ${id}${profile ? ` (${profile})` : ''}`);
      this.logChannels.set(key, ch);
    }
    return ch;
  }

  show(session: SessionInfo): void {
    this.channel(session.profile ?? null, session.id).show(true);
  }

  /** The code header, written when this window sends a statement. */
  submitted(t: TaskRecord): void {
    const ch = this.channel(t.profile, t.sessionId);
    this.writeHeader(ch, t);
    if (this.reveal() === 'always') {
      ch.show(true);
    }
  }

  private writeHeader(ch: vscode.OutputChannel, t: TaskRecord): void {
    if (this.headerWritten.has(t.taskId)) {
      return;
    }
    this.headerWritten.add(t.taskId);
    const when = new Date(t.seenAt).toLocaleTimeString();
    const where = t.uri ? ` ${vscode.Uri.parse(t.uri).fsPath}${t.range ? `:${t.range.start.line + 1}` : ''}` : '';
    ch.appendLine(`──── ${when} task ${t.taskId}${where}`);
    const code = t.code ?? t.codePreview;
    for (const line of code.split(/\r?\n/)) {
      ch.appendLine(`>>> ${line}`);
    }
  }

  private taskChanged(t: TaskRecord): void {
    if (t.state === 'failed' && t.message && !t.output) {
      this.channel(t.profile, t.sessionId).appendLine(`✗ task ${t.taskId} failed: ${t.message}`);
    }
    if (t.mayStillRun) {
      this.channel(t.profile, t.sessionId).appendLine(
        '! Livy marked the statement cancelled but its code may still be running. Livy: Restart Session stops it for sure.');
    }
  }

  /**
   * livy/progress: a warning goes into the session's output, and the first of each kind per
   * statement also into a message (with the Spark UI page it names); the Spark UI's address once.
   */
  private progress(t: TaskRecord, n: ProgressNotification): void {
    if (n.kind === 'spark_ui' && n.url) {
      this.channel(t.profile, t.sessionId).appendLine(`Spark UI${n.appId ? ` of ${n.appId}` : ''}: ${n.url}`);
      return;
    }
    if (n.kind !== 'warning') {
      return;
    }
    const ch = this.channel(t.profile, t.sessionId);
    ch.appendLine(`! ${n.message}${n.url && !n.message.includes(n.url) ? `  ${n.url}` : ''}`);
    const code = n.code ?? 'warning';
    if (!t.spark || t.spark.warned.includes(code)) {
      return;
    }
    t.spark.warned.push(code);
    const actions = n.url ? ['Open Spark UI', 'Show Output'] : ['Show Output'];
    void vscode.window.showWarningMessage(`Livy: statement ${t.statementId ?? ''} in session ${t.sessionId}: ${n.message}`, ...actions).then((choice) => {
      if (choice === 'Open Spark UI' && n.url) {
        void vscode.env.openExternal(vscode.Uri.parse(n.url));
      } else if (choice === 'Show Output') {
        ch.show(true);
      }
    });
  }

  private output(t: TaskRecord): void {
    const o = t.output;
    if (!o) {
      return;
    }
    const ch = this.channel(t.profile, t.sessionId);
    this.writeHeader(ch, t);
    const table = tableOf(o.data);
    const text = dataText(o.data);
    if (table) {
      ch.appendLine(tableText(table));
      this.showTable(t);
    } else if (text) {
      ch.appendLine(text.replace(/\n$/, ''));
    }
    if (imageOf(o.data)) {
      ch.appendLine('[image: shown in the Livy image panel]');
      this.showImage(t);
    }
    if (o.status === 'error') {
      const summary = `${o.ename ?? 'Error'}: ${o.evalue ?? ''}`;
      const tb = o.traceback ?? [];
      if (!tb.length || !tb[tb.length - 1].startsWith(summary)) {
        ch.appendLine(summary);
      }
      const locs = new Map(tracebackLocations(o.traceback, t.range).map((l) => [l.index, l.documentLine]));
      const path = t.uri ? vscode.Uri.parse(t.uri).fsPath : undefined;
      (o.traceback ?? []).forEach((line, i) => {
        ch.appendLine(line.replace(/\n$/, ''));
        const docLine = locs.get(i);
        if (docLine !== undefined && path) {
          ch.appendLine(`    at ${path}:${docLine + 1}`);
        }
      });
      // The line the daemon's diagnostic marks (protocol 1.2), as a link.
      const errorLine = o.errorRange?.start.line;
      if (errorLine !== undefined && path) {
        ch.appendLine(`error at ${path}:${errorLine + 1}`);
      }
    }
    if (t.message && o.status === 'failed') {
      ch.appendLine(t.message);
    }
    if (o.truncated) {
      ch.appendLine(`(output truncated; the whole output is in ${o.fullOutputPath ?? 'the daemon\'s output log'})`);
    }
    // One line per Spark job of the statement, with its Spark UI page (livy/progress).
    for (const j of jobsOf(t.spark)) {
      ch.appendLine(jobLine(j));
    }
    ch.appendLine(statusLine(o));
    const reveal = this.reveal();
    if (reveal === 'always' || (reveal === 'onError' && o.status !== 'ok')) {
      ch.show(true);
    }
  }

  dispose(): void {
    for (const s of this.subscriptions) {
      s.dispose();
    }
    for (const ch of [...this.channels.values(), ...this.logChannels.values()]) {
      ch.dispose();
    }
  }
}
