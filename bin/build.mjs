#!/usr/bin/env node
// Bundles the `vantage` command into dist/vantage.mjs for production boxes: plain node runs it,
// with no TypeScript loader thread (about 40 MB less memory) and no source-map stack rewriting.
import { build } from 'esbuild';

await build({
  entryPoints: { vantage: new URL('./main.ts', import.meta.url).pathname },
  outdir: new URL('../dist', import.meta.url).pathname,
  bundle: true,
  splitting: true, // each command stays a chunk loaded only when used
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outExtension: { '.js': '.mjs' },
  // Bundled CommonJS packages call require(); give them one.
  banner: { js: "import { createRequire as __vantageRequire } from 'node:module'; const require = __vantageRequire(import.meta.url);" },
  // chDB is a native addon with a 560 MB library: loaded from node_modules, and only by the roles
  // that store data (a probe box never loads it).
  external: ['chdb', 'chdb/*'],
  logLevel: 'warning',
});
