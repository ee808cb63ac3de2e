import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import postgres from 'postgres';
import { inject } from 'vitest';
import { watchPgliteStatements } from '../../bench/engines.js';
import { openDatabase, type Database } from '../../src/db/client.js';
import * as schema from '../../src/db/schema.js';
import { KEPT_DATABASE_KIND, PGLITE_TEMPLATE_FILE } from './db-config.js';

export type Engine = 'pglite' | 'postgres';

/** The engines this run tests: PGlite always, PostgreSQL when TEST_DATABASE_URL is set. */
export const ENGINES: readonly Engine[] = inject('postgresTemplate') ? ['pglite', 'postgres'] : ['pglite'];

const run = promisify(execFile);
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

/**
 * A fresh, migrated, isolated database of the given engine.
 *
 * Opening one is the dearest part of many tests (a PGlite instance from the template dump, a PostgreSQL
 * database created from the template), so a test worker keeps what its tests closed and hands it to its
 * next test emptied: every table of the app truncated, identities restarted, the session reset — the state
 * of the template, which has no rows. What a closed test still holds cannot reach the next one: a PGlite
 * handle refuses every call once closed, and a PostgreSQL database gets a new name for each test
 * (connections to the old name fail, as they did when it was dropped). The PGlite instance goes with the
 * worker's process; the run's teardown drops the PostgreSQL database kept last.
 */
export async function openTestDatabase(engine: Engine, options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  return engine === 'pglite' ? openPgliteTest(options.onStatement) : openPostgresTest(options.poolSize ?? 10, options.onStatement);
}

export interface TestDatabaseOptions {
  readonly poolSize?: number;
  /**
   * Told every statement the app sends: PostgreSQL the pool's, with the connection's number (as it is
   * sent, which may be later than asked for); PGlite its one connection's, with BEGIN and COMMIT, as asked for.
   * A watched PGlite instance is the test's own (never handed to the next test).
   */
  readonly onStatement?: (query: string, connection?: number) => void;
}

/** The run's migrated PGlite data directory, dumped (read once per worker). */
export function pgliteTemplateDump(): Promise<Blob> {
  pgliteTemplate ??= readFile(PGLITE_TEMPLATE_FILE).then((bytes) => new Blob([bytes]));
  return pgliteTemplate;
}

/**
 * Fills a new DATA_DIR with the migrated template database: a first open would spend seconds in initdb. The
 * dump is a tar of the data directory, which is what PGlite itself unpacks into one it opens with it (and
 * `tar` does it in a fraction of the time).
 */
