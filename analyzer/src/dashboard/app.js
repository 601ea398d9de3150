// Vantage dashboard: reads the query API of the server that served it, with the tenant's API key
// (from the URL fragment #key=<id>.<secret> once, then this tab's sessionStorage). Everything from
// the API is put into the page as text, never as HTML.
'use strict';

const $ = (id) => document.getElementById(id);
const RANGES = { '1h': 3600, '6h': 6 * 3600, '24h': 86400, '7d': 7 * 86400, '30d': 30 * 86400 };
const HIGH = new Set(['malicious', 'ad_hijack', 'ad_injection']);
const MID = new Set(['isp_cache', 'nxdomain_rewrite', 'blocked', 'suspicious']);
const PHASE_COLORS = { total: '#24292f', resolve: '#8250df', connect: '#0969da', tls: '#1a7f37', processing: '#bf8700', transfer: '#cf222e' };
let chart = null;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('data-')) node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  return node;
}

function status(text, isError) {
  $('status').textContent = text;
  $('status').className = isError ? 'error' : '';
}

function key() {
  return sessionStorage.getItem('vantage-key');
}

async function api(path, query) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query || {})) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const res = await fetch(`${path}${q.size ? `?${q}` : ''}`, { headers: { authorization: `Bearer ${key()}` } });
  const body = res.headers.get('content-type')?.includes('json') ? await res.json() : await res.text();
  if (res.status === 401) {
    sessionStorage.removeItem('vantage-key');
    showLogin();
  }
  if (!res.ok) throw new Error(`${path}: ${res.status} ${body && body.message ? body.message : ''}`);
  return body;
}

function showLogin() {
  $('login').hidden = false;
  $('panels').hidden = true;
}

/** The page's settings: from its own URL first (links can point at a view), then the controls. */
function settings() {
  const page = new URLSearchParams(location.search);
  const tz = $('tz').value || 'UTC';
  const to = page.get('to') || new Date(Math.ceil(Date.now() / 60000) * 60000).toISOString();
  const span = RANGES[$('range').value] || 86400;
  const from = page.get('from') || new Date(Date.parse(to) - span * 1000).toISOString();
  const seconds = (Date.parse(to) - Date.parse(from)) / 1000;
  const granularity = page.get('granularity') || (seconds <= 6 * 3600 ? 'minute' : seconds <= 31 * 86400 ? 'hour' : 'day');
  return { target: $('target').value, from, to, tz, granularity };
}

/** The last `seconds` of a range (verdicts and alarms are read over at most 31 days). */
function clampRange(range, seconds) {
  const from = Math.max(Date.parse(range.from), Date.parse(range.to) - seconds * 1000);
  return { from: new Date(from).toISOString(), to: range.to };
}

function ratioClass(ratio) {
  if (ratio === null) return 'none';
  if (ratio >= 0.999) return 'good';
  if (ratio >= 0.99) return 'warn';
  return 'bad';
}

function percent(ratio) {
  return ratio === null ? '—' : `${(ratio * 100).toFixed(2)} %`;
}

/** Rows = regions, columns = ISPs, from the cells of both matrices (so they line up). */
function axes(...cellLists) {
  const regions = new Set();
  const isps = new Set();
  for (const cells of cellLists) for (const c of cells) (regions.add(c.region), isps.add(c.isp));
  return { regions: [...regions].sort(), isps: [...isps].sort() };
}

function matrix(table, { regions, isps }, cell) {
  table.replaceChildren();
  if (regions.length === 0) {
    table.append(el('tr', {}, el('td', { class: 'empty' }, 'no data in this range')));
    return;
  }
  table.append(el('thead', {}, el('tr', {}, el('th', {}, 'region \\ ISP'), ...isps.map((isp) => el('th', { scope: 'col' }, isp)))));
  const body = el('tbody');
  for (const region of regions) body.append(el('tr', {}, el('th', { scope: 'row' }, region), ...isps.map((isp) => cell(region, isp))));
  table.append(body);
}

