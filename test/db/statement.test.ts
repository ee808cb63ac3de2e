import { sql } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { afterEach, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/client.js';
import { commaSeparated, q, statement, type Piece } from '../../src/db/statement.js';
import { ENGINES, openTestDatabase, type TestDatabase } from '../helpers/db.js';

const dialect = new PgDialect();
const built = (piece: Piece) => dialect.sqlToQuery(statement(piece));

/** The same statement through drizzle's own `sql`, to compare with. */
function viaDrizzle(withNote: boolean, id: number, note: string) {
  const parts = [sql`a as (select ${id}::int as id)`];
  if (withNote) parts.push(sql`b as (select ${note}::text as note)`);
  const { sql: text, params } = dialect.sqlToQuery(sql`with ${sql.join(parts, sql`, `)} select ${'x'}::text as x`);
  return { sql: text, params };
}

function viaPieces(withNote: boolean, id: number, note: string) {
  const parts = [q`a as (select ${id}::int as id)`];
  if (withNote) parts.push(q`b as (select ${note}::text as note)`);
  return built(q`with ${commaSeparated(parts)} select ${'x'}::text as x`);
}

describe('statements made once per shape', () => {
  it('give the text and parameters drizzle would, shape by shape, with the parameters of each call', () => {
    for (const withNote of [true, false, true]) {
      for (const [id, note] of [
        [1, 'first'],
        [2, 'second'],
      ] as const) {
        expect(viaPieces(withNote, id, note)).toEqual(viaDrizzle(withNote, id, note));
      }
    }
    expect(viaPieces(true, 7, 'n').sql).toBe('with a as (select $1::int as id), b as (select $2::text as note) select $3::text as x');
    expect(viaPieces(false, 7, 'n')).toEqual({ sql: 'with a as (select $1::int as id) select $2::text as x', params: [7, 'x'] });
  });

  it('tell a piece from a parameter wherever it sits: an optional piece changes the shape, a value does not', () => {
    const pick = (inner: Piece | null) => built(q`select ${inner ?? 'none'} as v`);
    expect(pick(q`${5}::int`)).toEqual({ sql: 'select $1::int as v', params: [5] });
    expect(pick(null)).toEqual({ sql: 'select $1 as v', params: ['none'] });
    expect(pick(q`${6}::int`)).toEqual({ sql: 'select $1::int as v', params: [6] });
  });
});

describe.each(ENGINES)('a statement made once per shape, run on %s', (engine) => {
  let test: TestDatabase | undefined;
  afterEach(async () => {
    await test?.close();
    test = undefined;
  });

  it('runs through drizzle like any other, its parameters typed by the statement', async () => {
    test = await openTestDatabase(engine);
    const { db } = test.current();
    const run = async (n: number, text: string) =>
      rowsOf(await db.execute(statement(q`select ${n}::int as n, ${q`upper(${text}::text)`} as s, ${JSON.stringify({ n })}::jsonb as j`)));
    expect(await run(1, 'anna')).toEqual([{ n: 1, s: 'ANNA', j: { n: 1 } }]);
    expect(await run(2, 'boris')).toEqual([{ n: 2, s: 'BORIS', j: { n: 2 } }]);
  });
});
