/**
 * Generic fingerprints: challenge/CAPTCHA pages of common WAF and CDN vendors, blockpage titles,
 * executable downloads, and well-known CDN networks. Operators add sinkhole/blockpage IPs and
 * CNAMEs in the settings (`blockpages`); nothing here knows any deployment's addresses.
 */
import type { EvidenceFetch, TlsInfo } from '@vantage/probe';
import { hostOf, nameEndsWith, normName } from './domains.ts';
import type { AsnInfo } from './asn-table.ts';
import { leaveTargets } from './pages.ts';

const CHALLENGE_TITLES: readonly RegExp[] = [
  /^just a moment\.*$/i, // Cloudflare managed challenge
  /attention required!? \| cloudflare/i,
  /checking (your|if the site connection is secure|your browser)/i,
  /ddos-guard/i,
  /verify(ing)? (that )?you are (a )?human/i,
  /are you a (robot|human)/i,
  /\bcaptcha\b/i,
  /pardon our interruption/i, // Imperva / Distil
  /request unsuccessful\. incapsula incident/i,
  /human verification/i,
  /人机验证|安全验证|滑动验证|访问验证/,
];
const CHALLENGE_SCRIPT_HOSTS: readonly string[] = [
  'challenges.cloudflare.com', 'hcaptcha.com', 'recaptcha.net', 'captcha-delivery.com', 'geetest.com',
  'captcha.qq.com', 'captcha.qcloud.com', 'arkoselabs.com', 'funcaptcha.com', 'perimeterx.net', 'px-cdn.net',
];

/** "challenge:title" / "challenge:script:<host>" when the page is a challenge/CAPTCHA, else null. */
export function challengeFingerprint(page: EvidenceFetch): string | null {
  if (page.title && CHALLENGE_TITLES.some((re) => re.test(page.title!.trim()))) return `challenge:title:${page.title.trim().slice(0, 80)}`;
  for (const origin of page.script_origins) {
    const host = hostOf(origin);
    if (host && CHALLENGE_SCRIPT_HOSTS.some((h) => nameEndsWith(host, h))) return `challenge:script:${host}`;
  }
  return null;
}

const BLOCKPAGE_TITLES: readonly RegExp[] = [
  /\b(this|the) (site|website|page|domain|url) (has been|is) (blocked|restricted)/i,
  /\bblocked (by|under|in accordance)/i,
  /access to this (site|website|page|resource) (has been|is) (blocked|restricted|denied)/i,
  /\b(website|site|url|domain) blocked\b/i,
  /网站(已被|被)?(屏蔽|封锁|拦截)|该网站(已被|无法)访问|禁止访问|访问被拒绝|已被拦截/,
];

export function blockpageTitle(page: EvidenceFetch): string | null {
  const title = page.title?.trim();
  return title && BLOCKPAGE_TITLES.some((re) => re.test(title)) ? `blockpage:title:${title.slice(0, 80)}` : null;
}

const EXECUTABLE_TYPES = /^(application\/(vnd\.android\.package-archive|x-msdownload|x-msdos-program|x-dosexec|x-executable|x-elf|x-mach-binary|java-archive|x-java-archive|x-apple-diskimage|vnd\.microsoft\.portable-executable|x-msi|x-ms-installer|x-sh|x-bat|octet-stream|x-iphone|x-itunes-ipa))\b/i;
const EXECUTABLE_PATH = /\.(apk|xapk|exe|msi|scr|bat|cmd|dmg|pkg|jar|ipa|elf|bin|ps1|vbs)$/i;

/** An executable/APK served or pointed to (content type, redirect or meta refresh target). */
export function executableFingerprint(page: EvidenceFetch): string | null {
  if (page.content_type && EXECUTABLE_TYPES.test(page.content_type.trim())) return `executable:type:${page.content_type.split(';')[0].trim()}`;
  for (const target of leaveTargets(page)) {
    const path = /^[^?#]*/.exec(target.replace(/^[a-z]+:\/\/[^/]*/i, ''))?.[0] ?? '';
    if (EXECUTABLE_PATH.test(path)) return `executable:path:${target.slice(0, 200)}`;
  }
  return null;
}

export function isHtml(page: EvidenceFetch): boolean {
  return page.status !== null && (page.content_type === null || /html/i.test(page.content_type));
}

/** Whether a certificate claims the domain (subject or SAN, wildcards one label deep). */
export function certNamesDomain(tls: TlsInfo, domain: string): boolean {
  const d = normName(domain);
  const matches = (name: string) => {
    const n = normName(name);
    if (n === d) return true;
    return n.startsWith('*.') && d.endsWith(n.slice(1)) && !d.slice(0, d.length - n.length + 1).includes('.');
  };
  return tls.san.some(matches) || (tls.subject !== null && matches(tls.subject));
}

// Networks of large CDN/cloud edges (Satellite's verify step excludes the same kind of AS).
const CDN_ASNS = new Set([
  13335, 209242, // Cloudflare
  20940, 16625, 16702, 21342, 32787, 35994, // Akamai
  54113, // Fastly
  16509, 14618, 8987, // Amazon / CloudFront
  15169, 396982, 19527, // Google
  8075, 8068, // Microsoft / Azure CDN
  15133, 14153, // Edgecast / Verizon
  22822, // Limelight / Edgio
  60068, // CDN77
  200325, // Bunny
  12989, 33438, // StackPath / Highwinds
  19551, // Imperva Incapsula
  37963, 45102, 24429, // Alibaba Cloud
  132203, 45090, // Tencent Cloud
  55967, 38365, // Baidu
  136907, 55990, // Huawei Cloud
  9338, // ChinaNetCenter / Wangsu
]);
const CDN_ORG = /\b(cdn|cloudflare|akamai|fastly|cloudfront|edgecast|limelight|edgio|stackpath|incapsula|imperva|bunny|cdn77|wangsu|chinanetcenter|chinacache|qiniu|upyun|kingsoft cloud|alibaba|aliyun|tencent cloud|baidu cloud|huawei cloud)\b/i;

export function isKnownCdn(info: AsnInfo | null): boolean {
  if (!info) return false;
  return CDN_ASNS.has(info.asn) || (info.org !== null && CDN_ORG.test(info.org));
}
