import { afterEach, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/db.js';
import { startHarness, type Harness } from '../helpers/bot.js';

describe.each(ENGINES)('delivery address (a location step) on %s', (engine) => {
  let h: Harness;
  afterEach(() => h.close());

  it('the client shares the point with the button after a refused text; the operator sees it', async () => {
    h = await startHarness(engine);
    const operator = h.operator;
    const client = await h.client('Anna');

    await operator.send('/menu');
    await operator.waitForMessage(/Operator menu/);
    await operator.press(/Clients/);
    await operator.waitForMessage(/Clients \(1\)/);
    await operator.press(/Anna/);
    await operator.waitForMessage(/👤 Anna/);
    await operator.press('Delivery address');

    await client.waitForMessage(/Delivery address · step 1 of 2/);
    await client.send('12 Rue Cler, flat 4');
    const prompt = await client.waitForMessage(/Delivery address · step 2 of 2/);
    expect(prompt.text).toContain('Tap "📍 Share location"');
    expect(client.replyKeyboard()).toEqual([
      [{ text: '📍 Share location', request_location: true }],
      [{ text: '💬 Message the operator' }],
    ]);

    // A sticker is no attempt at an answer (as at every step); typed coordinates are a wrong kind of answer.
    await client.sendSticker();
    await client.waitForMessage(/cannot be used as an answer here/);
    await client.send('48.85837, 2.29448');
    const refusal = await client.waitForMessage(/Please share a location/);
    expect(refusal.text).toBe('❗ Please share a location: tap “📍 Share location” (or 📎 → Location).\nAttempts left: 2.');
    expect(client.replyKeyboard()).toEqual([[{ text: '📍 Share location', request_location: true }]]);

    await client.pressReplyButton('📍 Share location', { location: { latitude: 48.858370123, longitude: 2.294481 } });
    const summary = await client.waitForMessage(/please check your answers/);
    expect(summary.text).toContain('Address: 12 Rue Cler, flat 4');
    expect(summary.text).toContain('Map point: 48.85837, 2.29448');
    await client.press('✅ Confirm');
    await client.waitForMessage(/“Delivery address” is done/);

    const done = await operator.waitForMessage(/Anna completed “Delivery address”/);
    expect(done.text).toContain('Map point: 48.85837, 2.29448');
  });
});
