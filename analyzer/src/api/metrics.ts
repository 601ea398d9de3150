/** The API's Prometheus metrics (its own registry: no global state). */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export class ApiMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'vantage_api_requests_total',
    help: 'Requests answered, by route (the path pattern), method and status.',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'vantage_api_request_duration_seconds',
    help: 'Time to answer a request, by route.',
    labelNames: ['route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly authFailures = new Counter({
    name: 'vantage_api_auth_failures_total',
    help: 'Requests refused before reaching a handler, by reason (missing, malformed, unknown_key, bad_secret, bad_signature, stale, replayed, busy, forbidden).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  constructor(gauges: { nonces(): number; keys(): number }) {
    collectDefaultMetrics({ register: this.registry, prefix: 'vantage_api_' });
    new Gauge({ name: 'vantage_api_nonces_remembered', help: 'Nonces of signed requests held for replay detection.', registers: [this.registry], collect() { this.set(gauges.nonces()); } });
    new Gauge({ name: 'vantage_api_keys', help: 'Live (not revoked) API keys.', registers: [this.registry], collect() { this.set(gauges.keys()); } });
  }
}
