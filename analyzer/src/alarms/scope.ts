/**
 * Scopes and fingerprints. An alarm is one rule × one target × one group of probes (the scope):
 * the whole fleet, a region, an ISP, a region × ISP, or one probe. Its fingerprint hashes exactly
 * that, so it stays the same across restarts, replicas and config reloads.
 */
import { createHash } from 'node:crypto';
import type { ScopeLevel } from './rules.ts';

export interface Scope {
  level: ScopeLevel;
  /** '' when the level does not include it. */
  region: string;
  isp: string;
  probeId: string;
}

/** The scope a probe falls in at `level`. */
export function scopeOf(level: ScopeLevel, probe: { region: string; isp: string; probeId: string }): Scope {
  switch (level) {
    case 'fleet':
      return { level, region: '', isp: '', probeId: '' };
    case 'region':
      return { level, region: probe.region, isp: '', probeId: '' };
    case 'isp':
      return { level, region: '', isp: probe.isp, probeId: '' };
    case 'region_isp':
      return { level, region: probe.region, isp: probe.isp, probeId: '' };
    case 'probe':
      return { level, region: probe.region, isp: probe.isp, probeId: probe.probeId };
  }
}

/** A readable key of the group inside its level (also part of the fingerprint). */
export function scopeKey(scope: Scope): string {
  switch (scope.level) {
    case 'fleet':
      return 'fleet';
    case 'region':
      return `region:${scope.region}`;
    case 'isp':
      return `isp:${scope.isp}`;
    case 'region_isp':
      return `region_isp:${scope.region}\u0000${scope.isp}`;
    case 'probe':
      return `probe:${scope.probeId}`;
  }
}

/** Human text of a scope, for messages: "cn-east / China Telecom". */
export function scopeText(scope: { level: ScopeLevel; region: string; isp: string; probeId: string }): string {
  switch (scope.level) {
    case 'fleet':
      return 'all probes';
    case 'region':
      return `region ${scope.region}`;
    case 'isp':
      return `ISP ${scope.isp}`;
    case 'region_isp':
      return `${scope.region} / ${scope.isp}`;
    case 'probe':
      return `probe ${scope.probeId}`;
  }
}

/** 16 hex digits of SHA-256 over rule × task × target × scope. */
export function fingerprint(ruleId: string, taskId: string, target: string, scope: Scope): string {
  return createHash('sha256')
    .update(['v1', ruleId, taskId, target, scopeKey(scope)].join('\u0000'))
    .digest('hex')
    .slice(0, 16);
}
