/**
 * Generic webhook: the event as JSON, signed like Stripe's webhooks — header
 * `X-Vantage-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, one v1 per
 * configured secret so receivers can rotate secrets without a gap — plus an `Idempotency-Key`
 * that is the same on every attempt of one event.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { array, string } from '../../../../probe/src/contract/shape.ts';
import { absoluteLink, plainText, renderMessage } from '../message.ts';
import { acceptHttp, jsonRequest, type ChannelModule } from './channel.ts';

export const SIGNATURE_HEADER = 'x-vantage-signature';

export function signWebhook(body: string, secrets: readonly string[], unixSeconds: number): string {
  return [`t=${unixSeconds}`, ...secrets.map((secret) => `v1=${createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex')}`)].join(',');
}

/**
 * What a receiver does: true when one v1 matches one of its secrets and t is within `toleranceS`
 * of its clock (replays of old deliveries fail).
 */
export function verifyWebhookSignature(header: string, body: string, secrets: readonly string[], nowS: number, toleranceS = 300): boolean {
  const parts = header.split(',').map((p) => p.trim().split('='));
  const t = Number(parts.find(([k]) => k === 't')?.[1]);
  if (!Number.isInteger(t) || Math.abs(nowS - t) > toleranceS) return false;
  const given = parts.filter(([k, v]) => k === 'v1' && v !== undefined && /^[0-9a-f]{64}$/.test(v)).map(([, v]) => Buffer.from(v!, 'hex'));
  return secrets.some((secret) => {
    const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
    return given.some((g) => timingSafeEqual(g, expected));
  });
}

export const webhook: ChannelModule = {
  type: 'webhook',
  defaultUrl: null,
  defaultRateLimit: null,
  keys: { secrets: { validator: array(string(), { min: 1 }) as never } },
  secretKeys: ['secrets'],
  build(event, channel, ctx) {
    const message = renderMessage(event, ctx.externalUrl);
    const payload = {
      version: '1',
      status: event.kind === 'resolved' ? 'resolved' : 'firing',
      title: message.title,
      text: plainText(message),
      event: { ...event, links: event.links.map((l) => absoluteLink(l, ctx.externalUrl)) },
    };
    const request = jsonRequest(channel.url, payload, {
      ...channel.headers,
      'idempotency-key': ctx.idempotencyKey,
      'x-vantage-event-id': event.event_id,
      'x-vantage-event-kind': event.kind,
    });
    if (channel.secretValues.length > 0) request.headers[SIGNATURE_HEADER] = signWebhook(request.body, channel.secretValues, Math.floor(ctx.nowMs / 1000));
    return request;
  },
  accept: acceptHttp,
};
