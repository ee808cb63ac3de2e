import { asc, eq } from 'drizzle-orm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { messages } from '../../src/db/schema.js';
import { ENGINES } from '../helpers/db.js';
import { openClientCard, sendRequest, startHarness, type Harness } from '../helpers/bot.js';
import { samplePhoto } from '../helpers/telegram.js';

describe.each(ENGINES)('the message log on %s', (engine) => {
  let h: Harness;
  afterEach(() => h.close());

  it('has every message in and out of the client chat, and History shows the answers', async () => {
    h = await startHarness(engine);
    const operator = h.operator;
    const client = await h.client('Anna');

    await sendRequest(operator, 'Anna', 'Passport photo');
    await client.waitForMessage(/step 1 of 1/);
    await client.sendSticker();
    await client.waitForMessage(/cannot be used as an answer/);
    await client.sendPhoto({ bytes: samplePhoto() });
    await client.waitForMessage(/sent to the operator/);
    await operator.waitForMessage(/📥 Passport photo from Anna/);
    await operator.press('✅ Accept');
    await client.waitForMessage(/accepted “Passport photo”/);

    await sendRequest(operator, 'Anna', 'Personal data');
    await client.waitForMessage(/step 1 of 3/);
    await client.send('Anna Smirnova');
    await client.waitForMessage(/step 2 of 3/);

    // Every message of the chat, both ways, with its Telegram id, in the order it happened.
    // (A sent message is logged just after Telegram has it, so the last one may take a moment.)
    const chat = client.history();
    const seen = (rows: { direction: string; telegramMessageId: number | null }[]) =>
      rows.map((r) => `${r.direction}:${r.telegramMessageId}`).sort();
    const logged = await vi.waitFor(async () => {
      const rows = await h.app.database.db.select().from(messages).where(eq(messages.chatId, client.id)).orderBy(asc(messages.id));
      expect(seen(rows.filter((m) => m.kind !== 'callback'))).toEqual(
        seen(chat.map((m) => ({ direction: m.from === 'user' ? 'in' : 'out', telegramMessageId: m.messageId }))),
      );
      return rows;
    });
    const photoIn = chat.find((m) => m.from === 'user' && m.photo);
    expect(logged.find((m) => m.direction === 'in' && m.kind === 'photo')).toMatchObject({
      telegramMessageId: photoIn?.messageId,
      fileId: photoIn?.photo,
      fileUniqueId: expect.any(String),
    });
    expect(logged.find((m) => m.direction === 'in' && m.kind === 'sticker')?.fileId).toEqual(expect.any(String));
    expect(logged.find((m) => m.direction === 'in' && m.text === 'Anna Smirnova')).toMatchObject({
      kind: 'text',
      flowId: expect.any(Number),
    });
    expect(logged.filter((m) => m.direction === 'out').map((m) => m.text)).toEqual(
      client.messages().map((m) => m.text ?? m.caption ?? null),
    );

    // The photo went on to the operator by file id; that is logged in the operator's chat.
    const toOperator = await h.app.database.db.select().from(messages).where(eq(messages.chatId, operator.id));
    expect(toOperator.find((m) => m.direction === 'out' && m.kind === 'photo')?.fileId).toEqual(expect.any(String));

    await openClientCard(operator, 'Anna');
    await operator.press('🕘 History');
    const history = await operator.waitForMessage(/History of Anna/);
    expect(history.text).toMatch(/Personal data — ✍️ answering[\s\S]*Full name: Anna Smirnova/);
    expect(history.text).toMatch(/Passport photo — ✅ done[\s\S]*Passport: 📷/);
    expect(history.text).toMatch(/← Anna Smirnova/);
  });
});
