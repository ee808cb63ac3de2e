import { describe, expect, it } from 'vitest';
import { samplePhoto, type TgMessage, type TgUpdate } from '../helpers/telegram.js';
import { apiError, RawBotApi, toResponse, useEmulator, type ApiResponse } from './emulator-helpers.js';

const NOT_MODIFIED =
  'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message';

describe('Bot API emulator: basics', () => {
  const t = useEmulator();

  it('answers getMe with the bot user', async () => {
    const me = await t.api.call('getMe');
    expect(me).toMatchObject({ id: t.bot.id, is_bot: true, first_name: 'Test Bot', username: 'test_bot' });
    expect(t.bot.token.startsWith(`${t.bot.id}:`)).toBe(true);
  });

  it('rejects unknown tokens with 401 and unknown methods with 404', async () => {
    const stranger = new RawBotApi(t.emu.apiRoot, `${t.bot.id}:wrong-secret-123`);
    expect(await stranger.raw('getMe')).toEqual(apiError(401, 'Unauthorized'));
    expect(await t.api.raw('sendTelepathy')).toEqual(apiError(404, 'Not Found'));
  });

  it('treats method names case-insensitively, like Telegram', async () => {
    expect(await t.api.call('GETME')).toMatchObject({ id: t.bot.id });
  });

  it('accepts parameters as query string, urlencoded form and multipart', async () => {
    const anna = t.emu.createUser({ firstName: 'Anna' });
    await anna.send('hi');
    const keyboard = JSON.stringify({ inline_keyboard: [[{ text: 'Go', callback_data: 'go' }]] });

    const viaQuery = await fetch(`${t.api.url('sendMessage')}?chat_id=${anna.id}&text=from%20query`);
    expect((await toResponse(viaQuery)).body.ok).toBe(true);
    const viaForm = await fetch(t.api.url('sendMessage'), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ chat_id: String(anna.id), text: 'from form', reply_markup: keyboard }),
    });
    expect((await toResponse(viaForm)).body.ok).toBe(true);
    const viaMultipart = await t.api.multipart('sendMessage', {
      chat_id: String(anna.id),
      text: 'from multipart',
      reply_markup: keyboard,
    });
    expect(viaMultipart.body.ok).toBe(true);

    const sent = anna.messages();
    expect(sent.map((message) => message.text)).toEqual(['from query', 'from form', 'from multipart']);
    expect(sent[2]?.replyMarkup).toEqual({ inline_keyboard: [[{ text: 'Go', callback_data: 'go' }]] });
  });
});

