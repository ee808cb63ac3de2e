// Fault injection for Bot API calls: scripted failures, artificial latency and Telegram's flood limits.
import { setTimeout as delay } from 'node:timers/promises';
import { ApiError } from './errors.js';
import { isMessageMethod, RateLimiter, type RateLimitOptions } from './rate-limits.js';

/**
 * The error a failing call answers with,
 * e.g. `{ code: 429, description: 'Too Many Requests: retry after 3', retryAfter: 3 }`.
 */
export interface FaultError {
  code: number;
  description: string;
  retryAfter?: number;
}

/** Calls of a method held by {@link Faults.hold}. */
export interface HeldCalls {
  /** Lets the held calls, and later ones, go. */
  release(): void;
  /** Resolves once a held call has come in. */
  arrived(): Promise<void>;
}

export class Faults {
  private readonly failures = new Map<string, Array<{ remaining: number; error: FaultError }>>();
  private readonly latencies = new Map<string, number>();
  private readonly holds = new Map<
    string,
    { readonly promise: Promise<void>; readonly arrive: () => void; readonly release: () => void }
  >();
  private limiter: RateLimiter | undefined;

  /**
   * The next `count` calls of `method` fail with `error` (queued after earlier failNext calls).
   * `method` '*' means any method: a method's own scripted failures go first.
   */
  failNext(method: string, count: number, error: FaultError): void {
    if (count <= 0) return;
    const key = method.toLowerCase();
    const queue = this.failures.get(key) ?? [];
    queue.push({ remaining: count, error });
    this.failures.set(key, queue);
  }

  /** Every call of `method` ('*' for all methods without their own setting) is delayed by `ms`. */
  latency(method: string, ms: number): void {
    this.latencies.set(method === '*' ? '*' : method.toLowerCase(), ms);
  }

  /**
   * Calls of `method` made from now on wait until `release()` (or {@link clear}): a call held in flight for as
   * long as a test needs, with no clock involved; `arrived()` resolves once one such call has come in. Holding
   * the method again replaces the hold for later calls; the earlier one still waits for its own release.
   */
  hold(method: string): HeldCalls {
    const key = method.toLowerCase();
    let release!: () => void;
    let arrive!: () => void;
    const promise = new Promise<void>((r) => (release = r));
    const arrival = new Promise<void>((r) => (arrive = r));
    const held = {
      promise,
      arrive,
      release: () => {
        if (this.holds.get(key) === held) this.holds.delete(key);
        release();
      },
    };
    this.holds.set(key, held);
    return { release: held.release, arrived: () => arrival };
  }

  /**
   * Turns on Telegram's flood limits (off by default; see {@link RateLimitOptions} for the windows and defaults):
   * a call that sends or edits a message (send* but sendChatAction, copyMessage, forwardMessage, editMessage*)
   * beyond a limit answers 429 "Too Many Requests: retry after N" with `parameters.retry_after = N`, and is
   * not performed. Calls without a numeric chat_id are not limited. Calling it again starts over with empty
   * windows; {@link clear} turns the limits off.
   */
  enforceRateLimits(options: RateLimitOptions = {}): void {
    this.limiter = new RateLimiter(options);
  }

  /** Removes every scripted failure, latency and hold (held calls go on), and turns flood limits off. */
  clear(): void {
    this.failures.clear();
    this.latencies.clear();
    for (const held of [...this.holds.values()]) held.release();
    this.limiter = undefined;
  }

  /** Waits while the method is held, applies the configured latency, then throws the next scripted failure, if any. */
  async beforeCall(method: string): Promise<void> {
    const key = method.toLowerCase();
    const held = this.holds.get(key);
    if (held) {
      held.arrive();
      await held.promise;
    }
    const ms = this.latencies.get(key) ?? this.latencies.get('*') ?? 0;
    if (ms > 0) await delay(ms);
    const queue = this.failures.get(key)?.length ? this.failures.get(key) : this.failures.get('*');
    const next = queue?.[0];
    if (!queue || !next) return;
    next.remaining -= 1;
    if (next.remaining <= 0) queue.shift();
    const { code, description, retryAfter } = next.error;
    throw new ApiError(code, description, retryAfter !== undefined ? { retry_after: retryAfter } : undefined);
  }

  /** Throws 429 when flood limits are on and this message-sending call of bot `botId` would exceed them. */
  checkRateLimits(botId: number, method: string, chatId: number | null): void {
    if (this.limiter && chatId !== null && isMessageMethod(method)) this.limiter.admit(botId, chatId);
  }
}
