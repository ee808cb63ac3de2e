import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import postgres from 'postgres';
import { inject } from 'vitest';
import { watchPgliteStatements } from '../../bench/engines.js';
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
  /** Closes it and throws the data away. Harmless when called again (an afterEach after a failed setup). */
  close(): Promise<void>;
}

export interface TestDatabaseOptions {
  readonly poolSize?: number;
  /**
   * Told every statement the app sends: PostgreSQL the pool's, with the connection's number (as it is
   * sent, which may be later than asked for); PGlite its one connection's, with BEGIN and COMMIT, as asked for.
   */
  readonly onStatement?: (query: string, connection?: number) => void;
}

/** A fresh, migrated, isolated database of the given engine. */
export async function openTestDatabase(engine: Engine, options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  return engine === 'pglite' ? openPgliteTest(options.onStatement) : openPostgresTest(options.poolSize ?? 10, options.onStatement);
}

/**
 * A name for a new PostgreSQL database of this run (`orb_<run id>_<kind>_<random>`): the global setup's
 * teardown drops whatever is left under the run's prefix, and no other run ever uses the name.
 */
export function newDatabaseName(kind = 't'): string {
  const config = inject('postgresTemplate');
  if (!config) throw new Error('PostgreSQL tests need TEST_DATABASE_URL');
  return `${config.prefix}${kind}_${randomBytes(4).toString('hex')}`;
}

/**
 * The open connection of a test database, restarted and closed in turn: close() runs once however often it
 * is called, and after a restart that failed half-way (closed, not reopened) there is nothing left to close.
 */
function connection(open: (previous: Database | undefined) => Promise<Database>, discard: () => Promise<void>) {
  let database: Database | undefined;
  let closing: Promise<void> | undefined;
  const closeCurrent = async () => {
    const current = database;
    database = undefined;
    await current?.close();
  };
  return {
    async start() {
      database = await open(undefined);
    },
    current(): Database {
      if (!database) throw new Error(closing ? 'the test database is closed' : 'the test database did not reopen after a restart');
      return database;
    },
    async restart(): Promise<Database> {
      if (closing) throw new Error('the test database is closed');
      const previous = this.current();
      const next = await open(previous);
      database = next;
      return next;
    },
    closeCurrent,
    close(): Promise<void> {
      closing ??= (async () => {
        try {
          await closeCurrent();
        } finally {
          await discard();
        }
      })();
      return closing;
    },
  };
}

async function openPgliteTest(onStatement?: (query: string, connection?: number) => void): Promise<TestDatabase> {
  pgliteTemplate ??= readFile(PGLITE_TEMPLATE_FILE).then((bytes) => new Blob([bytes]));
  const template = await pgliteTemplate;
  const watched = (database: Database): Database => {
    if (onStatement) watchPgliteStatements(database, (query) => onStatement(query));
    return database;
  };
  const handle = connection(
    async (previous) => {
      if (!previous) return watched(await openDatabase({ pgliteTemplate: template }));
      const client = (previous.db as unknown as { $client: { dumpDataDir(c: 'none'): Promise<Blob> } }).$client;
      const data = await client.dumpDataDir('none');
      await handle.closeCurrent();
      return watched(await openDatabase({ pgliteTemplate: data }));
    },
    async () => {},
  );
  await handle.start();
  return {
    engine: 'pglite',
    current: () => handle.current(),
    restart: () => handle.restart(),
    close: () => handle.close(),
  };
}

async function openPostgresTest(poolSize: number, onStatement?: (query: string, connection?: number) => void): Promise<TestDatabase> {
  const config = inject('postgresTemplate');
  if (!config) throw new Error('PostgreSQL tests need TEST_DATABASE_URL');
  const name = newDatabaseName('t');
  const admin = postgres(config.url, { max: 1, onnotice: () => {} });
  const url = new URL(config.url);
  url.pathname = `/${name}`;
  const handle = connection(
    async (previous) => {
      if (previous) await handle.closeCurrent();
      return openDatabase({
        databaseUrl: url.toString(),
        poolSize,
        ...(onStatement ? { debug: (connection: number, query: string) => onStatement(query, connection) } : {}),
      });
    },
    async () => {
      try {
        await admin.unsafe(`drop database if exists "${name}" with (force)`);
      } finally {
        await admin.end({ timeout: 5 });
      }
    },
  );
  try {
    await createFromTemplate(admin, name, config.template);
    await handle.start();
  } catch (error) {
    // Nobody gets a handle to close: drop it here (the run's teardown would, at the end of the run).
    await handle.close().catch(() => {});
    throw error;
  }
  return {
    engine: 'postgres',
    url: url.toString(),
    current: () => handle.current(),
    restart: () => handle.restart(),
    close: () => handle.close(),
  };
}

/** Retries for as long as another CREATE DATABASE (or a session still going away) holds the template. */
async function createFromTemplate(admin: postgres.Sql, name: string, template: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (let attempt = 1; ; attempt++) {
    try {
      await admin.unsafe(`create database "${name}" template "${template}"`);
      return;
    } catch (error) {
      // "source database … is being accessed by other users": PostgreSQL itself waited 5 s for them.
      if (Date.now() > deadline || !String((error as Error).message).includes('being accessed')) throw error;
      // A backoff between attempts, not a wait for something: the next attempt checks again.
      await new Promise((r) => setTimeout(r, Math.min(50 * attempt, 500) * (0.5 + Math.random())));
    }
  }
}
