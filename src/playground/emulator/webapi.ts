/*
 * The emulator's own JSON API, for the browser playground. Same capabilities as the typed driver (EmulatedUser).
 * Bodies are JSON (or multipart for uploads). Success: 200 with the JSON shown; failure: 4xx `{ "error": "..." }`.
 * CORS is open (`Access-Control-Allow-Origin: *`).
 *
 *   GET  /_emulator/bots                      → [{ id, username, token }]
 *   POST /_emulator/bots                      { token?, username?, firstName? } → { id, username, token }
 *   GET  /_emulator/users                     → [{ id, info }]        (info: the Telegram User object)
 *   POST /_emulator/users                     { firstName, lastName?, username?, languageCode?, bot?, phoneNumber? }
 *                                             → { id, info }
 *   POST /_emulator/users/:id/send            { text, replyTo? } → ChatMessage
 *   POST /_emulator/users/:id/upload          multipart: file, caption?, as? ("photo" | "document" | "video" |
 *                                             "voice"; default: photo for image/* files, else document) → ChatMessage
 *   POST /_emulator/users/:id/album           multipart: any number of files (+ caption? for the first) → ChatMessage[]
 *   POST /_emulator/users/:id/sticker         → ChatMessage
 *   POST /_emulator/users/:id/press           { messageId?, data? | text? } → { callbackQueryId }
 *   POST /_emulator/users/:id/reply-button    { text } → ChatMessage          (reply-keyboard button)
 *   POST /_emulator/users/:id/edit            { messageId, text } → ChatMessage
 *   POST /_emulator/users/:id/contact         { phoneNumber, firstName?, lastName? } → ChatMessage
 *   POST /_emulator/users/:id/location        { latitude, longitude } → ChatMessage
 *   POST /_emulator/users/:id/block           → { blocked: true }
 *   POST /_emulator/users/:id/unblock         → { blocked: false }
 *   GET  /_emulator/chats/:id                 → ChatSnapshot { user, bot, blocked, messages (both sides,
 *                                               deleted flagged), callbackAnswers, replyKeyboard, transcript }
 *   GET  /_emulator/files/:fileId             → the file's bytes
 *   GET  /_emulator/events                    → Server-Sent Events; `event:` is the EmulatorEvent type
 *                                               (message.created, message.edited, message.deleted, callback.pressed,
 *                                               callback.answered, chat.action, chat.blocked, user.created,
 *                                               bot.created, group.created, group.bot_status), `data:` the
 *                                               EmulatorEvent as JSON (group events have negative chat ids)
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EmulatedUser } from './client.js';
import { ApiError } from './errors.js';
import { mimeTypeFor } from './files.js';
import { sendBytes, sendJson } from './http-util.js';
import { readBody, paramsFromBody, type Params, type Upload } from './params.js';
import type { CreateEmulatedUserOptions } from './server.js';
import type { CreateBotOptions, EmulatorState } from './state.js';
import type { BotInfo } from './types.js';

export interface WebApiHost {
  state: EmulatorState;
  createBot(options: CreateBotOptions): BotInfo;
  createUser(options: CreateEmulatedUserOptions): EmulatedUser;
  user(id: number): EmulatedUser | undefined;
}

/** An error of the JSON API: `{ error }` with the given HTTP status. */
class WebApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const HEARTBEAT_MS = 15_000;
const CORS = { 'access-control-allow-origin': '*' };

type UserAction = (user: EmulatedUser, params: Params) => Promise<unknown>;

const USER_ACTIONS: Record<string, UserAction> = {
  send: (user, params) => user.send(required(params.string('text'), 'text'), { replyTo: params.integer('replyTo') }),
  upload,
  album,
  sticker: (user) => user.sendSticker(),
  press: async (user, params) => {
    const data = params.string('data');
    const options = { messageId: params.integer('messageId') };
    const callbackQueryId = await (data !== undefined
      ? user.press((button) => button.callback_data === data, options)
      : user.press(required(params.string('text'), 'data or text'), options));
    return { callbackQueryId };
  },
  'reply-button': (user, params) => user.pressReplyButton(required(params.string('text'), 'text')),
  edit: (user, params) => user.editMessage(required(params.integer('messageId'), 'messageId'), required(params.string('text'), 'text')),
  contact: (user, params) =>
    user.sendContact({
      phoneNumber: required(params.string('phoneNumber'), 'phoneNumber'),
      firstName: params.string('firstName'),
      lastName: params.string('lastName'),
    }),
  location: (user, params) =>
    user.sendLocation(required(params.number('latitude'), 'latitude'), required(params.number('longitude'), 'longitude')),
  block: async (user) => {
    await user.blockBot();
    return { blocked: true };
  },
  unblock: async (user) => {
    await user.unblockBot();
    return { blocked: false };
  },
};

export class WebApi {
  private readonly streams = new Set<ServerResponse>();

