import { asc, eq, sql } from 'drizzle-orm';
import pino from 'pino';
import type { Update } from 'telegraf/types';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database, type Db } from '../../src/db/client.js';
import { inbox as inboxTable, outbox } from '../../src/db/schema.js';
import { Inbox, type InboxDeps } from '../../src/inbox/inbox.js';
import { ENGINES, openTestDatabase, type TestDatabase } from '../helpers/db.js';

const text = (updateId: number, chatId: number, body: string, chatType = 'private'): Update =>
  ({
    update_id: updateId,
    message: {
      message_id: updateId,
      date: 0,
      chat: { id: chatId, type: chatType },
      from: { id: Math.abs(chatId), is_bot: false, first_name: 'U' },
      text: body,
    },
  }) as unknown as Update;

const bodyOf = (update: Update): string => ('message' in update && 'text' in update.message ? update.message.text : '');

describe.each(ENGINES)('durable inbox on %s', (engine) => {
  let test: TestDatabase;
  afterEach(() => test.close());

  async function setup(handle: (update: Update) => Promise<void>, more: Partial<InboxDeps> = {}) {
    test = await openTestDatabase(engine);
    const db = test.current().db;
    const inbox = new Inbox({ db, logger: pino({ level: 'silent' }), handle, ...more });
    return { db, inbox };
  }

  /** Makes every waiting retry due now (instead of waiting for its backoff). */
  const due = (db: Db) =>
    db
      .update(inboxTable)
      .set({ nextAttemptAt: sql`now()` })
      .where(eq(inboxTable.status, 'pending'));

  it('applies each chat in update order whatever the batches, each update once, repeats ignored', async () => {
    const applied: string[] = [];
    const { db, inbox } = await setup(async (u) => void applied.push(bodyOf(u)));
    await inbox.ingest([text(3, 1, 'a3'), text(1, 1, 'a1'), text(2, 2, 'b2')]);
    await inbox.ingest([text(4, 1, 'a4'), text(1, 1, 'a1'), text(5, 2, 'b5')]);
    await inbox.drain();
    expect(applied.filter((s) => s.startsWith('a'))).toEqual(['a1', 'a3', 'a4']);
    expect(applied.filter((s) => s.startsWith('b'))).toEqual(['b2', 'b5']);
    expect(inbox.counters).toMatchObject({ accepted: 5, duplicate: 1, applied: 5 });
    const rows = await db.select().from(inboxTable).orderBy(asc(inboxTable.updateId));
    expect(rows.map((r) => [r.updateId, r.status, r.payload])).toEqual([1, 2, 3, 4, 5].map((id) => [id, 'done', null]));
  });

  it('commits webhook calls that arrive while one is being committed together, in one statement, each once', async () => {
    const inserts: string[] = [];
    test = await openTestDatabase(engine, { onStatement: (query) => void (/insert into inbox/i.test(query) && inserts.push(query)) });
    const applied: string[] = [];
    const inbox = new Inbox({
      db: test.current().db,
      logger: pino({ level: 'silent' }),
      handle: async (u) => void applied.push(bodyOf(u)),
    });
    // Five calls at once, as five webhook requests: the first goes alone, the other four (one a repeat of another) wait and go together.
    await Promise.all([
      inbox.ingest([text(1, 1, 'a1')]),
      inbox.ingest([text(2, 2, 'b2')]),
      inbox.ingest([text(3, 1, 'a3')]),
      inbox.ingest([text(2, 2, 'b2')]),
      inbox.ingest([text(4, 3, 'c4')]),
    ]);
    expect(inserts).toHaveLength(2);
    await inbox.drain();
    expect(applied.sort()).toEqual(['a1', 'a3', 'b2', 'c4']);
    expect(inbox.counters).toMatchObject({ accepted: 4, duplicate: 1, applied: 4 });
  });

  it('keeps a failing update, holds the chat behind it, tells the person once, and applies it on a later try', async () => {
    const applied: string[] = [];
    let failures = 2;
    const told: number[] = [];
    const { db, inbox } = await setup(
      async (u) => {
        if (bodyOf(u) === 'a1' && failures-- > 0) throw new Error('connection terminated');
        applied.push(bodyOf(u));
      },
      { onDelayed: async (u) => void told.push(u.update_id) },
    );
    await inbox.ingest([text(1, 1, 'a1'), text(2, 1, 'a2'), text(3, 2, 'b3')]);
    await inbox.drain();
    expect(applied).toEqual(['b3']); // a2 waits behind a1
    const [first] = await db.select().from(inboxTable).where(eq(inboxTable.updateId, 1));
    expect(first).toMatchObject({ status: 'pending', attempts: 1, lastError: expect.stringContaining('connection terminated') });
    await inbox.drain();
    expect(applied).toEqual(['b3']); // the backoff has not passed
    await due(db);
    await inbox.drain();
    await due(db);
    await inbox.drain();
    expect(applied).toEqual(['b3', 'a1', 'a2']);
    expect(told).toEqual([1]);
  });

  it('moves an update that keeps failing to the dead letters, tells admins, lets the chat go on, and retries it on request', async () => {
    const applied: string[] = [];
    let broken = true;
    const dead: number[] = [];
    const { db, inbox } = await setup(
      async (u) => {
        if (bodyOf(u) === 'bad' && broken) throw new TypeError('cannot read properties of undefined');
        applied.push(bodyOf(u));
      },
      { maxAttempts: 3, onDead: async (n) => void dead.push(n) },
    );
    await inbox.ingest([text(1, 1, 'bad'), text(2, 1, 'next')]);
    for (let i = 0; i < 3; i++) {
      await inbox.drain();
      await due(db);
    }
    await inbox.drain();
    expect(applied).toEqual(['next']);
    expect(dead).toEqual([1]);
    const letters = await inbox.deadLetters();
    expect(letters.total).toBe(1);
    expect(letters.items[0]).toMatchObject({ updateId: 1, chatId: 1, kind: 'message', attempts: 3 });
    expect(letters.items[0]?.lastError).toContain('cannot read properties');
    broken = false;
    expect(await inbox.retryDead()).toBe(1);
    await inbox.drain();
    expect(applied).toEqual(['next', 'bad']);
    expect((await inbox.deadLetters()).total).toBe(0);
  });

  it('never stores group or channel updates; a group it is added to gets one notice and is left', async () => {
    const applied: string[] = [];
    const { db, inbox } = await setup(async (u) => void applied.push(bodyOf(u)), {
      leaveGroup: () => [
        { method: 'sendMessage', payload: { text: 'private chats only' } },
        { method: 'leaveChat', payload: {} },
      ],
    });
    const added = (updateId: number) =>
      ({
        update_id: updateId,
        my_chat_member: {
          chat: { id: -77, type: 'group' },
          from: { id: 5, is_bot: false, first_name: 'U' },
          date: 0,
          old_chat_member: { status: 'left' },
          new_chat_member: { status: 'member' },
        },
      }) as unknown as Update;
    await inbox.ingest([text(1, -77, 'my full name', 'group'), text(2, -100500, 'post', 'supergroup'), added(3), added(3), added(4)]);
    await inbox.drain();
    expect(applied).toEqual([]);
    const stored = await db.select().from(inboxTable).orderBy(asc(inboxTable.updateId));
    expect(stored.map((r) => [r.updateId, r.status, r.payload])).toEqual([
      [3, 'done', null],
      [4, 'done', null],
    ]);
    const sent = await db.select().from(outbox).orderBy(asc(outbox.id));
    expect(sent.map((r) => [r.chatId, r.method])).toEqual([
      [-77, 'sendMessage'],
      [-77, 'leaveChat'],
      [-77, 'leaveChat'],
    ]);
    expect(inbox.counters.dropped).toEqual({ not_private: 2, joined_group: 2 });
  });

  it("with lane keys, applies a chat's updates of different keys at once, and holds every later one behind one that waits", async () => {
    /** A promise the test settles itself. */
    const deferred = () => {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      return { promise, resolve };
    };
    const started = new Map<string, ReturnType<typeof deferred>>();
    const gates = new Map<string, ReturnType<typeof deferred>>();
    for (const name of ['a', 'b', 'x', 'c', 'f']) {
      started.set(name, deferred());
      gates.set(name, deferred());
    }
    // a: applied once b is; x fails once, when the test says; c waits for the test; the rest go straight through.
    for (const name of ['b', 'f']) gates.get(name)?.resolve();
    const applied: string[] = [];
    let failures = 1;
    const { db, inbox } = await setup(
      async (u) => {
        const name = bodyOf(u).replace(/^k\d+:/, '');
        started.get(name)?.resolve();
        await gates.get(name)?.promise;
        if (name === 'x' && failures-- > 0) throw new Error('connection terminated');
        applied.push(name);
        if (name === 'b') gates.get('a')?.resolve();
      },
      { concurrency: 2, laneKeyOf: (u) => Number(/^k(\d+):/.exec(bodyOf(u))?.[1] ?? Number.NaN) || null },
    );

    // Presses for two clients in one chat: the first finishes only after the second, which does not wait for it.
    await inbox.ingest([text(1, 1, 'k7:a'), text(2, 1, 'k8:b')]);
    await inbox.drain();
    expect(applied).toEqual(['b', 'a']);

    // x fails while c (another key) runs; d (no key) is behind both. Chat 2's f waits for a slot, which x frees.
    await inbox.ingest([text(10, 1, 'k7:x'), text(11, 1, 'k8:c'), text(12, 1, 'd')]);
    await Promise.all([started.get('x')?.promise, started.get('c')?.promise]);
    await inbox.ingest([text(20, 2, 'f')]);
    gates.get('x')?.resolve();
    await started.get('f')?.promise;
    // x waits for its retry while c still runs: a later update of the chat, whatever its key, waits for x.
    await inbox.ingest([text(13, 1, 'k9:e')]);
    gates.get('c')?.resolve();
    await inbox.drain();
    expect(applied).not.toContain('e');
    expect(applied).not.toContain('d');
    await due(db);
    await inbox.drain();
    expect(applied.filter((name) => ['x', 'd', 'e'].includes(name))).toEqual(['x', 'd', 'e']);
    expect(applied).toContain('c');
    expect(applied).toContain('f');
  });

  it('stores a message with a NUL character without it', async () => {
    const applied: string[] = [];
    const { inbox } = await setup(async (u) => void applied.push(bodyOf(u)));
    await inbox.ingest([text(1, 1, 'Iva\u0000n')]);
    await inbox.drain();
    expect(applied).toEqual(['Ivan']);
  });
});

