/**
 * Bad input never stops the collector and is never dropped silently. On the results subjects,
 * interleaved with 240 valid records: messages that are not JSON (garbage, empty, invalid UTF-8,
 * SQL with NUL bytes), a 2 MB payload, wrong types, JSON that is not a record, an unknown schema
 * version, an unknown kind, a forged id, a record on another probe's subject, 5,000 problems in
 * one record, deep nesting — plus a garbage heartbeat. Each lands once in vantage.rejected_records
 * with its reason class, its payload (cut at 64 KiB) and its size. Valid records carrying SQL,
 * quotes, backslashes and NUL in every free-text field (task id, target, region, labels' keys and
 * values, failure_detail, every string in keys, even keys' property names) are stored verbatim,
 * field for field; every valid record around them is stored exactly once with exact rollups; the
 * collector keeps running and /healthz stays ok.
 */
import { jetstream } from '@nats-io/jetstream';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { HEARTBEATS_STREAM, heartbeatSubject, resultSubject, validateRecord, type ResultRecord } from '@vantage/probe';
import { recordFromRow } from '../../collector/src/store/rows.ts';
import { sqlString } from '../../collector/src/store/sql.ts';
import { makeDnsRecord, makeHttpRecord, makePingRecord } from '../helpers/kind-records.ts';
import {
  asStoredBy, assertExactlyStored, cleanupAll, consumerInfo, makeTcpRecord, natsClient, recordSet, rows, startCollector, startServers, waitAllStored, waitFor,
} from './helpers.ts';

/** SQL and escapes: quotes of every kind, backslashes before quotes, NUL and other control bytes. */
const HOSTILE = `'); DROP TABLE vantage.results; -- \\' \\\\' " \` \u0000 \\x00 \\0 \t\r\n ' OR '1'='1 {x} $1 ? 边缘 😀`;

/** Fields of keys that hold one of a fixed set of values, not free text. */
const ENUMS = new Set(['role', 'transport', 'failure']);

/** Every free-text string in `value` (recursively) with HOSTILE appended. */
function poisoned<T>(value: T): T {
  if (typeof value === 'string') return `${value}${HOSTILE}` as T;
  if (Array.isArray(value)) return value.map(poisoned) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, ENUMS.has(k) ? v : poisoned(v)])) as T;
  }
  return value;
}

/** A valid record with hostile text in every free-text field the contract allows. */
function hostile(record: ResultRecord, probeId: string, taskId: string): ResultRecord {
  return validateRecord({
    ...record,
    task_id: taskId,
    probe_id: probeId,
    target: `${record.target}${HOSTILE}`,
    probe_region: HOSTILE,
    probe_isp: `isp${HOSTILE}`,
    probe_version: `0.1.0${HOSTILE}`,
    probe_labels: { [`rack${HOSTILE}`]: HOSTILE, "'": '\\', '\u0000': '\u0000', 'tier name': '边缘' },
    failure_detail: record.failure === null ? null : `detail${HOSTILE}`,
    keys: { ...poisoned(record.keys), [`extra${HOSTILE}`]: HOSTILE },
  });
}

interface Bad {
  what: string;
  subject: string;
  payload: Uint8Array;
  /** Accepted reason classes (the stored reason starts with "<class>: "). */
  classes: string[];
}

const enc = (text: string) => new TextEncoder().encode(text);

