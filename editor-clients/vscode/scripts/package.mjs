// Build the .vsix: the livyd wheel of this repository into bundled/ (the extension offers to
// install it when no livyd is found), the production bundle, then `vsce package`.
// Usage: node scripts/package.mjs [out.vsix]   (LIVYD_PYTHON: the Python that builds the wheel)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const EXT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const REPO = resolve(EXT, '..', '..');
const out = resolve(process.argv[2] ?? join(EXT, 'dist', 'livy.vsix'));
const python = process.env.LIVYD_PYTHON || (existsSync(join(REPO, '.venv', 'bin', 'python')) ? join(REPO, '.venv', 'bin', 'python') : 'python3');
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { stdio: 'inherit', cwd: EXT, ...opts });

const bundled = join(EXT, 'bundled');
rmSync(bundled, { recursive: true, force: true });
mkdirSync(bundled);
run(python, ['-m', 'pip', 'wheel', '--quiet', '--disable-pip-version-check', '--no-deps', '--wheel-dir', bundled, REPO]);
const wheels = readdirSync(bundled).filter((f) => f.endsWith('.whl'));
if (wheels.length !== 1) {
  throw new Error(`expected one livyd wheel in ${bundled}, found: ${wheels.join(', ') || 'none'}`);
}
run(process.execPath, ['esbuild.mjs', '--production']);
mkdirSync(dirname(out), { recursive: true });
run(process.execPath, [join(EXT, 'node_modules', '@vscode', 'vsce', 'vsce'), 'package', '--no-dependencies', '--skip-license', '--allow-missing-repository', '--no-rewrite-relative-links', '--out', out]);
process.stdout.write(`packaged ${out} (with ${wheels[0]})\n`);