describe.skipIf(!ENGINES.includes('postgres'))('durable inbox statements on postgres', () => {
  let test: TestDatabase | undefined;
  let counted: Database | undefined;
  afterEach(async () => {
    await counted?.close();
    await test?.close();
  });

  it('marks an update done itself only when the command did not record it in its own transaction', async () => {
    test = await openTestDatabase('postgres');
    const statements: string[] = [];
    const database = await openDatabase({ databaseUrl: test.url ?? '', migrate: false, debug: (_c, query) => statements.push(query) });
    counted = database;
    const marks = () => statements.filter((q) => /^update inbox set status = 'done'/.test(q.trim())).length;
    // Update 1 is applied by a "command" that records it as the flow service does; update 2 by a plain handler.
    const inbox: Inbox = new Inbox({
      db: database.db,
      logger: pino({ level: 'silent' }),
      handle: async (u) => {
        if (u.update_id !== 1) return;
        await database.db.execute(sql`update inbox set status = 'done', done_at = now(), payload = null where update_id = 1`);
        inbox.recorded(1);
      },
    });
    await inbox.ingest([text(1, 1, 'answer')]);
    await inbox.drain();
    expect(marks()).toBe(1); // the command's own
    await inbox.ingest([text(2, 1, '/help')]);
    await inbox.drain();
    expect(marks()).toBe(2); // the worker's
    const rows = await database.db.select().from(inboxTable).orderBy(asc(inboxTable.updateId));
    expect(rows.map((r) => [r.updateId, r.status])).toEqual([
      [1, 'done'],
      [2, 'done'],
    ]);
  });
});
