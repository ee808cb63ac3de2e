import { afterEach, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/db.js';
import { sendRequest, startHarness, type Harness } from '../helpers/bot.js';
import { samplePhoto } from '../helpers/telegram.js';

describe.each(ENGINES)('a stale review card on %s', (engine) => {
  let h: Harness;
  afterEach(() => h.close());

  it('Accept on an older copy of the card after asking again says the request changed and refreshes it', async () => {
    h = await startHarness(engine);
    const operator = h.operator;
    const client = await h.client('Anna');

    await sendRequest(operator, 'Anna', 'Passport photo');
    await client.waitForMessage(/step 1 of 1/);
    await client.sendPhoto({ bytes: samplePhoto() });
    const oldCard = await operator.waitForMessage(/📥 Passport photo from Anna \(round 1\)/);

    // The operator brings the card up again from the menu: a second copy of it.
    await operator.send('/menu');
    await operator.waitForMessage(/Operator menu/);
    await operator.press('📥 Awaiting review (1)');
    await operator.waitForMessage(/Awaiting review \(1\)/);
    await operator.press(/Anna · Passport photo/);
    const copy = await operator.waitForMessage(/📥 Passport photo from Anna \(round 1\)/);
    expect(copy.messageId).not.toBe(oldCard.messageId);

    await operator.press('🔁 Ask again', { messageId: copy.messageId });
    await operator.waitForMessage(/Send back: All steps/);
    await operator.press('The photo is blurry');
    await client.waitForMessage(/send this again: The photo is blurry/);

    const query = await operator.press('✅ Accept', { messageId: oldCard.messageId });
    expect((await operator.waitForCallbackAnswer(query)).text).toBe('This request has changed: it is now being answered by the client.');
    const refreshed = await operator.waitForMessage((m) => m.messageId === oldCard.messageId && /answering/.test(m.text ?? ''));
    expect(refreshed.text).toMatch(/Passport photo · Anna\n✍️ answering/);
    const buttons = (refreshed.replyMarkup && 'inline_keyboard' in refreshed.replyMarkup ? refreshed.replyMarkup.inline_keyboard : [])
      .flat()
      .map((b) => b.text);
    expect(buttons).not.toContain('✅ Accept');

    const [flow] = await h.app.flows.flowsOf(client.id);
    expect(flow?.status).toBe('collecting');
    expect(client.messages().some((m) => /accepted/.test(m.text ?? ''))).toBe(false);

    await client.sendPhoto({ bytes: samplePhoto({ rgb: [0, 0, 255] }) });
    await operator.waitForMessage(/Passport photo from Anna \(round 2\)/);
    await operator.press('✅ Accept');
    await client.waitForMessage(/accepted “Passport photo”/);
  });
});
