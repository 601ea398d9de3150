/**
 * Public entry of @vantage/collector: the ClickHouse store that every central role shares
 * (opening a client on chDB or a server, the escaping helper, the schema and its migrations), and
 * the machinery to consume a stream (transports, the batching consumer loop, its metrics).
 */
export * from './store/sql.ts';
export { openClickHouse, clickHouseSettingsFromEnv, toStoreError } from './store/clickhouse-client.ts';
export type { ClickHouse, ClickHouseSettings } from './store/clickhouse-client.ts';
export { migrate } from './store/migrate.ts';
export { DATABASE } from './store/ddl.ts';
export * from './store/tables.ts';
export * from './store/tables-api.ts';
export * from './store/tables-alarms.ts';
export { ClickHouseStore } from './store/clickhouse-store.ts';
export { recordFromRow } from './store/rows.ts';
// Consuming a stream (the analyzer and the notifier use the collector's machinery).
export { ConsumerLoop } from './consume/consumer-loop.ts';
export type { LoopHealth } from './consume/consumer-loop.ts';
export type { BatchTarget } from './consume/batch-writer.ts';
export { decodeResult, decodeHeartbeat } from './consume/decode.ts';
export { DEFAULT_BACKOFF } from './consume/backoff.ts';
export { CollectorMetrics, serveMetrics } from './run/metrics.ts';
export type { ConsumerMetrics } from './run/metrics.ts';
// Transports: NATS JetStream, or in-process streams (`vantage up`).
export type { Transport } from './transport/transport.ts';
export { NatsTransport } from './transport/nats-transport.ts';
export type { NatsSettings } from './transport/nats-transport.ts';
export { InProcessStreams } from './transport/in-process.ts';
export { TransportSink } from './transport/transport-sink.ts';
