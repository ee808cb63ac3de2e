/**
 * The Bot API for the pipeline benchmark, in a child process of its own (so that its CPU time is not
 * counted as the bot's): `node --import tsx bench/stub.ts stub|emulator`.
 *
 * - `stub`: a recording stub over real HTTP. Every method answers at once with a plausible `ok: true`
 *   result (sendMessage and editMessageText a message object with a fresh message_id, everything else
 *   `true`, getMe the bot). Each message-carrying call is reported to the parent over IPC, with the
 *   moment it arrived (`process.hrtime`: the monotonic clock, the same in every process of the machine).
 * - `emulator`: the project's Bot API emulator (src/playground/emulator), for comparing its speed with
 *   the stub's: the parent asks for users it may send to.
 *
 * Messages to the parent: `{ type: 'ready', apiRoot, users? }`, `{ type: 'calls', calls: StubCall[] }`
 * (batched per event-loop turn), `{ type: 'usage', cpuMs, counts }` when asked with `{ type: 'usage' }`.
 */
import { BOT_INFO } from './bot-info.js';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';

/** One call the stub answered that carries a message (or answers a button). */
export interface StubCall {
  readonly method: string;
  readonly chatId: number | null;
  /** The text (sendMessage, editMessageText) or the callback answer's text. */
  readonly text: string | null;
  /** The message's inline buttons (text and callback_data), in order. */
  readonly buttons: { text: string; data: string }[];
  /** process.hrtime.bigint() when the request was read, in nanoseconds (as a number). */
  readonly at: number;
}

export type StubMessage =
  | { type: 'ready'; apiRoot: string; users?: number[] }
  | { type: 'calls'; calls: StubCall[] }
  | { type: 'usage'; cpuMs: number; counts: Record<string, number> };

/** The bot as getMe answers. */

const send = (message: StubMessage) => process.send?.(message);

function buttonsOf(markup: unknown): { text: string; data: string }[] {
  const parsed: unknown = typeof markup === 'string' ? JSON.parse(markup) : markup;
  const rows = (parsed as { inline_keyboard?: { text?: string; callback_data?: string }[][] } | undefined)?.inline_keyboard;
  if (!Array.isArray(rows)) return [];
  return rows.flat().flatMap((b) => (typeof b?.callback_data === 'string' ? [{ text: String(b.text ?? ''), data: b.callback_data }] : []));
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  if (chunks.length === 0) return {};
  const raw = Buffer.concat(chunks).toString('utf8');
  const type = req.headers['content-type'] ?? '';
  if (type.includes('application/json')) return JSON.parse(raw) as Record<string, unknown>;
  if (type.includes('x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(raw));
  return {}; // multipart (uploads): not used by the benchmark
}

async function runStub(): Promise<void> {
  let nextMessageId = 1;
  const counts: Record<string, number> = {};
  let pending: StubCall[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    send({ type: 'calls', calls: pending });
    pending = [];
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const at = Number(process.hrtime.bigint());
      const method = /^\/bot[^/]+\/([A-Za-z]+)$/.exec(req.url ?? '')?.[1] ?? '';
      const params = await readBody(req);
      counts[method] = (counts[method] ?? 0) + 1;
      const chatId = params.chat_id === undefined ? null : Number(params.chat_id);
      const date = Math.floor(Date.now() / 1000);
      let result: unknown;
      switch (method) {
        case 'getMe':
          result = BOT_INFO;
          break;
        case 'sendMessage':
        case 'editMessageText': {
          const messageId = method === 'editMessageText' && typeof params.message_id === 'number' ? params.message_id : nextMessageId++;
          result = {
            message_id: messageId,
            date,
            ...(method === 'editMessageText' ? { edit_date: date } : {}),
            chat: { id: chatId, type: 'private', first_name: 'Client' },
            from: BOT_INFO,
            text: typeof params.text === 'string' ? params.text : '',
            ...(params.reply_markup ? { reply_markup: params.reply_markup } : {}),
          };
          break;
        }
        default:
          result = true;
      }
      if (method.startsWith('send') || method.startsWith('edit') || method === 'answerCallbackQuery') {
        const text = typeof params.text === 'string' ? params.text : null;
        pending.push({ method, chatId, text, buttons: buttonsOf(params.reply_markup), at });
        if (pending.length === 1) setImmediate(flush);
      }
      const body = JSON.stringify({ ok: true, result });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    })().catch((error: unknown) => {
      res.writeHead(500).end(String(error));
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  process.on('message', (message: { type?: string }) => {
    if (message.type === 'usage') {
      const cpu = process.cpuUsage();
      send({ type: 'usage', cpuMs: (cpu.user + cpu.system) / 1000, counts: { ...counts } });
    }
  });
  send({ type: 'ready', apiRoot: `http://127.0.0.1:${port}` });
}

async function runEmulator(token: string, users: number): Promise<void> {
  const { startEmulator } = await import('../src/playground/emulator/index.js');
  const emu = await startEmulator();
  emu.createBot({ token, username: BOT_INFO.username, firstName: BOT_INFO.first_name });
  const ids: number[] = [];
  for (let i = 0; i < users; i++) {
    const user = emu.createUser({ firstName: `User ${i}`, languageCode: 'en' });
    await user.send('/start');
    ids.push(user.id);
  }
  process.on('message', (message: { type?: string }) => {
    if (message.type === 'usage') {
      const cpu = process.cpuUsage();
      send({ type: 'usage', cpuMs: (cpu.user + cpu.system) / 1000, counts: {} });
    }
  });
  send({ type: 'ready', apiRoot: emu.apiRoot, users: ids });
}

// Only when run as the child: the benchmark imports BOT_INFO from here too, and a stub started in its
// own process would keep it from exiting.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [mode = 'stub', token = '1:bench', users = '16'] = process.argv.slice(2);
  process.on('disconnect', () => process.exit(0));
  if (mode === 'emulator') await runEmulator(token, Number(users));
  else await runStub();
}
