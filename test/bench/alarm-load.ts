/**
 * Background load for the alarm-latency bench (a child process, so its CPU does not disturb the
 * bench's timestamps): publishes valid http result records of `--tasks` tasks × `--probes` probes,
 * all ok, at `--rate` per second to VANTAGE_RESULTS until stdin closes or SIGTERM; then prints one
 * JSON line {published, seconds, rate, failed}.
 *
 *   node --import tsx test/bench/alarm-load.ts --nats URL --rate 5000 [--tasks 200] [--probes 25]
 */
import { parseArgs } from 'node:util';
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { resultSubject } from '@vantage/probe';
import { newRecordId } from '../../probe/src/run/record-id.ts';
import { makeHttpRecord } from '../helpers/kind-records.ts';

const { values } = parseArgs({ options: { nats: { type: 'string' }, rate: { type: 'string', default: '5000' }, tasks: { type: 'string', default: '200' }, probes: { type: 'string', default: '25' } } });
const rate = Number(values.rate);
const tasks = Number(values.tasks);
const probes = Number(values.probes);
const TICK_MS = 20;
const MAX_IN_FLIGHT = 4000;

const nc = await connect({ servers: values.nats!, noAsyncTraces: true });
const js = jetstream(nc);
const encoder = new TextEncoder();
// One template per task × probe; each publish changes the id and times only.
const templates = Array.from({ length: tasks * probes }, (_, i) => {
  const record = makeHttpRecord({ probeId: `load-p${i % probes}`, taskId: `load-${Math.floor(i / probes)}`, atMs: Date.now() });
  return { record, subject: resultSubject('http', record.probe_id) };
});

let published = 0;
let failed = 0;
let inFlight = 0;
let next = 0;
let stopping = false;
const started = performance.now();
const stop = () => (stopping = true);
process.once('SIGTERM', stop);
process.stdin.on('end', stop).resume();

while (!stopping) {
  const due = Math.floor(((performance.now() - started) / 1000) * rate) - published - failed - inFlight;
  for (let n = 0; n < due && inFlight < MAX_IN_FLIGHT; n++) {
    const t = templates[next++ % templates.length]!;
    const now = Date.now();
    const at = new Date(now).toISOString();
    const record = { ...t.record, id: newRecordId(now), scheduled_at: new Date(Math.floor(now / 1000) * 1000).toISOString(), started_at: at };
    inFlight++;
    js.publish(t.subject, encoder.encode(JSON.stringify(record)), { msgID: record.id }).then(
      () => (inFlight--, published++),
      () => (inFlight--, failed++),
    );
  }
  await new Promise((r) => setTimeout(r, TICK_MS));
}
while (inFlight > 0) await new Promise((r) => setTimeout(r, 10));
const seconds = (performance.now() - started) / 1000;
process.stdout.write(`${JSON.stringify({ published, failed, seconds, rate: published / seconds })}\n`);
await nc.close();
