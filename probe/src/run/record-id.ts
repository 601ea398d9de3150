/**
 * Record ids: RFC 9562 UUIDv7 — 48-bit Unix ms timestamp, version 7, 74 random bits. Time-sortable,
 * made when the check starts, and the idempotency key everywhere downstream (JetStream
 * Nats-Msg-Id, ClickHouse dedup). Stateless: two ids in the same millisecond order randomly,
 * which is fine because nothing orders records by id within one millisecond.
 */
import { randomBytes } from 'node:crypto';

const MAX_TIMESTAMP = 2 ** 48 - 1;

export function newRecordId(nowMs: number = Date.now()): string {
  const ms = Math.floor(nowMs);
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_TIMESTAMP) throw new RangeError(`timestamp out of UUIDv7 range: ${nowMs}`);
  const bytes = randomBytes(16);
  // 48-bit big-endian timestamp: split, because bit operators work on 32 bits.
  const high = Math.floor(ms / 2 ** 16);
  bytes.writeUInt32BE(high, 0);
  bytes.writeUInt16BE(ms % 2 ** 16, 4);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70; // version 7
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // variant 10
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The Unix ms timestamp inside a UUIDv7 (for tests and forensics). */
export function recordIdTime(id: string): number {
  const hex = id.replace(/-/g, '').slice(0, 12);
  return parseInt(hex, 16);
}
