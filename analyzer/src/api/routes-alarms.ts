/**
 * Alarms: what fires now and the incidents of a range, one alarm with its events and delivery
 * attempts, and the delivery log.
 */
import { ID_PATTERN } from '@vantage/probe';
import { DELIVERY_OUTCOMES, getAlarm, listAlarms, listDeliveries, SEVERITIES } from './alarms.ts';
import { notFound } from './errors.ts';
import { instant, integer, listOf, oneOf, required, text, withDefault } from './params.ts';
import { ref, route, timeRange, type ApiContext } from './route.ts';

const DAY = 86_400;
const RANGE_MAX = 31 * DAY;

function range(api: ApiContext, q: { from?: number; to?: number }): { fromMs: number; toMs: number } {
  const { from, to } = timeRange(api, q, RANGE_MAX);
  return { fromMs: from * 1000, toMs: to * 1000 };
}

/** The query parameters `range` reads. */
const RANGE_QUERY = {
  from: instant({ description: 'Start of the range (RFC 3339). Default: `to` minus 24 hours.' }),
  to: instant({ description: 'End of the range (RFC 3339). Default: now. At most 31 days after `from`.' }),
};

const fingerprint = () => text({ description: 'An alarm\'s fingerprint (16 hex digits).', maxLength: 16, pattern: /^[0-9a-f]{16}$/, hint: '16 hex digits' });

const alarms = route({
  method: 'GET',
  path: '/v1/alarms',
  tag: 'alarms',
  summary: 'Alarms firing now, or every incident of a time range',
  description: '`state=firing`: every alarm whose latest event is not `resolved` (the range does not apply). `state=all`: every incident (an alarm from firing to resolved) that overlaps the range, newest first. A tenant sees the alarms of its tasks and targets, and the fleet\'s probe_offline alarms.',
  scope: 'read',
  query: {
    state: withDefault(oneOf(['firing', 'all'] as const, { description: 'Firing now, or all incidents of the range.' }), 'all'),
    ...RANGE_QUERY,
    task: text({ description: 'Only alarms of this task.', maxLength: 64, pattern: ID_PATTERN, hint: 'a task id' }),
    target: text({ description: 'Only alarms about this target.', maxLength: 2048 }),
    severity: listOf(SEVERITIES, { description: 'Only these severities (comma-separated).' }),
    rule: text({ description: 'Only this rule id.', maxLength: 64 }),
    limit: withDefault(integer({ description: 'At most this many alarms.', min: 1, max: 1000 }), 200),
  },
  params: {},
  responses: { 200: { description: 'The alarms.', schema: { type: 'object', properties: { alarms: { type: 'array', items: ref('Alarm') } } } } },
  async handle({ query: q, who, api }) {
    const filter = {
      tenant: who.tenant,
      ...(q.task !== undefined ? { task: q.task } : {}),
      ...(q.target !== undefined ? { target: q.target } : {}),
      ...(q.severity !== undefined ? { severities: q.severity } : {}),
      ...(q.rule !== undefined ? { rule: q.rule } : {}),
    };
    return { body: { alarms: await listAlarms(api.ch, filter, { state: q.state, ...range(api, q), limit: q.limit }) } };
  },
});

const alarm = route({
  method: 'GET',
  path: '/v1/alarms/:fingerprint',
  tag: 'alarms',
  summary: 'One alarm: its state, every event, every delivery attempt',
  scope: 'read',
  query: {},
  params: { fingerprint: required(fingerprint()) },
  responses: { 200: { description: 'The alarm.', schema: ref('AlarmDetail') } },
  async handle({ params, who, api }) {
    const found = await getAlarm(api.ch, who.tenant, params.fingerprint);
    if (!found) throw notFound(`no alarm ${params.fingerprint}`);
    return { body: found };
  },
});

const deliveries = route({
  method: 'GET',
  path: '/v1/deliveries',
  tag: 'alarms',
  summary: 'Delivery attempts of alarm notifications over a time range, newest first',
  scope: 'read',
  query: {
    ...RANGE_QUERY,
    fingerprint: fingerprint(),
    channel: text({ description: 'Only this channel (its name in the notifier config).', maxLength: 128 }),
    outcome: listOf(DELIVERY_OUTCOMES, { description: 'Only these outcomes (comma-separated).' }),
    limit: withDefault(integer({ description: 'At most this many attempts.', min: 1, max: 1000 }), 200),
  },
  params: {},
  responses: { 200: { description: 'The attempts.', schema: { type: 'object', properties: { deliveries: { type: 'array', items: ref('Delivery') } } } } },
  async handle({ query: q, who, api }) {
    const filter = {
      tenant: who.tenant,
      ...range(api, q),
      ...(q.fingerprint !== undefined ? { fingerprint: q.fingerprint } : {}),
      ...(q.channel !== undefined ? { channel: q.channel } : {}),
      ...(q.outcome !== undefined ? { outcomes: q.outcome } : {}),
    };
    return { body: { deliveries: await listDeliveries(api.ch, filter, q.limit) } };
  },
});

export const ALARM_ROUTES = [alarms, alarm, deliveries];
