import { describe, expect, it } from 'vitest';
import type { TgMessage, TgUpdate } from '../helpers/telegram.js';
import { RawBotApi, useEmulator } from './emulator-helpers.js';

const payloads = (updates: TgUpdate[]): TgMessage[] => updates.flatMap((update) => ('message' in update ? [update.message] : []));

describe('Emulated user', () => {
  const t = useEmulator();

  it('sends commands with bot_command entities and plain text without', async () => {
    const anna = t.emu.createUser({ firstName: 'Anna', languageCode: 'de' });
    await anna.send('/start ref_42');
    await anna.send('hello /help@test_bot and/not');
    await anna.send('just text');
    const [start, mixed, plain] = payloads(await t.api.call<TgUpdate[]>('getUpdates'));
    expect(start).toMatchObject({
      message_id: 1,
      text: '/start ref_42',
      entities: [{ type: 'bot_command', offset: 0, length: 6 }],
      from: { id: anna.id, is_bot: false, first_name: 'Anna', language_code: 'de' },
      chat: { id: anna.id, type: 'private', first_name: 'Anna' },
    });
    expect(mixed?.entities).toEqual([{ type: 'bot_command', offset: 6, length: 14 }]);
    expect(plain?.entities).toBeUndefined();
  });

  it('shares contacts, locations, stickers, voice and video with real shapes', async () => {
    const anna = t.emu.createUser({ firstName: 'Anna' });
    await anna.sendContact({ phoneNumber: '+49301234567' });
    await anna.sendLocation(52.52, 13.405);
    await anna.sendSticker();
    await anna.sendVoice({ duration: 4 });
    await anna.sendVideo({ duration: 9, caption: 'clip' });
    const [contact, location, sticker, voice, video] = payloads(await t.api.call<TgUpdate[]>('getUpdates'));
    expect(contact?.contact).toEqual({ phone_number: '+49301234567', first_name: 'Anna', user_id: anna.id });
    expect(location?.location).toEqual({ latitude: 52.52, longitude: 13.405 });
    expect(sticker?.sticker).toMatchObject({ type: 'regular', width: 512, height: 512, is_animated: false });
    expect(voice?.voice).toMatchObject({ duration: 4, mime_type: 'audio/ogg' });
    expect(video).toMatchObject({ caption: 'clip', video: { duration: 9, mime_type: 'video/mp4' } });
    expect(await t.api.call('getFile', { file_id: voice?.voice?.file_id })).toMatchObject({
      file_path: expect.stringMatching(/^voice\//) as string,
    });
  });

  it('presses inline buttons by text, RegExp, predicate or message id', async () => {
    const anna = t.emu.createUser({ firstName: 'Anna' });
    await anna.send('hi');
    const keyboard = (suffix: string) => ({
      inline_keyboard: [
        [
          { text: 'Passport photo', callback_data: `passport${suffix}` },
          { text: 'Docs', url: 'https://x.org' },
        ],
      ],
    });
    const older = await t.api.call<TgMessage>('sendMessage', {
      chat_id: anna.id,
      text: 'old',
      reply_markup: keyboard('-old'),
    });
    await t.api.call('sendMessage', { chat_id: anna.id, text: 'new', reply_markup: keyboard('-new') });

    await anna.press('Passport photo');
    await anna.press(/passport/i, { messageId: older.message_id });
    await anna.press((button) => button.callback_data === 'passport-old');
    const queries = (await t.api.call<TgUpdate[]>('getUpdates')).flatMap((update) =>
      'callback_query' in update ? [update.callback_query] : [],
    );
    expect(queries.map((query) => [query.data, query.message.text])).toEqual([
      ['passport-new', 'new'],
      ['passport-old', 'old'],
      ['passport-old', 'old'],
    ]);
    expect(new Set(queries.map((query) => query.id)).size).toBe(3);

    await expect(anna.press('Docs')).rejects.toThrow(/No callback button "Docs"[\s\S]*#3 bot: new/);
    await expect(anna.press('Passport photo', { messageId: 99 })).rejects.toThrow(/on message #99/);
  });

  it('presses reply-keyboard buttons: text, own contact, location', async () => {
    const anna = t.emu.createUser({ firstName: 'Anna', phoneNumber: '+15550001' });
    await anna.send('hi');
    await t.api.call('sendMessage', {
      chat_id: anna.id,
      text: 'Share?',
      reply_markup: {
        keyboard: [
          ['Skip'],
          [
            { text: 'Share phone', request_contact: true },
            { text: 'Where', request_location: true },
          ],
        ],
        one_time_keyboard: true,
      },
    });
    await anna.pressReplyButton('Skip');
    await anna.pressReplyButton('Share phone');
    await anna.pressReplyButton('Where', { location: { latitude: 1, longitude: 2 } });
    await expect(anna.pressReplyButton('Missing')).rejects.toThrow(/No reply keyboard button "Missing"/);
    const [, skip, contact, location] = payloads(await t.api.call<TgUpdate[]>('getUpdates'));
    expect(skip?.text).toBe('Skip');
    expect(contact?.contact).toMatchObject({ phone_number: '+15550001', user_id: anna.id });
    expect(location?.location).toEqual({ latitude: 1, longitude: 2 });
  });

  it('edits own messages into edited_message updates', async () => {
    const anna = t.emu.createUser({ firstName: 'Anna' });
    const sent = await anna.send('/strat');
    const edited = await anna.editMessage(sent.messageId, 'plain now');
    expect(edited).toMatchObject({ text: 'plain now', editCount: 1 });
    const updates = await t.api.call<TgUpdate[]>('getUpdates');
    const last = updates.at(-1);
    expect(last && 'edited_message' in last ? last.edited_message : undefined).toMatchObject({
      message_id: sent.messageId,
      text: 'plain now',
    });
    expect(last && 'edited_message' in last ? last.edited_message.entities : 'missing').toBeUndefined();
    await expect(anna.editMessage(42, 'x')).rejects.toThrow(/no text message #42/);
  });

  it('waitForMessage walks through replies in order and sees edits', async () => {
    const anna = t.emu.createUser({ firstName: 'Anna' });
    await anna.send('/start');
    const reply = (text: string) => t.api.call<TgMessage>('sendMessage', { chat_id: anna.id, text });
    setTimeout(() => void reply('Welcome!').then(() => reply('Choose a document')), 20);
    expect((await anna.waitForMessage('Welcome')).text).toBe('Welcome!');
    expect((await anna.waitForMessage(/choose/i)).text).toBe('Choose a document');

    const status = await reply('Status: pending');
    await anna.waitForMessage('pending');
    setTimeout(() => {
      void t.api.call('editMessageText', { chat_id: anna.id, message_id: status.message_id, text: 'Status: done' });
    }, 20);
    expect(await anna.waitForMessage((message) => message.text === 'Status: done')).toMatchObject({
      messageId: status.message_id,
      editCount: 1,
    });
  });

  it('waitForMessage ignores replies that came before the user acted', async () => {
    const anna = t.emu.createUser({ firstName: 'Anna' });
    await anna.send('first');
    await t.api.call('sendMessage', { chat_id: anna.id, text: 'Answer' });
    await anna.send('second');
    const error = await anna.waitForMessage('Answer', { timeoutMs: 100 }).catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message.split('\n')).toEqual([
      'Timed out after 100 ms waiting for a bot message matching "Answer"',
      `Chat of Anna (id ${anna.id}) with @test_bot:`,
      '#1 Anna: first',
      '#2 bot: Answer',
      '#3 Anna: second',
    ]);
  });

  it('waitFor resolves with the predicate value or fails with the transcript', async () => {
    const anna = t.emu.createUser({ firstName: 'Anna' });
    await anna.send('hi');
    setTimeout(() => void t.api.call('sendMessage', { chat_id: anna.id, text: 'three' }), 20);
    const count = await anna.waitFor((messages) => messages.length === 1 && messages[0]?.text?.length);
    expect(count).toBe(5);
    await expect(anna.waitFor((messages) => messages.length > 5, { timeoutMs: 50 })).rejects.toThrow(/#2 bot: three/);
  });

  it('refuses to act after blocking the bot and shows it in the transcript', async () => {
    const anna = t.emu.createUser({ firstName: 'Anna' });
    await anna.send('hi');
    await anna.blockBot();
    await expect(anna.send('hello?')).rejects.toThrow(/has blocked @test_bot/);
    expect(anna.transcript()).toContain('[bot blocked]');
    await anna.unblockBot();
    await anna.send('back');
    expect(anna.history().map((message) => message.text)).toEqual(['hi', 'back']);
  });

  it('talks to the bot it was created for', async () => {
    const other = t.emu.createBot({ username: 'other_bot' });
    const otherApi = new RawBotApi(t.emu.apiRoot, other.token);
    const anna = t.emu.createUser({ firstName: 'Anna', bot: 'other_bot' });
    await anna.send('for the other bot');
    expect(await t.api.call('getUpdates')).toEqual([]);
    expect(payloads(await otherApi.call<TgUpdate[]>('getUpdates')).map((message) => message.text)).toEqual(['for the other bot']);
    expect((await t.api.raw('sendMessage', { chat_id: anna.id, text: 'x' })).status).toBe(403);
    expect(() => t.emu.createBot({ token: other.token })).toThrow(/already taken/);
  });
});
