/**
 * The one wrapper around every check (synthetic-monitoring's runProber): it makes the record id
 * when the check starts, owns the timeout and the clock, turns a bug or a hang into a failure
 * record, and builds the envelope. Checks only measure.
 */
import type { ProbeIdentity, Task } from '../config/config.ts';
import type { DnsServer } from '../config/endpoints.ts';
import type { FailureCode } from '../contract/failure.ts';
import { SCHEMA_VERSION, type CheckKind, type ResultRecord, type Timings } from '../contract/record.ts';
import type { CheckContext, CheckOutcome } from '../checks/check.ts';
import { checks } from '../checks/registry.ts';
import { describeError } from '../net/classify-error.ts';
import { newRecordId } from './record-id.ts';

export interface RunEnvironment {
  probe: ProbeIdentity;
  resolvers: DnsServer[];
  extraCaPem: string | null;
  probeVersion: string;
  /** Monotonic ms for durations. */
  now(): number;
  /** Wall-clock ms for timestamps and ids. */
  wallClock(): number;
  /** Aborts every running check (the probe is stopping for good). Each running check listens on it. */
  stopSignal?: AbortSignal;
}

/** A check that ignores its abort signal still ends this long after its timeout. */
const HANG_GRACE_MS = 500;

export async function runCheck(task: Task, scheduledAtMs: number, env: RunEnvironment): Promise<ResultRecord> {
  const wallStart = env.wallClock();
  const id = newRecordId(wallStart);
  const start = env.now();
  const outcome = await runGuarded(task, env);
  const durationMs = env.now() - start;
  return {
    schema: SCHEMA_VERSION,
    id,
    kind: task.kind,
    task_id: task.id,
    target: task.target,
    probe_id: env.probe.id,
    probe_region: env.probe.region,
    probe_isp: env.probe.isp,
    probe_asn: env.probe.asn,
    probe_labels: env.probe.labels,
    probe_version: env.probeVersion,
    scheduled_at: new Date(scheduledAtMs).toISOString(),
    started_at: new Date(wallStart).toISOString(),
    duration_ms: round(durationMs),
    ok: outcome.failure === null,
    failure: outcome.failure,
    failure_detail: outcome.failureDetail,
    timings_ms: roundTimings(outcome.timings),
    keys: outcome.keys,
  } as ResultRecord;
}

/**
 * Runs the check under its own abort controller: it aborts at the task's timeout or when the
 * probe stops, and everything it set up (timers, the listener on the long-lived stop signal) is
 * removed when the check ends, so a finished check leaves nothing behind.
 */
async function runGuarded(task: Task, env: RunEnvironment): Promise<CheckOutcome<CheckKind>> {
  const entry = checks[task.kind] as unknown as {
    run(task: Task, ctx: CheckContext): Promise<CheckOutcome<CheckKind>>;
    emptyKeys(task: Task): CheckOutcome<CheckKind>['keys'];
  };
  const failed = (failure: FailureCode, detail: string): CheckOutcome<CheckKind> => ({
    failure, failureDetail: detail, timings: {}, keys: entry.emptyKeys(task),
  });
  const controller = new AbortController();
  const ctx: CheckContext = { signal: controller.signal, now: env.now, probe: env.probe, resolvers: env.resolvers, extraCaPem: env.extraCaPem };

  // Once aborted, a check gets a short grace to return what it has; one that ignores its signal
  // (e.g. a ping process) is then recorded as a timeout.
  let graceTimer: NodeJS.Timeout | undefined;
  let giveUp!: (outcome: CheckOutcome<CheckKind>) => void;
  const hang = new Promise<CheckOutcome<CheckKind>>((resolve) => (giveUp = resolve));
  const abort = (reason: string) => {
    if (controller.signal.aborted) return;
    controller.abort(new DOMException(reason, 'TimeoutError'));
    graceTimer = setTimeout(() => giveUp(failed('timeout', `no result ${HANG_GRACE_MS} ms after the check was aborted (${reason})`)), HANG_GRACE_MS);
  };
  const timeoutTimer = setTimeout(() => abort(`timeout of ${task.timeoutMs} ms`), task.timeoutMs);
  const onStop = () => abort('the probe is stopping');
  if (env.stopSignal?.aborted) onStop();
  else env.stopSignal?.addEventListener('abort', onStop, { once: true });
  try {
    return await Promise.race([entry.run(task, ctx), hang]);
  } catch (err) {
    // A check must not throw; if one does, it is a probe bug, recorded rather than crashing the probe.
    return failed('unknown_failure', `probe error: ${describeError(err)}`);
  } finally {
    clearTimeout(timeoutTimer);
    clearTimeout(graceTimer);
    env.stopSignal?.removeEventListener('abort', onStop);
  }
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

function roundTimings(timings: Timings): Timings {
  const out: Timings = {};
  for (const [phase, ms] of Object.entries(timings) as [keyof Timings, number | undefined][]) {
    if (ms !== undefined) out[phase] = round(Math.max(0, ms));
  }
  return out;
}
