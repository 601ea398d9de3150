/** Prometheus metrics of the alarm service (its own registry; the analyzer may merge it into its own). */
import { Counter, Gauge, Registry } from 'prom-client';
import type { ConsumerMetrics } from '../../../collector/src/run/metrics.ts';
import type { AlarmEvent } from './event.ts';

export class AlarmMetrics {
  readonly registry: Registry;
  readonly #events: Counter<'kind' | 'rule_kind' | 'severity'>;
  readonly #published: Counter;
  readonly #firing: Gauge;
  /** The alarm-events → ClickHouse consumer. */
  readonly eventStore: ConsumerMetrics;

  constructor(registry: Registry = new Registry()) {
    this.registry = registry;
    const registers = [registry];
    this.#events = new Counter({ name: 'vantage_alarm_events_total', help: 'Alarm events made, by kind (firing, reminder, resolved), rule kind and severity.', labelNames: ['kind', 'rule_kind', 'severity'] as const, registers });
    this.#published = new Counter({ name: 'vantage_alarm_events_published_total', help: 'Alarm events stored in the alarms stream.', registers });
    this.#firing = new Gauge({ name: 'vantage_alarms_active', help: 'Alarms pending or firing now.', registers });
    const stored = new Counter({ name: 'vantage_alarm_events_stored_total', help: 'Alarm events copied into vantage.alarm_events.', registers });
    const rejected = new Counter({ name: 'vantage_alarm_events_rejected_total', help: 'Messages on the alarms stream that are not alarm events (kept in vantage.rejected_records).', registers });
    const retries = new Counter({ name: 'vantage_alarm_events_store_retries_total', help: 'Inserts into vantage.alarm_events that failed and were retried.', registers });
    this.eventStore = {
      consumed: () => undefined,
      inserted: (n) => stored.inc(n),
      rejected: (_reason, n) => rejected.inc(n),
      duplicatesSkipped: () => undefined,
      batch: () => undefined,
      insertSeconds: () => undefined,
      insertRetry: () => retries.inc(),
      lag: () => undefined,
    };
  }

  event(e: AlarmEvent): void {
    this.#events.inc({ kind: e.kind, rule_kind: e.rule_kind, severity: e.severity });
  }

  published(): void {
    this.#published.inc();
  }

  firing(n: number): void {
    this.#firing.set(n);
  }
}
