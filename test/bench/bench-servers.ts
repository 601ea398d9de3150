/**
 * The bench's targets, run as a child process so their CPU is not counted as the probe's: a DNS
 * server (UDP+TCP, any A name → 127.0.0.1, AAAA → ::1) and a plain HTTP server ("/" → 200, a
 * small page), both on 127.0.0.1 and free ports. Prints one JSON line with the ports, then serves
 * until its stdin closes or it gets SIGTERM.
 */
import { a, aaaa, startDnsServer } from '../helpers/dns-server.ts';
import { startWebServer } from '../helpers/web-server.ts';

const PAGE = `<!doctype html><html><head><title>bench</title></head><body>${'x'.repeat(512)}</body></html>`;

const dns = await startDnsServer((query) => {
  const q = query.questions?.[0];
  if (!q) return { rcode: 'FORMERR' };
  if (q.type === 'A') return { answers: [a(q.name, '127.0.0.1', 60)] };
  if (q.type === 'AAAA') return { answers: [aaaa(q.name, '::1', 60)] };
  return {};
});
const web = await startWebServer({ routes: { '/': { status: 200, headers: { 'content-type': 'text/html' }, body: PAGE } } });

// The helpers keep every query and request for tests to inspect; a bench sends hundreds of
// thousands, so forget them as we go.
const forget = setInterval(() => {
  dns.queries.length = 0;
  web.requests.length = 0;
}, 500);

let closing = false;
async function shutdown(): Promise<void> {
  if (closing) return;
  closing = true;
  clearInterval(forget);
  await Promise.all([dns.close(), web.close()]);
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown());
process.stdin.on('end', () => void shutdown());
process.stdin.resume();

process.stdout.write(`${JSON.stringify({ dnsPort: dns.port, httpPort: web.port })}\n`);
