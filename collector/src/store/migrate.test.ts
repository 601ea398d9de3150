/**
 * Migrations on both engines: a fresh install creates every documented table, applying again is a
 * no-op, several migrators at once (separate connections to the server) are harmless, and an
 * upgrade that adds a column runs once. The README documents every column that exists.
 */
import { readFileSync } from 'node:fs';
import * as assert from 'uvu/assert';
import { ENGINE_NAMES, enginesSuite, rows, type Engines, type EngineName } from '../../../test/helpers/clickhouse-engines.ts';
import type { ClickHouse } from './clickhouse-client.ts';
import { migrate } from './migrate.ts';
import { MIGRATIONS, schemaDdl, type Migration } from './schema.ts';

/** Every table and view the released migrations create, read off their DDL. */
const EXPECTED = schemaDdl({})
  .map((sql) => /^CREATE (?:TABLE|MATERIALIZED VIEW) IF NOT EXISTS vantage\.(\w+)/.exec(sql)?.[1])
  .filter((name): name is string => name !== undefined)
  .sort();
const VERSIONS = MIGRATIONS.map((m) => m.version).sort((a, b) => a - b);
const LATEST = VERSIONS.at(-1)!;
const UPGRADE: Migration = {
  version: LATEST + 1,
  name: 'test: a column added later',
  steps: () => [{ addColumn: { table: 'results', column: 'added_in_test', type: "String DEFAULT ''" } }],
};

const tables = async (ch: ClickHouse) =>
  (await rows<{ name: string }>(ch, "SELECT name FROM system.tables WHERE database = 'vantage' ORDER BY name")).map((r) => r.name);
const versions = async (ch: ClickHouse) =>
  (await rows<{ version: number }>(ch, 'SELECT version, count() AS n FROM vantage.schema_migrations GROUP BY version ORDER BY version')).map((r) => Number(r.version));
const dropAll = (ch: ClickHouse) => ch.client.command({ query: 'DROP DATABASE IF EXISTS vantage' });

/** Concurrent callers: separate server connections, or the one chDB engine of this process. */
async function callers(engines: Engines, engine: EngineName, n: number): Promise<ClickHouse[]> {
  if (engine === 'chdb') return Array.from({ length: n }, () => engines.get('chdb'));
  return Promise.all(Array.from({ length: n }, () => engines.openServerClient()));
}

const test = enginesSuite('migrations');

for (const engine of ENGINE_NAMES) {
  test(`${engine}: a fresh install creates every table; applying again changes nothing`, async ({ engines }) => {
    const ch = engines.get(engine);
    await dropAll(ch);
    const first = await migrate(ch.client, { now: () => Date.UTC(2024, 4, 1) });
    assert.equal(first, { applied: VERSIONS, current: LATEST });
    assert.ok(EXPECTED.includes('results') && EXPECTED.includes('results_1m_mv'));
    assert.equal(await tables(ch), EXPECTED);
    const second = await migrate(ch.client);
    assert.equal(second, { applied: [], current: LATEST });
    const [row] = await rows<{ name: string; applied_at: string }>(ch, 'SELECT name, applied_at FROM vantage.schema_migrations WHERE version = 1');
    assert.equal(row, { name: MIGRATIONS[0]!.name, applied_at: '2024-05-01 00:00:00' });
  });

  test(`${engine}: four migrators starting at once all succeed; the schema is whole`, async ({ engines }) => {
    const first = engines.get(engine);
    await dropAll(first);
    const results = await Promise.all((await callers(engines, engine, 4)).map((ch) => migrate(ch.client)));
    for (const r of results) assert.is(r.current, LATEST);
    assert.ok(results.some((r) => r.applied.includes(1)));
    assert.equal(await tables(first), EXPECTED);
    assert.equal(await versions(first), VERSIONS);
    assert.equal(await migrate(first.client), { applied: [], current: LATEST });
  });

  test(`${engine}: an upgrade adds a column once, also when two migrators race`, async ({ engines }) => {
    const first = engines.get(engine);
    await dropAll(first);
    await migrate(first.client);
    const migrations = [...MIGRATIONS, UPGRADE];
    const results = await Promise.all((await callers(engines, engine, 2)).map((ch) => migrate(ch.client, { migrations })));
    for (const r of results) assert.is(r.current, LATEST + 1);
    assert.equal(await versions(first), [...VERSIONS, LATEST + 1]);
    const columns = await rows(first, "SELECT name FROM system.columns WHERE database = 'vantage' AND table = 'results' AND name = 'added_in_test'");
    assert.is(columns.length, 1);
    assert.equal(await migrate(first.client, { migrations }), { applied: [], current: LATEST + 1 });
  });

  test(`${engine}: collector/README.md documents every column of every table`, async ({ engines }) => {
    const ch = engines.get(engine);
    await dropAll(ch);
    await migrate(ch.client);
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const columns = await rows<{ table: string; name: string; type: string }>(
      ch,
      "SELECT table, name, type FROM system.columns WHERE database = 'vantage' AND table NOT LIKE '%_mv' ORDER BY table, name",
    );
    assert.ok(columns.length > 50);
    for (const { table, name } of columns) {
      const section = new RegExp(`### \`vantage\\.${table}\`[^]*?(?=\\n### |$)`).exec(readme)?.[0];
      assert.ok(section, `README has no section for vantage.${table}`);
      assert.ok(section!.includes(`\`${name}\``), `README does not document vantage.${table}.${name}`);
    }
  });
}

test.run();