function availabilityCell(byKey) {
  return (region, isp) => {
    const g = byKey.get(JSON.stringify([region, isp]));
    const ratio = g ? g.success_ratio : null;
    const attrs = { class: `cell ${ratioClass(ratio)}`, 'data-region': region, 'data-isp': isp, 'data-checks': String(g ? g.checks : 0), 'data-failures': String(g ? g.failures : 0) };
    if (!g || g.checks === 0) return el('td', attrs, el('span', { class: 'ratio' }, '—'), el('span', { class: 'detail' }, 'no checks'));
    const p95 = g.latency_ms.total ? `p95 ${g.latency_ms.total.p95} ms` : '';
    return el('td', attrs, el('span', { class: 'ratio' }, percent(ratio)), el('span', { class: 'detail' }, `${g.checks} checks, ${g.failures} failed${p95 ? `, ${p95}` : ''}`));
  };
}

function verdictCell(byKey) {
  return (region, isp) => {
    const c = byKey.get(JSON.stringify([region, isp]));
    const attrs = { class: 'cell', 'data-region': region, 'data-isp': isp, 'data-worst': c ? c.worst : '', 'data-total': String(c ? c.total : 0) };
    if (!c) return el('td', { ...attrs, class: 'cell none' }, 'no verdicts');
    const badges = Object.entries(c.classes)
      .sort((a, b) => b[1] - a[1])
      .map(([name, n]) => el('span', { class: `class ${HIGH.has(name) ? 'sev-high' : MID.has(name) ? 'sev-mid' : 'sev-low'}`, 'data-class': name }, `${name} ${n}`));
    return el('td', attrs, ...badges);
  };
}

function drawLatency(group, tz) {
  const box = $('latency-chart');
  if (chart) chart.destroy();
  chart = null;
  box.replaceChildren();
  const series = group && group.series ? group.series : [];
  if (series.length === 0 || series.every((p) => p.checks === 0)) {
    box.append(el('p', { class: 'empty' }, 'no checks in this range'));
    return;
  }
  const phases = Object.keys(PHASE_COLORS).filter((phase) => series.some((p) => p.latency_ms[phase]));
  const xs = series.map((p) => Date.parse(p.start) / 1000);
  const data = [xs, ...phases.map((phase) => series.map((p) => (p.latency_ms[phase] ? p.latency_ms[phase].p95 : null)))];
  chart = new uPlot(
    {
      width: Math.max(320, box.clientWidth || 600),
      height: 260,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), tz),
      series: [{}, ...phases.map((phase) => ({ label: phase, stroke: PHASE_COLORS[phase], width: 1.5, spanGaps: false, points: { show: true, size: 5 } }))],
      axes: [{}, { label: 'ms' }],
    },
    data,
    box,
  );
  box.setAttribute('data-phases', phases.join(','));
  box.setAttribute('data-points', String(xs.length));
}

function listTable(table, head, rows) {
  table.replaceChildren(el('thead', {}, el('tr', {}, ...head.map((h) => el('th', {}, h)))));
  const body = el('tbody');
  if (rows.length === 0) body.append(el('tr', {}, el('td', { class: 'empty', colSpan: head.length }, 'none')));
  for (const cells of rows) body.append(el('tr', {}, ...cells.map((c) => (c instanceof Node ? el('td', {}, c) : el('td', {}, c)))));
  table.append(body);
}

function ago(iso) {
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
  return s < 120 ? `${s} s ago` : s < 7200 ? `${Math.round(s / 60)} min ago` : new Date(iso).toISOString().replace('T', ' ').slice(0, 19);
}

