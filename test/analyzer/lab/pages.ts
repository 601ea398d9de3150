/**
 * The lab's web pages: what a server at one address serves for one host. A page is files (under
 * the server block's root) plus nginx directives; the dynamic one uses nginx SSI so it changes per
 * request the way real pages do (CSRF token, rotating ad slot).
 */
import type { Page } from './scenarios.ts';

export interface PageContext {
  host: string;
  /** The address serving the page. */
  ip: string;
  /** The host's origin address (for an overlay that frames the real site). */
  originIp: string;
}

export interface PageSpec {
  files: Record<string, string | Buffer>;
  /** Directives for the :80 server block and the :443 one (same when `https` is absent). */
  http: string;
  https?: string;
}

const BRANDS: Record<string, [string, string]> = {
  'shoplab.com': ['ShopLab', 'Fine goods delivered to your door'],
  'newslab.net': ['NewsLab', 'Daily news and analysis'],
  'banklab.org': ['BankLab', 'Online banking'],
  'wildlab.com': ['WildLab', 'Outdoor gear and trails'],
};

const WORDS = (
  'market delivery quality season fresh garden kitchen travel winter summer offer member account ' +
  'support review product service secure payment order history weekly report analysis economy city ' +
  'council weather sport football result league transfer market energy price update local region'
).split(' ');

const STATIC = 'try_files $uri $uri/index.html =404;';
const files = (html: string, extra: Record<string, string | Buffer> = {}): PageSpec => ({ files: { 'index.html': html, ...extra }, http: `location / { ${STATIC} }` });

export function pageFor(page: Page, ctx: PageContext): PageSpec {
  const { host } = ctx;
  switch (page) {
    case 'origin':
      return files(originHtml(host, { paragraphs: 12 }));
    case 'origin-old':
      // Yesterday's copy: two paragraphs shorter (body ratio ≈ 0.85), same title and scripts.
      return files(originHtml(host, { paragraphs: 10, edition: 'Edition of 2025-03-01' }));
    case 'origin-ad-injected':
      return files(originHtml(host, { paragraphs: 12, extraHead: '<script src="http://ad.adnet-partner.cn/x.js"></script>' }));
    case 'origin-dynamic':
      return { ...files(dynamicHtml(host)), http: `ssi on; location / { ${STATIC} }` };
    case 'origin-ab-test':
      return files(abTestHtml(host, ctx.ip === ctx.originIp ? 'a' : 'b'));
    case 'bank-login':
      return files(loginHtml(host, '/session'));
    case 'phishing-clone':
      return files(loginHtml(host, 'http://collect.evil-lab.ru/gate.php'));
    case 'download-page':
      return files(originHtml(host, { paragraphs: 6, extraBody: '<p><a href="/files/shoplab-app-2.4.1.apk">Download the app</a></p>' }));
    case 'apk':
      return {
        files: { 'update.apk': apkBytes() },
        http: 'location / { types { } default_type application/vnd.android.package-archive; '
          + 'add_header Content-Disposition \'attachment; filename="update.apk"\'; try_files /update.apk =404; }',
      };
    case 'https-redirect':
      return { ...files(originHtml(host, { paragraphs: 12 })), http: 'location / { return 301 https://$host$request_uri; }', https: `location / { ${STATIC} }` };
    case 'ad-redirect':
      return { files: {}, http: 'location / { return 302 http://promo-deals.cn/landing?ref=$host; }' };
    case 'frameset':
      return files(framesetHtml(host, ctx.originIp));
    case 'parking':
      return files(simpleHtml(`${host} - This domain may be for sale`, [
        `The domain ${host} may be for sale. Related searches: cheap flights, insurance quotes, online casino.`,
      ], '<script src="http://park.parkingcrew-lab.net/p.js"></script>'));
    case 'isp-search':
      return files(simpleHtml('ISP A Navigation - Search results', [
        `The address ${host} could not be found. Did you mean one of these sites?`,
        'Sponsored results: deals, loans, mobile games, travel offers.',
      ], '<script src="http://ads.adnet-partner.cn/search.js"></script>'));
    case 'blockpage':
      return files(simpleHtml('Access Denied', [
        'The website you are trying to visit has been blocked in accordance with the law.',
        'If you believe this is a mistake, contact your service provider.',
      ]));
    case 'challenge':
      return {
        files: { 'challenge.html': challengeHtml(host) },
        http: 'error_page 403 /challenge.html; location = /challenge.html { internal; } location / { return 403; }',
      };
    case 'origin-challenging-isp-b':
      // The site itself, except that ISP B's addresses (a "suspicious network") get a challenge.
      return {
        files: { 'index.html': originHtml(host, { paragraphs: 12 }), 'challenge.html': challengeHtml(host) },
        http: 'error_page 403 /challenge.html; location = /challenge.html { internal; } '
          + `location / { if ($remote_addr ~ "^82\\.20\\.") { return 403; } ${STATIC} }`,
      };
    case 'meta-refresh':
      return files(simpleHtml('Loading...', ['Please wait...'], `<meta http-equiv="refresh" content="0;url=http://promo-deals.cn/landing?ref=${host}">`));
    case 'fake-update':
      return files(simpleHtml('Security update required', [
        'Your banking app is out of date. Install the security update to continue.',
        '<p><a href="http://collect.evil-lab.ru/BankLab-Security-Update.apk">Install the update</a></p>',
      ]));
    case 'unrelated':
      return files(simpleHtml('Welcome to RandomHost', [
        'This is the default page of a shared hosting account. The owner has not uploaded a site yet.',
        'RandomHost: cheap and reliable web hosting since 2009.',
      ]));
  }
}

