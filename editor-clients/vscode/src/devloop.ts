/**
 * The development loop's editor side (protocol 1.3: livy/deploy, livy/reloadModule,
 * livy/buildStandalone): which params a command sends and how the daemon's answer reads. The
 * project (its root, packages, scripts, what is excluded) is the daemon's; this file only names
 * the Python module of an open file and puts results into words. No vscode import.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, extname, join, relative, sep } from 'node:path';
import type {
  BuildStandaloneResult, DeployResult, ReloadModuleParams, ReloadModuleResult, SessionInfo,
} from './protocol.generated';

/** A report: one line for a notification, the details for an output channel. */
export interface Report {
  summary: string;
  lines: string[];
  /** Something went wrong in part (a module failed to reload). */
  warning: boolean;
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith('..') && !rel.startsWith(sep) && !/^[a-zA-Z]:/.test(rel);
}

/**
 * The dotted module name of a Python file in a package of the workspace (`pkg/sub/mod.py` ->
 * `pkg.sub.mod`, `pkg/__init__.py` -> `pkg`): the directories holding an `__init__.py`, up from
 * the file and inside the workspace. `undefined` when the file is not in a package (a script, a
 * loose file) or not under the workspace: the command then asks.
 */
export function moduleForFile(file: string, workspace: string | null, isFile: (p: string) => boolean = existsSync): string | undefined {
  if (!workspace || extname(file) !== '.py' || !inside(workspace, file)) {
    return undefined;
  }
  const stem = basename(file, '.py');
  const parts = stem === '__init__' ? [] : [stem];
  let dir = dirname(file);
  let packages = 0;
  while (inside(workspace, dir) && isFile(join(dir, '__init__.py'))) {
    parts.unshift(basename(dir));
    packages += 1;
    dir = dirname(dir);
  }
  if (packages === 0 || !parts.every((p) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(p))) {
    return undefined;
  }
  return parts.join('.');
}

/** What a quick pick offers to reload: the project's packages and scripts (from a dry-run deploy). */
export interface ReloadChoice {
  label: string;
  description: string;
  /** null: every package of the project. */
  module: string | null;
}

export function reloadChoices(dryRun: DeployResult): ReloadChoice[] {
  const files = dryRun.files ?? [];
  const packages = files.filter((f) => f.kind === 'package');
  const choices: ReloadChoice[] = packages.map((f) => ({ label: f.name, description: 'package (reloaded whole)', module: f.name }));
  for (const f of files.filter((x) => x.kind === 'script')) {
    const module = basename(f.name, '.py');
    choices.push({ label: module, description: `script ${f.name}`, module });
  }
  if (packages.length > 1) {
    choices.unshift({ label: 'All project packages', description: packages.map((f) => f.name).join(', '), module: null });
  }
  return choices;
}

export function reloadParams(module: string | null, session: SessionInfo | undefined): ReloadModuleParams {
  const params: ReloadModuleParams = { module };
  if (session) {
    params.sessionId = session.id;
    params.profile = session.profile ?? null;
  }
  return params;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

const VIA: Record<DeployResult['via'], string> = {
  webhdfs: 'through WebHDFS',
  'livy-upload': 'through Livy\'s upload-pyfile',
  none: '',
  'dry-run': '(dry run: nothing sent)',
};

export function describeDeploy(r: DeployResult, sessionId?: number | null): Report {
  const files = r.files ?? [];
  const sent = files.filter((f) => f.uploaded);
  const unchanged = files.filter((f) => !f.uploaded);
  const lines = [`project ${r.root}${r.remoteDir ? ` -> ${r.remoteDir}` : ''} ${VIA[r.via]}`.trimEnd()];
  for (const f of files) {
    const state = r.via === 'dry-run' ? 'would deploy' : f.uploaded ? 'uploaded' : 'unchanged, not sent';
    lines.push(`  ${f.kind} ${f.name}${f.remote ? ` (${f.remote})` : ''}: ${state}`);
  }
  for (const e of r.excluded ?? []) {
    lines.push(`  left out: ${e.path} (${e.reason})`);
  }
  if (r.pyFiles?.length) {
    lines.push(`  pyFiles: ${r.pyFiles.join(', ')}`);
  }
  let summary: string;
  if (files.length === 0) {
    summary = `nothing to deploy: no scripts or packages found in ${r.root}.`;
  } else if (r.via === 'dry-run') {
    summary = `would deploy ${plural(files.length, 'file')} from ${r.root}.`;
  } else {
    summary = `deployed ${r.root}: ${sent.length} uploaded, ${unchanged.length} unchanged${r.remoteDir ? ` in ${r.remoteDir}` : ''}`
      + `${sessionId !== undefined && sessionId !== null ? `; session ${sessionId} has them in its pyFiles` : ''}.`;
  }
  return { summary, lines, warning: false };
}

export function describeReload(r: ReloadModuleResult): Report {
  const lines: string[] = [];
  const reloaded: string[] = [];
  const failed: string[] = [];
  for (const info of r.results) {
    const ok = info.reloaded ?? [];
    reloaded.push(...ok);
    lines.push(`reload ${info.mode} ${info.target} (${info.via}) in session ${r.sessionId}: ${ok.length ? ok.join(', ') : 'nothing reloaded'}`);
    for (const f of info.failed ?? []) {
      failed.push(f.module);
      lines.push(`  ${f.module} failed: ${f.error}`);
    }
  }
  let summary = reloaded.length
    ? `reloaded ${reloaded.join(', ')} in session ${r.sessionId}`
    : `nothing was reloaded in session ${r.sessionId} (no module of it was imported there yet?)`;
  if (failed.length) {
    summary += `; ${failed.join(', ')} failed (see the session's output)`;
  }
  return { summary: `${summary}.`, lines, warning: failed.length > 0 };
}

/** The active file as the script to embed, relative to the workspace when it is inside. */
export function standaloneScript(file: string | undefined, workspace: string | null): string | null {
  if (!file || extname(file) !== '.py') {
    return null;
  }
  return workspace && inside(workspace, file) ? relative(workspace, file).split(sep).join('/') : file;
}

export function describeStandalone(r: BuildStandaloneResult): Report {
  const kb = (r.bytes / 1024).toFixed(1);
  const pk = r.packages.length ? ` with ${r.packages.join(', ')}` : '';
  return { summary: `wrote ${r.output} (${kb} KiB${pk}).`, lines: [`standalone ${r.output}: ${r.bytes} bytes, packages: ${r.packages.join(', ') || 'none'}`], warning: false };
}