describe('Bot API emulator: sendMessage', () => {
  const t = useEmulator();

  it('refuses to start conversations and unknown chats', async () => {
    const silent = t.emu.createUser({ firstName: 'Silent' });
    expect(await t.api.raw('sendMessage', { chat_id: silent.id, text: 'hello' })).toEqual(
      apiError(403, "Forbidden: bot can't initiate conversation with a user"),
    );
    expect(await t.api.raw('sendMessage', { chat_id: 424242, text: 'hello' })).toEqual(apiError(400, 'Bad Request: chat not found'));
    expect(await t.api.raw('sendMessage', { text: 'hello' })).toEqual(apiError(400, 'Bad Request: chat_id is empty'));
  });

  it('returns real Message objects with per-chat increasing ids', async () => {
    const anna = t.emu.createUser({ firstName: 'Anna', lastName: 'K', username: 'anna_k' });
    const bob = t.emu.createUser({ firstName: 'Bob' });
    await anna.send('/start');
    await bob.send('/start');
    const before = Math.floor(Date.now() / 1000);
    const first = await t.api.call<TgMessage>('sendMessage', { chat_id: anna.id, text: 'one' });
    const second = await t.api.call<TgMessage>('sendMessage', { chat_id: anna.id, text: 'two' });
    const toBob = await t.api.call<TgMessage>('sendMessage', { chat_id: bob.id, text: 'hi Bob' });

    expect(first).toEqual({
      message_id: 2,
      from: { id: t.bot.id, is_bot: true, first_name: 'Test Bot', username: 'test_bot' },
      chat: { id: anna.id, type: 'private', first_name: 'Anna', last_name: 'K', username: 'anna_k' },
      date: expect.any(Number) as number,
      text: 'one',
    });
    expect(first.date).toBeGreaterThanOrEqual(before);
    expect(second.message_id).toBe(3);
    expect(toBob.message_id).toBe(2);
  });

  it('validates text length and emptiness', async () => {
    const anna = t.emu.createUser({ firstName: 'Anna' });
    await anna.send('hi');
    expect(await t.api.raw('sendMessage', { chat_id: anna.id, text: '' })).toEqual(apiError(400, 'Bad Request: message text is empty'));
    expect(await t.api.raw('sendMessage', { chat_id: anna.id, text: '<b> </b>', parse_mode: 'HTML' })).toEqual(
      apiError(400, 'Bad Request: message text is empty'),
    );
    expect(await t.api.raw('sendMessage', { chat_id: anna.id, text: 'x'.repeat(4097) })).toEqual(
      apiError(400, 'Bad Request: message is too long'),
    );
    expect((await t.api.raw('sendMessage', { chat_id: anna.id, text: 'x'.repeat(4096) })).body.ok).toBe(true);
  });

  it('validates inline keyboards like Telegram', async () => {
    const anna = t.emu.createUser({ firstName: 'Anna' });
    await anna.send('hi');
    const send = (reply_markup: unknown) => t.api.raw('sendMessage', { chat_id: anna.id, text: 'pick', reply_markup });
    expect(await send({ inline_keyboard: [[{ text: 'Big', callback_data: 'x'.repeat(65) }]] })).toEqual(
      apiError(400, 'Bad Request: BUTTON_DATA_INVALID'),
    );
    expect(await send({ inline_keyboard: [[{ text: 'Multibyte', callback_data: 'й'.repeat(33) }]] })).toEqual(
      apiError(400, 'Bad Request: BUTTON_DATA_INVALID'),
    );
    expect((await send({ inline_keyboard: [[{ text: 'Fits', callback_data: 'x'.repeat(64) }]] })).body.ok).toBe(true);
    expect(await send({ inline_keyboard: [[{ text: 'Nothing' }]] })).toEqual(
      apiError(400, "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"),
    );
    expect(await send('[]')).toEqual(apiError(400, 'Bad Request: object expected as reply markup'));
    expect(await send({ inline_keyboard: 'nope' })).toEqual(apiError(400, "Bad Request: can't parse reply keyboard markup JSON object"));
  });

  it('attaches inline keyboards to the Message, keeps reply keyboards client-side', async () => {
    const anna = t.emu.createUser({ firstName: 'Anna' });
    await anna.send('hi');
    const inline = { inline_keyboard: [[{ text: 'Open', url: 'https://example.org' }]] };
    const withInline = await t.api.call<TgMessage>('sendMessage', { chat_id: anna.id, text: 'a', reply_markup: inline });
    expect(withInline.reply_markup).toEqual(inline);

    const keyboard = { keyboard: [['Yes', { text: 'Share phone', request_contact: true }]], resize_keyboard: true };
    const withKeyboard = await t.api.call<TgMessage>('sendMessage', {
      chat_id: anna.id,
      text: 'b',
      reply_markup: keyboard,
    });
    expect(withKeyboard.reply_markup).toBeUndefined();
    expect(anna.replyKeyboard()).toEqual([[{ text: 'Yes' }, { text: 'Share phone', request_contact: true }]]);

    await t.api.call('sendMessage', { chat_id: anna.id, text: 'c', reply_markup: { remove_keyboard: true } });
    expect(anna.replyKeyboard()).toBeUndefined();
    await t.api.call('sendMessage', { chat_id: anna.id, text: 'd', reply_markup: { force_reply: true } });
    expect(anna.lastMessage()?.replyMarkup).toEqual({ force_reply: true });
  });

  it('replies via reply_parameters and the legacy reply_to_message_id', async () => {
    const anna = t.emu.createUser({ firstName: 'Anna' });
    const question = await anna.send('what time is it?');
    const modern = await t.api.call<TgMessage>('sendMessage', {
      chat_id: anna.id,
      text: 'noon',
      reply_parameters: { message_id: question.messageId },
    });
    expect(modern.reply_to_message).toMatchObject({ message_id: question.messageId, text: 'what time is it?' });
    const legacy = await t.api.call<TgMessage>('sendMessage', {
      chat_id: anna.id,
      text: 'still noon',
      reply_to_message_id: question.messageId,
    });
    expect(legacy.reply_to_message?.message_id).toBe(question.messageId);
    expect(anna.lastMessage()?.replyToMessageId).toBe(question.messageId);

    expect(await t.api.raw('sendMessage', { chat_id: anna.id, text: 'x', reply_parameters: { message_id: 999 } })).toEqual(
      apiError(400, 'Bad Request: message to be replied not found'),
    );
    const tolerated = await t.api.call<TgMessage>('sendMessage', {
      chat_id: anna.id,
      text: 'x',
      reply_parameters: { message_id: 999, allow_sending_without_reply: true },
    });
    expect(tolerated.reply_to_message).toBeUndefined();
  });

  it('answers 403 once the user blocked the bot, and again works after unblocking', async () => {
    const anna = t.emu.createUser({ firstName: 'Anna' });
    await anna.send('hi');
    await anna.blockBot();
    expect(await t.api.raw('sendMessage', { chat_id: anna.id, text: 'hello?' })).toEqual(
      apiError(403, 'Forbidden: bot was blocked by the user'),
    );
    expect(await t.api.raw('sendChatAction', { chat_id: anna.id, action: 'typing' })).toEqual(
      apiError(403, 'Forbidden: bot was blocked by the user'),
    );
    await anna.unblockBot();
    expect((await t.api.raw('sendMessage', { chat_id: anna.id, text: 'welcome back' })).body.ok).toBe(true);

    const updates = await t.api.call<TgUpdate[]>('getUpdates');
    const memberUpdates = updates.flatMap((update) => ('my_chat_member' in update ? [update.my_chat_member] : []));
    expect(memberUpdates.map((change) => [change.old_chat_member.status, change.new_chat_member.status])).toEqual([
      ['member', 'kicked'],
      ['kicked', 'member'],
    ]);
    expect(memberUpdates[0]).toMatchObject({
      chat: { id: anna.id },
      from: { id: anna.id },
      new_chat_member: { user: { id: t.bot.id } },
    });
  });
});

