// Start a real `livyd sandbox` on loopback for a test (or use LIVY_TEST_URL from the Python suite).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { REPO } from './helpers.mjs';

/** The Python with livyd installed: LIVYD_PYTHON, else the repository's .venv. */
export function livydPython() {
  const p = process.env.LIVYD_PYTHON || join(REPO, '.venv', 'bin', 'python');
  if (!existsSync(p)) {
    throw new Error(`no Python with livyd at ${p}: set LIVYD_PYTHON or create ${join(REPO, '.venv')} (python3 tests/run.py does)`);
  }
  return p;
}

/**
 * Resolves to {url, pid, stop()} once the sandbox printed its ready line. A trailing plain object
 * is extra environment (e.g. {LIVYD_SANDBOX_TOKEN}, which keeps a token out of the process list).
 */
export function startSandbox(...args) {
  const extraEnv = args.length && typeof args[args.length - 1] === 'object' ? args.pop() : {};
  const dataDir = mkdtempSync(join(tmpdir(), 'livy-vscode-sandbox-'));
  const proc = spawn(livydPython(), ['-m', 'livyd.sandbox', '--port', '0', '--webhdfs-port', '0', '--data-dir', dataDir, ...args],
    { stdio: ['ignore', 'pipe', 'pipe'], cwd: dataDir, env: { ...process.env, PYTHONUNBUFFERED: '1', ...extraEnv } });
  let stderr = '';
  proc.stderr.on('data', (b) => { stderr += b; });
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: proc.stdout });
    rl.on('line', (line) => {
      const m = /^livyd sandbox: livy=(\S+) webhdfs=(\S+)$/.exec(line);
      if (m) {
        resolve({
          url: m[1], pid: proc.pid, dataDir,
          stop: () => new Promise((done) => {
            if (proc.exitCode !== null) { done(); return; }
            proc.once('exit', () => done());
            proc.kill('SIGINT');
          }),
        });
      }
    });
    proc.once('exit', (code) => reject(new Error(`livyd sandbox exited ${code} before it was ready:\n${stderr}`)));
  });
}
