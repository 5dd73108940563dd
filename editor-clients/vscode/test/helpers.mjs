// Shared test helpers: load the compiled modules (dist/lib, built by `npm run build`), with
// test/vscode-stub.cjs answering `require('vscode')`, and the protocol's golden examples.
import { readFileSync, readdirSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const HERE = dirname(fileURLToPath(import.meta.url));
export const EXT = join(HERE, '..');
export const REPO = join(EXT, '..', '..');
export const PROTOCOL = join(REPO, 'protocol');

const stub = join(HERE, 'vscode-stub.cjs');
const original = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  return request === 'vscode' ? stub : original.call(this, request, ...rest);
};
const require = createRequire(import.meta.url);

/** A compiled module of src/ (e.g. lib('model')). */
export function lib(name) {
  return require(join(EXT, 'dist', 'lib', `${name}.js`));
}

export function schema() {
  return JSON.parse(readFileSync(join(PROTOCOL, 'livyd.schema.json'), 'utf8'));
}

export function methods() {
  return JSON.parse(readFileSync(join(PROTOCOL, 'methods.json'), 'utf8'));
}

/** Every golden example: {file, method, part, valid, why, message}. */
export function examples() {
  const dir = join(PROTOCOL, 'examples');
  return readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((file) => ({ file, ...JSON.parse(readFileSync(join(dir, file), 'utf8')) }));
}