describe('Bot API emulator: editing and deleting', () => {
  const t = useEmulator();
  const keyboard = { inline_keyboard: [[{ text: 'OK', callback_data: 'ok' }]] };

  async function chatWithPrompt() {
    const anna = t.emu.createUser({ firstName: 'Anna' });
    await anna.send('hi');
    const prompt = await t.api.call<TgMessage>('sendMessage', { chat_id: anna.id, text: 'Choose', reply_markup: keyboard });
    return { anna, prompt };
  }

  it('edits text, counts edits and drops the keyboard when reply_markup is omitted', async () => {
    const { anna, prompt } = await chatWithPrompt();
    const edited = await t.api.call<TgMessage>('editMessageText', {
      chat_id: anna.id,
      message_id: prompt.message_id,
      text: 'Chosen',
    });
    expect(edited).toMatchObject({
      message_id: prompt.message_id,
      text: 'Chosen',
      edit_date: expect.any(Number) as number,
    });
    expect(edited.reply_markup).toBeUndefined();
    expect(anna.lastMessage()).toMatchObject({ text: 'Chosen', editCount: 1 });
    expect(anna.lastMessage()?.replyMarkup).toBeUndefined();
  });

  it('reports "message is not modified" for identical content and markup', async () => {
    const { anna, prompt } = await chatWithPrompt();
    const same = { chat_id: anna.id, message_id: prompt.message_id, text: 'Choose', reply_markup: keyboard };
    expect(await t.api.raw('editMessageText', same)).toEqual(apiError(400, NOT_MODIFIED));
    const sameMarkup = { chat_id: anna.id, message_id: prompt.message_id, reply_markup: keyboard };
    expect(await t.api.raw('editMessageReplyMarkup', sameMarkup)).toEqual(apiError(400, NOT_MODIFIED));
    // Same text without the keyboard is a change: the keyboard goes away.
    expect((await t.api.raw('editMessageText', { ...same, reply_markup: undefined })).body.ok).toBe(true);
  });

  it('rejects edits of missing, foreign or text-less messages', async () => {
    const { anna } = await chatWithPrompt();
    const userMessage = anna.history()[0];
    expect(await t.api.raw('editMessageText', { chat_id: anna.id, message_id: 99, text: 'x' })).toEqual(
      apiError(400, 'Bad Request: message to edit not found'),
    );
    expect(await t.api.raw('editMessageText', { chat_id: anna.id, message_id: userMessage?.messageId, text: 'x' })).toEqual(
      apiError(400, "Bad Request: message can't be edited"),
    );

    const photo = await t.api.multipart('sendPhoto', {
      chat_id: String(anna.id),
      photo: [new Blob([samplePhoto()]), 'p.png'],
    });
    const photoId = (photo.body.result as TgMessage).message_id;
    expect(await t.api.raw('editMessageText', { chat_id: anna.id, message_id: photoId, text: 'x' })).toEqual(
      apiError(400, 'Bad Request: there is no text in the message to edit'),
    );
    const captioned = await t.api.call<TgMessage>('editMessageCaption', {
      chat_id: anna.id,
      message_id: photoId,
      caption: '<i>new</i> caption',
      parse_mode: 'HTML',
    });
    expect(captioned).toMatchObject({
      caption: 'new caption',
      caption_entities: [{ type: 'italic', offset: 0, length: 3 }],
    });
    expect(await t.api.raw('editMessageCaption', { chat_id: anna.id, message_id: photoId - 1, caption: 'x' })).toEqual(
      apiError(400, 'Bad Request: there is no caption in the message to edit'),
    );
  });

  it('edits and removes reply markup', async () => {
    const { anna, prompt } = await chatWithPrompt();
    const other = { inline_keyboard: [[{ text: 'Other', callback_data: 'other' }]] };
    const changed = await t.api.call<TgMessage>('editMessageReplyMarkup', {
      chat_id: anna.id,
      message_id: prompt.message_id,
      reply_markup: other,
    });
    expect(changed.reply_markup).toEqual(other);
    expect(
      await t.api.raw('editMessageReplyMarkup', {
        chat_id: anna.id,
        message_id: prompt.message_id,
        reply_markup: { keyboard: [['a']] },
      }),
    ).toEqual(apiError(400, 'Bad Request: inline keyboard expected'));
    await t.api.call('editMessageReplyMarkup', { chat_id: anna.id, message_id: prompt.message_id });
    expect(anna.lastMessage()?.replyMarkup).toBeUndefined();
    expect(anna.lastMessage()?.editCount).toBe(2);
  });

  it('deletes messages of both sides once', async () => {
    const { anna, prompt } = await chatWithPrompt();
    expect(await t.api.call('deleteMessage', { chat_id: anna.id, message_id: prompt.message_id })).toBe(true);
    expect(anna.messages()).toEqual([]);
    expect(anna.messages({ includeDeleted: true })).toMatchObject([{ messageId: prompt.message_id, deleted: true }]);
    expect(await t.api.raw('deleteMessage', { chat_id: anna.id, message_id: prompt.message_id })).toEqual(
      apiError(400, 'Bad Request: message to delete not found'),
    );
    expect(await t.api.call('deleteMessage', { chat_id: anna.id, message_id: 1 })).toBe(true);
    expect(anna.history().every((message) => message.deleted)).toBe(true);
    expect(await t.api.raw('editMessageText', { chat_id: anna.id, message_id: prompt.message_id, text: 'x' })).toEqual(
      apiError(400, 'Bad Request: message to edit not found'),
    );
  });
});

