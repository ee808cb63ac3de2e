/**
 * The operator menu is a dashboard of what waits: counts (awaiting review, needs attention, active,
 * unassigned), each a button to its list; lists run oldest first with how long each has waited, and what
 * waited for an operator longer than REVIEW_OVERDUE_HOURS is marked ⚠️. A parked request stays in
 * "Needs attention" until someone resolves it.
 */
import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../src/playground/emulator/index.js';
import { ENGINES } from '../helpers/db.js';
import { sendRequest, startHarness, type Harness } from '../helpers/bot.js';
import { samplePhoto } from '../helpers/telegram.js';

function buttonsOf(message: ChatMessage | undefined): string[] {
  const markup = message?.replyMarkup;
  return (markup && 'inline_keyboard' in markup ? markup.inline_keyboard : []).flat().map((b) => b.text);
}

describe.each(ENGINES)('the operator dashboard on %s', (engine) => {
  let h: Harness;
  afterEach(() => h.close());

  it('counts what waits, lists it oldest first with waiting times, marks the overdue, keeps a parked request until resolved', async () => {
    h = await startHarness(engine, { app: { reviewOverdueHours: 24 } });
    const olga = h.operator;
    const [anna, boris, vera] = [await h.client('Anna'), await h.client('Boris'), await h.client('Vera')];
    const dima = await h.client('Dima');

    // Anna: a passport photo to review.
    await sendRequest(olga, 'Anna', 'Passport photo');
    await anna.waitForMessage(/step 1 of 1/);
    await anna.sendPhoto({ bytes: samplePhoto() });
    await olga.waitForMessage(/📥 Passport photo from Anna/);
    // Boris: parked after too many invalid answers (needs the operator).
    await sendRequest(olga, 'Boris', 'Personal data');
    await boris.waitForMessage(/step 1 of 3/);
    for (const bad of ['12345', 'x', '@@@']) await boris.send(bad);
    await boris.waitForMessage(/Too many attempts/);
    await olga.waitForMessage(/Boris could not answer/);
    // Vera: still answering.
    await sendRequest(olga, 'Vera', 'Personal data');
    await vera.waitForMessage(/step 1 of 3/);

    // How long each has waited: set in the data (the last change of each request, when Dima opened the bot).
    const db = h.app.database.db;
    const flowOf = async (clientId: number) => (await h.app.flows.flowsOf(clientId))[0]?.id ?? 0;
    const ago = async (flowId: number, interval: string) =>
      db.execute(sql`update flows set updated_at = now() - ${interval}::interval where id = ${flowId}`);
    await ago(await flowOf(anna.id), '30 hours');
    await ago(await flowOf(boris.id), '2 hours');
    await ago(await flowOf(vera.id), '10 minutes');
    await db.execute(sql`update people set started_at = now() - interval '3 days' where id = ${dima.id}`);

    await olga.send('/menu');
    const menu = await olga.waitForMessage(/Operator menu/);
    expect(menu.text).toContain('Awaiting review: 1 · needs attention: 1 · active: 3 · unassigned: 1');
    expect(buttonsOf(menu)).toEqual(
      expect.arrayContaining(['📥 Awaiting review (1)', '⚠️ Needs attention (1)', '⏳ Active requests (3)', '🆕 Unassigned (1)']),
    );

    await olga.press('⏳ Active requests (3)');
    const active = await olga.waitForMessage(/Active requests \(3\), the longest-waiting first/);
    expect(buttonsOf(active).slice(0, 3)).toEqual([
      '⚠️ Anna · Passport photo · 📥 to review · 30 h',
      'Boris · Personal data · ⚠️ needs you · 2 h',
      'Vera · Personal data · ✍️ answering · 10 min',
    ]);
    expect(active.text).toContain('⚠️ overdue: waiting for an operator longer than 24 h');

    await olga.press('⬅️ Menu');
    await olga.waitForMessage(/Operator menu/);
    await olga.press('🆕 Unassigned (1)');
    const unassigned = await olga.waitForMessage(/Unassigned clients \(1\)/);
    expect(buttonsOf(unassigned).slice(0, 2)).toEqual(['⚠️ Dima · 3 d', '✋ Take']);

    // The parked request stays in Needs attention: its alert comes back from the list, and Retry resolves it.
    await olga.press('⬅️ Menu');
    await olga.waitForMessage(/Operator menu/);
    await olga.press('⚠️ Needs attention (1)');
    await olga.waitForMessage(/Needs attention \(1\)/);
    await olga.press(/^Boris · Personal data · 2 h$/);
    const alert = await olga.waitForMessage(/Boris could not answer/);
    const query = await olga.press('🔂 Retry step', { messageId: alert.messageId });
    expect((await olga.waitForCallbackAnswer(query)).text).toBe('The client is asked this step again.');
    await boris.waitForMessage(/step 1 of 3/);
    await olga.send('/menu');
    const after = await olga.waitForMessage(/Operator menu/);
    expect(after.text).toContain('Awaiting review: 1 · needs attention: 0 · active: 3 · unassigned: 1');
  });
});
