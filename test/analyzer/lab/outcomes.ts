/**
 * Joins the lab's records, the scenario table and `vantage analyze`'s verdicts: one outcome per
 * (scenario, probe, round) with what was expected and what came out; plus the precision/recall
 * table over them.
 */
import { ISPS, type Isp } from './addresses.ts';
import type { LabRecord, Verdict } from './lab.ts';
import { CLASSES, expectedFor, SCENARIOS, type Expected, type Scenario } from './scenarios.ts';

export interface Outcome {
  scenario: Scenario;
  isp: Isp;
  round: number;
  record: LabRecord['record'];
  expected: Expected;
  /** The verdicts for this record (one per local resolver: the lab's probes have one). */
  verdicts: Verdict[];
}

export function joinOutcomes(records: LabRecord[], verdicts: Verdict[]): Outcome[] {
  const byRecord = new Map<string, Verdict[]>();
  for (const v of verdicts) {
    const id = String(v.record_id);
    byRecord.set(id, [...(byRecord.get(id) ?? []), v]);
  }
  return records.map(({ isp, round, record }) => {
    const scenario = SCENARIOS.find((s) => s.name === record.task_id);
    if (!scenario) throw new Error(`lab: a record of unknown task ${record.task_id}`);
    return { scenario, isp, round, record, expected: expectedFor(scenario, isp, round), verdicts: byRecord.get(record.id) ?? [] };
  });
}

/** What is wrong with an outcome (empty: the verdict is the expected one). */
export function problemsOf(o: Outcome): string[] {
  const where = `${o.scenario.name} isp ${o.isp} round ${o.round}`;
  if (o.verdicts.length !== 1) return [`${where}: ${o.verdicts.length} verdicts for record ${o.record.id}, expected 1`];
  const v = o.verdicts[0];
  const problems: string[] = [];
  if (v.class !== o.expected.class) problems.push(`${where}: class ${v.class}, expected ${o.expected.class}`);
  const missing = (o.expected.flags ?? []).filter((f) => !(v.flags ?? []).includes(f));
  if (missing.length > 0) problems.push(`${where}: flags [${(v.flags ?? []).join(', ')}] lack ${missing.join(', ')}`);
  if (problems.length > 0) problems[problems.length - 1] += ` (rule ${v.rule}: ${(v.evidence as { reason?: string } | undefined)?.reason ?? ''})`;
  return problems;
}

export const describeExpected = (e: Expected) => (e.flags?.length ? `${e.class}{${e.flags.join(',')}}` : e.class);
export const describeVerdict = (v: Verdict | undefined) => (v ? (v.flags?.length ? `${v.class}{${v.flags.join(',')}}` : v.class) : '(none)');

export interface ClassScore {
  cls: string;
  tp: number;
  fp: number;
  fn: number;
  precision: number | null;
  recall: number | null;
}

/** Precision and recall per class over the outcomes (a missing verdict counts as a miss). */
export function accuracy(outcomes: Outcome[]): ClassScore[] {
  return CLASSES.map((cls) => {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (const o of outcomes) {
      const got = o.verdicts[0]?.class;
      const want = o.expected.class;
      if (got === cls && want === cls) tp++;
      else if (got === cls) fp++;
      else if (want === cls) fn++;
    }
    return { cls, tp, fp, fn, precision: tp + fp ? tp / (tp + fp) : null, recall: tp + fn ? tp / (tp + fn) : null };
  });
}

export function accuracyTable(scores: ClassScore[]): string {
  const pct = (x: number | null) => (x === null ? '-' : `${(x * 100).toFixed(1)}%`);
  const rows = [['class', 'TP', 'FP', 'FN', 'precision', 'recall'], ...scores.map((s) => [s.cls, String(s.tp), String(s.fp), String(s.fn), pct(s.precision), pct(s.recall)])];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]) => `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  return [line(rows[0]), `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}

/** One line per scenario and probe: expected vs. actual in each round. */
export function scenarioTable(outcomes: Outcome[]): string {
  const lines: string[] = [];
  const width = Math.max(...SCENARIOS.map((s) => s.name.length));
  for (const s of SCENARIOS) {
    for (const isp of ISPS) {
      const mine = outcomes.filter((o) => o.scenario === s && o.isp === isp).sort((x, y) => x.round - y.round);
      if (mine.length === 0) continue;
      const cells = mine.map((o) => {
        const got = describeVerdict(o.verdicts[0]);
        const ok = problemsOf(o).length === 0;
        return `r${o.round} ${describeExpected(o.expected)}${ok ? ' ✓' : ` ✗ got ${got}`}`;
      });
      lines.push(`${s.name.padEnd(width)} ${isp}  ${cells.join('   ')}`);
    }
  }
  return lines.join('\n');
}
