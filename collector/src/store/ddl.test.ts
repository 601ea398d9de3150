/**
 * The DDL for a single node and for a cluster. A cluster (ZooKeeper, several nodes) cannot run
 * here, so the cluster DDL is checked as text, and both engines' parsers must accept every
 * statement: executing it fails only because the cluster does not exist, never with a syntax error.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ENGINE_NAMES, enginesSuite } from '../../../test/helpers/clickhouse-engines.ts';
import { clickHouseErrorCode } from './clickhouse-client.ts';
import { dropPartition } from './ddl.ts';
import { schemaDdl } from './schema.ts';
import { ROLLUPS } from './tables.ts';

const CLUSTER = 'vantage_cluster';
const cluster = schemaDdl({ cluster: CLUSTER });
const single = schemaDdl({});
const TABLES = ['schema_migrations', 'results', 'results_1m', 'results_1h', 'results_1d', 'rejected_records', 'probe_heartbeats'];

const text = suite('schema DDL text');

text('single node: plain engines, no ON CLUSTER, no _local tables', () => {
  for (const sql of single) {
    assert.not.match(sql, /ON CLUSTER|Replicated|Distributed|_local/);
    assert.match(sql, /^CREATE (DATABASE|TABLE|MATERIALIZED VIEW) IF NOT EXISTS vantage/);
  }
  assert.ok(single.some((s) => /vantage\.results\n[\s\S]*ENGINE = ReplacingMergeTree\nPARTITION BY toYYYYMMDD\(started_at\)\nORDER BY \(task_id, probe_id, started_at, id\)$/.test(s)));
  assert.ok(single.includes('CREATE DATABASE IF NOT EXISTS vantage'));
});

text('cluster: every statement is ON CLUSTER; each table is replicated _local plus Distributed', () => {
  for (const sql of cluster) assert.match(sql, new RegExp(`ON CLUSTER \`${CLUSTER}\``));
  assert.ok(cluster.includes(`CREATE DATABASE IF NOT EXISTS vantage ON CLUSTER \`${CLUSTER}\``));
  for (const table of TABLES) {
    const local = cluster.find((s) => s.startsWith(`CREATE TABLE IF NOT EXISTS vantage.${table}_local ON CLUSTER`));
    assert.ok(local, `${table}_local`);
    assert.match(local!, new RegExp(`ENGINE = Replicated(Replacing|Aggregating)?MergeTree\\('/clickhouse/tables/\\{shard\\}/vantage/${table}', '\\{replica\\}'\\)`));
    const dist = cluster.find((s) => s.startsWith(`CREATE TABLE IF NOT EXISTS vantage.${table} ON CLUSTER`));
    assert.ok(dist, table);
    assert.match(dist!, new RegExp(`AS vantage\\.${table}_local\\nENGINE = Distributed\\('${CLUSTER}', 'vantage', '${table}_local', `));
  }
  const results = cluster.find((s) => s.startsWith('CREATE TABLE IF NOT EXISTS vantage.results ON CLUSTER'))!;
  assert.match(results, /cityHash64\(task_id\)\)$/, 'a task (and its duplicates) lives on one shard');
  assert.not.ok(cluster.some((s) => /ENGINE = (Replacing|Aggregating)?MergeTree\b/.test(s)), 'no unreplicated storage');
});

text('cluster: views read and write the node-local tables', () => {
  const views = cluster.filter((s) => s.startsWith('CREATE MATERIALIZED VIEW'));
  assert.is(views.length, ROLLUPS.length);
  for (const [name, to] of ROLLUPS.map((r) => [r.view.name, r.table.name])) {
    const view = views.find((v) => v.includes(`vantage.${name} ON CLUSTER`));
    assert.ok(view, name);
    assert.match(view!, new RegExp(`TO vantage\\.${to}_local\\n`));
    assert.match(view!, /FROM vantage\.results_local\n/);
  }
});

text('retention drops partitions on every node', () => {
  assert.is(dropPartition('results', '20240501', { cluster: CLUSTER }), `ALTER TABLE vantage.results_local ON CLUSTER \`${CLUSTER}\` DROP PARTITION ID '20240501'`);
  assert.is(dropPartition('results', '20240501', {}), "ALTER TABLE vantage.results DROP PARTITION ID '20240501'");
});

text('a bad cluster name is refused before any DDL is made', () => {
  assert.throws(() => schemaDdl({ cluster: "x` ; DROP DATABASE vantage; --" }), /cluster name/);
});

text.run();

const parse = enginesSuite('cluster DDL parses on both engines');

for (const engine of ENGINE_NAMES) {
  parse(`${engine}: every cluster statement is accepted by the parser (fails only on the missing cluster)`, async ({ engines }) => {
    const ch = engines.get(engine);
    for (const sql of [...cluster, dropPartition('results', '20240501', { cluster: CLUSTER })]) {
      let error: unknown = null;
      try {
        await ch.client.command({ query: sql });
      } catch (err) {
        error = err;
      }
      assert.ok(error, `expected the missing cluster to stop: ${sql}`);
      const message = (error as Error).message;
      // Any ClickHouse error but a syntax error (62) means the statement parsed: 170 / 701 cluster
      // not found; chDB checks `AS <table>` first (81) and refuses ON CLUSTER ALTERs outright (392).
      const code = clickHouseErrorCode(error);
      assert.ok(code !== null && code !== 62 && !/syntax error/i.test(message), `${sql}\n${message}`);
    }
  });
}

parse.run();
