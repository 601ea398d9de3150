/**
 * Alarms and deliveries through the API, on chDB and clickhouse-server 18.16, over events in the
 * alarm contract's shape (validated by the analyzer's own `alarmEvent`) stored as the alarm
 * service stores them: what fires now, incidents of a range, one alarm's history with its
 * delivery attempts, the delivery log, and tenants.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ALARM_DELIVERIES, ALARM_EVENTS, DATABASE, type ClickHouse } from '@vantage/collector';
import type { AlarmEvent } from '../../analyzer/src/alarms/event.ts';
import { ENGINE_NAMES } from '../helpers/clickhouse-engines.ts';
import { alarmRow, clickHouseTime, makeAlarmEvent } from './fixture.ts';
import { show, startEngineApis, stopEngineApis, type EnginesCtx } from './helpers.ts';

type Ctx = EnginesCtx;

const test = suite<Ctx>('alarms and deliveries');
const T0 = Date.parse('2024-05-01T10:00:00Z');
const MIN = 60_000;
const FP = { web: 'a1a1a1a1a1a1a1a1', webOld: 'a2a2a2a2a2a2a2a2', offline: 'b1b1b1b1b1b1b1b1', globex: 'c1c1c1c1c1c1c1c1' };

const event = makeAlarmEvent;
const row = alarmRow;
const time = clickHouseTime;

const iso = (ms: number) => new Date(ms).toISOString();
const EVENTS: AlarmEvent[] = [
  // An earlier incident of another alarm of acme's task, resolved after 20 minutes.
  event({ fingerprint: FP.webOld, kind: 'firing', seq: 1, started_at: iso(T0 - 120 * MIN), at: iso(T0 - 120 * MIN), severity: 'warning' }),
  event({ fingerprint: FP.webOld, kind: 'resolved', seq: 2, started_at: iso(T0 - 120 * MIN), at: iso(T0 - 100 * MIN), severity: 'warning', duration_ms: 20 * MIN, resolve_reason: 'recovered' }),
  // acme's alarm firing now, with a reminder.
  event({ fingerprint: FP.web, kind: 'firing', seq: 1, started_at: iso(T0), at: iso(T0) }),
  event({ fingerprint: FP.web, kind: 'reminder', seq: 2, started_at: iso(T0), at: iso(T0 + 30 * MIN) }),
  // A probe of the fleet offline: every tenant sees it.
  event({ fingerprint: FP.offline, kind: 'firing', seq: 1, started_at: iso(T0 + 5 * MIN), at: iso(T0 + 5 * MIN), rule_id: 'probe-down', rule_kind: 'probe_offline', task_id: '', target: '', scope: 'probe', region: 'cn-north', isp: 'China Mobile', probe_id: 'bj-cm-1', summary: 'probe bj-cm-1 silent for 120 s' }),
  // globex's alarm: acme must not see it.
  event({ fingerprint: FP.globex, kind: 'firing', seq: 1, started_at: iso(T0), at: iso(T0), task_id: 'globex-web', target: 'https://globex.test/' }),
];

function delivery(e: AlarmEvent, attempt: number, outcome: string, status: number | null, atMs: number) {
  return {
    attempted_at: time(iso(atMs)), attempted_at_ms: atMs, event_id: e.event_id, event_kind: e.kind, fingerprint: e.fingerprint, rule_id: e.rule_id, severity: e.severity,
    channel: 'ops-webhook', channel_type: 'webhook', url: 'https://hooks.example/alarm', attempt, outcome, http_status: status, response: status === 200 ? 'ok' : '',
    error: outcome === 'delivered' ? '' : 'timeout', duration_ms: 12.5, idempotency_key: e.event_id, notifier: 'host:1',
  };
}

async function store(ch: ClickHouse): Promise<void> {
  await ch.client.insert({ table: `${DATABASE}.${ALARM_EVENTS.name}`, values: EVENTS.map((e, i) => row(e, i + 1)), format: 'JSONEachRow' });
  const firing = EVENTS[2]!;
  await ch.client.insert({
    table: `${DATABASE}.${ALARM_DELIVERIES.name}`,
    values: [delivery(firing, 1, 'failed', null, T0 + 1000), delivery(firing, 2, 'delivered', 200, T0 + 31_000), delivery(EVENTS[5]!, 1, 'delivered', 200, T0 + 2000)],
    format: 'JSONEachRow',
  });
}

test.before((ctx) => startEngineApis(ctx, async (t, ch) => {
  assert.is((await t.acme.post('/v1/tasks', { id: 'acme-web', kind: 'http', target: 'https://acme.test/' })).status, 201);
  assert.is((await t.globex.post('/v1/tasks', { id: 'globex-web', kind: 'http', target: 'https://globex.test/' })).status, 201);
  await store(ch);
}));

test.after(stopEngineApis);

const RANGE = { from: iso(T0 - 180 * MIN), to: iso(T0 + 60 * MIN) };

for (const engine of ENGINE_NAMES) {
  test(`${engine}: firing now: acme's alarm and the fleet's, not globex's`, async ({ apis }) => {
    const res = await apis[engine]!.acme.get('/v1/alarms', { state: 'firing' });
    assert.is(res.status, 200, show(res));
    const byFp = Object.fromEntries(res.body.alarms.map((a: { fingerprint: string }) => [a.fingerprint, a]));
    assert.equal(Object.keys(byFp).sort(), [FP.web, FP.offline].sort());
    assert.is(byFp[FP.web].state, 'firing');
    assert.is(byFp[FP.web].last_event.kind, 'reminder');
    assert.is(byFp[FP.web].started_at, iso(T0));
    assert.equal(byFp[FP.web].labels, { team: 'web' });
    assert.equal(byFp[FP.web].details, { ratio: 0.8, threshold: 0.99 });
    assert.is(byFp[FP.offline].probe_id, 'bj-cm-1');
    const theirs = await apis[engine]!.globex.get('/v1/alarms', { state: 'firing' });
    assert.equal(theirs.body.alarms.map((a: { fingerprint: string }) => a.fingerprint).sort(), [FP.offline, FP.globex].sort());
  });

  test(`${engine}: incidents of a range: resolved ones with their duration, newest first; filters`, async ({ apis }) => {
    const res = await apis[engine]!.acme.get('/v1/alarms', RANGE);
    assert.is(res.status, 200, show(res));
    assert.equal(res.body.alarms.map((a: { fingerprint: string; state: string }) => `${a.fingerprint}:${a.state}`), [`${FP.offline}:firing`, `${FP.web}:firing`, `${FP.webOld}:resolved`]);
    const old = res.body.alarms[2];
    assert.is(old.resolved_at, iso(T0 - 100 * MIN));
    assert.is(old.duration_ms, 20 * MIN);
    assert.is(old.resolve_reason, 'recovered');
    const warnings = await apis[engine]!.acme.get('/v1/alarms', { ...RANGE, severity: 'warning' });
    assert.equal(warnings.body.alarms.map((a: { fingerprint: string }) => a.fingerprint), [FP.webOld]);
    const later = await apis[engine]!.acme.get('/v1/alarms', { from: iso(T0 - 90 * MIN), to: iso(T0 + 60 * MIN), task: 'acme-web' });
    assert.equal(later.body.alarms.map((a: { fingerprint: string }) => a.fingerprint), [FP.web], 'the incident resolved before the range is left out');
  });

  test(`${engine}: one alarm: its events in order and every delivery attempt; another tenant's is a 404`, async ({ apis }) => {
    const res = await apis[engine]!.acme.get(`/v1/alarms/${FP.web}`);
    assert.is(res.status, 200, show(res));
    assert.equal(res.body.history.map((e: { kind: string }) => e.kind), ['firing', 'reminder']);
    assert.equal(res.body.deliveries.map((d: { attempt: number; outcome: string; http_status: number | null }) => [d.attempt, d.outcome, d.http_status]), [[1, 'failed', null], [2, 'delivered', 200]]);
    assert.is((await apis[engine]!.acme.get(`/v1/alarms/${FP.globex}`)).status, 404);
    const bad = await apis[engine]!.acme.get('/v1/alarms/nothex');
    assert.is(bad.status, 400);
    assert.match(bad.body.message, /fingerprint: "nothex" is not valid \(16 hex digits\)/);
  });

  test(`${engine}: the delivery log, filtered by outcome; only the tenant's alarms`, async ({ apis }) => {
    const all = await apis[engine]!.acme.get('/v1/deliveries', RANGE);
    assert.is(all.status, 200, show(all));
    assert.equal(all.body.deliveries.map((d: { fingerprint: string; attempt: number }) => `${d.fingerprint}#${d.attempt}`), [`${FP.web}#2`, `${FP.web}#1`]);
    const failed = await apis[engine]!.acme.get('/v1/deliveries', { ...RANGE, outcome: 'failed,dead_letter' });
    assert.is(failed.body.deliveries.length, 1);
    assert.equal((await apis[engine]!.globex.get('/v1/deliveries', RANGE)).body.deliveries.map((d: { fingerprint: string }) => d.fingerprint), [FP.globex]);
  });
}

test.run();
