import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eq, sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { commitWithNext, openDatabase, PGLITE_SETTINGS, rowsOf as rows, type Database, type Db } from '../../src/db/client.js';
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

  it("a statement that carries its transaction's COMMIT commits it when it succeeds and rolls it back when it fails", async () => {
    test = await openTestDatabase(engine);
    const { db } = test.current();
    const ids = async () => (await db.select({ id: people.id }).from(people)).map((p) => p.id).sort((a, b) => a - b);
    await db.transaction(async (tx) => {
      await tx.insert(people).values({ id: 1, firstName: 'first' });
      commitWithNext(tx);
      await tx.insert(people).values({ id: 2, firstName: 'last' });
    });
    expect(await ids()).toEqual([1, 2]);

    // The write's own check (`expect_updated`) fails it: nothing of the transaction stays, and the failure is
    // a serialization failure, which a command retries.
    const stale = db.transaction(async (tx) => {
      await tx.insert(people).values({ id: 3, firstName: 'undone' });
      commitWithNext(tx);
      await tx.execute(sql`select expect_updated(1, 0)`);
    });
    await expect(stale).rejects.toMatchObject({ cause: expect.objectContaining({ code: '40001' }) });
    expect(await ids()).toEqual([1, 2]);

    const after = db.transaction(async (tx) => {
      commitWithNext(tx);
      await tx.insert(people).values({ id: 4, firstName: 'committed' });
      await tx.insert(people).values({ id: 5, firstName: 'after the end' });
    });
    if (engine === 'postgres') {
      // Its COMMIT went out with the last statement: a statement after it is refused, not run outside it.
      await expect(after).rejects.toMatchObject({
        cause: expect.objectContaining({ message: expect.stringMatching(/after the one that committed/) }),
      });
      expect(await ids()).toEqual([1, 2, 4]);
    } else {
      // PGlite has no round trip to save: the transaction ends as usual.
      await after;
      expect(await ids()).toEqual([1, 2, 4, 5]);
    }
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

  it('indexes only the outbox rows with a card key and the inbox rows that are done (partial indexes)', async () => {
    test = await openTestDatabase(engine);
    const { db } = test.current();
    await db.execute(sql`
      insert into outbox (chat_id, method, payload, card_key)
      select g, 'sendMessage', '{}'::jsonb, case when g % 10 = 0 then 'review:' || g else null end from generate_series(1, 50) g`);
    await db.execute(sql`
      insert into inbox (update_id, chat_id, status, done_at)
      select g, g, case when g <= 5 then 'done' else 'pending' end, case when g <= 5 then now() else null end
      from generate_series(1, 20) g`);
    // ANALYZE counts a small table's index entries exactly (its sample is the whole table).
    await db.execute(sql`analyze outbox`);
    await db.execute(sql`analyze inbox`);
    const entries = rows<{ name: string; n: number }>(
      await db.execute(sql`
        select relname as name, reltuples::int as n from pg_class
        where relname in ('outbox_card_idx', 'inbox_done_idx', 'outbox_pkey', 'inbox_pkey') order by relname`),
    );
    expect(entries).toEqual([
      { name: 'inbox_done_idx', n: 5 },
      { name: 'inbox_pkey', n: 20 },
      { name: 'outbox_card_idx', n: 5 },
      { name: 'outbox_pkey', n: 50 },
    ]);
    // The lookups by key still find their rows.
    const found = rows<{ id: number }>(await db.execute(sql`select chat_id::int as id from outbox where card_key = 'review:30'`));
    expect(found).toEqual([{ id: 30 }]);
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

  it('makes a new directory whole even after a first start that stopped half-way', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'orb-pglite-'));
    // What a first start killed while the cluster was being made and moved in leaves: the staging
    // folder and part of the cluster, without PG_VERSION; and files of the app's own beside them.
    await mkdir(path.join(dir, '.initdb', 'base'), { recursive: true });
    await mkdir(path.join(dir, 'base', '1'), { recursive: true });
    await writeFile(path.join(dir, 'base', '1', 'partial'), 'half a table');
    await mkdir(path.join(dir, 'playground'));
    await writeFile(path.join(dir, 'playground', 'state.json'), '{}');
    open = await openDatabase({ dataDir: dir });
    await open.db.insert(people).values({ id: 6, firstName: 'New' });
    expect(await open.db.select().from(people)).toEqual([expect.objectContaining({ id: 6, firstName: 'New' })]);
    const entries = await readdir(dir);
    expect(entries).toEqual(expect.arrayContaining(['PG_VERSION', 'base', 'global', 'pg_wal', 'playground', 'orb.lock']));
    expect(entries).not.toContain('.initdb');
    expect(await readFile(path.join(dir, 'playground', 'state.json'), 'utf8')).toBe('{}');
    await open.close();
    open = await openDatabase({ dataDir: dir });
    expect(await open.db.select().from(people)).toHaveLength(1);
  });
});

describe('embedded database memory settings', () => {
  const opened: Database[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((d) => d.close()));
  });
  const settingsOf = async (db: Db) =>
    rows<{ shared_buffers: string; maintenance_work_mem: string }>(
      await db.execute(
        sql`select current_setting('shared_buffers') as shared_buffers, current_setting('maintenance_work_mem') as maintenance_work_mem`,
      ),
    )[0];

  it('runs with the small buffers by default, and with the settings given instead', async () => {
    const template = await pgliteTemplateDump();
    const app = await openDatabase({ pgliteTemplate: template });
    opened.push(app);
    expect(await settingsOf(app.db)).toEqual({
      shared_buffers: PGLITE_SETTINGS.shared_buffers,
      maintenance_work_mem: PGLITE_SETTINGS.maintenance_work_mem,
    });
    expect(PGLITE_SETTINGS.shared_buffers).toBe('16MB');
    // Settings given replace the defaults: what is not named is PGlite's own again.
    const other = await openDatabase({ pgliteTemplate: template, pgliteSettings: { shared_buffers: '8MB' } });
    opened.push(other);
    expect(await settingsOf(other.db)).toEqual({ shared_buffers: '8MB', maintenance_work_mem: '64MB' });
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
