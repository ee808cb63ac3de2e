import { spawn } from 'node:child_process';
import { access, mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { ExtractTablesWithRelations } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { projectPath } from '../paths.js';
import { withPreparedStatements } from './pglite-prepared.js';
import * as schema from './schema.js';

export type Schema = typeof schema;
/** The one Drizzle type the app uses, whatever the engine. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
/** Either the database or a transaction: what a query helper accepts. */
export type Queryable = Db | Tx;

export interface Database {
  readonly db: Db;
  readonly engine: 'pglite' | 'postgres';
  /** A human description for logs (never the password). */
  readonly description: string;
  /**
   * Whether this process leads the work called `name` (such as delivering the outbox), so that several
   * instances on one PostgreSQL database do it once. PostgreSQL: a session advisory lock held on a
   * connection of its own until close (a crashed leader's lock goes with its connection; asked again on
   * every call, so a lost connection is noticed). PGlite: one process per database, always true.
   */
  leads(name: string): Promise<boolean>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** postgres:// URL; without it the embedded PGlite database is used. */
  readonly databaseUrl?: string | undefined;
  /** PGlite data directory; `memory://` keeps it in memory. */
  readonly dataDir?: string;
  /** A PGlite data directory dump to start from (tests: skips initdb). */
  readonly pgliteTemplate?: Blob;
  /**
   * PGlite only: PostgreSQL settings that replace {@link PGLITE_SETTINGS} (the benchmark compares them;
   * the app always runs with the defaults).
   */
  readonly pgliteSettings?: Readonly<Record<string, string>>;
  /** Connection pool size for PostgreSQL. */
  readonly poolSize?: number;
  /** Apply pending migrations (default true). */
  readonly migrate?: boolean;
  /**
   * PostgreSQL only: called with every statement the app's pool sends (postgres.js `debug`), e.g. to
   * count round trips. Not called for migrations.
   */
  readonly debug?: (connection: number, query: string, params: unknown[]) => void;
}

export const MIGRATIONS_FOLDER = projectPath('drizzle');
/** Serialises migrations of several instances starting at once (drizzle's migrate() takes no lock). */
const MIGRATION_LOCK_KEY = 727_001;
/** The first key of the two-key advisory locks that elect a leader per kind of work. */
const LEADER_LOCK_SPACE = 727_002;

export class DatabaseError extends Error {
  override name = 'DatabaseError';
}

/** Opens PGlite or PostgreSQL behind the same Drizzle API and applies pending migrations. */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  return options.databaseUrl ? openPostgres(options.databaseUrl, options) : openPglite(options);
}

async function openPostgres(url: string, options: DatabaseOptions): Promise<Database> {
  const description = describeUrl(url);
  if (options.migrate !== false) {
    const migrator = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
    try {
      await migrator`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
      await migratePostgres(drizzlePostgres(migrator), { migrationsFolder: MIGRATIONS_FOLDER });
      await migrator`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
    } catch (error) {
      throw new DatabaseError(`cannot prepare the database at ${description}: ${messageOf(error)}`);
    } finally {
      await migrator.end({ timeout: 5 });
    }
  }
  const client = postgres(url, {
    max: options.poolSize ?? 10,
    onnotice: () => {},
    connect_timeout: 10,
    ...(options.debug ? { debug: options.debug } : {}),
    ...withoutDelay(),
  });
  const db = drizzlePostgres(preparing(client), { schema, casing: 'snake_case' });
  let leader: postgres.Sql | undefined;
  return {
    db,
    engine: 'postgres',
    description,
    async leads(name) {
      leader ??= postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10, idle_timeout: 0 });
      // Re-entrant for the session that holds it; false while another instance's session does.
      const [row] = await leader<{ held: boolean }[]>`select pg_try_advisory_lock(${LEADER_LOCK_SPACE}, hashtext(${name})) as held`;
      return row?.held === true;
    },
    close: async () => {
      await leader?.end({ timeout: 5 });
      await client.end({ timeout: 5 });
    },
  };
}

/**
 * postgres.js's `socket` option (not in its types): its connections open with Nagle's algorithm off, and what
 * they write in one turn of the microtask queue goes out in one system call. With Nagle's algorithm on
 * (postgres.js leaves Node's default), a message written while the one before it waits for its answer is held
 * back until that answer comes: a COMMIT sent behind its transaction's last statement would take a round trip
 * of its own. Each connection goes to the next of the URL's hosts, as postgres.js does; a Unix socket has no delay.
 */
function withoutDelay(): object {
  let next = 0;
  const socket = (o: { host: string[]; port: number[]; path: string | false }): net.Socket => {
    if (o.path) return coalescing(net.connect(o.path));
    const i = next++ % o.host.length;
    return coalescing(net.connect({ host: o.host[i], port: o.port[i] ?? o.port[0] ?? 5432, noDelay: true }));
  };
  return { socket };
}

/**
 * Writes to `socket` made in one turn of the microtask queue, such as a statement and the COMMIT sent right
 * behind it, are held (`cork`) and go out together once it is over: one system call instead of one each.
 */
