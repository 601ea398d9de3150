/**
 * The hijack lab, end to end: network namespaces (a core "internet" and one per ISP), real servers
 * started from generated configs (nsd, unbound ×7, nginx ×2, iptables DNAT), `vantage probe --once`
 * run inside each ISP's namespace, and `vantage analyze` over the records.
 *
 *   const lab = await HijackLab.start();
 *   try { const r1 = await lab.runRound(1); await lab.advance(); const r2 = await lab.runRound(2);
 *         const verdicts = await lab.analyze([...r1, ...r2]); } finally { await lab.stop(); }
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runCommand } from '../../helpers/run-command.ts';
import { createTestCa, issueSelfSigned, issueUntrusted } from '../../helpers/test-ca.ts';
import { ASN_TABLE, DNS, INJECTOR_IP, ISP_PLAN, ISPS, type Isp } from './addresses.ts';
import { geoConf, ispResolverConf, nsdConf, publicResolverConf, zoneFiles } from './dns-config.ts';
import { leftByDeadRun, Namespaces, removeOrphanNamespaces, tail, type NsProcess } from './netns.ts';
import { ANALYZER_FILES, analyzerConfig, asnTableFile, probeConfig, threatListFile } from './probe-config.ts';
import { coreNginx, injectorNginx, webPlan } from './web-config.ts';

const ROOT = new URL('../../../', import.meta.url).pathname;
const VANTAGE = join(ROOT, 'bin/vantage.mjs');
const WAIT_READY = new URL('./wait-ready.ts', import.meta.url).pathname;
const COMMAND_LIMIT_MS = 60_000;
/** Farther apart than the analyzer's "current" window plus the probes' start spread (analyzerConfig: `current: 2s`). */
const ROUND_GAP_MS = 6000;

/** One result record line as `vantage probe --once` wrote it, with what the lab knows about it. */
export interface LabRecord {
  isp: Isp;
  round: number;
  line: string;
  record: { id: string; task_id: string; target: string; probe_id: string; scheduled_at: string; [k: string]: unknown };
}

export interface Verdict {
  target: string;
  probe_id: string;
  class: string;
  flags: string[];
  rule: string;
  [k: string]: unknown;
}


/** Runs a command to its end (bounded), capturing its output. */
const run = (cmd: string, args: string[], limitMs = COMMAND_LIMIT_MS) => runCommand(cmd, args, { cwd: ROOT, limitMs });

const DIR_PREFIX = 'vantage-lab-';

/** Temp dirs of lab processes that no longer exist (killed before they could clean up). */
function removeOrphanDirs(): void {
  for (const name of readdirSync(tmpdir())) {
    if (leftByDeadRun(name, DIR_PREFIX)) rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
}

function write(path: string, content: string | Buffer): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
}

export class HijackLab {
  readonly #procs = new Map<string, NsProcess>();
  #plan: ReturnType<typeof webPlan> | null = null;
  #round = 1;
  #roundStartedAt = 0;

  private constructor(
    readonly dir: string,
    readonly nets: Namespaces,
    readonly ns: Record<'core' | Isp, string>,
  ) {}

  static async start(): Promise<HijackLab> {
    removeOrphanNamespaces();
    removeOrphanDirs();
    const dir = mkdtempSync(join(tmpdir(), `${DIR_PREFIX}${process.pid}-`));
    const nets = new Namespaces();
    try {
      const ns = { core: nets.add('core'), A: nets.add(ISP_PLAN.A.key), B: nets.add(ISP_PLAN.B.key), C: nets.add(ISP_PLAN.C.key) };
      const lab = new HijackLab(dir, nets, ns);
      lab.#writeConfigs();
      lab.#wire();
      await lab.#startServers();
      return lab;
    } catch (err) {
      nets.destroySync();
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  #writeConfigs(): void {
    const { dir } = this;
    const plan = webPlan();
    const ca = createTestCa('Vantage Lab CA');
    write(join(dir, 'tls/ca.pem'), ca.caPem);
    const issuers = { valid: ca.issue, 'self-signed': issueSelfSigned, untrusted: issueUntrusted, foreign: ca.issue };
    for (const { file, mode, names } of plan.certs) {
      const pair = issuers[mode](names);
      write(join(dir, `tls/${file}.pem`), pair.cert);
      write(join(dir, `tls/${file}.key`), pair.key);
    }
    const core = coreNginx(plan, dir);
    write(join(dir, 'nginx-core.conf'), core.conf);
    for (const [path, content] of Object.entries(core.files)) write(join(dir, path), content);
    write(join(dir, 'nginx-injector.conf'), injectorNginx(plan, dir));
    for (const name of ['core', 'injector']) for (const t of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, `nginx-${name}-tmp/${t}`), { recursive: true });

    this.#writeZones(1);
    write(join(dir, 'nsd.conf'), nsdConf(dir));
    write(join(dir, 'geo.conf'), geoConf(dir));
    write(join(dir, 'R1.conf'), publicResolverConf(dir, 'R1'));
    write(join(dir, 'R2.conf'), publicResolverConf(dir, 'R2'));
    for (const isp of ISPS) write(join(dir, `resolver-${ISP_PLAN[isp].key}.conf`), ispResolverConf(dir, isp));

    const caFile = join(dir, ANALYZER_FILES.ca);
    for (const isp of ISPS) write(join(dir, `probe-${ISP_PLAN[isp].key}.yaml`), JSON.stringify(probeConfig(isp, caFile, join(dir, `spool-${isp}`)), null, 2));
    write(join(dir, ANALYZER_FILES.asnTable), asnTableFile());
    write(join(dir, ANALYZER_FILES.threatList), threatListFile());
    write(join(dir, ANALYZER_FILES.config), JSON.stringify(analyzerConfig(), null, 2));
    this.#plan = plan;
  }

