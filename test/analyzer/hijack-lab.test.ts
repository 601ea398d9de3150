/**
 * The hijack lab end to end (test/analyzer/lab/README.md): network namespaces with real nsd,
 * unbound, nginx and iptables; `vantage probe --once` in three ISPs for two rounds; then
 * `vantage analyze`, whose verdict for every scenario, probe and round must be the expected class
 * with the expected flags. Runs as root (ip netns). On a failure the records and verdicts are kept
 * in test/artifacts/hijack-lab/. The table itself is checked in hijack-lab-table.test.ts.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { expectedLocal, expectedReference, type ExpectedAnswer } from './lab/expected-dns.ts';
import { HijackLab, type LabRecord, type Verdict } from './lab/lab.ts';
import { sh } from './lab/netns.ts';
import { describeExpected, joinOutcomes, problemsOf, scenarioTable, type Outcome } from './lab/outcomes.ts';
import { expectedFor, probesOf, SCENARIOS } from './lab/scenarios.ts';

const ARTIFACTS = new URL('../artifacts/hijack-lab/', import.meta.url).pathname;

interface State {
  lab: HijackLab | null;
  records: LabRecord[];
  verdicts: Verdict[] | null;
  outcomes: Outcome[];
}
const lab = suite<State>('hijack lab', { lab: null, records: [], verdicts: null, outcomes: [] });

/** Records, verdicts and the analyzer's config, to look at or re-run after a failure. */
function keepArtifacts(state: State): void {
  state.lab?.keepFiles(ARTIFACTS, state.records, state.verdicts);
  process.stderr.write(`\nkept in ${ARTIFACTS}: vantage analyze --input ${ARTIFACTS}records.jsonl --config ${ARTIFACTS}analyzer.yaml\n`);
}

lab.after(async (state) => {
  await state.lab?.stop();
  const left = sh('ip', ['netns', 'list']).split('\n').filter((l) => l.startsWith(`vlab${process.pid}-`));
  assert.equal(left, [], 'the lab left namespaces behind');
});

lab('the lab comes up and every probe runs two rounds', async (state) => {
  state.lab = await HijackLab.start();
  const r1 = await state.lab.runRound(1);
  await state.lab.advance();
  const r2 = await state.lab.runRound(2);
  state.records = [...r1, ...r2];
  const want = SCENARIOS.reduce((n, s) => n + probesOf(s).length, 0) * 2;
  assert.is(state.records.length, want, 'one record per scenario, probe and round');
});

lab('nothing can leave the lab: no namespace has a route to the host or beyond', (state) => {
  assert.ok(state.lab, 'the lab did not start');
  // `ip route get` only looks the route up; nothing is sent.
  for (const ns of Object.values(state.lab.ns)) {
    assert.not.match(sh('ip', ['-n', ns, 'route', 'show']), /default/, `${ns} has a default route`);
    for (const outside of ['10.255.255.53', '1.1.1.1', '192.168.1.1']) {
      assert.throws(() => sh('ip', ['-n', ns, 'route', 'get', outside]), /unreachable/i, `${ns} has a route to ${outside}`);
    }
  }
});

const sameAnswer = (got: { ips: string[]; failure: string | null }, want: ExpectedAnswer) =>
  'ips' in want ? got.failure === null && JSON.stringify([...got.ips].sort()) === JSON.stringify(want.ips) : got.failure !== null && (want.failure === 'any' || got.failure === want.failure);

lab("the resolvers answer what the table says (the lab's own check)", (state) => {
  assert.ok(state.records.length > 0, 'no records (the lab did not run)');
  const wrong: string[] = [];
  for (const { isp, round, record } of state.records) {
    const s = SCENARIOS.find((x) => x.name === record.task_id)!;
    const queries = (record.keys as { queries: { role: string; ips: string[]; failure: string | null }[] }).queries;
    const check = (role: string, want: ExpectedAnswer) => {
      const q = queries.find((x) => x.role === role);
      if (!q || !sameAnswer(q, want)) wrong.push(`${s.name} ${isp} r${round} ${role}: got ${q ? q.failure ?? q.ips.join(',') : 'no query'}, want ${JSON.stringify(want)}`);
    };
    check('local', expectedLocal(s, isp, round));
    check('reference', expectedReference(s, isp, round));
  }
  if (wrong.length > 0) keepArtifacts(state);
  assert.equal(wrong, []);
});

lab('vantage analyze gives one verdict per record and local resolver', async (state) => {
  assert.ok(state.lab && state.records.length > 0, 'the lab did not run');
  try {
    state.verdicts = await state.lab.analyze(state.records);
  } catch (err) {
    keepArtifacts(state);
    throw err;
  }
  state.outcomes = joinOutcomes(state.records, state.verdicts);
  const counts = state.outcomes.filter((o) => o.verdicts.length !== 1).map((o) => `${o.scenario.name} ${o.isp} r${o.round}: ${o.verdicts.length}`);
  assert.equal(counts, [], 'records without exactly one verdict');
  for (const v of state.verdicts) {
    for (const key of ['target', 'probe_id', 'region', 'isp', 'resolver', 'class', 'flags', 'rule', 'answer_ips', 'expected_ips', 'evidence']) {
      assert.ok(key in v, `verdict ${JSON.stringify(v).slice(0, 200)} lacks ${key}`);
    }
  }
  const bad = state.outcomes.flatMap(problemsOf);
  if (bad.length > 0) {
    keepArtifacts(state);
    process.stderr.write(`\n${scenarioTable(state.outcomes)}\n`);
  }
});

for (const s of SCENARIOS) {
  const summary = probesOf(s).map((isp) => [1, 2].map((r) => describeExpected(expectedFor(s, isp, r)))).map((x, i) => `${probesOf(s)[i]}=${x[0] === x[1] ? x[0] : x.join('→')}`).join(' ');
  lab(`${s.name}: ${summary}`, (state) => {
    const mine = state.outcomes.filter((o) => o.scenario === s);
    assert.is(mine.length, probesOf(s).length * 2, 'no outcomes (the lab or vantage analyze did not run)');
    assert.equal(mine.flatMap(problemsOf), []);
  });
}

lab.run();
