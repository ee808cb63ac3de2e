import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { Update } from 'telegraf/types';
import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { errorSummary } from '../delivery/telegram.js';
import { StartupError } from '../errors.js';
import { parseUpdate } from '../inbox/updates.js';
import type { Logger } from '../logger.js';

export interface HttpOptions {
  readonly port: number;
  readonly host?: string;
  readonly db: Db;
  readonly logger: Logger;
  /** Telegram's webhook: the path of WEBHOOK_URL, its secret, and where an update is committed (the inbox). */
  readonly webhook?: { path: string; secret: string; ingest: (update: Update) => Promise<void> } | undefined;
  /** More endpoints (the request API, result file links), tried in order: each answers its own paths, true when it did. */
  readonly routes?: readonly Route[];
  /** Anything else (the playground page). */
  readonly fallback?: RequestListener | undefined;
  /** Limits (tests make them short): the headers within `headersMs`, the whole request within `requestMs`. */
  readonly timeouts?: { headersMs: number; requestMs: number; checkEveryMs?: number };
  /** What /metrics serves (Prometheus text); without it, /metrics is not found. */
  readonly metrics?: () => Promise<{ contentType: string; body: string }>;
  /** The largest webhook body taken (Telegram's updates are far smaller). */
  readonly maxBodyBytes?: number;
}

/** An endpoint of its own paths: answers and resolves to true, or leaves the request alone and resolves to false. */
export type Route = (req: IncomingMessage, res: ServerResponse, path: string) => Promise<boolean>;

/** 1 MB: an update is a few kilobytes at most. */
export const MAX_BODY_BYTES = 1_048_576;

/** `/healthz`, `/metrics`, and the webhook endpoint (a wrong secret gets 401 before the bot sees it). */
export async function startHttpServer(options: HttpOptions): Promise<Server> {
  const timeouts = options.timeouts ?? { headersMs: 10_000, requestMs: 30_000 };
  // A stalled request is cut off: Node's defaults would keep one for five minutes (and check every 30 s).
  const limits = {
    headersTimeout: timeouts.headersMs,
    requestTimeout: timeouts.requestMs,
    connectionsCheckingInterval: timeouts.checkEveryMs ?? Math.min(1_000, timeouts.headersMs),
  };
  const server = createServer(limits, (req, res) => {
    void handle(options, req, res).catch((error: unknown) => {
      options.logger.error({ err: errorSummary(error), path: (req.url ?? '/').split('?')[0] }, 'http request failed');
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new StartupError(`port ${options.port} is already in use: stop the other process or set PORT`)
          : error,
      ),
    );
    server.listen(options.port, options.host ?? '0.0.0.0', () => resolve());
  });
  return server;
}

async function handle(options: HttpOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method === 'GET' && path === '/healthz') {
    try {
      await options.db.execute(sql`select 1`);
      send(res, 200, 'application/json', JSON.stringify({ ok: true }));
    } catch {
      send(res, 503, 'application/json', JSON.stringify({ ok: false, database: 'unreachable' }));
    }
    return;
  }
  if (req.method === 'GET' && path === '/metrics' && options.metrics) {
    const { contentType, body } = await options.metrics();
    send(res, 200, contentType, body);
    return;
  }
  const webhook = options.webhook;
  if (webhook && path === webhook.path) {
    if (req.method !== 'POST') return send(res, 405, 'text/plain', 'method not allowed');
    if (!sameSecret(req.headers['x-telegram-bot-api-secret-token'], webhook.secret)) {
      options.logger.warn({ security: true, ip: req.socket.remoteAddress }, 'webhook call with a wrong secret');
      return send(res, 401, 'text/plain', 'unauthorized');
    }
    await takeUpdate(options, webhook.ingest, req, res);
    return;
  }
  for (const route of options.routes ?? []) if (await route(req, res, path ?? '/')) return;
  if (options.fallback) return options.fallback(req, res);
  send(res, 404, 'text/plain', 'not found');
}

/**
 * One webhook call: the body read whole as bytes (up to the limit) and decoded once, checked to be an
 * update, and committed to the inbox before the 200 (Telegram re-sends anything else). A malformed body
 * gets a 4xx; a database that cannot take it, a 503 so that Telegram tries again.
 */
async function takeUpdate(
  options: HttpOptions,
  ingest: (update: Update) => Promise<void>,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const limit = options.maxBodyBytes ?? MAX_BODY_BYTES;
  const body = await readBody(req, limit);
  if (body === 'too_large') {
    res.setHeader('connection', 'close');
    return send(res, 413, 'text/plain', 'payload too large');
  }
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch {
    return send(res, 400, 'text/plain', 'body is not JSON');
  }
  const parsed = parseUpdate(value);
  if (!parsed.ok) return send(res, 400, 'text/plain', parsed.error);
  try {
    await ingest(parsed.update);
  } catch (error) {
    options.logger.error(
      { err: errorSummary(error), updateId: parsed.update.update_id },
      'webhook update not committed: Telegram will send it again',
    );
    return send(res, 503, 'text/plain', 'try again later');
  }
  send(res, 200, 'application/json', '{"ok":true}');
}

/** The whole body as bytes, or 'too_large' as soon as it passes `limit` (the rest is not read). */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too_large'> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve('too_large');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.pause();
        resolve('too_large');
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks, size)));
    req.once('error', reject);
    req.once('aborted', () => reject(new Error('request aborted')));
  });
}

function sameSecret(given: string | string[] | undefined, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type }).end(body);
}
