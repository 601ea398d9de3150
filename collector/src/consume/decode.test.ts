/** Decoding messages and the retry backoff: pure functions, no server. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { heartbeatSubject, resultSubject } from '@vantage/probe';
import { makeRecord } from '../../../test/helpers/records.ts';
import { backoffDelay } from './backoff.ts';
import { decodeHeartbeat, decodeResult, type Decoded } from './decode.ts';
import { makeHeartbeat } from './testing/harness.ts';

const bytes = (value: unknown) => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));
const reasonOf = <T>(d: Decoded<T>) => (d.ok ? 'ok' : d.reason);

const decode = suite('decode');

decode('a valid record on its own subject decodes', () => {
  const record = makeRecord('probe-a', 't1', 1);
  const decoded = decodeResult({ subject: resultSubject('tcp', 'probe-a'), data: bytes(record) });
  assert.ok(decoded.ok);
  assert.equal(decoded.ok && decoded.value, record);
});

decode('each kind of bad payload gets its class', () => {
  const subject = resultSubject('tcp', 'probe-a');
  const record = makeRecord('probe-a', 't1', 1);
  const cases: Array<[unknown, RegExp]> = [
    ['nope', /^not_json: not JSON/],
    [{ ...record, schema: 3 }, /^unknown_schema: schema 3 /],
    [{ ...record, schema: '1' }, /^invalid: schema: "1" is not one of 1/], // not a version, a wrong type
    [{ ...record, kind: 'smtp' }, /^invalid: kind: /],
    [{ ...record, probe_id: undefined }, /^invalid: probe_id: /],
    [null, /^invalid: /],
  ];
  for (const [payload, expect] of cases) assert.match(reasonOf(decodeResult({ subject, data: bytes(payload) })), expect);
  assert.match(reasonOf(decodeResult({ subject, data: bytes(record) }, 100)), /^too_large: \d+ bytes, more than 100$/);
  assert.match(reasonOf(decodeResult({ subject: resultSubject('dns', 'probe-a'), data: bytes(record) })), /^subject_mismatch: /);
});

decode('a reason is capped', () => {
  const record = { ...makeRecord('probe-a', 't1', 1), probe_labels: Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`k${i}`, i])) };
  const reason = reasonOf(decodeResult({ subject: resultSubject('tcp', 'probe-a'), data: bytes(record) }, 10_000_000));
  assert.ok(reason.startsWith('invalid: probe_labels.k0: '));
  assert.ok(reason.length <= 4001);
});

decode('heartbeats: valid, invalid, on another probe\'s subject', () => {
  const beat = makeHeartbeat('p1');
  assert.ok(decodeHeartbeat({ subject: heartbeatSubject('p1'), data: bytes(beat) }).ok);
  assert.match(reasonOf(decodeHeartbeat({ subject: heartbeatSubject('p2'), data: bytes(beat) })), /^subject_mismatch: a heartbeat of probe p1/);
  assert.match(reasonOf(decodeHeartbeat({ subject: heartbeatSubject('p1'), data: bytes({ ...beat, spool_depth: -1 }) })), /^invalid: spool_depth: must be at least 0/);
  assert.match(reasonOf(decodeHeartbeat({ subject: heartbeatSubject('p1'), data: bytes({ ...beat, schema: 2 }) })), /^unknown_schema: /);
  assert.match(reasonOf(decodeHeartbeat({ subject: heartbeatSubject('p1'), data: bytes('{') })), /^not_json: /);
});

decode.run();

const backoff = suite('backoff');

backoff('doubles from the first wait, stays capped, jitters within the upper half', () => {
  const policy = { initialMs: 100, maxMs: 1000 };
  assert.equal([0, 1, 2, 3, 4, 10, 100].map((a) => backoffDelay(a, policy, () => 1)), [100, 200, 400, 800, 1000, 1000, 1000]);
  assert.equal([0, 1, 4].map((a) => backoffDelay(a, policy, () => 0)), [50, 100, 500]);
  for (let i = 0; i < 200; i++) {
    const d = backoffDelay(3, policy);
    assert.ok(d >= 400 && d <= 800, String(d));
  }
});

backoff.run();
