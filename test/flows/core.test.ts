/**
 * A command's outbox rows go to the sender with its commit (`onOutbox`), whole, so that no pass has to read
 * them back: only a committed command's, and never rows a later statement of the command changed.
 */
import { asc, inArray } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client.js';
import { outbox, type OutboxRow } from '../../src/db/schema.js';
import { Conversation } from '../../src/flows/conversation.js';
import { StaleWriteError } from '../../src/flows/store.js';
import { ENGINES, openTestDatabase, type TestDatabase } from '../helpers/db.js';
import { addClient, addOperator, newService, OPERATOR, text, updateId } from '../helpers/flows.js';

describe.each(ENGINES)('outbox rows handed over by commands on %s', (engine) => {
  let test: TestDatabase | undefined;
  afterEach(async () => {
    await test?.close();
    test = undefined;
  });

  async function setup() {
    test = await openTestDatabase(engine);
    const { db } = test.current();
    await addOperator(db);
    const client = await addClient(db, 42);
    const handed: OutboxRow[][] = [];
    const flows = await newService(db, { onOutbox: (rows) => void handed.push([...rows]) });
    return { db, client, handed, flows };
  }

  const rowsOf = (db: Db, rows: readonly OutboxRow[]) =>
    db
      .select()
      .from(outbox)
      .where(
        inArray(
          outbox.id,
          rows.map((r) => r.id),
        ),
      )
      .orderBy(asc(outbox.id));

  it('hands a committed command’s rows once, whole and in id order, as the table has them', async () => {
    const { db, client, handed, flows } = await setup();
    const started = await flows.start({ operatorId: OPERATOR, clientId: client, requestId: 'personal_data', updateId: updateId() });
    expect(started.ok).toBe(true);
    expect(handed).toHaveLength(1);
    const rows = handed[0] ?? [];
    // The client's first step and the operator's notice.
    expect(rows.map((r) => r.chatId).sort()).toEqual([client, OPERATOR].sort());
    expect(rows).toEqual(await rowsOf(db, rows));
    expect(rows).toEqual(await db.select().from(outbox).orderBy(asc(outbox.id)));

    handed.length = 0;
    await flows.answer({ clientId: client, answer: text('Anna Petrova'), updateId: updateId() });
    expect(handed.flat().map((r) => [r.chatId, r.method, r.status])).toEqual([[client, 'sendMessage', 'pending']]);
    expect(handed.flat()).toEqual(await rowsOf(db, handed.flat()));
  });

  it('hands nothing of a command that rolled back, or was refused', async () => {
    const { db, client, handed, flows } = await setup();
    const failing = flows.start({
      operatorId: OPERATOR,
      clientId: client,
      requestId: 'personal_data',
      updateId: updateId(),
      within: async () => {
        throw new Error('undone');
      },
    });
    await expect(failing).rejects.toThrow('undone');
    expect(handed).toEqual([]);
    expect(await db.select().from(outbox)).toEqual([]);

    const refused = await flows.answer({ clientId: client, answer: text('Anna Petrova'), updateId: updateId() });
    expect(refused.ok).toBe(false);
    expect(handed).toEqual([]);
  });

  it('hands only the rows of the attempt that committed when a command is retried', async () => {
    const { db, client, handed, flows } = await setup();
    let attempts = 0;
    const started = await flows.start({
      operatorId: OPERATOR,
      clientId: client,
      requestId: 'personal_data',
      updateId: updateId(),
      // A concurrent writer got there first, once: the whole command runs again.
      within: async () => {
        if (++attempts === 1) throw new StaleWriteError('moved');
      },
    });
    expect(started.ok && attempts).toBe(2);
    expect(handed).toHaveLength(1);
    expect(handed[0]).toEqual(await db.select().from(outbox).orderBy(asc(outbox.id)));
  });

  it('hands none of the rows an erasure emptied in the same command', async () => {
    const { db, client, handed, flows } = await setup();
    await flows.start({ operatorId: OPERATOR, clientId: client, requestId: 'personal_data', updateId: updateId() });
    handed.length = 0;
    const erased = await flows.forget({ clientId: client, by: { kind: 'admin', id: OPERATOR } });
    expect(erased.ok).toBe(true);
    // The cancellation's messages were written, then emptied by the erasure before the commit.
    const emptied = await db
      .select()
      .from(outbox)
      .where(inArray(outbox.status, ['failed']));
    expect(emptied.length).toBeGreaterThan(0);
    const ids = new Set(emptied.map((r) => r.id));
    expect(handed.flat().filter((r) => ids.has(r.id))).toEqual([]);
    // Whatever was handed is what the table holds.
    expect(handed.flat()).toEqual(await rowsOf(db, handed.flat()));
  });

  it('a message passed on between a client and the staff hands its copies too, and tells which update it recorded', async () => {
    const { db, client, handed } = await setup();
    const recorded: number[] = [];
    const conversation = new Conversation({
      db,
      defaultLocale: 'en',
      staffIds: async () => [OPERATOR],
      onOutbox: (rows) => void handed.push([...rows]),
      onRecorded: (id) => void recorded.push(id),
    });
    const message = { chatId: client, kind: 'text' as const, text: 'hello?', fileId: null, fileUniqueId: null, telegramMessageId: 9 };
    const update = updateId();
    const passed = await conversation.fromClient({ clientId: client, message, updateId: update });
    expect(passed.ok && passed.value.recipients).toBe(1);
    expect(recorded).toEqual([update]);
    // The same update again: refused as seen, and told of no more.
    const again = await conversation.fromClient({ clientId: client, message, updateId: update });
    expect(again).toEqual({ ok: false, refusal: { code: 'duplicate_update' } });
    expect(recorded).toEqual([update]);
    expect(handed.flat().map((r) => [r.chatId, r.cardKey])).toEqual([[OPERATOR, `talk:${client}`]]);
    expect(handed.flat()).toEqual(await rowsOf(db, handed.flat()));
  });
});
