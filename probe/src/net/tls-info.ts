/** Facts about a finished TLS handshake, in the record's shape. */
import { createHash } from 'node:crypto';
import { rootCertificates, type TLSSocket } from 'node:tls';
import type { TlsInfo } from '../contract/record.ts';

/** Node's bundled roots plus the operator's extra CAs (ca_file). */
export function trustedCas(extraCaPem: string | null): string[] | undefined {
  return extraCaPem ? [...rootCertificates, extraCaPem] : undefined;
}

export function tlsInfoOf(socket: TLSSocket): TlsInfo {
  const cert = socket.getPeerCertificate();
  const hasCert = cert && Object.keys(cert).length > 0;
  const name = (part: unknown) => {
    const fields = part as Record<string, string | string[]> | undefined;
    if (!fields) return null;
    const pick = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
    return pick(fields.CN) ?? pick(fields.O) ?? null;
  };
  const iso = (value: string | undefined) => {
    const t = value ? Date.parse(value) : NaN;
    return Number.isNaN(t) ? null : new Date(t).toISOString();
  };
  const error = socket.authorizationError;
  return {
    verified: socket.authorized === true,
    error: socket.authorized ? null : error ? String((error as unknown as { code?: string }).code ?? error) : 'not verified',
    version: socket.getProtocol() ?? null,
    cipher: socket.getCipher()?.name ?? null,
    subject: hasCert ? name(cert.subject) : null,
    issuer: hasCert ? name(cert.issuer) : null,
    san: hasCert && cert.subjectaltname ? cert.subjectaltname.split(', ').map((s) => s.replace(/^(DNS|IP Address):/, '')) : [],
    fingerprint256: hasCert && cert.raw ? createHash('sha256').update(cert.raw).digest('hex') : null,
    valid_from: hasCert ? iso(cert.valid_from) : null,
    valid_to: hasCert ? iso(cert.valid_to) : null,
  };
}

/** Days until the certificate's notAfter (negative when expired); null without a certificate. */
export function daysUntilExpiry(info: TlsInfo | null, nowMs = Date.now()): number | null {
  if (!info?.valid_to) return null;
  return Math.round(((Date.parse(info.valid_to) - nowMs) / 86_400_000) * 100) / 100;
}

