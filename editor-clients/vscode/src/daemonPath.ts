/**
 * Finding the livyd executable, and installing it into an extension-managed virtual environment
 * from the wheel the .vsix carries. Node APIs only (no vscode import): the extension passes in
 * what it read from settings and the Python extension.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';

export interface DaemonCandidate {
  /** Where the path came from, for messages ("livy.daemonPath", "the selected Python environment", "PATH"). */
  source: string;
  path: string;
}

export interface FoundDaemon extends DaemonCandidate {
  /** The full command: the executable and its arguments before --stdio. */
  command: string;
  args: string[];
}

const EXE = process.platform === 'win32' ? 'livyd.exe' : 'livyd';
const BIN = process.platform === 'win32' ? 'Scripts' : 'bin';

export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The candidates in order: the setting, the Python environment's bin dir, PATH, the managed venv. */
export function daemonCandidates(opts: {
  daemonPath: string;
  pythonPath?: string | undefined;
  envPath?: string | undefined;
  managedVenv: string;
}): DaemonCandidate[] {
  const out: DaemonCandidate[] = [];
  if (opts.daemonPath.trim()) {
    out.push({ source: 'livy.daemonPath', path: opts.daemonPath.trim() });
    return out; // an explicit setting is never second-guessed
  }
  if (opts.pythonPath) {
    out.push({ source: 'the selected Python environment', path: join(dirname(opts.pythonPath), EXE) });
  }
  for (const dir of (opts.envPath ?? '').split(delimiter).filter(Boolean)) {
    out.push({ source: 'PATH', path: join(dir, EXE) });
  }
  out.push({ source: 'the extension-managed environment', path: managedLivyd(opts.managedVenv) });
  return out;
}

export function managedLivyd(venv: string): string {
  return join(venv, BIN, EXE);
}

/** The first candidate that is an executable file, or a message naming where it looked. */
export function pickDaemon(candidates: DaemonCandidate[], exists: (p: string) => boolean = isExecutable): FoundDaemon | string {
  for (const c of candidates) {
    if (exists(c.path)) {
      return { ...c, command: c.path, args: [] };
    }
  }
  if (candidates.length === 1 && candidates[0].source === 'livy.daemonPath') {
    return `livy.daemonPath is ${candidates[0].path}, which is not an executable file. Fix the setting or clear it to let the extension find livyd.`;
  }
  const sources = [...new Set(candidates.map((c) => c.source))].join(', ');
  return `livyd was not found (looked in: ${sources}).`;
}

/** The livyd wheel shipped in the extension's bundled/ folder. */
export function bundledWheel(extensionPath: string): string | undefined {
  const dir = join(extensionPath, 'bundled');
  if (!existsSync(dir)) {
    return undefined;
  }
  const wheels = readdirSync(dir).filter((f) => /^livyd-.*\.whl$/.test(f)).sort();
  return wheels.length ? join(dir, wheels[wheels.length - 1]) : undefined;
}

export interface RunResult {
  code: number | null;
  output: string;
}

export function run(command: string, args: string[], log: (line: string) => void): Promise<RunResult> {
  return new Promise((resolve) => {
    let output = '';
    let child;
    try {
      child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      resolve({ code: null, output: String(e) });
      return;
    }
    const take = (b: Buffer) => {
      const s = b.toString();
      output += s;
      for (const l of s.split(/\r?\n/).filter(Boolean)) {
        log(l);
      }
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', (e) => { output += String(e); resolve({ code: null, output }); });
    child.on('close', (code) => resolve({ code, output }));
  });
}

const INDEX_UNREACHABLE = /(NewConnectionError|Failed to establish a new connection|Temporary failure in name resolution|Name or service not known|Network is unreachable|No matching distribution found|Could not find a version that satisfies)/;

/**
 * Create `venv` with `python` and pip-install the wheel into it. Resolves to the livyd path, or
 * rejects with an Error whose message says which step failed and why.
 */
export async function installManaged(opts: { python: string; venv: string; wheel: string | undefined; log: (l: string) => void }): Promise<string> {
  if (!opts.wheel) {
    throw new Error('This build of the extension carries no livyd wheel (bundled/livyd-*.whl). Install livyd yourself (pip install livyd) and set livy.daemonPath.');
  }
  opts.log(`creating ${opts.venv} with ${opts.python}`);
  const venv = await run(opts.python, ['-m', 'venv', opts.venv], opts.log);
  if (venv.code !== 0) {
    throw new Error(`Creating the virtual environment failed: "${opts.python} -m venv ${opts.venv}" ${venv.code === null ? 'could not start' : `exited ${venv.code}`}. ` +
      `${lastLine(venv.output)} (Debian/Ubuntu: apt install python3-venv; or select a Python 3.11+ interpreter.)`);
  }
  const pip = join(opts.venv, BIN, 'python');
  opts.log(`installing ${opts.wheel}`);
  const inst = await run(pip, ['-m', 'pip', 'install', '--disable-pip-version-check', opts.wheel], opts.log);
  if (inst.code !== 0) {
    const why = INDEX_UNREACHABLE.test(inst.output)
      ? 'livyd\'s dependencies come from the package index (PyPI or your pip index-url), which could not be reached or lacks them'
      : lastLine(inst.output);
    throw new Error(`Installing livyd into ${opts.venv} failed: ${why}. The full pip output is in the "Livy" output channel.`);
  }
  const exe = managedLivyd(opts.venv);
  if (!isExecutable(exe)) {
    throw new Error(`pip finished but ${exe} is missing.`);
  }
  return exe;
}

function lastLine(s: string): string {
  const lines = s.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  return lines.length ? lines[lines.length - 1] : '';
}
