/**
 * The ClickHouse ResultStore on both engines (chDB and a real clickhouse-server 18.16): records of
 * every kind read back field for field, duplicates never change what queries return (raw with
 * dedup, rollups), stored-id lookups, rejected rows and heartbeats, hostile strings stored
 * verbatim, and StoreError says whether a failure is worth retrying.
 */
import { readFileSync } from 'node:fs';
import type { ResultRecord } from '@vantage/probe';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ENGINE_NAMES, rows, startEngines, type Engines, type EngineName } from '../../../test/helpers/clickhouse-engines.ts';
import { makeDnsRecord, makeHeartbeat, makeHttpRecord, makePingRecord } from '../../../test/helpers/kind-records.ts';
import { makeRecord } from '../../../test/helpers/records.ts';
import { ClickHouseStore } from './clickhouse-store.ts';
import { migrate } from './migrate.ts';
import { StoreError } from './result-store.ts';
import { heartbeatFromRow, recordFromRow, rejectedFromRow, resultRow } from './rows.ts';
import { sqlString, wellFormed } from './sql.ts';

const MINUTE = Date.UTC(2024, 4, 1, 10, 0, 0);

/** The record as the store gives it back: the slot in whole seconds, strings well-formed. */
function normalized(record: ResultRecord): ResultRecord {
  const slot = Math.floor(Date.parse(record.scheduled_at) / 1000) * 1000;
  return JSON.parse(JSON.stringify({ ...record, scheduled_at: new Date(slot).toISOString() }), (_k, v) =>
    typeof v === 'string' ? wellFormed(v) : v,
  );
}

async function readRecords(store: ClickHouseStore, taskId: string): Promise<ResultRecord[]> {
  const found = await rows(store.ch, `SELECT * FROM vantage.results FINAL WHERE task_id = ${sqlString(taskId)} ORDER BY started_at_ms, id`);
  return found.map(recordFromRow);
}

async function waitMutations(store: ClickHouseStore): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if ((await count(store, "SELECT count() AS n FROM system.mutations WHERE database = 'vantage' AND is_done = 0")) === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('mutations did not finish in 60 s');
}

async function count(store: ClickHouseStore, sql: string): Promise<number> {
  return Number((await rows<{ n: number }>(store.ch, sql))[0]!.n);
}

const test = suite<{ engines: Engines; stores: Map<EngineName, ClickHouseStore> }>('ClickHouse store');
test.before(async (ctx) => {
  ctx.engines = await startEngines();
  ctx.stores = new Map();
  for (const engine of ENGINE_NAMES) {
    await migrate(ctx.engines.get(engine).client);
    ctx.stores.set(engine, new ClickHouseStore(ctx.engines.get(engine), { now: () => MINUTE + 3_600_000 }));
  }
});
test.after(async (ctx) => {
  await ctx.engines?.cleanup();
});

