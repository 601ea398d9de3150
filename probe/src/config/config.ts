/**
 * The probe's YAML config: loaded, validated and normalised once at start. Every problem is
 * reported with the file and the key it is under (see probe/README.md for the reference).
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, resolve } from 'node:path';
import cron from 'node-cron';
import yaml from 'js-yaml';
import { CHECK_KINDS, type CheckKind } from '../contract/record.ts';
import {
  array, boolean, dictionary, number, object, oneOf, optional, string, text, type Validator,
} from '../contract/shape.ts';
import { ID_PATTERN } from '../contract/subjects.ts';
import { parseDuration } from './duration.ts';
import {
  isDomainName, parseDnsServer, resolvConfNameservers, splitHostPort, type DnsServer,
} from './endpoints.ts';

export class ConfigError extends Error {
  constructor(readonly file: string, readonly problems: string[]) {
    super(`invalid config ${file}:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface ProbeIdentity {
  id: string;
  region: string;
  isp: string;
  asn: number | null;
  labels: Record<string, string>;
}

interface TaskBase {
  id: string;
  target: string;
  schedule: string;
  timeoutMs: number;
}
export interface DnsTask extends TaskBase {
  kind: 'dns';
  dns: {
    types: string[];
    references: DnsServer[];
    /** Null unless the task asks for hijack evidence. */
    evidence: EvidenceSettings | null;
    /** Customer expectations, carried for the analyzer (`ips` and `cidrs` also keep evidence fetches away). */
    expect: { ips: string[]; cidrs: string[]; cnames: string[]; asns: number[]; script_origins: string[] };
  };
}
export interface EvidenceSettings {
  path: string;
  httpPort: number;
  httpsPort: number;
  bodyLimitBytes: number;
}
export interface HttpTask extends TaskBase {
  kind: 'http';
  http: {
    method: string;
    headers: Record<string, string>;
    expectStatus: number[];
    bodyRegexp: RegExp | null;
    bodyNotRegexp: RegExp | null;
    headerMatch: Record<string, RegExp>;
    followRedirects: boolean;
    maxRedirects: number;
    bodyLimitBytes: number;
    tlsSkipVerify: boolean;
    ipVersion: IpVersion;
  };
}
export interface TcpTask extends TaskBase {
  kind: 'tcp';
  tcp: { tls: boolean; serverName: string | null; ipVersion: IpVersion };
}
export interface PingTask extends TaskBase {
  kind: 'ping';
  ping: { count: number; intervalMs: number; ipVersion: IpVersion };
}
export type Task = DnsTask | HttpTask | TcpTask | PingTask;
export type TaskOf<K extends CheckKind> = Extract<Task, { kind: K }>;
export type IpVersion = 'auto' | '4' | '6';

export interface ProbeConfig {
  file: string;
  probe: ProbeIdentity;
  /** The probe's local (ISP) resolvers: the ones a user behind this ISP would use. */
  resolvers: DnsServer[];
  /** NATS and how the probe authenticates: a creds file (user JWT + nkey), an nkey seed file, user/password or a token. */
  nats: {
    url: string;
    credentials: string | null;
    nkeySeedFile: string | null;
    user: string | null;
    password: string | null;
    token: string | null;
  };
  spool: { dir: string; maxBytes: number };
  /** Extra CA certificates (PEM) trusted in addition to the system roots. */
  extraCaPem: string | null;
  metrics: { host: string; port: number } | null;
  concurrency: number;
  tasks: Task[];
}

// --- validators for pieces people write -----------------------------------------------------

const duration = (opts: { min?: number } = {}): Validator<number> => (value, path, problems) => {
  const parsed = parseDuration(value);
  if (parsed === null) {
    problems.push(`${path}: ${JSON.stringify(value)} is not a duration (write e.g. 500ms, 5s, 1m)`);
    return 0;
  }
  if (opts.min !== undefined && parsed < opts.min) problems.push(`${path}: must be at least ${opts.min}ms`);
  return parsed;
};

