import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { newRecordId, recordIdTime } from './record-id.ts';

const MAX_MS = 2 ** 48 - 1;
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const newRecordIdSuite = suite('newRecordId');

newRecordIdSuite('makes RFC 9562 UUIDv7 strings (version 7, variant 10)', () => {
  for (let i = 0; i < 1000; i++) assert.match(newRecordId(), UUID_V7);
});

newRecordIdSuite('carries the given millisecond timestamp in its first 48 bits', () => {
  const t = Date.UTC(2026, 10, 3, 12, 34, 56, 789);
  const id = newRecordId(t);
  assert.is(recordIdTime(id), t);
  // RFC 9562 appendix A.6 example time 0x017F22E279B0: the id starts with its hex.
  assert.ok(newRecordId(0x017f22e279b0).startsWith('017f22e2-79b0-7'));
  assert.ok(newRecordId(MAX_MS).startsWith('ffffffff-ffff-7'));
});

newRecordIdSuite('sorts by time as plain strings', () => {
  const ids = [5, 1_000, 65_535, 65_536, 1_700_000_000_000, 1_700_000_000_001].map((t) => newRecordId(t));
  assert.equal([...ids].sort(), ids);
});

newRecordIdSuite('is unique across many ids in one millisecond', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 10_000; i++) seen.add(newRecordId(1_700_000_000_000));
  assert.is(seen.size, 10_000);
});

newRecordIdSuite('rejects timestamps outside 48 bits', () => {
  assert.throws(() => newRecordId(-1), /out of UUIDv7 range/);
  assert.throws(() => newRecordId(MAX_MS + 1), /out of UUIDv7 range/);
  assert.throws(() => newRecordId(Number.NaN), /out of UUIDv7 range/);
});

newRecordIdSuite.run();
