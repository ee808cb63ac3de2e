import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { rowsOf, type Db } from '../db/client.js';
import { StartupError } from '../errors.js';
import type { Logger } from '../logger.js';

export interface HttpOptions {
  readonly port: number;
  readonly host?: string;
  readonly db: Db;
  readonly logger: Logger;
  /** Telegram's webhook: the path of WEBHOOK_URL, its secret, and the bot's handler. */
  readonly webhook?: { path: string; secret: string; handler: RequestListener } | undefined;
  /** Anything else (the playground page). */
  readonly fallback?: RequestListener | undefined;
}

/** `/healthz`, `/metrics`, and the webhook endpoint (a wrong secret gets 401 before the bot sees it). */
export async function startHttpServer(options: HttpOptions): Promise<Server> {
  const server = createServer((req, res) => {
    void handle(options, req, res).catch((error: unknown) => {
      options.logger.error({ err: error, url: req.url }, 'http request failed');
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new StartupError(`port ${options.port} is already in use: stop the other process or set PORT`) : error),
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
  if (req.method === 'GET' && path === '/metrics') {
    send(res, 200, 'text/plain; version=0.0.4', await metrics(options.db));
    return;
  }
  const webhook = options.webhook;
  if (webhook && path === webhook.path) {
    if (req.method !== 'POST') return send(res, 405, 'text/plain', 'method not allowed');
    if (!sameSecret(req.headers['x-telegram-bot-api-secret-token'], webhook.secret)) {
      options.logger.warn({ security: true, ip: req.socket.remoteAddress }, 'webhook call with a wrong secret');
      return send(res, 401, 'text/plain', 'unauthorized');
    }
    webhook.handler(req, res);
    return;
  }
  if (options.fallback) return options.fallback(req, res);
  send(res, 404, 'text/plain', 'not found');
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

async function metrics(db: Db): Promise<string> {
  const flows = rowsOf<{ status: string; n: number }>(await db.execute(sql`select status, count(*)::int as n from flows group by status`));
  const outbox = rowsOf<{ status: string; n: number }>(await db.execute(sql`select status, count(*)::int as n from outbox group by status`));
  const lines = [
    '# HELP orb_flows Requests by status.',
    '# TYPE orb_flows gauge',
    ...flows.map((r) => `orb_flows{status="${r.status}"} ${r.n}`),
    '# HELP orb_outbox Outgoing messages by delivery status.',
    '# TYPE orb_outbox gauge',
    ...outbox.map((r) => `orb_outbox{status="${r.status}"} ${r.n}`),
  ];
  return `${lines.join('\n')}\n`;
}
