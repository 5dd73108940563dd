/**
 * Turning a livy/output mime bundle into what an editor shows: text, a table, an image, an error
 * with its traceback lines mapped to the document. Pure functions (no vscode import).
 */
import type { OutputNotification, Range } from './protocol.generated';

export const MIME_TABLE = 'application/vnd.livy.table.v1+json';
export const MIME_JSON = 'application/json';
export const MIME_PNG = 'image/png';
export const MIME_TEXT = 'text/plain';

export interface Table {
  columns: { name: string; type?: string }[];
  rows: unknown[][];
}

/** Livy's table value (`%table`, SQL): `{"headers": [{"name", "type"}], "data": [[...]]}`. */
export function tableOf(data: Record<string, unknown> | undefined): Table | undefined {
  const value = data?.[MIME_TABLE] as { headers?: unknown; data?: unknown } | undefined;
  if (!value || !Array.isArray(value.headers) || !Array.isArray(value.data)) {
    return undefined;
  }
  const columns = value.headers.map((h: unknown, i: number) => {
    const hh = (h ?? {}) as { name?: unknown; type?: unknown };
    return { name: typeof hh.name === 'string' ? hh.name : `col${i + 1}`, type: typeof hh.type === 'string' ? hh.type : undefined };
  });
  const rows = value.data.filter(Array.isArray) as unknown[][];
  return { columns, rows };
}

export function cellText(v: unknown): string {
  if (v === null || v === undefined) {
    return '';
  }
  if (typeof v === 'string') {
    return v;
  }
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') {
    return String(v);
  }
  return JSON.stringify(v) ?? '';
}

/** RFC 4180 CSV (CRLF line ends; fields with a comma, quote or line break are quoted). */
export function toCsv(table: Table): string {
  const field = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines = [table.columns.map((c) => field(c.name)).join(',')];
  for (const row of table.rows) {
    lines.push(table.columns.map((_, i) => field(cellText(row[i]))).join(','));
  }
  return lines.join('\r\n') + '\r\n';
}

/** A plain-text table (for the output channel), cut at maxRows rows. */
export function tableText(table: Table, maxRows = 20): string {
  const shown = table.rows.slice(0, maxRows).map((r) => table.columns.map((_, i) => cellText(r[i])));
  const header = table.columns.map((c) => c.name);
  const widths = header.map((h, i) => Math.min(40, Math.max(h.length, ...shown.map((r) => r[i].length))));
  const fmt = (cells: string[]) => cells.map((c, i) => (c.length > widths[i] ? `${c.slice(0, widths[i] - 1)}…` : c.padEnd(widths[i]))).join(' | ');
  const out = [fmt(header), widths.map((w) => '-'.repeat(w)).join('-+-'), ...shown.map(fmt)];
  if (table.rows.length > maxRows) {
    out.push(`... ${table.rows.length - maxRows} more rows (${table.rows.length} in all)`);
  }
  return out.join('\n');
}

/** The PNG of an output, as base64, if it carries one. */
export function imageOf(data: Record<string, unknown> | undefined): string | undefined {
  const v = data?.[MIME_PNG];
  return typeof v === 'string' && v.length > 0 ? v.replace(/\s+/g, '') : undefined;
}

/** The text of an output's data: text/plain, else pretty JSON. */
export function dataText(data: Record<string, unknown> | undefined): string {
  if (!data) {
    return '';
  }
  const text = data[MIME_TEXT];
  if (typeof text === 'string') {
    return text;
  }
  if (MIME_JSON in data) {
    return JSON.stringify(data[MIME_JSON], null, 2);
  }
  return '';
}

export interface TracebackLocation {
  /** Index into the traceback array. */
  index: number;
  /** Zero-based line in the document the code was sent from. */
  documentLine: number;
}

const STDIN_FRAME = /File "<(?:stdin|string|console)>", line (\d+)/;

/**
 * Where each `File "<stdin>", line N` frame of a traceback points in the document: the statement's
 * line N is the range's start line plus N - 1. (Livy, like its fake_shell, drops the top-level
 * `<module>` frame, so these are the frames of functions the statement defined.)
 */
export function tracebackLocations(traceback: readonly string[] | undefined, range: Range | null | undefined): TracebackLocation[] {
  const out: TracebackLocation[] = [];
  const base = range?.start.line ?? 0;
  (traceback ?? []).forEach((line, index) => {
    const m = STDIN_FRAME.exec(line);
    if (m) {
      out.push({ index, documentLine: base + Number(m[1]) - 1 });
    }
  });
  return out;
}

export function formatElapsed(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) {
    return '';
  }
  if (ms < 1000) {
    return `${Math.round(ms)} ms`;
  }
  if (ms < 60_000) {
    return `${(ms / 1000).toFixed(1)} s`;
  }
  const m = Math.floor(ms / 60_000);
  return `${m} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** One-line summary of how a task ended. */
export function statusLine(o: OutputNotification): string {
  const elapsed = formatElapsed(o.elapsedMs);
  const where = `session ${o.sessionId}${o.statementId !== null && o.statementId !== undefined ? `, statement ${o.statementId}` : ''}`;
  const tail = elapsed ? ` in ${elapsed}` : '';
  switch (o.status) {
    case 'ok':
      return `✓ done${tail} (${where})`;
    case 'error':
      return `✗ ${o.ename ?? 'Error'}${tail} (${where})`;
    case 'cancelled':
      return `■ cancelled${tail} (${where})`;
    default:
      return `✗ failed${tail} (${where})`;
  }
}
