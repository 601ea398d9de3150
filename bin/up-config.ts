/**
 * The config of `vantage up`: a probe config (probe/README.md) with optional sections for the
 * roles it also runs —
 *
 *     probes:                 # more than one vantage point on this machine (instead of `probe:`)
 *       - { id: east-01, region: east, isp: telecom, resolvers: [127.0.0.53] }   # as under `probe:`
 *       - { id: west-01, region: west, isp: unicom }
 *     analyzer: { … }         # classifier settings (analyzer/README.md, "Settings")
 *     alarms: { rules: […], channels: {…}, … }   # alarm config (analyzer/README.md, "Alarms and webhooks")
 *     api: { listen: 127.0.0.1:8080 }
 *
 * Every probe identity runs every task. Problems are reported with the file and the key.
 */
import { readFileSync } from 'node:fs';
import { ConfigError, parseConfig, type ProbeConfig } from '@vantage/probe';
import { readConfigYaml } from '../probe/src/config/config.ts';
import { splitHostPort } from '../probe/src/config/endpoints.ts';
import { parseAlarmConfig } from '../analyzer/src/alarms/config.ts';
import type { AlarmConfig } from '../analyzer/src/alarms/rules.ts';
import { Expectations } from '../analyzer/src/classify/expectations.ts';
import { parseAnalyzerSettings, type AnalyzerSettings } from '../analyzer/src/classify/settings.ts';

export interface UpConfig {
  file: string;
  /** One probe config per identity (same tasks). */
  probes: ProbeConfig[];
  /** The `tasks:` list as written (registered with the API under tenant `default`). */
  rawTasks: Record<string, unknown>[];
  expectations: Expectations;
  analyzer: AnalyzerSettings;
  alarms: AlarmConfig | null;
  api: { host: string; port: number };
}

export const DEFAULT_API_LISTEN = '127.0.0.1:8080';

/** Throws ConfigError (or the alarm/analyzer config errors), each naming the file and key. */
export function loadUpConfig(file: string): UpConfig {
  const { path, raw } = readConfigYaml(file);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(path, ['(top level): expected a mapping']);
  const { probes, analyzer, alarms, api, ...probePart } = raw as Record<string, unknown>;

  const identities: unknown[] = probes === undefined ? [probePart.probe] : Array.isArray(probes) ? probes : [];
  const problems: string[] = [];
  if (probes !== undefined && (!Array.isArray(probes) || probes.length === 0)) problems.push('probes: expected a list of probe identities');
  if (probes !== undefined && probePart.probe !== undefined) problems.push('probes: give either `probe:` or `probes:`, not both');
  const configs = identities.map((identity, i) => {
    try {
      return parseConfig({ ...probePart, probe: identity }, path);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      const where = probes === undefined ? '' : `probes[${i}] → `;
      problems.push(...err.problems.map((p) => where + p));
      return null;
    }
  });
  const ids = configs.map((c) => c?.probe.id);
  const repeated = ids.find((id, i) => id !== undefined && ids.indexOf(id) !== i);
  if (repeated) problems.push(`probes: the id "${repeated}" is used twice`);

  const listenText = api === undefined ? DEFAULT_API_LISTEN : (api as { listen?: unknown } | null)?.listen;
  const listen = typeof listenText === 'string' ? splitHostPort(listenText, { listen: true }) : null;
  if (!listen || listen.port === null) problems.push(`api.listen: expected host:port (e.g. ${DEFAULT_API_LISTEN}), got ${JSON.stringify(listenText)}`);
  if (problems.length > 0) throw new ConfigError(path, problems);

  const probeConfigs = configs as ProbeConfig[];
  return {
    file: path,
    probes: probeConfigs,
    rawTasks: Array.isArray(probePart.tasks) ? (probePart.tasks as Record<string, unknown>[]) : [],
    expectations: Expectations.fromTasks(probeConfigs[0]!.tasks),
    analyzer: parseAnalyzerSettings(analyzer, path, (p) => readFileSync(p, 'utf8')),
    alarms: alarms === undefined ? null : parseAlarmConfig(alarms, path),
    api: { host: listen!.host, port: listen!.port! },
  };
}
