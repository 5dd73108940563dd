// A stand-in for the `vscode` module, for unit tests of modules that need a few of its classes.
// Only what those modules touch; named as a stub, never used by the end-to-end test.
'use strict';
class NotebookCellOutputItem {
  constructor(data, mime) { this.data = data; this.mime = mime; }
  static text(value, mime = 'text/plain') { return new NotebookCellOutputItem(Buffer.from(value), mime); }
  static json(value, mime = 'application/json') { return new NotebookCellOutputItem(Buffer.from(JSON.stringify(value)), mime); }
  static stderr(value) { return new NotebookCellOutputItem(Buffer.from(value), 'application/vnd.code.notebook.stderr'); }
  static error(err) {
    return new NotebookCellOutputItem(Buffer.from(JSON.stringify({ name: err.name, message: err.message, stack: err.stack })), 'application/vnd.code.notebook.error');
  }
}
class NotebookCellData { constructor(kind, value, languageId) { this.kind = kind; this.value = value; this.languageId = languageId; } }
class NotebookData { constructor(cells) { this.cells = cells; } }
const config = new Map();
module.exports = {
  NotebookCellOutputItem,
  NotebookCellData,
  NotebookData,
  NotebookCellKind: { Markup: 1, Code: 2 },
  workspace: {
    getConfiguration: () => ({ get: (key, dflt) => (config.has(key) ? config.get(key) : dflt) }),
  },
  __config: config,
};