const dnsServer: Validator<DnsServer> = (value, path, problems) => {
  const server = typeof value === 'string' ? parseDnsServer(value) : null;
  if (!server) problems.push(`${path}: ${JSON.stringify(value)} is not a DNS server (write "ip", "ip:port" or an https:// DoH URL)`);
  return server as DnsServer;
};

const regexp: Validator<RegExp> = (value, path, problems) => {
  if (typeof value !== 'string') {
    problems.push(`${path}: expected a regular expression as a string`);
    return /$^/;
  }
  try {
    return new RegExp(value);
  } catch (err) {
    problems.push(`${path}: ${(err as Error).message}`);
    return /$^/;
  }
};

/** Thousands of tasks share a few expressions: validate each expression once. */
const validCron = new Map<string, boolean>();
const schedule: Validator<string> = (value, path, problems) => {
  if (typeof value === 'string' && !validCron.has(value)) validCron.set(value, cron.validate(value));
  if (typeof value !== 'string' || !validCron.get(value)) {
    problems.push(`${path}: ${JSON.stringify(value)} is not a cron expression (5 fields, e.g. "* * * * *")`);
  }
  return value as string;
};

const port = number({ min: 1, max: 65535, integer: true });
const evidenceBlock = object(
  {
    path: optional(string({ pattern: /^\//, hint: 'a path starting with /' }), '/'),
    http_port: optional(port, 80),
    https_port: optional(port, 443),
    body_limit_bytes: optional(number({ min: 1024, max: 64 * 1024 * 1024, integer: true }), 1024 * 1024),
  },
  { strict: true },
);
/** `evidence: true`, or a block that changes where and how much to fetch. */
const evidenceSetting: Validator<EvidenceSettings | null> = (value, path, problems) => {
  if (value === false) return null;
  const block = evidenceBlock(value === true ? {} : value, path, problems);
  return block && { path: block.path, httpPort: block.http_port, httpsPort: block.https_port, bodyLimitBytes: block.body_limit_bytes };
};

/** One or more NATS server URLs, comma-separated (a bare host:port means nats://). */
const natsUrls: Validator<string> = (value, path, problems) => {
  const valid = typeof value === 'string' && value.split(',').every((part) => {
    const url = part.trim().includes('://') ? part.trim() : `nats://${part.trim()}`;
    return URL.canParse(url) && ['nats:', 'tls:', 'ws:', 'wss:'].includes(new URL(url).protocol) && new URL(url).hostname !== '';
  });
  if (!valid) problems.push(`${path}: ${JSON.stringify(value)} is not a NATS URL (nats://host:port, several separated by commas)`);
  return value as string;
};

/**
 * An origin scripts may come from ("https://cdn.example.com", "https://*.example.com:8443"):
 * scheme and host (a leading "*." allows every subdomain), no path. Normalised to lower case.
 */
const scriptOrigin: Validator<string> = (value, path, problems) => {
  const hint = 'an origin like https://cdn.example.com or https://*.example.com';
  const match = typeof value === 'string' ? /^(https?):\/\/(\*\.)?([^/?#\s*]+)\/?$/i.exec(value.trim()) : null;
  const url = match && URL.canParse(`${match[1]}://${match[3]}`) ? new URL(`${match[1]}://${match[3]}`) : null;
  if (!match || !url || url.username !== '' || url.password !== '') {
    problems.push(`${path}: ${JSON.stringify(value)} is not ${hint}`);
    return value as string;
  }
  return `${url.protocol}//${match[2] ?? ''}${url.host}`;
};

const ipVersion = optional(oneOf(['auto', '4', '6'] as const), 'auto');
const id = string({ pattern: ID_PATTERN, hint: 'letters, digits, "-" and "_", at most 64' });
const ipList = array(string({ pattern: /^[0-9a-fA-F.:]+$/, hint: 'an IP address' }));

const kindBlocks = {
  dns: object(
    {
      types: optional(array(oneOf(['A', 'AAAA', 'CNAME', 'MX', 'NS', 'TXT'] as const), { min: 1 }), ['A']),
      references: optional(array(dnsServer), []),
      evidence: optional(evidenceSetting, null),
      expect: optional(
        object(
          {
            ips: optional(ipList, []),
            cidrs: optional(array(string({ pattern: /^[0-9a-fA-F.:]+\/\d{1,3}$/, hint: 'a CIDR like 10.0.0.0/8' })), []),
            cnames: optional(array(string()), []),
            asns: optional(array(number({ min: 0, integer: true })), []),
            script_origins: optional(array(scriptOrigin), []),
          },
          { strict: true },
        ),
        { ips: [], cidrs: [], cnames: [], asns: [], script_origins: [] },
      ),
    },
    { strict: true },
  ),
  http: object(
    {
      method: optional(oneOf(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'] as const), 'GET'),
      headers: optional(dictionary(text), {}),
      expect_status: optional(array(number({ min: 100, max: 599, integer: true }), { min: 1 }), []),
      body_regexp: optional(regexp),
      body_not_regexp: optional(regexp),
      header_match: optional(dictionary(regexp), {}),
      follow_redirects: optional(boolean, true),
      max_redirects: optional(number({ min: 0, max: 30, integer: true }), 10),
      body_limit_bytes: optional(number({ min: 1, integer: true }), 10 * 1024 * 1024),
      tls_skip_verify: optional(boolean, false),
      ip_version: ipVersion,
    },
    { strict: true },
  ),
  tcp: object(
    { tls: optional(boolean, false), server_name: optional(string()), ip_version: ipVersion },
    { strict: true },
  ),
  ping: object(
    {
      count: optional(number({ min: 1, max: 100, integer: true }), 3),
      interval: optional(duration({ min: 200 }), 1000),
      ip_version: ipVersion,
    },
    { strict: true },
  ),
};

const taskHead = object({
  id,
  kind: oneOf(CHECK_KINDS),
  target: string({ maxLength: 2048 }),
  schedule: optional(schedule, '* * * * *'),
  timeout: optional(duration({ min: 1 }), 5000),
});

const topLevel = object(
  {
    probe: object(
      {
        id,
        region: string(),
        isp: string(),
        asn: optional(number({ min: 0, max: 4294967295, integer: true }), null),
        labels: optional(dictionary(text), {}),
        resolvers: optional(array(dnsServer, { min: 1 })),
      },
      { strict: true },
    ),
    nats: optional(
      object(
        {
          url: optional(natsUrls, 'nats://127.0.0.1:4222'),
          credentials: optional(string()),
          nkey_seed_file: optional(string()),
          user: optional(string()),
          password: optional(string()),
          token: optional(string()),
        },
        { strict: true },
      ),
      { url: 'nats://127.0.0.1:4222', credentials: undefined, nkey_seed_file: undefined, user: undefined, password: undefined, token: undefined },
    ),
    spool: optional((value, path, problems) => (typeof value === 'string' ? { dir: value, max_mb: 256 } : spoolBlock(value, path, problems)), {
      dir: './spool',
      max_mb: 256,
    }),
    ca_file: optional(string()),
    metrics: optional(object({ listen: string() }, { strict: true })),
    concurrency: optional(number({ min: 1, max: 10_000, integer: true }), 256),
    tasks: optional(array((value) => value), []),
  },
  { strict: true },
);
const spoolBlock = object({ dir: string(), max_mb: optional(number({ min: 1 }), 256) }, { strict: true });

// --- loading ---------------------------------------------------------------------------------

/** Reads, validates and normalises a config file. Throws ConfigError naming every problem. */
export function loadConfig(file: string, readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')): ProbeConfig {
  const { path, raw } = readConfigYaml(file, readFile);
  return parseConfig(raw, path, readFile);
}

/**
 * Reads and parses a config file's YAML without validating it (for tools that add a section of
 * their own, like `vantage analyze`, and pass the rest to parseConfig). Throws ConfigError.
 */
export function readConfigYaml(file: string, readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')): { path: string; raw: unknown } {
  const path = resolve(file);
  let source: string;
  try {
    source = readFile(path);
  } catch (err) {
    throw new ConfigError(path, [`cannot read the file: ${(err as Error).message}`]);
  }
  let raw: unknown;
  try {
    // js-yaml: a fraction of the time and memory of a full document model, which matters with
    // 10,000 tasks. Duplicate keys are errors.
    raw = yaml.load(source, { filename: path });
  } catch (err) {
    const { mark, reason, message } = err as { mark?: { line: number }; reason?: string; message: string };
    throw new ConfigError(path, [`YAML syntax, line ${mark ? mark.line + 1 : '?'}: ${reason ?? message}`]);
  }
  return { path, raw };
}

/** Validates an already parsed config object; `file` names it in errors and anchors relative paths. */
export function parseConfig(raw: unknown, file: string, readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')): ProbeConfig {
  const problems: string[] = [];
  const top = topLevel(raw ?? {}, '', problems);
  if (!top) throw new ConfigError(file, problems);
  const baseDir = dirname(file);
  const tasks = (top.tasks ?? []).map((t, i) => parseTask(t, `tasks[${i}]`, problems)).filter((t): t is Task => t !== null);
  const seen = new Set<string>();
  tasks.forEach((task, i) => {
    if (seen.has(task.id)) problems.push(`tasks[${i}].id: "${task.id}" is used by another task`);
    seen.add(task.id);
  });

  const needsResolver = tasks.some((t) => t.kind === 'dns' || !isIP(dialHost(t)));
  const resolvers = top.probe?.resolvers ?? systemResolvers(readFile, needsResolver ? problems : []);
  let extraCaPem: string | null = null;
  if (top.ca_file) {
    try {
      extraCaPem = readFile(resolve(baseDir, top.ca_file));
      if (!extraCaPem.includes('-----BEGIN CERTIFICATE-----')) problems.push(`ca_file: ${top.ca_file} holds no PEM certificate`);
    } catch (err) {
      problems.push(`ca_file: cannot read ${top.ca_file}: ${(err as Error).message}`);
    }
  }
  let metrics: ProbeConfig['metrics'] = { host: '127.0.0.1', port: 9464 };
  if (top.metrics) {
    const hp = splitHostPort(top.metrics.listen, { listen: true });
    if (!hp || hp.port === null) problems.push(`metrics.listen: "${top.metrics.listen}" is not host:port`);
    else metrics = { host: hp.host, port: hp.port };
  }
  if (top.nats && (top.nats.user === undefined) !== (top.nats.password === undefined)) {
    problems.push('nats: user and password go together');
  }
  if (problems.length > 0) throw new ConfigError(file, problems);

  return {
    file,
    probe: { id: top.probe.id, region: top.probe.region, isp: top.probe.isp, asn: top.probe.asn ?? null, labels: top.probe.labels },
    resolvers,
    nats: {
      url: top.nats.url,
      credentials: top.nats.credentials ? resolve(baseDir, top.nats.credentials) : null,
      nkeySeedFile: top.nats.nkey_seed_file ? resolve(baseDir, top.nats.nkey_seed_file) : null,
      user: top.nats.user ?? null,
      password: top.nats.password ?? null,
      token: top.nats.token ?? null,
    },
    spool: { dir: resolve(baseDir, top.spool.dir), maxBytes: Math.round(top.spool.max_mb * 1024 * 1024) },
    extraCaPem,
    metrics,
    concurrency: top.concurrency,
    tasks,
  };
}

/** The host part of a dial target (http URL host, tcp host, ping host). */
function dialHost(task: Task): string {
  if (task.kind === 'http') return URL.canParse(task.target) ? new URL(task.target).hostname.replace(/^\[|\]$/g, '') : task.target;
  if (task.kind === 'tcp') return splitHostPort(task.target)?.host ?? task.target;
  return task.target;
}

function systemResolvers(readFile: (path: string) => string, problems: string[]): DnsServer[] {
  let text = '';
  try {
    text = readFile('/etc/resolv.conf');
  } catch {
    // reported below as "no resolvers"
  }
  const servers = resolvConfNameservers(text).map((ip) => parseDnsServer(ip)).filter((s): s is DnsServer => s !== null);
  if (servers.length === 0) problems.push('probe.resolvers: not set, and /etc/resolv.conf names no nameserver (tasks with names need one)');
  return servers;
}

const TASK_KEYS: readonly string[] = ['id', 'kind', 'target', 'schedule', 'timeout', ...CHECK_KINDS];

function parseTask(raw: unknown, path: string, problems: string[]): Task | null {
  const before = problems.length;
  const head = taskHead(raw, path, problems);
  if (!head || problems.length > before && !head.kind) return null;
  const record = raw as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!TASK_KEYS.includes(key)) {
      problems.push(`${path}.${key}: unknown key (known: id, kind, target, schedule, timeout, and a block named after the kind)`);
    }
  }
  for (const other of CHECK_KINDS) {
    if (other !== head.kind && record[other] !== undefined) problems.push(`${path}.${other}: a ${other} block in a ${head.kind} task`);
  }
  const base: TaskBase = { id: head.id, target: head.target, schedule: head.schedule, timeoutMs: head.timeout };
  const at = `${path}.${head.kind}`;
  const block = record[head.kind] ?? {};
  switch (head.kind) {
    case 'dns': {
      if (!isDomainName(head.target)) problems.push(`${path}.target: "${head.target}" is not a domain name`);
      const dns = kindBlocks.dns(block, at, problems);
      return { ...base, kind: 'dns', dns };
    }
    case 'http': {
      if (!/^https?:\/\/[^/]/i.test(head.target) || !URL.canParse(head.target)) {
        problems.push(`${path}.target: "${head.target}" is not an http:// or https:// URL`);
      }
      const h = kindBlocks.http(block, at, problems);
      if (!h) return null;
      return {
        ...base,
        kind: 'http',
        http: {
          method: h.method,
          headers: h.headers,
          expectStatus: h.expect_status,
          bodyRegexp: h.body_regexp ?? null,
          bodyNotRegexp: h.body_not_regexp ?? null,
          headerMatch: h.header_match,
          followRedirects: h.follow_redirects,
          maxRedirects: h.max_redirects,
          bodyLimitBytes: h.body_limit_bytes,
          tlsSkipVerify: h.tls_skip_verify,
          ipVersion: h.ip_version,
        },
      };
    }
    case 'tcp': {
      const hp = splitHostPort(head.target);
      if (!hp || hp.port === null) problems.push(`${path}.target: "${head.target}" is not host:port`);
      const t = kindBlocks.tcp(block, at, problems);
      if (!t) return null;
      return { ...base, kind: 'tcp', tcp: { tls: t.tls, serverName: t.server_name ?? null, ipVersion: t.ip_version } };
    }
    case 'ping': {
      const p = kindBlocks.ping(block, at, problems);
      if (!p) return null;
      // Without a timeout, a ping task gets enough time for its echoes plus 2 s for the last reply.
      if (record.timeout === undefined) base.timeoutMs = p.count * p.interval + 2000;
      else if (p.count * p.interval >= head.timeout) {
        problems.push(`${path}.timeout: ${head.timeout}ms is too short for ${p.count} echoes ${p.interval}ms apart`);
      }
      return { ...base, kind: 'ping', ping: { count: p.count, intervalMs: p.interval, ipVersion: p.ip_version } };
    }
    default:
      return null;
  }
}
