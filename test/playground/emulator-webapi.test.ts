import { describe, expect, it } from 'vitest';
import { samplePdf, samplePhoto, type ChatMessage, type ChatSnapshot, type TgMessage } from '../helpers/telegram.js';
import { useEmulator } from './emulator-helpers.js';

interface SseEvent {
  event: string;
  data: Record<string, unknown>;
}

/** Reads a Server-Sent Events stream in the background. */
function listen(url: string): { events: SseEvent[]; stop: () => void } {
  const events: SseEvent[] = [];
  const controller = new AbortController();
  void (async () => {
    const response = await fetch(url, { signal: controller.signal });
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body ?? []) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.+)$/m.exec(block)?.[1];
        const data = /^data: (.+)$/m.exec(block)?.[1];
        if (event && data) events.push({ event, data: JSON.parse(data) as Record<string, unknown> });
      }
    }
  })().catch(() => undefined);
  return { events, stop: () => controller.abort() };
}

describe('Emulator JSON API', () => {
  const t = useEmulator();

  const post = async <T>(path: string, body: unknown): Promise<{ status: number; json: T }> => {
    const response = await fetch(`${t.emu.apiRoot}/_emulator/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json()) as T };
  };
  const get = async <T>(path: string): Promise<T> => (await (await fetch(`${t.emu.apiRoot}/_emulator/${path}`)).json()) as T;

  it('creates users, sends text, presses buttons and returns the chat', async () => {
    const created = await post<{ id: number; info: object }>('users', { firstName: 'Web', username: 'web' });
    expect(created.status).toBe(200);
    const id = created.json.id;
    expect(created.json.info).toMatchObject({ first_name: 'Web', username: 'web', is_bot: false });
    expect(await get('users')).toEqual([{ id, info: created.json.info }]);
    expect(await get('bots')).toEqual([{ id: t.bot.id, username: 'test_bot', token: t.bot.token }]);

    const sent = await post<ChatMessage>(`users/${id}/send`, { text: '/start' });
    expect(sent.json).toMatchObject({ messageId: 1, from: 'user', text: '/start' });
    await t.api.call('sendMessage', {
      chat_id: id,
      text: 'Pick',
      reply_markup: { inline_keyboard: [[{ text: 'Yes', callback_data: 'yes' }]] },
    });
    const pressed = await post<{ callbackQueryId: string }>(`users/${id}/press`, { messageId: 2, data: 'yes' });
    expect(pressed.json.callbackQueryId).toMatch(/^\d+$/);
    await t.api.call('answerCallbackQuery', { callback_query_id: pressed.json.callbackQueryId, text: 'Noted' });
    const edited = await post<ChatMessage>(`users/${id}/edit`, { messageId: 1, text: '/start again' });
    expect(edited.json.editCount).toBe(1);

    const chat = await get<ChatSnapshot>(`chats/${id}`);
    expect(chat.bot).toEqual({ id: t.bot.id, username: 'test_bot' });
    expect(chat.messages.map((message) => [message.from, message.text])).toEqual([
      ['user', '/start again'],
      ['bot', 'Pick'],
    ]);
    expect(chat.callbackAnswers).toEqual([{ callbackQueryId: pressed.json.callbackQueryId, messageId: 2, data: 'yes', text: 'Noted' }]);
    expect(chat.transcript).toContain('Web pressed [Yes] on #2 → answered "Noted"');
  });

  it('uploads files as photo or document and serves their bytes', async () => {
    const user = t.emu.createUser({ firstName: 'Uploader' });
    const photo = samplePhoto();
    const form = new FormData();
    form.append('file', new Blob([photo], { type: 'image/png' }), 'face.png');
    form.append('caption', 'me');
    const upload = async (body: FormData): Promise<ChatMessage> => {
      const response = await fetch(`${t.emu.apiRoot}/_emulator/users/${user.id}/upload`, { method: 'POST', body });
      return (await response.json()) as ChatMessage;
    };
    const asPhoto = await upload(form);
    expect(asPhoto).toMatchObject({ caption: 'me', photo: expect.any(String) as string });
    const served = await fetch(`${t.emu.apiRoot}/_emulator/files/${asPhoto.photo}`);
    expect(Buffer.from(await served.arrayBuffer()).equals(photo)).toBe(true);

    const pdfForm = new FormData();
    pdfForm.append('file', new Blob([samplePdf()]), 'form.pdf');
    const asDocument = await upload(pdfForm);
    expect(asDocument).toMatchObject({ fileName: 'form.pdf', mimeType: 'application/pdf' });
    expect((await fetch(`${t.emu.apiRoot}/_emulator/files/nope`)).status).toBe(404);

    const voiceForm = new FormData();
    voiceForm.append('file', new Blob([Buffer.from('OggS')]), 'note.ogg');
    voiceForm.append('as', 'voice');
    expect(await upload(voiceForm)).toMatchObject({ voice: expect.any(String) as string });

    const albumForm = new FormData();
    albumForm.append('file', new Blob([photo], { type: 'image/png' }), 'front.png');
    albumForm.append('file', new Blob([samplePdf()]), 'back.pdf');
    albumForm.append('caption', 'both sides');
    const albumUrl = `${t.emu.apiRoot}/_emulator/users/${user.id}/album`;
    const album = (await (await fetch(albumUrl, { method: 'POST', body: albumForm })).json()) as ChatMessage[];
    expect(album.map((message) => [Boolean(message.photo), message.fileName, message.caption])).toEqual([
      [true, undefined, 'both sides'],
      [false, 'back.pdf', undefined],
    ]);
    expect(album[1]?.mediaGroupId).toBe(album[0]?.mediaGroupId);
    expect((await post<ChatMessage>(`users/${user.id}/sticker`, {})).json.sticker).toEqual(expect.any(String));
  });

  it('shares contacts and locations, blocks and unblocks, and reports errors', async () => {
    const user = t.emu.createUser({ firstName: 'Carl' });
    expect((await post<ChatMessage>(`users/${user.id}/contact`, { phoneNumber: '+100' })).json.contact).toMatchObject({
      phone_number: '+100',
    });
    expect((await post<ChatMessage>(`users/${user.id}/location`, { latitude: 1.5, longitude: 2 })).json.location).toEqual({
      latitude: 1.5,
      longitude: 2,
    });
    expect((await post(`users/${user.id}/block`, {})).json).toEqual({ blocked: true });
    expect((await get<ChatSnapshot>(`chats/${user.id}`)).blocked).toBe(true);
    expect(await post(`users/${user.id}/send`, { text: 'x' })).toEqual({
      status: 400,
      json: { error: 'Carl has blocked @test_bot: call unblockBot() first' },
    });
    expect((await post(`users/${user.id}/unblock`, {})).json).toEqual({ blocked: false });
    expect(await post('users/999/send', { text: 'x' })).toEqual({ status: 404, json: { error: 'No user 999' } });
    expect(await post(`users/${user.id}/send`, {})).toEqual({ status: 400, json: { error: 'Missing "text"' } });
    expect((await post(`users/${user.id}/dance`, {})).status).toBe(404);
  });

  it('streams every change as Server-Sent Events', async () => {
    const stream = listen(`${t.emu.apiRoot}/_emulator/events`);
    try {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const anna = t.emu.createUser({ firstName: 'Anna' });
      await anna.send('hi');
      const reply = await t.api.call<TgMessage>('sendMessage', {
        chat_id: anna.id,
        text: 'Pick',
        reply_markup: { inline_keyboard: [[{ text: 'A', callback_data: 'a' }]] },
      });
      await t.api.call('editMessageText', { chat_id: anna.id, message_id: reply.message_id, text: 'Picked' });
      await t.api.call('sendChatAction', { chat_id: anna.id, action: 'typing' });
      await t.api.call('deleteMessage', { chat_id: anna.id, message_id: reply.message_id });
      await expect
        .poll(() => stream.events.map((event) => event.event))
        .toEqual(['user.created', 'message.created', 'message.created', 'message.edited', 'chat.action', 'message.deleted']);
      expect(stream.events[2]?.data).toMatchObject({
        type: 'message.created',
        botId: t.bot.id,
        chatId: anna.id,
        message: { from: 'bot', text: 'Pick' },
      });
      expect(stream.events[5]?.data).toMatchObject({ messageId: reply.message_id });
    } finally {
      stream.stop();
    }
  });
});
