// Raw Bot API access and tiny HTTP servers for the emulator's own tests.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach } from 'vitest';
import { startEmulator, type BotInfo, type Emulator } from '../helpers/telegram.js';

export interface ApiBody {
  ok: boolean;
  result?: unknown;
  error_code?: number;
  description?: string;
  parameters?: { retry_after?: number };
}

export interface ApiResponse {
  status: number;
  body: ApiBody;
}

/** A Bot API client for one bot, speaking raw HTTP like any Bot API library. */
export class RawBotApi {
  constructor(
    readonly apiRoot: string,
    readonly token: string,
  ) {}

  url(method: string): string {
    return `${this.apiRoot}/bot${this.token}/${method}`;
  }

  /** POSTs JSON and returns status + body, whatever the outcome. */
  async raw(method: string, params: Record<string, unknown> = {}): Promise<ApiResponse> {
    return toResponse(
      await fetch(this.url(method), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(params),
      }),
    );
  }

  async multipart(method: string, fields: Record<string, string | Blob | [Blob, string]>): Promise<ApiResponse> {
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) {
      if (Array.isArray(value)) form.append(name, value[0], value[1]);
      else form.append(name, value);
    }
    return toResponse(await fetch(this.url(method), { method: 'POST', body: form }));
  }

  /** Calls a method that must succeed and returns its result typed as T. */
  async call<T = unknown>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const { body } = await this.raw(method, params);
    if (!body.ok) throw new Error(`${method} failed: ${body.error_code} ${body.description}`);
    return body.result as T;
  }
}

export async function toResponse(response: Response): Promise<ApiResponse> {
  return { status: response.status, body: (await response.json()) as ApiBody };
}

/** Expected shape of a failed call, for `expect(...).toEqual(apiError(...))`. */
export function apiError(code: number, description: string): ApiResponse {
  return { status: code, body: { ok: false, error_code: code, description } };
}

export interface TestContext {
  emu: Emulator;
  bot: BotInfo;
  api: RawBotApi;
}

/** A fresh emulator with one bot per test, closed afterwards. */
export function useEmulator(): TestContext {
  const context = {} as TestContext;
  beforeEach(async () => {
    context.emu = await startEmulator();
    context.bot = context.emu.createBot({ username: 'test_bot', firstName: 'Test Bot' });
    context.api = new RawBotApi(context.emu.apiRoot, context.bot.token);
  });
  afterEach(async () => {
    await context.emu.close();
  });
  return context;
}

export interface LocalServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** Starts a node:http server on a random port. */
export async function startServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<LocalServer> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(Buffer.from(chunk as Uint8Array));
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
}
