/** `# %%` cells and what "run selection" means, on plain lines of text (no vscode import). */

const CELL_MARKER = /^\s*#\s*%%/;

export function isCellMarker(line: string): boolean {
  return CELL_MARKER.test(line);
}

export interface LineSpan {
  /** First line (zero-based, inclusive). */
  start: number;
  /** Last line (zero-based, inclusive). */
  end: number;
}

/**
 * The `# %%` cell holding `line`: from its marker (exclusive) to the line before the next marker.
 * Without any marker the whole document is one cell. Leading and trailing blank lines are trimmed.
 */
export function cellAt(lines: readonly string[], line: number): LineSpan {
  let start = 0;
  for (let i = Math.min(line, lines.length - 1); i >= 0; i--) {
    if (isCellMarker(lines[i])) {
      start = i + 1;
      break;
    }
  }
  let end = lines.length - 1;
  for (let i = Math.max(line + 1, start); i < lines.length; i++) {
    if (isCellMarker(lines[i])) {
      end = i - 1;
      break;
    }
  }
  while (start < end && lines[start].trim() === '') {
    start++;
  }
  while (end > start && lines[end].trim() === '') {
    end--;
  }
  return { start, end };
}

/** Cells of a percent-format file: [marker title, code lines]. Text before the first marker is a cell too. */
export function splitCells(text: string): { title: string | null; code: string }[] {
  const lines = text.split(/\r?\n/);
  const cells: { title: string | null; lines: string[] }[] = [];
  let current: { title: string | null; lines: string[] } = { title: null, lines: [] };
  for (const l of lines) {
    if (isCellMarker(l)) {
      if (current.title !== null || current.lines.some((x) => x.trim() !== '')) {
        cells.push(current);
      }
      current = { title: l.replace(CELL_MARKER, '').trim(), lines: [] };
    } else {
      current.lines.push(l);
    }
  }
  if (current.title !== null || current.lines.some((x) => x.trim() !== '')) {
    cells.push(current);
  }
  return cells.map((c) => ({ title: c.title, code: trimBlankLines(c.lines).join('\n') }));
}

export function joinCells(cells: { title: string | null; code: string }[]): string {
  return cells.map((c) => `# %%${c.title ? ` ${c.title}` : ''}\n${c.code}\n`).join('\n');
}

function trimBlankLines(lines: string[]): string[] {
  let s = 0;
  let e = lines.length;
  while (s < e && lines[s].trim() === '') {
    s++;
  }
  while (e > s && lines[e - 1].trim() === '') {
    e--;
  }
  return lines.slice(s, e);
}

/**
 * Code of a selection as a statement: common indentation removed (a selection inside a function
 * body would otherwise be an IndentationError on Livy).
 */
export function dedent(code: string): string {
  const lines = code.split(/\r?\n/);
  const indents = lines.filter((l) => l.trim() !== '').map((l) => /^[ \t]*/.exec(l)![0].length);
  const cut = indents.length ? Math.min(...indents) : 0;
  return lines.map((l) => l.slice(Math.min(cut, /^[ \t]*/.exec(l)![0].length))).join('\n');
}
