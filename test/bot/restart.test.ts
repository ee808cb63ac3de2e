import { afterEach, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/db.js';
import { sendRequest, startHarness, type Harness } from '../helpers/bot.js';

describe.each(ENGINES)('a restart in the middle of a request on %s', (engine) => {
  let h: Harness;
  afterEach(() => h.close());

  it('the request carries on where it was after the bot process restarts', async () => {
    h = await startHarness(engine);
    const operator = h.operator;
    const client = await h.client('Anna');

    await sendRequest(operator, 'Anna', 'Personal data');
    await client.waitForMessage(/step 1 of 3/);
    await client.send('Anna Smirnova');
    await client.waitForMessage(/step 2 of 3/);

    await h.restart();

    await client.send('Tula');
    await client.waitForMessage(/step 3 of 3/);
    await client.send('05.05.1985');
    const summary = await client.waitForMessage(/please check your answers/);
    expect(summary.text).toContain('Full name: Anna Smirnova');
    await client.press('✅ Confirm');
    await client.waitForMessage(/sent to the operator/);
    await operator.waitForMessage(/📥 Personal data from Anna/);
    await operator.press('✅ Accept');
    await operator.waitForMessage(/Accepted by Olga/);
    await client.waitForMessage(/accepted “Personal data”/);

    // Every prompt went out exactly once.
    expect(
      client
        .messages()
        .filter((m) => /step \d of 3/.test(m.text ?? ''))
        .map((m) => /step (\d)/.exec(m.text ?? '')?.[1]),
    ).toEqual(['1', '2', '3']);
  });
});
