/**
 * Probe and analyzer configs for the lab (YAML written as JSON, which YAML reads), and the files
 * the analyzer is given: the ASN table and the threat list.
 */
import { ASN_TABLE, BLOCKPAGES, DNS, ISP_PLAN, THREAT_LIST, type Isp } from './addresses.ts';
import { probesOf, SCENARIOS, type Scenario } from './scenarios.ts';

export const probeId = (isp: Isp) => `lab-${ISP_PLAN[isp].isp}`;
export const REGION = 'lab-east';
/**
 * Generous: a round starts ~150 page fetches at once in a fresh process, which takes a few
 * seconds on a busy 2-core machine; nothing in the lab waits for a timeout (the stopped resolver's
 * port is refused at once), so a long one costs nothing when the machine is idle.
 */
const TASK_TIMEOUT = '15s';

function task(s: Scenario, reference: string) {
  const expect = {
    ips: s.task?.ips ?? [],
    cidrs: s.task?.cidrs ?? [],
    cnames: s.task?.cnames ?? [],
    asns: s.task?.asns ?? [],
    ...(s.task?.script_origins ? { script_origins: s.task.script_origins } : {}),
  };
  return {
    id: s.name,
    kind: 'dns',
    target: s.host,
    timeout: TASK_TIMEOUT,
    dns: { types: ['A'], references: [reference], evidence: true, expect },
  };
}

/** The config of the probe in ISP `isp`: the scenarios it runs, its resolver, its reference. */
export function probeConfig(isp: Isp, caFile: string, spoolDir: string, scenarios: readonly Scenario[] = SCENARIOS) {
  const plan = ISP_PLAN[isp];
  return {
    probe: { id: probeId(isp), region: REGION, isp: plan.isp, asn: plan.asn, resolvers: [plan.resolver] },
    ca_file: caFile,
    spool: spoolDir,
    tasks: scenarios.filter((s) => probesOf(s).includes(isp)).map((s) => task(s, DNS[plan.reference])),
  };
}

/** Files next to the analyzer's config (relative names, so the set can be copied and re-run). */
export const ANALYZER_FILES = { config: 'analyzer.yaml', asnTable: 'asn-table.txt', threatList: 'threat-list.txt', ca: 'tls/ca.pem' } as const;

/**
 * The analyzer's config: the probe config format (every scenario's task) plus `analyzer:`. The
 * lab's rounds are seconds apart, not minutes: reference answers count as the round's current
 * ground truth within 2 s of it (production default 1 h), so round 1's answers are history in
 * round 2 and an address only round 1 had is stale there.
 */
export function analyzerConfig() {
  return {
    ...probeConfig('A', ANALYZER_FILES.ca, 'spool-analyzer', SCENARIOS.map((s) => ({ ...s, probes: ['A'] as Isp[] }))),
    analyzer: {
      asn_table: ANALYZER_FILES.asnTable,
      threat_list: ANALYZER_FILES.threatList,
      blockpages: BLOCKPAGES,
      current: '2s',
    },
  };
}

export function asnTableFile(): string {
  return ['# The lab\'s prefixes: CIDR ASN org', ...ASN_TABLE.map((r) => `${r.cidr} ${r.asn} ${r.org}`), ''].join('\n');
}

export function threatListFile(): string {
  return ['# Addresses known to serve malware or phishing', ...THREAT_LIST, ''].join('\n');
}
