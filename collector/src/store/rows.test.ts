/**
 * Row mapping without a database: extracted columns per kind, and the documented substitutes for
 * values a column cannot hold (mapping must never throw, or one record would block a batch).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { makeDnsRecord, makeHeartbeat, makeHttpRecord, makePingRecord } from '../../../test/helpers/kind-records.ts';
import { makeRecord } from '../../../test/helpers/records.ts';
import { heartbeatRow, REJECTED_PAYLOAD_MAX_BYTES, rejectedRow, resultRow, uuidV7Ms } from './rows.ts';

const test = suite('row mapping');
const AT = Date.UTC(2024, 4, 1, 10, 0, 5, 250);
const o = { probeId: 'p1', taskId: 't1', atMs: AT };

test('envelope: times in seconds plus exact ms; labels as parallel arrays; failure "" for none', () => {
  const row = resultRow(makeHttpRecord(o), AT + 1000);
  assert.is(row.started_at, Math.floor(AT / 1000));
  assert.is(row.started_at_ms, AT);
  assert.is(row.scheduled_at, Math.floor(AT / 1000));
  assert.is(row.inserted_at, Math.floor(AT / 1000) + 1);
  assert.equal([row.probe_label_keys, row.probe_label_values], [['rack', 'tier name'], ['r1', '边缘']]);
  assert.is(row.failure, '');
  assert.is(row.failure_detail, null);
  assert.is(row.ok, 1);
  assert.equal([row.resolve_ms, row.connect_ms, row.tls_ms, row.processing_ms, row.transfer_ms], [1.25, 3.5, 7.75, 20, 0.5]);
});

test('per-kind columns', () => {
  const http = resultRow(makeHttpRecord({ ...o, ok: false }), AT);
  assert.equal(
    [http.resolver, http.dialed_ip, http.resolved_ips, http.http_status, http.tls_verified, http.cert_expires_in_days, http.failure],
    ['127.0.0.53:53', '192.0.2.10', ['192.0.2.10', '2001:db8::10'], 503, 1, 1500.25, 'http_status'],
  );
  const dns = resultRow(makeDnsRecord(o), AT);
  assert.equal([dns.resolver, dns.dialed_ip, dns.resolved_ips, dns.http_status], ['', '', ['198.51.100.7', '192.0.2.10'], null]);
  const ping = resultRow(makePingRecord(o), AT);
  assert.equal([ping.ping_loss_pct, ping.dialed_ip, ping.connect_ms], [33.333333333333336, '192.0.2.10', null]);
  const tcp = resultRow(makeRecord('p1', 't1', 1), AT);
  assert.equal([tcp.tls_verified, tcp.resolver, tcp.dialed_ip, tcp.connect_ms], [null, '', '127.0.0.1', 0.4]);
});

test('substitutes: bad times, huge numbers, lone surrogates', () => {
  const record = makeHttpRecord(o);
  const odd = {
    ...record,
    started_at: 'not a time',
    scheduled_at: '9999-01-01T00:00:00Z',
    probe_asn: 1e20,
    target: 'a\ud800b',
    keys: { ...record.keys, status: 70_000, failed_assertion: 'x\udc00' },
  } as typeof record;
  const row = resultRow(odd, AT);
  assert.is(row.started_at_ms, uuidV7Ms(record.id));
  assert.is(row.started_at_ms, AT, 'the id holds the start time');
  assert.is(row.scheduled_at, row.started_at);
  assert.is(row.probe_asn, Number.MAX_SAFE_INTEGER);
  assert.is(row.target, 'a\ufffdb');
  assert.is(row.http_status, null);
  assert.is(JSON.parse(row.keys).failed_assertion, 'x\udc00', 'keys stay exact: JSON escapes the surrogate');
});

test('heartbeats: bad times fall back to the receive time', () => {
  const row = heartbeatRow(makeHeartbeat('p1', AT, { sent_at: 'yesterday', started_at: '' }), AT + 5);
  assert.equal([row.sent_at_ms, row.started_at_ms, row.received_at], [AT + 5, AT + 5, Math.floor((AT + 5) / 1000)]);
});

test('rejected payloads are capped at 64 KiB on a character boundary; the original size is kept', () => {
  const payload = '中'.repeat(30_000); // 90,000 bytes, 3 per character
  const row = rejectedRow({ receivedAtMs: NaN, subject: 's', streamSeq: 7, reason: 'bad', payload }, AT);
  assert.is(row.payload_bytes, 90_000);
  assert.is(Buffer.byteLength(row.payload), Math.floor(REJECTED_PAYLOAD_MAX_BYTES / 3) * 3);
  assert.ok(payload.startsWith(row.payload));
  assert.is(row.received_at_ms, AT, 'an invalid receive time becomes now');
  // Invalid UTF-8 arrives as U+FFFD (3 bytes each): the size kept is the payload's as received.
  const replaced = rejectedRow({ receivedAtMs: AT, subject: 's', streamSeq: 8, reason: 'bad', payload: '\ufffd\ufffd{', payloadBytes: 3 }, AT);
  assert.equal([replaced.payload, replaced.payload_bytes], ['\ufffd\ufffd{', 3]);
});

test.run();
