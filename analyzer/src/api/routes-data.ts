/**
 * Read routes over stored data: availability, hijack verdicts, the fleet, and who the caller is.
 * Every answer is limited to the caller's tenant (its tasks); the fleet is shared by all tenants.
 */
import { CHECK_KINDS, ID_PATTERN } from '@vantage/probe';
import { VERDICT_CLASSES } from '../classify/verdict.ts';
import { cellsSince, queryAvailability } from './availability.ts';
import { GROUPINGS, LATENCIES, type AvailabilityFilter } from './availability-sql.ts';
import { GRANULARITIES, planBuckets, useCells } from './buckets.ts';
import { badRequest, notFound } from './errors.ts';
import { queryFleet } from './fleet.ts';
import { duration, flag, instant, integer, listOf, oneOf, required, text, withDefault, zone } from './params.ts';
import { ref, route, timeRange, type ApiContext } from './route.ts';
import { getVerdict, listVerdicts, verdictMatrix, type VerdictFilter } from './verdicts.ts';

const DAY = 86_400;
const taskId = () => text({ description: 'A task id of yours.', maxLength: 64, pattern: ID_PATTERN, hint: 'letters, digits, "-" and "_", at most 64' });
const target = () => text({ description: 'A target (as in the task: a domain, URL, host:port or host); every task of yours with it.', maxLength: 2048 });
const from = () => instant({ description: 'Start of the range (RFC 3339). Default: `to` minus 24 hours.' });
const to = () => instant({ description: 'End of the range, exclusive (RFC 3339). Default: now.' });

const availability = route({
  method: 'GET',
  path: '/v1/availability',
  tag: 'availability',
  summary: 'Availability of a task or a target over a time range',
  description:
    'Success ratio, checks, failures and latency percentiles per phase, in total, per group and per time bucket ' +
    '(`granularity` in the time zone `tz`; every bucket of the range is present, with `checks: 0` and null ratio and ' +
    'latencies where nothing ran). Give `task` or `target`. The range widens to whole buckets; it may span at most ' +
    '2 days at minute granularity, 62 days at hour, 400 days at day. Read from the rollups (`source=rollup`) or, for ' +
    'cross-checking, from the raw results deduplicated with FINAL (`source=raw`).',
  scope: 'read',
  query: {
    task: taskId(),
    target: target(),
    kind: oneOf(CHECK_KINDS, { description: 'Only tasks of this kind.' }),
    from: from(),
    to: to(),
    granularity: withDefault(oneOf(GRANULARITIES, { description: 'Bucket size.' }), 'hour'),
    tz: withDefault(zone({ description: 'IANA time zone of the buckets (day and hour boundaries) and of the times in the answer.' }), 'UTC'),
    group_by: withDefault(oneOf(GROUPINGS, { description: 'Group by probe region, ISP, both, or probe.' }), 'none'),
    series: withDefault(flag({ description: 'Include the per-bucket series of each group.' }), true),
    latency: withDefault(oneOf(LATENCIES, { description: 'Latency percentiles of every phase, of the whole check only, or none (cheaper: t-digest merges dominate the cost).' }), 'all'),
    source: withDefault(oneOf(['rollup', 'raw'] as const, { description: 'Which tables to read.' }), 'rollup'),
  },
  params: {},
  responses: { 200: { description: 'The availability.', schema: ref('Availability') } },
  async handle({ query: q, who, api }) {
    if ((q.task === undefined) === (q.target === undefined)) throw badRequest(['task, target: give exactly one of them']);
    let filter: AvailabilityFilter;
    if (q.task !== undefined) {
      const task = await api.tasks.get(q.task);
      if (!task || task.tenant !== who.tenant) throw notFound(`no task "${q.task}"`);
      filter = { taskIds: [q.task], ...(q.kind !== undefined ? { kind: q.kind } : {}) };
    } else {
      const ids = await api.tasks.ownedWithTarget(who.tenant, q.target!, q.kind);
      if (ids.length === 0) throw notFound(`no task of yours has target ${JSON.stringify(q.target)}${q.kind ? ` and kind ${q.kind}` : ''}`);
      filter = { taskIds: ids, target: q.target!, ...(q.kind !== undefined ? { kind: q.kind } : {}) };
    }
    const end = q.to ?? Math.ceil(api.now() / 1000);
    const start = q.from ?? end - DAY;
    const plan = useCells(planBuckets({ from: start, to: end, granularity: q.granularity, zone: q.tz, raw: q.source === 'raw' }), q.group_by, await cellsSince(api.ch));
    const result = await queryAvailability(api.ch, { plan, filter, grouping: q.group_by, series: q.series, latencies: q.latency });
    return {
      body: {
        query: {
          task: q.task ?? null,
          target: q.target ?? null,
          kind: q.kind ?? null,
          from: new Date(plan.from * 1000).toISOString(),
          to: new Date(plan.to * 1000).toISOString(),
          granularity: q.granularity,
          tz: q.tz,
          group_by: q.group_by,
          latency: q.latency,
          source: plan.source.table,
        },
        tasks: filter.taskIds,
        buckets: plan.buckets.length,
        ...result,
      },
    };
  },
});