describe('Bot API emulator: copy, forward, callbacks, commands and chat info', () => {
  const t = useEmulator();

  it('copies and forwards a client message into an operator chat', async () => {
    const client = t.emu.createUser({ firstName: 'Client' });
    const operator = t.emu.createUser({ firstName: 'Operator' });
    const original = await client.send('my passport number is 123');
    await operator.send('/start');

    const copy = await t.api.call<{ message_id: number }>('copyMessage', {
      chat_id: operator.id,
      from_chat_id: client.id,
      message_id: original.messageId,
    });
    expect(copy).toEqual({ message_id: 2 });
    expect(operator.lastMessage()).toMatchObject({ text: 'my passport number is 123' });
    expect(operator.lastMessage()?.forwarded).toBeUndefined();

    const forwarded = await t.api.call<TgMessage>('forwardMessage', {
      chat_id: operator.id,
      from_chat_id: client.id,
      message_id: original.messageId,
    });
    expect(forwarded).toMatchObject({
      text: 'my passport number is 123',
      forward_origin: { type: 'user', sender_user: { id: client.id }, date: original.date },
      forward_from: { id: client.id },
    });
    expect(await t.api.raw('copyMessage', { chat_id: operator.id, from_chat_id: client.id, message_id: 77 })).toEqual(
      apiError(400, 'Bad Request: message to copy not found'),
    );
    expect(await t.api.raw('forwardMessage', { chat_id: operator.id, from_chat_id: client.id, message_id: 77 })).toEqual(
      apiError(400, 'Bad Request: message to forward not found'),
    );
  });

  it('records callback answers and refuses a second answer', async () => {
    const anna = t.emu.createUser({ firstName: 'Anna' });
    await anna.send('hi');
    await t.api.call('sendMessage', {
      chat_id: anna.id,
      text: 'Sure?',
      reply_markup: { inline_keyboard: [[{ text: 'Yes', callback_data: 'yes' }]] },
    });
    const queryId = await anna.press('Yes');
    const answer = { callback_query_id: queryId, text: 'Done', show_alert: true };
    expect(await t.api.call('answerCallbackQuery', answer)).toBe(true);
    expect(anna.callbackAnswers()).toEqual([{ callbackQueryId: queryId, messageId: 2, data: 'yes', text: 'Done', showAlert: true }]);
    const invalid = apiError(400, 'Bad Request: query is too old and response timeout expired or query ID is invalid');
    expect(await t.api.raw('answerCallbackQuery', { callback_query_id: queryId })).toEqual(invalid);
    expect(await t.api.raw('answerCallbackQuery', { callback_query_id: '123' })).toEqual(invalid);
  });

  it('stores commands per scope and language', async () => {
    const general = [{ command: 'start', description: 'Start' }];
    const russian = [{ command: 'start', description: 'Начать' }];
    const operators = [{ command: 'requests', description: 'Open requests' }];
    await t.api.call('setMyCommands', { commands: general });
    await t.api.call('setMyCommands', { commands: russian, language_code: 'ru' });
    await t.api.call('setMyCommands', { commands: operators, scope: { type: 'chat', chat_id: 42 } });

    expect(await t.api.call('getMyCommands')).toEqual(general);
    expect(await t.api.call('getMyCommands', { language_code: 'ru' })).toEqual(russian);
    expect(await t.api.call('getMyCommands', { scope: { type: 'chat', chat_id: 42 } })).toEqual(operators);
    expect(await t.api.call('getMyCommands', { scope: { type: 'all_private_chats' } })).toEqual([]);

    await t.api.call('deleteMyCommands', { language_code: 'ru' });
    expect(await t.api.call('getMyCommands', { language_code: 'ru' })).toEqual([]);
    expect(await t.api.call('getMyCommands')).toEqual(general);
    expect(await t.api.raw('setMyCommands', { commands: [{ command: 'Bad Command', description: 'x' }] })).toEqual(
      apiError(400, 'Bad Request: BOT_COMMAND_INVALID'),
    );
  });

  it('accepts chat actions and reports chat info', async () => {
    const anna = t.emu.createUser({ firstName: 'Anna', username: 'anna' });
    expect(await t.api.raw('getChat', { chat_id: anna.id })).toEqual(apiError(400, 'Bad Request: chat not found'));
    await anna.send('hi');
    const actions: string[] = [];
    const stop = t.emu.subscribe((event) => {
      if (event.type === 'chat.action') actions.push(event.action);
    });
    expect(await t.api.call('sendChatAction', { chat_id: anna.id, action: 'upload_document' })).toBe(true);
    stop();
    expect(actions).toEqual(['upload_document']);
    expect(await t.api.raw('sendChatAction', { chat_id: anna.id, action: 'dancing' })).toEqual(
      apiError(400, 'Bad Request: wrong parameter action in request'),
    );

    expect(await t.api.call('getChat', { chat_id: anna.id })).toMatchObject({
      id: anna.id,
      type: 'private',
      first_name: 'Anna',
      username: 'anna',
    });
    expect(await t.api.call('getChatMember', { chat_id: anna.id, user_id: anna.id })).toMatchObject({ status: 'member' });
    expect(await t.api.call('getChatMemberCount', { chat_id: anna.id })).toBe(2);
    await t.api.call('setChatMenuButton', { chat_id: anna.id, menu_button: { type: 'commands' } });
    expect(await t.api.call('getChatMenuButton', { chat_id: anna.id })).toEqual({ type: 'commands' });
  });
});

