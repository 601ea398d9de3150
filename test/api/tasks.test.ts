/**
 * Task management through the API on chDB and clickhouse-server 18.16: create, read, replace,
 * delete, validated exactly like a probe config (the stored tasks load into a probe config as they
 * are), ids owned by one tenant for good, every change kept as a row, and config import.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseConfig } from '@vantage/probe';
import { importTasks } from '../../analyzer/src/api/import-tasks.ts';
import { ENGINE_NAMES, rows } from '../helpers/clickhouse-engines.ts';
import { show, startEngineApis, stopEngineApis, type EnginesCtx } from './helpers.ts';

type Ctx = EnginesCtx;

const test = suite<Ctx>('task management');

test.before((ctx) => startEngineApis(ctx));

test.after(stopEngineApis);

const DNS_TASK = {
  id: 'shop-dns',
  kind: 'dns',
  target: 'shop.example.com',
  schedule: '*/2 * * * *',
  timeout: '3s',
  dns: { types: ['A', 'AAAA'], references: ['192.0.2.53'], evidence: true, expect: { cidrs: ['203.0.113.0/24'], asns: [64500] } },
};

for (const engine of ENGINE_NAMES) {
  test(`${engine}: create, read, list, replace, delete`, async ({ apis, engines }) => {
    const { acme } = apis[engine]!;
    const created = await acme.post('/v1/tasks', DNS_TASK);
    assert.is(created.status, 201, show(created));
    assert.equal(created.body.spec, DNS_TASK);
    assert.is(created.body.changed_by, 'vk_00000000000000a1');
    assert.equal((await acme.get('/v1/tasks/shop-dns')).body.spec, DNS_TASK);
    assert.is((await acme.post('/v1/tasks', DNS_TASK)).status, 409, 'exists already');

    const web = { id: 'shop-web', kind: 'http', target: 'https://shop.example.com/health', http: { expect_status: [200, 204], body_regexp: 'ok' } };
    assert.is((await acme.post('/v1/tasks', web)).status, 201);
    assert.equal((await acme.get('/v1/tasks', { kind: 'http' })).body.tasks.map((t: { id: string }) => t.id), ['shop-web']);
    assert.equal((await acme.get('/v1/tasks')).body.tasks.map((t: { id: string }) => t.id), ['shop-dns', 'shop-web']);

    const replaced = await acme.put('/v1/tasks/shop-web', { kind: 'http', target: 'https://shop.example.com/ready' });
    assert.is(replaced.status, 200, show(replaced));
    assert.ok(replaced.body.version > created.body.version);
    assert.is((await acme.get('/v1/tasks/shop-web')).body.target, 'https://shop.example.com/ready');
    const mismatch = await acme.put('/v1/tasks/shop-web', { id: 'other', kind: 'http', target: 'https://x.test/' });
    assert.is(mismatch.status, 400);
    assert.match(mismatch.body.message, /body\.id: "other" differs from the id in the path/);
    assert.is((await acme.put('/v1/tasks/nope', { kind: 'tcp', target: 'x.test:1' })).status, 404);

    assert.is((await acme.delete('/v1/tasks/shop-web')).status, 204);
    assert.is((await acme.get('/v1/tasks/shop-web')).status, 404);
    assert.is((await acme.delete('/v1/tasks/shop-web')).status, 404);
    assert.equal((await acme.get('/v1/tasks')).body.tasks.map((t: { id: string }) => t.id), ['shop-dns']);
    // Every change is a row: create, replace, delete.
    const history = await rows<{ deleted: number; target: string }>(engines.get(engine), "SELECT deleted, target FROM vantage.tasks WHERE task_id = 'shop-web' ORDER BY version");
    assert.equal(history.map((h) => [Number(h.deleted), h.target]), [[0, web.target], [0, 'https://shop.example.com/ready'], [1, 'https://shop.example.com/ready']]);
  });

  test(`${engine}: a deleted id stays its tenant's: only that tenant may create it again`, async ({ apis }) => {
    const { acme, globex } = apis[engine]!;
    assert.is((await acme.post('/v1/tasks', { id: 'gone', kind: 'tcp', target: 'db.example.com:5432' })).status, 201);
    assert.is((await acme.delete('/v1/tasks/gone')).status, 204);
    const taken = await globex.post('/v1/tasks', { id: 'gone', kind: 'tcp', target: 'db.example.com:5432' });
    assert.is(taken.status, 409, show(taken));
    assert.match(taken.body.message, /task id "gone" is taken/);
    assert.is((await acme.post('/v1/tasks', { id: 'gone', kind: 'tcp', target: 'db.example.com:5433' })).status, 201);
  });

  test(`${engine}: validated like a probe config: every problem named by its key`, async ({ apis }) => {
    const { acme } = apis[engine]!;
    const cases: [unknown, RegExp][] = [
      [{ id: 'bad cron', kind: 'dns', target: 'a.test' }, /body\.id: "bad cron" is not valid/],
      [{ id: 'c1', kind: 'dns', target: 'a.test', schedule: 'every minute' }, /body\.schedule: "every minute" is not a cron expression/],
      [{ id: 'c2', kind: 'http', target: 'ftp://a.test/' }, /body\.target: "ftp:\/\/a\.test\/" is not an http/],
      [{ id: 'c3', kind: 'http', target: 'https://a.test/', http: { expect_status: [999] } }, /body\.http\.expect_status\[0\]: must be at most 599/],
      [{ id: 'c4', kind: 'tcp', target: 'a.test:1', color: 'blue' }, /body\.color: unknown key/],
      [{ id: 'c5', kind: 'ping', target: 'a.test', timeout: '1s', ping: { count: 5, interval: '1s' } }, /body\.timeout: 1000ms is too short for 5 echoes/],
      [{ id: 'c6', kind: 'smtp', target: 'a.test' }, /body\.kind: "smtp" is not one of dns, http, tcp, ping/],
      [{ id: 'c7', kind: 'dns', target: 'a.test', http: {} }, /body\.http: a http block in a dns task/],
      [{ id: 'c8', kind: 'http', target: 'https://a.test/', http: { body_regexp: '(' } }, /body\.http\.body_regexp: Invalid regular expression/],
      [[DNS_TASK], /body: expected a JSON object/],
      [{ kind: 'dns', target: 'a.test' }, /body\.id: is required/],
    ];
    for (const [body, message] of cases) {
      const res = await acme.post('/v1/tasks', body);
      assert.is(res.status, 400, `${JSON.stringify(body)} → ${show(res)}`);
      assert.match(res.body.message, message);
    }
    const many = await acme.post('/v1/tasks', { id: 'c9', kind: 'http', target: 'nope', http: { expect_status: 'x', follow_redirects: 'yes' } });
    assert.is(many.body.problems.length, 3, show(many));
  });

  test(`${engine}: stored tasks load into a probe config as they are (the fleet can run them)`, async ({ apis }) => {
    const { acme } = apis[engine]!;
    const { tasks } = (await acme.get('/v1/tasks')).body as { tasks: { spec: Record<string, unknown> }[] };
    assert.ok(tasks.length >= 2);
    const config = parseConfig({ probe: { id: 'p1', region: 'r', isp: 'i', resolvers: ['127.0.0.1'] }, tasks: tasks.map((t) => t.spec) }, 'from-api.yaml');
    const dns = config.tasks.find((t) => t.id === 'shop-dns');
    assert.is(dns?.kind, 'dns');
    assert.is(dns!.timeoutMs, 3000);
  });

  test(`${engine}: importing a config's tasks: once, unchanged on re-import, never another tenant's id`, async ({ apis, engines }) => {
    const ch = engines.get(engine);
    const tasks = [
      { id: 'cfg-a', kind: 'tcp', target: 'a.example.com:443' },
      { id: 'cfg-b', kind: 'dns', target: 'b.example.com' },
      { id: 'shop-dns', kind: 'dns', target: 'elsewhere.example.com' },
    ];
    const first = await importTasks(ch, 'globex', tasks);
    assert.equal(first.imported, ['cfg-a', 'cfg-b']);
    assert.equal(first.refused.map((r) => r.id), ['shop-dns']);
    const again = await importTasks(ch, 'globex', tasks.slice(0, 2));
    assert.equal(again, { imported: [], unchanged: ['cfg-a', 'cfg-b'], refused: [] });
    const listed = (await apis[engine]!.globex.get('/v1/tasks')).body.tasks;
    assert.equal(listed.map((t: { id: string; source: string }) => [t.id, t.source]), [['cfg-a', 'import'], ['cfg-b', 'import']]);
  });
}

test.run();
