/**
 * The closed vocabulary of failure codes. Every check reports failures with these strings
 * (OONI style: a failed dial is data), so queries and alarms can group on them.
 */
export const FAILURE_CODES = [
  // name resolution
  'dns_nxdomain', // the name does not exist (rcode 3)
  'dns_servfail', // rcode 2
  'dns_refused', // rcode 5
  'dns_rcode', // any other non-zero rcode (the record carries it)
  'dns_no_answer', // NOERROR but no address for the name (NODATA)
  'dns_malformed', // the response could not be parsed
  'dns_id_mismatch', // only responses with a foreign query id arrived
  'dns_question_mismatch', // the response answers a different question
  'dns_bad_answer', // answer records for names outside the query's CNAME chain only
  'dns_no_resolver', // no resolver configured or reachable for the lookup
  // transport
  'timeout',
  'connection_refused',
  'connection_reset',
  'host_unreachable',
  'network_unreachable',
  'address_unavailable', // no route or address family for the dial (e.g. no IPv6)
  'tls_cert_invalid', // the certificate does not verify for the name
  'tls_handshake_failed',
  // http
  'http_status', // status not in the expected set
  'http_assertion', // a body or header assertion failed (the record names it)
  'http_protocol_error', // not HTTP, bad headers, too many redirects
  'body_too_large', // the body passed the configured cap while asserting on it
  // ping
  'ping_loss', // no echo reply came back
  'ping_error', // the ping command could not run
  'unknown_failure',
] as const;

export type FailureCode = (typeof FAILURE_CODES)[number];

export function isFailureCode(value: unknown): value is FailureCode {
  return typeof value === 'string' && (FAILURE_CODES as readonly string[]).includes(value);
}