describe('Bot API emulator: fault injection', () => {
  const t = useEmulator();

  it('fails the next N calls of a method with the scripted error', async () => {
    t.emu.faults.failNext('getMe', 2, { code: 429, description: 'Too Many Requests: retry after 7', retryAfter: 7 });
    const throttled = {
      status: 429,
      body: { ok: false, error_code: 429, description: 'Too Many Requests: retry after 7', parameters: { retry_after: 7 } },
    };
    expect(await t.api.raw('getMe')).toEqual(throttled);
    expect(await t.api.raw('getMe')).toEqual(throttled);
    expect((await t.api.raw('getMe')).body.ok).toBe(true);
  });

  it('injects latency per method and clears everything', async () => {
    t.emu.faults.latency('getMe', 150);
    let started = Date.now();
    await t.api.call('getMe');
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);

    t.emu.faults.failNext('getMyCommands', 1, { code: 500, description: 'Internal Server Error' });
    t.emu.faults.clear();
    started = Date.now();
    await t.api.call('getMe');
    expect(Date.now() - started).toBeLessThan(140);
    expect((await t.api.raw('getMyCommands')).body.ok).toBe(true);
  });
});

describe('Bot API emulator: held calls', () => {
  const t = useEmulator();

  it('holds the calls of a method until released, and lets other methods through meanwhile', async () => {
    const held = t.emu.faults.hold('getMe');
    let answered = false;
    const me = t.api.call('getMe').then((value) => {
      answered = true;
      return value;
    });
    await held.arrived();
    // Another method goes through while getMe waits.
    expect((await t.api.raw('getMyCommands')).body.ok).toBe(true);
    expect(answered).toBe(false);
    held.release();
    expect(await me).toMatchObject({ is_bot: true });
    // Released: later calls are not held.
    expect((await t.api.raw('getMe')).body.ok).toBe(true);
  });

  it('lets held calls go when the faults are cleared', async () => {
    const held = t.emu.faults.hold('getMe');
    const me = t.api.call('getMe');
    await held.arrived();
    t.emu.faults.clear();
    expect(await me).toMatchObject({ is_bot: true });
  });
});

