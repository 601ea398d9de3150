/**
 * Throwaway certificates for TLS tests, made with the `openssl` CLI in a temp dir that is removed
 * right away. EC P-256 keys keep it fast. Names that are IP literals go into the SAN as IP entries.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface KeyPair {
  key: string;
  cert: string;
}

export interface TestCa {
  /** The CA certificate: trust it (ctx.extraCaPem) to make its leaves verify. */
  caPem: string;
  /** A server certificate for `names` (first one is the CN), signed by this CA. */
  issue(names: string[], opts?: { days?: number }): KeyPair;
}

const KEY_OPTS = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export function createTestCa(commonName = 'Vantage Test CA'): TestCa {
  const ca = inTempDir((dir) => {
    openssl(dir, [
      'req', '-x509', '-new', ...KEY_OPTS, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '30',
      '-subj', `/CN=${commonName}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    return { key: read(dir, 'ca.key'), cert: read(dir, 'ca.pem') };
  });
  return {
    caPem: ca.cert,
    issue: (names, opts = {}) =>
      inTempDir((dir) => {
        writeFileSync(join(dir, 'ca.key'), ca.key);
        writeFileSync(join(dir, 'ca.pem'), ca.cert);
        writeFileSync(join(dir, 'ext.cnf'), `subjectAltName=${sanOf(names)}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`);
        openssl(dir, ['req', '-new', ...KEY_OPTS, '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', `/CN=${names[0]}`]);
        openssl(dir, [
          'x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
          '-days', String(opts.days ?? 30), '-extfile', 'ext.cnf', '-out', 'leaf.pem',
        ]);
        return { key: read(dir, 'leaf.key'), cert: read(dir, 'leaf.pem') };
      }),
  };
}

/** A leaf for `names` from a fresh CA nobody trusts (what an impersonating server shows). */
export function issueUntrusted(names: string[]): KeyPair {
  return createTestCa('Untrusted Injector CA').issue(names);
}

/** A self-signed certificate for `names`. */
export function issueSelfSigned(names: string[]): KeyPair {
  return inTempDir((dir) => {
    openssl(dir, [
      'req', '-x509', '-new', ...KEY_OPTS, '-keyout', 'self.key', '-out', 'self.pem', '-days', '30',
      '-subj', `/CN=${names[0]}`, '-addext', `subjectAltName=${sanOf(names)}`,
    ]);
    return { key: read(dir, 'self.key'), cert: read(dir, 'self.pem') };
  });
}

function sanOf(names: string[]): string {
  return names.map((n) => (isIP(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
}

function inTempDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'vantage-ca-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], timeout: 20_000 });
}

function read(dir: string, name: string): string {
  return readFileSync(join(dir, name), 'utf8');
}
