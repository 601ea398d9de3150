/**
 * The config of the RSS part: N tasks in a realistic mix (40% dns, 35% http, 20% tcp, 5% ping)
 * against the bench's loopback servers, written as YAML by the bench so that the measured child
 * only loads it, as `vantage probe --config` does.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';

/**
 * Every task runs every minute, as in production: the first slot comes within 60 s and the
 * scheduler spreads its checks over the minute, so one whole round takes up to two minutes.
 */
export const RSS_SCHEDULE = '* * * * *';

export interface RssTargets {
  natsUrl: string;
  metricsPort: number;
  dnsPort: number;
  httpPort: number;
}

function task(i: number, t: RssTargets): Record<string, unknown> {
  const id = `bench-${i}`;
  const name = `site-${i}.vantage.test`;
  const schedule = RSS_SCHEDULE;
  const slot = i % 20;
  // ping only to loopback (no traffic leaves the box); default count 3, 1 s apart.
  if (slot === 0) return { id, kind: 'ping', target: i % 40 === 0 ? '::1' : '127.0.0.1', schedule };
  if (slot <= 4) return { id, kind: 'tcp', target: `127.0.0.1:${t.httpPort}`, schedule };
  if (slot <= 11) {
    // Half by name (resolved through the probe's resolver first), half by IP; a third with assertions.
    const host = i % 2 === 0 ? name : '127.0.0.1';
    const http = i % 3 === 0 ? { expect_status: [200], body_regexp: '<title>bench</title>' } : undefined;
    return { id, kind: 'http', target: `http://${host}:${t.httpPort}/`, schedule, ...(http && { http }) };
  }
  // Half ask A and AAAA, a quarter also ask a reference server.
  const dns = { types: i % 2 === 0 ? ['A', 'AAAA'] : ['A'], ...(i % 4 === 0 && { references: [`127.0.0.1:${t.dnsPort}`] }) };
  return { id, kind: 'dns', target: name, schedule, dns };
}

/** Writes `<dir>/probe-<count>.yaml` and returns its path. */
export function writeRssConfig(dir: string, count: number, targets: RssTargets): string {
  const file = join(dir, `probe-${count}.yaml`);
  writeFileSync(file, yaml.dump({
    probe: { id: 'bench-probe', region: 'bench', isp: 'loopback', resolvers: [`127.0.0.1:${targets.dnsPort}`] },
    nats: { url: targets.natsUrl },
    metrics: { listen: `127.0.0.1:${targets.metricsPort}` },
    spool: { dir: join(dir, 'spool-rss') },
    tasks: Array.from({ length: count }, (_, i) => task(i, targets)),
  }));
  return file;
}
