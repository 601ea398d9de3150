/**
 * An Alertmanager-compatible webhook payload (version "4"), so receivers written for Alertmanager
 * (e.g. prometheus-webhook-dingtalk, alertmanager-discord) work unchanged: one alert per message,
 * `fingerprint` = the alarm's, `endsAt` the resolve time (or the zero time while firing).
 */
import { string } from '../../../../probe/src/contract/shape.ts';
import type { AlarmEvent } from '../../alarms/event.ts';
import { absoluteLink, renderMessage } from '../message.ts';
import { acceptHttp, jsonRequest, type ChannelModule } from './channel.ts';

const ZERO_TIME = '0001-01-01T00:00:00Z';

/** The alert's labels: alertname (the rule), severity, what and where, then the rule's labels. */
export function alertLabels(event: AlarmEvent): Record<string, string> {
  const labels: Record<string, string> = { alertname: event.rule_id, severity: event.severity, rule_kind: event.rule_kind, scope: event.scope };
  for (const [key, value] of [['task_id', event.task_id], ['target', event.target], ['region', event.region], ['isp', event.isp], ['probe_id', event.probe_id]] as const) {
    if (value) labels[key] = value;
  }
  return { ...event.labels, ...labels };
}

export const alertmanager: ChannelModule = {
  type: 'alertmanager',
  defaultUrl: null,
  defaultRateLimit: null,
  keys: { receiver: { validator: string() as never } },
  secretKeys: [],
  build(event, channel, ctx) {
    const message = renderMessage(event, ctx.externalUrl);
    const status = event.kind === 'resolved' ? 'resolved' : 'firing';
    const labels = alertLabels(event);
    const annotations: Record<string, string> = { summary: message.title, description: event.summary };
    if (event.links.length > 0) annotations.evidence = event.links.slice(0, 5).map((l) => absoluteLink(l, ctx.externalUrl)).join(' ');
    const receiver = (channel.options.receiver as string | undefined) ?? 'vantage';
    return jsonRequest(channel.url, {
      version: '4',
      groupKey: `{}:{alertname=${JSON.stringify(event.rule_id)}, fingerprint=${JSON.stringify(event.fingerprint)}}`,
      truncatedAlerts: 0,
      status,
      receiver,
      groupLabels: { alertname: event.rule_id },
      commonLabels: labels,
      commonAnnotations: annotations,
      externalURL: ctx.externalUrl ?? '',
      alerts: [{
        status,
        labels,
        annotations,
        startsAt: event.started_at,
        endsAt: event.kind === 'resolved' ? event.at : ZERO_TIME,
        generatorURL: message.links[0] ?? ctx.externalUrl ?? '',
        fingerprint: event.fingerprint,
      }],
    }, { ...channel.headers, 'idempotency-key': ctx.idempotencyKey });
  },
  accept: acceptHttp,
};
