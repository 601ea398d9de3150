import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { openApiDocument } from './openapi.ts';
import { ROUTES } from './server.ts';

const test = suite('openApiDocument');
const doc = openApiDocument(ROUTES) as { openapi: string; paths: Record<string, Record<string, any>>; components: { schemas: Record<string, unknown> } };

test('is OpenAPI 3.1 and documents every route, with its scope', () => {
  assert.is(doc.openapi, '3.1.0');
  for (const r of ROUTES) {
    const op = doc.paths[r.path.replace(/:(\w+)/g, '{$1}')]?.[r.method.toLowerCase()];
    assert.ok(op, `${r.method} ${r.path} is documented`);
    assert.is(op['x-scope'], r.scope);
    assert.ok(op.responses['400'] && op.responses['401'], 'error answers documented');
  }
  for (const path of ['/healthz', '/metrics', '/openapi.json']) assert.ok(doc.paths[path]);
});

test('parameters are exactly the ones the routes accept; path parameters are required', () => {
  for (const r of ROUTES) {
    const op = doc.paths[r.path.replace(/:(\w+)/g, '{$1}')]![r.method.toLowerCase()];
    const documented = op.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`).sort();
    const accepted = [...Object.keys(r.params).map((n) => `path:${n}`), ...Object.keys(r.query).map((n) => `query:${n}`)].sort();
    assert.equal(documented, accepted, `${r.method} ${r.path}`);
    for (const p of op.parameters.filter((x: { in: string }) => x.in === 'path')) assert.is(p.required, true);
  }
});

test('every $ref points at a schema that exists', () => {
  const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/(\w+)"/g)].map((m) => m[1]!);
  assert.ok(refs.length > 10);
  for (const name of refs) assert.ok(doc.components.schemas[name], `schema ${name}`);
});

test.run();