async function refresh() {
  const s = settings();
  if (!s.target) {
    status('No tasks yet: create one with POST /v1/tasks or `vantage api tasks import`.');
    return;
  }
  status('Loading…');
  $('range-label').textContent = `${s.from} → ${s.to} (${s.tz})`;
  const host = /^https?:\/\//.test(s.target) ? new URL(s.target).hostname : s.target.replace(/:\d+$/, '');
  const range = { from: s.from, to: s.to };
  const [byCell, overTime, verdicts, alarms, fleet] = await Promise.all([
    api('/v1/availability', { target: s.target, ...range, tz: s.tz, granularity: s.granularity, group_by: 'region_isp', series: false, latency: 'total' }),
    api('/v1/availability', { target: s.target, ...range, tz: s.tz, granularity: s.granularity, group_by: 'none' }),
    api('/v1/verdicts/matrix', { target: host, ...clampRange(range, 31 * 86400) }),
    api('/v1/alarms', { state: 'all', ...clampRange(range, 31 * 86400) }).catch((err) => ({ error: err.message })),
    api('/v1/fleet', {}),
  ]);
  const ax = axes(byCell.groups, verdicts.cells);
  matrix($('availability-matrix'), ax, availabilityCell(new Map(byCell.groups.map((g) => [JSON.stringify([g.region, g.isp]), g]))));
  matrix($('verdict-matrix'), ax, verdictCell(new Map(verdicts.cells.map((c) => [JSON.stringify([c.region, c.isp]), c]))));
  drawLatency(overTime.groups[0], s.tz);
  if (alarms.error) listTable($('alarms'), ['alarms'], [[alarms.error]]);
  else {
    listTable(
      $('alarms'),
      ['state', 'severity', 'rule', 'about', 'where', 'since', 'resolved', 'summary'],
      alarms.alarms.map((a) => [
        el('span', { class: `state-${a.state}` }, a.state),
        a.severity,
        a.rule,
        a.target || a.task_id || 'fleet',
        [a.scope, a.region, a.isp, a.probe_id].filter(Boolean).join(' '),
        a.started_at.replace('T', ' ').slice(0, 19),
        a.resolved_at ? a.resolved_at.replace('T', ' ').slice(0, 19) : '',
        a.summary,
      ]),
    );
  }
  listTable(
    $('fleet'),
    ['probe', 'status', 'region', 'ISP', 'version', 'last heartbeat', 'tasks', 'spool'],
    fleet.probes.map((p) => [p.probe_id, el('span', { class: `status-${p.status}` }, p.status), p.region, p.isp, p.version, ago(p.last_heartbeat), String(p.task_count), String(p.spool_depth)]),
  );
  const total = overTime.total;
  status(`${s.target}: ${percent(total.success_ratio)} of ${total.checks} checks succeeded (${byCell.query.source}, ${s.granularity} buckets).`);
  document.body.setAttribute('data-loaded', String(Date.now()));
}

/** Once: the key from the fragment, the controls and their handlers. */
function init() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.get('key')) {
    sessionStorage.setItem('vantage-key', fragment.get('key'));
    history.replaceState(null, '', location.pathname + location.search);
  }
  const zones = ['UTC', Intl.DateTimeFormat().resolvedOptions().timeZone, 'Asia/Shanghai'];
  const page = new URLSearchParams(location.search);
  if (page.get('tz')) zones.unshift(page.get('tz'));
  $('tz').replaceChildren(...[...new Set(zones)].map((z) => el('option', { value: z }, z)));
  if (page.get('range') && RANGES[page.get('range')]) $('range').value = page.get('range');
  if (page.get('from') && page.get('to')) {
    $('range').append(el('option', { value: 'custom' }, 'as in the address'));
    $('range').value = 'custom';
  }
  $('login').addEventListener('submit', (e) => {
    e.preventDefault();
    sessionStorage.setItem('vantage-key', $('key').value.trim());
    $('key').value = '';
    load().catch((err) => status(err.message, true));
  });
  $('controls').addEventListener('submit', (e) => {
    e.preventDefault();
    refresh().catch((err) => status(err.message, true));
  });
}

/** Who the key belongs to, the tenant's targets, then the panels. */
async function load() {
  if (!key()) {
    showLogin();
    status('An API key is needed.');
    return;
  }
  const who = await api('/v1/whoami');
  $('who').textContent = `tenant ${who.tenant} (${who.scope})`;
  const { tasks } = await api('/v1/tasks');
  const targets = [...new Set(tasks.map((t) => t.target))].sort();
  $('target').replaceChildren(...targets.map((t) => el('option', { value: t }, t)));
  const wanted = new URLSearchParams(location.search).get('target');
  if (wanted && targets.includes(wanted)) $('target').value = wanted;
  $('login').hidden = true;
  $('panels').hidden = false;
  await refresh();
}

init();
load().catch((err) => status(err.message, true));
