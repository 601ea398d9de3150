/**
 * Rules 1–6 (failures, NXDOMAIN, rewriting, bogons, sinkholes, ground truth) and their traps:
 * scenarios 1–4 and 22–31 of the research note's §4.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { dnsRecord, T0, TARGET } from './testing/fixtures.ts';
import { blockpages, canaries, IP, judge, judgeAll, record, referencePages } from './testing/scenario.ts';

const H = 3_600_000;

// --- rule 6: answers in ground truth ----------------------------------------------------------

const truth = suite('rule 6: ground truth');

truth('#1 the same IP as the references: consistent', () => {
  const v = judge(record({ local: { ips: [IP.origin] } }));
  assert.is(v.class, 'consistent');
  assert.is(v.rule, 'R6-in-ground-truth');
  assert.equal(v.flags, []);
  assert.equal(v.answer_ips, [IP.origin]);
  assert.equal(v.expected_ips, [IP.origin]);
  assert.is(v.id, `${v.record_id}/10.53.0.1:53`);
  assert.is(v.region, 'cn-east');
  assert.is(v.isp, 'telecom');
  assert.is(v.round, new Date(T0).toISOString());
  assert.is(v.started_at_ms, T0);
  assert.is(v.evidence.reference.outcome, 'answered');
});

truth('#2 load-balancer rotation: 2 of 4 pool IPs, other probes saw the rest this round: consistent', () => {
  const mine = record({ local: { ips: [IP.pool[0], IP.pool[1]] }, reference: { ips: [IP.pool[2], IP.pool[3]] } });
  const others = [
    record({ probeId: 'probe-2', region: 'cn-north', local: { ips: [IP.pool[0]] }, reference: { ips: [IP.pool[0], IP.pool[1]] } }),
  ];
  const v = judge(mine, others);
  assert.is(v.class, 'consistent', v.evidence.reason);
  assert.equal(v.expected_ips, [...IP.pool].sort());
  assert.equal(v.evidence.reference.fleet_ips, [...IP.pool].sort());
  // Without the other probe, the same answer is outside this record's truth.
  assert.is.not(judge(mine).class, 'consistent');
});

truth('#2 the pool seen by the references within the current window (not this round) still counts', () => {
  const earlier = record({ atMs: T0 - 40 * 60_000, local: { ips: [IP.pool[0]] }, reference: { ips: [IP.pool[0], IP.pool[1]] } });
  const now = record({ local: { ips: [IP.pool[1]] }, reference: { ips: [IP.pool[2]] } });
  assert.is(judge(now, [earlier]).class, 'consistent');
  // With a current window of 0 only the same round counts: 40 minutes ago is stale then.
  const v = judge(now, [earlier], { currentMs: 0 });
  assert.is(v.evidence.ips?.[IP.pool[1]]?.ground_truth, 'stale');
});

truth('#3 TTL 37 vs 600 and a different order: consistent', () => {
  const v = judge(record({ local: { ips: [IP.pool[1], IP.pool[0]], ttl: 37 }, reference: { ips: [IP.pool[0], IP.pool[1]], ttl: 600 } }));
  assert.is(v.class, 'consistent');
  assert.equal(v.answer_ips, [IP.pool[0], IP.pool[1]]);
  assert.is(v.evidence.queries[0].min_ttl, 37);
});

truth('#4 the previous IP (references gave it 2 days ago), certificate verifies: consistent{stale}', () => {
  const old = record({ atMs: T0 - 47 * H, local: { ips: [IP.oldOrigin] }, reference: { ips: [IP.oldOrigin] } });
  const now = record({
    local: { ips: [IP.oldOrigin] },
    reference: { ips: [IP.newOrigin] },
    evidence: [{ ip: IP.oldOrigin }, referencePages(IP.newOrigin)],
  });
  const v = judge(now, [old]);
  assert.is(v.class, 'consistent', v.evidence.reason);
  assert.is(v.rule, 'R6-stale');
  assert.equal(v.flags, ['stale']);
  assert.is(v.evidence.ips?.[IP.oldOrigin]?.ground_truth, 'stale');
});

truth('stale without a fetched page: consistent{stale, low_confidence}; beyond the stale window it is history', () => {
  const old = record({ atMs: T0 - 30 * H, local: { ips: [IP.oldOrigin] }, reference: { ips: [IP.oldOrigin] } });
  const now = record({ local: { ips: [IP.oldOrigin] }, reference: { ips: [IP.newOrigin] } });
  const v = judge(now, [old]);
  assert.is(v.class, 'consistent');
  assert.equal(v.flags, ['low_confidence', 'no_evidence', 'stale']);
  const older = record({ atMs: T0 - 60 * H, local: { ips: [IP.oldOrigin] }, reference: { ips: [IP.oldOrigin] } });
  const w = judge(now, [older]);
  assert.is(w.evidence.ips?.[IP.oldOrigin]?.ground_truth, 'history');
  assert.is(w.class, 'cdn_variance', 'an address the references gave within the history window');
  assert.ok(w.flags.includes('low_confidence'));
});

truth('expected IPs and CIDRs of the task are ground truth; without any truth: consistent{no_ground_truth}', () => {
  const r = record({ local: { ips: [IP.other, '45.60.200.7'] }, reference: null });
  const v = judge(r, [], {}, { [TARGET]: { ips: [IP.other], cidrs: ['45.60.200.0/24'] } });
  assert.is(v.class, 'consistent');
  assert.equal(v.expected_ips, [IP.other]);
  const none = judge(record({ local: { ips: [IP.other] }, reference: null }));
  assert.is(none.class, 'consistent');
  assert.is(none.rule, 'R6-no-ground-truth');
  assert.equal(none.flags, ['low_confidence', 'no_ground_truth']);
});

truth('an unknown IP and no evidence gathered: suspicious{no_evidence}', () => {
  const v = judge(record({ local: { ips: [IP.other] } }));
  assert.is(v.class, 'suspicious');
  assert.is(v.rule, 'R13-no-evidence');
});

truth('one verdict per local resolver, each judged on its own answer', () => {
  const r = record({ local: [{ ips: [IP.origin] }, { server: '10.53.0.9:53', ips: ['127.0.0.1'] }] });
  const verdicts = judgeAll([r]);
  assert.equal(verdicts.map((v) => [v.resolver, v.class]), [['10.53.0.1:53', 'consistent'], ['10.53.0.9:53', 'blocked']]);
});

truth.run();

// --- rules 1, 2, 4: failures and NXDOMAIN ---------------------------------------------------------

const failures = suite('rules 1, 2, 4: failures and NXDOMAIN');

failures('#30 timeout ×3 and the canary times out too: resolver_failure', () => {
  const r = record({ local: { failure: 'timeout', rcode: null } });
  const others = canaries(3, { local: { failure: 'timeout', rcode: null } });
  const v = judge(r, others);
  assert.is(v.class, 'resolver_failure');
  assert.is(v.rule, 'R1-resolver-down');
  assert.equal(v.flags, []);
  assert.equal(v.evidence.canary, { answered: 0, failed: 3 });
});

failures('#31 SERVFAIL for the target only, one probe: resolver_failure{target_specific}', () => {
  const r = record({ local: { failure: 'dns_servfail', rcode: 'SERVFAIL' } });
  const v = judge(r, canaries(2));
  assert.is(v.class, 'resolver_failure');
  assert.equal(v.flags, ['target_specific']);
  assert.is(v.rule, 'R1-target-specific');
});

failures('#31 reproduced by 2 probes of the same ISP: blocked{target_specific}; another ISP does not count', () => {
  const mine = record({ local: { failure: 'dns_servfail', rcode: 'SERVFAIL' } });
  const peer = record({ probeId: 'probe-2', local: { failure: 'dns_servfail', rcode: 'SERVFAIL' } });
  const otherIsp = record({ probeId: 'probe-3', isp: 'unicom', local: { failure: 'dns_servfail', rcode: 'SERVFAIL' } });
  const v = judge(mine, [peer, ...canaries(2)]);
  assert.is(v.class, 'blocked');
  assert.is(v.rule, 'R1-target-failure-repeated');
  assert.is(v.evidence.failing_probes, 2);
  assert.is(judge(mine, [otherIsp, ...canaries(2)]).class, 'resolver_failure');
});

failures('a failure while the references fail too: resolver_failure; no canary at all: resolver_failure', () => {
  assert.is(judge(record({ local: { failure: 'timeout', rcode: null }, reference: { failure: 'timeout', rcode: null } })).rule, 'R1-reference-fails-too');
  const alone = judge(record({ local: { failure: 'dns_refused', rcode: 'REFUSED' } }));
  assert.is(alone.class, 'resolver_failure');
  assert.is(alone.rule, 'R1-failure');
});

failures('#29 NXDOMAIN at the authoritative and the resolver: consistent', () => {
  const v = judge(record({ local: { rcode: 'NXDOMAIN' }, reference: { rcode: 'NXDOMAIN' } }));
  assert.is(v.class, 'consistent');
  assert.is(v.rule, 'R2-expected-nxdomain');
});

failures('#28 NXDOMAIN while the references have records and the canary passes: blocked{target_specific}', () => {
  const r = record({ local: { rcode: 'NXDOMAIN' } });
  const v = judge(r, canaries(2));
  assert.is(v.class, 'blocked');
  assert.is(v.rule, 'R4-target-nxdomain');
  assert.equal(v.flags, ['target_specific']);
  assert.equal(judge(r).flags, ['low_confidence'], 'no canary: still blocked, with low confidence');
  // The resolver says NXDOMAIN to everything: a broken resolver, not blocking.
  assert.is(judge(r, canaries(2, { local: { rcode: 'NXDOMAIN' } })).class, 'resolver_failure');
});

failures('AAAA NODATA is normal; an empty A answer while the references have A records is blocked{nodata}', () => {
  const v6 = judge(record({ local: { ips: [IP.origin], aaaa: [] }, reference: { ips: [IP.origin], aaaa: [] } }));
  assert.is(v6.class, 'consistent');
  const empty = judge(record({ local: { ips: [] } }), canaries(1));
  assert.is(empty.class, 'blocked');
  assert.equal(empty.flags, ['nodata', 'target_specific']);
  const both = judge(record({ local: { ips: [] }, reference: { ips: [] } }));
  assert.is(both.class, 'consistent');
  assert.is(both.rule, 'R2-expected-nodata');
});

failures.run();

// --- rule 3: NXDOMAIN rewriting ----------------------------------------------------------------

const rewrite = suite('rule 3: NXDOMAIN rewriting');
const RANDOM = 'rand7f3k2.shop.example.com';

rewrite('#22 an A record for a random label the authoritative says does not exist: nxdomain_rewrite', () => {
  const r = dnsRecord({
    target: RANDOM, local: { ips: [IP.ad] }, reference: { rcode: 'NXDOMAIN' },
    evidence: [{ ip: IP.ad, http: { status: 200, title: '搜索 — 热门推荐', bytes: 9000, scripts: ['https://ads.search-portal.example'] }, https: { failure: 'connection_refused' } }],
  });
  const v = judge(r);
  assert.is(v.class, 'nxdomain_rewrite');
  assert.equal(v.flags, ['vector=dns']);
  assert.is(v.rule, 'R3-nxdomain-rewrite');
});

rewrite('#23 the zone has a wildcard (the reference answers the random label): consistent', () => {
  const r = dnsRecord({ target: RANDOM, local: { ips: [IP.origin] }, reference: { ips: [IP.origin] } });
  assert.is(judge(r).class, 'consistent');
});

rewrite('ghost: the name does not exist and the answer is a blockpage IP or a blockpage: blocked', () => {
  const sinkhole = dnsRecord({ target: RANDOM, local: { ips: ['45.70.0.1'] }, reference: { rcode: 'NXDOMAIN' } });
  const v = judge(sinkhole, [], { blockpages: blockpages(['45.70.0.0/24']) });
  assert.is(v.class, 'blocked');
  assert.is(v.rule, 'R3-ghost-blockpage');
  assert.is(v.evidence.fingerprint, 'sinkhole:45.70.0.0/24');
  const page = dnsRecord({
    target: RANDOM, local: { ips: [IP.other] }, reference: { rcode: 'NXDOMAIN' },
    evidence: [{ ip: IP.other, http: { status: 200, title: 'This website has been blocked', bytes: 800 }, https: { failure: 'connection_refused' } }],
  });
  assert.is(judge(page).class, 'blocked');
  assert.is(judge(page).evidence.fingerprint, 'blockpage:title:This website has been blocked');
});

rewrite.run();

// --- rule 5: bogons, sinkholes, blockpage CNAMEs ---------------------------------------------

const bogons = suite('rule 5: bogons and blockpages');

bogons('#24 127.0.0.1 and #25 0.0.0.0: blocked{bogon}', () => {
  for (const ip of ['127.0.0.1', '0.0.0.0', '::1', '10.1.2.3']) {
    const v = judge(record({ local: ip.includes(':') ? { aaaa: [ip], ips: [] } : { ips: [ip] } }));
    assert.is(v.class, 'blocked', ip);
    assert.is(v.rule, 'R5-bogon');
    assert.equal(v.flags, ['bogon']);
  }
});

bogons('#26 split horizon: the references give the same bogon: consistent{bogon}', () => {
  const v = judge(record({ local: { ips: ['10.0.0.5'] }, reference: { ips: ['10.0.0.5'] } }));
  assert.is(v.class, 'consistent');
  assert.equal(v.flags, ['bogon']);
  const expected = judge(record({ local: { ips: ['10.0.0.5'] }, reference: null }), [], {}, { [TARGET]: { cidrs: ['10.0.0.0/24'] } });
  assert.is(expected.class, 'consistent', 'or the customer declares it');
});

bogons('#27 a CNAME to a blockpage host (fingerprint): blocked', () => {
  const r = record({ local: { cnames: ['blockpage.isp.example'], ips: ['45.70.0.9'] } });
  const v = judge(r, [], { blockpages: blockpages([], ['isp.example']) });
  assert.is(v.class, 'blocked');
  assert.is(v.rule, 'R5-blockpage-cname');
  assert.is(v.evidence.fingerprint, 'blockpage:cname:blockpage.isp.example');
  // Without the fingerprint it is just an unknown IP.
  assert.is.not(judge(r).class, 'blocked');
});

bogons('a sinkhole IP the references do not give: blocked{sinkhole}', () => {
  const v = judge(record({ local: { ips: ['45.70.0.1'] } }), [], { blockpages: blockpages(['45.70.0.1']) });
  assert.is(v.class, 'blocked');
  assert.equal(v.flags, ['sinkhole']);
});

bogons.run();

// --- hostile input ------------------------------------------------------------------------------

const hostile = suite('hostile input');

hostile('junk addresses, names, URLs and times give verdicts, never exceptions', () => {
  const r = dnsRecord({
    local: [{ ips: ['not-an-ip', '::ffff:999.1.1.1', '', '1.2.3.4.5'], cnames: ['', '..', 'x'.repeat(300)] }, { server: '', rcode: 'WEIRD', failure: 'dns_rcode' }],
    reference: { ips: ['45.60.1.10', 'junk'], cnames: ['.'] },
    evidence: [
      { ip: 'not-an-ip', http: { status: 200, title: '\u0000'.repeat(10), redirects: [{ status: 302, location: 'javascript:alert(1)' }], meta: '//', scripts: ['::', 'http://'], frames: ['http://[::1'], forms: ['https://'], password: true, contentLength: 5, bytes: 6 }, https: { status: null, tls: 'self-signed' } },
      { ip: '', role: 'reference', http: { status: 999 }, https: null },
    ],
  });
  const bad = { ...r, scheduled_at: 'yesterday', started_at: '' } as typeof r;
  for (const record of [r, bad]) {
    const verdicts = judgeAll([record]);
    assert.is(verdicts.length, 2);
    for (const v of verdicts) {
      assert.ok(typeof v.class === 'string' && typeof v.rule === 'string');
      assert.ok(Number.isFinite(v.started_at_ms));
      JSON.stringify(v);
    }
  }
});

hostile.run();
