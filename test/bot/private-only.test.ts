import { eq, inArray } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { messages, people } from '../../src/db/schema.js';
import { ENGINES } from '../helpers/db.js';
import { sendRequest, startHarness, type Harness } from '../helpers/bot.js';

describe.each(ENGINES)('private chats only, on %s', (engine) => {
  let h: Harness;
  afterEach(() => h.close());

  it('a group conversation stores nothing and tells nobody; the bot says so once and leaves, every time it is added', async () => {
    h = await startHarness(engine);
    const operator = h.operator;
    const anna = await h.client('Anna');
    await sendRequest(operator, 'Anna', 'Personal data');
    await anna.waitForMessage(/step 1 of 3/);
    await operator.waitForMessage(/was sent to Anna/);
    const stranger = h.emu.createUser({ firstName: 'Stranger', languageCode: 'en' });
    const operatorSeen = operator.messages().length;

    for (const type of ['group', 'supergroup'] as const) {
      const group = h.emu.createGroup({ title: `Team ${type}`, type, members: [anna, operator, stranger] });
      await group.addBot(anna);
      await group.send(anna, 'Anna Karenina');
      await group.send(anna, 'Moscow');
      await group.send(stranger, 'hello everyone');
      await group.send(operator, '/menu');
      await group.waitForMessage(/I work in private chats only/, { timeoutMs: 30_000 });
      await h.app.sender.flush(); // the leave goes out right after the notice
      expect(group.botIsMember()).toBe(false);

      // Added again: it leaves again, without a second notice.
      await group.addBot(stranger);
      await anna.send('/help'); // a private update after every group one: once answered, all were taken
      await anna.waitForMessage(/Right now we need/, { timeoutMs: 30_000 });
      await h.app.inbox.drain();
      await h.app.sender.flush();
      expect(group.botIsMember()).toBe(false);
      expect(
        group
          .messages()
          .filter((m) => m.from === 'bot')
          .map((m) => m.text),
      ).toEqual(['I work in private chats only. Please write to me directly.']);
    }

    // Nothing of it stored as an answer, logged, or passed on; the stranger is no client.
    const [flow] = await h.app.flows.flowsOf(anna.id);
    expect(await h.app.flows.answersOf(flow?.id ?? 0)).toEqual([]);
    const db = h.app.database.db;
    expect(await db.select().from(people).where(eq(people.id, stranger.id))).toEqual([]);
    const logged = await db
      .select()
      .from(messages)
      .where(inArray(messages.chatId, [anna.id, stranger.id]));
    expect(logged.map((m) => m.text).filter((t) => /Karenina|Moscow|hello everyone/.test(t ?? ''))).toEqual([]);
    expect(
      operator
        .messages()
        .slice(operatorSeen)
        .map((m) => m.text),
    ).toEqual([]);
    expect(h.app.inbox.counters.dropped.not_private).toBeGreaterThanOrEqual(8);
    // Anna's request is where it was.
    await anna.send('Anna Karenina');
    await anna.waitForMessage(/step 2 of 3/);
  });
});
