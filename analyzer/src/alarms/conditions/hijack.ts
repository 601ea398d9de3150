/**
 * Hijack: a verdict class (ad_hijack, malicious …) seen by at least K probes of the group in the
 * window, or in each of the group's last R rounds (either suffices). The alarm names the classes,
 * the hijacked IPs, the resolvers and the probes, and links to the verdicts as evidence.
 */
import type { HijackRule } from '../rules.ts';
import { durationText, inWindow, roundsNewestFirst, type Evaluation, type VerdictSample } from './evaluation.ts';

const MAX_LINKS = 20;

/** The API path of a verdict (its id holds a `/`, so it is encoded). */
export function verdictLink(id: string): string {
  return `/v1/verdicts/${encodeURIComponent(id)}`;
}

export function evaluateHijack(rule: HijackRule, samples: readonly VerdictSample[], nowMs: number): Evaluation {
  const window = inWindow(samples, rule.windowMs, nowMs);
  const rounds = roundsNewestFirst(window);
  const key = String(rounds.keys().next().value ?? 'none');
  if (window.length === 0) return { holds: null, key, summary: 'no verdicts in the window', details: {}, links: [] };
  const classes = new Set(rule.classes);
  const matching = window.filter((s) => classes.has(s.cls)).sort((a, b) => b.atMs - a.atMs);
  const probes = [...new Set(matching.map((s) => s.probeId))].sort();

  let roundsWithClass = 0;
  for (const verdicts of rounds.values()) {
    if (verdicts.some((s) => classes.has(s.cls))) roundsWithClass++;
    else break;
  }
  const byProbes = rule.minProbes !== null && probes.length >= rule.minProbes;
  const byRounds = rule.consecutiveRounds !== null && roundsWithClass >= rule.consecutiveRounds;

  const seenClasses = countBy(matching.map((s) => s.cls));
  const hijackedIps = [...new Set(matching.flatMap((s) => s.answerIps.filter((ip) => !s.expectedIps.includes(ip))))].sort();
  const resolvers = [...new Set(matching.map((s) => s.resolver))].sort();
  const names = Object.keys(seenClasses).join(', ') || rule.classes.join('/');
  const summary = matching.length === 0
    ? `no ${rule.classes.join('/')} verdicts among ${window.length} in ${durationText(rule.windowMs)}`
    : `${names} seen by ${probes.length} probe${probes.length === 1 ? '' : 's'} in ${durationText(rule.windowMs)}` +
      `, in the last ${roundsWithClass} round${roundsWithClass === 1 ? '' : 's'}` +
      (hijackedIps.length > 0 ? `; answers ${hijackedIps.slice(0, 5).join(', ')}${hijackedIps.length > 5 ? ' …' : ''}` : '') +
      `; resolver ${resolvers.slice(0, 3).join(', ')}`;
  const evidence = matching.slice(0, MAX_LINKS);
  return {
    holds: byProbes || byRounds,
    key,
    summary,
    details: {
      classes: seenClasses,
      hijacked_ips: hijackedIps,
      expected_ips: [...new Set(matching.flatMap((s) => s.expectedIps))].sort(),
      resolvers,
      probes,
      consecutive_rounds: roundsWithClass,
      verdict_ids: evidence.map((s) => s.id),
      thresholds: { min_probes: rule.minProbes, consecutive_rounds: rule.consecutiveRounds },
    },
    links: evidence.map((s) => verdictLink(s.id)),
  };
}

function countBy(values: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}
