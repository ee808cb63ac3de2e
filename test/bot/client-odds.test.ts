import { afterEach, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/db.js';
import { sendRequest, startHarness, type Harness } from '../helpers/bot.js';

describe.each(ENGINES)('odd things clients send on %s', (engine) => {
  let h: Harness;
  afterEach(() => h.close());

  it('stickers and voice notes, edits and a very long name, during a request', async () => {
    h = await startHarness(engine);
    const operator = h.operator;
    const client = await h.client('Anna');
    await sendRequest(operator, 'Anna', 'Personal data');
    await client.waitForMessage(/step 1 of 3/);

    await client.sendSticker();
    await client.waitForMessage(/this kind of message cannot be used as an answer here/);
    await client.sendVoice();
    await client.waitForMessage(/this kind of message cannot be used as an answer here/);

    const sent = await client.send('A'.repeat(201));
    // Not counted: the first real invalid answer still leaves 2 attempts.
    await client.waitForMessage(/Too long: at most 200 characters, please\.\nAttempts left: 2\./);

    await client.editMessage(sent.messageId, 'Anna Smirnova');
    await client.waitForMessage(/Edited messages are not picked up/);
    const [flow] = await h.app.flows.flowsOf(client.id);
    expect(await h.app.flows.answersOf(flow?.id ?? 0)).toEqual([]);

    await client.send('Anna Smirnova');
    await client.waitForMessage(/step 2 of 3/);
  });

  it('a client with no request: what they write goes to every operator, and they are told so once per quiet period', async () => {
    h = await startHarness(engine, { operators: 2 });
    const [olga, oleg] = h.operators;
    if (!olga || !oleg) throw new Error('no operators');
    const client = await h.client('Anna');

    await client.send('Hello, when do I send the documents?');
    await client.waitForMessage(/Passed on to your operator/);
    for (const staff of [olga, oleg, h.admin])
      await staff.waitForMessage(/💬 Anna · no open request\n\nHello, when do I send the documents\?/);

    await client.send('Hello?');
    for (const staff of [olga, oleg, h.admin]) await staff.waitForMessage(/💬 Anna · no open request\n\nHello\?/);
    await client.sendSticker();
    for (const staff of [olga, oleg, h.admin]) {
      await staff.waitForMessage(/^💬 Anna · no open request$/);
      await staff.waitForMessage((m) => m.sticker !== undefined);
    }
    // The operators got all three; the client was told once.
    expect(
      client
        .messages()
        .filter((m) => m.from === 'bot')
        .map((m) => m.text),
    ).toEqual([expect.stringMatching(/^Hello, Anna/), expect.stringMatching(/^✉️ Passed on to your operator/)]);
  });
});
