/**
 * API bench (`npm run bench:api`): latency of a 7-day availability query grouped by region × ISP
 * through the whole API (signed request → fastify → ClickHouse → JSON), over ≥10 million stored
 * results on clickhouse-server 18.16 — on the rollups, and for reference on the raw table
 * (source=raw, FINAL) in the same run. Prints a table and one JSON line.
 *
 * Data: 200 probes (10 regions × 4 ISPs × 5 probes) × 50 tasks, one result every 10 minutes for
 * 7 days = 10,080,000 results, generated server-side with INSERT … SELECT FROM numbers() through
 * the real schema, so the materialized views build the rollups as they would from the collector.
 * Options: --results N (default 10080000), --runs N (timed requests per case, default 60).
 */
import { parseArgs } from 'node:util';
import { DATABASE, migrate, openClickHouse, RESULTS, type ClickHouse } from '@vantage/collector';
import { VantageClient } from '../../analyzer/src/api/client.ts';
import { importTasks } from '../../analyzer/src/api/import-tasks.ts';
import { KeyRing, type ApiKey } from '../../analyzer/src/api/keys.ts';
import { startApi } from '../../analyzer/src/api/server.ts';
import { startClickHouseServer } from '../helpers/clickhouse-server.ts';
import { benchWorkspace, fmt, ratio, table } from './bench-tools.ts';

const { values: opts } = parseArgs({ options: { results: { type: 'string', default: '10080000' }, runs: { type: 'string', default: '60' } } });
const RESULTS_N = Number(opts.results);
const RUNS = Number(opts.runs);
const WATCHDOG_MS = 15 * 60_000;
const TARGET_P95_MS = 100;
const PROBES = 200;
const TASKS = 50;
const REGIONS = ['cn-beijing', 'cn-shanghai', 'cn-guangdong', 'cn-zhejiang', 'cn-jiangsu', 'cn-sichuan', 'cn-hubei', 'cn-shandong', 'cn-henan', 'cn-fujian'];
const ISPS = ['China Telecom', 'China Unicom', 'China Mobile', 'CERNET'];
const STEP_S = 600;
/** The 7 days end at this UTC midnight (fixed, so runs compare). */
const END_S = Date.parse('2024-05-08T00:00:00Z') / 1000;
const CHUNK = 1_000_000;

const { undo, finish } = benchWorkspace('api-bench', WATCHDOG_MS);
const benchStart = performance.now();
const progress = (what: string) => process.stderr.write(`[${((performance.now() - benchStart) / 1000).toFixed(1)} s] ${what}\n`);

const sqlList = (items: readonly string[]) => `[${items.map((s) => `'${s}'`).join(', ')}]`;

/**
 * Rows n in [offset, offset + count): probe = n % 200, task = (n / 200) % 50, round = n / 10,000.
 * Region and ISP follow the probe; failures ~1.5 % (4 % in one ISP of two regions); latencies per
 * phase from hashes of n, so every run stores the same figures.
 */
function insertChunk(offset: number, count: number, rounds: number): string {
  const start = END_S - rounds * STEP_S;
  const n = `(number + ${offset})`;
  const probe = `(${n} % ${PROBES})`;
  const task = `(intDiv(${n}, ${PROBES}) % ${TASKS})`;
  const round = `intDiv(${n}, ${PROBES * TASKS})`;
  const at = `(${start} + ${round} * ${STEP_S} + (cityHash64(${n}, 7) % 60))`;
  const region = `arrayElement(${sqlList(REGIONS)}, ${probe} % ${REGIONS.length} + 1)`;
  const isp = `arrayElement(${sqlList(ISPS)}, intDiv(${probe}, ${REGIONS.length}) % ${ISPS.length} + 1)`;
  const bad = `(cityHash64(${n}, 1) % 1000 < if(${probe} % ${REGIONS.length} < 2 AND intDiv(${probe}, ${REGIONS.length}) % ${ISPS.length} = 1, 40, 15))`;
  const ms = (salt: number, base: number, spread: number) => `(${base} + (cityHash64(${n}, ${salt}) % ${spread * 100}) / 100)`;
  const kind = `arrayElement(['http', 'http', 'dns', 'tcp', 'http'], ${task} % 5 + 1)`;
  const columns: [string, string][] = [
    ['id', 'generateUUIDv4()'],
    ['schema', '1'],
    ['kind', kind],
    ['task_id', `concat('task-', toString(${task}))`],
    ['target', `concat('https://site', toString(${task}), '.example.com/')`],
    ['probe_id', `concat('probe-', toString(${probe}))`],
    ['probe_region', region],
    ['probe_isp', isp],
    ['probe_asn', 'CAST(4134 AS Nullable(UInt64))'],
    ['probe_label_keys', "['rack']"],
    ['probe_label_values', "['r1']"],
    ['probe_version', "'0.1.0'"],
    ['scheduled_at', `toDateTime(${start} + ${round} * ${STEP_S})`],
    ['started_at', `toDateTime(${at})`],
    ['started_at_ms', `toUInt64(${at}) * 1000 + cityHash64(${n}, 8) % 1000`],
    ['duration_ms', ms(2, 20, 200)],
    ['ok', `toUInt8(NOT ${bad})`],
    ['failure', `if(${bad}, 'timeout', '')`],
    ['failure_detail', 'CAST(NULL AS Nullable(String))'],
    ['resolve_ms', `CAST(${ms(3, 1, 30)} AS Nullable(Float64))`],
    ['connect_ms', `CAST(${ms(4, 5, 60)} AS Nullable(Float64))`],
    ['tls_ms', `CAST(if(${task} % 5 = 2, NULL, ${ms(5, 10, 80)}) AS Nullable(Float64))`],
    ['processing_ms', `CAST(${ms(6, 10, 150)} AS Nullable(Float64))`],
    ['transfer_ms', `CAST(${ms(9, 0, 20)} AS Nullable(Float64))`],
    ['resolver', "'127.0.0.53:53'"],
    ['resolved_ips', "['192.0.2.10']"],
    ['dialed_ip', "'192.0.2.10'"],
    ['http_status', 'CAST(200 AS Nullable(UInt16))'],
    ['tls_verified', 'CAST(1 AS Nullable(UInt8))'],
    ['cert_expires_in_days', 'CAST(90 AS Nullable(Float64))'],
    ['ping_loss_pct', 'CAST(NULL AS Nullable(Float64))'],
    ['keys', "'{}'"],
    ['inserted_at', `toDateTime(${at})`],
  ];
  if (columns.length !== RESULTS.columns.length) throw new Error('the bench generates every column of vantage.results');
  return `INSERT INTO ${DATABASE}.${RESULTS.name} (${columns.map(([c]) => c).join(', ')})
SELECT ${columns.map(([c, e]) => `${e} AS ${c}_v`).join(',\n  ')}
FROM numbers(${count})`;
}

