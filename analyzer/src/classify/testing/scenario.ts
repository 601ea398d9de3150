/**
 * Shared pieces of the classifier tests: addresses (test data), the sample ASN table, and a
 * `judge` that runs a batch the way `vantage analyze` does and finds one record's verdict.
 */
import { readFileSync } from 'node:fs';
import type { ResultRecord } from '@vantage/probe';
import { parseAsnTable } from '../asn-table.ts';
import { prefixSet } from '../ip.ts';
import { classifyRecords } from '../classifier.ts';
import { Expectations, type ExpectBlock } from '../expectations.ts';
import type { AnalyzerSettings } from '../settings.ts';
import type { Verdict } from '../verdict.ts';
import { dnsRecord, ORIGIN, TARGET, type PageSpec, type RecordSpec } from './fixtures.ts';

export const IP = {
  origin: '45.60.1.10',
  pool: ['45.60.1.11', '45.60.1.12', '45.60.1.13', '45.60.1.14'],
  oldOrigin: '45.60.9.9',
  newOrigin: '45.60.8.8',
  cdnA: '151.101.1.1',
  cdnA2: '151.101.2.2',
  cdnB: '146.75.1.1',
  ispCache: '58.33.1.1',
  ad: '121.40.5.5',
  hosting: '185.199.10.10',
  threat: '91.200.1.1',
  other: '45.61.3.3',
};

export const SAMPLE_ASN_FILE = new URL('../testdata/asn-sample.txt', import.meta.url).pathname;
export const asnTable = parseAsnTable(readFileSync(SAMPLE_ASN_FILE, 'utf8'), SAMPLE_ASN_FILE).table;

/** Verdicts of a batch, with the sample ASN table unless settings say otherwise. */
export function judgeAll(records: ResultRecord[], settings: Partial<AnalyzerSettings> = {}, expect?: Record<string, ExpectBlock>): Verdict[] {
  let expectations: Expectations | undefined;
  if (expect) {
    expectations = new Expectations();
    for (const [target, block] of Object.entries(expect)) expectations.set(`dns-${target}`, target, block);
  }
  return classifyRecords(records, { settings: { asnTable, ...settings }, expectations });
}

/** The verdict of `record` (its first resolver unless named) in the batch of `record` + `others`. */
export function judge(record: ResultRecord, others: ResultRecord[] = [], settings: Partial<AnalyzerSettings> = {}, expect?: Record<string, ExpectBlock>, resolver?: string): Verdict {
  const verdicts = judgeAll([record, ...others], settings, expect);
  const found = verdicts.find((v) => v.record_id === record.id && (resolver === undefined || v.resolver === resolver));
  if (!found) throw new Error(`no verdict for record ${record.id}`);
  return found;
}

/** Reference pages through the origin IP (http and https, both clean). */
export const referencePages = (ip = IP.origin, http: PageSpec = ORIGIN, https: PageSpec = ORIGIN) => ({ ip, role: 'reference' as const, http, https });

/** A record whose local answer is `local` IPs, references `reference`, evidence for suspect IPs + reference pages. */
export function record(spec: RecordSpec): ResultRecord<'dns'> {
  return dnsRecord({ target: TARGET, reference: { ips: [IP.origin] }, ...spec });
}

/** Other targets the same probe and resolver answered at the same moment (canaries). */
export function canaries(n: number, spec: Partial<RecordSpec> = {}): ResultRecord<'dns'>[] {
  return Array.from({ length: n }, (_, i) => dnsRecord({
    target: `site${i}.example${i}.net`,
    local: { ips: [`45.62.0.${i + 1}`] },
    reference: { ips: [`45.62.0.${i + 1}`] },
    ...spec,
  }));
}

/** Blockpage fingerprints for the settings. */
export const blockpages = (ips: string[] = [], cnames: string[] = []) => ({ ips: prefixSet(ips), cnames });
