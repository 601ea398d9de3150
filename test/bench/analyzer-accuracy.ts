/**
 * Accuracy of `vantage analyze` on the hijack lab (test/analyzer/lab/README.md): runs the lab
 * (both rounds, every probe), classifies every record, and prints the scenario-by-scenario result
 * and a precision/recall table per class (TP/FP/FN over every (scenario, probe, round) verdict),
 * then one JSON line with the figures. Needs root (network namespaces). Not part of `npm test`.
 *
 *   npm run bench:accuracy
 */
import { HijackLab } from '../analyzer/lab/lab.ts';
import { accuracy, accuracyTable, joinOutcomes, problemsOf, scenarioTable } from '../analyzer/lab/outcomes.ts';
import { SCENARIOS } from '../analyzer/lab/scenarios.ts';
import { benchWorkspace } from './bench-tools.ts';

const ws = benchWorkspace('accuracy', 180_000);
const started = performance.now();
const lab = await HijackLab.start();
ws.undo.push(() => lab.stop());
try {
  const labUpMs = performance.now() - started;
  const r1 = await lab.runRound(1);
  await lab.advance();
  const r2 = await lab.runRound(2);
  const records = [...r1, ...r2];
  const probedMs = performance.now() - started;
  const analyzeStart = performance.now();
  const verdicts = await lab.analyze(records);
  const analyzeMs = performance.now() - analyzeStart;
  const outcomes = joinOutcomes(records, verdicts);
  const scores = accuracy(outcomes);
  const wrong = outcomes.filter((o) => problemsOf(o).length > 0);

  console.log(`Hijack lab: ${SCENARIOS.length} scenarios, ${records.length} records (3 ISPs × 2 rounds), ${verdicts.length} verdicts\n`);
  console.log(scenarioTable(outcomes));
  console.log(`\n${accuracyTable(scores)}\n`);
  const correct = outcomes.length - wrong.length;
  console.log(`verdicts as expected: ${correct} / ${outcomes.length} (${((100 * correct) / outcomes.length).toFixed(1)}%)`);
  if (wrong.length > 0) console.log(`\nwrong:\n${wrong.flatMap(problemsOf).map((p) => `  ${p}`).join('\n')}`);
  console.log(`\ntimes: lab up ${(labUpMs / 1000).toFixed(1)} s, lab + two rounds ${(probedMs / 1000).toFixed(1)} s, vantage analyze ${(analyzeMs / 1000).toFixed(1)} s`);
  console.log(JSON.stringify({
    scenarios: SCENARIOS.length,
    records: records.length,
    verdicts: verdicts.length,
    correct,
    per_class: Object.fromEntries(scores.map((s) => [s.cls, { tp: s.tp, fp: s.fp, fn: s.fn, precision: s.precision, recall: s.recall }])),
    lab_up_ms: Math.round(labUpMs),
    rounds_ms: Math.round(probedMs - labUpMs),
    analyze_ms: Math.round(analyzeMs),
  }));
} finally {
  await ws.finish();
}
