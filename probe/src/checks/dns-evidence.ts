/**
 * Hijack evidence for the dns check: the page for the domain fetched through each unexpected
 * answer IP and through a reference IP at the same moment, over http and https, with the domain as
 * Host header and SNI. The probe records what it saw (TLS verdict, redirects, body hash, title,
 * external origins …); the analyzer compares and decides. A certificate that fails verification
 * does not stop the fetch here: the page behind it is the evidence.
 */
import { setMaxListeners } from 'node:events';
import type { EvidenceSettings } from '../config/config.ts';
import type { EvidenceFetch } from '../contract/record.ts';
import { fetchPage, pageFacts, type FetchedPage } from '../net/fetch-page.ts';
import { extractPageFeatures } from '../net/html.ts';
import type { CheckContext } from './check.ts';

export interface EvidenceRequest {
  /** The domain: sent as Host header and SNI. */
  host: string;
  /** Answer IPs from local resolvers that no reference gave. */
  unexpectedIps: string[];
  /** One IP from the reference answers to fetch at the same moment (null if none). */
  referenceIp: string | null;
  /** Path, ports and body cap (ports differ from 80/443 only in labs and odd deployments). */
  settings: EvidenceSettings;
  ctx: CheckContext;
}

/** Same-host redirects followed through the pinned IP; an off-site one is recorded, never followed. */
const MAX_REDIRECTS = 5;
/** A hostile resolver can answer with many IPs; beyond this many the rest are not fetched. */
const MAX_UNEXPECTED_IPS = 16;
// Injectors often act only on browser traffic, so the fetch looks like a browser's. No
// Accept-Encoding: the body is hashed as sent.
const HEADERS = {
  'user-agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
  accept: 'text/html,application/xhtml+xml,*/*;q=0.8',
};
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

type Role = EvidenceFetch['role'];

export async function gatherEvidence(req: EvidenceRequest): Promise<EvidenceFetch[]> {
  const targets: { ip: string; role: Role }[] = [...new Set(req.unexpectedIps)]
    .slice(0, MAX_UNEXPECTED_IPS)
    .map((ip) => ({ ip, role: 'unexpected' as const }));
  if (req.referenceIp) targets.push({ ip: req.referenceIp, role: 'reference' });

  // One signal of our own for all the fetches, each of which listens on it a few times; raising
  // its listener limit is ours to do, the caller's signal is left alone.
  const bound = new AbortController();
  setMaxListeners(8 * targets.length + 10, bound.signal);
  const forward = () => bound.abort(req.ctx.signal.reason);
  if (req.ctx.signal.aborted) forward();
  else req.ctx.signal.addEventListener('abort', forward, { once: true });
  const ctx = { ...req.ctx, signal: bound.signal };
  try {
    // All at once, so the reference page is seen at the same moment as the suspect ones.
    return await Promise.all(
      targets.flatMap(({ ip, role }) => (['http', 'https'] as const).map((scheme) => fetchEvidence({ ...req, ctx }, ip, role, scheme))),
    );
  } finally {
    req.ctx.signal.removeEventListener('abort', forward);
  }
}

async function fetchEvidence(req: EvidenceRequest, ip: string, role: Role, scheme: 'http' | 'https'): Promise<EvidenceFetch> {
  const { ctx, settings } = req;
  const start = ctx.now();
  const first = new URL(`${scheme}://${req.host}:${scheme === 'https' ? settings.httpsPort : settings.httpPort}${settings.path}`);
  const record: EvidenceFetch = {
    ip, role, url: first.href, failure: null, failure_detail: null, tls: null, status: null, redirects: [],
    body_bytes: 0, body_truncated: false, sha256: null, content_type: null, content_length_header: null,
    title: null, script_origins: [], iframe_origins: [], frame_origins: [], form_action_origins: [],
    has_password_field: false, meta_refresh: null, inline_script_sha256: [], duration_ms: 0,
  };

  let url = first;
  let page: FetchedPage;
  for (let hop = 0; ; hop++) {
    page = await fetchPage({
      url,
      ip,
      port: url.port ? Number(url.port) : url.protocol === 'https:' ? settings.httpsPort : settings.httpPort,
      method: 'GET',
      headers: HEADERS,
      bodyLimitBytes: settings.bodyLimitBytes,
      textLimitBytes: settings.bodyLimitBytes,
      requireVerifiedTls: false,
      extraCaPem: ctx.extraCaPem,
      signal: ctx.signal,
      now: ctx.now,
    });
    // The verdict that matters is the IP's own handshake for the domain: the first one.
    record.tls ??= page.tls;
    const location = page.headers.location;
    if (page.failure || page.status === null || !REDIRECT_STATUSES.has(page.status) || location === undefined) break;
    record.redirects.push({ status: page.status, location });
    const next = URL.canParse(location, url) ? new URL(location, url) : null;
    const sameSite = next !== null && (next.protocol === 'http:' || next.protocol === 'https:') && next.hostname === first.hostname;
    if (!sameSite || hop >= MAX_REDIRECTS) break;
    url = next;
  }

  // Facts of the last response read (a failed one may still have a status and part of a body).
  Object.assign(record, pageFacts(page));
  record.failure = page.failure;
  record.failure_detail = page.failureDetail;
  const length = page.headers['content-length'];
  record.content_length_header = length !== undefined && /^\d{1,15}$/.test(length.trim()) ? Number(length.trim()) : null;
  if (page.status !== null) {
    const features = extractPageFeatures(page.text, url.href);
    record.title = features.title;
    record.script_origins = features.scriptOrigins;
    record.iframe_origins = features.iframeOrigins;
    record.frame_origins = features.frameOrigins;
    record.form_action_origins = features.formActionOrigins;
    record.has_password_field = features.hasPasswordField;
    record.meta_refresh = features.metaRefresh;
    record.inline_script_sha256 = features.inlineScriptSha256;
  }
  record.duration_ms = Math.max(0, ctx.now() - start);
  return record;
}
