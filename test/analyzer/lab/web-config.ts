/**
 * Web side of the lab, generated from the scenario table: which address serves which page for
 * which host (one nginx in the core namespace, explicit `listen ip:port` per address so an address
 * without :443 refuses it), ISP B's on-path box (an nginx in ISP B's namespace that port-80 traffic
 * to some origins is DNATed to), and the core's DNAT for transparent proxies.
 */
import { isBogon } from '../../../analyzer/src/classify/ip.ts';
import { INJECTOR_IP, SPECIAL_SERVERS, type HttpsMode } from './addresses.ts';
import { pageFor, type PageSpec } from './pages.ts';
import { INFRA_RECORDS, SCENARIOS, type DnsAnswer, type Scenario } from './scenarios.ts';

export interface SiteAddress {
  ip: string;
  https: HttpsMode;
  headers: Record<string, string>;
  pages: Map<string, PageSpec>;
}

export interface CertSpec {
  file: string;
  mode: Exclude<HttpsMode, 'none'>;
  names: string[];
}

/**
 * The certificate an address shows for a host: a site's own (one per registrable domain, from the
 * lab CA — a CDN edge holds its customers' certificates), or the one of the server's kind.
 */
export function certFile(mode: HttpsMode, host: string): string {
  return mode === 'valid' ? `valid-${host.split('.').slice(-2).join('-')}` : mode;
}

export interface WebPlan {
  sites: Map<string, SiteAddress>;
  /** The certificates to make: file stem (under tls/), kind (see HttpsMode), names. */
  certs: CertSpec[];
  /** iptables argument lists for the core and for ISP B's namespace. */
  coreIptables: string[][];
  ispbIptables: string[][];
  /** nginx server blocks of ISP B's on-path box. */
  injectorServers: string[];
}

/** Addresses nothing is served on: bogons a resolver may answer (the analyzer's own list). */
export { isBogon };

const ipsOf = (answer: DnsAnswer | undefined) => (answer && 'a' in answer ? answer.a : []);

/** Every address a scenario's records (any view, any round) or an ISP override can send a user to. */
export function scenarioAddresses(s: Scenario): { origin: string[]; other: string[] } {
  const origin = new Set<string>();
  for (const r of s.dns) {
    for (const ans of [r.answer, r.round2, ...Object.values(r.views ?? {})]) for (const ip of ipsOf(ans)) origin.add(ip);
  }
  const other = new Set<string>(Object.keys(s.serve ?? {}));
  for (const o of Object.values(s.resolvers ?? {})) if (o && !('rcode' in o)) for (const ip of ipsOf(o)) other.add(ip);
  return { origin: [...origin].filter((ip) => !isBogon(ip)), other: [...other].filter((ip) => !isBogon(ip) && !origin.has(ip)) };
}

/** The addresses a scenario's own authoritative records give for its host (the on-path box's targets). */
function hostAddresses(s: Scenario): string[] {
  return s.dns.filter((r) => r.name === s.host).flatMap((r) => ipsOf(r.answer));
}

