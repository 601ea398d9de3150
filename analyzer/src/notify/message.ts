/**
 * The human text of an alarm event, shared by the chat channels (Slack, DingTalk, WeCom, Feishu):
 * a title, then short "Key: value" lines. Resolved messages say how long it lasted.
 */
import type { AlarmEvent } from '../alarms/event.ts';
import { durationText } from '../alarms/conditions/evaluation.ts';
import { scopeText } from '../alarms/scope.ts';

export interface Message {
  title: string;
  /** "Key: value" pairs, in order. */
  fields: [string, string][];
  /** Evidence links, absolute when an external URL is configured. */
  links: string[];
}

const MAX_LINKS = 5;

export function statusWord(event: AlarmEvent): string {
  return event.kind === 'resolved' ? 'RESOLVED' : event.kind === 'reminder' ? 'STILL FIRING' : 'FIRING';
}

/** A link as a person can open it: API paths get the external URL in front. */
export function absoluteLink(link: string, externalUrl: string | null): string {
  if (!externalUrl || !link.startsWith('/')) return link;
  return `${externalUrl.replace(/\/+$/, '')}${link}`;
}

/** What the alarm is about, in a few words: "web-home (https://shop.test/)" or "probe p1". */
export function subjectText(event: AlarmEvent): string {
  const where = scopeText({ level: event.scope, region: event.region, isp: event.isp, probeId: event.probe_id });
  if (!event.task_id) return where;
  return `${event.task_id} from ${where}`;
}

export function renderMessage(event: AlarmEvent, externalUrl: string | null): Message {
  const lasted = event.duration_ms !== null ? durationText(event.duration_ms) : null;
  const title = `[${statusWord(event)}] ${event.rule_id}: ${subjectText(event)}${lasted ? ` after ${lasted}` : ''}`;
  const fields: [string, string][] = [['Severity', event.severity]];
  if (event.target) fields.push(['Target', event.task_id ? `${event.target} (task ${event.task_id})` : event.target]);
  fields.push(['Scope', scopeText({ level: event.scope, region: event.region, isp: event.isp, probeId: event.probe_id })]);
  if (event.summary) fields.push([event.kind === 'resolved' ? 'Now' : 'What', event.summary]);
  fields.push(['Started', event.started_at]);
  if (event.kind === 'resolved') fields.push(['Resolved', `${event.at} — lasted ${lasted}${event.resolve_reason && event.resolve_reason !== 'recovered' ? ` (${event.resolve_reason.replace('_', ' ')})` : ''}`]);
  const details = event.details as Record<string, unknown>;
  if (event.rule_kind === 'hijack') {
    const ips = details.hijacked_ips as string[] | undefined;
    if (ips && ips.length > 0) fields.push(['Hijacked IPs', ips.join(', ')]);
    const resolvers = details.resolvers as string[] | undefined;
    if (resolvers && resolvers.length > 0) fields.push(['Resolver', resolvers.join(', ')]);
    const probes = details.probes as string[] | undefined;
    if (probes && probes.length > 0) fields.push(['Probes', probes.join(', ')]);
  }
  if (event.rule_kind === 'probe_offline' && event.scope === 'fleet') {
    const offline = details.offline_probes as string[] | undefined;
    if (offline && offline.length > 0) fields.push(['Offline probes', offline.length > 20 ? `${offline.slice(0, 20).join(', ')} … (${offline.length})` : offline.join(', ')]);
  }
  fields.push(['Alarm', `${event.fingerprint} #${event.seq}`]);
  return { title, fields, links: event.links.slice(0, MAX_LINKS).map((l) => absoluteLink(l, externalUrl)) };
}

/** Plain text: title, then the fields and links one per line. */
export function plainText(message: Message): string {
  return [message.title, ...message.fields.map(([k, v]) => `${k}: ${v}`), ...(message.links.length > 0 ? ['Evidence:', ...message.links] : [])].join('\n');
}

/** The fields and links as markdown paragraphs (channels read bold differently: `bold` decides). */
export function fieldsMarkdown(message: Message, bold: (s: string) => string = (s) => `**${s}**`): string {
  return [
    ...message.fields.map(([k, v]) => `${bold(`${k}:`)} ${v}`),
    ...(message.links.length > 0 ? [`${bold('Evidence:')} ${message.links.join(' ')}`] : []),
  ].join('\n\n');
}

/** Title and fields as markdown (DingTalk, WeCom). */
export function markdownText(message: Message, bold: (s: string) => string = (s) => `**${s}**`): string {
  return `${bold(message.title)}\n\n${fieldsMarkdown(message, bold)}`;
}

/** Cuts `text` to at most `maxBytes` of UTF-8, on a character boundary, marking the cut. */
export function capBytes(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let cut = text.slice(0, maxBytes);
  while (Buffer.byteLength(cut) > maxBytes - 4) cut = cut.slice(0, -1);
  return `${cut} …`;
}
