import { afterEach, describe, expect, it } from 'vitest';
import type { TgMessage, TgUpdate } from '../helpers/telegram.js';
import { apiError, readJson, startServer, useEmulator, type LocalServer } from './emulator-helpers.js';

const texts = (updates: TgUpdate[]): Array<string | undefined> =>
  updates.map((update) => ('message' in update ? update.message.text : undefined));

describe('Bot API emulator: getUpdates', () => {
  const t = useEmulator();

  it('delivers updates with increasing ids until confirmed by offset, then never again', async () => {
    const anna = t.emu.createUser({ firstName: 'Anna' });
    await anna.send('one');
    await anna.send('two');
    await anna.send('three');

    const all = await t.api.call<TgUpdate[]>('getUpdates');
    expect(texts(all)).toEqual(['one', 'two', 'three']);
    const ids = all.map((update) => update.update_id);
    expect(ids).toEqual([ids[0], (ids[0] ?? 0) + 1, (ids[0] ?? 0) + 2]);
    // Without an offset nothing is confirmed.
    expect(texts(await t.api.call<TgUpdate[]>('getUpdates'))).toEqual(['one', 'two', 'three']);

    const rest = await t.api.call<TgUpdate[]>('getUpdates', { offset: all[1]?.update_id });
    expect(texts(rest)).toEqual(['two', 'three']);
    expect(texts(await t.api.call<TgUpdate[]>('getUpdates'))).toEqual(['two', 'three']);
    expect(await t.api.call('getUpdates', { offset: (all[2]?.update_id ?? 0) + 1 })).toEqual([]);
    expect(await t.api.call('getUpdates', { offset: 1 })).toEqual([]);
  });

  it('honours limit and negative offsets', async () => {
    const anna = t.emu.createUser({ firstName: 'Anna' });
    for (const text of ['a', 'b', 'c', 'd']) await anna.send(text);
    expect(texts(await t.api.call<TgUpdate[]>('getUpdates', { limit: 2 }))).toEqual(['a', 'b']);
    expect(texts(await t.api.call<TgUpdate[]>('getUpdates', { offset: -1 }))).toEqual(['d']);
    expect(texts(await t.api.call<TgUpdate[]>('getUpdates'))).toEqual(['d']);
  });

  it('long-polls: resolves as soon as an update arrives, or with [] at the timeout', async () => {
    const anna = t.emu.createUser({ firstName: 'Anna' });
    const started = Date.now();
    const poll = t.api.call<TgUpdate[]>('getUpdates', { timeout: 10 });
    setTimeout(() => void anna.send('wake up'), 100);
    const woken = await poll;
    expect(texts(woken)).toEqual(['wake up']);
    expect(Date.now() - started).toBeLessThan(2_000);

    const emptyStarted = Date.now();
    expect(await t.api.call('getUpdates', { offset: (woken[0]?.update_id ?? 0) + 1, timeout: 1 })).toEqual([]);
    expect(Date.now() - emptyStarted).toBeGreaterThanOrEqual(950);
  });

  it('terminates a pending long poll when a newer getUpdates arrives', async () => {
    const first = t.api.raw('getUpdates', { timeout: 10 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await t.api.call('getUpdates')).toEqual([]);
    expect(await first).toEqual(
      apiError(409, 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running'),
    );
  });

  it('filters by allowed_updates, which persists between calls', async () => {
    const anna = t.emu.createUser({ firstName: 'Anna' });
    await t.api.call('getUpdates', { allowed_updates: ['callback_query'] });
    await anna.send('ignored');
    await t.api.call('sendMessage', {
      chat_id: anna.id,
      text: 'Pick',
      reply_markup: { inline_keyboard: [[{ text: 'A', callback_data: 'a' }]] },
    });
    await anna.press('A');
    const updates = await t.api.call<TgUpdate[]>('getUpdates');
    expect(updates.map((update) => Object.keys(update).filter((key) => key !== 'update_id'))).toEqual([['callback_query']]);
    expect(await t.api.call('getWebhookInfo')).toMatchObject({ allowed_updates: ['callback_query'] });
  });

  it('produces edited_message and callback_query updates with real shapes', async () => {
    const anna = t.emu.createUser({ firstName: 'Anna' });
    const sent = await anna.send('typo');
    await anna.editMessage(sent.messageId, 'fixed');
    const prompt = await t.api.call<TgMessage>('sendMessage', {
      chat_id: anna.id,
      text: 'Pick',
      reply_markup: { inline_keyboard: [[{ text: 'A', callback_data: 'a' }]] },
    });
    await t.api.call('editMessageText', {
      chat_id: anna.id,
      message_id: prompt.message_id,
      text: 'Pick again',
      reply_markup: { inline_keyboard: [[{ text: 'A', callback_data: 'a2' }]] },
    });
    const queryId = await anna.press('A');

    const [, edited, callback] = await t.api.call<TgUpdate[]>('getUpdates');
    expect(edited).toMatchObject({
      edited_message: { message_id: sent.messageId, text: 'fixed', edit_date: expect.any(Number) as number },
    });
    expect(callback).toMatchObject({
      callback_query: {
        id: queryId,
        from: { id: anna.id, is_bot: false, first_name: 'Anna' },
        data: 'a2',
        chat_instance: expect.stringMatching(/^-?\d+$/) as string,
        message: { message_id: prompt.message_id, text: 'Pick again', chat: { id: anna.id } },
      },
    });
  });
});

describe('Bot API emulator: webhooks', () => {
  const t = useEmulator();
  let receiver: LocalServer | undefined;

  afterEach(async () => {
    await receiver?.close();
    receiver = undefined;
  });

  it('blocks getUpdates while a webhook is set and reports it in getWebhookInfo', async () => {
    const anna = t.emu.createUser({ firstName: 'Anna' });
    await anna.send('queued');
    const deadUrl = `${await closedPortUrl()}/hook`;
    expect(await t.api.call('setWebhook', { url: deadUrl })).toBe(true);
    expect(await t.api.raw('getUpdates')).toEqual(
      apiError(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"),
    );
    await expect
      .poll(() => t.api.call('getWebhookInfo'))
      .toMatchObject({
        url: deadUrl,
        pending_update_count: 1,
        last_error_message: 'Connection refused',
      });
    await t.api.call('deleteWebhook', { drop_pending_updates: true });
    expect(await t.api.call('getWebhookInfo')).toEqual({ url: '', has_custom_certificate: false, pending_update_count: 0 });
    expect(await t.api.call('getUpdates')).toEqual([]);
    expect(await t.api.raw('setWebhook', { url: 'ftp://example.org' })).toEqual(
      apiError(400, 'Bad Request: bad webhook: An HTTPS URL must be provided for webhook'),
    );
  });

  it('delivers updates in order with the secret header, retrying after a failure', async () => {
    const received: Array<{ secret: string | undefined; text: string | undefined }> = [];
    let attempts = 0;
    receiver = await startServer((req, res) => {
      void readJson(req).then((body) => {
        attempts += 1;
        if (attempts === 1) {
          res.writeHead(500).end();
          return;
        }
        const update = body as TgUpdate;
        received.push({
          secret: req.headers['x-telegram-bot-api-secret-token'] as string | undefined,
          text: 'message' in update ? update.message.text : undefined,
        });
        res.writeHead(200).end();
      });
    });
    await t.api.call('setWebhook', { url: `${receiver.url}/hook`, secret_token: 's3cr3t' });
    const anna = t.emu.createUser({ firstName: 'Anna' });
    await anna.send('first');
    await anna.send('second');
    await anna.send('third');

    await expect.poll(() => received.length).toBe(3);
    expect(received).toEqual([
      { secret: 's3cr3t', text: 'first' },
      { secret: 's3cr3t', text: 'second' },
      { secret: 's3cr3t', text: 'third' },
    ]);
    expect(attempts).toBe(4);
    expect(await t.api.call('getWebhookInfo')).toMatchObject({
      pending_update_count: 0,
      last_error_message: 'Wrong response from the webhook: 500 Internal Server Error',
    });
  });

  it('executes a method returned in the webhook response body', async () => {
    receiver = await startServer((req, res) => {
      void readJson(req).then((body) => {
        const update = body as TgUpdate;
        const reply =
          'callback_query' in update
            ? { method: 'answerCallbackQuery', callback_query_id: update.callback_query.id, text: 'via webhook reply' }
            : { method: 'sendMessage', chat_id: 'message' in update ? update.message.chat.id : 0, text: 'echo' };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(reply));
      });
    });
    await t.api.call('setWebhook', { url: receiver.url });
    const anna = t.emu.createUser({ firstName: 'Anna' });
    await anna.send('hello');
    expect(await anna.waitForMessage('echo')).toMatchObject({ text: 'echo' });
    await t.api.call('editMessageReplyMarkup', {
      chat_id: anna.id,
      message_id: anna.lastMessage()?.messageId,
      reply_markup: { inline_keyboard: [[{ text: 'Like', callback_data: 'like' }]] },
    });
    await anna.press('Like');
    await anna.waitFor(() => anna.callbackAnswers().length === 1);
    expect(anna.callbackAnswers()[0]).toMatchObject({ text: 'via webhook reply', data: 'like' });
    // Webhook replies are Bot API calls too: the call log has them (one more round trip lets them settle).
    await t.api.call('getWebhookInfo');
    expect(t.emu.calls().filter((call) => call.method !== 'getWebhookInfo')).toMatchObject([
      { method: 'setWebhook', ok: true },
      { method: 'sendMessage', chatId: anna.id, ok: true },
      { method: 'editMessageReplyMarkup', chatId: anna.id, ok: true },
      { method: 'answerCallbackQuery', chatId: null, ok: true },
    ]);
  });

  it('terminates a pending long poll when a webhook is set', async () => {
    const poll = t.api.raw('getUpdates', { timeout: 10 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await t.api.call('setWebhook', { url: await closedPortUrl() });
    expect(await poll).toEqual(apiError(409, 'Conflict: terminated by setWebhook request'));
  });
});

/** The URL of a port nothing listens on. */
async function closedPortUrl(): Promise<string> {
  const server = await startServer(() => undefined);
  await server.close();
  return server.url;
}