function badMessages(base: ResultRecord): Bad[] {
  const subject = resultSubject(base.kind, base.probe_id);
  const json = (value: unknown) => enc(JSON.stringify(value));
  const bad = (what: string, classes: string[], payload: Uint8Array, on = subject): Bad => ({ what, subject: on, payload, classes });
  const manyProblems = { ...base, probe_labels: Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`label-${i}`, i])) };
  return [
    bad('garbage text', ['not_json'], enc('hello, collector')),
    bad('truncated JSON', ['not_json'], enc(JSON.stringify(base).slice(0, 120))),
    bad('empty payload', ['not_json'], new Uint8Array()),
    bad('invalid UTF-8', ['not_json'], new Uint8Array([0xff, 0xfe, 0x00, 0x80, 0x7b])),
    bad('SQL with NUL bytes', ['not_json'], enc(`${HOSTILE}; SELECT * FROM system.users`)),
    bad('2 MB payload', ['too_large'], json({ ...base, failure_detail: 'x'.repeat(2 * 1024 * 1024) })),
    bad('wrong types', ['invalid'], json({ ...base, duration_ms: 'fast', ok: 'yes', probe_asn: -1, timings_ms: { connect: '3' } })),
    bad('JSON null', ['invalid'], enc('null')),
    bad('JSON array', ['invalid'], enc('[1, 2, 3]')),
    bad('JSON string', ['invalid'], enc('"a record"')),
    bad('unknown schema version', ['unknown_schema'], json({ ...base, schema: 2 })),
    bad('unknown kind', ['invalid'], json({ ...base, kind: 'smtp' }), `vantage.results.v1.smtp.${base.probe_id}`),
    bad('forged id', ['invalid'], json({ ...base, id: "'; DROP TABLE vantage.results; --" })),
    bad("another probe's subject", ['subject_mismatch'], json(base), resultSubject(base.kind, 'probe-other')),
    bad('5,000 problems', ['invalid'], json(manyProblems)),
    bad('nesting 100,000 deep', ['not_json', 'invalid'], enc(`${'['.repeat(100_000)}${']'.repeat(100_000)}`)),
    bad('prototype pollution', ['invalid'], enc('{"__proto__": {"schema": 1, "ok": true}, "constructor": {"prototype": {"x": 1}}}')),
    bad('garbage heartbeat', ['not_json'], enc(`{"probe_id": "x"${HOSTILE}`), heartbeatSubject(base.probe_id)),
  ];
}

const test = suite('bad input on the results subjects');
test.after.each(cleanupAll);

