import { afterEach, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/db.js';
import { openClientCard, sendRequest, startHarness, type Harness } from '../helpers/bot.js';

describe.each(ENGINES)('controls on the client card on %s', (engine) => {
  let h: Harness;
  afterEach(() => h.close());

  it('retry step re-asks the step, reset goes back to step 1, cancel tells the client', async () => {
    h = await startHarness(engine);
    const operator = h.operator;
    const client = await h.client('Anna');

    await sendRequest(operator, 'Anna', 'Personal data');
    await client.waitForMessage(/step 1 of 3/);
    await client.send('Anna Smirnova');
    await client.waitForMessage(/step 2 of 3/);
    await client.send('Tula');
    await client.waitForMessage(/step 3 of 3/);

    await openClientCard(operator, 'Anna');
    const card = operator.lastMessage();
    expect(card?.text).toMatch(/Now: Personal data — ✍️ answering \(3\/3\)/);
    const buttons = (card?.replyMarkup && 'inline_keyboard' in card.replyMarkup ? card.replyMarkup.inline_keyboard : [])
      .flat()
      .map((b) => b.text);
    expect(buttons.slice(0, 4)).toEqual(['🔄 Resend prompt', '🔂 Retry step', '⏮ Reset', '✖️ Cancel']);

    // Resend prompt: the same step again, nothing changes.
    let query = await operator.press('🔄 Resend prompt');
    expect((await operator.waitForCallbackAnswer(query)).text).toBe('Sent to the client again.');
    await client.waitForMessage(/step 3 of 3[\s\S]*birth date/);

    query = await operator.press('🔂 Retry step');
    expect((await operator.waitForCallbackAnswer(query)).text).toBe('The client is asked this step again.');
    await client.waitForMessage(/step 3 of 3[\s\S]*birth date/);
    await operator.waitForMessage(/Now: Personal data — ✍️ answering \(3\/3\)/);

    // Reset asks first; without a reason the client is only told that it starts over.
    await operator.press('⏮ Reset');
    await operator.waitForMessage(/Start “Personal data” over for Anna\?/);
    query = await operator.press('Without a reason');
    expect((await operator.waitForCallbackAnswer(query)).text).toBe('Started over; the client is told.');
    const told = await client.waitForMessage(/Your operator has started “Personal data” over/);
    expect(told.text).not.toMatch(/Reason:/);
    await client.waitForMessage(/step 1 of 3[\s\S]*full name/);
    await operator.waitForMessage(/Now: Personal data — ✍️ answering \(1\/3\)/);
    await client.send('Anna Petrova');
    await client.waitForMessage(/step 2 of 3/);

    await openClientCard(operator, 'Anna');
    await operator.press('✖️ Cancel');
    await operator.waitForMessage(/Cancel “Personal data” for Anna\?/);
    query = await operator.press('It is no longer needed');
    expect((await operator.waitForCallbackAnswer(query)).text).toBe('Cancelled; the client is told.');
    await client.waitForMessage(/The request “Personal data” was cancelled[\s\S]*Reason: It is no longer needed/);
    await operator.waitForMessage(/No active request/);

    const [flow] = await h.app.flows.flowsOf(client.id);
    expect(flow?.status).toBe('cancelled');
    const events = (await h.app.flows.eventsOf(flow?.id ?? 0)).map((e) => e.event);
    expect(events).toEqual(['START', 'ANSWER', 'ANSWER', 'RESEND', 'RETRY_STEP', 'RESET', 'ANSWER', 'CANCEL']);
    // Reset dropped the answers of the first round.
    const answers = await h.app.flows.answersOf(flow?.id ?? 0);
    expect(answers.filter((a) => a.status === 'pending').map((a) => a.value)).toEqual([{ kind: 'text', text: 'Anna Petrova' }]);
  });

  it('reset pressed on a client card made before the client answered applies, with a reason the client is told', async () => {
    h = await startHarness(engine);
    const operator = h.operator;
    const client = await h.client('Anna');

    await sendRequest(operator, 'Anna', 'Personal data');
    const card = await operator.waitFor((messages) => messages.find((m) => /👤 Anna[\s\S]*answering \(1\/3\)/.test(m.text ?? '')));
    await client.waitForMessage(/step 1 of 3/);
    await client.send('Anna Smirnova');
    await client.waitForMessage(/step 2 of 3/);

    // Reset applies to any active request: the old card asks for confirmation, then it starts over.
    await operator.press('⏮ Reset', { messageId: card.messageId });
    await operator.waitForMessage((m) => m.messageId === card.messageId && /Start “Personal data” over/.test(m.text ?? ''));
    const query = await operator.press('There are mistakes in the answers', { messageId: card.messageId });
    expect((await operator.waitForCallbackAnswer(query)).text).toBe('Started over; the client is told.');
    await client.waitForMessage(/started “Personal data” over[\s\S]*Reason: There are mistakes in the answers/);
    await client.waitForMessage(/step 1 of 3/);
    const redrawn = await operator.waitForMessage((m) => m.messageId === card.messageId && /answering \(1\/3\)/.test(m.text ?? ''));
    expect(redrawn.text).toMatch(/👤 Anna/);
    const [flow] = await h.app.flows.flowsOf(client.id);
    const reset = (await h.app.flows.eventsOf(flow?.id ?? 0)).find((e) => e.event === 'RESET');
    expect(reset?.payload).toEqual({ reason: 'There are mistakes in the answers' });
  });
});