export async function seedDataDir(dataDir: string): Promise<void> {
  await mkdir(dataDir, { recursive: true });
  await run('tar', ['-xf', PGLITE_TEMPLATE_FILE, '-C', dataDir]);
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

/** Truncates every table of the app (not the migrations' bookkeeping) and restarts their identities. */
const EMPTY_TABLES = `do $$ begin
  execute (select 'truncate table ' || string_agg(format('%I.%I', schemaname, tablename), ', ') || ' restart identity cascade'
           from pg_tables where schemaname = 'public');
end $$`;

/** A reset that takes longer than this means a transaction that never ended: the instance is abandoned. */
const RESET_TIMEOUT_MS = 30_000;

/** PGlite instances the worker's tests have closed, emptied, waiting for the next test. */
const idlePglite: Database[] = [];
/** PostgreSQL databases (names) the worker's tests have closed, emptied, with nobody connected. */
const idlePostgres: string[] = [];

function pgliteClient(database: Database): PGlite {
  return (database.db as unknown as { $client: PGlite }).$client;
}

/**
 * The test's own handle on a PGlite instance: a Drizzle database over a view of the client that refuses
 * every call once the test has closed it (a timer or a worker the test left running fails, as it did when
 * the instance itself was closed). Closing empties the instance and keeps it for the next test.
 */
function leasePglite(instance: Database): Database {
  let closed = false;
  const client = new Proxy(pgliteClient(instance), {
    get(target, property) {
      if (closed) throw new Error('the test database is closed');
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return {
    db: drizzlePglite(client, { schema, casing: 'snake_case' }),
    engine: 'pglite',
    description: instance.description,
    leads: (name) => instance.leads(name),
    async close() {
      if (closed) return;
      closed = true;
      await keepPglite(instance);
    },
  };
}

/** Empties the instance for the next test; one that cannot be emptied (a transaction left open) is let go. */
async function keepPglite(instance: Database): Promise<void> {
  const client = pgliteClient(instance);
  const emptied = await withTimeout(
    (async () => {
      await client.exec(EMPTY_TABLES);
      await client.exec('discard all');
    })(),
  ).then(
    () => true,
    () => false,
  );
  if (!emptied) return; // closing would wait for the same lock: the process's exit frees it
  if (idlePglite.length === 0) idlePglite.push(instance);
  else await instance.close();
}

async function openPgliteTest(onStatement?: (query: string, connection?: number) => void): Promise<TestDatabase> {
  const handle = connection(
    async (previous) => {
      if (onStatement) {
        const data = previous ? await pgliteClient(previous).dumpDataDir('none') : await pgliteTemplateDump();
        if (previous) await handle.closeCurrent();
        const database = await openDatabase({ pgliteTemplate: data });
        watchPgliteStatements(database, (query) => onStatement(query));
        return database;
      }
      if (!previous) {
        const idle = idlePglite.pop();
        if (idle) return leasePglite(idle);
        return leasePglite(await openDatabase({ pgliteTemplate: await pgliteTemplateDump() }));
      }
      const data = await pgliteClient(previous).dumpDataDir('none');
      await handle.closeCurrent();
      return leasePglite(await openDatabase({ pgliteTemplate: data }));
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
  const admin = adminConnection(config.url);
  const url = databaseUrl(config.url, name);
  let prepared = false;
  const handle = connection(
    async (previous) => {
      if (previous) await handle.closeCurrent();
      return openDatabase({
        databaseUrl: url,
        poolSize,
        ...(onStatement ? { debug: (connection: number, query: string) => onStatement(query, connection) } : {}),
      });
    },
    async () => {
      try {
        if (!prepared || !(await keepPostgres(admin, config.url, name))) {
          await admin.unsafe(`drop database if exists "${name}" with (force)`);
        }
      } finally {
        await admin.end({ timeout: 5 });
      }
    },
  );
  try {
    const idle = idlePostgres.pop();
    if (
      !idle ||
      !(await renameDatabase(admin, idle, name).then(
        () => true,
        () => dropQuietly(admin, idle),
      ))
    ) {
      await createFromTemplate(admin, name, config.template);
    }
    prepared = true;
    await handle.start();
  } catch (error) {
    // Nobody gets a handle to close: drop it here (the run's teardown would, at the end of the run).
    await handle.close().catch(() => {});
    throw error;
  }
  return {
    engine: 'postgres',
    url,
    current: () => handle.current(),
    restart: () => handle.restart(),
    close: () => handle.close(),
  };
}

function adminConnection(url: string): postgres.Sql {
  return postgres(url, { max: 1, onnotice: () => {} });
}

function databaseUrl(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * Keeps a closed test's database for the next test: whoever is still connected is cut off, it gets a name
 * of its own (so they cannot connect again), and its tables are emptied. False when that failed.
 */
async function keepPostgres(admin: postgres.Sql, serverUrl: string, name: string): Promise<boolean> {
  const idle = newDatabaseName(KEPT_DATABASE_KIND);
  try {
    await renameDatabase(admin, name, idle);
  } catch {
    return false;
  }
  const emptier = postgres(databaseUrl(serverUrl, idle), { max: 1, onnotice: () => {} });
  try {
    await withTimeout(emptier.unsafe(EMPTY_TABLES));
  } catch {
    await dropQuietly(admin, idle);
    return true; // nothing left under the test's name either
  } finally {
    await emptier.end({ timeout: 5 });
  }
  idlePostgres.push(idle);
  return true;
}

/** Renames a database, cutting off whoever is connected to it first (as DROP … WITH (FORCE) would). */
async function renameDatabase(admin: postgres.Sql, from: string, to: string): Promise<void> {
  await retryWhileAccessed(async () => {
    await admin`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${from} and pid <> pg_backend_pid()`;
    await admin.unsafe(`alter database "${from}" rename to "${to}"`);
  });
}

async function dropQuietly(admin: postgres.Sql, name: string): Promise<false> {
  await admin.unsafe(`drop database if exists "${name}" with (force)`).catch(() => {});
  return false;
}

function withTimeout<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${RESET_TIMEOUT_MS} ms`)), RESET_TIMEOUT_MS);
  });
  return Promise.race([work, limit]).finally(() => clearTimeout(timer));
}

/** Creates a test database from the run's template. */
async function createFromTemplate(admin: postgres.Sql, name: string, template: string): Promise<void> {
  await retryWhileAccessed(() => admin.unsafe(`create database "${name}" template "${template}"`));
}

/**
 * Runs `statement` again for as long as a database it needs is in use: another CREATE DATABASE holding the
 * template, or a session still going away.
 */
async function retryWhileAccessed(statement: () => Promise<unknown>): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (let attempt = 1; ; attempt++) {
    try {
      await statement();
      return;
    } catch (error) {
      // "… is being accessed by other users": PostgreSQL itself waited 5 s for them.
      if (Date.now() > deadline || !String((error as Error).message).includes('being accessed')) throw error;
      // A backoff between attempts, not a wait for something: the next attempt checks again.
      await new Promise((r) => setTimeout(r, Math.min(50 * attempt, 500) * (0.5 + Math.random())));
    }
  }
}
