import { asc, eq, sql } from 'drizzle-orm';
import pino from 'pino';
import { Telegram } from 'telegraf';
import { afterEach, describe, expect, it } from 'vitest';
import { messages, outbox } from '../../src/db/schema.js';
import { OutboxSender } from '../../src/delivery/sender.js';
import { MessageLog } from '../../src/log/messages.js';
import { startEmulator, type Emulator } from '../../src/playground/emulator/index.js';
import { openDatabase, type Database, type Db } from '../../src/db/client.js';
import { ENGINES, openTestDatabase, type TestDatabase } from '../helpers/db.js';
import { addClient, addOperator, newService, text, updateId } from '../helpers/flows.js';

/** Makes the chat's waiting rows due now (instead of waiting for retry_after). */
const dueNow = (db: Db, chatId: number) =>
  db
    .update(outbox)
    .set({ nextAttemptAt: sql`now()` })
    .where(eq(outbox.chatId, chatId));

describe('outbox sender', () => {
  let test: TestDatabase;
  let emu: Emulator;
  afterEach(async () => {
    await test.close();
    await emu.close();
  });

  async function setup(options: { leads?: () => Promise<boolean>; holdMarksMs?: number } = {}) {
    test = await openTestDatabase('pglite');
    emu = await startEmulator();
    const { token } = emu.createBot({ username: 'sender_bot' });
    const anna = emu.createUser({ firstName: 'Anna' });
    const boris = emu.createUser({ firstName: 'Boris' });
    await anna.send('/start');
    await boris.send('/start');
    const { db } = test.current();
    const blocked: number[] = [];
    const telegram = new Telegram(token, { apiRoot: emu.apiRoot });
    const log = new MessageLog(db);
    const sender = new OutboxSender({
      db,
      telegram,
      log,
      logger: pino({ level: 'silent' }),
      onBlocked: async (id) => void blocked.push(id),
      ...(options.leads ? { leads: options.leads } : {}),
      ...(options.holdMarksMs === undefined ? {} : { holdMarksMs: options.holdMarksMs }),
    });
    const queue = (chatId: number, text: string, cardKey?: string) =>
      db.insert(outbox).values({ chatId, method: 'sendMessage', payload: { text }, ...(cardKey ? { cardKey } : {}) });
    /** A row written as a command writes it, whole (`returning`), as the command hands it over after its commit. */
    const write = (chatId: number, text: string) =>
      db.insert(outbox).values({ chatId, method: 'sendMessage', payload: { text } }).returning();
    return { db, sender, anna, boris, blocked, queue, write, telegram, log };
  }

  it('keeps each chat in order across a 429, never counts it as an attempt, and lets other chats go on meanwhile', async () => {
    const { db, sender, anna, boris, queue } = await setup();
    emu.faults.failNext('sendMessage', 1, { code: 429, description: 'Too Many Requests: retry after 1', retryAfter: 1 });
    await queue(anna.id, 'first');
    await queue(anna.id, 'second');
    await queue(boris.id, 'to Boris');
    await sender.flush();
    expect(anna.messages().map((m) => m.text)).toEqual([]);
    expect(boris.messages().map((m) => m.text)).toEqual(['to Boris']);
    // Before retry_after has passed nothing of Anna's goes, not even the second message.
    await sender.flush();
    expect(anna.messages()).toEqual([]);
    const [waiting] = await db.select().from(outbox).where(eq(outbox.chatId, anna.id)).orderBy(asc(outbox.id));
    expect(waiting).toMatchObject({ status: 'pending', attempts: 0, lastError: 'flood wait' });
    // retry_after has passed (moved in the database rather than waited for).
    await dueNow(db, anna.id);
    await sender.flush();
    expect(anna.messages().map((m) => m.text)).toEqual(['first', 'second']);
    const rows = await db.select().from(outbox).where(eq(outbox.chatId, anna.id)).orderBy(asc(outbox.id));
    // A flood wait is not an attempt.
    expect(rows.map((r) => [r.status, r.attempts])).toEqual([
      ['sent', 1],
      ['sent', 1],
    ]);
  });

  it('marks rows sent and logs their messages whether they went alone or in a batch, never more than a statement per row', async () => {
    const { db, sender, anna, boris, queue } = await setup();
    for (let i = 1; i <= 4; i++) {
      await queue(anna.id, `to Anna ${i}`);
      await queue(boris.id, `to Boris ${i}`);
    }
    const marks: string[] = [];
    const execute = db.execute.bind(db);
    db.execute = (query: Parameters<typeof db.execute>[0]) => {
      const text = JSON.stringify(query);
      if (/update outbox set status = 'sent'/.test(text)) marks.push(text);
      return execute(query);
    };
    await sender.flush();
    expect(anna.messages().map((m) => m.text)).toEqual([1, 2, 3, 4].map((i) => `to Anna ${i}`));
    expect(boris.messages().map((m) => m.text)).toEqual([1, 2, 3, 4].map((i) => `to Boris ${i}`));
    expect(marks.length).toBeGreaterThan(0);
    expect(marks.length).toBeLessThanOrEqual(8);
    const rows = await db.select().from(outbox).orderBy(asc(outbox.id));
    expect(rows.every((r) => r.status === 'sent' && r.attempts === 1 && r.telegramMessageId !== null)).toBe(true);
    // Each message logged once, with the id Telegram gave it, as its outbox row records it.
    const logged = await db.select().from(messages).where(eq(messages.direction, 'out')).orderBy(asc(messages.id));
    expect(logged.map((m) => [m.chatId, m.text, m.telegramMessageId]).sort()).toEqual(
      rows.map((r) => [r.chatId, (r.payload as { text: string }).text, r.telegramMessageId]).sort(),
    );
  });

  it('sends a chat’s next message without waiting for the previous one’s mark; flush waits for the marks', async () => {
    const { db, sender, anna, queue } = await setup();
    await queue(anna.id, 'one');
    await queue(anna.id, 'two');
    // Every mark statement waits until the test lets it go.
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const execute = db.execute.bind(db);
    db.execute = (async (query: Parameters<typeof db.execute>[0]) => {
      if (/update outbox set status = 'sent'/.test(JSON.stringify(query))) await held;
      return execute(query);
    }) as typeof db.execute;
    let flushed = false;
    const flushing = sender.flush().then(() => (flushed = true));
    await anna.waitForMessage(/two/);
    expect(anna.messages().map((m) => m.text)).toEqual(['one', 'two']);
    expect(flushed, 'flush waits for the marks').toBe(false);
    release();
    await flushing;
    const rows = await db.select().from(outbox).orderBy(asc(outbox.id));
    expect(rows.map((r) => [r.status, r.attempts])).toEqual([
      ['sent', 1],
      ['sent', 1],
    ]);
  });

  it('sends a message Telegram refuses (bad markup, too long) again as plain text within the limit', async () => {
    const { db, sender, anna } = await setup();
    await db
      .insert(outbox)
      .values({ chatId: anna.id, method: 'sendMessage', payload: { text: '<b>Name: Anna & <i>co</b>', parse_mode: 'HTML' } });
    await db.insert(outbox).values({ chatId: anna.id, method: 'sendMessage', payload: { text: 'x'.repeat(5_000) } });
    await sender.flush();
    const texts = anna.messages().map((m) => m.text ?? '');
    expect(texts[0]).toBe('Name: Anna & co');
    expect(texts[1]).toHaveLength(4_096);
    expect(texts[1]?.endsWith('…')).toBe(true);
    const rows = await db.select().from(outbox).where(eq(outbox.chatId, anna.id)).orderBy(asc(outbox.id));
    expect(rows.map((r) => [r.status, r.lastError?.startsWith('sent as plain text')])).toEqual([
      ['sent', true],
      ['sent', true],
    ]);
  });

  it('tells someone when a request message is refused even as plain text', async () => {
    const { db, anna } = await setup();
    const refused: { chatId: number; flowId: number; description: string }[] = [];
    const sender = new OutboxSender({
      db,
      telegram: new Telegram(emu.createBot({ username: 'other_bot' }).token, { apiRoot: emu.apiRoot }),
      log: new MessageLog(db),
      logger: pino({ level: 'silent' }),
      onUndeliverable: async (row) => void refused.push(row),
    });
    // Anna never opened this bot: Telegram refuses every message to her, plain or not.
    emu.faults.failNext('sendMessage', 3, { code: 400, description: 'Bad Request: chat not found' });
    await db
      .insert(outbox)
      .values({ chatId: anna.id, flowId: 42, method: 'sendMessage', payload: { text: 'Step 1 of 3', parse_mode: 'HTML' } });
    await sender.flush();
    expect(refused).toEqual([{ chatId: anna.id, flowId: 42, description: 'Bad Request: chat not found' }]);
    const [row] = await db.select().from(outbox).where(eq(outbox.chatId, anna.id));
    expect(row).toMatchObject({ status: 'failed', attempts: 1 });
  });

  it('edits a card in place, and gives up on a blocked chat without retrying', async () => {
    const { db, sender, anna, boris, blocked, queue } = await setup();
    await queue(anna.id, 'card v1', 'review:1');
    await sender.flush();
    await db.insert(outbox).values({ chatId: anna.id, method: 'editMessageText', payload: { text: 'card v2' }, cardKey: 'review:1' });
    await sender.flush();
    expect(anna.messages().map((m) => [m.text, m.editCount])).toEqual([['card v2', 1]]);

    // A burst of changes: only the newest edit of a card goes out; the ones it supersedes are done without a call.
    emu.clearCalls();
    for (const text of ['card v3', 'card v4', 'card v5'])
      await db.insert(outbox).values({ chatId: anna.id, method: 'editMessageText', payload: { text }, cardKey: 'review:1' });
    await sender.flush();
    expect(anna.messages().map((m) => [m.text, m.editCount])).toEqual([['card v5', 2]]);
    expect(emu.calls().filter((c) => c.method === 'editMessageText')).toHaveLength(1);
    const edits = await db.select().from(outbox).where(eq(outbox.method, 'editMessageText')).orderBy(asc(outbox.id));
    expect(edits.map((r) => [r.status, r.lastError])).toEqual([
      ['sent', null],
      ['sent', 'superseded'],
      ['sent', 'superseded'],
      ['sent', null],
    ]);

    await boris.blockBot();
    await queue(boris.id, 'hello?');
    await sender.flush();
    await sender.flush();
    const [row] = await db.select().from(outbox).where(eq(outbox.chatId, boris.id));
    expect(row).toMatchObject({ status: 'failed', attempts: 1, lastError: expect.stringMatching(/blocked by the user/) });
    expect(blocked).toEqual([boris.id]);
  });

  describe('rows handed over', () => {
    it('never sends a handed row ahead of an older row of its chat that waits for a retry', async () => {
      const { db, sender, anna, boris, write } = await setup();
      emu.faults.failNext('sendMessage', 1, { code: 429, description: 'Too Many Requests: retry after 1', retryAfter: 1 });
      await write(anna.id, 'first');
      await sender.flush();
      expect(anna.messages()).toEqual([]);
      // Written and handed over while "first" waits: it waits behind it; another chat's goes at once.
      sender.hand(await write(anna.id, 'second'));
      sender.hand(await write(boris.id, 'to Boris'));
      await sender.flush();
      expect(anna.messages()).toEqual([]);
      expect(boris.messages().map((m) => m.text)).toEqual(['to Boris']);
      // retry_after has passed (moved in the database rather than waited for): both go, in order.
      await dueNow(db, anna.id);
      await sender.flush();
      expect(anna.messages().map((m) => m.text)).toEqual(['first', 'second']);
    });

    it('marks the rows handed over together in one statement once they have all gone, and never waits for one put off', async () => {
      // However slow the machine: the marks wait as long as it takes (the default is a moment).
      const { db, sender, anna, boris, write } = await setup({ holdMarksMs: 60_000 });
      await sender.flush();
      const marks: string[] = [];
      const execute = db.execute.bind(db);
      db.execute = (query: Parameters<typeof db.execute>[0]) => {
        if (/update outbox set status = 'sent'/.test(JSON.stringify(query))) marks.push(JSON.stringify(query));
        return execute(query);
      };
      // A command's rows for two chats, handed over together.
      sender.hand([...(await write(anna.id, 'to Anna')), ...(await write(boris.id, 'to Boris'))]);
      await sender.flush();
      expect([anna.messages().map((m) => m.text), boris.messages().map((m) => m.text)]).toEqual([['to Anna'], ['to Boris']]);
      expect(marks).toHaveLength(1);
      expect((await db.select().from(outbox)).map((r) => r.status)).toEqual(['sent', 'sent']);

      // One of them put off (a flood wait): the other's mark does not wait for it.
      marks.length = 0;
      emu.faults.failNext('sendMessage', 1, { code: 429, description: 'Too Many Requests: retry after 1', retryAfter: 1 });
      const [late] = await write(anna.id, 'to Anna, later');
      const [prompt] = await write(boris.id, 'to Boris, at once');
      if (!late || !prompt) throw new Error('not written');
      sender.hand([late, prompt]);
      await sender.flush([boris.id]);
      expect(boris.messages().map((m) => m.text)).toEqual(['to Boris', 'to Boris, at once']);
      const status = async (id: number) => (await db.select().from(outbox).where(eq(outbox.id, id)))[0]?.status;
      expect([await status(late.id), await status(prompt.id)]).toEqual(['pending', 'sent']);
      expect(marks).toHaveLength(1);
    });

    it('logs a message sent outside the outbox after the chat’s messages it sent, though their marks wait for the rest', async () => {
      const { db, sender, anna, boris, write, telegram, log } = await setup({ holdMarksMs: 60_000 });
      await sender.flush();
      // Boris's message is held on its way until the test lets it go: the group's marks wait for it.
      let letBorisGo = () => {};
      const borisHeld = new Promise<void>((resolve) => (letBorisGo = resolve));
      let annaSent = () => {};
      const sentToAnna = new Promise<void>((resolve) => (annaSent = resolve));
      const callApi = telegram.callApi.bind(telegram) as (method: string, payload: unknown) => Promise<unknown>;
      telegram.callApi = (async (method: string, payload: unknown) => {
        const chatId = (payload as { chat_id?: number }).chat_id;
        if (chatId === boris.id) await borisHeld;
        const result = await callApi(method, payload);
        // Told on the next turn: the sender has taken Telegram's answer (its mark is held) by then.
        if (chatId === anna.id) setImmediate(annaSent);
        return result;
      }) as typeof telegram.callApi;
      sender.hand([...(await write(anna.id, 'the prompt')), ...(await write(boris.id, 'the card'))]);
      await sentToAnna;
      // A reply straight to Anna (as the bot's own replies are logged): after the prompt, which went first.
      await log.outbound({
        chatId: anna.id,
        kind: 'text',
        text: 'a direct reply',
        fileId: null,
        fileUniqueId: null,
        telegramMessageId: null,
      });
      letBorisGo();
      await sender.flush();
      const logged = await db.select().from(messages).where(eq(messages.chatId, anna.id)).orderBy(asc(messages.id));
      expect(logged.map((m) => m.text)).toEqual(['the prompt', 'a direct reply']);
      expect(boris.messages().map((m) => m.text)).toEqual(['the card']);
    });

    it('takes a new row whose transaction began after the pass asked for a new row, not for one put off', async () => {
      const { db, sender, anna, write } = await setup();
      await sender.flush();
      // Committed while a pass read: its next_attempt_at (its transaction's start) is later than the pass's now().
      await db
        .insert(outbox)
        .values({ chatId: anna.id, method: 'sendMessage', payload: { text: 'new' }, nextAttemptAt: sql`now() + interval '1 minute'` });
      await sender.flush();
      // Nothing waits in Anna's chat: the rows handed over after it go at once.
      sender.hand(await write(anna.id, 'handed after it'));
      await sender.flush();
      expect(anna.messages().map((m) => m.text)).toEqual(['new', 'handed after it']);
    });

    it('knows the waits the table had before it started, even before its first pass', async () => {
      const { db, sender, anna, write } = await setup();
      // Put off by an earlier process, for a retry a minute from now.
      await db.insert(outbox).values({
        chatId: anna.id,
        method: 'sendMessage',
        payload: { text: 'first' },
        attempts: 1,
        nextAttemptAt: sql`now() + interval '1 minute'`,
      });
      sender.hand(await write(anna.id, 'second'));
      await sender.flush();
      sender.hand(await write(anna.id, 'third'));
      await sender.flush();
      expect(anna.messages()).toEqual([]);
      await db
        .update(outbox)
        .set({ nextAttemptAt: sql`now()` })
        .where(eq(outbox.chatId, anna.id));
      await sender.flush();
      expect(anna.messages().map((m) => m.text)).toEqual(['first', 'second', 'third']);
    });

    it('sends a row once when it is handed over and a pass reads it too, in either order', async () => {
      const { db, sender, anna, write } = await setup();
      await sender.flush();
      const handedFirst = await write(anna.id, 'handed, then read');
      sender.hand(handedFirst);
      await sender.flush();
      const readFirst = await write(anna.id, 'read, then handed');
      await sender.flush();
      sender.hand(readFirst);
      // Handed twice (a command's rows reach the sender once; this checks the lanes' guard) and read again.
      sender.hand(readFirst);
      await sender.flush();
      expect(anna.messages().map((m) => m.text)).toEqual(['handed, then read', 'read, then handed']);
      const rows = await db.select().from(outbox).orderBy(asc(outbox.id));
      expect(rows.map((r) => [r.status, r.attempts])).toEqual([
        ['sent', 1],
        ['sent', 1],
      ]);
      expect(emu.calls().filter((c) => c.method === 'sendMessage')).toHaveLength(2);
    });

    it('leaves handed rows to the leader when this instance does not lead', async () => {
      let leads = false;
      const { sender, anna, write } = await setup({ leads: async () => leads });
      await sender.flush();
      sender.hand(await write(anna.id, 'for the leader'));
      await sender.flush();
      expect(anna.messages()).toEqual([]);
      leads = true;
      await sender.flush();
      expect(anna.messages().map((m) => m.text)).toEqual(['for the leader']);
    });
  });
});

