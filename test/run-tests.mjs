#!/usr/bin/env node
// Runs the whole suite: the typecheck, then every *.test.ts file (uvu suites run through tsx),
// each in its own process with a time limit, and prints the closing line "N passed, N failed".
//   node test/run-tests.mjs            all test files
//   node test/run-tests.mjs dns http   only files whose path contains one of the words
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = new URL('..', import.meta.url).pathname;
const FILE_TIME_LIMIT_MS = Number(process.env.VANTAGE_TEST_FILE_TIMEOUT_MS ?? 300_000);
const SEARCH = ['probe/src', 'collector/src', 'analyzer/src', 'test'];

function findTests(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'bench' || name === 'artifacts') continue;
    if (statSync(path).isDirectory()) findTests(path, out);
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

/** Runs a command, echoing its output; resolves with exit code and captured output. */
function run(cmd, args, limitMs) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } });
    let output = '';
    const keep = (chunk) => {
      output += chunk;
      process.stdout.write(chunk);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => {
      output += `\n!! time limit of ${limitMs} ms passed: stopped\n`;
      child.kill('SIGKILL');
    }, limitMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 1 : 0), output });
    });
  });
}

const filters = process.argv.slice(2);
const files = SEARCH.flatMap((dir) => findTests(join(ROOT, dir)))
  .map((f) => relative(ROOT, f))
  .filter((f) => filters.length === 0 || filters.some((w) => f.includes(w)))
  .sort();

let passed = 0;
let failed = 0;
const failures = [];

if (filters.length === 0) {
  process.stdout.write('\n# typecheck (tsc --noEmit)\n');
  const tsc = await run('npx', ['tsc', '--noEmit', '-p', '.'], 300_000);
  if (tsc.code === 0) passed++;
  else (failed++, failures.push('typecheck'));
}

for (const file of files) {
  process.stdout.write(`\n# ${file}\n`);
  const started = Date.now();
  const { code, output } = await run(process.execPath, ['--import', 'tsx', file], FILE_TIME_LIMIT_MS);
  const total = Number(/Total:\s+(\d+)/.exec(output)?.[1] ?? 0);
  const ok = Number(/Passed:\s+(\d+)/.exec(output)?.[1] ?? 0);
  let bad = total - ok; // a skipped test counts as failed: nothing may pass by skipping
  if (code !== 0 && bad === 0) bad = 1; // crashed, timed out or failed outside a test
  if (total === 0 && code === 0) bad = 1; // a file that ran no test
  passed += ok;
  failed += bad;
  if (bad > 0) failures.push(file);
  process.stdout.write(`# ${file}: ${ok} passed, ${bad} failed (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
}

if (failures.length > 0) process.stdout.write(`\nFailed: ${failures.join(', ')}\n`);
process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
process.exitCode = failed > 0 ? 1 : 0;
