// Telegram's flood limits for sending, as sliding windows over the real clock (see Faults.enforceRateLimits).
import { ApiError } from './errors.js';

/**
 * Telegram's documented limits for a bot's messages
 * (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this), per bot.
 * Each is a sliding window of accepted calls:
 * - at most `globalPerSecond` (30) in any 1 s, over all chats;
 * - per chat, at most `perChatBurst` (3) in any `perChatBurst / perChatPerSecond` s (3 s): on average
 *   `perChatPerSecond` (1) a second, with short bursts;
 * - per group, supergroup or channel (negative chat id), at most `perGroupPerMinute` (20) in any 60 s,
 *   on top of the per-chat limit.
 */
export interface RateLimitOptions {
  globalPerSecond?: number;
  perChatPerSecond?: number;
  perChatBurst?: number;
  perGroupPerMinute?: number;
  /**
   * The least `retry_after` (seconds) a refusal reports; it reports more when the window frees up later
   * (e.g. ~60 for a group's per-minute limit), so a bot that waits as told always gets through. Default 1.
   */
  retryAfter?: number;
}

/** The methods that send or edit a message in a chat: send* (except sendChatAction), copy, forward, editMessage*. */
export function isMessageMethod(method: string): boolean {
  const name = method.toLowerCase();
  return (
    (name.startsWith('send') && name !== 'sendchataction') ||
    name === 'copymessage' ||
    name === 'forwardmessage' ||
    name.startsWith('editmessage')
  );
}

/** Timestamps of the calls accepted within the last `windowMs`. */
class SlidingWindow {
  private readonly times: number[] = [];

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** Milliseconds until one more call fits; 0 if it fits now. */
  waitMs(now: number): number {
    while (this.times.length > 0 && (this.times[0] ?? 0) <= now - this.windowMs) this.times.shift();
    const oldest = this.times[0];
    return this.times.length < this.limit || oldest === undefined ? 0 : oldest + this.windowMs - now;
  }

  record(now: number): void {
    this.times.push(now);
  }
}

/** Refuses message-sending calls beyond Telegram's flood limits, per bot. Refused calls do not count. */
export class RateLimiter {
  private readonly windows = new Map<string, SlidingWindow>();
  private readonly globalPerSecond: number;
  private readonly perChatBurst: number;
  private readonly perChatWindowMs: number;
  private readonly perGroupPerMinute: number;
  private readonly retryAfter: number;

  constructor(options: RateLimitOptions = {}) {
    this.globalPerSecond = positive(options.globalPerSecond ?? 30, 'globalPerSecond');
    const perChatPerSecond = positive(options.perChatPerSecond ?? 1, 'perChatPerSecond');
    this.perChatBurst = positive(options.perChatBurst ?? 3, 'perChatBurst');
    this.perChatWindowMs = (this.perChatBurst / perChatPerSecond) * 1000;
    this.perGroupPerMinute = positive(options.perGroupPerMinute ?? 20, 'perGroupPerMinute');
    this.retryAfter = positive(options.retryAfter ?? 1, 'retryAfter');
  }

  /** Accepts a call of bot `botId` into `chatId`, or throws 429 "Too Many Requests: retry after N". */
  admit(botId: number, chatId: number, now = Date.now()): void {
    const windows = [
      this.window(`${botId}`, this.globalPerSecond, 1000),
      this.window(`${botId}:${chatId}`, this.perChatBurst, this.perChatWindowMs),
      ...(chatId < 0 ? [this.window(`${botId}:${chatId}:group`, this.perGroupPerMinute, 60_000)] : []),
    ];
    const waitMs = Math.max(...windows.map((window) => window.waitMs(now)));
    if (waitMs > 0) {
      const seconds = Math.ceil(Math.max(this.retryAfter, waitMs / 1000));
      throw new ApiError(429, `Too Many Requests: retry after ${seconds}`, { retry_after: seconds });
    }
    for (const window of windows) window.record(now);
  }

  private window(key: string, limit: number, windowMs: number): SlidingWindow {
    let window = this.windows.get(key);
    if (!window) {
      window = new SlidingWindow(limit, windowMs);
      this.windows.set(key, window);
    }
    return window;
  }
}

function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number, got ${value}`);
  return value;
}
