/**
 * A local stand-in for every channel the notifier talks to, on 127.0.0.1 and a free port. Each
 * path checks what the real service checks — the signature (Vantage webhook HMAC, DingTalk and
 * Feishu signs), the key or token, the payload's required fields — and answers in that service's
 * format (DingTalk/WeCom `errcode`, Feishu `code`, PagerDuty 202, Slack "ok"). Written from the
 * services' documentation, not from the notifier's code, so a wrong format fails here.
 *
 * Faults: `mode` makes it answer 500, or hang (never answer), per channel; only messages it
 * accepted (answered 2xx with a success code) count as received.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

export const SECRETS = {
  webhook: ['whsec-current', 'whsec-previous'],
  dingtalk: 'SECdingtalk-secret',
  feishu: 'feishu-secret',
  dingtalkToken: 'dingtalk-token',
  wecomKey: 'wecom-key-1234',
  pagerdutyKey: 'R0UTINGKEY0000000000000000000000',
};

export type ChannelPath = 'webhook' | 'slack' | 'dingtalk' | 'wecom' | 'feishu' | 'pagerduty' | 'alertmanager';
export type Mode = 'ok' | 'error500' | 'hang';

export interface Received {
  channel: ChannelPath;
  atMs: number;
  headers: IncomingMessage['headers'];
  url: string;
  body: Record<string, unknown>;
  raw: string;
}

export interface Receiver {
  url: string;
  /** Accepted messages, in arrival order. */
  received: Received[];
  /** Requests refused by a check, with the reason (a format or signature error). */
  refused: Array<{ channel: ChannelPath; reason: string }>;
  /** Requests answered with a fault (500 or a hang). */
  faulted: Array<{ channel: ChannelPath; mode: Mode; atMs: number }>;
  mode: Partial<Record<ChannelPath, Mode>> & { all?: Mode };
  /** Webhook secrets the receiver accepts (rotation: it may know only the old one). */
  webhookSecrets: string[];
  /** A slow receiver: it records a message, then waits this long before answering. */
  delayMs: number;
  urls: Record<ChannelPath, string>;
  close(): Promise<void>;
}

const hmacHex = (key: string, msg: string) => createHmac('sha256', key).update(msg).digest('hex');
const hmacB64 = (key: string, msg: string) => createHmac('sha256', key).update(msg).digest('base64');
const equal = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

class Refusal extends Error {
  constructor(readonly status: number, readonly answer: unknown, reason: string) {
    super(reason);
  }
}

