import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { openDatabase, type Database, type Db } from '../src/db/client.js';
import { startProxy } from './proxy.js';

/** A database handle whose statements (and, on PostgreSQL, network round trips) can be counted. */
export interface Counted {
  readonly db: Db;
  /** Runs `body` and returns what it sent. `roundTrips` is null where there is no network (PGlite). */
  count<T>(body: () => Promise<T>): Promise<{ result: T; statements: string[]; roundTrips: number | null }>;
}

export interface BenchEngine {
  readonly name: 'PGlite' | 'PostgreSQL';
  readonly description: string;
  /** For latency and throughput: the app's own settings (PostgreSQL: a pool of 10, no proxy). */
  readonly db: Db;
  /** For counting: one connection, through the round-trip proxy on PostgreSQL. */
  readonly counted: Counted;
  /** Transactions rolled back on `db` so far (retries after a conflict). */
  rollbacks(): number;
  /** Seconds it took to create and migrate the database. */
  readonly setupSeconds: number;
  close(): Promise<void>;
}

type Runner = (query: string, ...rest: unknown[]) => Promise<unknown>;
interface PgliteLike {
  query: Runner;
  exec: Runner;
  transaction: (body: (tx: PgliteLike) => Promise<unknown>) => Promise<unknown>;
}

/**
 * Calls `onStatement` with every statement drizzle sends to an open PGlite database, and BEGIN, COMMIT or
 * ROLLBACK around its transactions. PGlite has no statement hook: its query methods are wrapped (drizzle
 * calls them through the instance).
 */
export function watchPgliteStatements(database: Database, onStatement: (query: string) => void): void {
  const wrap = (target: PgliteLike) => {
    const query = target.query.bind(target);
    const exec = target.exec.bind(target);
    target.query = (q, ...rest) => (onStatement(q), query(q, ...rest));
    target.exec = (q, ...rest) => (onStatement(q), exec(q, ...rest));
  };
  const client = (database.db as unknown as { $client: PgliteLike }).$client;
  wrap(client);
  const transaction = client.transaction.bind(client);
  client.transaction = (body) =>
    transaction(async (tx) => {
      onStatement('BEGIN');
      wrap(tx);
      try {
        const result = await body(tx);
        onStatement('COMMIT');
        return result;
      } catch (error) {
        onStatement('ROLLBACK');
        throw error;
      }
    });
}

/** PGlite in a fresh temporary data directory (on disk, as the app runs it), removed afterwards. */
export async function openPgliteBench(): Promise<BenchEngine> {
  const started = performance.now();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'orb-bench-'));
  const database = await openDatabase({ dataDir: dir });
  const failed = countingFailedTransactions(database.db);
  const setupSeconds = (performance.now() - started) / 1000;
  let recording: string[] | null = null;
  watchPgliteStatements(database, (query) => recording?.push(query));
  return {
    name: 'PGlite',
    description: `${database.description} (fresh data directory)`,
    db: failed.db,
    counted: {
      db: database.db,
      count: async (body) => {
        recording = [];
        try {
          const result = await body();
          return { result, statements: recording, roundTrips: null };
        } finally {
          recording = null;
        }
      },
    },
    rollbacks: failed.count,
    setupSeconds,
    close: async () => {
      await database.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The database with its failed transactions counted: each is a rollback (a command that found its flow
 * changed, say, and runs again). A write that carries its COMMIT is rolled back by the server, which answers
 * the COMMIT with ROLLBACK: no statement text would show it.
 */
function countingFailedTransactions(db: Db): { db: Db; count: () => number } {
  let failed = 0;
  const transaction: Db['transaction'] = (body, config) =>
    db.transaction(body, config).catch((error: unknown) => {
      failed++;
      throw error;
    });
  return { db: Object.assign(Object.create(db) as Db, { transaction }), count: () => failed };
}

/** A fresh database on the PostgreSQL server at `url`, dropped afterwards. */
export async function openPostgresBench(url: string): Promise<BenchEngine> {
  const started = performance.now();
  const name = `orb_bench_${randomBytes(5).toString('hex')}`;
  const admin = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  await admin.unsafe(`create database "${name}"`);
  const databases: Database[] = [];
  const proxies: { close(): Promise<void> }[] = [];
  const close = async () => {
    for (const d of databases) await d.close();
    for (const p of proxies) await p.close();
    await admin.unsafe(`drop database if exists "${name}" with (force)`);
    await admin.end({ timeout: 5 });
  };
  try {
    const target = new URL(url);
    target.pathname = `/${name}`;
    // No `debug` hook here: postgres.js captures a stack trace for every query while one is set.
    const main = await openDatabase({ databaseUrl: target.toString() });
    databases.push(main);
    const failed = countingFailedTransactions(main.db);
    const setupSeconds = (performance.now() - started) / 1000;

    const proxy = await startProxy({ host: target.hostname, port: Number(target.port || 5432) });
    proxies.push(proxy);
    const viaProxy = new URL(target);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    let recording: string[] | null = null;
    const counted = await openDatabase({
      databaseUrl: viaProxy.toString(),
      poolSize: 1,
      migrate: false,
      debug: (_c, query) => recording?.push(query),
    });
    databases.push(counted);
    return {
      name: 'PostgreSQL',
      description: `${main.description.replace(/^PostgreSQL /, 'PostgreSQL at ')} (fresh database, pool of 10)`,
      db: failed.db,
      counted: {
        db: counted.db,
        count: async (body) => {
          recording = [];
          const before = proxy.roundTrips();
          try {
            const result = await body();
            return { result, statements: recording, roundTrips: proxy.roundTrips() - before };
          } finally {
            recording = null;
          }
        },
      },
      rollbacks: failed.count,
      setupSeconds,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
