import type { AddressInfo } from 'node:net';
import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { messages } from '../../src/db/schema.js';
import { ENGINES } from '../helpers/db.js';
import { sendRequest, startHarness, type Harness } from '../helpers/bot.js';
import { samplePhoto } from '../helpers/telegram.js';

const SECRET = 'webhook-secret-0123456789';

describe.each(ENGINES)('webhook mode on %s', (engine) => {
  let h: Harness;
  afterEach(() => h.close());

  it('takes updates on its own HTTP server, refuses a wrong secret, and serves /healthz and /metrics', async () => {
    h = await startHarness(engine, { webhook: { secret: SECRET } });
    const operator = h.operator;
    const base = `http://127.0.0.1:${(h.app.http.address() as AddressInfo).port}`;
    expect((await h.app.bot.telegram.getWebhookInfo()).url).toBe(`${base}/telegram/webhook`);

    // A whole conversation through the webhook (the emulator posts every update with the secret).
    const client = await h.client('Anna');
    await sendRequest(operator, 'Anna', 'Passport photo');
    await client.waitForMessage(/Passport photo · step 1 of 1/);
    await client.sendPhoto({ bytes: samplePhoto() });
    await operator.waitForMessage(/📥 Passport photo from Anna/);
    await operator.press('✅ Accept');
    await client.waitForMessage(/accepted “Passport photo”/);

    // A call with a wrong (or no) secret is refused before the bot sees it; the right one is processed.
    const update = {
      update_id: 900_000_001,
      message: {
        message_id: 999,
        date: Math.floor(Date.now() / 1000),
        chat: { id: client.id, type: 'private', first_name: 'Anna' },
        from: client.info,
        text: '/help',
        entities: [{ type: 'bot_command', offset: 0, length: 5 }],
      },
    };
    const post = (secret?: string) =>
      fetch(`${base}/telegram/webhook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(secret ? { 'x-telegram-bot-api-secret-token': secret } : {}) },
        body: JSON.stringify(update),
      });
    expect((await post('wrong-secret')).status).toBe(401);
    expect((await post()).status).toBe(401);
    const processed = await post(SECRET);
    expect(processed.status).toBe(200);
    await client.waitForMessage(/Your operator will send you a request here/);
    await h.app.inbox.drain(); // the 200 means "committed to the inbox"; the log row is written as it is applied
    const logged = await h.app.database.db.select().from(messages).where(eq(messages.updateId, update.update_id));
    expect(logged.map((m) => m.text)).toEqual(['/help']);
    expect(client.messages().filter((m) => /Your operator will send you a request here/.test(m.text ?? ''))).toHaveLength(1);

    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('orb_flows{status="completed"} 1');
    expect(metrics).toMatch(/orb_outbox\{status="sent"\} \d+/);
  });
});