  constructor(private readonly host: WebApiHost) {}

  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    for (const [name, value] of Object.entries(CORS)) res.setHeader(name, value);
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'access-control-allow-methods': 'GET, POST',
        'access-control-allow-headers': 'content-type',
      });
      res.end();
      return;
    }
    try {
      await this.route(req, res, url);
    } catch (error) {
      const status = error instanceof WebApiError ? error.status : 400;
      sendJson(res, status, { error: errorMessage(error) });
    }
  }

  /** Ends every open event stream. */
  close(): void {
    for (const stream of this.streams) stream.end();
    this.streams.clear();
  }

  private async route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const path = url.pathname.slice('/_emulator/'.length).split('/').map(decodeURIComponent);
    const [resource, id, action] = path;
    const route = [`${req.method ?? 'GET'} ${resource ?? ''}`, id && ':id', action].filter(Boolean).join('/');
    const { state } = this.host;
    switch (route) {
      case 'GET bots':
        return sendJson(
          res,
          200,
          state.bots().map((bot) => ({ id: bot.id, username: bot.username, token: bot.token })),
        );
      case 'POST bots': {
        const params = await this.body(req);
        return sendJson(
          res,
          200,
          this.host.createBot({
            token: params.string('token'),
            username: params.string('username'),
            firstName: params.string('firstName'),
          }),
        );
      }
      case 'GET users':
        return sendJson(
          res,
          200,
          state.users().map((info) => ({ id: info.id, info })),
        );
      case 'POST users': {
        const params = await this.body(req);
        const user = this.host.createUser({
          firstName: required(params.string('firstName'), 'firstName'),
          lastName: params.string('lastName'),
          username: params.string('username'),
          languageCode: params.string('languageCode'),
          bot: params.string('bot'),
          phoneNumber: params.string('phoneNumber'),
        });
        return sendJson(res, 200, { id: user.id, info: user.info });
      }
      case 'GET chats/:id':
        return sendJson(res, 200, this.user(id).snapshot());
      case 'GET files/:id': {
        const file = state.files.get(id ?? '');
        if (!file) throw new WebApiError(404, `No file ${id}`);
        return sendBytes(res, file.bytes, file.mimeType ?? 'application/octet-stream');
      }
      case 'GET events':
        return this.openStream(res);
    }
    const userAction = route.startsWith('POST users/:id/') && action !== undefined ? USER_ACTIONS[action] : undefined;
    if (!userAction) throw new WebApiError(404, `No route ${req.method} ${url.pathname}`);
    const user = this.user(id);
    sendJson(res, 200, await userAction(user, await this.body(req)));
  }

  private user(id: string | undefined): EmulatedUser {
    const user = this.host.user(Number(id));
    if (!user) throw new WebApiError(404, `No user ${id}`);
    return user;
  }

  private async body(req: IncomingMessage): Promise<Params> {
    return paramsFromBody(await readBody(req), req.headers['content-type'] ?? 'application/json');
  }

  private openStream(res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.write('retry: 1000\n\n');
    const unsubscribe = this.host.state.subscribe((event) => {
      res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
    });
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
    heartbeat.unref();
    this.streams.add(res);
    res.on('close', () => {
      unsubscribe();
      clearInterval(heartbeat);
      this.streams.delete(res);
    });
  }
}

async function upload(user: EmulatedUser, params: Params): Promise<unknown> {
  const file = params.upload('file');
  if (!file) throw new WebApiError(400, 'Missing multipart field "file"');
  const caption = params.string('caption');
  const { bytes, fileName } = file;
  switch (params.string('as') ?? defaultKind(file)) {
    case 'photo':
      return user.sendPhoto({ bytes, fileName, caption });
    case 'document':
      return user.sendDocument({ bytes, fileName, mimeType: mimeTypeOf(file), caption });
    case 'video':
      return user.sendVideo({ bytes, fileName, mimeType: mimeTypeOf(file), caption });
    case 'voice':
      return user.sendVoice({ bytes });
    default:
      throw new WebApiError(400, '"as" must be "photo", "document", "video" or "voice"');
  }
}

/** Every file part becomes one album item: images as photos, anything else as documents. */
async function album(user: EmulatedUser, params: Params): Promise<unknown> {
  const files = params.allUploads();
  if (files.length === 0) throw new WebApiError(400, 'Send the album files as multipart parts');
  const caption = params.string('caption');
  return user.sendAlbum(
    files.map((file, index) => {
      const common = { bytes: file.bytes, fileName: file.fileName, caption: index === 0 ? caption : undefined };
      return defaultKind(file) === 'photo' ? { type: 'photo', ...common } : { type: 'document', ...common, mimeType: mimeTypeOf(file) };
    }),
  );
}

function mimeTypeOf(file: Upload): string | undefined {
  return file.mimeType ?? mimeTypeFor(file.fileName);
}

function defaultKind(file: Upload): 'photo' | 'document' {
  return mimeTypeOf(file)?.startsWith('image/') ? 'photo' : 'document';
}

function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.description;
  return error instanceof Error ? error.message : String(error);
}

function required<T>(value: T | undefined, name: string): T {
  if (value === undefined || value === '') throw new WebApiError(400, `Missing "${name}"`);
  return value;
}
