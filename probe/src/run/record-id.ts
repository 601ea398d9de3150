/**
 * Record ids: RFC 9562 UUIDv7 — 48-bit Unix ms timestamp, version 7, 74 random bits. Time-sortable,
 * made when the check starts, and the idempotency key everywhere downstream (JetStream
 * Nats-Msg-Id, ClickHouse dedup). Stateless: two ids in the same millisecond order randomly,
 * which is fine because nothing orders records by id within one millisecond.
 */
import { randomUUID } from 'node:crypto';

const MAX_TIMESTAMP = 2 ** 48 - 1;

export function newRecordId(nowMs: number = Date.now()): string {
  const ms = Math.floor(nowMs);
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_TIMESTAMP) throw new RangeError(`timestamp out of UUIDv7 range: ${nowMs}`);
  // The random bits come from a v4 UUID (Node draws those from a pooled buffer, far cheaper than
  // randomBytes per id): its variant bits are already RFC 9562's, only the version nibble changes.
  const random = randomUUID(); // xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx
  const time = ms.toString(16).padStart(12, '0');
  return `${time.slice(0, 8)}-${time.slice(8)}-7${random.slice(15)}`;
}

/** The Unix ms timestamp inside a UUIDv7 (for tests and forensics). */
export function recordIdTime(id: string): number {
  const hex = id.replace(/-/g, '').slice(0, 12);
  return parseInt(hex, 16);
}