function coalescing(socket: net.Socket): net.Socket {
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  let corked = false;
  const uncork = () => {
    corked = false;
    socket.uncork();
  };
  socket.write = (...args: unknown[]) => {
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(uncork);
    }
    return write(...args);
  };
  return socket;
}

/**
 * postgres.js sends a statement with parameters that it has not prepared in two round trips (Parse and
 * Describe, then Bind and Execute), and drizzle runs raw `execute()` statements unprepared. Preparing
 * every statement makes a repeated one a single round trip on each connection: the flow service's hot
 * path goes from six round trips to four. The statements are the app's own fixed SQL texts, so the
 * per-connection cache stays small.
 *
 * A transaction (`begin`, which drizzle's `transaction()` calls) runs on a reserved connection whose BEGIN is
 * not awaited: it goes out with the transaction's first statement, in one write and one round trip, where
 * postgres.js would wait for BEGIN's answer first. Should BEGIN fail, the connection is gone, and so is the
 * statement behind it. COMMIT (or ROLLBACK, when the body throws) ends it, and the connection goes back to
 * the pool; a statement the body marked as its last ({@link commitWithNext}) takes COMMIT with it instead.
 * Nested transactions (savepoints) are not offered: the app has none.
 */
function preparing<T extends postgres.Sql | postgres.ReservedSql>(client: T, ending?: Ending): T {
  const proxy = new Proxy(client, {
    get(target, property, receiver) {
      if (property === 'unsafe') {
        return (query: string, params?: postgres.ParameterOrJSON<never>[], options?: postgres.UnsafeQueryOptions) => {
          if (ending?.commit) throw new DatabaseError('a statement after the one that committed its transaction');
          const statement = target.unsafe(query, params, { ...options, prepare: true });
          if (ending?.armed) {
            // Sent now, and COMMIT right behind it: one round trip. Should the statement fail, the transaction
            // is aborted and PostgreSQL answers COMMIT with ROLLBACK.
            void statement.execute();
            const commit: Promise<{ readonly command: string }> = target.unsafe(COMMIT_AT_ONCE).execute();
            commit.catch(() => {});
            ending.commit = commit;
          }
          return statement;
        };
      }
      if (property === 'begin') {
        return async (...args: unknown[]) => {
          const body = args.at(-1) as (sql: postgres.ReservedSql) => unknown;
          const reserved = await (target as postgres.Sql).reserve();
          try {
            // Its failure is the connection's, which the first statement reports.
            reserved.unsafe(BEGIN).catch(() => {});
            const ended: Ending = { armed: false, commit: null };
            let value: unknown;
            try {
              value = await body(preparing(reserved, ended));
            } catch (error) {
              // A COMMIT sent with a statement that failed rolled the transaction back.
              if (ended.commit) await ended.commit.catch(() => {});
              else await reserved.unsafe('rollback').catch(() => {});
              throw error;
            }
            const done = await (ended.commit ?? reserved.unsafe('commit'));
            if (done.command !== 'COMMIT') throw new DatabaseError(`the transaction ended with ${done.command}, not COMMIT`);
            return value;
          } finally {
            reserved.release();
          }
        };
      }
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  if (ending) endings.set(proxy, ending);
  return proxy;
}

/**
 * BEGIN, and for the transaction one generic plan per prepared statement: the commands' statements look rows up
 * by key, and PostgreSQL would plan some of them again on every run (a key array's length changes its
 * estimate), at a cost like running them. Set with the transaction (one message, no round trip of its own)
 * rather than as a connection parameter, which a connection pooler in front of PostgreSQL may refuse.
 */
const BEGIN = 'begin; set local plan_cache_mode = force_generic_plan';

/**
 * COMMIT padded to the size at which postgres.js writes to its socket at once (1,024 bytes) instead of at the
 * next `setImmediate`: it goes out right behind the statement it ends, before that statement's answer can be
 * read, where a short COMMIT would often wait for the next turn of the event loop, a round trip later.
 */
const COMMIT_AT_ONCE = `commit${' '.repeat(1_024)}`;

/** How a transaction on a reserved connection ends: `armed` by {@link commitWithNext}, `commit` once sent. */
interface Ending {
  armed: boolean;
  commit: Promise<{ readonly command: string }> | null;
}

/** The transactions' connections (as drizzle's transactions hold them: `tx.session.client`), with how each ends. */
const endings = new WeakMap<object, Ending>();

/**
 * The transaction's next statement is its last: on PostgreSQL its COMMIT goes out right behind it, in the
 * same round trip, and the transaction is committed when the statement succeeds (and rolled back when it
 * fails). Nothing after it may fail or send another statement: a check that should undo the transaction
 * belongs in the statement (see `expect_updated`). Without a round trip to save (PGlite), it does nothing.
 */
export function commitWithNext(tx: Tx): void {
  const connection = (tx as unknown as { session?: { client?: object } }).session?.client;
  const ending = connection && endings.get(connection);
  if (ending) ending.armed = true;
}

/**
 * The embedded PostgreSQL's memory settings, passed on its command line at every start (nothing is written
 * to postgresql.conf, and a later release can change them). PGlite starts with a server's defaults, and
 * its whole shared buffer pool is resident in the process's WebAssembly memory from the start, where it
 * never shrinks: every MiB here is a MiB of RSS. Measured in docs/performance.md ("Memory").
 *
 * - `shared_buffers`: PostgreSQL's page cache, 128 MiB by default. The data files are on the local disk,
 *   whose pages the operating system caches as well, so a buffer miss is a read() from memory, not a disk
 *   seek. 16 MiB holds the hot path's tables and indexes.
 * - `maintenance_work_mem`: what VACUUM and CREATE INDEX may take at once, 64 MiB by default: migrations
 *   and the retention pass would otherwise leave that much in the WebAssembly memory for good.
 * - `temp_buffers` and `work_mem` keep their defaults: taken only while a temporary table or a sort needs
 *   them, and the app's queries sort a few rows.
 */
export const PGLITE_SETTINGS: Readonly<Record<string, string>> = {
  shared_buffers: '16MB',
  maintenance_work_mem: '16MB',
};

async function openPglite(options: DatabaseOptions): Promise<Database> {
  const dataDir = options.dataDir ?? 'memory://';
  const inMemory = dataDir.startsWith('memory://');
  let release = async () => {};
  if (!inMemory) {
    await mkdir(dataDir, { recursive: true });
    release = await lockDataDir(dataDir);
  }
  let client: PGlite;
  try {
    if (!inMemory && !options.pgliteTemplate && !(await exists(path.join(dataDir, 'PG_VERSION')))) {
      await createPgliteDir(dataDir);
    }
    const settings = options.pgliteSettings ?? PGLITE_SETTINGS;
    client = await PGlite.create(inMemory ? undefined : dataDir, {
      startParams: [...PGlite.defaultStartParams, ...Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`])],
      ...(options.pgliteTemplate ? { loadDataDir: options.pgliteTemplate } : {}),
    });
    if (options.migrate !== false) {
      await migratePglite(drizzlePglite(client), { migrationsFolder: MIGRATIONS_FOLDER });
    }
  } catch (error) {
    await release();
    throw new DatabaseError(`cannot open the embedded database in ${dataDir}: ${messageOf(error)}`);
  }
  const db = drizzlePglite(withPreparedStatements(client), { schema, casing: 'snake_case' });
  return {
    db,
    engine: 'pglite',
    description: inMemory ? 'PGlite (in memory)' : `PGlite in ${path.resolve(dataDir)}`,
    leads: async () => true,
    close: async () => {
      await client.close();
      await release();
    },
  };
}

/** The folder inside a new data directory where its cluster is made before it is moved in. */
const INITDB_DIR = '.initdb';

/**
 * Creates the PostgreSQL cluster of a new data directory in a child process that exits when it is done.
 * PGlite runs initdb inside the opening process, with a second PGlite instance and initdb's own
 * WebAssembly module, and their memory stays in the process after both have closed: about 420 MiB of
 * RSS for as long as the app runs. The cluster is made in a folder beside it and moved in with
 * PG_VERSION last, so a start interrupted here leaves no half-made database (the next start makes it again).
 */
async function createPgliteDir(dataDir: string): Promise<void> {
  const staging = path.join(dataDir, INITDB_DIR);
  await rm(staging, { recursive: true, force: true });
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const script = `require(process.argv[1]).PGlite.create(process.argv[2]).then((pg) => pg.close()).catch((error) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  });`;
  const stderr: Buffer[] = [];
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script, entry, staging], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) {
    const output = Buffer.concat(stderr).toString('utf8').trim().split('\n').slice(-5).join('\n');
    throw new Error(`initdb failed (exit code ${code}): ${output}`);
  }
  const names = (await readdir(staging)).filter((name) => name !== 'PG_VERSION');
  for (const name of [...names, 'PG_VERSION']) {
    // What an interrupted move left behind (without PG_VERSION, nothing else of the cluster counts).
    await rm(path.join(dataDir, name), { recursive: true, force: true });
    await rename(path.join(staging, name), path.join(dataDir, name));
  }
  await rm(staging, { recursive: true, force: true });
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

/**
 * Two processes on one PGlite data directory corrupt it: hold a lock file while open.
 * A lock left by a process that no longer runs is taken over.
 */
async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const lockFile = path.join(dataDir, 'orb.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(lockFile, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return () => rm(lockFile, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number((await readFile(lockFile, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isRunning(owner)) {
        throw new DatabaseError(
          `the embedded database in ${path.resolve(dataDir)} is in use by process ${owner}. ` +
            'Stop it first, or set DATABASE_URL to share a PostgreSQL database between several instances.',
        );
      }
      await rm(lockFile, { force: true });
    }
  }
  throw new DatabaseError(`cannot lock ${lockFile}`);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `PostgreSQL ${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return 'PostgreSQL';
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Rows of a raw `db.execute()` result: postgres.js returns an array, PGlite `{ rows }`. */
export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  const rows = (result as { rows?: unknown } | null)?.rows;
  return Array.isArray(rows) ? (rows as T[]) : [];
}
