/**
 * Ground truth over time: the current / stale / history windows, pruning by record time (the
 * clock is the records'), controls and canaries at the same moment, and prevalence.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { makeRecord } from '../../../test/helpers/records.ts';
import { GroundTruth } from './ground-truth.ts';
import { SeenTimes } from './seen-times.ts';
import { dnsRecord, ORIGIN, T0 } from './testing/fixtures.ts';

const M = 60_000;
const H = 60 * M;
const D = 24 * H;
const NAME = 'shop.example.com';
const at = (ms: number, ips: string[], extra: Parameters<typeof dnsRecord>[0] = {}) =>
  dnsRecord({ target: NAME, atMs: ms, local: { ips }, reference: { ips }, ...extra });

// ---

const seen = suite('SeenTimes');

seen('observations closer than mergeMs join one span; others stay apart', () => {
  const t = new SeenTimes(10);
  for (const x of [0, 5, 15, 100, 108]) t.add(x);
  assert.ok(t.within(7, 8), 'inside a merged span');
  assert.not.ok(t.within(30, 90), 'the gap between spans');
  assert.is(t.latestAtOrBefore(99), 15);
  assert.is(t.latestAtOrBefore(200), 108);
  assert.is(t.latestAtOrBefore(-1), null);
});

seen('out-of-order observations are inserted and merged with both neighbours', () => {
  const t = new SeenTimes(10);
  for (const x of [0, 40, 20, 30, 10]) t.add(x);
  assert.ok(t.within(1, 39), 'one span 0..40');
  t.add(100);
  t.add(60);
  assert.not.ok(t.within(41, 59));
  assert.ok(t.within(60, 60));
});

seen('prune forgets spans that ended before a time', () => {
  const t = new SeenTimes(0);
  t.add(1);
  t.add(5);
  assert.not.ok(t.prune(3));
  assert.not.ok(t.within(0, 2));
  assert.ok(t.prune(10), 'nothing left');
  assert.ok(t.empty);
});

seen.run();

// ---

const windows = suite('GroundTruth windows');

windows('current within `current` of the round, then stale up to `stale`, history up to `history`, later when seen after', () => {
  const gt = new GroundTruth(); // current 1h, stale 48h, history 7d
  gt.observe(at(T0, ['45.60.1.1']));
  const status = (deltaMs: number) => gt.ipStatus(NAME, '45.60.1.1', T0 + deltaMs);
  assert.is(status(0), 'current');
  assert.is(status(59 * M), 'current');
  assert.is(status(-59 * M), 'current', 'a later round of the references counts as current too');
  assert.is(status(2 * H), 'stale');
  assert.is(status(47 * H), 'stale');
  assert.is(status(49 * H), 'history');
  assert.is(status(6 * D), 'history');
  assert.is(status(8 * D), 'none');
  assert.is(status(-2 * H), 'later');
  assert.is(gt.ipStatus(NAME, '45.60.9.9', T0), 'none');
  assert.is(gt.ipStatus('other.example', '45.60.1.1', T0), 'none');
});

windows('settings change the windows', () => {
  const gt = new GroundTruth({ currentMs: 0, staleMs: 10 * M, historyMs: 30 * M });
  gt.observe(at(T0, ['45.60.1.1']));
  assert.is(gt.ipStatus(NAME, '45.60.1.1', T0), 'current');
  assert.is(gt.ipStatus(NAME, '45.60.1.1', T0 + M), 'stale', 'current 0: only the same round is current');
  assert.is(gt.ipStatus(NAME, '45.60.1.1', T0 + 20 * M), 'history');
  assert.is(gt.ipStatus(NAME, '45.60.1.1', T0 + 40 * M), 'none');
});

windows('currentIps: every probe\'s references near the round, refreshed when a record arrives', () => {
  const gt = new GroundTruth();
  gt.observe(at(T0, ['45.60.1.2']));
  assert.equal(gt.currentIps(NAME, T0), ['45.60.1.2']);
  gt.observe(at(T0 + 1000, ['45.60.1.1'], { probeId: 'probe-2' }));
  assert.equal(gt.currentIps(NAME, T0), ['45.60.1.1', '45.60.1.2']);
  assert.equal(gt.currentIps(NAME, T0 + 3 * H), []);
  assert.equal(gt.currentIps('SHOP.example.com.', T0), ['45.60.1.1', '45.60.1.2'], 'names compare case- and dot-insensitively');
});

windows('reference NXDOMAIN, CNAME sites and verified-TLS IPs are remembered', () => {
  const gt = new GroundTruth();
  gt.observe(dnsRecord({ target: 'gone.example.com', atMs: T0, local: { ips: ['45.60.3.3'] }, reference: { rcode: 'NXDOMAIN' } }));
  assert.ok(gt.referenceNxdomain('gone.example.com', T0));
  assert.not.ok(gt.referenceNxdomain('gone.example.com', T0 + 3 * H));
  gt.observe(dnsRecord({
    target: NAME, atMs: T0, local: { ips: ['151.101.9.9'] }, reference: { ips: ['151.101.1.1'], cnames: ['shop.example.com.edge.cdn-a.example'] },
    evidence: [{ ip: '151.101.9.9', http: ORIGIN, https: ORIGIN }],
  }));
  assert.equal([...gt.referenceCnameSites(NAME, T0 + 2 * D)], ['cdn-a.example']);
  assert.ok(gt.tlsVerifiedByFleet(NAME, '151.101.9.9', T0 + H));
  assert.not.ok(gt.tlsVerifiedByFleet(NAME, '151.101.9.9', T0 + 3 * D), 'only within the stale window');
});

windows('non-dns records are ignored', () => {
  const gt = new GroundTruth();
  assert.not.ok(gt.observe(makeRecord('probe-1', 'tcp-task', 1)));
  assert.is(gt.domainCount, 0);
});

windows.run();

// ---

const pruning = suite('GroundTruth pruning (record time is the clock)');

pruning('records a week later push old answers out by themselves; prune(now) does it on demand', () => {
  const gt = new GroundTruth();
  gt.observe(at(T0, ['45.60.1.1']));
  gt.observe(dnsRecord({ target: 'other.example', atMs: T0 + 8 * D, local: { ips: ['45.61.1.1'] }, reference: { ips: ['45.61.1.1'] } }));
  assert.is(gt.ipStatus(NAME, '45.60.1.1', T0), 'none', 'forgotten: older than the history window');
  assert.is(gt.domainCount, 1);
  gt.prune(T0 + 16 * D);
  assert.is(gt.domainCount, 0);
});

pruning('control pages are kept only for controlsKeepMs', () => {
  const gt = new GroundTruth({ controlsKeepMs: 10 * M });
  gt.observe(at(T0, ['45.60.1.1'], { evidence: [{ ip: '45.60.1.1', role: 'reference' }] }));
  assert.is(gt.fleetControls(NAME, T0).pages.length, 1, 'the verified https page');
  gt.prune(T0 + 30 * M);
  assert.is(gt.fleetControls(NAME, T0).pages.length, 0);
  assert.is(gt.ipStatus(NAME, '45.60.1.1', T0 + 30 * M), 'current', 'reference answers stay');
});

pruning.run();

// ---

const moments = suite('GroundTruth moments: controls, canaries, prevalence');

moments('fleet controls: verified pages of every ISP; other reference pages of other ISPs; deduplicated; same moment only', () => {
  const gt = new GroundTruth();
  gt.observe(at(T0, ['45.60.1.1'], { evidence: [{ ip: '45.60.1.1', role: 'reference', https: { ...ORIGIN, tls: 'self-signed' } }, { ip: '45.61.0.1', https: { ...ORIGIN, tls: 'foreign' } }] }));
  assert.is(gt.fleetControls(NAME, T0).pages.length, 0, 'nothing verified');
  const others = gt.fleetControls(NAME, T0 + 30_000, 'unicom');
  assert.equal(others.pages.map((p) => [p.ip, p.url.split(':')[0]]), [['45.60.1.1', 'http'], ['45.60.1.1', 'https']]);
  assert.is(gt.fleetControls(NAME, T0, 'telecom').pages.length, 0, 'not the asking ISP\'s own');
  for (const probeId of ['p2', 'p3', 'p4']) gt.observe(at(T0 + 1000, ['45.60.1.1'], { probeId, evidence: [{ ip: '45.60.1.1', role: 'reference' }] }));
  const verifiedSet = gt.fleetControls(NAME, T0);
  assert.is(verifiedSet.pages.length, 1, 'three identical verified pages are one control…');
  assert.equal(verifiedSet.counts, [3], '…standing for three fetches');
  assert.ok(verifiedSet.hosts.has('cdn.jsdelivr.net'));
  assert.is(gt.fleetControls(NAME, T0 + 10 * M).pages.length, 0, 'another moment');
});

moments('canary: other targets of the same probe and resolver near the moment', () => {
  const gt = new GroundTruth();
  gt.observe(at(T0, ['45.60.1.1']));
  gt.observe(dnsRecord({ target: 'a.example', atMs: T0 + 5000, local: { ips: ['45.60.2.1'] } }));
  gt.observe(dnsRecord({ target: 'b.example', atMs: T0 + 6000, local: { failure: 'timeout', rcode: null } }));
  gt.observe(dnsRecord({ target: 'c.example', atMs: T0 + 7000, probeId: 'probe-2', local: { ips: ['45.60.2.1'] } }));
  gt.observe(dnsRecord({ target: 'd.example', atMs: T0 + 5 * M, local: { ips: ['45.60.2.1'] } }));
  assert.equal(gt.canary('probe-1', '10.53.0.1:53', NAME, T0), { answered: 1, failed: 1 });
  assert.equal(gt.canary('probe-1', '10.53.0.9:53', NAME, T0), { answered: 0, failed: 0 });
});

moments('probesWith counts distinct probes of one ISP with an outcome for a target', () => {
  const gt = new GroundTruth();
  for (const [probeId, isp] of [['p1', 'telecom'], ['p2', 'telecom'], ['p3', 'unicom']]) {
    gt.observe(dnsRecord({ target: NAME, atMs: T0, probeId, isp, local: [{ failure: 'dns_servfail', rcode: 'SERVFAIL' }, { server: '10.53.0.2:53', failure: 'dns_servfail', rcode: 'SERVFAIL' }] }));
  }
  assert.is(gt.probesWith(NAME, 'telecom', 'failed', T0), 2);
  assert.is(gt.probesWith(NAME, 'unicom', 'failed', T0), 1);
  assert.is(gt.probesWith(NAME, 'telecom', 'answered', T0), 0);
});

moments('prevalence: unrelated sites an ISP sends to one IP, not counting the target nor sites whose references give it', () => {
  const gt = new GroundTruth();
  const cache = '58.33.1.1';
  for (const site of ['a.example', 'www.b.example', 'c.example.com.cn', 'shop.example.com', 'img.shop.example.com']) {
    gt.observe(dnsRecord({ target: site, atMs: T0, local: { ips: [cache] }, reference: { ips: ['45.63.0.1'] } }));
  }
  gt.observe(dnsRecord({ target: 'cdn-customer.example', atMs: T0, local: { ips: [cache] }, reference: { ips: [cache] } }));
  gt.observe(dnsRecord({ target: 'e.example', atMs: T0, isp: 'unicom', local: { ips: [cache] } }));
  assert.is(gt.prevalence('telecom', cache, NAME, T0), 3, 'a, b, c (example.com.cn is one site)');
  assert.is(gt.prevalence('unicom', cache, NAME, T0), 1);
  assert.is(gt.prevalence('telecom', cache, NAME, T0 + 8 * D), 0, 'beyond the history window');
});

moments.run();
