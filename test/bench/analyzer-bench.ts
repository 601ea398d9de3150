/**
 * Classifier bench: verdicts per second on one core, on recorded-style dns records (a realistic
 * mix built by the classifier's fixture builder), with a named reference measured in the same
 * run on the same records: JSON.parse + parseRecord (what every consumer pays per record).
 *
 *   npm run bench:analyzer [-- --records N] [-- --passes N]
 *
 * Pure CPU in this process: no servers, no network, no files.
 */
import { parseArgs } from 'node:util';
import { parseRecord, type ResultRecord } from '@vantage/probe';
import { classifyRecord, classifyRecords } from '../../analyzer/src/classify/classifier.ts';
import { GroundTruth } from '../../analyzer/src/classify/ground-truth.ts';
import { dnsRecord, ORIGIN, T0, type PageSpec, type RecordSpec } from '../../analyzer/src/classify/testing/fixtures.ts';
import { asnTable } from '../../analyzer/src/classify/testing/scenario.ts';

const { values } = parseArgs({ options: { records: { type: 'string', default: '20000' }, passes: { type: 'string', default: '5' } } });
const WANTED = Number(values.records);
const PASSES = Number(values.passes);
const TARGET_RATE = 20_000;

// --- a realistic mix ---------------------------------------------------------------------------

/** Deterministic PRNG (mulberry32): the same mix every run. */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(42);

const ISPS = ['telecom', 'unicom', 'mobile', 'cernet'];
const PROBES = Array.from({ length: 40 }, (_, i) => ({ id: `probe-${i}`, isp: ISPS[i % 4], region: `region-${Math.floor(i / 4)}` }));
const TARGETS = Math.max(1, Math.round(WANTED / (PROBES.length * 2)));
const refused: PageSpec = { failure: 'connection_refused', status: null };

/** Shares of the mix (they sum to 1): mostly consistent, like a real fleet. */
const MIX: [number, string][] = [
  [0.78, 'consistent'], [0.05, 'lb-rotation'], [0.04, 'cdn-edge'], [0.03, 'isp-cache'], [0.02, 'ad-injection'],
  [0.01, 'ad-hijack'], [0.01, 'nxdomain'], [0.01, 'timeout'], [0.02, 'http-path'], [0.02, 'stale'], [0.01, 'no-evidence'],
];

function pick(): string {
  let x = random();
  for (const [share, name] of MIX) {
    if ((x -= share) < 0) return name;
  }
  return 'consistent';
}

function recordFor(t: number, probe: (typeof PROBES)[number], round: number): RecordSpec {
  const target = `www.site${t}.example${t % 97}.com`;
  const origin = `45.${60 + (t % 3)}.${(t >> 8) & 255}.${t & 255}`;
  const pool = [origin, `45.64.${(t >> 8) & 255}.${t & 255}`];
  const base: RecordSpec = {
    target, taskId: `task-${t}`, probeId: probe.id, isp: probe.isp, region: probe.region,
    atMs: T0 + round * 60_000 + Math.floor(random() * 20_000),
    local: { ips: [origin] }, reference: { ips: [origin] },
    evidence: [{ ip: origin, role: 'reference' }],
  };
  const twoResolvers = random() < 0.1;
  const spec = ((): RecordSpec => {
    switch (pick()) {
      case 'lb-rotation': return { ...base, local: { ips: [pool[1]] }, reference: { ips: [pool[random() < 0.5 ? 0 : 1]] } };
      case 'cdn-edge': return { ...base, local: { ips: ['151.101.7.7'], cnames: [`${target}.edge.cdn-a.example`] }, evidence: [{ ip: '151.101.7.7' }, { ip: origin, role: 'reference' }] };
      case 'isp-cache': return { ...base, local: { ips: ['58.33.1.1'] }, evidence: [{ ip: '58.33.1.1', https: refused }, { ip: origin, role: 'reference' }] };
      case 'ad-injection': return { ...base, local: { ips: ['58.33.1.2'] }, evidence: [{ ip: '58.33.1.2', http: { ...ORIGIN, sha: 'inj', scripts: [...ORIGIN.scripts!, 'http://ad.partner.example'] }, https: refused }, { ip: origin, role: 'reference' }] };
      case 'ad-hijack': return { ...base, local: { ips: ['121.40.5.5'] }, evidence: [{ ip: '121.40.5.5', http: { status: 302, redirects: [{ status: 302, location: 'http://promo.ads.example/' }] }, https: refused }, { ip: origin, role: 'reference' }] };
      case 'nxdomain': return { ...base, local: { rcode: 'NXDOMAIN' }, evidence: [] };
      case 'timeout': return { ...base, local: { failure: 'timeout', rcode: null }, evidence: [] };
      case 'http-path': return { ...base, evidence: [{ ip: origin, role: 'reference', http: { ...ORIGIN, sha: 'path', scripts: [...ORIGIN.scripts!, 'http://inject.isp.example'] } }] };
      case 'stale': return { ...base, local: { ips: [`45.65.${(t >> 8) & 255}.${t & 255}`] }, evidence: [{ ip: `45.65.${(t >> 8) & 255}.${t & 255}` }, { ip: origin, role: 'reference' }] };
      case 'no-evidence': return { ...base, local: { ips: ['45.66.1.1'] }, evidence: null };
      default: return base;
    }
  })();
  if (twoResolvers && !Array.isArray(spec.local)) spec.local = [spec.local ?? {}, { server: '10.53.0.2:53', ips: [origin] }];
  return spec;
}

