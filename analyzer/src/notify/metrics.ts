/** Prometheus metrics of the notifier (its own registry). */
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export class NotifierMetrics {
  readonly registry = new Registry();
  readonly #attempts = new Counter({
    name: 'vantage_notifier_attempts_total',
    help: 'Delivery attempts by channel and outcome (delivered, failed = will retry, dead_letter).',
    labelNames: ['channel', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly #seconds = new Histogram({
    name: 'vantage_notifier_attempt_duration_seconds',
    help: 'From sending a delivery to the channel\'s answer (or the time limit).',
    labelNames: ['channel'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly #deadLetters = new Counter({ name: 'vantage_notifier_dead_letters_total', help: 'Events given up on, by channel.', labelNames: ['channel'] as const, registers: [this.registry] });
  readonly #rateLimited = new Counter({ name: 'vantage_notifier_rate_limited_total', help: 'Times a delivery waited for the channel\'s rate limit.', labelNames: ['channel'] as const, registers: [this.registry] });

  constructor(opts: { processMetrics?: boolean } = {}) {
    if (opts.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'vantage_notifier_' });
  }

  attempt(channel: string, outcome: string, seconds: number): void {
    this.#attempts.inc({ channel, outcome });
    this.#seconds.observe({ channel }, seconds);
  }

  deadLetter(channel: string): void {
    this.#deadLetters.inc({ channel });
  }

  rateLimited(channel: string): void {
    this.#rateLimited.inc({ channel });
  }
}
