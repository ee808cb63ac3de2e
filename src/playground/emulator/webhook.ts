// Webhook delivery: POSTs a bot's pending updates one at a time, in order, retrying with backoff.
import { paramsFromBody, type Params } from './params.js';
import type { UpdateQueue } from './updates.js';
import type { TgUpdate } from './types.js';

export interface WebhookConfig {
  url: string;
  secretToken?: string;
  maxConnections: number;
  lastErrorDate?: number;
  lastErrorMessage?: string;
}

/** Executes a method the bot returned in its webhook response body (Telegram's "webhook reply"). */
export type WebhookReplyHandler = (method: string, params: Params) => Promise<void>;

const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 2_000;

export class WebhookDelivery {
  config: WebhookConfig | undefined;
  private running = false;
  private closed = false;
  private abort = new AbortController();

  constructor(
    private readonly queue: UpdateQueue,
    private readonly onReply: WebhookReplyHandler,
  ) {
    queue.onPush(() => this.kick());
  }

  /** Sets (or, with undefined, removes) the webhook; an in-flight delivery to the old URL is abandoned. */
  configure(config: WebhookConfig | undefined): void {
    this.config = config;
    this.abort.abort();
    this.abort = new AbortController();
    this.kick();
  }

  close(): void {
    this.closed = true;
    this.abort.abort();
  }

  private kick(): void {
    if (!this.running && !this.closed && this.config && this.queue.size > 0) void this.run();
  }

  private async run(): Promise<void> {
    this.running = true;
    let failures = 0;
    try {
      for (;;) {
        const config = this.config;
        const update = this.queue.peek(1)[0];
        const signal = this.abort.signal;
        if (this.closed || !config || !update) return;
        if (await this.deliver(config, update, signal)) {
          this.queue.remove(update.update_id);
          failures = 0;
        } else if (!signal.aborted) {
          failures += 1;
          await sleep(Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (failures - 1)), signal);
        }
      }
    } finally {
      this.running = false;
      // An update may have arrived between the last check and now.
      this.kick();
    }
  }

  private async deliver(config: WebhookConfig, update: TgUpdate, signal: AbortSignal): Promise<boolean> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (config.secretToken) headers['x-telegram-bot-api-secret-token'] = config.secretToken;
    try {
      const response = await fetch(config.url, { method: 'POST', headers, body: JSON.stringify(update), signal });
      const body = Buffer.from(await response.arrayBuffer());
      if (response.status < 200 || response.status > 299) {
        recordError(config, `Wrong response from the webhook: ${response.status} ${response.statusText}`);
        return false;
      }
      await this.handleReply(body, response.headers.get('content-type') ?? '');
      return true;
    } catch (error) {
      if (!signal.aborted) recordError(config, describeNetworkError(error));
      return false;
    }
  }

  private async handleReply(body: Buffer, contentType: string): Promise<void> {
    if (body.length === 0) return;
    try {
      const params = await paramsFromBody(body, contentType);
      const method = params.string('method');
      if (method) await this.onReply(method, params);
    } catch {
      // Telegram silently ignores webhook replies it cannot execute.
    }
  }
}

function recordError(config: WebhookConfig, message: string): void {
  config.lastErrorDate = Math.floor(Date.now() / 1000);
  config.lastErrorMessage = message;
}

function describeNetworkError(error: unknown): string {
  const cause = error instanceof Error ? error.cause : undefined;
  const code = typeof cause === 'object' && cause !== null && 'code' in cause ? cause.code : undefined;
  if (code === 'ECONNREFUSED') return 'Connection refused';
  if (code === 'ECONNRESET') return 'Connection reset by peer';
  if (cause instanceof Error) return cause.message;
  return error instanceof Error ? error.message : String(error);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