  #writeZones(round: number): void {
    for (const [zone, text] of Object.entries(zoneFiles(round))) write(join(this.dir, `zones/${zone}.zone`), text);
  }

  /**
   * Links, addresses, routes and DNAT rules. Nothing routes out of the lab: an ISP namespace has
   * routes to the lab's prefixes only (via the core), the core to the ISP prefixes only, nobody
   * has a default route, and no namespace has a link to the host.
   */
  #wire(): void {
    const { nets, ns } = this;
    const plan = this.#plan!;
    for (const ip of Object.values(DNS)) nets.addAddress(ns.core, ip);
    for (const ip of plan.sites.keys()) nets.addAddress(ns.core, ip);
    for (const isp of ISPS) {
      const p = ISP_PLAN[isp];
      nets.link(ns.core, `v${p.key}`, p.coreSide, ns[isp], 'uplink', p.probeSide);
      nets.ip(ns.core, ['route', 'add', p.prefix, 'via', p.probeSide]);
      // Its own prefix too: ISP servers (cache, blockpage) sit in the core; local addresses win.
      for (const row of ASN_TABLE) nets.ip(ns[isp], ['route', 'add', row.cidr, 'via', p.coreSide]);
      nets.addAddress(ns[isp], p.resolver);
    }
    nets.addAddress(ns.B, INJECTOR_IP);
    for (const rule of plan.coreIptables) nets.exec(ns.core, 'iptables', rule);
    for (const rule of plan.ispbIptables) nets.exec(ns.B, 'iptables', rule);
  }

  #spawn(name: string, ns: string, cmd: string, args: string[]): NsProcess {
    const proc = this.nets.spawn(name, ns, cmd, args, join(this.dir, `${name}.log`));
    this.#procs.set(name, proc);
    return proc;
  }

  #startNsd(): NsProcess {
    return this.#spawn('nsd', this.ns.core, 'nsd', ['-d', '-c', join(this.dir, 'nsd.conf')]);
  }

  async #startServers(): Promise<void> {
    const { ns, dir } = this;
    this.#startNsd();
    this.#spawn('geo', ns.core, 'unbound', ['-d', '-c', join(dir, 'geo.conf')]);
    this.#spawn('R1', ns.core, 'unbound', ['-d', '-c', join(dir, 'R1.conf')]);
    this.#spawn('R2', ns.core, 'unbound', ['-d', '-c', join(dir, 'R2.conf')]);
    this.#spawn('nginx-core', ns.core, 'nginx', ['-c', join(dir, 'nginx-core.conf'), '-p', dir]);
    for (const isp of ISPS) this.#spawn(`resolver-${ISP_PLAN[isp].key}`, ns[isp], 'unbound', ['-d', '-c', join(dir, `resolver-${ISP_PLAN[isp].key}.conf`)]);
    this.#spawn('nginx-injector', ns.B, 'nginx', ['-c', join(dir, 'nginx-injector.conf'), '-p', dir]);

    const sites = [...this.#plan!.sites.values()].map((s) => `tcp:${s.ip}:80`);
    await Promise.all([
      this.#waitReady(ns.core, [...Object.values(DNS).map((ip) => `dns:${ip}`), ...sites]),
      ...ISPS.map((isp) => this.#waitReady(ns[isp], [`dns:${ISP_PLAN[isp].resolver}`])),
      this.#waitReady(ns.B, [`tcp:${INJECTOR_IP}:8080`]),
    ]);
  }

  async #waitReady(ns: string, endpoints: string[]): Promise<void> {
    const r = await run('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', WAIT_READY, ...endpoints], 20_000);
    if (r.code !== 0) {
      const logs = [...this.#procs.values()].filter((p) => p.ns === ns).map((p) => `--- ${p.name} (${this.nets.running(p) ? 'running' : 'exited'}):\n${tail(p.log, 1500)}`);
      throw new Error(`lab: servers in ${ns} not ready: ${r.stderr}${r.stdout}\n${logs.join('\n')}`);
    }
  }

  /** Runs every probe once (in parallel, each in its ISP's namespace); returns their records. */
  async runRound(round = this.#round): Promise<LabRecord[]> {
    // Rounds start at least ROUND_GAP_MS apart: farther than the analyzer's "current" window.
    const wait = this.#roundStartedAt + ROUND_GAP_MS - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    this.#roundStartedAt = Date.now();
    this.nets.assertRunning([...this.#procs.values()].filter((p) => p.name !== 'resolver-ispc' || round === 1));
    const perIsp = await Promise.all(ISPS.map(async (isp) => {
      const key = ISP_PLAN[isp].key;
      const out = join(this.dir, `records-${key}-round${round}.jsonl`);
      const r = await run('ip', ['netns', 'exec', this.ns[isp], process.execPath, VANTAGE, 'probe', '--once', '--config', join(this.dir, `probe-${key}.yaml`), '--output', out]);
      if (r.code !== 0) throw new Error(`lab: probe ${key} round ${round} exited ${r.code}:\n${r.stderr.slice(-3000)}`);
      return readFileSync(out, 'utf8').split('\n').filter(Boolean).map((line) => ({ isp, round, line, record: JSON.parse(line) as LabRecord['record'] }));
    }));
    return perIsp.flat();
  }

  /**
   * Between round 1 and 2: the authoritative moves `round2` names, the public recursors and ISP
   * B's resolver drop their caches (ISP A's keeps its hour-long copies), ISP C's resolver stops.
   */
  async advance(): Promise<void> {
    this.#round = 2;
    this.#writeZones(2);
    const nsd = this.#procs.get('nsd')!;
    await this.nets.stop(nsd);
    this.#startNsd();
    for (const name of ['R1', 'R2', `resolver-${ISP_PLAN.B.key}`]) {
      const r = await run('unbound-control', ['-c', join(this.dir, `${name}.conf`), 'reload']);
      if (r.code !== 0) throw new Error(`lab: unbound-control reload ${name}: ${r.stdout}${r.stderr}`);
    }
    await this.nets.stop(this.#procs.get(`resolver-${ISP_PLAN.C.key}`)!);
    await Promise.all([
      this.#waitReady(this.ns.core, [DNS.authoritative, DNS.R1, DNS.R2].map((ip) => `dns:${ip}`)),
      this.#waitReady(this.ns.B, [`dns:${ISP_PLAN.B.resolver}`]),
    ]);
  }

  /** `vantage analyze` over the records (run inside the core namespace: it has no way out). */
  async analyze(records: LabRecord[], file = join(this.dir, 'records.jsonl')): Promise<Verdict[]> {
    writeFileSync(file, records.map((r) => r.line).join('\n') + '\n');
    const r = await run('ip', ['netns', 'exec', this.ns.core, process.execPath, VANTAGE, 'analyze', '--input', file, '--config', join(this.dir, ANALYZER_FILES.config)]);
    if (r.code !== 0) throw new Error(`lab: vantage analyze exited ${r.code}:\n${r.stderr.slice(-3000)}`);
    return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Verdict);
  }

  /**
   * Copies the analyzer's config and its files to `target`, with the records (and the verdicts):
   * `vantage analyze --input target/records.jsonl --config target/analyzer.yaml` runs it again.
   */
  keepFiles(target: string, records: LabRecord[], verdicts: Verdict[] | null = null): void {
    for (const name of Object.values(ANALYZER_FILES)) write(join(target, name), readFileSync(join(this.dir, name)));
    write(join(target, 'records.jsonl'), records.map((r) => r.line).join('\n') + '\n');
    if (verdicts) write(join(target, 'verdicts.jsonl'), verdicts.map((v) => JSON.stringify(v)).join('\n') + '\n');
  }

  /** Stops every server, deletes the namespaces and the temp dir (unless `keepDir`). */
  async stop(opts: { keepDir?: boolean } = {}): Promise<void> {
    await this.nets.destroy();
    if (!opts.keepDir) rmSync(this.dir, { recursive: true, force: true });
  }
}