describe('Bot API emulator: fault injection for any method', () => {
  const t = useEmulator();

  it("fails any method with failNext('*'), after a method's own scripted failures", async () => {
    t.emu.faults.failNext('*', 2, { code: 502, description: 'Bad Gateway' });
    t.emu.faults.failNext('getMe', 1, { code: 500, description: 'Internal Server Error' });
    expect(await t.api.raw('getMe')).toEqual(apiError(500, 'Internal Server Error'));
    expect(await t.api.raw('getMe')).toEqual(apiError(502, 'Bad Gateway'));
    expect(await t.api.raw('getMyCommands')).toEqual(apiError(502, 'Bad Gateway'));
    expect((await t.api.raw('getMyCommands')).body.ok).toBe(true);
    expect((await t.api.raw('getMe')).body.ok).toBe(true);
  });
});

describe('Bot API emulator: call log', () => {
  const t = useEmulator();

  it('records every call in order with its method, chat id, time and outcome', async () => {
    const anna = t.emu.createUser({ firstName: 'Anna' });
    await anna.send('/start');
    const before = Date.now();
    await t.api.call('GETME');
    await t.api.call('sendMessage', { chat_id: anna.id, text: 'one' });
    await t.api.call('sendMessage', { chat_id: String(anna.id), text: 'two' });
    await t.api.raw('sendMessage', { chat_id: 777, text: 'nobody' });
    await t.api.raw('sendMessage', { chat_id: '@somechannel', text: 'by name' });
    const throttled = { code: 429, description: 'Too Many Requests: retry after 2', retryAfter: 2 };
    t.emu.faults.failNext('sendChatAction', 1, throttled);
    await t.api.raw('sendChatAction', { chat_id: anna.id, action: 'typing' });
    await t.api.raw('sendTelepathy', { chat_id: anna.id });
    await new RawBotApi(t.emu.apiRoot, `${t.bot.id}:wrong-secret-123`).raw('getMe');
    const after = Date.now();

    const calls = t.emu.calls();
    expect(calls.map(({ at: _at, ...call }) => call)).toEqual([
      { method: 'getMe', chatId: null, ok: true, errorCode: null },
      { method: 'sendMessage', chatId: anna.id, ok: true, errorCode: null },
      { method: 'sendMessage', chatId: anna.id, ok: true, errorCode: null },
      { method: 'sendMessage', chatId: 777, ok: false, errorCode: 400 },
      { method: 'sendMessage', chatId: null, ok: false, errorCode: 400 },
      { method: 'sendChatAction', chatId: anna.id, ok: false, errorCode: 429 },
      { method: 'sendTelepathy', chatId: null, ok: false, errorCode: 404 },
      { method: 'getMe', chatId: null, ok: false, errorCode: 401 },
    ]);
    for (const call of calls) {
      expect(call.at).toBeGreaterThanOrEqual(before);
      expect(call.at).toBeLessThanOrEqual(after);
    }
    expect(calls.map((call) => call.at)).toEqual([...calls.map((call) => call.at)].sort((a, b) => a - b));

    t.emu.clearCalls();
    expect(t.emu.calls()).toEqual([]);
    await t.api.call('getMe');
    expect(t.emu.calls()).toMatchObject([{ method: 'getMe', ok: true }]);
  });

  it('hands out copies: the log cannot be changed from outside', async () => {
    await t.api.call('getMe');
    const [call] = t.emu.calls();
    if (call) call.method = 'tampered';
    expect(t.emu.calls()[0]?.method).toBe('getMe');
  });
});

