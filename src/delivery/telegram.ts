import { TelegramError, type Telegram } from 'telegraf';
import { summarizeError, type ErrorSummary, type Logger } from '../logger.js';
import { describeMessage, type MessageLog } from '../log/messages.js';
import { isLimited, RateLimiter } from './limiter.js';

export interface GateOptions {
  readonly limiter?: RateLimiter;
  readonly logger: Logger;
  /** How often one call waits out a 429 before the error reaches its caller. */
  readonly floodWaits?: number;
  /**
   * Told of every Bot API request as it returns (each attempt: a flood wait that is made again counts
   * twice): the method, and null, Telegram's error code, or 'network' when no answer came.
   */
  readonly observe?: (method: string, error: number | 'network' | null) => void;
}

/**
 * Every Bot API call the bot makes passes here: messages take a slot from the one {@link RateLimiter}
 * (outbox rows and direct replies alike), a 429 pauses everything for `retry_after` and the call is
 * made again (a flood wait is never a failure), and a button press that Telegram no longer knows (a
 * re-delivered update) is answered quietly. Telegraf gives every update a Telegram client of its own,
 * so each is wrapped with {@link wrap}.
 */
export class TelegramGate {
  readonly limiter: RateLimiter;
  private readonly wrapped = new WeakSet<Telegram>();

  constructor(private readonly options: GateOptions) {
    this.limiter = options.limiter ?? new RateLimiter();
  }

  /** Wraps `telegram.callApi` in place (once). With `log`, every message sent is also written to the message log. */
  wrap(telegram: Telegram, log?: MessageLog): Telegram {
    if (this.wrapped.has(telegram)) return telegram;
    this.wrapped.add(telegram);
    const callApi = telegram.callApi.bind(telegram) as (method: string, payload: unknown, extra?: unknown) => Promise<unknown>;
    const floodWaits = this.options.floodWaits ?? 5;
    telegram.callApi = (async (method: string, payload: unknown, extra?: unknown) => {
      const chatId = chatIdOf(payload);
      for (let waited = 0; ; waited++) {
        if (chatId !== null && isLimited(method)) await this.limiter.acquire(chatId);
        let result: unknown;
        try {
          result = await callApi(method, payload, extra);
        } catch (error) {
          this.observed(method, error instanceof TelegramError ? error.code : 'network');
          const retryAfter = retryAfterOf(error);
          if (retryAfter !== null) {
            this.limiter.pause(retryAfter * 1_000);
            this.options.logger.warn({ method, retryAfter }, 'flood wait');
            if (waited < floodWaits) continue;
          }
          // An old press (re-delivered after a restart) can no longer be answered; nobody waits for it.
          if (method === 'answerCallbackQuery' && error instanceof TelegramError && error.code === 400) return true;
          throw error;
        }
        this.observed(method, null);
        if (log && (method.startsWith('send') || method === 'copyMessage' || method === 'forwardMessage')) {
          const logged = describeMessage(result);
          if (logged)
            await log
              .outbound(logged)
              .catch((error: unknown) => this.options.logger.warn({ err: errorSummary(error) }, 'outgoing message not logged'));
        }
        return result;
      }
    }) as typeof telegram.callApi;
    return telegram;
  }

  private observed(method: string, error: number | 'network' | null): void {
    try {
      this.options.observe?.(method, error);
    } catch {
      // counting must never fail a call
    }
  }
}

/** Seconds Telegram asks to wait (a 429), or null. */
export function retryAfterOf(error: unknown): number | null {
  if (!(error instanceof TelegramError) || error.code !== 429) return null;
  return error.parameters?.retry_after ?? 1;
}

function chatIdOf(payload: unknown): number | null {
  if (typeof payload !== 'object' || payload === null) return null;
  const id = (payload as { chat_id?: unknown }).chat_id;
  if (typeof id === 'number') return id;
  if (typeof id === 'string' && /^-?\d+$/.test(id)) return Number(id);
  return null;
}

/**
 * What may be logged of an error: its class, code and Telegram's description. Never the request payload
 * (a TelegramError carries it) nor SQL parameters (a database error's message includes them). The same
 * summary the logger's `err` serializer makes (see {@link summarizeError}).
 */
export function errorSummary(error: unknown): ErrorSummary {
  return summarizeError(error);
}