const built: ResultRecord[] = [];
for (let round = 0; built.length < WANTED; round++) {
  for (let t = 0; t < TARGETS && built.length < WANTED; t++) {
    for (const probe of PROBES) {
      if (built.length >= WANTED) break;
      built.push(dnsRecord(recordFor(t, probe, round)));
    }
  }
}
// Stale answers: what the references gave two days before the measured rounds.
const history = Array.from({ length: TARGETS }, (_, t) => dnsRecord({
  target: `www.site${t}.example${t % 97}.com`, taskId: `task-${t}`, probeId: 'probe-0', atMs: T0 - 40 * 3_600_000,
  local: { ips: [`45.65.${(t >> 8) & 255}.${t & 255}`] }, reference: { ips: [`45.65.${(t >> 8) & 255}.${t & 255}`] },
}));
const records = [...history, ...built];
const lines = records.map((r) => JSON.stringify(r));
const avgBytes = Math.round(lines.reduce((n, l) => n + l.length, 0) / lines.length);

// --- measurements -------------------------------------------------------------------------------

function timed<T>(fn: () => T): { ms: number; cpuMs: number; value: T } {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const value = fn();
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { ms, cpuMs: (used.user + used.system) / 1000, value };
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const settings = { asnTable, controlsKeepMs: Number.POSITIVE_INFINITY };
const rates = { parse: [] as number[], observe: [] as number[], classify: [] as number[], batch: [] as number[], stream: [] as number[] };
let verdictCount = 0;
const classes = new Map<string, number>();

for (let pass = 0; pass < PASSES + 1; pass++) {
  const warm = pass === 0; // the first pass warms the JIT and is not counted
  const parse = timed(() => lines.map((l) => parseRecord(l)));
  const gt = new GroundTruth(settings);
  const observe = timed(() => {
    for (const r of parse.value) gt.observe(r);
  });
  const classify = timed(() => {
    let n = 0;
    for (const r of parse.value) {
      const vs = classifyRecord(r, gt);
      n += vs.length;
      if (pass === 1) for (const v of vs) classes.set(v.class, (classes.get(v.class) ?? 0) + 1);
    }
    return n;
  });
  const batch = timed(() => classifyRecords(parse.value, { settings }).length);
  // The service's way: each record, in arrival order, feeds the truth and is judged at once.
  const stream = timed(() => {
    const live = new GroundTruth({ asnTable });
    let n = 0;
    for (const r of parse.value) {
      live.observe(r);
      n += classifyRecord(r, live).length;
    }
    return n;
  });
  verdictCount = classify.value;
  if (warm) continue;
  rates.parse.push(records.length / (parse.cpuMs / 1000));
  rates.observe.push(records.length / (observe.cpuMs / 1000));
  rates.classify.push(classify.value / (classify.cpuMs / 1000));
  rates.batch.push(batch.value / (batch.cpuMs / 1000));
  rates.stream.push(stream.value / (stream.cpuMs / 1000));
}

const r = { parse: median(rates.parse), observe: median(rates.observe), classify: median(rates.classify), batch: median(rates.batch), stream: median(rates.stream) };
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const rows: [string, string, string][] = [
  ['classifyRecord (ground truth built)', `${fmt(r.classify)} verdicts/s`, `${(1e6 / r.classify).toFixed(1)} µs/verdict`],
  ['classifyRecords (observe + classify + sort)', `${fmt(r.batch)} verdicts/s`, `${(1e6 / r.batch).toFixed(1)} µs/verdict`],
  ['stream: observe + classify, record by record', `${fmt(r.stream)} verdicts/s`, `${(1e6 / r.stream).toFixed(1)} µs/verdict`],
  ['GroundTruth.observe', `${fmt(r.observe)} records/s`, `${(1e6 / r.observe).toFixed(1)} µs/record`],
  ['reference: JSON.parse + parseRecord', `${fmt(r.parse)} records/s`, `${(1e6 / r.parse).toFixed(1)} µs/record`],
];
const width = Math.max(...rows.map((row) => row[0].length));
process.stdout.write(`\nClassifier bench: ${fmt(records.length)} dns records (${avgBytes} bytes each on average), ${fmt(verdictCount)} verdicts, ${PROBES.length} probes, ${TARGETS} targets; median of ${PASSES} passes, CPU time of this process (one core)\n\n`);
for (const [name, rate, per] of rows) process.stdout.write(`  ${name.padEnd(width)}  ${rate.padStart(18)}  ${per.padStart(16)}\n`);
process.stdout.write(`\n  classify / parse reference: ${(r.classify / r.parse).toFixed(2)}× (verdicts per record parsed)\n`);
process.stdout.write(`  classify / target ${fmt(TARGET_RATE)}: ${(r.classify / TARGET_RATE).toFixed(2)}× — ${r.classify >= TARGET_RATE ? 'met' : 'missed'}\n`);
process.stdout.write(`  verdict classes: ${[...classes].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c} ${n}`).join(', ')}\n\n`);
process.stdout.write(`${JSON.stringify({
  records: records.length, verdicts: verdictCount, avg_record_bytes: avgBytes,
  classify_verdicts_per_s: Math.round(r.classify), batch_verdicts_per_s: Math.round(r.batch), stream_verdicts_per_s: Math.round(r.stream),
  observe_records_per_s: Math.round(r.observe), parse_records_per_s: Math.round(r.parse),
  classify_over_parse: Number((r.classify / r.parse).toFixed(3)), target: TARGET_RATE,
})}\n`);