async function waitForMerges(ch: ClickHouse, limitMs: number): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    const result = await ch.client.query({ query: "SELECT count() AS n FROM system.merges WHERE database = 'vantage'", format: 'JSONEachRow' });
    const [row] = await result.json<{ n: number }>();
    if (Number(row?.n ?? 0) === 0) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

interface Latency {
  p50: number;
  p95: number;
  max: number;
  runs: number;
}

async function time(runs: number, call: () => Promise<{ status: number; body: unknown }>): Promise<Latency> {
  for (let i = 0; i < 3; i++) {
    const res = await call();
    if (res.status !== 200) throw new Error(`warm-up answered ${res.status}: ${JSON.stringify(res.body).slice(0, 300)}`);
  }
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const res = await call();
    ms.push(performance.now() - t0);
    if (res.status !== 200) throw new Error(`answered ${res.status}`);
  }
  ms.sort((a, b) => a - b);
  const at = (q: number) => ms[Math.min(ms.length - 1, Math.ceil(q * ms.length) - 1)]!;
  return { p50: at(0.5), p95: at(0.95), max: ms[ms.length - 1]!, runs };
}

async function main(): Promise<void> {
  if (!Number.isSafeInteger(RESULTS_N) || RESULTS_N < PROBES * TASKS) throw new Error(`--results must be at least ${PROBES * TASKS}`);
  const rounds = Math.ceil(RESULTS_N / (PROBES * TASKS));
  const clickhouse = await startClickHouseServer();
  undo.push(() => clickhouse.cleanup());
  const ch = await openClickHouse({ engine: 'server', url: clickhouse.url, requestTimeoutMs: 600_000 });
  undo.push(() => ch.close());
  await migrate(ch.client);
  // Every row below is inserted after the migrations, so the per-cell rollup (migration 5) holds
  // all of it: date its migration before the data, as on a system that has run it for a while.
  await ch.client.insert({ table: `${DATABASE}.schema_migrations`, values: [{ version: 5, name: 'bench: before the data', applied_at: END_S - 30 * 86_400 }], format: 'JSONEachRow' });

  progress(`generating ${RESULTS_N.toLocaleString('en-US')} results (${PROBES} probes × ${TASKS} tasks × ${rounds} rounds of ${STEP_S / 60} min) server-side`);
  const insertStart = performance.now();
  for (let offset = 0; offset < RESULTS_N; offset += CHUNK) {
    await ch.client.command({ query: insertChunk(offset, Math.min(CHUNK, RESULTS_N - offset), rounds), clickhouse_settings: { max_insert_block_size: '1048576' } });
    progress(`  ${Math.min(offset + CHUNK, RESULTS_N).toLocaleString('en-US')} stored`);
  }
  const insertS = (performance.now() - insertStart) / 1000;
  // Past days of a live system are merged by ClickHouse in the background; OPTIMIZE … FINAL gives
  // every table that steady state at once (the raw reference included), so runs compare.
  progress('merging parts (OPTIMIZE TABLE … FINAL), as background merges would over time');
  const optimizeStart = performance.now();
  for (const table of ['results', 'results_1h', 'results_1h_cells', 'results_1d']) await ch.client.command({ query: `OPTIMIZE TABLE ${DATABASE}.${table} FINAL` });
  const optimizeS = (performance.now() - optimizeStart) / 1000;
  await waitForMerges(ch, 120_000);
  const counts = await (await ch.client.query({
    query: `SELECT (SELECT count() FROM vantage.results) AS raw, (SELECT countMerge(checks) FROM vantage.results_1h) AS rolled_up,
      (SELECT count() FROM vantage.results_1h) AS rows_1h, (SELECT count() FROM vantage.results_1d) AS rows_1d`,
    format: 'JSONEachRow',
  })).json<{ raw: number; rolled_up: number; rows_1h: number; rows_1d: number }>();

  const tasks = Array.from({ length: TASKS }, (_, t) => ({ id: `task-${t}`, kind: 'http', target: `https://site${t}.example.com/` }));
  await importTasks(ch, 'bench', tasks);
  const key: ApiKey = { id: 'vk_00000000000be5c0', secret: 'bench-secret-0123456789abcdefghijklmnopq', tenant: 'bench', scope: 'read', name: 'bench', created_at: '', revoked_at: null };
  const api = await startApi({ ch, keys: KeyRing.fromKeys([key]), host: '127.0.0.1', port: 0 });
  undo.push(() => api.close());
  const client = new VantageClient({ baseUrl: api.url, keyId: key.id, secret: key.secret });
  const range = { from: new Date((END_S - 7 * 86_400) * 1000).toISOString(), to: new Date(END_S * 1000).toISOString() };
  let task = 0;
  const query = (extra: Record<string, string>) => () => client.get('/v1/availability', { task: `task-${task++ % TASKS}`, group_by: 'region_isp', ...range, ...extra });

  progress(`timing ${RUNS} requests per case`);
  const CASES: [string, Record<string, string>, number][] = [
    ['UTC days', { granularity: 'day', tz: 'UTC' }, RUNS],
    ['Asia/Shanghai days', { granularity: 'day', tz: 'Asia/Shanghai' }, RUNS],
    ['Asia/Shanghai hours (168 buckets)', { granularity: 'hour', tz: 'Asia/Shanghai' }, RUNS],
    ['Asia/Shanghai, no series, every phase', { granularity: 'day', tz: 'Asia/Shanghai', series: 'false' }, RUNS],
    ['dashboard matrix: no series, whole check only', { granularity: 'day', tz: 'Asia/Shanghai', series: 'false', latency: 'total' }, RUNS],
    ['the same by probe (per-probe rollup)', { granularity: 'day', tz: 'Asia/Shanghai', series: 'false', group_by: 'probe' }, RUNS],
    ['reference: UTC days from the raw table (FINAL)', { granularity: 'day', tz: 'UTC', source: 'raw' }, Math.max(10, Math.round(RUNS / 3))],
  ];
  const cases: Record<string, Latency & { table: string }> = {};
  for (const [name, extra, runs] of CASES) {
    const latency = await time(runs, query(extra));
    const table = ((await query(extra)()).body as { query: { source: string } }).query.source;
    cases[name] = { ...latency, table };
  }
  const rawP95 = cases['reference: UTC days from the raw table (FINAL)']!.p95;
  const check = await query({ granularity: 'day', tz: 'UTC', series: 'false' })();
  const checkRaw = await query({ granularity: 'day', tz: 'UTC', series: 'false', source: 'raw' })();
  const body = check.body as { total: { checks: number }; groups: unknown[] };
  const rawBody = checkRaw.body as { total: { checks: number } };
  if (body.total.checks !== rawBody.total.checks) throw new Error(`rollup and raw disagree: ${body.total.checks} vs ${rawBody.total.checks}`);

  console.log(`\nAPI latency, 7-day availability of one task grouped by region × ISP (${body.groups.length} cells, ${body.total.checks.toLocaleString('en-US')} checks per task), ${RESULTS_N.toLocaleString('en-US')} results on clickhouse-server 18.16`);
  console.log(table([
    ['case', 'table', 'p50 ms', 'p95 ms', 'max ms', 'raw p95 / this', `p95 ≤ ${TARGET_P95_MS} ms`],
    ...Object.entries(cases).map(([name, l]) => [name, l.table, fmt(l.p50), fmt(l.p95), fmt(l.max), ratio(rawP95, l.p95), l.p95 <= TARGET_P95_MS ? 'met' : 'missed']),
  ]));
  console.log(`\nstored: ${Number(counts[0]!.raw).toLocaleString('en-US')} raw rows (rolled up: ${Number(counts[0]!.rolled_up).toLocaleString('en-US')}), ${Number(counts[0]!.rows_1h).toLocaleString('en-US')} rows in results_1h, ${Number(counts[0]!.rows_1d).toLocaleString('en-US')} in results_1d; generated in ${fmt(insertS)} s, merged in ${fmt(optimizeS)} s`);
  console.log('every case but the matrix: series of every bucket and p50/p90/p95/p99 of the whole check and of each phase, per cell');
  console.log(JSON.stringify({ bench: 'api', results: RESULTS_N, insert_s: Math.round(insertS), optimize_s: Math.round(optimizeS), ...counts[0], cases }));
}

main()
  .then(() => finish())
  .catch(async (err) => {
    console.error(err);
    await finish();
    process.exitCode = 1;
  });
