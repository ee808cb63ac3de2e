/**
 * Staff presses in one operator chat: a press on one client's card does not wait for a press on another
 * client's card (the inbox runs them in per-client sub-lanes of the chat), while everything that reads or
 * writes the menu session keeps the chat's full order: a reason typed right after "Type a reason" is taken
 * as the reason, and a later press waits for it.
 */
import type { Update } from 'telegraf/types';
import { afterEach, describe, expect, it } from 'vitest';
import { laneKeyOf } from '../../src/bot/index.js';
import { pack, parse } from '../../src/ui/callback-data.js';
import { ENGINES } from '../helpers/db.js';
import { openClientCard, startHarness, type Harness } from '../helpers/bot.js';
import { samplePhoto } from '../helpers/telegram.js';

const REASON = 'The page is upside down';
/** Waits on a machine shared with other test runs: the app applies updates several at a time in the background. */
const SLOW = { timeoutMs: 20_000 };

/** A promise the test settles itself. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe.each(ENGINES)('presses in one operator chat on %s', (engine) => {
  let h: Harness;
  /** Lets whatever the test holds go, so that the app can stop even when the test failed. */
  let release = () => {};
  afterEach(async () => {
    release();
    await h.close();
  });

  it('for different clients overlap; a typed reason after "Type a reason" lands after it, and a later press after the reason', async () => {
    h = await startHarness(engine);
    const operator = h.operator;
    const [anna, boris] = await Promise.all([h.client('Anna'), h.client('Boris')]);
    if (!anna || !boris) throw new Error('no clients');
    const annaCard = await openClientCard(operator, 'Anna');
    const borisCard = await openClientCard(operator, 'Boris');

    // The updates this test follows, by what they are.
    const labelOf = (update: Update): string | null => {
      if ('message' in update && 'text' in update.message) return update.message.text === REASON ? 'reason' : null;
      const data = 'callback_query' in update && 'data' in update.callback_query ? parse(update.callback_query.data) : null;
      if (data?.kind === 'send') return data.client === anna.id ? 'send Anna' : 'send Boris';
      if (data?.kind === 'askReason') return 'type a reason';
      if (data?.kind === 'history') return 'history';
      return null;
    };
    const ingested = new Map(['reason', 'history'].map((label) => [label, deferred()]));
    const done = new Map(['send Anna', 'send Boris', 'type a reason', 'reason', 'history'].map((label) => [label, deferred()]));
    // Anna's press is held until Boris's is done; "Type a reason" until the reason and the later press are in the inbox.
    const holds = new Map<string, Promise<unknown>>([
      ['send Anna', done.get('send Boris')?.promise ?? Promise.resolve()],
      ['type a reason', Promise.all([...ingested.values()].map((d) => d.promise))],
    ]);
    release = () => [...ingested.values(), ...done.values()].forEach((d) => d.resolve());
    const events: string[] = [];
    const ingest = h.app.inbox.ingest.bind(h.app.inbox);
    h.app.inbox.ingest = async (updates) => {
      await ingest(updates);
      for (const update of updates) ingested.get(labelOf(update) ?? '')?.resolve();
    };
    const handleUpdate = h.app.bot.handleUpdate.bind(h.app.bot);
    h.app.bot.handleUpdate = async (update: Update, response) => {
      const label = labelOf(update);
      if (label === null) return handleUpdate(update, response);
      events.push(`taken: ${label}`);
      await holds.get(label);
      try {
        return await handleUpdate(update, response);
      } finally {
        events.push(`done: ${label}`);
        done.get(label)?.resolve();
      }
    };

    // Two presses on two clients' cards: Anna's, taken first, finishes only after Boris's, which does not wait for it.
    const annaPress = await operator.press('Passport photo', { messageId: annaCard.messageId });
    const borisPress = await operator.press('Passport photo', { messageId: borisCard.messageId });
    expect((await operator.waitForCallbackAnswer(borisPress, SLOW)).text).toBe('“Passport photo” sent to Boris.');
    expect((await operator.waitForCallbackAnswer(annaPress, SLOW)).text).toBe('“Passport photo” sent to Anna.');
    await done.get('send Anna')?.promise;
    expect(events).toEqual(['taken: send Anna', 'taken: send Boris', 'done: send Boris', 'done: send Anna']);
    await boris.waitForMessage(/Passport photo · step 1 of 1/, SLOW);

    await anna.waitForMessage(/Passport photo · step 1 of 1/, SLOW);
    await anna.sendPhoto({ bytes: samplePhoto() });
    const review = await operator.waitForMessage(/📥 Passport photo from Anna \(round 1\)/, SLOW);
    await operator.press('🔁 Ask again', { messageId: review.messageId });
    await operator.waitForMessage((m) => m.messageId === review.messageId && /Send back: All steps/.test(m.text ?? ''), SLOW);

    // The reason is typed at once, and Boris's history asked for, before the bot has taken "Type a reason".
    events.length = 0;
    await operator.press('✍️ Type a reason', { messageId: review.messageId });
    await operator.send(REASON);
    await operator.press('🕘 History', { messageId: borisCard.messageId });
    await anna.waitForMessage(new RegExp(`send this again: ${REASON}`), SLOW);
    await operator.waitForMessage(/History of Boris/, SLOW);
    await done.get('history')?.promise;
    // Each was taken only after the one before it was done.
    expect(events).toEqual([
      'taken: type a reason',
      'done: type a reason',
      'taken: reason',
      'done: reason',
      'taken: history',
      'done: history',
    ]);
  });
});

describe('the sub-lane of an update (laneKeyOf)', () => {
  const press = (data: string, messageId: number | null): Update =>
    ({
      update_id: 1,
      callback_query: {
        id: 'q',
        from: { id: 7, is_bot: false, first_name: 'Olga' },
        chat_instance: 'c',
        data,
        ...(messageId === null ? {} : { message: { message_id: messageId, date: 0, chat: { id: 7, type: 'private' } } }),
      },
    }) as unknown as Update;

  it('is the message of a sessionless press, so two presses on one message stay in order', () => {
    expect(laneKeyOf(press(pack({ kind: 'client', client: 42 }), 10))).toBe(10);
    expect(laneKeyOf(press(pack({ kind: 'client', client: 43 }), 10)), 'another client, the same list message').toBe(10);
    expect(laneKeyOf(press(pack({ kind: 'clients', page: 1 }), 11))).toBe(11);
  });

  it('is none for what keeps the chat in order: presses that use the session, text, and presses without a message', () => {
    expect(laneKeyOf(press(pack({ kind: 'talkReply', client: 42 }), 10))).toBeNull();
    expect(laneKeyOf(press(pack({ kind: 'client', client: 42 }), null))).toBeNull();
    expect(laneKeyOf(press('garbage', 10))).toBeNull();
    const text = { update_id: 2, message: { message_id: 3, date: 0, chat: { id: 7, type: 'private' }, text: 'hi' } } as unknown as Update;
    expect(laneKeyOf(text)).toBeNull();
  });
});
