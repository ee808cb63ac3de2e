import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { inbox, messages } from '../../src/db/schema.js';
import { startHarness, type Harness } from '../helpers/bot.js';
import { ENGINES } from '../helpers/db.js';

const SECRET = 'webhook-secret-0123456789';
const PATH = '/telegram/webhook';

/**
 * Raw HTTP over a socket: the request written in the given pieces, each its own packet; resolves with the
 * status line once the server closes the connection ('' when it closed without answering).
 */
function rawRequest(port: number, pieces: readonly (string | Buffer)[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
    socket.on('close', () => resolve(answer.split('\r\n')[0] ?? ''));
    socket.on('error', reject);
    socket.on('connect', () => {
      void (async () => {
        for (const piece of pieces) {
          await new Promise<void>((done) => socket.write(piece, () => done()));
          // Each piece its own packet: Nagle off and the write flushed before the next.
          socket.setNoDelay(true);
        }
      })();
    });
  });
}

describe.each(ENGINES)('webhook endpoint on %s', (engine) => {
  let h: Harness;
  afterEach(() => h.close());

  it('answers every malformed body with a 4xx, limits the body to 1 MB, cuts off a stalled request, and stays up', async () => {
    h = await startHarness(engine, { webhook: { secret: SECRET }, httpTimeouts: { headersMs: 400, requestMs: 800, checkEveryMs: 100 } });
    const port = (h.app.http.address() as AddressInfo).port;
    const post = (body: string | Uint8Array, headers: Record<string, string> = {}) =>
      fetch(`http://127.0.0.1:${port}${PATH}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET, ...headers },
        body,
      });

    for (const body of ['null', '[]', '{}', '"update"', '42', '{"update_id":"7"}', '{not json', '', '\xff\xfe']) {
      const response = await post(body);
      expect([400, 422], `body ${JSON.stringify(body)}`).toContain(response.status);
    }
    expect((await post(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]))).status).toBe(400); // not UTF-8
    // Over the limit: 413, whether the length is declared up front or only seen while reading.
    expect((await post(JSON.stringify({ update_id: 777_000_001, pad: 'x'.repeat(1_100_000) }))).status).toBe(413);
    const streamed = await rawRequest(port, [
      `POST ${PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Telegram-Bot-Api-Secret-Token: ${SECRET}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`,
      ...Array.from({ length: 3 }, () => `80000\r\n${'x'.repeat(0x80000)}\r\n`),
      '0\r\n\r\n',
    ]);
    expect(streamed).toBe('HTTP/1.1 413 Payload Too Large');

    // A request that sends its headers and then stalls is cut off (408, or the connection closed).
    const stalled = await rawRequest(port, [
      `POST ${PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nX-Telegram-Bot-Api-Secret-Token: ${SECRET}\r\n\r\n{"upd`,
    ]);
    expect(['', 'HTTP/1.1 408 Request Timeout']).toContain(stalled);
    const noHeaders = await rawRequest(port, ['POST /telegram/webhook HTTP/1.1\r\nHost: x\r\n']);
    expect(['', 'HTTP/1.1 408 Request Timeout']).toContain(noHeaders);

    // Still up, nothing taken from all that.
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    expect(await h.app.database.db.select().from(inbox).where(eq(inbox.updateId, 777_000_001))).toEqual([]);
  });

  it('decodes a body once from all its bytes: a character split across two packets arrives whole', async () => {
    h = await startHarness(engine, { webhook: { secret: SECRET } });
    const port = (h.app.http.address() as AddressInfo).port;
    const client = await h.client('Anna');
    const text = 'Привет, я Анна 👋';
    const body = Buffer.from(
      JSON.stringify({
        update_id: 900_000_002,
        message: {
          message_id: 1000,
          date: Math.floor(Date.now() / 1000),
          chat: { id: client.id, type: 'private', first_name: 'Anna' },
          from: client.info,
          text,
        },
      }),
    );
    // Cut inside the two bytes of "П" (and so inside every multi-byte character after it, at the byte level).
    const cut = body.indexOf(Buffer.from('П')) + 1;
    const status = await rawRequest(port, [
      `POST ${PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nX-Telegram-Bot-Api-Secret-Token: ${SECRET}\r\nConnection: close\r\n\r\n`,
      body.subarray(0, cut),
      body.subarray(cut),
    ]);
    expect(status).toBe('HTTP/1.1 200 OK');
    await h.app.inbox.drain();
    const logged = await h.app.database.db.select().from(messages).where(eq(messages.updateId, 900_000_002));
    expect(logged.map((m) => m.text)).toEqual([text]);
  });
});
