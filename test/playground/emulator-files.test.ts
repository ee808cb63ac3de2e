import { afterEach, describe, expect, it } from 'vitest';
import { samplePdf, samplePhoto, type PhotoSize, type TgMessage, type TgUpdate } from '../helpers/telegram.js';
import { apiError, startServer, useEmulator, type LocalServer } from './emulator-helpers.js';

interface TgFile {
  file_id: string;
  file_unique_id: string;
  file_size: number;
  file_path: string;
}

describe('Bot API emulator: files', () => {
  const t = useEmulator();
  let server: LocalServer | undefined;

  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function download(fileId: string): Promise<Buffer> {
    const file = await t.api.call<TgFile>('getFile', { file_id: fileId });
    const response = await fetch(`${t.emu.apiRoot}/file/bot${t.bot.token}/${file.file_path}`);
    expect(response.status).toBe(200);
    return Buffer.from(await response.arrayBuffer());
  }

  async function startedUser() {
    const anna = t.emu.createUser({ firstName: 'Anna' });
    await anna.send('/start');
    return anna;
  }

  it('gives user photos Telegram-like sizes that download byte-exact', async () => {
    const anna = t.emu.createUser({ firstName: 'Anna' });
    const photo = samplePhoto({ width: 300, height: 200 });
    await anna.sendPhoto({ bytes: photo, caption: 'my passport' });
    const [update] = await t.api.call<TgUpdate[]>('getUpdates');
    const message = update && 'message' in update ? update.message : undefined;
    const sizes = message?.photo ?? [];

    expect(message?.caption).toBe('my passport');
    expect(sizes.map(({ width, height }) => [width, height])).toEqual([
      [90, 60],
      [300, 200],
    ]);
    expect(new Set(sizes.map((size) => size.file_id)).size).toBe(2);
    for (const size of sizes) expect((await download(size.file_id)).equals(photo)).toBe(true);

    const file = await t.api.call<TgFile>('getFile', { file_id: sizes[1]?.file_id });
    expect(file).toMatchObject({
      file_size: photo.length,
      file_path: expect.stringMatching(/^photos\/file_\d+\.jpg$/) as string,
    });
  });

  it('round-trips user documents with name and MIME type', async () => {
    const anna = t.emu.createUser({ firstName: 'Anna' });
    const pdf = samplePdf('Contract');
    const sent = await anna.sendDocument({ bytes: pdf, fileName: 'contract.pdf', mimeType: 'application/pdf' });
    const [update] = await t.api.call<TgUpdate[]>('getUpdates');
    const document = update && 'message' in update ? update.message.document : undefined;
    expect(document).toMatchObject({ file_name: 'contract.pdf', mime_type: 'application/pdf', file_size: pdf.length });
    expect(document?.file_id).toBe(sent.document);
    expect((await download(document?.file_id ?? '')).equals(pdf)).toBe(true);
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
  });

  it('refuses downloads with a wrong token or path and getFile of unknown ids', async () => {
    const anna = t.emu.createUser({ firstName: 'Anna' });
    const sent = await anna.sendDocument({ bytes: Buffer.from('hello'), fileName: 'a.txt' });
    const file = await t.api.call<TgFile>('getFile', { file_id: sent.document });
    expect((await fetch(`${t.emu.apiRoot}/file/bot${t.bot.id}:nope/${file.file_path}`)).status).toBe(401);
    expect((await fetch(`${t.emu.apiRoot}/file/bot${t.bot.token}/documents/missing.txt`)).status).toBe(404);
    expect(await t.api.raw('getFile', { file_id: 'nope' })).toEqual(apiError(400, 'Bad Request: invalid file_id'));
  });

  it('accepts multipart uploads from the bot', async () => {
    const anna = await startedUser();
    const photo = samplePhoto({ width: 120, height: 80 });
    const pdf = samplePdf();

    const sentPhoto = await t.api.multipart('sendPhoto', {
      chat_id: String(anna.id),
      photo: [new Blob([photo]), 'photo.png'],
      caption: 'Here',
      reply_markup: JSON.stringify({ inline_keyboard: [[{ text: 'Thanks', callback_data: 'thanks' }]] }),
    });
    const photoMessage = sentPhoto.body.result as TgMessage;
    expect(photoMessage.caption).toBe('Here');
    expect(photoMessage.reply_markup?.inline_keyboard[0]?.[0]?.callback_data).toBe('thanks');
    expect(photoMessage.photo?.at(-1)).toMatchObject({ width: 120, height: 80, file_size: photo.length });
    expect((await download(photoMessage.photo?.at(-1)?.file_id ?? '')).equals(photo)).toBe(true);

    const sentDocument = await t.api.multipart('sendDocument', {
      chat_id: String(anna.id),
      document: [new Blob([pdf]), 'request-form.pdf'],
    });
    const documentMessage = sentDocument.body.result as TgMessage;
    expect(documentMessage.document).toMatchObject({ file_name: 'request-form.pdf', mime_type: 'application/pdf' });
    expect((await download(documentMessage.document?.file_id ?? '')).equals(pdf)).toBe(true);

    const voice = await t.api.multipart('sendVoice', {
      chat_id: String(anna.id),
      voice: [new Blob([Buffer.from('OggS-voice')]), 'voice.ogg'],
      duration: '3',
    });
    expect((voice.body.result as TgMessage).voice).toMatchObject({ duration: 3, file_size: 10 });
    const video = await t.api.multipart('sendVideo', {
      chat_id: String(anna.id),
      video: [new Blob([Buffer.from('mp4-bytes')]), 'clip.mp4'],
      width: '1280',
      height: '720',
    });
    expect((video.body.result as TgMessage).video).toMatchObject({ width: 1280, height: 720, file_name: 'clip.mp4' });
    const kinds = anna.messages().map((message) => [message.photo, message.document, message.voice, message.video]);
    expect(kinds.map((ids) => ids.findIndex((id) => id !== undefined))).toEqual([0, 1, 2, 3]);
  });

  it('rejects unusable uploads like Telegram', async () => {
    const anna = await startedUser();
    expect(
      await t.api.multipart('sendPhoto', {
        chat_id: String(anna.id),
        photo: [new Blob([Buffer.from('not an image')]), 'x.jpg'],
      }),
    ).toEqual(apiError(400, 'Bad Request: IMAGE_PROCESS_FAILED'));
    expect(await t.api.multipart('sendDocument', { chat_id: String(anna.id), document: [new Blob([]), 'empty.txt'] })).toEqual(
      apiError(400, 'Bad Request: file must be non-empty'),
    );
    expect(await t.api.raw('sendDocument', { chat_id: anna.id })).toEqual(
      apiError(400, 'Bad Request: there is no document in the request'),
    );
  });

  it('resends by file_id, keeping file_unique_id, and checks the file type', async () => {
    const anna = await startedUser();
    const sent = await anna.sendPhoto({ bytes: samplePhoto() });
    const resent = await t.api.call<TgMessage>('sendPhoto', { chat_id: anna.id, photo: sent.photo });
    const original = (await t.api.call<TgUpdate[]>('getUpdates')).flatMap((update) =>
      'message' in update && update.message.photo ? [update.message.photo] : [],
    )[0];
    const uniqueIds = (sizes: PhotoSize[] | undefined) => sizes?.map((size) => size.file_unique_id);
    expect(uniqueIds(resent.photo)).toEqual(uniqueIds(original));

    expect(await t.api.raw('sendDocument', { chat_id: anna.id, document: sent.photo })).toEqual(
      apiError(400, 'Bad Request: type of file mismatch'),
    );
    expect(await t.api.raw('sendPhoto', { chat_id: anna.id, photo: 'AgACAgIAAxkBAAunknown' })).toEqual(
      apiError(400, 'Bad Request: wrong file identifier/HTTP URL specified'),
    );
  });

  it('fetches files given by URL, and rejects unreachable URLs', async () => {
    const anna = await startedUser();
    const pdf = samplePdf('From the web');
    server = await startServer((req, res) => {
      if (req.url === '/form.pdf') res.writeHead(200, { 'content-type': 'application/pdf' }).end(pdf);
      else res.writeHead(404).end();
    });
    const message = await t.api.call<TgMessage>('sendDocument', { chat_id: anna.id, document: `${server.url}/form.pdf` });
    expect(message.document).toMatchObject({ file_name: 'form.pdf', mime_type: 'application/pdf' });
    expect((await download(message.document?.file_id ?? '')).equals(pdf)).toBe(true);

    const wrong = apiError(400, 'Bad Request: wrong file identifier/HTTP URL specified');
    expect(await t.api.raw('sendDocument', { chat_id: anna.id, document: `${server.url}/missing.pdf` })).toEqual(wrong);
    const url = server.url;
    await server.close();
    server = undefined;
    expect(await t.api.raw('sendPhoto', { chat_id: anna.id, photo: `${url}/photo.png` })).toEqual(wrong);
  });

  it('sends media groups from attach:// uploads and file ids', async () => {
    const anna = await startedUser();
    const first = samplePhoto({ rgb: [0, 0, 255] });
    const second = samplePhoto({ rgb: [0, 255, 0] });
    const response = await t.api.multipart('sendMediaGroup', {
      chat_id: String(anna.id),
      media: JSON.stringify([
        { type: 'photo', media: 'attach://one', caption: '<b>Both</b> sides', parse_mode: 'HTML' },
        { type: 'photo', media: 'attach://two' },
      ]),
      one: [new Blob([first]), 'one.png'],
      two: [new Blob([second]), 'two.png'],
    });
    const album = response.body.result as TgMessage[];
    expect(album).toHaveLength(2);
    expect(album[0]?.media_group_id).toBeDefined();
    expect(album[1]?.media_group_id).toBe(album[0]?.media_group_id);
    expect(album[0]).toMatchObject({ caption: 'Both sides', caption_entities: [{ type: 'bold', offset: 0, length: 4 }] });
    expect((await download(album[1]?.photo?.at(-1)?.file_id ?? '')).equals(second)).toBe(true);

    const byId = await t.api.call<TgMessage[]>('sendMediaGroup', {
      chat_id: anna.id,
      media: album.map((message) => ({ type: 'photo', media: message.photo?.at(-1)?.file_id })),
    });
    expect(byId.map((message) => message.message_id)).toEqual([(album[1]?.message_id ?? 0) + 1, (album[1]?.message_id ?? 0) + 2]);

    expect(
      await t.api.multipart('sendMediaGroup', {
        chat_id: String(anna.id),
        media: JSON.stringify([{ type: 'photo', media: 'attach://missing' }]),
      }),
    ).toEqual(apiError(400, 'Bad Request: media not found'));
    const eleven = Array.from({ length: 11 }, () => ({ type: 'photo', media: album[0]?.photo?.at(-1)?.file_id }));
    expect(await t.api.raw('sendMediaGroup', { chat_id: anna.id, media: eleven })).toEqual(
      apiError(400, 'Bad Request: too many messages to send as an album'),
    );
  });

  it('groups user albums by media_group_id', async () => {
    const anna = t.emu.createUser({ firstName: 'Anna' });
    await anna.sendAlbum([
      { type: 'photo', bytes: samplePhoto(), caption: 'front' },
      { type: 'photo', bytes: samplePhoto({ rgb: [1, 2, 3] }) },
      { type: 'document', bytes: samplePdf(), fileName: 'scan.pdf' },
    ]);
    const messages = (await t.api.call<TgUpdate[]>('getUpdates')).flatMap((update) => ('message' in update ? [update.message] : []));
    expect(messages).toHaveLength(3);
    expect(new Set(messages.map((message) => message.media_group_id)).size).toBe(1);
    expect(messages[0]?.media_group_id).toMatch(/^\d+$/);
    expect(messages.map((message) => message.caption)).toEqual(['front', undefined, undefined]);
    expect(messages[2]?.document?.mime_type).toBe('application/pdf');
  });
});