describe('Bot API emulator: flood limits', () => {
  const t = useEmulator();

  /** Users who have started the bot, so it may write to them. */
  async function startedUsers(count: number) {
    const users = Array.from({ length: count }, (_, index) => t.emu.createUser({ firstName: `User ${index + 1}` }));
    for (const user of users) await user.send('/start');
    return users;
  }

  const isRetryAfter = (response: ApiResponse): boolean => {
    const seconds = response.body.parameters?.retry_after;
    return (
      response.status === 429 &&
      seconds !== undefined &&
      seconds >= 1 &&
      response.body.description === `Too Many Requests: retry after ${seconds}`
    );
  };

  it('refuses quick sends to one chat after the burst with 429 retry_after, without performing them', async () => {
    const [anna] = await startedUsers(1);
    t.emu.faults.enforceRateLimits();
    const responses = [];
    for (let i = 1; i <= 5; i += 1) {
      responses.push(await t.api.raw('sendMessage', { chat_id: anna?.id, text: `#${i}` }));
    }
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 429, 429]);
    expect(responses.slice(3).every(isRetryAfter)).toBe(true);
    expect(responses[3]?.body).toEqual({
      ok: false,
      error_code: 429,
      description: expect.stringMatching(/^Too Many Requests: retry after [1-3]$/) as string,
      parameters: { retry_after: expect.any(Number) as number },
    });
    expect(anna?.messages().map((message) => message.text)).toEqual(['#1', '#2', '#3']);
    // Chat actions send no message and are never limited; the log shows the refusals.
    expect((await t.api.raw('sendChatAction', { chat_id: anna?.id, action: 'typing' })).body.ok).toBe(true);
    expect(t.emu.calls().filter((call) => call.errorCode === 429)).toHaveLength(2);
  });

  it('counts edits, copies and forwards as messages in the chat', async () => {
    const [anna] = await startedUsers(1);
    const sent = await t.api.call<TgMessage>('sendMessage', { chat_id: anna?.id, text: 'draft' });
    t.emu.faults.enforceRateLimits({ perChatBurst: 2 });
    const edit = (text: string) => t.api.raw('editMessageText', { chat_id: anna?.id, message_id: sent.message_id, text });
    expect((await edit('draft 2')).status).toBe(200);
    const copy = await t.api.raw('copyMessage', { chat_id: anna?.id, from_chat_id: anna?.id, message_id: 1 });
    expect(copy.status).toBe(200);
    expect(isRetryAfter(await edit('draft 3'))).toBe(true);
    expect(isRetryAfter(await t.api.raw('forwardMessage', { chat_id: anna?.id, from_chat_id: anna?.id, message_id: 1 }))).toBe(true);
    expect(anna?.lastMessage()?.text).toBe('/start');
  });

  it('refuses sends beyond 30 a second across chats', async () => {
    const users = await startedUsers(40);
    t.emu.faults.enforceRateLimits();
    const responses = await Promise.all(users.map((user) => t.api.raw('sendMessage', { chat_id: user.id, text: 'news' })));
    const refused = responses.filter((response) => response.status === 429);
    // All 40 arrive within a second (the window would have to slide for more than 30 to get through).
    expect(responses.filter((response) => response.status === 200).length).toBeGreaterThanOrEqual(30);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every(isRetryAfter)).toBe(true);
  });

  it('refuses the 21st message to a group within a minute, with retry_after up to a minute', async () => {
    const [anna] = await startedUsers(1);
    if (!anna) throw new Error('no user');
    const group = t.emu.createGroup({ title: 'Team', type: 'supergroup', members: [anna] });
    await group.addBot(anna);
    // Lift the per-chat limit (1 a second) so the group's per-minute one shows.
    t.emu.faults.enforceRateLimits({ perChatPerSecond: 1000, perChatBurst: 1000 });
    const statuses = [];
    for (let i = 1; i <= 20; i += 1) {
      statuses.push((await t.api.raw('sendMessage', { chat_id: group.id, text: `#${i}` })).status);
    }
    expect(statuses.every((status) => status === 200)).toBe(true);
    const refused = await t.api.raw('sendMessage', { chat_id: group.id, text: '#21' });
    expect(isRetryAfter(refused)).toBe(true);
    expect(refused.body.parameters?.retry_after).toBeGreaterThan(1);
    expect(refused.body.parameters?.retry_after).toBeLessThanOrEqual(60);
    expect(group.messages()).toHaveLength(20);
    // Private chats are not held back by the group's limit.
    expect((await t.api.raw('sendMessage', { chat_id: anna.id, text: 'private' })).status).toBe(200);
  });

  it('lets a call through once the bot has waited retry_after', async () => {
    const [anna] = await startedUsers(1);
    t.emu.faults.enforceRateLimits({ perChatPerSecond: 1, perChatBurst: 1 });
    expect((await t.api.raw('sendMessage', { chat_id: anna?.id, text: 'first' })).status).toBe(200);
    const refused = await t.api.raw('sendMessage', { chat_id: anna?.id, text: 'second' });
    const seconds = refused.body.parameters?.retry_after ?? 0;
    expect(seconds).toBe(1);
    // The one real wait in these tests: what retry_after says, as a well-behaved bot does.
    await new Promise((resolve) => setTimeout(resolve, seconds * 1_000 + 50));
    expect((await t.api.raw('sendMessage', { chat_id: anna?.id, text: 'second' })).status).toBe(200);
  });

  it('refuses nothing while off, and faults.clear() turns the limits off', async () => {
    const users = await startedUsers(40);
    const [first] = users;
    const burst = async () => {
      const results = [];
      for (let i = 0; i < 5; i += 1) results.push(await t.api.raw('sendMessage', { chat_id: first?.id, text: `${i}` }));
      return results.map((response) => response.status);
    };
    expect(await burst()).toEqual([200, 200, 200, 200, 200]);
    const wide = await Promise.all(users.map((user) => t.api.raw('sendMessage', { chat_id: user.id, text: 'hi' })));
    expect(wide.every((response) => response.status === 200)).toBe(true);

    t.emu.faults.enforceRateLimits();
    expect((await burst()).filter((status) => status === 429).length).toBeGreaterThan(0);
    t.emu.faults.clear();
    expect(await burst()).toEqual([200, 200, 200, 200, 200]);
    expect(t.emu.calls().some((call) => call.errorCode === 429)).toBe(true);
  });
});
