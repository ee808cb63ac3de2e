import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Telegram, TelegramError } from 'telegraf';
import { afterEach, describe, expect, it } from 'vitest';
import { withJsonCalls } from '../../src/delivery/bot-api.js';

const TOKEN = '123456:secret-token';

interface Seen {
  readonly path: string;
  readonly contentType: string | undefined;
  readonly body: unknown;
}

/** A Bot API stand-in over real HTTP: answers each call with the next of `answers`, and records what came. */
async function stub(answers: { status: number; body: string }[]) {
  const seen: Seen[] = [];
  let connections = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      seen.push({
        path: req.url ?? '',
        contentType: req.headers['content-type'],
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
      });
      const answer = answers.shift() ?? { status: 200, body: '{"ok":true,"result":true}' };
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
    });
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const apiRoot = `http://127.0.0.1:${port}`;
  return {
    seen,
    connections: () => connections,
    telegram: withJsonCalls(new Telegram(TOKEN, { apiRoot }), { token: TOKEN, apiRoot }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())).then(() => server.closeAllConnections()),
  };
}

describe('the sender’s JSON Bot API calls', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  it('posts the payload as JSON to bot<token>/<method>, without null fields, on one kept-alive connection', async () => {
    const api = await stub([
      { status: 200, body: '{"ok":true,"result":{"message_id":7,"chat":{"id":42}}}' },
      { status: 200, body: '{"ok":true,"result":true}' },
    ]);
    close = api.close;
    const sent = await api.telegram.callApi('sendMessage', {
      chat_id: 42,
      text: 'Привет',
      reply_markup: undefined,
      parse_mode: null,
    } as never);
    expect(sent).toEqual({ message_id: 7, chat: { id: 42 } });
    expect(await api.telegram.callApi('editMessageText', { chat_id: 42, message_id: 7, text: 'edited' })).toBe(true);
    expect(api.seen).toEqual([
      { path: `/bot${TOKEN}/sendMessage`, contentType: 'application/json', body: { chat_id: 42, text: 'Привет' } },
      { path: `/bot${TOKEN}/editMessageText`, contentType: 'application/json', body: { chat_id: 42, message_id: 7, text: 'edited' } },
    ]);
    expect(api.connections()).toBe(1);
  });

  it('throws what Telegram refuses as telegraf does: its code, description and retry_after; a 5xx with its status', async () => {
    const api = await stub([
      { status: 400, body: '{"ok":false,"error_code":400,"description":"Bad Request: can\'t parse entities"}' },
      {
        status: 429,
        body: '{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 5","parameters":{"retry_after":5}}',
      },
      { status: 502, body: '<html>Bad Gateway</html>' },
    ]);
    close = api.close;
    const call = () => api.telegram.callApi('sendMessage', { chat_id: 42, text: 'x' });
    const refused = await call().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(TelegramError);
    expect(refused).toMatchObject({ code: 400, description: "Bad Request: can't parse entities" });
    const limited = await call().catch((error: unknown) => error);
    expect(limited).toBeInstanceOf(TelegramError);
    expect(limited).toMatchObject({ code: 429, parameters: { retry_after: 5 } });
    const down = await call().catch((error: unknown) => error);
    expect(down).toBeInstanceOf(TelegramError);
    expect(down).toMatchObject({ code: 502 });
  });

  it('throws an answer that is not JSON, and a refused connection, as errors of their own without the token', async () => {
    const api = await stub([{ status: 200, body: 'not json' }]);
    const garbled = await api.telegram.callApi('sendMessage', { chat_id: 42, text: 'x' }).catch((error: unknown) => error);
    expect(garbled).toBeInstanceOf(Error);
    expect(garbled).not.toBeInstanceOf(TelegramError);
    expect(String(garbled)).toMatch(/not JSON/);
    await api.close();
    const refused = await api.telegram.callApi('sendMessage', { chat_id: 42, text: 'x' }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(Error);
    expect(refused).not.toBeInstanceOf(TelegramError);
    for (const error of [garbled, refused]) expect(`${String(error)} ${(error as Error).stack ?? ''}`).not.toContain('secret-token');
  });
});
