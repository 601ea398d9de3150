/**
 * ResultWindow keeps its aggregates equal to what counting the window's results from scratch
 * gives, through out-of-order arrivals and expiry (seeded random runs).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ResultSample } from './evaluation.ts';
import { ResultWindow } from './result-window.ts';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function fromScratch(samples: ResultSample[]) {
  const latest = new Map<string, ResultSample>();
  for (const s of samples) {
    const seen = latest.get(s.probeId);
    if (!seen || seen.atMs <= s.atMs) latest.set(s.probeId, s);
  }
  const rounds = new Map<number, { n: number; failed: number }>();
  const failures = new Map<string, number>();
  for (const s of samples) {
    const r = rounds.get(s.round) ?? { n: 0, failed: 0 };
    r.n++;
    if (!s.ok) r.failed++;
    rounds.set(s.round, r);
    if (!s.ok) failures.set(s.failure!, (failures.get(s.failure!) ?? 0) + 1);
  }
  return {
    total: samples.length,
    ok: samples.filter((s) => s.ok).length,
    failingProbes: [...latest.values()].filter((s) => !s.ok).length,
    probes: [...latest.keys()].sort(),
    roundKeys: [...rounds.keys()].sort((a, b) => a - b),
    rounds: Object.fromEntries([...rounds].sort((a, b) => a[0] - b[0])),
    failures: Object.fromEntries([...failures].sort()),
    values: samples.map((s) => s.value!).sort((a, b) => a - b),
  };
}

const test = suite('ResultWindow');

for (const seed of [1, 2, 3, 42, 1234]) {
  test(`aggregates match a count from scratch (seed ${seed})`, () => {
    const random = rng(seed);
    const w = new ResultWindow();
    let kept: ResultSample[] = [];
    let now = 0;
    for (let i = 0; i < 3000; i++) {
      now += Math.floor(random() * 50);
      const atMs = now - Math.floor(random() * random() * 2000); // some arrive late
      const s: ResultSample = {
        id: String(i), atMs, round: Math.floor(atMs / 1000) * 1000, probeId: `p${Math.floor(random() * 7)}`,
        ok: random() > 0.3, failure: null, value: Math.floor(random() * 100),
      };
      if (!s.ok) s.failure = random() > 0.5 ? 'timeout' : 'connection_refused';
      w.add(s);
      kept.push(s);
      if (i % 7 === 0) {
        const from = now - 5000;
        const gone = w.expire(from);
        assert.equal(gone.map((g) => g.id).sort(), kept.filter((k) => k.atMs <= from).map((k) => k.id).sort());
        kept = kept.filter((k) => k.atMs > from);
      }
      if (i % 97 === 0) {
        const want = fromScratch(kept);
        assert.equal({
          total: w.total, ok: w.ok, failingProbes: w.failingProbes, probes: [...w.latest.keys()].sort(), roundKeys: [...w.roundKeys],
          rounds: Object.fromEntries([...w.rounds].sort((a, b) => a[0] - b[0]).map(([k, v]) => [k, { ...v }])),
          failures: Object.fromEntries([...w.failures].sort()), values: [...w.values],
        }, want);
        assert.equal(w.samples.map((x) => x.atMs), [...w.samples.map((x) => x.atMs)].sort((a, b) => a - b), 'kept in time order');
      }
    }
  });
}

test.run();
