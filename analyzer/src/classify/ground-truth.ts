/**
 * Ground truth, built record by record (the streaming service feeds it as records arrive and
 * rebuilds it from stored records at start; `vantage analyze` feeds it the whole input first).
 * Everything is keyed by record time, never by the wall clock, so the same records always give
 * the same truth:
 * - per domain: the fleet's reference answers (IPs, CNAME names, NXDOMAIN) over `history`, so a
 *   load-balancer pool or GeoDNS answers seen by any probe count; IPs that presented a verified
 *   certificate for the domain; the fleet's fetched pages by moment (controls, deduplicated);
 * - per probe × resolver: which targets it answered or failed at each moment (canaries, rule 1);
 * - per ISP × IP: the unrelated sites the ISP's resolvers sent to that IP (prevalence, rule 11).
 */
import type { ResultRecord } from '@vantage/probe';
import { localAnswers, referenceAnswer, type Outcome } from './answers.ts';
import { normName, siteOf } from './domains.ts';
import { canonicalIp } from './ip.ts';
import { addControls, emptyControls, hasContent, mergeControls, verified, type Controls } from './pages.ts';
import { SeenTimes } from './seen-times.ts';
import { defaultSettings, type AnalyzerSettings } from './settings.ts';

/** Where an IP stands for a domain at a moment. */
export type TruthStatus = 'current' | 'stale' | 'history' | 'later' | 'none';

interface Moment {
  at: number;
  target: string;
  probeId: string;
  isp: string;
  outcome: Outcome;
}

interface DomainTruth {
  ips: Map<string, SeenTimes>;
  cnames: Map<string, SeenTimes>;
  nx: SeenTimes;
  tlsVerified: Map<string, SeenTimes>;
  /** Control pages by moment (`momentMs` buckets): verified pages, and other reference pages by ISP. */
  pages: Map<number, { verified: Controls; byIsp: Map<string, Controls> }>;
  /** Local outcomes of every probe for this domain, sorted by time (target-specific failures). */
  outcomes: Moment[];
  version: number;
  cache: { at: number; version: number; current: string[] } | null;
}

/** Prevalence is counted up to this many sites. */
const PREVALENCE_BOUND = 100;

const roundOf = (record: ResultRecord) => Date.parse(record.scheduled_at);
const startOf = (record: ResultRecord) => Date.parse(record.started_at);

/** Inserts keeping `list` sorted by `at` (records mostly arrive in order: usually an append). */
function insertByTime<T extends { at: number }>(list: T[], item: T): void {
  let i = list.length;
  while (i > 0 && list[i - 1].at > item.at) i--;
  list.splice(i, 0, item);
}

/** Items of a time-sorted list with at in [from, to]. */
function* between<T extends { at: number }>(list: readonly T[], from: number, to: number): Generator<T> {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid].at < from) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo; i < list.length && list[i].at <= to; i++) yield list[i];
}

export class GroundTruth {
  readonly settings: AnalyzerSettings;
  readonly #domains = new Map<string, DomainTruth>();
  /** `${probe_id}\n${resolver}` → moments, sorted by time. */
  readonly #canaries = new Map<string, Moment[]>();
  /** isp → ip → site → last time an ISP resolver answered that IP for that site. */
  readonly #prevalence = new Map<string, Map<string, Map<string, number>>>();
  /** ip → site → last round a reference gave that IP for that site (CDN IPs serve many sites). */
  readonly #referenceSites = new Map<string, Map<string, number>>();
  #latest = -Infinity;
  #prunedAt = -Infinity;

  constructor(settings: Partial<AnalyzerSettings> = {}) {
    this.settings = defaultSettings(settings);
  }

