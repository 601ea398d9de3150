/** One delivery attempt of an event to a channel: build (and sign), POST, read the answer. */
import type { AlarmEvent } from '../alarms/event.ts';
import type { Acceptance, Answer, OutgoingRequest, ResolvedChannel } from './channels/channel.ts';
import { channelModule } from './channels/registry.ts';
import { post } from './http-post.ts';

export interface SendResult {
  request: OutgoingRequest;
  answer: Answer | null;
  acceptance: Acceptance;
  durationMs: number;
}

export async function sendOnce(event: AlarmEvent, channel: ResolvedChannel, o: { nowMs: number; externalUrl: string | null; userAgent: string }): Promise<SendResult> {
  const module = channelModule(channel.type);
  const request = module.build(event, channel, { nowMs: o.nowMs, externalUrl: o.externalUrl, idempotencyKey: event.event_id });
  const { answer, error, durationMs } = await post(request, channel.timeoutMs, o.userAgent);
  const acceptance = answer ? module.accept(answer) : { ok: false, retry: true, detail: error ?? 'no answer' };
  return { request, answer, acceptance, durationMs };
}
