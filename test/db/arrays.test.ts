import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { bigints, texts } from '../../src/db/arrays.js';
import { rowsOf } from '../../src/db/client.js';
import { ENGINES, openTestDatabase, type TestDatabase } from '../helpers/db.js';

describe.each(ENGINES)('array parameters on %s', (engine) => {
  let test: TestDatabase | undefined;
  afterEach(async () => {
    await test?.close();
    test = undefined;
  });

  it('reach the database as one array each, element for element', async () => {
    test = await openTestDatabase(engine);
    const { db } = test.current();
    const strings = ['client:1', 'a "quoted", {braced} word', 'back\\slash', '', 'NULL', 'Анна'];
    const ids = [1, 42, 2 ** 53 - 1, -7];
    const result = await db.execute(sql`select ${texts(strings)} as strings, ${bigints(ids)}::text[] as ids, ${bigints([])} as none`);
    expect(rowsOf(result)).toEqual([{ strings, ids: ids.map(String), none: [] }]);
  });

  it('refuses an id that is not an integer before anything is sent', () => {
    expect(() => bigints([1, 1.5])).toThrow(/not an integer id: 1.5/);
    expect(() => bigints([Number.NaN])).toThrow(TypeError);
  });
});