  /** Learns from one record; non-dns records are ignored. Returns whether it was used. */
  observe(record: ResultRecord): boolean {
    if (record.kind !== 'dns') return false;
    const dns = record as ResultRecord<'dns'>;
    const round = roundOf(dns);
    const at = startOf(dns);
    if (!Number.isFinite(round) || !Number.isFinite(at)) return false;
    const domain = this.#domain(dns.target);
    domain.version++;

    const site = siteOf(dns.target);
    const reference = referenceAnswer(dns);
    if (reference) {
      for (const ip of reference.ips) {
        seen(domain.ips, ip, this.settings.currentMs).add(round);
        let sites = this.#referenceSites.get(ip);
        if (!sites) this.#referenceSites.set(ip, (sites = new Map()));
        sites.set(site, Math.max(sites.get(site) ?? -Infinity, round));
      }
      for (const name of reference.cnames) seen(domain.cnames, name, this.settings.currentMs).add(round);
      if (reference.outcome === 'nxdomain') domain.nx.add(round);
    }

    for (const answer of localAnswers(dns)) {
      const moment: Moment = { at, target: normName(dns.target), probeId: dns.probe_id, isp: dns.probe_isp, outcome: answer.outcome };
      const key = `${dns.probe_id}\n${answer.server}`;
      let canary = this.#canaries.get(key);
      if (!canary) this.#canaries.set(key, (canary = []));
      insertByTime(canary, moment);
      insertByTime(domain.outcomes, moment);
      for (const ip of answer.ips) {
        let byIp = this.#prevalence.get(dns.probe_isp);
        if (!byIp) this.#prevalence.set(dns.probe_isp, (byIp = new Map()));
        let sites = byIp.get(ip);
        if (!sites) byIp.set(ip, (sites = new Map()));
        sites.set(site, Math.max(sites.get(site) ?? -Infinity, round));
      }
    }

    for (const page of dns.keys.evidence ?? []) {
      const ip = canonicalIp(page.ip);
      if (page.tls?.verified) seen(domain.tlsVerified, ip, this.settings.currentMs).add(round);
      // Controls: pages the path cannot have changed (verified TLS), and the other pages through a
      // reference IP (controls for other ISPs when a site has no https).
      if (page.tls?.verified || (page.role === 'reference' && hasContent(page))) {
        const bucket = Math.floor(at / this.settings.momentMs);
        let sets = domain.pages.get(bucket);
        if (!sets) domain.pages.set(bucket, (sets = { verified: emptyControls(), byIsp: new Map() }));
        if (verified(page)) addControls(sets.verified, [page]);
        else {
          let own = sets.byIsp.get(dns.probe_isp);
          if (!own) sets.byIsp.set(dns.probe_isp, (own = emptyControls()));
          addControls(own, [page]);
        }
      }
    }

    if (round > this.#latest) this.#latest = round;
    if (this.#latest - this.#prunedAt > 10 * 60_000) this.prune(this.#latest);
    return true;
  }

  /** Forgets what is older than the history window (controls and moments sooner) before `nowMs`. */
  prune(nowMs: number): void {
    this.#prunedAt = nowMs;
    const history = nowMs - this.settings.historyMs;
    const moments = nowMs - Math.max(this.settings.controlsKeepMs, this.settings.momentMs * 2);
    const pruneMap = (map: Map<string, SeenTimes>) => {
      for (const [key, times] of map) if (times.prune(history)) map.delete(key);
    };
    for (const [name, d] of this.#domains) {
      pruneMap(d.ips);
      pruneMap(d.cnames);
      pruneMap(d.tlsVerified);
      d.nx.prune(history);
      const m = this.settings.momentMs;
      for (const bucket of d.pages.keys()) if ((bucket + 2) * m < moments) d.pages.delete(bucket);
      dropBefore(d.outcomes, moments);
      d.cache = null;
      if (d.ips.size === 0 && d.cnames.size === 0 && d.tlsVerified.size === 0 && d.nx.empty && d.pages.size === 0 && d.outcomes.length === 0) {
        this.#domains.delete(name);
      }
    }
    for (const [key, list] of this.#canaries) {
      dropBefore(list, moments);
      if (list.length === 0) this.#canaries.delete(key);
    }
    for (const [ip, sites] of this.#referenceSites) {
      for (const [site, last] of sites) if (last < history) sites.delete(site);
      if (sites.size === 0) this.#referenceSites.delete(ip);
    }
    for (const [isp, byIp] of this.#prevalence) {
      for (const [ip, sites] of byIp) {
        for (const [site, last] of sites) if (last < history) sites.delete(site);
        if (sites.size === 0) byIp.delete(ip);
      }
      if (byIp.size === 0) this.#prevalence.delete(isp);
    }
  }

  #domain(target: string): DomainTruth {
    const key = normName(target);
    let d = this.#domains.get(key);
    if (!d) {
      const merge = this.settings.currentMs;
      d = { ips: new Map(), cnames: new Map(), nx: new SeenTimes(merge), tlsVerified: new Map(), pages: new Map(), outcomes: [], version: 0, cache: null };
      this.#domains.set(key, d);
    }
    return d;
  }

  // --- what the classifier asks ----------------------------------------------------------------

  /** The fleet's reference IPs for `target` within `current` of `round`, sorted. */
  currentIps(target: string, round: number): string[] {
    const d = this.#domains.get(normName(target));
    if (!d) return [];
    if (d.cache && d.cache.at === round && d.cache.version === d.version) return d.cache.current;
    const { currentMs } = this.settings;
    const current = [...d.ips].filter(([, times]) => times.within(round - currentMs, round + currentMs)).map(([ip]) => ip).sort();
    d.cache = { at: round, version: d.version, current };
    return current;
  }

  /** current (near the round), stale (within `stale` before it), history, later (seen after), none. */
  ipStatus(target: string, ip: string, round: number): TruthStatus {
    const times = this.#domains.get(normName(target))?.ips.get(ip);
    return times ? statusOf(times, round, this.settings) : 'none';
  }

  /** The fleet's references said NXDOMAIN near the round (and gave no address then). */
  referenceNxdomain(target: string, round: number): boolean {
    const d = this.#domains.get(normName(target));
    const { currentMs } = this.settings;
    return d !== undefined && d.nx.within(round - currentMs, round + currentMs) && this.currentIps(target, round).length === 0;
  }

  /** Sites of the CNAME names the references followed for `target` over the history window. */
  referenceCnameSites(target: string, round: number): Set<string> {
    const d = this.#domains.get(normName(target));
    const out = new Set<string>();
    if (!d) return out;
    for (const [name, times] of d.cnames) {
      if (times.within(round - this.settings.historyMs, round + this.settings.historyMs)) out.add(siteOf(name));
    }
    return out;
  }

  /** Reference IPs of `target` over the history window (for their ASNs). */
  historyIps(target: string, round: number): string[] {
    const d = this.#domains.get(normName(target));
    if (!d) return [];
    const { historyMs } = this.settings;
    return [...d.ips].filter(([, t]) => t.within(round - historyMs, round + historyMs)).map(([ip]) => ip);
  }

  /** Some probe's evidence saw `ip` present a verified certificate for `target` within `stale`. */
  tlsVerifiedByFleet(target: string, ip: string, round: number): boolean {
    const times = this.#domains.get(normName(target))?.tlsVerified.get(ip);
    return times !== undefined && times.within(round - this.settings.staleMs, round + this.settings.currentMs);
  }

  /**
   * The fleet's pages at the same moment as a deduplicated control set: pages whose TLS verified
   * (`otherThanIsp` null), or the other reference pages of ISPs other than `otherThanIsp`. "The
   * same moment" is the `momentMs` window holding `at` and its two neighbours.
   */
  fleetControls(target: string, at: number, otherThanIsp: string | null = null): Controls {
    const d = this.#domains.get(normName(target));
    const sets: Controls[] = [];
    const bucket = Math.floor(at / this.settings.momentMs);
    for (let b = bucket - 1; d && b <= bucket + 1; b++) {
      const found = d.pages.get(b);
      if (!found) continue;
      if (otherThanIsp === null) sets.push(found.verified);
      else for (const [isp, set] of found.byIsp) if (isp !== otherThanIsp) sets.push(set);
    }
    return mergeControls(sets);
  }

  /** Other targets the same probe asked the same resolver at the same moment: answered / not. */
  canary(probeId: string, resolver: string, target: string, at: number): { answered: number; failed: number } {
    const list = this.#canaries.get(`${probeId}\n${resolver}`) ?? [];
    const name = normName(target);
    let answered = 0;
    let failed = 0;
    for (const m of between(list, at - this.settings.momentMs, at + this.settings.momentMs)) {
      if (m.target === name) continue;
      // A resolver that says NXDOMAIN (or nothing) to every name is failing too.
      if (m.outcome === 'answered') answered++;
      else failed++;
    }
    return { answered, failed };
  }

  /** Distinct probes of `isp` whose resolvers got `outcome` for `target` at the same moment. */
  probesWith(target: string, isp: string, outcome: Outcome, at: number): number {
    const d = this.#domains.get(normName(target));
    if (!d) return 0;
    const probes = new Set<string>();
    for (const m of between(d.outcomes, at - this.settings.momentMs, at + this.settings.momentMs)) {
      if (m.isp === isp && m.outcome === outcome) probes.add(m.probeId);
    }
    return probes.size;
  }

  /**
   * Unrelated sites (other than `target`'s) the resolvers of `isp` sent to `ip` within the history
   * window, not counting sites whose own references gave that IP (a big CDN serves many sites);
   * counted up to PREVALENCE_BOUND.
   */
  prevalence(isp: string, ip: string, target: string, round: number): number {
    const sites = this.#prevalence.get(isp)?.get(ip);
    if (!sites) return 0;
    const own = siteOf(target);
    const from = round - this.settings.historyMs;
    const referenceSites = this.#referenceSites.get(ip);
    // Counting stops at a bound: an ISP cache may front thousands of sites, and only "many" matters.
    const bound = Math.max(this.settings.prevalenceMinDomains, PREVALENCE_BOUND);
    let count = 0;
    for (const [site, last] of sites) {
      if (site !== own && last >= from && !(referenceSites?.has(site) ?? false) && ++count >= bound) break;
    }
    return count;
  }

  /** Distinct ISPs whose resolvers answered `ip` for `target`'s site within the history window. */
  ispsAnswering(ip: string, target: string, round: number): number {
    const site = siteOf(target);
    const from = round - this.settings.historyMs;
    let count = 0;
    for (const byIp of this.#prevalence.values()) {
      const last = byIp.get(ip)?.get(site);
      if (last !== undefined && last >= from) count++;
    }
    return count;
  }

  /** Number of domains known (for metrics and tests). */
  get domainCount(): number {
    return this.#domains.size;
  }
}

function seen(map: Map<string, SeenTimes>, key: string, mergeMs: number): SeenTimes {
  let times = map.get(key);
  if (!times) map.set(key, (times = new SeenTimes(mergeMs)));
  return times;
}

function statusOf(times: SeenTimes, round: number, s: AnalyzerSettings): TruthStatus {
  if (times.within(round - s.currentMs, round + s.currentMs)) return 'current';
  if (times.within(round - s.staleMs, round)) return 'stale';
  if (times.within(round - s.historyMs, round)) return 'history';
  if (times.within(round, round + s.historyMs)) return 'later';
  return 'none';
}

function dropBefore<T extends { at: number }>(list: T[], before: number): void {
  let n = 0;
  while (n < list.length && list[n].at < before) n++;
  if (n > 0) list.splice(0, n);
}
