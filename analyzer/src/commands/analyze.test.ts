/**
 * `vantage analyze` as a user runs it (node bin/vantage.mjs analyze): JSON lines in, verdict
 * lines out, bad lines reported by number, expectations and settings from --config.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { makeRecord } from '../../../test/helpers/records.ts';
import { dnsRecord, ORIGIN, TARGET } from '../classify/testing/fixtures.ts';
import { IP, referencePages, SAMPLE_ASN_FILE } from '../classify/testing/scenario.ts';
import type { Verdict } from '../classify/verdict.ts';

const ROOT = new URL('../../../', import.meta.url).pathname;

function run(args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/vantage.mjs', 'analyze', ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}
const verdicts = (stdout: string) => stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Verdict);

let dir = '';
const tagged = { ...ORIGIN, sha: 'sha-ab', scripts: [...ORIGIN.scripts!, 'https://cdn.ab-tests.example'] };
const records = {
  consistent: dnsRecord({ probeId: 'p1', local: { ips: [IP.origin] }, reference: { ips: [IP.origin] } }),
  bogon: dnsRecord({ probeId: 'p2', local: { ips: ['127.0.0.1'] }, reference: { ips: [IP.origin] } }),
  // The http page loads a script the customer allowlists (in the config) and the https one does not.
  abTest: dnsRecord({ probeId: 'p3', local: { ips: [IP.origin] }, reference: { ips: [IP.origin] }, evidence: [referencePages(IP.origin, tagged, ORIGIN)] }),
  // A CNAME to a blockpage host: blocked only when the config names the fingerprint.
  blockCname: dnsRecord({ probeId: 'p4', local: { cnames: ['wall.filter.isp.example'], ips: ['45.70.0.9'] }, reference: { ips: [IP.origin] } }),
};

const cli = suite('vantage analyze');

cli.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'vantage-analyze-'));
  const lines = [
    JSON.stringify(records.consistent),
    '{"schema":1,"kind":"dns"', // line 2: cut short
    JSON.stringify(makeRecord('p9', 'tcp-task', 1)),
    '',
    JSON.stringify({ ...records.bogon, kind: 'smtp' }), // line 5: invalid kind
    JSON.stringify(records.bogon),
    JSON.stringify(records.abTest),
    JSON.stringify(records.blockCname),
  ];
  writeFileSync(join(dir, 'records.jsonl'), `${lines.join('\n')}\n`);
  copyFileSync(SAMPLE_ASN_FILE, join(dir, 'asn.txt'));
  writeFileSync(join(dir, 'analyze.yaml'), [
    'tasks:',
    '  - id: shop',
    '    kind: dns',
    `    target: ${TARGET}`,
    '    dns:',
    '      expect:',
    '        script_origins: ["https://*.ab-tests.example"]',
    'analyzer:',
    '  asn_table: asn.txt',
    '  blockpages: { cnames: [filter.isp.example] }',
    '  stale: 24h',
  ].join('\n'));
  writeFileSync(join(dir, 'bad.yaml'), 'analyzer:\n  asn_table: missing.txt\n  stale: soon\n');
});
cli.after(() => rmSync(dir, { recursive: true, force: true }));

cli('a file: one verdict line per record and resolver, sorted; bad lines named; exit 1', async () => {
  const { code, stdout, stderr } = await run(['--input', join(dir, 'records.jsonl')]);
  assert.is(code, 1, stderr);
  const out = verdicts(stdout);
  assert.equal(out.map((v) => [v.probe_id, v.class, v.rule]), [
    ['p1', 'consistent', 'R6-in-ground-truth'],
    ['p2', 'blocked', 'R5-bogon'],
    ['p3', 'ad_injection', 'R12-http-injection'],
    ['p4', 'suspicious', 'R13-no-evidence'],
  ]);
  for (const v of out) {
    for (const key of ['target', 'probe_id', 'region', 'isp', 'resolver', 'class', 'flags', 'rule', 'answer_ips', 'expected_ips', 'evidence']) {
      assert.ok(key in v, `verdict lines carry ${key}`);
    }
  }
  assert.equal(out[1].flags, ['bogon']);
  assert.match(stderr, /records\.jsonl:2: invalid record: not JSON/);
  assert.match(stderr, /records\.jsonl:5: invalid record: kind: "smtp" is not one of dns, http, tcp, ping/);
  assert.match(stderr, /4 dns records → 4 verdicts; 1 records of other kinds skipped; 2 invalid lines skipped/);
});

cli('--config: task expectations (script_origins) and the analyzer section (ASN table, blockpages) count', async () => {
  const { code, stdout, stderr } = await run(['--input', join(dir, 'records.jsonl'), '--config', join(dir, 'analyze.yaml')]);
  assert.is(code, 1, 'the bad lines still count');
  const out = verdicts(stdout);
  assert.equal(out.map((v) => [v.probe_id, v.class]), [['p1', 'consistent'], ['p2', 'blocked'], ['p3', 'consistent'], ['p4', 'blocked']], stderr);
  assert.is(out[3].evidence.fingerprint, 'blockpage:cname:wall.filter.isp.example');
});

cli('standard input, only valid lines: exit 0', async () => {
  const { code, stdout, stderr } = await run(['--input', '-'], `${JSON.stringify(records.consistent)}\n`);
  assert.is(code, 0, stderr);
  assert.is(verdicts(stdout)[0].class, 'consistent');
});

cli('usage and config errors: exit 2 with the key and file named; --help', async () => {
  const noInput = await run([]);
  assert.is(noInput.code, 2);
  assert.match(noInput.stderr, /--input is required/);
  const bad = await run(['--input', '-', '--config', join(dir, 'bad.yaml')]);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /invalid analyzer settings in .*bad\.yaml/);
  assert.match(bad.stderr, /analyzer\.stale: "soon" is not a duration/);
  const missing = await run(['--input', join(dir, 'nope.jsonl')]);
  assert.is(missing.code, 2);
  assert.match(missing.stderr, /cannot read .*nope\.jsonl/);
  const help = await run(['--help']);
  assert.is(help.code, 0);
  assert.match(help.stdout, /Usage: vantage analyze --input FILE\|- \[--config FILE\]/);
});

cli.run();