function brandOf(host: string): [string, string] {
  const zone = host.split('.').slice(-2).join('.');
  return BRANDS[zone] ?? ['LabSite', 'A lab web site'];
}

function titleOf(host: string): string {
  const [brand, tagline] = brandOf(host);
  const label = host.split('.')[0];
  const section = /^(www|m|\*)$/.test(label) || label.startsWith('rand-') ? '' : ` ${label[0].toUpperCase()}${label.slice(1)}`;
  return `${brand}${section} | ${tagline}`;
}

/** Deterministic prose: the same host always gets the same paragraphs. */
function paragraphs(host: string, count: number): string[] {
  let seed = [...host].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7);
  const next = () => (seed = (seed * 1103515245 + 12345) >>> 0) % WORDS.length;
  return Array.from({ length: count }, () => {
    const words = Array.from({ length: 60 }, () => WORDS[next()]);
    return `${words.join(' ')}.`;
  });
}

interface OriginOptions {
  paragraphs: number;
  edition?: string;
  extraHead?: string;
  extraBody?: string;
}

function originHtml(host: string, opts: OriginOptions): string {
  const [brand] = brandOf(host);
  const zone = host.split('.').slice(-2).join('.');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${titleOf(host)}</title>
<link rel="stylesheet" href="/static/site.css">
<script src="https://assets.${zone}/js/app.js"></script>
<script>window.siteConfig = { brand: "${brand}", lang: "en" };</script>
${opts.extraHead ?? ''}</head>
<body><header><h1>${brand}</h1><nav><a href="/">Home</a> <a href="/about">About</a> <a href="/contact">Contact</a></nav></header>
<main><p class="edition">${opts.edition ?? 'Edition of 2025-03-02'}</p>
${paragraphs(host, opts.paragraphs).map((p) => `<p>${p}</p>`).join('\n')}
${opts.extraBody ?? ''}</main>
<footer>&copy; 2025 ${brand}. All rights reserved.</footer></body></html>
`;
}

/** Rotates a CSRF token and a first-party ad slot per request (nginx SSI). */
function dynamicHtml(host: string): string {
  return originHtml(host, {
    paragraphs: 12,
    extraBody: '<form method="post" action="/account/update"><input type="hidden" name="csrf" value="<!--# echo var="request_id" -->">'
      + '<input name="nickname"><button>Save</button></form>\n'
      + '<div class="ad-slot"><img src="/ads/slot-<!--# echo var="msec" -->.png" alt="Our offers"></div>',
  });
}

/** Loads the A/B-test script of the server's bucket: one of two origins the customer declared. */
function abTestHtml(host: string, bucket: 'a' | 'b'): string {
  return originHtml(host, { paragraphs: 12, extraHead: `<script src="http://cdn-${bucket}.abtest-lab.com/exp.js"></script>` });
}

function loginHtml(host: string, action: string): string {
  return originHtml(host, {
    paragraphs: 4,
    extraBody: `<form method="post" action="${action}"><label>Customer number <input name="user"></label>`
      + '<label>Password <input type="password" name="password"></label><button>Sign in</button></form>',
  });
}

function framesetHtml(host: string, originIp: string): string {
  return `<!doctype html>
<html><head><title>${titleOf(host)}</title></head>
<frameset rows="*,120" frameborder="0">
<frame src="http://${originIp}/?host=${host}">
<frame src="http://ads.adnet-partner.cn/float.html">
</frameset></html>
`;
}

function challengeHtml(host: string): string {
  return simpleHtml('Just a moment...', [
    `Checking your browser before accessing ${host}.`,
    'This process is automatic. Your browser will redirect to your requested content shortly.',
    '<form id="challenge-form" action="/__challenge/verify" method="post"><div class="captcha" data-sitekey="lab"></div></form>',
  ], '<script src="https://challenges.shieldwaf.net/captcha/v1/api.js"></script>');
}

function simpleHtml(title: string, lines: string[], head = ''): string {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${title}</title>${head}</head>
<body>${lines.map((l) => (l.startsWith('<') ? l : `<p>${l}</p>`)).join('\n')}</body></html>
`;
}

/** The start of a zip file (an .apk is one), then filler. */
function apkBytes(): Buffer {
  return Buffer.concat([Buffer.from('504b0304140000000800', 'hex'), Buffer.from('AndroidManifest.xml'), Buffer.alloc(4096, 0x5a)]);
}
