/**
 * The escaping helper: unit cases, and a property test that round-trips a few hundred random
 * hostile strings through `SELECT <literal>` on a real clickhouse-server 18.16 and on chDB.
 * Seeded: set VANTAGE_SEED to replay a failure (the seed is printed in the failure message).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ENGINE_NAMES, enginesSuite, rows } from '../../../test/helpers/clickhouse-engines.ts';
import {
  isClusterName, sqlArray, sqlClusterName, sqlDateTime, sqlIdentifier, sqlNumber, sqlString, sqlTuple, sqlUuid, wellFormed,
} from './sql.ts';

const unit = suite('sql literals');

unit('strings: quotes and backslashes escaped, control bytes as \\xHH, the rest verbatim', () => {
  assert.is(sqlString("it's"), "'it\\'s'");
  assert.is(sqlString('a\\b'), "'a\\\\b'");
  assert.is(sqlString('\0\n\x1f\x7f'), "'\\x00\\x0a\\x1f\\x7f'");
  assert.is(sqlString('中文 😀 "`'), "'中文 😀 \"`'");
  assert.throws(() => sqlString(5 as unknown as string), /expected a string/);
});

unit('lone surrogates become U+FFFD; pairs stay', () => {
  assert.is(wellFormed('a\ud800b'), 'a\ufffdb');
  assert.is(wellFormed('\udc00'), '\ufffd');
  assert.is(wellFormed('x\ud83d'), 'x\ufffd');
  assert.is(wellFormed('😀'), '😀');
  assert.is(sqlString('\ud800'), "'\ufffd'");
});

unit('numbers, dates, uuids, arrays, tuples, identifiers, cluster names', () => {
  assert.is(sqlNumber(42), '42');
  assert.is(sqlNumber(-1.5), '(-1.5)');
  assert.is(sqlNumber(1e-7), '1e-7');
  for (const bad of [NaN, Infinity, -Infinity]) assert.throws(() => sqlNumber(bad), /finite/);
  assert.is(sqlDateTime(1_700_000_000_999), 'toDateTime(1700000000)');
  assert.throws(() => sqlDateTime(-1000), /range/);
  assert.throws(() => sqlDateTime(2 ** 32 * 1000), /range/);
  assert.is(sqlUuid('0190A4E2-0000-7000-8000-000000000001'), "'0190a4e2-0000-7000-8000-000000000001'");
  assert.throws(() => sqlUuid("x' OR 1=1 --"), /not a UUID/);
  assert.is(sqlArray([sqlString('a'), sqlNumber(1)]), "['a', 1]");
  assert.is(sqlTuple([sqlString('a'), sqlNumber(1)]), "('a', 1)");
  const allowed = new Set(['results']);
  assert.is(sqlIdentifier('results', allowed), 'results');
  assert.throws(() => sqlIdentifier('results; DROP', allowed), /not allowed/);
  assert.throws(() => sqlIdentifier('other', allowed), /not allowed/);
  assert.is(sqlClusterName('prod-cluster.1'), '`prod-cluster.1`');
  for (const bad of ['', 'a b', 'x`y', "';--", '-x', 'a'.repeat(129)]) {
    assert.not.ok(isClusterName(bad), bad);
    assert.throws(() => sqlClusterName(bad), /cluster name/);
  }
});

unit.run();

/** mulberry32: a small seeded PRNG, so a failing case can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = [
  "'", '"', '`', '\\', "\\'", "''", "\\\\'", '\\x41', '\\0', '\\N', '\\u0041', '%s', '?', '{x:String}', '$1',
  "'; DROP TABLE vantage.results; --", '*/', '/*', '--', ';', 'FORMAT JSON', 'é', '中文', 'ß', 'Ω', '\u200b', '\u202e',
  '\ufeff', '\uffff', '\ufffd', '😀', '𝕏', '\u{10ffff}', '\ud800', '\udfff', '\ud83d', '\ude00', '\r\n', '\t',
];

function randomString(next: () => number): string {
  const pick = (n: number) => Math.floor(next() * n);
  let out = '';
  for (let i = pick(24); i >= 0; i--) {
    const choice = pick(5);
    if (choice === 0) out += String.fromCharCode(pick(32)); // control bytes, NUL included
    else if (choice === 1) out += String.fromCharCode(0x20 + pick(0x60)); // printable ASCII and DEL
    else if (choice === 2) out += PIECES[pick(PIECES.length)];
    else if (choice === 3) out += String.fromCharCode(pick(0x10000)); // any UTF-16 unit, lone surrogates too
    else out += String.fromCodePoint(0x10000 + pick(0x100000)); // astral plane
  }
  return out;
}

const SEED = Number(process.env.VANTAGE_SEED ?? Date.now() % 2 ** 31);
const CASES = 300;
const roundTrip = enginesSuite('sql literals round-trip through real engines');

for (const engine of ENGINE_NAMES) {
  roundTrip(`${engine}: ${CASES} random hostile strings come back as written (lone surrogates as U+FFFD)`, async ({ engines }) => {
    const ch = engines.get(engine);
    const next = prng(SEED);
    for (let i = 0; i < CASES; i++) {
      const input = i === 0 ? PIECES.join('') + '\0' : randomString(next);
      const expected = wellFormed(input);
      const literal = sqlString(input);
      let got: { s: string; h: string; n: number };
      try {
        [got] = (await rows<{ s: string; h: string; n: number }>(ch, `SELECT ${literal} AS s, hex(s) AS h, length(s) AS n`)) as [typeof got];
      } catch (err) {
        throw new Error(`seed ${SEED} case ${i}: ${JSON.stringify(input)} failed: ${(err as Error).message.split('\n')[0]}`);
      }
      const bytes = Buffer.from(expected, 'utf8');
      assert.is(got.s, expected, `seed ${SEED} case ${i}: ${JSON.stringify(input)}`);
      assert.is(got.h, bytes.toString('hex').toUpperCase(), `seed ${SEED} case ${i}: bytes`);
      assert.is(Number(got.n), bytes.length, `seed ${SEED} case ${i}: length`);
    }
  });

  roundTrip(`${engine}: literals inside arrays and IN tuples compare equal to the values`, async ({ engines }) => {
    const ch = engines.get(engine);
    const values = ["a'b", 'c\\d', '\0', '😀', "'); SELECT 1; --"];
    const [got] = await rows<{ arr: string[]; hit: number }>(
      ch,
      `SELECT ${sqlArray(values.map(sqlString))} AS arr, ${sqlString(values[4]!)} IN ${sqlTuple(values.map(sqlString))} AS hit`,
    );
    assert.equal(got!.arr, values);
    assert.is(Number(got!.hit), 1);
  });
}

roundTrip.run();
