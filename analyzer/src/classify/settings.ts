/**
 * Analyzer settings: the `analyzer:` section of the config file given to `vantage analyze
 * --config` (the rest of that file is a normal probe config). Files named here are read relative
 * to the config file; every problem names the file and the key.
 *
 *     analyzer:
 *       asn_table: asn.txt           # "CIDR ASN [org]" lines (asn-table.ts)
 *       threat_list: threats.txt     # one IP or CIDR a line → malicious
 *       blockpages: { ips: [198.18.0.1, 100.64.0.0/10], cnames: [blockpage.isp.example] }
 *       history: 7d                  # how long reference answers are remembered
 *       stale: 48h                   # an answer the references gave this recently is stale, not foreign
 *       current: 1h                  # reference answers this close to a round are its ground truth
 *       prevalence_min_domains: 3    # unrelated sites one IP must answer for (ISP cache)
 *       blocked_min_probes: 2        # probes of one ISP failing one target before it is `blocked`
 */
import { dirname, resolve } from 'node:path';
import { parseDuration } from '../../../probe/src/config/duration.ts';
import { array, number, object, optional, string, type Validator } from '../../../probe/src/contract/shape.ts';
import { AsnTable, parseAsnTable } from './asn-table.ts';
import { normName } from './domains.ts';
import { parseCidr, prefixSet, PrefixMap } from './ip.ts';

export interface AnalyzerSettings {
  asnTable: AsnTable | null;
  /** IPs/CIDRs of known-bad hosts (threat intelligence). */
  threats: PrefixMap<string>;
  /** Sinkhole and blockpage fingerprints: answer IPs/CIDRs and CNAME names (suffixes). */
  blockpages: { ips: PrefixMap<string>; cnames: string[] };
  historyMs: number;
  staleMs: number;
  /** Reference answers within this distance of a round are current ground truth (LB pools). */
  currentMs: number;
  prevalenceMinDomains: number;
  blockedMinProbes: number;
  /** Records this close in time are "the same moment" (canaries, other probes' pages). */
  momentMs: number;
  /** How long other probes' pages are kept as controls (memory bound for the service). */
  controlsKeepMs: number;
}

export const DEFAULT_SETTINGS: Readonly<AnalyzerSettings> = Object.freeze({
  asnTable: null,
  threats: new PrefixMap<string>(),
  blockpages: { ips: new PrefixMap<string>(), cnames: [] },
  historyMs: 7 * 86_400_000,
  staleMs: 48 * 3_600_000,
  currentMs: 3_600_000,
  prevalenceMinDomains: 3,
  blockedMinProbes: 2,
  momentMs: 90_000,
  controlsKeepMs: 5 * 60_000,
});

export function defaultSettings(overrides: Partial<AnalyzerSettings> = {}): AnalyzerSettings {
  return { ...DEFAULT_SETTINGS, ...overrides };
}

export class SettingsError extends Error {
  constructor(readonly file: string, readonly problems: string[]) {
    super(`invalid analyzer settings in ${file}:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'SettingsError';
  }
}

/** "7d", "48h", "90m", "30s", "500ms" or a number of ms. */
const duration: Validator<number> = (value, path, problems) => {
  const days = typeof value === 'string' ? /^(\d+(?:\.\d+)?)\s*d$/.exec(value.trim()) : null;
  const ms = days ? Number(days[1]) * 86_400_000 : parseDuration(value);
  if (ms === null) problems.push(`${path}: ${JSON.stringify(value)} is not a duration (write e.g. 7d, 48h, 30m)`);
  return ms ?? 0;
};

const cidrList: Validator<string[]> = (value, path, problems) => {
  const items = array(string())(value, path, problems) ?? [];
  items.forEach((item, i) => {
    if (typeof item === 'string' && !parseCidr(item)) problems.push(`${path}[${i}]: ${JSON.stringify(item)} is not an IP or CIDR`);
  });
  return items;
};

const section = object(
  {
    asn_table: optional(string()),
    threat_list: optional(string()),
    blockpages: optional(object({ ips: optional(cidrList, []), cnames: optional(array(string()), []) }, { strict: true }), { ips: [], cnames: [] }),
    history: optional(duration, DEFAULT_SETTINGS.historyMs),
    stale: optional(duration, DEFAULT_SETTINGS.staleMs),
    current: optional(duration, DEFAULT_SETTINGS.currentMs),
    prevalence_min_domains: optional(number({ min: 1, integer: true }), DEFAULT_SETTINGS.prevalenceMinDomains),
    blocked_min_probes: optional(number({ min: 1, integer: true }), DEFAULT_SETTINGS.blockedMinProbes),
  },
  { strict: true },
);

/**
 * Validates the `analyzer:` section (`raw`, undefined when absent) of `configFile` and reads the
 * files it names. Throws SettingsError with every problem ("analyzer.stale: …", "asn.txt:3: …").
 */
export function parseAnalyzerSettings(raw: unknown, configFile: string, readFile: (path: string) => string): AnalyzerSettings {
  const problems: string[] = [];
  const s = section(raw ?? {}, 'analyzer', problems);
  if (s && problems.length === 0 && s.stale > s.history) problems.push(`analyzer.stale: ${s.stale}ms is longer than analyzer.history (${s.history}ms)`);
  if (!s || problems.length > 0) throw new SettingsError(configFile, problems);

  const baseDir = dirname(configFile);
  const read = (key: string, name: string): { text: string; path: string } | null => {
    const path = resolve(baseDir, name);
    try {
      return { text: readFile(path), path };
    } catch (err) {
      problems.push(`analyzer.${key}: cannot read ${path}: ${(err as Error).message}`);
      return null;
    }
  };

  let asnTable: AsnTable | null = null;
  if (s.asn_table) {
    const file = read('asn_table', s.asn_table);
    if (file) {
      const parsed = parseAsnTable(file.text, file.path);
      problems.push(...parsed.problems.map((p) => `analyzer.asn_table: ${p}`));
      asnTable = parsed.table;
    }
  }
  const threats = new PrefixMap<string>();
  if (s.threat_list) {
    const file = read('threat_list', s.threat_list);
    file?.text.split('\n').forEach((line, i) => {
      const entry = line.replace(/#.*/, '').trim();
      if (entry === '') return;
      const cidr = parseCidr(entry);
      if (cidr) threats.set(cidr, cidr.text);
      else if (problems.length < 20) problems.push(`analyzer.threat_list: ${file.path}:${i + 1}: ${JSON.stringify(entry)} is not an IP or CIDR`);
    });
  }
  if (problems.length > 0) throw new SettingsError(configFile, problems);
  return defaultSettings({
    asnTable,
    threats,
    blockpages: { ips: prefixSet(s.blockpages.ips), cnames: s.blockpages.cnames.map(normName) },
    historyMs: s.history,
    staleMs: s.stale,
    currentMs: s.current,
    prevalenceMinDomains: s.prevalence_min_domains,
    blockedMinProbes: s.blocked_min_probes,
  });
}
