/**
 * Public entry of @vantage/collector: the ClickHouse store that every central role shares
 * (opening a client on chDB or a server, the escaping helper, the schema and its migrations).
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
