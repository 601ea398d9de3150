/**
 * Makes sure the results and heartbeats streams exist before the probe publishes. A probe only
 * creates what is missing, with the contract's limits; it never changes a stream someone else
 * configured (operators own that). Every failure — no permission, no JetStream, a timeout — is an
 * outcome to log, not an exception: the records wait in the spool either way.
 *
 * Only options nats-server 2.9 honours are set (no compression, metadata or message TTLs, which
 * 2.9 rejects or silently drops).
 */
import {
  jetstreamManager, DiscardPolicy, JetStreamApiCodes, JetStreamApiError, RetentionPolicy, StorageType, type StreamConfig,
} from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import {
  DEDUP_WINDOW_MS, HEARTBEAT_SUBJECTS, HEARTBEATS_MAX_AGE_MS, HEARTBEATS_STREAM, RESULTS_MAX_AGE_MS, RESULTS_STREAM, RESULTS_SUBJECTS,
} from '../contract/subjects.ts';

export type StreamSpec = Pick<StreamConfig, 'name' | 'subjects' | 'storage' | 'retention' | 'discard' | 'max_age' | 'duplicate_window' | 'num_replicas'>;

export interface StreamOutcome {
  stream: string;
  result: 'created' | 'exists' | 'failed';
  /** Why it failed (e.g. a permissions violation), for the log. */
  error?: string;
  /** Settings of an existing stream that differ from ours in a way that matters (e.g. a shorter dedup window). */
  mismatches?: string[];
}

/** JetStream API error: the name is in use with a different configuration (a race with another creator). */
const STREAM_NAME_IN_USE = 10058;

/** The streams the probe publishes to, as it creates them when they are missing. */
export function streamSpecs(): StreamSpec[] {
  const common = {
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    duplicate_window: nanos(DEDUP_WINDOW_MS),
    num_replicas: 1,
  };
  return [
    { ...common, name: RESULTS_STREAM, subjects: [RESULTS_SUBJECTS], max_age: nanos(RESULTS_MAX_AGE_MS) },
    { ...common, name: HEARTBEATS_STREAM, subjects: [HEARTBEAT_SUBJECTS], max_age: nanos(HEARTBEATS_MAX_AGE_MS) },
  ];
}

/** Creates each missing stream; never throws. */
export async function ensureStreams(nc: NatsConnection, opts: { timeoutMs?: number; specs?: StreamSpec[] } = {}): Promise<StreamOutcome[]> {
  let jsm;
  try {
    // checkAPI off: the account-info request it makes needs a permission a probe may not have.
    jsm = await jetstreamManager(nc, { timeout: opts.timeoutMs ?? 3000, checkAPI: false });
  } catch (err) {
    return (opts.specs ?? streamSpecs()).map((s) => ({ stream: s.name, result: 'failed', error: message(err) }));
  }
  const outcomes: StreamOutcome[] = [];
  for (const spec of opts.specs ?? streamSpecs()) {
    try {
      const info = await jsm.streams.info(spec.name);
      outcomes.push(existing(spec, info.config));
    } catch (err) {
      if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound)) {
        outcomes.push({ stream: spec.name, result: 'failed', error: message(err) });
        continue;
      }
      try {
        await jsm.streams.add({ ...spec });
        outcomes.push({ stream: spec.name, result: 'created' });
      } catch (addErr) {
        if (addErr instanceof JetStreamApiError && addErr.code === STREAM_NAME_IN_USE) {
          outcomes.push({ stream: spec.name, result: 'exists' });
        } else {
          outcomes.push({ stream: spec.name, result: 'failed', error: message(addErr) });
        }
      }
    }
  }
  return outcomes;
}

function existing(spec: StreamSpec, config: StreamConfig): StreamOutcome {
  const mismatches: string[] = [];
  if (config.duplicate_window < spec.duplicate_window) {
    mismatches.push(`duplicate_window ${config.duplicate_window / 1e6} ms is shorter than ${spec.duplicate_window / 1e6} ms: a long replay may store duplicates`);
  }
  for (const subject of spec.subjects) {
    if (!config.subjects?.includes(subject)) mismatches.push(`subjects ${JSON.stringify(config.subjects)} do not include ${subject}`);
  }
  return mismatches.length > 0 ? { stream: spec.name, result: 'exists', mismatches } : { stream: spec.name, result: 'exists' };
}

function message(err: unknown): string {
  return err instanceof Error ? `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}` : String(err);
}
