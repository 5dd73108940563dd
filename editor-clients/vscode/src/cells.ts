/**
 * `# %%` text helpers (no vscode import). Which lines a cell covers when it runs is the daemon's
 * rule (livyd.runCell, its CodeLenses); these only split a percent file into notebook cells
 * for the "Livy percent notebook" view, and dedent a selection.
 */

const CELL_MARKER = /^\s*#\s*%%/;

export function isCellMarker(line: string): boolean {
  return CELL_MARKER.test(line);
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
