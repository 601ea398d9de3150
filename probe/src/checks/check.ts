/**
 * What every check kind implements. A check measures and returns data; it never throws for a
 * network failure (that is a failure code in the outcome). The wrapper in run/run-check.ts owns
 * the timeout, the clock, the record id and the envelope.
 */
import type { ProbeIdentity, TaskOf } from '../config/config.ts';
import type { DnsServer } from '../config/endpoints.ts';
import type { FailureCode } from '../contract/failure.ts';
import type { CheckKind, KeysByKind, Timings } from '../contract/record.ts';

export interface CheckContext {
  /** Aborts when the task's timeout passes (or the probe stops). */
  signal: AbortSignal;
  /** Monotonic milliseconds (performance.now by default); injected so tests control time. */
  now(): number;
  probe: ProbeIdentity;
  /** The probe's local resolvers, used for a task's own queries and to resolve dial targets. */
  resolvers: DnsServer[];
  /** Extra trusted CA certificates (PEM), added to Node's bundled roots. */
  extraCaPem: string | null;
}

export interface CheckOutcome<K extends CheckKind> {
  failure: FailureCode | null;
  failureDetail: string | null;
  timings: Timings;
  keys: KeysByKind[K];
}

export type CheckFn<K extends CheckKind> = (task: TaskOf<K>, ctx: CheckContext) => Promise<CheckOutcome<K>>;
