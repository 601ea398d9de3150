/**
 * What customers declared for their domains (a dns task's `expect` block): IPs, CIDRs, CNAME
 * suffixes, ASNs and the script origins their pages may load. Looked up by task id, else by
 * target (every task of that target together).
 */
import type { DnsTask } from '@vantage/probe';
import { HostAllowlist, normName } from './domains.ts';
import { canonicalIp, prefixSet, type PrefixMap } from './ip.ts';

export interface ExpectBlock {
  ips?: string[];
  cidrs?: string[];
  cnames?: string[];
  asns?: number[];
  script_origins?: string[];
}

export interface Expectation {
  ips: Set<string>;
  cidrs: PrefixMap<string>;
  cnames: string[];
  asns: Set<number>;
  scriptHosts: HostAllowlist;
}

function build(blocks: ExpectBlock[]): Expectation {
  return {
    ips: new Set(blocks.flatMap((b) => b.ips ?? []).map(canonicalIp)),
    cidrs: prefixSet(blocks.flatMap((b) => b.cidrs ?? [])),
    cnames: [...new Set(blocks.flatMap((b) => b.cnames ?? []).map(normName))],
    asns: new Set(blocks.flatMap((b) => b.asns ?? [])),
    scriptHosts: new HostAllowlist(blocks.flatMap((b) => b.script_origins ?? [])),
  };
}

/** The customer declared this IP (as an address or inside a CIDR). */
export function declaresIp(expect: Expectation, ip: string): boolean {
  return expect.ips.has(ip) || expect.cidrs.has(ip);
}

export const NO_EXPECTATION: Expectation = build([]);

export class Expectations {
  readonly #byTask = new Map<string, Expectation>();
  readonly #byTarget = new Map<string, Expectation>();

  /** From the dns tasks of a probe config (other kinds are ignored). */
  static fromTasks(tasks: readonly { kind: string }[]): Expectations {
    const dns = tasks.filter((t): t is DnsTask => t.kind === 'dns');
    const out = new Expectations();
    const byTarget = new Map<string, ExpectBlock[]>();
    for (const task of dns) {
      out.#byTask.set(task.id, build([task.dns.expect]));
      const key = normName(task.target);
      byTarget.set(key, [...(byTarget.get(key) ?? []), task.dns.expect]);
    }
    for (const [target, blocks] of byTarget) out.#byTarget.set(target, build(blocks));
    return out;
  }

  /** Declares (or replaces) the expectation of one task, e.g. when the service reads its tasks. */
  set(taskId: string, target: string, block: ExpectBlock): void {
    const expectation = build([block]);
    this.#byTask.set(taskId, expectation);
    this.#byTarget.set(normName(target), expectation);
  }

  get size(): number {
    return this.#byTask.size;
  }

  for(taskId: string, target: string): Expectation {
    return this.#byTask.get(taskId) ?? this.#byTarget.get(normName(target)) ?? NO_EXPECTATION;
  }
}
