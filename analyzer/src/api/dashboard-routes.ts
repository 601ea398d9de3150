/**
 * Serves the dashboard: a static page and its script (analyzer/src/dashboard/) plus uPlot from
 * node_modules — nothing from a CDN. Files are read once at start; the page talks to /v1 with the
 * key the user gives it (kept in the tab's sessionStorage, never sent anywhere else).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { FastifyInstance } from 'fastify';

const require = createRequire(import.meta.url);
const HERE = new URL('../dashboard/', import.meta.url);

interface Asset {
  type: string;
  body: Buffer;
}

function assets(): Record<string, Asset> {
  const own = (name: string, type: string): Asset => ({ type, body: readFileSync(new URL(name, HERE)) });
  const vendor = (spec: string, type: string): Asset => ({ type, body: readFileSync(require.resolve(spec)) });
  return {
    'index.html': own('index.html', 'text/html; charset=utf-8'),
    'app.js': own('app.js', 'text/javascript; charset=utf-8'),
    'style.css': own('style.css', 'text/css; charset=utf-8'),
    'vendor/uPlot.iife.min.js': vendor('uplot/dist/uPlot.iife.min.js', 'text/javascript; charset=utf-8'),
    'vendor/uPlot.min.css': vendor('uplot/dist/uPlot.min.css', 'text/css; charset=utf-8'),
  };
}

/** Only this origin: scripts and styles from files, requests to the API itself. */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export function registerDashboard(app: FastifyInstance): void {
  const files = assets();
  app.get('/', async (_req, reply) => reply.redirect('/dashboard/', 302));
  app.get('/dashboard', async (_req, reply) => reply.redirect('/dashboard/', 302));
  app.get('/dashboard/*', async (req, reply) => {
    const name = (req.params as { '*': string })['*'] || 'index.html';
    const asset = Object.hasOwn(files, name) ? files[name] : undefined;
    if (!asset) return reply.code(404).send({ error: 'not_found', message: `no dashboard file ${JSON.stringify(name.slice(0, 100))}` });
    return reply
      .header('content-type', asset.type)
      .header('content-security-policy', CSP)
      .header('x-frame-options', 'DENY')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-cache')
      .send(asset.body);
  });
}
