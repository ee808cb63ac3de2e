import { asc, eq, like } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { messages, outbox } from '../../src/db/schema.js';
import { pack } from '../../src/ui/callback-data.js';
import { ENGINES } from '../helpers/db.js';
import { openClientCard, sendRequest, startHarness, type Harness } from '../helpers/bot.js';
import { samplePdf, samplePhoto, type ChatMessage } from '../helpers/telegram.js';

const hasText = (pattern: RegExp) => (m: ChatMessage) => pattern.test(m.text ?? m.caption ?? '');

describe.each(ENGINES)('a conversation beside the requests on %s', (engine) => {
  let h: Harness;
  afterEach(() => h.close());

  it('a question at a photo step reaches the operator without costing an attempt; replies by button and by Telegram reply arrive in order', async () => {
    h = await startHarness(engine);
    const operator = h.operator;
    const anna = await h.client('Anna');
    // A client with no operator yet: every operator (and admin) hears of her.
    await operator.waitForMessage(/👋 New client Anna opened the bot; no operator yet/);
    await h.admin.waitForMessage(/👋 New client Anna opened the bot/);

    await sendRequest(operator, 'Anna', 'Passport photo');
    const prompt = await anna.waitForMessage(/Passport photo · step 1 of 1/);
    expect(JSON.stringify(prompt.replyMarkup)).toContain('💬 Message the operator');
    const attemptsBefore = await attemptsLeft(anna.id);

    await anna.send('I don’t have my passport with me, can I send it tomorrow?');
    await anna.waitForMessage(/Passed on to your operator.*This step still waits for your answer/);
    expect(await attemptsLeft(anna.id)).toBe(attemptsBefore);
    const flow = await h.app.flows.activeFlow(anna.id);
    expect(flow?.view.kind).toBe('prompt');
    expect(await h.app.flows.answersOf(flow?.id ?? 0)).toEqual([]);

    const relayed = await operator.waitForMessage(hasText(/💬 Anna · Passport photo\n\nI don’t have my passport with me/));
    expect(JSON.stringify(relayed.replyMarkup)).toContain('↩️ Reply');
    expect(JSON.stringify(relayed.replyMarkup)).toContain('📇 Client card');

    // Reply by button: the next message goes to Anna.
    await operator.press('↩️ Reply', { messageId: relayed.messageId });
    await operator.waitForMessage(/Write your reply: your next message .* goes to Anna/);
    await operator.send('Yes, tomorrow is fine.');
    await operator.waitForMessage(/Sent to Anna/);
    const reply = await anna.waitForMessage(/Olga Operator \(your operator\)\n\nYes, tomorrow is fine\./);
    expect(JSON.stringify(reply.replyMarkup)).toContain('💬 Message the operator');

    // Telegram's own reply to the passed-on message, three in a row: they arrive in this order.
    for (const text of ['First reply', 'Second reply', 'Third reply']) await operator.send(text, { replyTo: relayed.messageId });
    await anna.waitForMessage(/Third reply/);
    const order = anna
      .messages()
      .map((m) => /(First|Second|Third) reply/.exec(m.text ?? '')?.[1])
      .filter((x) => x !== undefined);
    expect(order).toEqual(['First', 'Second', 'Third']);

    // The step still takes its photo; then a question during the review reaches the operator.
    await anna.sendPhoto({ bytes: samplePhoto() });
    await anna.waitForMessage(/sent to the operator/);
    await operator.waitForMessage(/📥 Passport photo from Anna/);
    await anna.send('Did you get it?');
    await operator.waitForMessage(hasText(/💬 Anna · Passport photo\n\nDid you get it\?/));

    // Both directions are in the message log, with the request, and in Anna's conversation.
    const db = h.app.database.db;
    const log = await db.select().from(messages).where(eq(messages.talkClientId, anna.id)).orderBy(asc(messages.id));
    expect(log.map((m) => [m.chatId === anna.id ? 'client' : 'operator', m.text, m.flowId])).toEqual([
      ['client', 'I don’t have my passport with me, can I send it tomorrow?', flow?.id],
      ['operator', 'Yes, tomorrow is fine.', flow?.id],
      ['operator', 'First reply', flow?.id],
      ['operator', 'Second reply', flow?.id],
      ['operator', 'Third reply', flow?.id],
      ['client', 'Did you get it?', flow?.id],
    ]);
    const entries = await h.app.conversation.entries(anna.id);
    expect(entries.map((e) => [e.from, e.text])[0]).toEqual(['client', 'Did you get it?']);
    expect(entries.filter((e) => e.from === 'operator').every((e) => e.operatorId === operator.id)).toBe(true);
    await openClientCard(operator, 'Anna');
    await operator.press('🕘 History');
    await operator.waitForMessage(
      /💬 Conversation with the staff\n← I don’t have my passport[^\n]*\n→ Olga Operator: Yes, tomorrow is fine\./,
    );
    const copies = await db.select().from(messages).where(eq(messages.chatId, anna.id));
    expect(copies.filter((m) => m.direction === 'out' && /Third reply/.test(m.text ?? ''))).toHaveLength(1);

    // The same update delivered again is passed on once.
    const question = log[0];
    if (!question?.updateId || !question.telegramMessageId) throw new Error('question not logged with its update');
    const relays = async () =>
      (
        await db
          .select()
          .from(outbox)
          .where(like(outbox.cardKey, `talk:${anna.id}`))
      ).length;
    const before = await relays();
    await h.app.bot.handleUpdate({
      update_id: question.updateId,
      message: {
        message_id: question.telegramMessageId,
        date: Math.floor(Date.now() / 1000),
        from: { id: anna.id, is_bot: false, first_name: 'Anna' },
        chat: { id: anna.id, type: 'private', first_name: 'Anna' },
        text: question.text ?? '',
      },
    });
    expect(await relays()).toBe(before);
    expect(await db.select().from(messages).where(eq(messages.updateId, question.updateId))).toHaveLength(1);
  });

  it('"Message the operator" at a text step, a file, a request in review with another queued, no request, invites and forged buttons', async () => {
    h = await startHarness(engine, { operators: 2 });
    const [olga, oleg] = h.operators;
    if (!olga || !oleg) throw new Error('two operators expected');

    // An invite: only its operator hears the client arrive.
    await olga.send('/menu');
    await olga.waitForMessage(/Operator menu/);
    await olga.press('🔗 Invite a client');
    await olga.waitForMessage(/Invite a client/);
    await olga.press('🔗 + Personal data');
    const invite = await olga.waitForMessage(/Invite link/);
    const code = /start=([\w-]+)/.exec(invite.text ?? '')?.[1];
    if (!code) throw new Error(`no link in ${invite.text}`);
    const anna = h.emu.createUser({ firstName: 'Anna', languageCode: 'en' });
    await anna.send(`/start ${code}`);
    await olga.waitForMessage(/👋 Client Anna joined through your invite link/);
    await anna.waitForMessage(/Personal data · step 1 of 3/);

    // At a text step, a message is an answer unless the client asked to write to the operator first.
    await anna.press('💬 Message the operator');
    await anna.waitForMessage(/Write your message for the operator/);
    await anna.send('My name is spelled differently in my passport. Which one should I use?');
    await anna.waitForMessage(/Passed on to your operator/);
    await olga.waitForMessage(hasText(/💬 Anna · Personal data\n\nMy name is spelled differently/));
    const flow = await h.app.flows.activeFlow(anna.id);
    expect(flow?.view.kind === 'prompt' && flow.view.position).toBe(1);
    expect(await h.app.flows.answersOf(flow?.id ?? 0)).toEqual([]);
    // Pressed and cancelled: the next message is an answer again.
    await anna.press('💬 Message the operator');
    await anna.waitForMessage(/Write your message for the operator/);
    await anna.press('Cancel');
    await anna.waitForMessage(/Nothing was sent/);
    await anna.send('Anna Petrova');
    await anna.waitForMessage(/step 2 of 3/);
    await anna.send('Berlin');
    await anna.waitForMessage(/step 3 of 3/);
    await anna.send('14.07.1990');
    await anna.waitForMessage(/please check your answers/);
    await anna.press('✅ Confirm');
    await anna.waitForMessage(/sent to the operator/);
    await sendRequest(olga, 'Anna', 'Passport photo');
    expect((await h.app.flows.flowsOf(anna.id)).map((f) => f.status)).toEqual(['queued', 'in_review']);

    // In review, with another request queued: a file passes, with its caption.
    await anna.sendDocument({
      bytes: samplePdf(),
      fileName: 'passport-scan.pdf',
      mimeType: 'application/pdf',
      caption: 'The old passport',
    });
    const file = await olga.waitForMessage(
      (m) => m.document !== undefined && /💬 Anna · Personal data\n\nThe old passport/.test(m.caption ?? ''),
    );
    expect(JSON.stringify(file.replyMarkup)).toContain('↩️ Reply');
    // A Telegram reply to the file's copy finds Anna too.
    await olga.send('Thanks, got the scan.', { replyTo: file.messageId });
    await anna.waitForMessage(/Thanks, got the scan\./);

    // No request and no operator: every operator hears, and sees her message.
    const boris = await h.client('Boris');
    await oleg.waitForMessage(/👋 New client Boris opened the bot/);
    await boris.send('Hello? When will I get something?');
    await boris.waitForMessage(/Passed on to your operator/);
    for (const operator of [olga, oleg]) await operator.waitForMessage(hasText(/💬 Boris · no open request\n\nHello\?/));
    // Anna has an operator: Oleg heard neither her arrival nor her messages.
    expect(oleg.messages().some((m) => /Anna/.test(m.text ?? m.caption ?? ''))).toBe(false);

    // A client pressing a forged Reply button is refused, and nothing is armed.
    const greeting = boris.messages().find((m) => /Hello, Boris/.test(m.text ?? ''));
    if (!greeting) throw new Error('no greeting');
    const query = await boris.pressData(pack({ kind: 'talkReply', client: anna.id }), greeting.messageId);
    expect((await boris.waitForCallbackAnswer(query)).text).toMatch(/not available to you/);
    const annaCount = anna.messages().length;
    await boris.send('Is anyone there?');
    await olga.waitForMessage(hasText(/💬 Boris · no open request\n\nIs anyone there\?/));
    expect(anna.messages()).toHaveLength(annaCount);
  });

  async function attemptsLeft(clientId: number): Promise<number | null> {
    const view = (await h.app.flows.activeFlow(clientId))?.view;
    return view?.kind === 'prompt' ? view.attemptsLeft : null;
  }
});
