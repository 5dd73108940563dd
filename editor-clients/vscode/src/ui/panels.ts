/**
 * Webview panels: a table grid (sort by a column, filter, copy the visible rows as CSV) and an
 * image viewer. The HTML is self-contained, with a nonce-locked Content-Security-Policy.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { TaskRecord } from '../model';
import { type Table, imageOf, tableOf, toCsv } from '../render';

function nonce(): string {
  return randomBytes(16).toString('base64');
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]!));
}

function title(t: TaskRecord): string {
  return `session ${t.sessionId}${t.statementId !== null ? ` · statement ${t.statementId}` : ''}`;
}

/** The grid's HTML for a table (also used by tests, without a webview). */
export function gridHtml(table: Table, heading: string, cspSource: string, n: string): string {
  const payload = JSON.stringify({ columns: table.columns, rows: table.rows }).replace(/</g, '\\u003c');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${cspSource} 'nonce-${n}'; script-src 'nonce-${n}';">
<style nonce="${n}">
body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 0 8px; }
.bar { position: sticky; top: 0; background: var(--vscode-editor-background); padding: 6px 0; display: flex; gap: 8px; align-items: center; }
input { flex: 1; background: var(--vscode-input-background); color: var(--vscode-input-foreground); border: 1px solid var(--vscode-input-border, transparent); padding: 3px 6px; }
button { background: var(--vscode-button-background); color: var(--vscode-button-foreground); border: none; padding: 4px 10px; cursor: pointer; }
table { border-collapse: collapse; font-family: var(--vscode-editor-font-family); font-size: var(--vscode-editor-font-size); }
th, td { border: 1px solid var(--vscode-panel-border, #8884); padding: 2px 8px; text-align: left; white-space: pre; }
th { cursor: pointer; position: sticky; top: 36px; background: var(--vscode-editorWidget-background); }
th .t { opacity: .6; font-weight: normal; margin-left: 4px; }
td.num { text-align: right; }
.count { opacity: .7; }
</style></head><body>
<h3>${escapeHtml(heading)}</h3>
<div class="bar"><input id="filter" placeholder="Filter rows (matches any column)" aria-label="Filter rows">
<span class="count" id="count"></span><button id="copy" title="Copy the visible rows as CSV">Copy CSV</button></div>
<table id="grid"><thead><tr id="head"></tr></thead><tbody id="body"></tbody></table>
<script nonce="${n}">
const vscode = acquireVsCodeApi();
const data = ${payload};
const MAX = 5000;
let sortCol = -1, sortDir = 1, visible = [];
const text = (v) => v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
const cmp = (a, b) => {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (a === null || a === undefined) return b === null || b === undefined ? 0 : -1;
  if (b === null || b === undefined) return 1;
  return text(a).localeCompare(text(b), undefined, { numeric: true });
};
function render() {
  const q = document.getElementById('filter').value.toLowerCase();
  visible = data.rows.map((r, i) => i).filter((i) => !q || data.rows[i].some((v) => text(v).toLowerCase().includes(q)));
  if (sortCol >= 0) visible.sort((x, y) => sortDir * cmp(data.rows[x][sortCol], data.rows[y][sortCol]));
  const head = document.getElementById('head'); head.textContent = '';
  data.columns.forEach((c, i) => {
    const th = document.createElement('th');
    th.textContent = c.name + (i === sortCol ? (sortDir > 0 ? ' ▲' : ' ▼') : '');
    if (c.type) { const t = document.createElement('span'); t.className = 't'; t.textContent = c.type; th.appendChild(t); }
    th.onclick = () => { sortDir = sortCol === i ? -sortDir : 1; sortCol = i; render(); };
    head.appendChild(th);
  });
  const body = document.getElementById('body'); body.textContent = '';
  for (const i of visible.slice(0, MAX)) {
    const tr = document.createElement('tr');
    data.rows[i].forEach((v) => { const td = document.createElement('td'); td.textContent = text(v); if (typeof v === 'number') td.className = 'num'; tr.appendChild(td); });
    body.appendChild(tr);
  }
  document.getElementById('count').textContent = visible.length + ' of ' + data.rows.length + ' rows' + (visible.length > MAX ? ' (first ' + MAX + ' shown)' : '');
}
document.getElementById('filter').oninput = render;
document.getElementById('copy').onclick = () => vscode.postMessage({ type: 'copy', rows: visible });
render();
</script></body></html>`;
}

export class Panels implements vscode.Disposable {
  private imagePanel: vscode.WebviewPanel | undefined;
  private readonly panels = new Set<vscode.WebviewPanel>();

  showTable(t: TaskRecord): void {
    const table = t.output ? tableOf(t.output.data) : undefined;
    if (!table) {
      return;
    }
    const panel = vscode.window.createWebviewPanel('livy.table', `Livy table: ${title(t)}`, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, { enableScripts: true, retainContextWhenHidden: true });
    this.panels.add(panel);
    panel.onDidDispose(() => this.panels.delete(panel));
    panel.webview.html = gridHtml(table, `${title(t)}: ${t.codePreview}`, panel.webview.cspSource, nonce());
    panel.webview.onDidReceiveMessage(async (m: { type?: string; rows?: number[] }) => {
      if (m.type === 'copy' && Array.isArray(m.rows)) {
        const rows = m.rows.filter((i) => Number.isInteger(i) && i >= 0 && i < table.rows.length).map((i) => table.rows[i]);
        await vscode.env.clipboard.writeText(toCsv({ columns: table.columns, rows }));
        void vscode.window.setStatusBarMessage(`Livy: copied ${rows.length} ${rows.length === 1 ? 'row' : 'rows'} as CSV`, 5000);
      }
    });
  }

  showImage(t: TaskRecord): void {
    const png = t.output ? imageOf(t.output.data) : undefined;
    if (!png) {
      return;
    }
    if (!this.imagePanel) {
      this.imagePanel = vscode.window.createWebviewPanel('livy.image', 'Livy image', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, { enableScripts: false });
      this.imagePanel.onDidDispose(() => { this.imagePanel = undefined; });
    }
    this.imagePanel.title = `Livy image: ${title(t)}`;
    const n = nonce();
    this.imagePanel.webview.html = `<!DOCTYPE html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'nonce-${n}';">
<style nonce="${n}">body{margin:8px} img{max-width:100%;background:#fff}</style></head>
<body><p>${escapeHtml(`${title(t)}: ${t.codePreview}`)}</p><img alt="statement image" src="data:image/png;base64,${png}"></body></html>`;
    this.imagePanel.reveal(vscode.ViewColumn.Beside, true);
  }

  dispose(): void {
    this.imagePanel?.dispose();
    for (const p of this.panels) {
      p.dispose();
    }
  }
}
