/**
 * PagerDuty Events API v2: `trigger` for firing and reminders, `resolve` for resolved, with
 * dedup_key = the alarm's fingerprint, so one alarm is one PagerDuty incident and a repeat is
 * folded into it. The routing key is the secret. PagerDuty answers 202; 400 is final.
 */
import { string } from '../../../../probe/src/contract/shape.ts';
import { renderMessage } from '../message.ts';
import { acceptHttp, jsonRequest, type ChannelModule } from './channel.ts';

export const PAGERDUTY_URL = 'https://events.pagerduty.com/v2/enqueue';

export const pagerduty: ChannelModule = {
  type: 'pagerduty',
  defaultUrl: PAGERDUTY_URL,
  defaultRateLimit: null,
  keys: { routing_key: { validator: string() as never, required: true } },
  secretKeys: ['routing_key'],
  build(event, channel, ctx) {
    const message = renderMessage(event, ctx.externalUrl);
    const body: Record<string, unknown> = {
      routing_key: channel.secretValues[0] ?? '',
      event_action: event.kind === 'resolved' ? 'resolve' : 'trigger',
      dedup_key: event.fingerprint,
    };
    if (event.kind !== 'resolved') {
      body.payload = {
        summary: message.title.slice(0, 1024),
        source: event.probe_id || (event.region ? `${event.region}${event.isp ? `/${event.isp}` : ''}` : 'vantage'),
        severity: event.severity,
        timestamp: event.at,
        component: event.target || event.task_id || undefined,
        group: event.task_id || undefined,
        class: event.rule_kind,
        custom_details: { summary: event.summary, rule: event.rule_id, scope: event.scope, started_at: event.started_at, event_id: event.event_id, ...event.details },
      };
      body.client = 'Vantage';
      if (ctx.externalUrl) body.client_url = ctx.externalUrl;
      body.links = message.links.map((href) => ({ href, text: 'evidence' }));
    }
    return jsonRequest(channel.url, body, channel.headers);
  },
  accept: acceptHttp,
};