const verdictQuery = {
  from: from(),
  to: to(),
  task: taskId(),
  target: text({ description: 'Only verdicts about this domain.', maxLength: 2048 }),
  class: listOf(VERDICT_CLASSES, { description: 'Only these classes (comma-separated).' }),
  region: text({ description: 'Only probes in this region.', maxLength: 256 }),
  isp: text({ description: 'Only probes of this ISP.', maxLength: 256 }),
  probe: text({ description: 'Only this probe.', maxLength: 64, pattern: ID_PATTERN, hint: 'a probe id' }),
};
const VERDICT_RANGE = 31 * DAY;

function verdictFilter(api: ApiContext, tenant: string, q: { from?: number; to?: number; task?: string; target?: string; class?: VerdictFilter['classes']; region?: string; isp?: string; probe?: string }): VerdictFilter {
  return {
    tenant,
    ...timeRange(api, q, VERDICT_RANGE),
    ...(q.task !== undefined ? { task: q.task } : {}),
    ...(q.target !== undefined ? { target: q.target } : {}),
    ...(q.class !== undefined ? { classes: q.class } : {}),
    ...(q.region !== undefined ? { region: q.region } : {}),
    ...(q.isp !== undefined ? { isp: q.isp } : {}),
    ...(q.probe !== undefined ? { probe: q.probe } : {}),
  };
}

const verdicts = route({
  method: 'GET',
  path: '/v1/verdicts',
  tag: 'hijack',
  summary: 'Hijack verdicts over a time range, newest first',
  description: 'Filter by task, target, class, region, ISP and probe; the range (by the record\'s round) spans at most 31 days. Pages: pass `next_cursor` back as `cursor`.',
  scope: 'read',
  query: {
    ...verdictQuery,
    limit: withDefault(integer({ description: 'Verdicts per page.', min: 1, max: 1000 }), 100),
    cursor: text({ description: 'Where the previous page ended (its `next_cursor`).', maxLength: 1024 }),
  },
  params: {},
  responses: { 200: { description: 'A page of verdicts (without evidence).', schema: ref('VerdictPage') } },
  async handle({ query: q, who, api }) {
    return { body: await listVerdicts(api.ch, verdictFilter(api, who.tenant, q), q.limit, q.cursor) };
  },
});

const matrix = route({
  method: 'GET',
  path: '/v1/verdicts/matrix',
  tag: 'hijack',
  summary: 'Verdict classes per region × ISP over a time range',
  description: 'Counts of each class per cell, and the most severe class seen (`worst`). Same filters as /v1/verdicts.',
  scope: 'read',
  query: verdictQuery,
  params: {},
  responses: { 200: { description: 'The cells that have verdicts.', schema: { type: 'object', properties: { cells: { type: 'array', items: ref('MatrixCell') } } } } },
  async handle({ query: q, who, api }) {
    return { body: { cells: await verdictMatrix(api.ch, verdictFilter(api, who.tenant, q)) } };
  },
});

const verdict = route({
  method: 'GET',
  path: '/v1/verdicts/:id',
  tag: 'hijack',
  summary: 'One verdict with its full evidence',
  description: 'The id is `<record id>/<resolver>` as listed; percent-encode it in the path (`/` as `%2F`).',
  scope: 'read',
  query: {},
  params: { id: required(text({ description: 'The verdict id.', maxLength: 400 })) },
  responses: { 200: { description: 'The verdict.', schema: ref('VerdictDetail') } },
  async handle({ params, who, api }) {
    const found = await getVerdict(api.ch, who.tenant, params.id);
    if (!found) throw notFound(`no verdict ${JSON.stringify(params.id)}`);
    return { body: found };
  },
});

const fleet = route({
  method: 'GET',
  path: '/v1/fleet',
  tag: 'fleet',
  summary: 'The probes: online or offline, last heartbeat, version, spool depth',
  description: 'Every probe heard from within `seen_within`; online while its last heartbeat is recent (probes send one every 15 s).',
  scope: 'read',
  query: {
    seen_within: withDefault(duration({ description: 'How far back to look for probes (e.g. 24h, 7d).', max: 30 * DAY }), DAY),
    status: oneOf(['online', 'offline'] as const, { description: 'Only probes in this state.' }),
  },
  params: {},
  responses: { 200: { description: 'The probes.', schema: { type: 'object', properties: { probes: { type: 'array', items: ref('FleetProbe') } } } } },
  async handle({ query: q, api }) {
    const probes = await queryFleet(api.ch, { now: api.now(), seenWithinS: q.seen_within, offlineAfterS: api.offlineAfterS });
    return { body: { probes: q.status === undefined ? probes : probes.filter((p) => p.status === q.status) } };
  },
});

const whoami = route({
  method: 'GET',
  path: '/v1/whoami',
  tag: 'auth',
  summary: 'The tenant, key and scope of the caller',
  scope: 'read',
  query: {},
  params: {},
  responses: { 200: { description: 'The caller.', schema: ref('Whoami') } },
  async handle({ who }) {
    return { body: { tenant: who.tenant, key_id: who.keyId, scope: who.scope, via: who.via } };
  },
});

export const DATA_ROUTES = [availability, verdicts, matrix, verdict, fleet, whoami];
