/**
 * The runtime validator the collector and analyzer use on every message they consume.
 */
import { envelope, keysValidators, type ResultRecord } from './record.ts';

/** Thrown for a record that must not be stored as a result; carries every problem found. */
export class InvalidRecordError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid record: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (+${problems.length - 5} more)` : ''}`);
    this.name = 'InvalidRecordError';
  }
}

/** Validates a parsed value; returns it typed, or throws InvalidRecordError. */
export function validateRecord(value: unknown): ResultRecord {
  const problems: string[] = [];
  const head = envelope(value, '', problems);
  if (head && head.kind && keysValidators[head.kind]) {
    keysValidators[head.kind]((value as Record<string, unknown>).keys, 'keys', problems);
  }
  if (problems.length > 0) throw new InvalidRecordError(problems);
  return value as ResultRecord;
}

/** Parses and validates one message payload (bytes or text) as sent on the results subjects. */
export function parseRecord(payload: Uint8Array | string): ResultRecord {
  const textPayload = typeof payload === 'string' ? payload : new TextDecoder('utf-8', { fatal: false }).decode(payload);
  let value: unknown;
  try {
    value = JSON.parse(textPayload);
  } catch (err) {
    throw new InvalidRecordError([`not JSON: ${(err as Error).message}`]);
  }
  return validateRecord(value);
}
