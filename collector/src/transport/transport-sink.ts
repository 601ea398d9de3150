/**
 * A probe's RecordSink that publishes through a Transport: how the probes of `vantage up` hand
 * records and heartbeats to the in-process streams (deployed probes use the JetStream publisher
 * with its disk spool). Subjects and message ids are the wire contract's.
 */
import { heartbeatSubject, resultSubject, type Heartbeat, type ResultRecord } from '@vantage/probe';
import type { RecordSink, SinkStats } from '../../../probe/src/publish/publisher.ts';
import type { Transport } from './transport.ts';

const encoder = new TextEncoder();

export class TransportSink implements RecordSink {
  #lastError: string | null = null;

  constructor(private readonly transport: Transport) {}

  async publish(record: ResultRecord): Promise<void> {
    await this.#send(resultSubject(record.kind, record.probe_id), record, record.id);
  }

  async publishHeartbeat(heartbeat: Heartbeat): Promise<void> {
    await this.#send(heartbeatSubject(heartbeat.probe_id), heartbeat, `${heartbeat.probe_id}@${heartbeat.sent_at}`);
  }

  stats(): SinkStats {
    return { spoolDepth: 0, spoolDropped: 0, lastError: this.#lastError, connection: this.transport.state };
  }

  async close(): Promise<void> {}

  async #send(subject: string, value: unknown, msgId: string): Promise<void> {
    try {
      await this.transport.publish(subject, encoder.encode(JSON.stringify(value)), msgId);
      this.#lastError = null;
    } catch (err) {
      this.#lastError = (err as Error).message;
      throw err;
    }
  }
}