describe.each(ENGINES)('a command’s rows on %s', (engine) => {
  let test: TestDatabase;
  let emu: Emulator;
  afterEach(async () => {
    await test.close();
    await emu.close();
  });

  it('are sent with its commit: no pass reads the outbox, one statement each', async () => {
    const statements: string[] = [];
    const watchers: (() => void)[] = [];
    test = await openTestDatabase(engine, {
      onStatement: (query) => {
        statements.push(query.replace(/\s+/g, ' ').trim());
        for (const watch of watchers) watch();
      },
    });
    emu = await startEmulator();
    const { token } = emu.createBot({ username: 'sender_bot' });
    const anna = emu.createUser({ firstName: 'Anna' });
    const olga = emu.createUser({ firstName: 'Olga' });
    await anna.send('/start');
    await olga.send('/start');
    const { db } = test.current();
    await addOperator(db, olga.id);
    await addClient(db, anna.id, { name: 'Anna' });
    const sender = new OutboxSender({
      db,
      telegram: new Telegram(token, { apiRoot: emu.apiRoot }),
      log: new MessageLog(db),
      logger: pino({ level: 'silent' }),
    });
    const handed: number[] = [];
    const flows = await newService(db, {
      onOutbox: (rows) => {
        handed.push(...rows.map((r) => r.id));
        sender.hand(rows);
      },
    });
    await sender.flush();
    await flows.start({ operatorId: olga.id, clientId: anna.id, requestId: 'personal_data', updateId: updateId() });
    await anna.waitForMessage(/full name/i);
    await olga.waitForMessage(/sent/i);
    await sender.flush();

    /** Resolves once `count` statements marking rows sent have gone out since `from`. */
    const marked = (from: number, count: number) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (statements.slice(from).filter((s) => /update "?outbox"? set "?status"?/i.test(s)).length >= count) resolve();
        };
        watchers.push(check);
        check();
      });
    const from = statements.length;
    handed.length = 0;
    const answered = await flows.answer({ clientId: anna.id, answer: text('Anna Petrova'), updateId: updateId() });
    expect(answered.ok).toBe(true);
    expect(handed).toHaveLength(1);
    await anna.waitForMessage(/city/i);
    await marked(from, handed.length);
    const sent = statements.slice(from);
    // The command's four (BEGIN, the lock, the write, COMMIT), then one per message: logged and marked sent.
    expect(sent, sent.join('\n')).toHaveLength(4 + handed.length);
    expect(
      sent.slice(4).every((s) => /update "?outbox"? set "?status"?/i.test(s)),
      sent.join('\n'),
    ).toBe(true);
  });
});

