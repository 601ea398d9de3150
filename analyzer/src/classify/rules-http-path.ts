/**
 * Rule 12: tampering on the HTTP path while DNS is fine. The probe's http page through a
 * ground-truth IP is held against controls the path cannot touch — the https page of the same
 * IP when its certificate verifies, the fleet's verified pages — or, for sites without https,
 * other ISPs' pages at the same moment. An https page that verifies is never suspected.
 */
import type { Decision, RecordContext } from './context.ts';
import { challengeFingerprint } from './fingerprints.ts';
import { comparePage, hasContent, schemeOf, verified } from './pages.ts';
import type { PageComparison } from './verdict.ts';

export function httpPathRule(ctx: RecordContext): { decision: Decision | null; comparison?: PageComparison } {
  const pages = ctx.referencePages.filter(hasContent);
  const challenge = pages.map(challengeFingerprint).find((f) => f !== null);
  if (challenge) {
    return { decision: { class: 'consistent', rule: 'R13-challenge', reason: 'the site answers this probe with a challenge/CAPTCHA page', flags: ['challenge'], fingerprint: challenge } };
  }
  const suspect = pages.find((p) => schemeOf(p) === 'http' && !verified(p));
  if (!suspect) return { decision: null };
  const controls = ctx.pathControls();
  if (controls.pages.length === 0) return { decision: null };
  const diff = comparePage(suspect, controls, ctx.target, ctx.expect.scriptHosts);
  if (diff.offsite.length > 0) {
    return {
      comparison: diff.comparison,
      decision: { class: 'ad_hijack', rule: 'R12-http-redirect', reason: `over http this probe is sent to ${diff.offsite.join(', ')}, the controls are not`, flags: ['vector=http'] },
    };
  }
  if (diff.inj || diff.wraps) {
    return {
      comparison: diff.comparison,
      decision: { class: 'ad_injection', rule: 'R12-http-injection', reason: 'the http page carries content the controls do not', flags: ['vector=http'] },
    };
  }
  return { decision: null };
}