const isString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const refused: Receiver['refused'] = [];
  const faulted: Receiver['faulted'] = [];
  const hanging = new Set<ServerResponse>();
  const state: { mode: Receiver['mode']; webhookSecrets: string[]; delayMs: number } = { mode: {}, webhookSecrets: [...SECRETS.webhook], delayMs: 0 };

  const checks: Record<ChannelPath, (req: IncomingMessage, url: URL, raw: string, body: Record<string, unknown>) => { status: number; answer: unknown }> = {
    webhook(req, _url, raw, body) {
      const header = String(req.headers['x-vantage-signature'] ?? '');
      const parts = header.split(',').map((p) => p.split('='));
      const t = Number(parts.find(([k]) => k === 't')?.[1]);
      if (!Number.isInteger(t) || Math.abs(Date.now() / 1000 - t) > 300) throw new Refusal(400, { error: 'stale or missing timestamp' }, `bad t in "${header}"`);
      const v1 = parts.filter(([k]) => k === 'v1').map(([, v]) => v ?? '');
      if (!state.webhookSecrets.some((secret) => v1.some((sig) => equal(sig, hmacHex(secret, `${t}.${raw}`))))) throw new Refusal(401, { error: 'bad signature' }, 'no v1 matches');
      const key = req.headers['idempotency-key'];
      const event = body.event as Record<string, unknown> | undefined;
      if (!isString(key) || key !== event?.event_id) throw new Refusal(400, { error: 'idempotency key' }, `Idempotency-Key ${String(key)} is not the event id`);
      if (!['firing', 'resolved'].includes(String(body.status)) || !isString(body.title) || !isString(body.text)) throw new Refusal(400, { error: 'payload' }, 'status/title/text');
      return { status: 204, answer: null };
    },
    slack(_req, _url, _raw, body) {
      const blocks = body.blocks as Array<{ type: string; text?: { type: string; text: string } }> | undefined;
      if (!isString(body.text) || !Array.isArray(blocks) || blocks.length === 0) throw new Refusal(400, 'invalid_payload', 'text and blocks');
      for (const b of blocks) if (!['header', 'section'].includes(b.type) || !isString(b.text?.text)) throw new Refusal(400, 'invalid_blocks', `block ${b.type}`);
      if (blocks[0]!.type === 'header' && (blocks[0]!.text!.type !== 'plain_text' || blocks[0]!.text!.text.length > 150)) throw new Refusal(400, 'invalid_blocks', 'header');
      return { status: 200, answer: 'ok' };
    },
    dingtalk(_req, url, _raw, body) {
      if (url.searchParams.get('access_token') !== SECRETS.dingtalkToken) return { status: 200, answer: { errcode: 300001, errmsg: 'token is not exist' } };
      const ts = Number(url.searchParams.get('timestamp'));
      const sign = url.searchParams.get('sign') ?? '';
      if (!Number.isInteger(ts) || Math.abs(Date.now() - ts) > 3_600_000 || !equal(sign, hmacB64(SECRETS.dingtalk, `${ts}\n${SECRETS.dingtalk}`))) {
        return { status: 200, answer: { errcode: 310000, errmsg: 'sign not match' } };
      }
      const md = body.markdown as { title?: unknown; text?: unknown } | undefined;
      if (body.msgtype !== 'markdown' || !isString(md?.title) || !isString(md?.text)) return { status: 200, answer: { errcode: 40035, errmsg: 'missing parameter' } };
      return { status: 200, answer: { errcode: 0, errmsg: 'ok' } };
    },
    wecom(_req, url, _raw, body) {
      if (url.searchParams.get('key') !== SECRETS.wecomKey) return { status: 200, answer: { errcode: 93000, errmsg: 'invalid webhook url' } };
      const content = body.msgtype === 'markdown' ? (body.markdown as { content?: unknown })?.content : body.msgtype === 'text' ? (body.text as { content?: unknown })?.content : undefined;
      const max = body.msgtype === 'text' ? 2048 : 4096;
      if (!isString(content) || Buffer.byteLength(content) > max) return { status: 200, answer: { errcode: 40058, errmsg: 'content exceed max length' } };
      return { status: 200, answer: { errcode: 0, errmsg: 'ok' } };
    },
    feishu(_req, _url, _raw, body) {
      const ts = Number(body.timestamp);
      const ok = isString(body.timestamp) && Math.abs(Date.now() / 1000 - ts) <= 3600 && isString(body.sign)
        && equal(body.sign as string, createHmac('sha256', `${body.timestamp as string}\n${SECRETS.feishu}`).update('').digest('base64'));
      if (!ok) return { status: 200, answer: { code: 19021, msg: 'sign match fail or timestamp is not within one hour from current time', data: {} } };
      const post = (body.content as { post?: { zh_cn?: { title?: unknown; content?: unknown } } } | undefined)?.post?.zh_cn;
      if (body.msg_type !== 'post' || !isString(post?.title) || !Array.isArray(post?.content)) return { status: 200, answer: { code: 9499, msg: 'Bad Request', data: {} } };
      return { status: 200, answer: { code: 0, msg: 'success', data: {} } };
    },
    pagerduty(_req, _url, _raw, body) {
      const errors: string[] = [];
      if (body.routing_key !== SECRETS.pagerdutyKey) errors.push('routing_key is invalid');
      if (!['trigger', 'acknowledge', 'resolve'].includes(String(body.event_action))) errors.push('event_action is invalid');
      if (!isString(body.dedup_key) || (body.dedup_key as string).length > 255) errors.push('dedup_key is invalid');
      if (body.event_action === 'trigger') {
        const p = body.payload as Record<string, unknown> | undefined;
        if (!isString(p?.summary) || !isString(p?.source)) errors.push('payload.summary and payload.source are required');
        if (!['critical', 'error', 'warning', 'info'].includes(String(p?.severity))) errors.push('payload.severity is invalid');
      }
      if (errors.length > 0) return { status: 400, answer: { status: 'invalid event', message: 'Event object is invalid', errors } };
      return { status: 202, answer: { status: 'success', message: 'Event processed', dedup_key: body.dedup_key } };
    },
    alertmanager(_req, _url, _raw, body) {
      const alerts = body.alerts as Array<Record<string, unknown>> | undefined;
      const a = alerts?.[0];
      const labels = a?.labels as Record<string, string> | undefined;
      const problems = [
        body.version !== '4' && 'version',
        !['firing', 'resolved'].includes(String(body.status)) && 'status',
        !isString(body.groupKey) && 'groupKey',
        (!Array.isArray(alerts) || alerts.length !== 1) && 'alerts',
        !isString(labels?.alertname) && 'labels.alertname',
        !isString(a?.fingerprint) && 'fingerprint',
        !Number.isFinite(Date.parse(String(a?.startsAt))) && 'startsAt',
        (a?.status === 'resolved') === (a?.endsAt === '0001-01-01T00:00:00Z') && 'endsAt',
      ].filter(Boolean);
      if (problems.length > 0) throw new Refusal(400, { error: problems.join(', ') }, `alertmanager: ${problems.join(', ')}`);
      return { status: 200, answer: '' };
    },
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://receiver');
      const channel = url.pathname.split('/')[1] as ChannelPath;
      const check = checks[channel];
      if (req.method !== 'POST' || !check) return void res.writeHead(404).end('not found');
      const mode = state.mode[channel] ?? state.mode.all ?? 'ok';
      if (mode !== 'ok') {
        faulted.push({ channel, mode, atMs: Date.now() });
        if (mode === 'hang') return void hanging.add(res);
        return void res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error');
      }
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: Record<string, unknown>;
      try {
        if (!String(req.headers['content-type']).startsWith('application/json')) throw new Refusal(415, { error: 'content-type' }, `content-type ${req.headers['content-type']}`);
        body = JSON.parse(raw) as Record<string, unknown>;
        const { status, answer } = check(req, url, raw, body);
        const accepted = status >= 200 && status < 300 && !(typeof answer === 'object' && answer !== null && (('errcode' in answer && answer.errcode !== 0) || ('code' in answer && answer.code !== 0)));
        if (accepted) received.push({ channel, atMs: Date.now(), headers: req.headers, url: req.url ?? '', body, raw });
        else refused.push({ channel, reason: JSON.stringify(answer) });
        if (state.delayMs > 0) setTimeout(() => respond(res, status, answer), state.delayMs);
        else respond(res, status, answer);
      } catch (err) {
        const refusal = err instanceof Refusal ? err : new Refusal(400, { error: 'not JSON' }, (err as Error).message);
        refused.push({ channel, reason: refusal.message });
        respond(res, refusal.status, refusal.answer);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    url: base,
    received,
    refused,
    faulted,
    get mode() {
      return state.mode;
    },
    set mode(m) {
      state.mode = m;
      if (Object.values(m).every((v) => v !== 'hang')) for (const res of hanging) res.destroy();
    },
    get delayMs() {
      return state.delayMs;
    },
    set delayMs(ms) {
      state.delayMs = ms;
    },
    get webhookSecrets() {
      return state.webhookSecrets;
    },
    set webhookSecrets(s) {
      state.webhookSecrets = s;
    },
    urls: {
      webhook: `${base}/webhook/hook`,
      slack: `${base}/slack/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX`,
      dingtalk: `${base}/dingtalk/robot/send?access_token=${SECRETS.dingtalkToken}`,
      wecom: `${base}/wecom/cgi-bin/webhook/send?key=${SECRETS.wecomKey}`,
      feishu: `${base}/feishu/open-apis/bot/v2/hook/0000-1111`,
      pagerduty: `${base}/pagerduty/v2/enqueue`,
      alertmanager: `${base}/alertmanager/hook`,
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function respond(res: ServerResponse, status: number, answer: unknown): void {
  if (res.destroyed) return;
  if (answer === null || answer === '') return void res.writeHead(status).end();
  if (typeof answer === 'string') return void res.writeHead(status, { 'content-type': 'text/plain' }).end(answer);
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
}

/** The alarm config YAML of one channel of each type, pointed at the receiver. */
export function channelsYaml(r: Receiver, opts: { timeout?: string } = {}): string {
  const t = opts.timeout ? `, timeout: ${opts.timeout}` : '';
  return `
channels:
  webhook: { type: webhook, url: "${r.urls.webhook}", secrets: ["${SECRETS.webhook[0]}", "${SECRETS.webhook[1]}"]${t} }
  slack: { type: slack, url: "${r.urls.slack}", rate_limit: 100/s${t} }
  dingtalk: { type: dingtalk, url: "${r.urls.dingtalk}", secret: "${SECRETS.dingtalk}"${t} }
  wecom: { type: wecom, url: "${r.urls.wecom}"${t} }
  feishu: { type: feishu, url: "${r.urls.feishu}", secret: "${SECRETS.feishu}"${t} }
  pagerduty: { type: pagerduty, url: "${r.urls.pagerduty}", routing_key: "${SECRETS.pagerdutyKey}"${t} }
  alertmanager: { type: alertmanager, url: "${r.urls.alertmanager}", receiver: vantage-test${t} }
`;
}