describe.runIf(ENGINES.includes('postgres'))('outbox senders of several instances on one PostgreSQL database', () => {
  let test: TestDatabase;
  let emu: Emulator;
  let second: Database | undefined;
  afterEach(async () => {
    await second?.close();
    await test.close();
    await emu.close();
  });

  it('deliver every message once: only the leader sends, and another takes over when it goes', async () => {
    test = await openTestDatabase('postgres');
    emu = await startEmulator();
    const { token } = emu.createBot({ username: 'sender_bot' });
    const anna = emu.createUser({ firstName: 'Anna' });
    await anna.send('/start');
    const first = test.current();
    second = await openDatabase({ databaseUrl: test.url ?? '', migrate: false });
    const senderOf = (database: Database) =>
      new OutboxSender({
        db: database.db,
        telegram: new Telegram(token, { apiRoot: emu.apiRoot }),
        log: new MessageLog(database.db),
        logger: pino({ level: 'silent' }),
        leads: () => database.leads('outbox'),
      });
    const [a, b] = [senderOf(first), senderOf(second)];
    for (let i = 1; i <= 20; i++)
      await first.db.insert(outbox).values({ chatId: anna.id, method: 'sendMessage', payload: { text: `m${i}` } });
    await Promise.all([a.flush(), b.flush(), a.flush(), b.flush()]);
    expect(anna.messages().map((m) => m.text)).toEqual(Array.from({ length: 20 }, (_, i) => `m${i + 1}`));
    expect(await first.leads('outbox')).not.toBe(await second.leads('outbox'));

    // The leader's process goes away: its lock goes with its connection, and the other delivers.
    const leaderIsFirst = await first.leads('outbox');
    const [survivor, survivorSender] = leaderIsFirst ? [second, b] : [first, a];
    if (leaderIsFirst)
      await test.restart(); // closes the first instance's connections
    else {
      await second.close();
      second = undefined;
    }
    await survivor.db.insert(outbox).values({ chatId: anna.id, method: 'sendMessage', payload: { text: 'after' } });
    await survivorSender.flush();
    expect(
      anna
        .messages()
        .map((m) => m.text)
        .at(-1),
    ).toBe('after');
  });
});