for (const engine of ENGINE_NAMES) {
  test(`${engine}: records of every kind read back field for field`, async ({ stores }) => {
    const store = stores.get(engine)!;
    const o = { probeId: 'p1', taskId: 'kinds', atMs: MINUTE + 1234 };
    const records = [
      makeHttpRecord(o),
      makeHttpRecord({ ...o, ok: false, atMs: MINUTE + 2000 }),
      makeDnsRecord({ ...o, atMs: MINUTE + 3000 }),
      makePingRecord({ ...o, atMs: MINUTE + 4000 }),
      { ...makeRecord('p1', 'kinds', 1), started_at: new Date(MINUTE + 5000).toISOString() } as ResultRecord,
    ];
    await store.insertResults(records);
    const back = await readRecords(store, 'kinds');
    assert.equal(back.map((r) => r.id), records.map((r) => r.id));
    for (const [i, record] of records.entries()) assert.equal(back[i], normalized(record), `${record.kind} #${i}`);

    const [http] = await rows(store.ch, `SELECT http_status, dialed_ip, resolver, tls_verified, cert_expires_in_days, failure, ok,
      started_at, toString(started_at_ms) AS ms FROM vantage.results FINAL WHERE id = ${sqlString(records[1]!.id)}`);
    assert.equal(http, {
      http_status: 503, dialed_ip: '192.0.2.10', resolver: '127.0.0.53:53', tls_verified: 1, cert_expires_in_days: 1500.25,
      failure: 'http_status', ok: 0, started_at: '2024-05-01 10:00:02', ms: String(MINUTE + 2000),
    });
  });

  test(`${engine}: duplicates (redelivery, replay, repeats in a batch) never change raw or rollup queries`, async ({ stores }) => {
    const store = stores.get(engine)!;
    const records = [0, 1, 2, 3, 4].map((i) =>
      makeHttpRecord({ probeId: i % 2 ? 'p1' : 'p2', taskId: 'dup', atMs: MINUTE + i * 1000, ok: i !== 3, durationMs: 10 * (i + 1) }),
    );
    await store.insertResults(records);
    await store.insertResults(records); // a redelivered batch
    await store.insertResults([records[0]!, records[0]!, records[1]!]); // a replay with repeats
    const late = makeHttpRecord({ probeId: 'p1', taskId: 'dup', atMs: MINUTE + 30_000, durationMs: 60 });
    await store.insertResults([records[2]!, late]); // half stored, half new
    const where = "task_id = 'dup'";
    assert.is(await count(store, `SELECT count() AS n FROM vantage.results WHERE ${where}`), 6, 'nothing stored twice');

    // The documented availability / latency query over the per-minute rollup.
    const byRegion = await rows<Record<string, number | number[]>>(store.ch, `
      SELECT probe_region, probe_isp, countMerge(checks) AS checks, sumMerge(successes) AS ok_checks,
             countIfMerge(failures) AS failed, ok_checks / checks AS availability,
             minMerge(duration_min) AS dmin, maxMerge(duration_max) AS dmax, sumMerge(duration_sum) AS dsum,
             quantilesTDigestMerge(0.5, 0.9, 0.95, 0.99)(duration_q)[3] AS p95_ms,
             quantilesTDigestIfMerge(0.5, 0.9, 0.95, 0.99)(connect_q) AS connect_qs
      FROM vantage.results_1m
      WHERE ${where} AND minute >= toDateTime(${MINUTE / 1000}) AND minute < toDateTime(${MINUTE / 1000 + 3600})
      GROUP BY probe_region, probe_isp`);
    assert.is(byRegion.length, 1);
    const r = byRegion[0]!;
    assert.equal([r.checks, r.ok_checks, r.failed, r.dmin, r.dmax, r.dsum], [6, 5, 1, 10, 60, 210]);
    assert.is(r.availability, 5 / 6);
    assert.ok((r.p95_ms as number) >= 40 && (r.p95_ms as number) <= 60, `p95 ${r.p95_ms}`);
    assert.equal(r.connect_qs, [3.5, 3.5, 3.5, 3.5]);
    // Per probe and per minute, and the coarser rollups, agree.
    const perProbe = await rows<{ probe_id: string; checks: number }>(store.ch,
      `SELECT probe_id, countMerge(checks) AS checks FROM vantage.results_1m WHERE ${where} GROUP BY probe_id ORDER BY probe_id`);
    assert.equal(perProbe, [{ probe_id: 'p1', checks: 3 }, { probe_id: 'p2', checks: 3 }]);
    for (const table of ['results_1h', 'results_1d']) {
      assert.is(await count(store, `SELECT countMerge(checks) AS n FROM vantage.${table} WHERE ${where}`), 6, table);
    }

    // A copy that bypassed the store (written by hand): raw reads with dedup still see it once.
    await store.ch.client.insert({ table: 'vantage.results', values: [resultRow(records[4]!, MINUTE)], format: 'JSONEachRow' });
    assert.is(await count(store, `SELECT count() AS n FROM vantage.results WHERE ${where}`), 7);
    assert.is(await count(store, `SELECT count() AS n FROM vantage.results FINAL WHERE ${where}`), 6);
    assert.is(await count(store, `SELECT count() AS n FROM (SELECT id FROM vantage.results WHERE ${where} LIMIT 1 BY id)`), 6);
  });

  test(`${engine}: a batch whose earlier insert stopped half-way (raw stored, rollups not) repairs the rollups`, async ({ stores }) => {
    const store = stores.get(engine)!;
    const where = "task_id = 'half'";
    const records = [0, 1, 2, 3, 4, 5].map((i) =>
      makeHttpRecord({ probeId: 'p1', taskId: 'half', atMs: MINUTE + i * 20_000, ok: i !== 2, durationMs: 5 }),
    );
    const checks = async (table: string) => count(store, `SELECT countMerge(checks) AS n FROM vantage.${table} WHERE ${where}`);
    await store.insertResults(records);
    // What a server killed between writing `results` and the views leaves: rollup rows missing.
    for (const table of ['results_1m', 'results_1h']) {
      await store.ch.client.command({ query: `ALTER TABLE vantage.${table} DELETE WHERE ${where}` });
    }
    await waitMutations(store);
    assert.equal([await checks('results_1m'), await checks('results_1h'), await checks('results_1d')], [0, 0, 6]);

    const extra = makeHttpRecord({ probeId: 'p2', taskId: 'half', atMs: MINUTE + 7_000, ok: false });
    await store.insertResults([...records, extra]); // the retry of the batch, plus one new record
    assert.equal([await checks('results_1m'), await checks('results_1h'), await checks('results_1d')], [7, 7, 7]);
    const perMinute = await rows<{ minute: string; checks: number; ok: number }>(store.ch, `
      SELECT toString(minute) AS minute, countMerge(checks) AS checks, sumMerge(successes) AS ok
      FROM vantage.results_1m WHERE ${where} GROUP BY minute ORDER BY minute`);
    assert.equal(perMinute.map((r) => [r.minute.slice(11), Number(r.checks), Number(r.ok)]), [
      ['10:00:00', 4, 2], ['10:01:00', 3, 3],
    ]);
    await store.insertResults(records); // a replay when nothing is short changes nothing
    assert.equal([await checks('results_1m'), await checks('results_1h'), await checks('results_1d')], [7, 7, 7]);
  });

  test(`${engine}: a first attempt still drops records older than the stream's dedup window (a spool replayed late)`, async ({ stores }) => {
    const store = stores.get(engine)!;
    const where = "task_id = 'late-replay'";
    const old = makeHttpRecord({ probeId: 'p1', taskId: 'late-replay', atMs: MINUTE - 3 * 3_600_000 }); // 4 h before the store's clock
    await store.insertResults([old], { firstAttempt: true });
    await store.insertResults([old], { firstAttempt: true });
    assert.is(await count(store, `SELECT count() AS n FROM vantage.results WHERE ${where}`), 1);
    assert.is(await count(store, `SELECT countMerge(checks) AS n FROM vantage.results_1h WHERE ${where}`), 1);
  });

  test(`${engine}: storedIds finds exactly the stored records, over several lookup chunks`, async ({ stores }) => {
    const store = stores.get(engine)!;
    const stored = Array.from({ length: 450 }, (_, i) => makeRecord(`p${i % 7}`, `ids-${i % 3}`, i));
    const fresh = Array.from({ length: 5 }, (_, i) => makeRecord('p1', 'ids-0', 1000 + i));
    await store.insertResults(stored);
    const found = await store.storedIds([...fresh, ...stored]);
    assert.is(found.size, stored.length);
    for (const r of stored) assert.ok(found.has(r.id));
    for (const r of fresh) assert.not.ok(found.has(r.id));
    assert.is((await store.storedIds([])).size, 0);
    // Same id, other key (a forged copy): not the stored record.
    assert.is((await store.storedIds([{ ...stored[0]!, probe_id: 'other' }])).size, 0);
  });

  test(`${engine}: rejected records round-trip; payloads capped; NUL and SQL kept verbatim`, async ({ stores }) => {
    const store = stores.get(engine)!;
    const big = '{"x":"' + 'é'.repeat(40_000) + '"}'; // 80,008 bytes
    const input = [
      { receivedAtMs: MINUTE + 1, subject: 'vantage.results.v1.http.p1', streamSeq: 17, reason: 'keys.status: expected a number', payload: '{"a":1}' },
      { receivedAtMs: MINUTE + 2, subject: "s'\\\0", streamSeq: 18, reason: "'); DROP TABLE vantage.results; --", payload: 'nul\0 and \ud800 lone' },
      { receivedAtMs: MINUTE + 3, subject: 'big', streamSeq: 2 ** 40, reason: 'not JSON', payload: big },
    ];
    await store.insertRejected(input);
    const back = (await rows(store.ch, `SELECT * FROM vantage.rejected_records WHERE received_at_ms >= ${MINUTE} AND received_at_ms < ${MINUTE + 10} ORDER BY received_at_ms`)).map(rejectedFromRow);
    assert.equal(back.slice(0, 2), input.slice(0, 2).map((m) => ({ ...m, payload: wellFormed(m.payload), payloadBytes: Buffer.byteLength(wellFormed(m.payload)) })));
    assert.is(back[2]!.payloadBytes, 80_008);
    assert.is(Buffer.byteLength(back[2]!.payload), 65_536);
    assert.ok(big.startsWith(back[2]!.payload));
    assert.is(back[2]!.streamSeq, 2 ** 40);
  });

  test(`${engine}: heartbeats round-trip; the fleet query gives each probe's latest state once`, async ({ stores }) => {
    const store = stores.get(engine)!;
    const now = Date.now() - 60_000;
    const hbs = [
      makeHeartbeat('fleet-a', now - 30_000),
      makeHeartbeat('fleet-a', now, { spool_depth: 5, last_error: "nats: 'timeout'\0", labels: { "k'": 'v\\' } }),
      makeHeartbeat('fleet-b', now - 15_000, { asn: null }),
    ];
    await store.insertHeartbeats(hbs);
    await store.insertHeartbeats([hbs[1]!]); // a duplicate delivery
    const latest = await rows(store.ch, `
      SELECT * FROM vantage.probe_heartbeats FINAL
      WHERE sent_at >= now() - INTERVAL 1 DAY AND probe_id IN ('fleet-a', 'fleet-b')
      ORDER BY probe_id, sent_at_ms DESC LIMIT 1 BY probe_id`);
    assert.equal(latest.map(heartbeatFromRow), [hbs[1], hbs[2]]);
    assert.is(await count(store, "SELECT count() AS n FROM vantage.probe_heartbeats FINAL WHERE probe_id = 'fleet-a'"), 2);
  });

  test(`${engine}: hostile strings are stored verbatim and found again by storedIds`, async ({ stores }) => {
    const store = stores.get(engine)!;
    const base = makeHttpRecord({ probeId: 'p1', taskId: 'x', atMs: MINUTE + 7000, ok: false });
    const hostile = {
      ...base,
      task_id: "t'; DROP TABLE vantage.results; --",
      probe_id: 'p\\\'"`\0\n',
      target: 'https://例え.テスト/\0?q=\'" OR 1=1 -- 😀 \ud800',
      failure_detail: "'); DROP DATABASE vantage; --\0\\",
      probe_labels: { "k'\\": "v'\0", '{x:String}': '?' },
      keys: { ...base.keys, failed_assertion: "body_regexp /'\\\\/ \0 \ud83d" },
    } as ResultRecord;
    const tables = () => count(store, 'SELECT count() AS n FROM system.tables WHERE database = \'vantage\'');
    const tablesBefore = await tables();
    assert.ok(tablesBefore >= 10);
    await store.insertResults([hostile]);
    await store.insertResults([hostile]);
    const back = await readRecords(store, hostile.task_id);
    assert.equal(back, [normalized({ ...hostile, keys: base.keys } as ResultRecord)].map((r) => ({ ...r, keys: back[0]!.keys })));
    assert.equal(back[0]!.keys, hostile.keys, 'keys JSON is exact, lone surrogates included');
    assert.equal([...(await store.storedIds([hostile]))], [hostile.id]);
    assert.is(await tables(), tablesBefore, 'no table dropped');
  });
}

