import { createHash } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeEntities, extractPageFeatures } from './html.ts';

const PAGE = 'https://shop.example/catalog/index.html';
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

// ---

const extract = suite('extractPageFeatures');

extract('reads the title, decoding entities and collapsing whitespace', () => {
  const f = extractPageFeatures('<html><head><TITLE>\n  Shop &amp; More\t&#8212; Home </TITLE></head></html>', PAGE);
  assert.is(f.title, 'Shop & More — Home');
});

extract('gives null title when there is none or it is empty', () => {
  assert.is(extractPageFeatures('<p>no title</p>', PAGE).title, null);
  assert.is(extractPageFeatures('<title>  </title>', PAGE).title, null);
});

extract('lists only external script origins, resolving relative and protocol-relative URLs', () => {
  const html = `
    <script src="/static/app.js"></script>
    <script src="https://shop.example:8443/x.js"></script>
    <script src='//cdn.example.net/lib.js'></script>
    <script src=https://ads.injector.example/x.js?a=1&amp;b=2></script>
    <script type="text/javascript" SRC="http://ads.injector.example/y.js"></script>
    <script src="../up.js"></script>`;
  const f = extractPageFeatures(html, PAGE);
  assert.equal(f.scriptOrigins, ['http://ads.injector.example', 'https://ads.injector.example', 'https://cdn.example.net']);
});

extract('lists external iframe and frameset frame origins separately', () => {
  const html = `
    <iframe src="https://overlay.example/ad"></iframe><iframe src="/local"></iframe>
    <frameset rows="0,*"><frame src="http://landing.example/"><frame src="https://shop.example/real"></frameset>`;
  const f = extractPageFeatures(html, 'http://shop.example/');
  assert.equal(f.iframeOrigins, ['https://overlay.example']);
  assert.equal(f.frameOrigins, ['http://landing.example']);
});

extract('lists form action origins, the page itself for an empty action, and finds password inputs', () => {
  const html = `
    <form action="https://collect.phish.example/login" method=post><input type="PASSWORD" name=p></form>
    <form><input type=text></form>`;
  const f = extractPageFeatures(html, PAGE);
  assert.equal(f.formActionOrigins, ['https://collect.phish.example', 'https://shop.example']);
  assert.ok(f.hasPasswordField);
  assert.not.ok(extractPageFeatures('<input type="text"><input type=passwordx>', PAGE).hasPasswordField);
});

extract('resolves the meta refresh target', () => {
  const f = extractPageFeatures(`<meta http-equiv="Refresh" content="0; URL='/landing?x=1'">`, PAGE);
  assert.is(f.metaRefresh, 'https://shop.example/landing?x=1');
  assert.is(extractPageFeatures('<meta http-equiv=refresh content="30">', PAGE).metaRefresh, null);
  assert.is(extractPageFeatures('<meta name="viewport" content="0; url=/x">', PAGE).metaRefresh, null);
});

extract('hashes each inline script body exactly, ignoring empty ones and scripts with src', () => {
  const a = "var ad = document.createElement('script');";
  const b = '\n  window.x = 1;\n';
  const html = `<script>${a}</script><script type="module">${b}</script><script> </script><script src="/x.js">ignored</script><script>${a}</script>`;
  assert.equal(extractPageFeatures(html, PAGE).inlineScriptSha256, [sha(a), sha(b)].sort());
});

extract('does not parse markup inside scripts or comments', () => {
  const html = `
    <!-- <script src="https://commented.example/x.js"></script> -->
    <script>document.write('<iframe src="https://written.example/"></iframe>')</script>
    <iframe src="https://real.example/"></iframe>`;
  const f = extractPageFeatures(html, PAGE);
  assert.equal(f.scriptOrigins, []);
  assert.equal(f.iframeOrigins, ['https://real.example']);
});

extract('honours <base href> for relative URLs', () => {
  const f = extractPageFeatures('<base href="https://static.other.example/assets/"><script src="app.js"></script>', PAGE);
  assert.equal(f.scriptOrigins, ['https://static.other.example']);
});

extract('skips non-http URLs and garbage', () => {
  const f = extractPageFeatures('<script src="data:text/javascript,alert(1)"></script><iframe src="javascript:void(0)"></iframe><script src="http://[bad"></script>', PAGE);
  assert.equal(f.scriptOrigins, []);
  assert.equal(f.iframeOrigins, []);
});

extract('scans hostile input (unclosed tags, scripts, quotes, comments) to the end', () => {
  // Each construct here would make a backtracking parser quadratic; the scan must still see the
  // iframe behind the first and treat the unclosed script as running to the end.
  const hostile = `${'<a "'.repeat(200_000)}<iframe src="https://after.example/">${'<script>'.repeat(50_000)}<!--`;
  const f = extractPageFeatures(hostile, PAGE);
  assert.equal(f.iframeOrigins, ['https://after.example']);
  assert.equal(f.scriptOrigins, []);
  assert.is(f.inlineScriptSha256.length, 1);
});

extract.run();

// ---

const decode = suite('decodeEntities');

decode('decodes named, decimal and hex references and leaves unknown ones', () => {
  assert.is(decodeEntities('a&amp;b &lt;&gt; &#65;&#x42; &bogus; &#xFFFFFFF;'), 'a&b <> AB &bogus; &#xFFFFFFF;');
});

decode.run();
