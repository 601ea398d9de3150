/**
 * What hijack evidence needs from a page: title, external script/iframe/frame origins, form
 * targets, password fields, meta refresh and inline-script hashes. Regex-based on purpose (no DOM
 * library on a probe): one linear left-to-right scan over a capped text, so a hostile page cannot
 * make it slow. Content inside <script>, <style>, <textarea>, <title> and comments is not parsed
 * as markup, like a browser.
 */
import { createHash } from 'node:crypto';

export interface PageFeatures {
  title: string | null;
  /** Origins of <script src> on another host than the page's. */
  scriptOrigins: string[];
  iframeOrigins: string[];
  /** Origins of <frame src> (the children of a <frameset>). */
  frameOrigins: string[];
  /** Origins every form submits to (the page's own when the action is empty), external or not. */
  formActionOrigins: string[];
  hasPasswordField: boolean;
  /** Absolute target of <meta http-equiv=refresh>, null when absent or without a URL. */
  metaRefresh: string | null;
  inlineScriptSha256: string[];
}

/** Only this much of a page is looked at (the fetch caps bodies too). */
export const MAX_HTML_CHARS = 2 * 1024 * 1024;
const MAX_SET_SIZE = 200;
const MAX_TITLE_CHARS = 512;

// A tag start: name and attribute text up to the next '>' (stopping at '<' keeps the scan linear).
const TAG_SOURCE = /<!--|<([a-zA-Z][a-zA-Z0-9-]*)([^<>]*)>/.source;
const ATTR = /([^\s"'=<>/]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/g;
const RAW_TEXT = new Set(['script', 'style', 'textarea', 'title']);

export function extractPageFeatures(html: string, pageUrl: string): PageFeatures {
  const text = html.length > MAX_HTML_CHARS ? html.slice(0, MAX_HTML_CHARS) : html;
  const page = safeUrl(pageUrl, undefined);
  let base = page;
  let title: string | null = null;
  let metaRefresh: string | null = null;
  let hasPasswordField = false;
  const sets = { script: new Set<string>(), iframe: new Set<string>(), frame: new Set<string>(), form: new Set<string>() };
  const inline = new Set<string>();

  /** Origin of an http(s) URL written on the page, resolved against <base> or the page URL. */
  const originOf = (value: string): URL | null => {
    const url = safeUrl(decodeEntities(value.trim()), base ?? undefined);
    return url && (url.protocol === 'http:' || url.protocol === 'https:') ? url : null;
  };
  const addExternal = (set: Set<string>, value: string | undefined) => {
    if (value === undefined || value.trim() === '') return;
    const url = originOf(value);
    if (url && url.hostname !== page?.hostname && set.size < MAX_SET_SIZE) set.add(url.origin);
  };

  const tags = new RegExp(TAG_SOURCE, 'g'); // per call: its lastIndex is the scan position
  for (let m = tags.exec(text); m !== null; m = tags.exec(text)) {
    if (m[0] === '<!--') {
      const end = text.indexOf('-->', tags.lastIndex);
      tags.lastIndex = end < 0 ? text.length : end + 3;
      continue;
    }
    const tag = m[1].toLowerCase();
    const attrs = parseAttributes(m[2]);
    let content = '';
    if (RAW_TEXT.has(tag)) {
      // The element's text runs to its closing tag (or the end of what we have).
      const close = new RegExp(`</${tag}`, 'gi');
      close.lastIndex = tags.lastIndex;
      const end = close.exec(text);
      content = text.slice(tags.lastIndex, end ? end.index : text.length);
      const after = end ? text.indexOf('>', close.lastIndex) : -1;
      tags.lastIndex = after < 0 ? text.length : after + 1;
    }
    switch (tag) {
      case 'base':
        if (attrs.href !== undefined && base === page) base = safeUrl(decodeEntities(attrs.href.trim()), page ?? undefined) ?? page;
        break;
      case 'title':
        if (title === null) title = cleanText(content).slice(0, MAX_TITLE_CHARS);
        break;
      case 'script':
        if (attrs.src !== undefined) addExternal(sets.script, attrs.src);
        else if (content.trim() !== '' && inline.size < MAX_SET_SIZE) inline.add(sha256(content));
        break;
      case 'iframe':
        addExternal(sets.iframe, attrs.src);
        break;
      case 'frame':
        addExternal(sets.frame, attrs.src);
        break;
      case 'form': {
        const action = attrs.action?.trim() ? originOf(attrs.action) : base;
        if (action && sets.form.size < MAX_SET_SIZE) sets.form.add(action.origin);
        break;
      }
      case 'input':
        if (attrs.type?.trim().toLowerCase() === 'password') hasPasswordField = true;
        break;
      case 'meta':
        if (metaRefresh === null && attrs['http-equiv']?.trim().toLowerCase() === 'refresh') {
          metaRefresh = refreshTarget(attrs.content ?? '', base);
        }
        break;
    }
  }

  const sorted = (set: Set<string>) => [...set].sort();
  return {
    title: title === '' ? null : title,
    scriptOrigins: sorted(sets.script),
    iframeOrigins: sorted(sets.iframe),
    frameOrigins: sorted(sets.frame),
    formActionOrigins: sorted(sets.form),
    hasPasswordField,
    metaRefresh,
    inlineScriptSha256: sorted(inline),
  };
}

/** Lower-cased attribute names to raw values (first occurrence wins, as in browsers). */
function parseAttributes(source: string): Record<string, string> {
  const attrs: Record<string, string> = {};
  for (const m of source.matchAll(ATTR)) {
    const name = m[1].toLowerCase();
    if (!(name in attrs)) attrs[name] = m[2] ?? m[3] ?? m[4] ?? '';
  }
  return attrs;
}

/** "5; url=/next" → absolute URL of /next; null without a URL part. */
function refreshTarget(content: string, base: URL | null): string | null {
  const m = /^\s*[\d.]*\s*[;,]?\s*(?:url\s*=\s*)?(.*)$/i.exec(decodeEntities(content));
  const raw = m?.[1].trim().replace(/^(['"])(.*)\1$/, '$2') ?? '';
  if (raw === '') return null;
  return safeUrl(raw, base ?? undefined)?.href ?? null;
}

function safeUrl(value: string, base: URL | undefined): URL | null {
  try {
    return new URL(value, base);
  } catch {
    return null;
  }
}

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

export function decodeEntities(value: string): string {
  return value.replace(/&(#x[0-9a-f]{1,6}|#\d{1,7}|[a-z]{2,6});/gi, (whole, body: string) => {
    if (body[0] !== '#') return NAMED[body.toLowerCase()] ?? whole;
    const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}

function cleanText(value: string): string {
  return decodeEntities(value).replace(/\s+/g, ' ').trim();
}

function sha256(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}
