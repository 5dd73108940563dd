// Bundle the extension into dist/extension.js (vscode-languageclient included), so the .vsix
// carries one file instead of node_modules. `--production` minifies; `--watch` rebuilds.
import { build, context } from 'esbuild';

const production = process.argv.includes('--production');
const options = {
  entryPoints: ['src/extension.ts'],
  bundle: true,
  outfile: 'dist/extension.js',
  external: ['vscode'],
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
};
// Modules the unit tests load one by one (test/vscode-stub.cjs stands in for `vscode` where one needs it).
const libOptions = {
  entryPoints: ['src/api.ts', 'src/model.ts', 'src/render.ts', 'src/cells.ts', 'src/daemonPath.ts', 'src/credentials.ts',
    'src/protocol.generated.ts', 'src/notebook.ts', 'src/settings.ts', 'src/devloop.ts', 'src/spark.ts', 'src/ui/panels.ts'],
  bundle: false,
  outbase: 'src',
  outdir: 'dist/lib',
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
};
if (process.argv.includes('--watch')) {
  const ctx = await context(options);
  await ctx.watch();
} else {
  await build(options);
  await build(libOptions);
}