const README_QUERIES = [...readFileSync(new URL('../../README.md', import.meta.url), 'utf8').matchAll(/```sql\n([^]*?)```/g)].map((m) => m[1]!);

for (const engine of ENGINE_NAMES) {
  test(`${engine}: every query in collector/README.md runs`, async ({ stores }) => {
    const store = stores.get(engine)!;
    assert.ok(README_QUERIES.length >= 4);
    await store.insertResults([makeHttpRecord({ probeId: 'p1', taskId: 'web-home', atMs: Date.now() - 60_000 })]);
    for (const query of README_QUERIES) {
      try {
        await rows(store.ch, query);
      } catch (err) {
        assert.unreachable(`${query}\n${(err as Error).message}`);
      }
    }
    const availability = README_QUERIES.find((q) => q.includes('AS availability') && q.includes('probe_region, probe_isp'));
    const [row] = await rows<{ availability: number }>(store.ch, availability!);
    assert.is(row!.availability, 1);
  });
}

test('server: a crashed server is a transient StoreError; after a restart stored data is there', async ({ engines, stores }) => {
  const store = stores.get('server')!;
  const before = makeRecord('p1', 'outage', 1);
  const during = makeRecord('p1', 'outage', 2);
  await store.insertResults([before]);
  await engines.server.kill(); // SIGKILL: the insert above must survive it
  try {
    await store.insertResults([during]);
    assert.unreachable('the insert should fail while the server is down');
  } catch (err) {
    assert.instance(err, StoreError);
    assert.is((err as StoreError).transient, true, (err as Error).message);
  }
  await engines.server.restart();
  await store.insertResults([before, during]);
  assert.equal(await store.storedIds([before, during]), new Set([before.id, during.id]));
  assert.is(await count(store, "SELECT count() AS n FROM vantage.results WHERE task_id = 'outage'"), 2);
});

for (const engine of ENGINE_NAMES) {
  test(`${engine}: a missing schema is a permanent StoreError`, async ({ engines, stores }) => {
    await engines.get(engine).client.command({ query: 'DROP DATABASE vantage' });
    try {
      await stores.get(engine)!.insertHeartbeats([makeHeartbeat('p1', Date.now())]);
      assert.unreachable('the insert should fail without tables');
    } catch (err) {
      assert.instance(err, StoreError);
      assert.is((err as StoreError).transient, false, (err as Error).message);
    }
  });
}

test.run();
