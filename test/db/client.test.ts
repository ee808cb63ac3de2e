import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eq, sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { openDatabase, rowsOf as rows, type Database } from '../../src/db/client.js';
import { flows as schemaFlows, people } from '../../src/db/schema.js';
import { ENGINES, openTestDatabase, pgliteTemplateDump, type TestDatabase } from '../helpers/db.js';

const TABLES = [
  'answers',
  'api_requests',
  'bot_sessions',
  'erasures',
  'flow_events',
  'flows',
  'inbox',
  'invites',
  'messages',
  'outbox',
  'people',
  'result_deliveries',
];

describe.each(ENGINES)('database on %s', (engine) => {
  let test: TestDatabase | undefined;
  afterEach(async () => {
    await test?.close();
    test = undefined;
  });

  it('has every table after migrations, and re-applying them is a no-op', async () => {
    test = await openTestDatabase(engine);
    const { db } = test.current();
    const tables = await db.execute<{ table_name: string }>(
      sql`select table_name from information_schema.tables where table_schema = current_schema() order by table_name`,
    );
    expect(rows<{ table_name: string }>(tables).map((r) => r.table_name)).toEqual(TABLES);
    await db.insert(people).values({ id: 42, firstName: 'Anna' });
    const before = rows<{ n: number }>(await db.execute<{ n: number }>(sql`select count(*)::int as n from drizzle.__drizzle_migrations`));
    const again = await test.restart(); // opening runs migrate() again
    const after = rows<{ n: number }>(
      await again.db.execute<{ n: number }>(sql`select count(*)::int as n from drizzle.__drizzle_migrations`),
    );
    expect(after).toEqual(before);
    expect(await again.db.select().from(people)).toHaveLength(1);
  });

  it('a row lock blocks a second transaction until the first commits', async () => {
    test = await openTestDatabase(engine);
    const { db } = test.current();
    await db.insert(people).values({ id: 1, firstName: 'before' });
    const order: string[] = [];
    let releaseFirst!: () => void;
    const firstHolds = new Promise<void>((r) => (releaseFirst = r));
    let firstLocked!: () => void;
    const locked = new Promise<void>((r) => (firstLocked = r));

    const first = db.transaction(async (tx) => {
      await tx.select().from(people).where(eq(people.id, 1)).for('update');
      firstLocked();
      await firstHolds;
      await tx.update(people).set({ firstName: 'first' }).where(eq(people.id, 1));
      order.push('first commits');
    });
    await locked;
    const second = db.transaction(async (tx) => {
      const [row] = await tx.select().from(people).where(eq(people.id, 1)).for('update');
      order.push(`second sees ${row?.firstName}`);
      await tx.update(people).set({ firstName: 'second' }).where(eq(people.id, 1));
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(order).toEqual([]); // the second transaction is still waiting for the lock
    releaseFirst();
    await Promise.all([first, second]);
    expect(order).toEqual(['first commits', 'second sees first']);
    const [row] = await db.select().from(people).where(eq(people.id, 1));
    expect(row?.firstName).toBe('second');
  });

  it('allows one active flow per client (partial unique index)', async () => {
    test = await openTestDatabase(engine);
    const { db } = test.current();
    await db.insert(people).values({ id: 7 });
    const flow = { clientId: 7, operatorId: 1, requestId: 'r', definition: {}, definitionHash: 'h' } as const;
    await db.insert(schemaFlows).values({ ...flow, status: 'collecting' });
    await db.insert(schemaFlows).values({ ...flow, status: 'queued' });
    await db.insert(schemaFlows).values({ ...flow, status: 'completed' });
    await expect(db.insert(schemaFlows).values({ ...flow, status: 'in_review' })).rejects.toThrow();
  });
});

describe('embedded database on disk', () => {
  let dir: string;
  let open: Database | undefined;
  afterEach(async () => {
    await open?.close();
    open = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps data across reopen and refuses a second process on the same directory', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'orb-pglite-'));
    // From the migrated template (a first open would spend seconds in initdb; test/main.test.ts has that).
    open = await openDatabase({ dataDir: dir, pgliteTemplate: await pgliteTemplateDump() });
    await open.db.insert(people).values({ id: 5, firstName: 'Kept' });
    await open.close();
    // A live process (our parent) holds the lock.
    await writeFile(path.join(dir, 'orb.lock'), String(process.ppid));
    await expect(openDatabase({ dataDir: dir })).rejects.toThrow(/in use by process/);
    // A lock left by a dead process is taken over.
    await writeFile(path.join(dir, 'orb.lock'), '999999999');
    open = await openDatabase({ dataDir: dir });
    expect(await open.db.select().from(people)).toEqual([expect.objectContaining({ id: 5, firstName: 'Kept' })]);
  });
});

describe.runIf(inject('postgresTemplate'))('migrations on an empty PostgreSQL database', () => {
  it('apply from nothing and re-apply as a no-op, even when two instances start at once', async () => {
    const config = inject('postgresTemplate');
    if (!config) return;
    const name = `orb_empty_${Date.now().toString(36)}`;
    const admin = postgres(config.url, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database "${name}"`);
    const url = new URL(config.url);
    url.pathname = `/${name}`;
    try {
      const [a, b] = await Promise.all([openDatabase({ databaseUrl: url.toString() }), openDatabase({ databaseUrl: url.toString() })]);
      const applied = rows<{ n: number }>(
        await a.db.execute<{ n: number }>(sql`select count(*)::int as n from drizzle.__drizzle_migrations`),
      );
      expect(applied[0]?.n).toBeGreaterThan(0);
      await Promise.all([a.close(), b.close()]);
      const c = await openDatabase({ databaseUrl: url.toString() });
      expect(rows(await c.db.execute<{ n: number }>(sql`select count(*)::int as n from drizzle.__drizzle_migrations`))).toEqual(applied);
      await c.close();
    } finally {
      await admin.unsafe(`drop database if exists "${name}" with (force)`);
      await admin.end();
    }
  });
});
