import { afterEach, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/db.js';
import { sendRequest, startHarness, type Harness } from '../helpers/bot.js';

describe.each(ENGINES)('too many invalid answers on %s', (engine) => {
  let h: Harness;
  afterEach(() => h.close());

  it('parks the request, alerts the operator, and Retry step lets the client finish', async () => {
    h = await startHarness(engine);
    const operator = h.operator;
    const client = await h.client('Anna');

    await sendRequest(operator, 'Anna', 'Personal data');
    await client.waitForMessage(/step 1 of 3/);
    await client.send('12345');
    await client.waitForMessage(/Letters, spaces, hyphens and apostrophes only\nAttempts left: 2\./);
    await client.send('x');
    await client.waitForMessage(/Too short: at least 3 characters[\s\S]*Attempts left: 1\./);
    await client.send('@@@');
    await client.waitForMessage(/Too many attempts. Your operator has been told/);

    const alert = await operator.waitForMessage(/Anna could not answer “Full name” of “Personal data” after 3 attempts/);
    expect(alert.text).toContain('last problem: Letters, spaces, hyphens and apostrophes only');
    const buttons = (alert.replyMarkup && 'inline_keyboard' in alert.replyMarkup ? alert.replyMarkup.inline_keyboard : [])
      .flat()
      .map((b) => b.text);
    expect(buttons).toEqual(['🔂 Retry step', '⏮ Reset', '✖️ Cancel']);

    // While parked, the client's answers are not taken: what they write goes to the operator.
    await client.send('Anna Smirnova');
    await client.waitForMessage(/Passed on to your operator/);
    await operator.waitForMessage(/💬 Anna · Personal data\n\nAnna Smirnova/);

    const query = await operator.press('🔂 Retry step', { messageId: alert.messageId });
    expect((await operator.waitForCallbackAnswer(query)).text).toBe('The client is asked this step again.');
    await client.waitForMessage(/step 1 of 3[\s\S]*full name/);
    await client.send('Anna Smirnova');
    await client.waitForMessage(/step 2 of 3/);
    await client.send('Tula');
    await client.waitForMessage(/step 3 of 3/);
    await client.send('02.03.1994');
    await client.waitForMessage(/please check your answers/);
    await client.press('✅ Confirm');
    await operator.waitForMessage(/📥 Personal data from Anna/);
    await operator.press('✅ Accept');
    await client.waitForMessage(/accepted “Personal data”/);

    // The alert no longer offers its buttons.
    const closed = operator.messages().find((m) => m.messageId === alert.messageId);
    expect(closed?.text).toMatch(/Retry step ✓/);
    expect(closed?.replyMarkup).toBeUndefined();
  });
});
