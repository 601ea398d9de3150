/**
 * A collector process for the kill -9 test: its store keeps each batch it is given (two are
 * written at once), prints the ids it stored as one JSON line per batch, and never returns from the insert — so the process holds its
 * messages unacked until the test kills it, exactly between "insert landed" and "ack sent".
 * Env: NATS_URL, ACK_WAIT_MS, BATCH_SIZE.
 */
import { Collector } from '../collector.ts';
import { CollectorMetrics } from '../../run/metrics.ts';
import { MemoryStore } from './memory-store.ts';

const store = new MemoryStore();
store.gate = new Promise<void>(() => undefined); // never resolves
store.onInserted = (ids) => process.stdout.write(`${JSON.stringify(ids)}\n`);
const collector = new Collector({
  nats: { url: process.env.NATS_URL!, credentials: null, nkeySeedFile: null, user: null, password: null, token: null },
  store,
  batchSize: Number(process.env.BATCH_SIZE ?? 50),
  batchMs: 200,
  fetchExpiresMs: 1000,
  ackWaitMs: Number(process.env.ACK_WAIT_MS ?? 1000),
  metrics: new CollectorMetrics({ processMetrics: false }),
});
collector.start();
