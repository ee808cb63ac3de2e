import { and, eq } from 'drizzle-orm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { outbox } from '../../src/db/schema.js';
import { ENGINES } from '../helpers/db.js';
import { openClientCard, sendRequest, startHarness, type Harness } from '../helpers/bot.js';

describe.each(ENGINES)('a client who blocked the bot on %s', (engine) => {
  let h: Harness;
  afterEach(() => h.close());

  const isBlocked = async (id: number) => (await h.app.directory.get(id))?.blockedAt != null;

  it('is shown as blocked, and a request to them is refused with a reason', async () => {
    h = await startHarness(engine);
    const operator = h.operator;
    const client = await h.client('Anna');

    await client.blockBot();
    await vi.waitFor(async () => expect(await isBlocked(client.id)).toBe(true));
    // The card itself (the notice that Anna opened the bot may arrive after it).
    const card = await openClientCard(operator, 'Anna');
    expect(card.text).toContain('⛔ Has blocked the bot');
    const query = await operator.press('Personal data');
    expect(await operator.waitForCallbackAnswer(query)).toMatchObject({ text: 'The client has blocked the bot.', showAlert: true });
    expect(await h.app.flows.flowsOf(client.id)).toEqual([]);

    // A block while a request is open: its operator hears about it once.
    await client.unblockBot();
    await client.send('/start');
    await client.waitForMessage(/Hello, Anna/);
    await sendRequest(operator, 'Anna', 'Passport photo');
    await client.waitForMessage(/Passport photo · step 1 of 1/);
    await client.blockBot();
    await operator.waitForMessage(/Anna has blocked the bot, so “Passport photo” cannot go on/);
    const events = await h.app.flows.eventsOf((await h.app.flows.activeFlow(client.id))?.id ?? 0);
    expect(events.filter((e) => e.event === 'CLIENT_BLOCKED')).toHaveLength(1);

    // Unblocking and opening the bot again makes them reachable.
    await client.unblockBot();
    await client.send('/start');
    await client.waitForMessage(/Hello, Anna/);
    expect(await isBlocked(client.id)).toBe(false);
  });

  it('a block the bot has not seen yet: the prompt gets 403, the person is marked blocked, the row fails once', async () => {
    h = await startHarness(engine);
    const operator = h.operator;
    const client = await h.client('Anna');
    const other = await h.client('Boris');

    await client.blockBot();
    await vi.waitFor(async () => expect(await isBlocked(client.id)).toBe(true));
    // As if the my_chat_member update had not arrived yet: only the 403 can tell.
    await h.app.directory.setBlocked(client.id, false);

    expect(await sendRequest(operator, 'Anna', 'Personal data')).toBe('“Personal data” sent to Anna.');
    const db = h.app.database.db;
    const failed = await vi.waitFor(async () => {
      const rows = await db
        .select()
        .from(outbox)
        .where(and(eq(outbox.chatId, client.id), eq(outbox.status, 'failed')));
      expect(rows).toHaveLength(1);
      return rows[0];
    });
    expect(failed).toMatchObject({
      method: 'sendMessage',
      attempts: 1,
      lastError: expect.stringMatching(/Forbidden: bot was blocked by the user/),
    });
    expect(await isBlocked(client.id)).toBe(true);
    await operator.waitForMessage(/Anna has blocked the bot, so “Personal data” cannot go on/);

    // Another pass does not try it again.
    await h.app.sender.flush();
    const [again] = await db
      .select()
      .from(outbox)
      .where(eq(outbox.id, failed?.id ?? 0));
    expect(again).toMatchObject({ status: 'failed', attempts: 1 });

    // The bot carries on for everyone else, and the card shows the block.
    await sendRequest(operator, 'Boris', 'Passport photo');
    await other.waitForMessage(/Passport photo · step 1 of 1/);
    // The card itself (the notice that Anna opened the bot may arrive after it).
    const card = await openClientCard(operator, 'Anna');
    expect(card.text).toContain('⛔ Has blocked the bot');
  });
});
