import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withPreparedStatements } from '../../src/db/pglite-prepared.js';

/**
 * PGlite's statements through named prepared statements (`withPreparedStatements`): the same results as
 * PGlite's own `query`, in and out of transactions, after the session's statements are discarded, and
 * errors with the server's code and no parameters.
 */
describe('PGlite with prepared statements', () => {
  // One database for the file (a new one runs initdb, seconds); each test has a table of its own.
  let pg: PGlite;
  let named = 0;
  let tables = 0;
  beforeAll(async () => {
    pg = await PGlite.create();
    // Counts Parse messages ('P', 0x50) that name a statement: one per statement prepared.
    const execProtocol = pg.execProtocol.bind(pg);
    pg.execProtocol = (message, options) => {
      if (message[0] === 0x50 && message[5] !== 0) named++;
      return execProtocol(message, options);
    };
  });
  afterAll(() => pg.close());

  async function open(): Promise<{ raw: PGlite; prepared: PGlite; parses: () => number; t: string }> {
    const t = `t${++tables}`;
    await pg.exec(`create table ${t} (id int primary key, body jsonb, at timestamptz default now())`);
    const from = named;
    return { raw: pg, prepared: withPreparedStatements(pg), parses: () => named - from, t };
  }

  it('gives what PGlite’s own query gives, and parses a statement once however often it runs', async () => {
    const { raw, prepared, parses, t } = await open();
    const insert = `insert into ${t} (id, body) values ($1, $2::jsonb) returning id, body`;
    for (let id = 1; id <= 3; id++) {
      const result = await prepared.query<{ id: number; body: unknown }>(insert, [id, JSON.stringify({ n: id })]);
      expect(result.rows).toEqual([{ id, body: { n: id } }]);
    }
    expect(parses()).toBe(1);
    const select = `select id, body, at from ${t} where id >= $1 order by id`;
    const options = { rowMode: 'array' as const, parsers: { 1184: (value: string) => value } };
    const mine = await prepared.query(select, [2], options);
    const theirs = await raw.query(select, [2], options);
    expect(mine.rows).toEqual(theirs.rows);
    expect(mine.fields).toEqual(theirs.fields);
    // The query's own parser for timestamptz (a string as stored), PGlite's for the rest (a number, an object).
    expect(mine.rows[0]).toEqual([2, { n: 2 }, expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/)]);
    expect(parses()).toBe(2);
  });

  it('prepares again after DISCARD ALL, and runs in a transaction that rolls back', async () => {
    const { prepared, t } = await open();
    const insert = `insert into ${t} (id) values ($1)`;
    await prepared.query(insert, [1]);
    await prepared.exec('discard all');
    await prepared.query(insert, [2]);
    await expect(
      prepared.transaction(async (tx) => {
        await tx.query(insert, [3]);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    await prepared.transaction(async (tx) => {
      await tx.query(insert, [4]);
    });
    expect((await prepared.query<{ id: number }>(`select id from ${t} where id > $1 order by id`, [0])).rows.map((r) => r.id)).toEqual([
      1, 2, 4,
    ]);
  });

  it('reports a failed statement with the server’s code, never its parameters, and goes on; one that does not parse too', async () => {
    const { prepared, t } = await open();
    const insert = `insert into ${t} (id, body) values ($1, $2::jsonb)`;
    await prepared.query(insert, [1, '{"name":"Anna Petrova"}']);
    const error = await prepared.query(insert, [1, '{"name":"Anna Petrova"}']).catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe('23505');
    expect(JSON.stringify(error)).not.toContain('Anna');
    // One that does not parse fails as it would unprepared.
    const broken = await prepared.query(`selec id from ${t} where id = $1`, [1]).catch((e: unknown) => e);
    expect((broken as { code?: string }).code).toBe('42601');
    expect((await prepared.query<{ n: number }>(`select count(*)::int as n from ${t} where id = $1`, [1])).rows).toEqual([{ n: 1 }]);
  });

  it('gives the event loop a turn before each statement: I/O waits for no queue of statements', async () => {
    const { prepared, t } = await open();
    const insert = `insert into ${t} (id) values ($1)`;
    await prepared.query(insert, [0]); // prepared: what follows runs without a first parse
    // PGlite runs a statement synchronously, and the next one queued starts from a promise: without a turn
    // in between, a queue of statements (a burst of commands) holds off every socket and timer until it drains.
    let done = 0;
    const queue = Array.from({ length: 30 }, (_, i) => prepared.query(insert, [i + 1]).then(() => done++));
    const inTransaction = prepared.transaction(async (tx) => {
      for (let i = 0; i < 30; i++) await tx.query(insert, [100 + i]).then(() => done++);
    });
    // What the event loop saw at each of its turns until every statement had run.
    const seen: number[] = [];
    await new Promise<void>((resolve) => {
      const look = () => {
        seen.push(done);
        if (done < 60) setImmediate(look);
        else resolve();
      };
      setImmediate(look);
    });
    await Promise.all([...queue, inTransaction]);
    const mostBetweenTurns = Math.max(...seen.map((n, i) => n - (seen[i - 1] ?? 0)));
    expect(mostBetweenTurns).toBeLessThanOrEqual(2);
    const rows = await prepared.query<{ n: number }>(`select count(*)::int as n from ${t} where id >= $1`, [0]);
    expect(rows.rows).toEqual([{ n: 61 }]);
  });
});
