/**
 * Run inside a lab namespace (`ip netns exec NS node --import tsx wait-ready.ts ENDPOINT…`): waits
 * until every endpoint answers — `dns:IP` gets any DNS response on UDP port 53, `tcp:IP:PORT`
 * accepts a connection — and exits 0; exits 1 naming the endpoints still silent after 10 s.
 */
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';

const LIMIT_MS = 10_000;
// A query for "localhost." A: any answer, even REFUSED, means the server is up (a recursor answers
// it from its built-in local zone, without asking anyone).
const QUERY = Buffer.from('abcd01000001000000000000' + '096c6f63616c686f737400' + '0001' + '0001', 'hex');

function dnsAnswers(ip: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createSocket('udp4');
    const done = (ok: boolean) => {
      clearTimeout(timer);
      sock.close();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 300);
    sock.on('message', () => done(true));
    sock.on('error', () => done(false));
    sock.send(QUERY, 53, ip);
  });
}

function tcpAccepts(ip: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: ip, port, timeout: 300 });
    sock.once('connect', () => (sock.destroy(), resolve(true)));
    sock.once('error', () => resolve(false));
    sock.once('timeout', () => (sock.destroy(), resolve(false)));
  });
}

const check = (endpoint: string): Promise<boolean> => {
  const [kind, ip, port] = endpoint.split(':');
  if (kind === 'dns') return dnsAnswers(ip);
  if (kind === 'tcp') return tcpAccepts(ip, Number(port));
  throw new Error(`unknown endpoint ${endpoint} (dns:IP or tcp:IP:PORT)`);
};

let pending = process.argv.slice(2);
const deadline = Date.now() + LIMIT_MS;
while (pending.length > 0 && Date.now() < deadline) {
  const results = await Promise.all(pending.map(check));
  pending = pending.filter((_, i) => !results[i]);
  if (pending.length > 0) await new Promise((r) => setTimeout(r, 50));
}
if (pending.length > 0) {
  process.stderr.write(`not answering after ${LIMIT_MS} ms: ${pending.join(' ')}\n`);
  process.exit(1);
}
