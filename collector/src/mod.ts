/**
 * Public entry of @vantage/collector: the ClickHouse store that every central role shares
 * (opening a client on chDB or a server, the escaping helper, the schema and its migrations), and
 * the machinery to consume a stream (transports, the batching consumer loop, its metrics).
 * The analyzer and the API import storage only through here.
 */
export * from './store/sql.ts';
export { openClickHouse, clickHouseSettingsFromEnv, clickHouseErrorCode, toStoreError } from './store/clickhouse-client.ts';
export type { ClickHouse, ClickHouseSettings } from './store/clickhouse-client.ts';
export { migrate, appliedVersions } from './store/migrate.ts';
export type { MigrateOptions, MigrateResult } from './store/migrate.ts';
export { MIGRATIONS, schemaDdl } from './store/schema.ts';
export type { Migration, MigrationStep } from './store/schema.ts';
export { DATABASE, createTable, createView, storageTable } from './store/ddl.ts';
export type { SchemaOptions, TableDef, ViewDef } from './store/ddl.ts';
export * from './store/tables.ts';
export * from './store/tables-api.ts';
export * from './store/tables-alarms.ts';
export { StoreError } from './store/result-store.ts';
export { openClickHouseStore, ClickHouseStore } from './store/clickhouse-store.ts';
export { recordFromRow, heartbeatFromRow } from './store/rows.ts';
// Consuming a stream (the analyzer and the notifier use the collector's machinery).
export { ConsumerLoop } from './consume/consumer-loop.ts';
export type { ConsumerLoopOptions, LoopHealth } from './consume/consumer-loop.ts';
export type { BatchTarget } from './consume/batch-writer.ts';
export { decodeResult, decodeHeartbeat, DEFAULT_MAX_RECORD_BYTES } from './consume/decode.ts';
export type { Decoded, RawMessage, RejectClass } from './consume/decode.ts';
export { DEFAULT_BACKOFF, backoffDelay } from './consume/backoff.ts';
export type { BackoffPolicy } from './consume/backoff.ts';
export { CollectorMetrics, serveMetrics } from './run/metrics.ts';
export type { ConsumerMetrics } from './run/metrics.ts';
export type { RejectedMessage } from './store/result-store.ts';
// Transports: NATS JetStream, or in-process streams (`vantage up`).
export type { ConsumerLag, ConsumerSource, PullConsumer, StreamMessage, Transport, TransportState } from './transport/transport.ts';
export { NatsTransport } from './transport/nats-transport.ts';
export type { NatsSettings } from './transport/nats-transport.ts';
export { InProcessStreams } from './transport/in-process.ts';
export type { InProcessStreamSpec } from './transport/in-process.ts';
export type { DurableSpec } from './transport/durable-consumer.ts';
export { TransportSink } from './transport/transport-sink.ts';
