/**
 * Runs the API's SELECTs. A failing query is never the caller's fault (inputs are validated and
 * escaped before any SQL is built): an unreachable or overloaded engine is a 503, anything else
 * a 500 whose cause is logged by the server.
 */
import { toStoreError, type ClickHouse } from '@vantage/collector';
import { ApiError } from './errors.ts';

export class StorageError extends ApiError {
  constructor(message: string, readonly transient: boolean, options?: { cause?: unknown }) {
    super(transient ? 503 : 500, transient ? 'unavailable' : 'internal', transient ? 'storage unavailable, try again' : 'internal error');
    this.cause = options?.cause;
    this.detail = message;
  }
  detail: string;
}

export async function queryRows<T>(ch: ClickHouse, query: string, settings?: Record<string, string | number>): Promise<T[]> {
  try {
    const result = await ch.client.query({ query, format: 'JSONEachRow', ...(settings ? { clickhouse_settings: settings as never } : {}) });
    return await result.json<T>();
  } catch (err) {
    const store = toStoreError(err, 'query');
    throw new StorageError(store.message, store.transient, { cause: err });
  }
}

export async function insertRows(ch: ClickHouse, table: string, values: readonly object[]): Promise<void> {
  try {
    await ch.client.insert({ table, values: values as object[], format: 'JSONEachRow' });
  } catch (err) {
    const store = toStoreError(err, `insert into ${table}`);
    throw new StorageError(store.message, store.transient, { cause: err });
  }
}
