import { afterEach, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/db.js';
import { startHarness, type Harness } from '../helpers/bot.js';

describe.each(ENGINES)('invite links on %s', (engine) => {
  let h: Harness;
  afterEach(() => h.close());

  it('binds a new client to the operator and starts the request at once; single use; unknown codes refused', async () => {
    h = await startHarness(engine);
    const operator = h.operator;

    await operator.send('/menu');
    await operator.waitForMessage(/Operator menu/);
    await operator.press('🔗 Invite a client');
    await operator.waitForMessage(/Invite a client/);
    await operator.press('🔗 + Passport photo');
    const invite = await operator.waitForMessage(/Invite link \(single use, valid for 7 days, starts “Passport photo”\)/);
    const code = /https:\/\/t\.me\/orb_test_bot\?start=([\w-]+)/.exec(invite.text ?? '')?.[1];
    if (!code) throw new Error(`no link in ${invite.text}`);

    const anna = h.emu.createUser({ firstName: 'Anna', languageCode: 'en' });
    await anna.send(`/start ${code}`);
    await anna.waitForMessage(/You are now connected with your operator Olga Operator/);
    await anna.waitForMessage(/Passport photo · step 1 of 1/);
    const person = await h.app.directory.get(anna.id);
    expect(person?.operatorId).toBe(operator.id);
    expect(person?.startedAt).not.toBeNull();
    const [flow] = await h.app.flows.flowsOf(anna.id);
    expect(flow).toMatchObject({ requestId: 'passport_photo', status: 'collecting', operatorId: operator.id });
    await operator.waitFor((messages) => messages.find((m) => /“Passport photo” was sent to Anna/.test(m.text ?? '')));

    // The same link a second time, by someone else and by Anna herself.
    const boris = h.emu.createUser({ firstName: 'Boris', languageCode: 'en' });
    await boris.send(`/start ${code}`);
    await boris.waitForMessage(/This invite link has already been used/);
    expect((await h.app.directory.get(boris.id))?.operatorId).toBeNull();
    expect(await h.app.flows.flowsOf(boris.id)).toEqual([]);
    await anna.send(`/start ${code}`);
    await anna.waitForMessage(/This invite link has already been used/);
    expect(await h.app.flows.flowsOf(anna.id)).toHaveLength(1);

    const vera = h.emu.createUser({ firstName: 'Vera', languageCode: 'en' });
    await vera.send('/start notARealCode123');
    await vera.waitForMessage(/This invite link is not valid/);
  });
});
