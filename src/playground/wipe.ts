// "Reset playground": empties every table of the app's schema (migrations stay applied).
import { getTableName, is, sql } from 'drizzle-orm';
import { PgTable } from 'drizzle-orm/pg-core';
import type { Db } from '../db/client.js';
import * as schema from '../db/schema.js';

/** The names of every table in the app's schema. */
export function appTables(): string[] {
  const values: unknown[] = Object.values(schema);
  return values.flatMap((value) => (is(value, PgTable) ? [getTableName(value)] : []));
}

/** Deletes every row of every app table, in one statement, and restarts their id sequences. */
export async function wipeTables(db: Db): Promise<void> {
  const names = appTables().map((name) => `"${name.replaceAll('"', '""')}"`);
  await db.execute(sql.raw(`truncate table ${names.join(', ')} restart identity cascade`));
}
