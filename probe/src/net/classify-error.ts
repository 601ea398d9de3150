/**
 * One classifier from Node/undici errors to the failure vocabulary (OONI's ClassifyGenericError).
 * Every check sends its errors through here, so the same cause always gets the same code.
 */
import type { FailureCode } from '../contract/failure.ts';

const BY_CODE: Record<string, FailureCode> = {
  ECONNREFUSED: 'connection_refused',
  ECONNRESET: 'connection_reset',
  EPIPE: 'connection_reset',
  UND_ERR_SOCKET: 'connection_reset',
  EHOSTUNREACH: 'host_unreachable',
  EHOSTDOWN: 'host_unreachable',
  ENETUNREACH: 'network_unreachable',
  ENETDOWN: 'network_unreachable',
  EADDRNOTAVAIL: 'address_unavailable',
  EAFNOSUPPORT: 'address_unavailable',
  ETIMEDOUT: 'timeout',
  ABORT_ERR: 'timeout',
  UND_ERR_CONNECT_TIMEOUT: 'timeout',
  UND_ERR_HEADERS_TIMEOUT: 'timeout',
  UND_ERR_BODY_TIMEOUT: 'timeout',
  UND_ERR_ABORTED: 'timeout',
  ENOTFOUND: 'dns_nxdomain',
  EAI_AGAIN: 'dns_servfail',
  HPE_INVALID_CONSTANT: 'http_protocol_error',
  HPE_INVALID_HEADER_TOKEN: 'http_protocol_error',
  HPE_INVALID_STATUS: 'http_protocol_error',
  HPE_HEADER_OVERFLOW: 'http_protocol_error',
  UND_ERR_INFO: 'http_protocol_error',
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: 'http_protocol_error',
  UND_ERR_HEADERS_OVERFLOW: 'http_protocol_error',
  ERR_TLS_CERT_ALTNAME_INVALID: 'tls_cert_invalid',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'tls_cert_invalid',
  SELF_SIGNED_CERT_IN_CHAIN: 'tls_cert_invalid',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'tls_cert_invalid',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'tls_cert_invalid',
  UNABLE_TO_GET_ISSUER_CERT: 'tls_cert_invalid',
  CERT_HAS_EXPIRED: 'tls_cert_invalid',
  CERT_NOT_YET_VALID: 'tls_cert_invalid',
  CERT_REVOKED: 'tls_cert_invalid',
  CERT_UNTRUSTED: 'tls_cert_invalid',
  ERR_SSL_WRONG_VERSION_NUMBER: 'tls_handshake_failed',
  ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE: 'tls_handshake_failed',
  ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION: 'tls_handshake_failed',
  ERR_SSL_UNSUPPORTED_PROTOCOL: 'tls_handshake_failed',
  ERR_SSL_PACKET_LENGTH_TOO_LONG: 'tls_handshake_failed',
  ERR_SSL_TLSV1_UNRECOGNIZED_NAME: 'tls_handshake_failed',
  ERR_TLS_HANDSHAKE_TIMEOUT: 'timeout',
};

/** Maps an error to a failure code; unknown errors become `unknown_failure`. */
export function classifyError(err: unknown): FailureCode {
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, name } = e as { code?: unknown; name?: unknown };
    if (typeof code === 'string' && BY_CODE[code]) return BY_CODE[code];
    if (name === 'AbortError' || name === 'TimeoutError') return 'timeout';
    if (name === 'HTTPParserError') return 'http_protocol_error'; // often without a code (a non-HTTP reply)
    if (typeof code === 'string' && code.startsWith('ERR_SSL_')) return 'tls_handshake_failed';
  }
  const message = err instanceof Error ? err.message : String(err);
  if (/socket hang up|other side closed/i.test(message)) return 'connection_reset';
  if (/before secure TLS connection was established/i.test(message)) return 'tls_handshake_failed';
  return 'unknown_failure';
}

/** A short human description kept next to the code (capped, no stack). */
export function describeError(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  const message = typeof e?.message === 'string' ? e.message : String(err);
  const text = typeof e?.code === 'string' && !message.includes(e.code) ? `${e.code}: ${message}` : message;
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}