export function webPlan(): WebPlan {
  const sites = new Map<string, SiteAddress>();
  const place = (ip: string, host: string, spec: PageSpec, https: HttpsMode) => {
    const special = SPECIAL_SERVERS[ip];
    const mode = special?.https ?? https;
    let site = sites.get(ip);
    if (!site) sites.set(ip, (site = { ip, https: mode, headers: special?.headers ?? {}, pages: new Map() }));
    if (site.https !== mode) throw new Error(`lab: ${ip} is asked to be both https=${site.https} and https=${mode}`);
    if (site.pages.has(host)) throw new Error(`lab: ${ip} serves ${host} twice`);
    site.pages.set(host, spec);
  };

  const coreIptables: string[][] = [];
  for (const [ip, server] of Object.entries(SPECIAL_SERVERS)) {
    if (server.forwardTo) {
      coreIptables.push(['-t', 'nat', '-A', 'PREROUTING', '-d', ip, '-p', 'tcp', '-m', 'multiport', '--dports', '80,443', '-j', 'DNAT', '--to-destination', server.forwardTo]);
    }
  }

  for (const s of SCENARIOS) {
    const { origin, other } = scenarioAddresses(s);
    const originIp = hostAddresses(s)[0] ?? origin[0] ?? '';
    const mode: HttpsMode = s.httpOnly ? 'none' : 'valid';
    for (const ip of [...origin, ...other]) {
      const server = SPECIAL_SERVERS[ip];
      if (server?.forwardTo) continue;
      const page = s.serve?.[ip] ?? (server ? undefined : (s.originPage ?? 'origin'));
      if (!page) throw new Error(`lab: scenario ${s.name} sends users to ${ip} (${server!.about}) but says nothing about what it serves (serve)`);
      place(ip, s.host, pageFor(page, { host: s.host, ip, originIp }), mode);
    }
  }
  for (const r of INFRA_RECORDS) {
    if (r.page && !sites.get(r.ip)?.pages.has(r.name)) place(r.ip, r.name, pageFor(r.page, { host: r.name, ip: r.ip, originIp: r.ip }), 'none');
  }

  const injectorServers: string[] = [];
  const ispbIptables: string[][] = [];
  let port = 8080;
  for (const s of SCENARIOS) {
    if (!s.onPath) continue;
    for (const ip of hostAddresses(s)) {
      const insert = s.onPath === 'inject'
        ? '<script src="http://ad.adnet-partner.cn/inj.js"></script>'
        : '<script>if(!sessionStorage.seen){sessionStorage.seen=1;alert(`You have used 80% of your monthly data.`)}</script>';
      const body = s.onPath === 'redirect'
        ? 'location / { return 302 http://promo-deals.cn/landing?src=ispb; }'
        : `location / { proxy_pass http://${ip}:80; proxy_bind ${INJECTOR_IP}; proxy_set_header Host $host; proxy_set_header Accept-Encoding ""; `
          + `sub_filter_once on; sub_filter '</head>' '${insert}</head>'; }`;
      injectorServers.push(`server { listen ${INJECTOR_IP}:${port}; ${body} }`);
      // Only the probe's own traffic: the box's upstream connections come from its own address.
      ispbIptables.push(['-t', 'nat', '-A', 'OUTPUT', '-p', 'tcp', '!', '-s', INJECTOR_IP, '-d', ip, '--dport', '80', '-j', 'DNAT', '--to-destination', `${INJECTOR_IP}:${port}`]);
      port++;
    }
  }

  const certs = new Map<string, CertSpec>();
  for (const site of sites.values()) {
    if (site.https === 'none') continue;
    const hosts = site.https === 'foreign' ? [SPECIAL_SERVERS[site.ip]?.certName ?? `server-${site.ip}.lab`] : [...site.pages.keys()];
    for (const host of hosts) {
      const file = certFile(site.https, host);
      if (!certs.has(file)) certs.set(file, { file, mode: site.https, names: [] });
      const names = certs.get(file)!.names;
      if (!names.includes(host)) names.push(host);
    }
  }
  for (const c of certs.values()) c.names.sort();
  return {
    sites,
    certs: [...certs.values()].sort((x, y) => x.file.localeCompare(y.file)),
    coreIptables,
    ispbIptables,
    injectorServers,
  };
}

function nginxMain(dir: string, name: string, servers: string[]): string {
  const tmp = `${dir}/nginx-${name}-tmp`;
  return `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx-${name}.pid;
error_log ${dir}/nginx-${name}.log warn;
events { worker_connections 512; }
http {
  access_log off;
  server_tokens off;
  server_names_hash_bucket_size 128;
  types { text/html html; text/css css; application/javascript js; }
  default_type application/octet-stream;
  client_body_temp_path ${tmp}/body;
  proxy_temp_path ${tmp}/proxy;
  fastcgi_temp_path ${tmp}/fastcgi;
  uwsgi_temp_path ${tmp}/uwsgi;
  scgi_temp_path ${tmp}/scgi;
${servers.map((s) => `  ${s}`).join('\n')}
}
`;
}

/** The core's nginx config and the files under its roots (path relative to `dir`). */
export function coreNginx(plan: WebPlan, dir: string): { conf: string; files: Record<string, string | Buffer> } {
  const servers: string[] = [];
  const files: Record<string, string | Buffer> = {};
  const cert = (mode: HttpsMode, host: string) => {
    const file = certFile(mode, mode === 'foreign' ? '' : host);
    return `ssl_certificate ${dir}/tls/${file}.pem; ssl_certificate_key ${dir}/tls/${file}.key;`;
  };
  for (const site of plan.sites.values()) {
    const tls = site.https !== 'none';
    servers.push(`server { listen ${site.ip}:80 default_server;${tls ? ` listen ${site.ip}:443 ssl default_server; ssl_reject_handshake on;` : ''} return 404; }`);
    const headers = Object.entries(site.headers).map(([k, v]) => `add_header ${k} "${v}" always;`).join(' ');
    for (const [host, spec] of site.pages) {
      const root = `www/${site.ip}/${host}`;
      for (const [file, content] of Object.entries(spec.files)) files[`${root}/${file}`] = content;
      const common = `server_name ${host}; root ${dir}/${root}; ${headers}`;
      servers.push(`server { listen ${site.ip}:80; ${common} ${spec.http} }`);
      if (tls) servers.push(`server { listen ${site.ip}:443 ssl; ${cert(site.https, host)} ${common} ${spec.https ?? spec.http} }`);
    }
  }
  return { conf: nginxMain(dir, 'core', servers), files };
}

export function injectorNginx(plan: WebPlan, dir: string): string {
  return nginxMain(dir, 'injector', plan.injectorServers);
}
