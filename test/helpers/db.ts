import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import postgres from 'postgres';
import { inject } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.js';
import { PGLITE_TEMPLATE_FILE } from './db-config.js';

export type Engine = 'pglite' | 'postgres';

/** The engines this run tests: PGlite always, PostgreSQL when TEST_DATABASE_URL is set. */
export const ENGINES: readonly Engine[] = inject('postgresTemplate') ? ['pglite', 'postgres'] : ['pglite'];

let pgliteTemplate: Promise<Blob> | undefined;

export interface TestDatabase {
  readonly engine: Engine;
  /** PostgreSQL: the URL of this test's database (to open more connections to it). */
  readonly url?: string;
  /** The currently open connection. */
  current(): Database;
  /** Closes the connection and opens a new one on the same data, as a restarted process would. */
  restart(): Promise<Database>;
  /** Closes it and throws the data away. */
  close(): Promise<void>;
}

/** A fresh, migrated, isolated database of the given engine. */
export async function openTestDatabase(engine: Engine, options: { poolSize?: number } = {}): Promise<TestDatabase> {
  return engine === 'pglite' ? openPgliteTest() : openPostgresTest(options.poolSize ?? 10);
}

async function openPgliteTest(): Promise<TestDatabase> {
  pgliteTemplate ??= readFile(PGLITE_TEMPLATE_FILE).then((bytes) => new Blob([bytes]));
  let database = await openDatabase({ pgliteTemplate: await pgliteTemplate });
  return {
    engine: 'pglite',
    current: () => database,
    restart: async () => {
      const client = (database.db as unknown as { $client: { dumpDataDir(c: 'none'): Promise<Blob> } }).$client;
      const data = await client.dumpDataDir('none');
      await database.close();
      database = await openDatabase({ pgliteTemplate: data });
      return database;
    },
    close: () => database.close(),
  };
}

async function openPostgresTest(poolSize: number): Promise<TestDatabase> {
  const config = inject('postgresTemplate');
  if (!config) throw new Error('PostgreSQL tests need TEST_DATABASE_URL');
  const name = `orb_t_${randomBytes(6).toString('hex')}`;
  const admin = postgres(config.url, { max: 1, onnotice: () => {} });
  await createFromTemplate(admin, name, config.template);
  const url = new URL(config.url);
  url.pathname = `/${name}`;
  const open = () => openDatabase({ databaseUrl: url.toString(), poolSize });
  let database = await open();
  return {
    engine: 'postgres',
    url: url.toString(),
    current: () => database,
    restart: async () => {
      await database.close();
      database = await open();
      return database;
    },
    close: async () => {
      await database.close();
      await admin.unsafe(`drop database if exists "${name}" with (force)`);
      await admin.end({ timeout: 5 });
    },
  };
}

async function createFromTemplate(admin: postgres.Sql, name: string, template: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await admin.unsafe(`create database "${name}" template "${template}"`);
      return;
    } catch (error) {
      // Two CREATE DATABASE from one template at once: "source database … is being accessed by other users".
      if (attempt >= 20 || !String((error as Error).message).includes('being accessed')) throw error;
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
    }
  }
}
