/**
 * The notebook side: a controller ("Livy: <profile>") that runs cells of .ipynb notebooks (and of
 * `# %%` Python files reopened as "Livy percent notebook") through the daemon, with cancel and native
 * outputs; and the serializer for the percent format.
 */
import * as vscode from 'vscode';
import { joinCells, splitCells } from './cells';
import type { LivyModel, TaskRecord } from './model';
import type { OutputNotification } from './protocol.generated';
import { MIME_JSON, MIME_PNG, MIME_TABLE, MIME_TEXT, cellText, tableOf } from './render';

export const NOTEBOOK_TYPES = ['jupyter-notebook', 'livy-percent'];

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]!));
}

/** Native notebook output items for a livy/output (text, JSON, tables as HTML + text, images, errors). */
export function notebookItems(o: OutputNotification): vscode.NotebookCellOutputItem[] {
  const items: vscode.NotebookCellOutputItem[] = [];
  const data = o.data ?? {};
  if (o.status === 'error') {
    const err = new Error(o.evalue ?? '');
    err.name = o.ename ?? 'Error';
    err.stack = (o.traceback ?? []).join('').trimEnd() || `${err.name}: ${err.message}`;
    items.push(vscode.NotebookCellOutputItem.error(err));
    return items;
  }
  if (o.status === 'cancelled' || o.status === 'failed') {
    items.push(vscode.NotebookCellOutputItem.stderr(o.status === 'cancelled' ? 'Cancelled.\n' : `Failed: ${cellText(data[MIME_TEXT]) || 'livyd could not run the statement'}\n`));
    return items;
  }
  const table = tableOf(data);
  if (table) {
    const head = table.columns.map((c) => `<th>${escapeHtml(c.name)}</th>`).join('');
    const rows = table.rows.slice(0, 1000).map((r) => `<tr>${table.columns.map((_, i) => `<td>${escapeHtml(cellText(r[i]))}</td>`).join('')}</tr>`).join('');
    items.push(vscode.NotebookCellOutputItem.text(`<table><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table>`, 'text/html'));
    items.push(vscode.NotebookCellOutputItem.json(data[MIME_TABLE], MIME_TABLE));
  }
  if (typeof data[MIME_PNG] === 'string') {
    items.push(new vscode.NotebookCellOutputItem(Buffer.from(data[MIME_PNG], 'base64'), MIME_PNG));
  }
  if (MIME_JSON in data) {
    items.push(vscode.NotebookCellOutputItem.json(data[MIME_JSON], MIME_JSON));
  }
  if (typeof data[MIME_TEXT] === 'string') {
    items.push(vscode.NotebookCellOutputItem.text(data[MIME_TEXT]));
  }
  if (o.truncated) {
    items.push(vscode.NotebookCellOutputItem.stderr(`Output truncated; the whole output is in ${o.fullOutputPath ?? 'the daemon output log'}.\n`));
  }
  return items;
}

/** Resolves with the task's output (at once if it already arrived). */
export function waitForOutput(model: LivyModel, taskId: string): Promise<TaskRecord> {
  return new Promise((resolve) => {
    const existing = model.tasks.get(taskId);
    if (existing?.output) {
      resolve(existing);
      return;
    }
    const sub = model.onOutput((t) => {
      if (t.taskId === taskId) {
        sub.dispose();
        resolve(t);
      }
    });
  });
}

export interface Runner {
  /** Send a cell's code; resolves with the task (the output arrives later through the model). */
  execute(cell: vscode.TextDocument): Promise<TaskRecord>;
  cancel(taskId: string): Promise<void>;
  profileLabel(): string;
}

export class LivyNotebooks implements vscode.Disposable {
  private readonly controllers: vscode.NotebookController[] = [];
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly model: LivyModel, private readonly runner: Runner) {
    for (const type of NOTEBOOK_TYPES) {
      const c = vscode.notebooks.createNotebookController(`livy-${type}`, type, `Livy: ${runner.profileLabel()}`);
      c.supportedLanguages = ['python'];
      c.supportsExecutionOrder = true;
      c.description = 'Runs cells on a Livy session through livyd';
      c.executeHandler = (cells, notebook, ctl) => this.execute(cells, notebook, ctl);
      this.controllers.push(c);
      this.disposables.push(c);
    }
    this.disposables.push(vscode.workspace.registerNotebookSerializer('livy-percent', new PercentSerializer()));
    // Offer Livy first for every notebook opened while the extension runs.
    const prefer = (nb: vscode.NotebookDocument) => {
      for (const c of this.controllers) {
        if (c.notebookType === nb.notebookType) {
          c.updateNotebookAffinity(nb, vscode.NotebookControllerAffinity.Preferred);
        }
      }
    };
    vscode.workspace.notebookDocuments.forEach(prefer);
    this.disposables.push(vscode.workspace.onDidOpenNotebookDocument(prefer));
  }

  /** Show the active profile in the kernel picker. */
  relabel(): void {
    for (const c of this.controllers) {
      c.label = `Livy: ${this.runner.profileLabel()}`;
    }
  }

  private order = 0;

  private async execute(cells: vscode.NotebookCell[], notebook: vscode.NotebookDocument, ctl: vscode.NotebookController): Promise<void> {
    for (const cell of cells) {
      const exec = ctl.createNotebookCellExecution(cell);
      exec.executionOrder = ++this.order;
      exec.start(Date.now());
      await exec.clearOutput();
      let taskId: string | undefined;
      let cancelled = false;
      const cancelSub = exec.token.onCancellationRequested(() => {
        cancelled = true;
        if (taskId) {
          void this.runner.cancel(taskId);
        }
      });
      try {
        const task = await this.runner.execute(cell.document);
        taskId = task.taskId;
        if (cancelled) {
          void this.runner.cancel(taskId);
        }
        const done = await waitForOutput(this.model, task.taskId);
        const o = done.output!;
        await exec.replaceOutput(new vscode.NotebookCellOutput(notebookItems(o), { taskId: o.taskId, sessionId: o.sessionId, statementId: o.statementId }));
        exec.end(o.status === 'ok', Date.now());
        if (o.status === 'cancelled') {
          break; // like Jupyter: a cancelled run stops the cells queued after it
        }
      } catch (e) {
        await exec.replaceOutput(new vscode.NotebookCellOutput([vscode.NotebookCellOutputItem.error(e instanceof Error ? e : new Error(String(e)))]));
        exec.end(false, Date.now());
        break;
      } finally {
        cancelSub.dispose();
      }
    }
    void notebook;
  }

  dispose(): void {
    for (const d of this.disposables) {
      d.dispose();
    }
  }
}

/** `# %%` Python files as notebooks (Reopen Editor With... > Livy percent notebook). */
export class PercentSerializer implements vscode.NotebookSerializer {
  deserializeNotebook(content: Uint8Array): vscode.NotebookData {
    const cells = splitCells(Buffer.from(content).toString('utf8')).map((c) => {
      const cell = new vscode.NotebookCellData(vscode.NotebookCellKind.Code, c.code, 'python');
      cell.metadata = { title: c.title };
      return cell;
    });
    return new vscode.NotebookData(cells);
  }

  serializeNotebook(data: vscode.NotebookData): Uint8Array {
    return Buffer.from(joinCells(data.cells.map((c) => ({ title: (c.metadata?.title as string | null | undefined) ?? null, code: c.value }))), 'utf8');
  }
}
