/**
 * The lab by hand: `node --import tsx test/analyzer/lab/run-lab.ts [--records FILE] [--keep] [--hold S] [--table]`
 * starts it, runs both rounds, writes the records (JSON lines) to FILE (default: in the lab dir),
 * prints a line per record, and stops it (--keep leaves the temp dir with configs and logs;
 * --hold keeps the servers running S more seconds, or until Ctrl-C, to look around with
 * `ip netns exec vlab<pid>-ispa curl …`). --table prints the scenario table as markdown and exits.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { HijackLab } from './lab.ts';
import { describeExpected } from './outcomes.ts';
import { expectedFor, probesOf, SCENARIOS } from './scenarios.ts';

const { values } = parseArgs({ options: { records: { type: 'string' }, keep: { type: 'boolean', default: false }, hold: { type: 'string' }, table: { type: 'boolean', default: false } } });
if (values.table) {
  // The scenario table as markdown (README.md), from the data.
  console.log('| scenario | host | what happens | trap | expected |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const s of SCENARIOS) {
    const expected = probesOf(s).map((isp) => {
      const [r1, r2] = [1, 2].map((r) => describeExpected(expectedFor(s, isp, r)));
      return `${isp}: ${r1 === r2 ? r1 : `${r1} → ${r2}`}`;
    });
    console.log(`| ${s.name} | ${s.host} | ${s.about} | ${s.trap ?? ''} | ${expected.join('; ')} |`);
  }
  process.exit(0);
}
const started = Date.now();
const lab = await HijackLab.start();
console.error(`lab up in ${Date.now() - started} ms (${lab.dir})`);
try {
  const r1 = await lab.runRound(1);
  await lab.advance();
  const r2 = await lab.runRound(2);
  const records = [...r1, ...r2];
  const file = values.records ?? `${lab.dir}/records.jsonl`;
  writeFileSync(file, records.map((r) => r.line).join('\n') + '\n');
  for (const { isp, round, record } of records) {
    const keys = record.keys as { queries: { role: string; rcode: string | null; ips: string[]; failure: string | null }[]; evidence: { ip: string; url: string; status: number | null; failure: string | null; tls: { verified: boolean } | null; title: string | null }[] | null };
    const local = keys.queries.filter((q) => q.role === 'local').map((q) => q.failure ?? q.ips.join(',')).join(' ');
    const ref = keys.queries.filter((q) => q.role === 'reference').map((q) => q.failure ?? q.ips.join(',')).join(' ');
    const ev = (keys.evidence ?? []).map((e) => `${e.url.split(':')[0]}@${e.ip}:${e.failure ?? e.status}${e.tls ? (e.tls.verified ? '/tls-ok' : '/tls-bad') : ''}`).join(' ');
    console.log(`r${round} ${isp} ${record.task_id.padEnd(18)} local=${local.padEnd(28)} ref=${ref.padEnd(28)} ${ev}`);
  }
  console.error(`records: ${file} (${records.length}); total ${Date.now() - started} ms`);
  if (values.hold) {
    console.error(`holding for ${values.hold} s: namespaces ${Object.values(lab.ns).join(' ')}`);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Number(values.hold) * 1000);
      process.once('SIGINT', () => (clearTimeout(timer), resolve()));
    });
  }
} finally {
  await lab.stop({ keepDir: values.keep });
}