test('every bad message is kept with its reason, hostile text is stored verbatim, valid records around them all stored', async () => {
  // nats-server refuses payloads above 1 MiB by default: allow the 2 MB one through to the collector.
  const servers = await startServers({ natsConfig: 'max_payload: 4194304\n' });
  const nc = await natsClient(servers.nats.url);
  const collector = await startCollector({ natsUrl: servers.nats.url, env: servers.env, batchSize: 50, batchMs: 100 });

  const valid = recordSet(240, { minutes: 3 });
  const hostileRecords = [
    hostile(makeHttpRecord({ probeId: 'x', taskId: 'x', ok: false }), `probe'\\"--;DROP`, `t'); DROP TABLE vantage.results; --\\\u0000"`),
    hostile(makeDnsRecord({ probeId: 'x', taskId: 'x' }), 'probe-dns', `dns\\'\\\\'`),
    hostile(makePingRecord({ probeId: 'x', taskId: 'x' }), 'probe-ping', "ping' OR '1'='1"),
    hostile(makeTcpRecord({ probeId: 'x', taskId: 'x', ok: false }), 'probe-tcp', 'tcp\u0000\n\t'),
  ];
  const bad = badMessages(valid[0]!);

  // Interleaved: ten valid records, then a bad message or a hostile record, and so on.
  const js = jetstream(nc, { timeout: 10_000 });
  const odd = [...bad.map((b) => ({ bad: b })), ...hostileRecords.map((r) => ({ record: r }))];
  const sentBad: Array<Bad & { seq: number }> = [];
  for (let i = 0, o = 0; i < valid.length || o < odd.length; i += 10, o++) {
    for (const r of valid.slice(i, i + 10)) await js.publish(resultSubject(r.kind, r.probe_id), JSON.stringify(r), { msgID: r.id });
    const next = odd[o];
    if (next && 'bad' in next) sentBad.push({ ...next.bad!, seq: (await js.publish(next.bad!.subject, next.bad!.payload)).seq });
    else if (next) await js.publish(resultSubject(next.record!.kind, next.record!.probe_id), JSON.stringify(next.record), { msgID: next.record!.id });
  }

  const stored = [...valid, ...hostileRecords];
  await waitAllStored(servers.db, nc, stored, 30_000, () => collector.logs());
  await waitFor('the heartbeat consumer settled', async () => {
    const info = await consumerInfo(nc, HEARTBEATS_STREAM, 'collector-heartbeats');
    return info.num_pending + info.num_ack_pending === 0;
  });

  // Every bad message: one row, the right reason class, the payload as text and its full size.
  const rejected = await rows<{ subject: string; stream_seq: number; reason: string; payload: string; payload_bytes: number }>(servers.db, `
    SELECT subject, stream_seq, reason, payload, payload_bytes FROM vantage.rejected_records
    ORDER BY subject, stream_seq LIMIT 1 BY subject, stream_seq`);
  assert.is(rejected.length, bad.length, `${bad.length} rejected messages: ${rejected.map((r) => r.reason.slice(0, 80)).join(' | ')}`);
  for (const sent of sentBad) {
    const row = rejected.find((r) => r.subject === sent.subject && Number(r.stream_seq) === sent.seq);
    assert.ok(row, `${sent.what}: kept`);
    assert.ok(sent.classes.some((c) => row.reason.startsWith(`${c}: `)), `${sent.what}: reason ${row.reason.slice(0, 200)}`);
    assert.ok(row.reason.length <= 4001, `${sent.what}: reason capped`);
    assert.is(Number(row.payload_bytes), sent.payload.length, `${sent.what}: payload size`);
    const text = new TextDecoder().decode(sent.payload);
    if (sent.payload.length <= 64 * 1024) assert.is(row.payload, text, `${sent.what}: payload kept as text`);
    else {
      const kept = Buffer.byteLength(row.payload);
      assert.ok(kept <= 64 * 1024 && kept > 64 * 1024 - 4 && text.startsWith(row.payload), `${sent.what}: payload cut at 64 KiB (${kept} bytes kept)`);
    }
  }
  const reasonOf = (what: string) => rejected.find((r) => Number(r.stream_seq) === sentBad.find((b) => b.what === what)!.seq)!.reason;
  assert.match(reasonOf('wrong types'), /duration_ms: expected a number/);
  assert.match(reasonOf('wrong types'), /ok: expected true or false/);
  assert.match(reasonOf('unknown schema version'), /schema 2 \(this collector reads 1\)/);

  // Hostile text: stored and read back verbatim, field for field.
  const back = (await rows(servers.db, `SELECT * FROM vantage.results FINAL WHERE id IN (${hostileRecords.map((r) => sqlString(r.id)).join(', ')})`)).map(recordFromRow);
  const expected = await asStoredBy(servers.db, hostileRecords);
  for (const record of expected.records) assert.equal(back.find((r) => r.id === record.id), record, `hostile ${record.kind} record verbatim`);
  const [labels] = await rows<{ rack: string }>(servers.db, `SELECT probe_label_values[indexOf(probe_label_keys, ${sqlString(`rack${HOSTILE}`)})] AS rack
    FROM vantage.results FINAL WHERE task_id = ${sqlString(hostileRecords[0]!.task_id)}`);
  assert.is(labels!.rack, HOSTILE, 'a label looked up by its hostile key');

  // Everything valid stored exactly once, rollups exact; nothing dropped or damaged.
  await assertExactlyStored(servers.db, stored);
  const tables = await rows<{ name: string }>(servers.db, "SELECT name FROM system.tables WHERE database = 'vantage' ORDER BY name");
  assert.ok(['probe_heartbeats', 'rejected_records', 'results', 'results_1m', 'schema_migrations'].every((t) => tables.some((r) => r.name === t)));

  // The collector: still running, healthy, and it counted what it rejected.
  assert.ok(collector.running, 'the collector is still running');
  const health = await collector.health();
  assert.is(health.status, 200, JSON.stringify(health.body));
  assert.is(health.body.status, 'ok');
  const countedAs = async (reason: string, consumer = 'collector') => collector.metric('vantage_collector_rejected_total', { consumer, reason });
  const resultsBad = sentBad.filter((b) => !b.subject.startsWith('vantage.heartbeat.'));
  let counted = 0;
  for (const reason of ['not_json', 'too_large', 'invalid', 'unknown_schema', 'subject_mismatch', 'store_refused']) counted += await countedAs(reason);
  assert.is(counted, resultsBad.length, 'rejections counted in /metrics');
  assert.is(await countedAs('not_json', 'collector-heartbeats'), 1);
  assert.is(await collector.metric('vantage_collector_inserted_total'), stored.length);
  assert.is(await collector.stop(), 0, collector.logs());
});

test.run();
