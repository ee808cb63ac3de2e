import { afterEach, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/db.js';
import { sendRequest, startHarness, type Harness } from '../helpers/bot.js';
import type { EmulatedUser } from '../helpers/telegram.js';

describe.each(ENGINES)('two operators, three clients at once on %s', (engine) => {
  let h: Harness;
  afterEach(() => h.close());

  it('requests go out in parallel, clients answer concurrently, each card reaches its own operator', async () => {
    h = await startHarness(engine, { operators: 2 });
    const [olga, oleg] = h.operators;
    if (!olga || !oleg) throw new Error('no operators');
    const [anna, boris, vera] = await Promise.all([h.client('Anna'), h.client('Boris'), h.client('Vera')]);
    if (!anna || !boris || !vera) throw new Error('no clients');

    // Olga asks Anna and Vera for personal data while Oleg asks Boris for it.
    await Promise.all([
      (async () => {
        await sendRequest(olga, 'Anna', 'Personal data');
        await sendRequest(olga, 'Vera', 'Personal data');
      })(),
      sendRequest(oleg, 'Boris', 'Personal data'),
    ]);

    const answer = async (client: EmulatedUser, name: string, city: string) => {
      await client.waitForMessage(/Personal data · step 1 of 3/);
      await client.send(`${name} Testova`);
      await client.waitForMessage(/step 2 of 3/);
      await client.send(city);
      await client.waitForMessage(/step 3 of 3/);
      await client.send('01.01.1991');
      await client.waitForMessage(/please check your answers/);
      await client.press('✅ Confirm');
      await client.waitForMessage(/sent to the operator/);
    };
    await Promise.all([answer(anna, 'Anna', 'Tver'), answer(boris, 'Boris', 'Omsk'), answer(vera, 'Vera', 'Perm')]);

    // Olga's chat also carries her two live client cards, redrawn at every answer: the review cards queue behind them.
    const SLOW = { timeoutMs: 20_000 };
    const olgaCards = [await olga.waitForMessage(/📥 Personal data from/, SLOW), await olga.waitForMessage(/📥 Personal data from/, SLOW)];
    const olegCard = await oleg.waitForMessage(/📥 Personal data from/, SLOW);
    expect(olgaCards.map((m) => /from (\w+)/.exec(m.text ?? '')?.[1]).sort()).toEqual(['Anna', 'Vera']);
    expect(olegCard.text).toMatch(/from Boris[\s\S]*City: Omsk/);
    expect(oleg.messages().filter((m) => /📥 Personal data from/.test(m.text ?? ''))).toHaveLength(1);

    // Accept all three, Olga's two at once.
    await Promise.all([
      ...olgaCards.map((card) => olga.press('✅ Accept', { messageId: card.messageId }).then((q) => olga.waitForCallbackAnswer(q))),
      oleg.press('✅ Accept', { messageId: olegCard.messageId }).then((q) => oleg.waitForCallbackAnswer(q)),
    ]);
    await Promise.all([anna, boris, vera].map((c) => c.waitForMessage(/accepted “Personal data”. All done/)));

    for (const client of [anna, boris, vera]) {
      const flows = await h.app.flows.flowsOf(client.id);
      expect(flows.map((f) => f.status)).toEqual(['completed']);
    }
    expect((await h.app.flows.flowsOf(boris.id))[0]?.operatorId).toBe(oleg.id);
    expect((await h.app.flows.flowsOf(vera.id))[0]?.operatorId).toBe(olga.id);
    // Each client saw only their own city.
    expect(anna.transcript()).not.toMatch(/Omsk|Perm/);
  });

  it("one client's answers sent back to back are taken in the order they were sent", async () => {
    h = await startHarness(engine);
    const operator = h.operator;
    const client = await h.client('Anna');
    await sendRequest(operator, 'Anna', 'Personal data');
    await client.waitForMessage(/step 1 of 3/);

    // Without waiting for the next prompt: Telegram hands these to the bot in one batch.
    await client.send('Anna Smirnova');
    await client.send('Tula');
    await client.send('05.05.1985');
    const summary = await client.waitForMessage(/please check your answers/);
    expect(summary.text).toContain('Full name: Anna Smirnova\nCity: Tula\nBirth date: 05.05.1985');
    expect(client.messages().some((m) => /❗/.test(m.text ?? ''))).toBe(false);
  });
});
