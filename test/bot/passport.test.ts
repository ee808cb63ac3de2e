import { afterEach, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/db.js';
import { startHarness, type Harness } from '../helpers/bot.js';
import { samplePhoto } from '../helpers/telegram.js';

describe.each(ENGINES)('passport photo conversation on %s', (engine) => {
  let h: Harness;
  afterEach(() => h.close());

  it('document refused, photo taken, asked again as blurry, re-sent, accepted', async () => {
    h = await startHarness(engine);
    const operator = h.operator;
    const client = await h.client('Anna');

    await operator.send('/menu');
    await operator.waitForMessage(/Operator menu/);
    await operator.press(/Clients/);
    await operator.waitForMessage(/Clients \(1\)/);
    await operator.press(/Anna/);
    await operator.waitForMessage(/👤 Anna/);
    await operator.press('Passport photo');

    await client.waitForMessage(/Passport photo · step 1 of 1/);
    await client.sendDocument({ bytes: samplePhoto(), fileName: 'passport.jpg', mimeType: 'image/jpeg' });
    await client.waitForMessage(/send it as a photo, not as a file/);
    await client.sendPhoto({ bytes: samplePhoto() });
    await client.waitForMessage(/sent to the operator/);

    await operator.waitForMessage((m) => m.photo !== undefined && /Anna · Passport photo/.test(m.caption ?? ''));
    await operator.waitForMessage(/📥 Passport photo from Anna/);
    await operator.press(/Ask again/);
    // One step: no step picker, straight to the reasons that fit a photo.
    await operator.waitForMessage(/Send back: All steps/);
    await operator.press('The photo is blurry');
    await operator.waitForMessage(/Asked again: The photo is blurry/);

    await client.waitForMessage(/send this again: The photo is blurry/);
    await client.sendPhoto({ bytes: samplePhoto({ rgb: [10, 200, 10] }) });
    await client.waitForMessage(/sent to the operator/);
    await operator.waitForMessage(/Passport photo from Anna \(round 2\)/);
    await operator.press('✅ Accept');
    await operator.waitForMessage(/Accepted by Olga/);
    await client.waitForMessage(/accepted “Passport photo”. All done/);
    expect(client.callbackAnswers()).toEqual([]);
  });
});
