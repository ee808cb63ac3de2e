import { afterEach, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/db.js';
import { openClientCard, startHarness, type Harness } from '../helpers/bot.js';
import { samplePhoto } from '../helpers/telegram.js';

describe.each(ENGINES)('a second request queues on %s', (engine) => {
  let h: Harness;
  afterEach(() => h.close());

  it('is queued while the first runs, and starts by itself when the first is done', async () => {
    h = await startHarness(engine);
    const operator = h.operator;
    const client = await h.client('Anna');

    await openClientCard(operator, 'Anna');
    const first = await operator.press('Passport photo');
    expect((await operator.waitForCallbackAnswer(first)).text).toBe('“Passport photo” sent to Anna.');
    await operator.waitForMessage(/Now: Passport photo — ✍️ answering \(1\/1\)/);
    const second = await operator.press('Personal data');
    expect((await operator.waitForCallbackAnswer(second)).text).toBe('“Personal data” queued for Anna (position 1).');
    const card = await operator.waitForMessage(/Queued: Personal data/);
    expect(card.text).toMatch(/Now: Passport photo/);
    await operator.waitFor((messages) =>
      messages.find((m) => /Anna is answering another request; “Personal data” is queued \(position 1\)/.test(m.text ?? '')),
    );

    await client.waitForMessage(/Passport photo · step 1 of 1/);
    await client.sendPhoto({ bytes: samplePhoto() });
    await client.waitForMessage(/sent to the operator/);
    // Nothing of the queued request reaches the client while the first one is under review.
    expect(client.messages().some((m) => /Personal data/.test(m.text ?? ''))).toBe(false);

    await operator.waitForMessage(/📥 Passport photo from Anna/);
    await operator.press('✅ Accept');
    await client.waitForMessage(/accepted “Passport photo”/);
    await client.waitForMessage(/Personal data · step 1 of 3/);

    const flows = await h.app.flows.flowsOf(client.id);
    expect(flows.map((f) => [f.requestId, f.status])).toEqual([
      ['personal_data', 'collecting'],
      ['passport_photo', 'completed'],
    ]);
  });
});
