/**
 * http (and https): resolve the host through the probe's resolvers, fetch over the resolved IP,
 * follow redirects (each hop a fresh connection; another host is resolved again), then check the
 * assertions. Phases are summed over hops, as blackbox_exporter does. A certificate that does not
 * verify stops the exchange before the request is sent (unless tls_skip_verify): the task's
 * headers may carry credentials.
 */
import type { HttpTask } from '../config/config.ts';
import type { FailureCode } from '../contract/failure.ts';
import type { HttpKeys, Timings } from '../contract/record.ts';
import { fetchPage, pageFacts, type FetchedPage } from '../net/fetch-page.ts';
import { resolveTarget, type ResolvedTarget } from '../net/resolve-target.ts';
import { daysUntilExpiry } from '../net/tls-info.ts';
import type { CheckFn, CheckOutcome } from './check.ts';

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
// Dropped when a redirect leaves the original host (as Go's net/http and browsers do).
const SENSITIVE_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];

interface Failed {
  failure: FailureCode;
  detail: string;
  assertion: string | null;
}

export const checkHttp: CheckFn<'http'> = async (task, ctx) => {
  const opts = task.http;
  const keys: HttpKeys = {
    url: task.target, method: opts.method, resolver: null, resolved_ips: [], dialed_ip: null, status: null,
    http_version: null, redirects: [], final_url: null, body_bytes: 0, body_truncated: false, sha256: null,
    content_type: null, tls: null, cert_expires_in_days: null, failed_assertion: null,
  };
  const timings: Timings = {};
  const add = (phase: keyof Timings, ms: number | null | undefined) => {
    if (ms !== null && ms !== undefined) timings[phase] = (timings[phase] ?? 0) + ms;
  };
  const done = (failed: Failed | null): CheckOutcome<'http'> => {
    keys.failed_assertion = failed?.assertion ?? null;
    return { failure: failed?.failure ?? null, failureDetail: failed?.detail ?? null, timings, keys };
  };

  const needText = opts.bodyRegexp !== null || opts.bodyNotRegexp !== null;
  const resolved = new Map<string, ResolvedTarget>();
  const originalHost = new URL(task.target).host;
  let url = new URL(task.target);
  let method = opts.method;
  let headers = { ...opts.headers };
  let page: FetchedPage;

  for (let hop = 0; ; hop++) {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    let target = resolved.get(host);
    if (!target) {
      target = await resolveTarget(host, opts.ipVersion, ctx);
      resolved.set(host, target);
      add('resolve', target.resolveMs);
    }
    // The dial fields describe the hop whose response decided the outcome (the last one).
    keys.resolver = target.resolver;
    keys.resolved_ips = target.resolvedIps;
    keys.dialed_ip = target.ip;
    if (target.ip === null) {
      return done({ failure: target.failure ?? 'dns_no_answer', detail: target.failureDetail ?? `no address for ${host}`, assertion: null });
    }

    page = await fetchPage({
      url,
      ip: target.ip,
      port: Number(url.port) || (url.protocol === 'https:' ? 443 : 80),
      method,
      headers,
      bodyLimitBytes: opts.bodyLimitBytes,
      textLimitBytes: needText ? opts.bodyLimitBytes : 0,
      requireVerifiedTls: !opts.tlsSkipVerify,
      extraCaPem: ctx.extraCaPem,
      signal: ctx.signal,
      now: ctx.now,
    });
    for (const phase of ['connect', 'tls', 'processing', 'transfer'] as const) add(phase, page.timings[phase]);
    recordPage(keys, page, url);
    if (page.failure) return done({ failure: page.failure, detail: page.failureDetail ?? page.failure, assertion: null });

    const location = page.headers.location;
    if (page.status === null || !REDIRECT_STATUSES.has(page.status) || location === undefined) break;
    keys.redirects.push({ status: page.status, location });
    if (!opts.followRedirects) break;
    if (hop >= opts.maxRedirects) {
      return done({ failure: 'http_protocol_error', detail: `more than ${opts.maxRedirects} redirects`, assertion: null });
    }
    const next = URL.canParse(location, url) ? new URL(location, url) : null;
    if (!next || (next.protocol !== 'http:' && next.protocol !== 'https:')) {
      return done({ failure: 'http_protocol_error', detail: `redirect to an unusable location: ${location.slice(0, 200)}`, assertion: null });
    }
    // 303 always, and 301/302 after a POST, turn into a GET without a body (as browsers do).
    if (page.status === 303 || ((page.status === 301 || page.status === 302) && method === 'POST')) method = method === 'HEAD' ? 'HEAD' : 'GET';
    if (next.host !== originalHost) headers = withoutSensitive(headers);
    if (next.host !== url.host) headers = withoutHeader(headers, 'host'); // an override names the old host
    url = next;
  }

  return done(assert(task, page));
};

/** The final response's facts (each hop overwrites the previous one's). */
function recordPage(keys: HttpKeys, page: FetchedPage, url: URL): void {
  Object.assign(keys, pageFacts(page));
  keys.final_url = url.href;
  keys.http_version = page.httpVersion;
  keys.tls = page.tls;
  keys.cert_expires_in_days = daysUntilExpiry(page.tls);
}

/** The first failing assertion, in the order status, body, body-not, headers. */
function assert(task: HttpTask, page: FetchedPage): Failed | null {
  const opts = task.http;
  const status = page.status ?? 0;
  const expected = opts.expectStatus;
  const statusOk = expected.length === 0 ? status >= 200 && status <= 399 : expected.includes(status);
  if (!statusOk) {
    const wanted = expected.length === 0 ? '200-399' : expected.join(', ');
    const assertion = `status ${status} not in [${wanted}]`;
    return { failure: 'http_status', detail: assertion, assertion };
  }
  // A regexp over a cut body proves nothing either way, except a forbidden match that was seen.
  const truncated = (name: string, re: RegExp): Failed => ({
    failure: 'body_too_large',
    detail: `${name} needs the whole body, but it is over ${opts.bodyLimitBytes} bytes`,
    assertion: `${name} ${re}`,
  });
  if (opts.bodyRegexp && page.text.search(opts.bodyRegexp) < 0) {
    if (page.bodyTruncated) return truncated('body_regexp', opts.bodyRegexp);
    return { failure: 'http_assertion', detail: `body does not match ${opts.bodyRegexp}`, assertion: `body_regexp ${opts.bodyRegexp}` };
  }
  if (opts.bodyNotRegexp) {
    if (page.text.search(opts.bodyNotRegexp) >= 0) {
      return { failure: 'http_assertion', detail: `body matches ${opts.bodyNotRegexp}`, assertion: `body_not_regexp ${opts.bodyNotRegexp}` };
    }
    if (page.bodyTruncated) return truncated('body_not_regexp', opts.bodyNotRegexp);
  }
  for (const [name, re] of Object.entries(opts.headerMatch).sort(([a], [b]) => a.localeCompare(b))) {
    const value = page.headers[name.toLowerCase()];
    if (value === undefined || value.search(re) < 0) {
      const why = value === undefined ? `header ${name} is missing` : `header ${name}: ${JSON.stringify(value.slice(0, 200))} does not match ${re}`;
      return { failure: 'http_assertion', detail: why, assertion: `header ${name} ${re}` };
    }
  }
  return null;
}

function withoutSensitive(headers: Record<string, string>): Record<string, string> {
  return SENSITIVE_HEADERS.reduce(withoutHeader, headers);
}

function withoutHeader(headers: Record<string, string>, drop: string): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => name.toLowerCase() !== drop));
}
