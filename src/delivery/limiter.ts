import { setTimeout as sleep } from 'node:timers/promises';

/** Telegram's flood limits, as rates and bursts (see https://core.telegram.org/bots/faq). */
export interface RateLimits {
  /** Messages per second to all chats together. */
  readonly globalPerSecond: number;
  /** Messages per second to one private chat, sustained. */
  readonly perChatPerSecond: number;
  /** Messages one private chat may get at once before the sustained rate applies. */
  readonly perChatBurst: number;
  /** Messages per minute to one group. */
  readonly perGroupPerMinute: number;
}

export const TELEGRAM_LIMITS: RateLimits = { globalPerSecond: 30, perChatPerSecond: 1, perChatBurst: 3, perGroupPerMinute: 20 };

export interface LimiterOptions {
  readonly limits?: Partial<RateLimits>;
  /** Milliseconds since some epoch (tests inject their own clock). */
  readonly now?: () => number;
  /** Waits `ms` (tests advance their clock instead). */
  readonly wait?: (ms: number) => Promise<void>;
}

/**
 * How late a caller may wake after its moment and still go out: timers fire late, and together, when the
 * event loop is busy, and those woken later than this take a new moment. Within it the margins below keep
 * every window: at Telegram's limits, at most 28 messages in any second, and a chat's fourth message
 * 3 s + 150 ms − 100 ms after its first.
 */
const LATE_MS = 100;

/** Margins, as a share of the interval or window they widen (so loose test limits stay loose). */
const SPACING_MARGIN = 0.21;
const WINDOW_MARGIN = 0.05;

/** At most `size` messages within any `ms` milliseconds. */
interface Window {
  readonly size: number;
  readonly ms: number;
}

/**
 * The one limiter for everything the bot sends, outbox rows and direct replies alike. `acquire(chat)`
 * reserves the earliest moment at which a message to that chat keeps every limit, and waits for it:
 * - each chat: at most `perChatBurst` messages within any `perChatBurst / perChatPerSecond` seconds
 *   (a short burst, then one a second); a group (negative id) also at most `perGroupPerMinute` a minute;
 * - all chats together: messages at least 1/`globalPerSecond` s apart, so any second holds at most that many.
 * A chat that must wait does not hold the others up: they take the free moments in between. A 429 pauses
 * everything for `retry_after`. Reservations are made synchronously, so concurrent callers never race.
 * Margins absorb the jitter between reserving a moment here and the request reaching Telegram (a busy
 * event loop, the network): messages are 21 % further apart than the global rate asks (40 ms at 30/s,
 * about 25 a second), and a chat's window ends 5 % later (150 ms of 3 s).
 */
export class RateLimiter {
  private readonly limits: RateLimits;
  private readonly now: () => number;
  private readonly wait: (ms: number) => Promise<void>;
  private readonly spacing: number;
  private readonly chatWindow: Window;
  private readonly groupWindow: Window;
  /** Reserved moments of all chats, ascending (only those that still matter). */
  private readonly reserved: number[] = [];
  /** Each chat's reserved moments, ascending (the last few). */
  private readonly chats = new Map<number, number[]>();
  private pausedUntil = 0;

  constructor(options: LimiterOptions = {}) {
    this.limits = { ...TELEGRAM_LIMITS, ...options.limits };
    this.now = options.now ?? Date.now;
    this.wait = options.wait ?? ((ms) => sleep(ms));
    this.spacing = (1_000 / this.limits.globalPerSecond) * (1 + SPACING_MARGIN);
    this.chatWindow = { size: this.limits.perChatBurst, ms: (this.limits.perChatBurst * 1_000) / this.limits.perChatPerSecond };
    this.groupWindow = { size: this.limits.perGroupPerMinute, ms: 60_000 };
  }

  /** Resolves when a message to `chatId` may go out; the moment is taken. */
  async acquire(chatId: number): Promise<void> {
    for (let late = false; ;) {
      const now = this.now();
      const at = this.reserve(chatId, now);
      if (at > now) await this.wait(at - now);
      const woke = this.now();
      const overdue = !late && woke - at > LATE_MS;
      if (this.pausedUntil <= woke && !overdue) return;
      // A 429 came while this caller waited: its moment is void, and it queues again after the pause
      // (waking everyone at the pause's end at once would be a burst). A caller that woke long after its
      // moment (the event loop was busy) takes a new one, once: the others who woke late with it would
      // otherwise all go out at once.
      this.release(chatId, at);
      if (this.pausedUntil > woke) await this.wait(this.pausedUntil - woke);
      else late = true;
    }
  }

  private reserve(chatId: number, now: number): number {
    const mine = this.chats.get(chatId) ?? [];
    // A chat's messages keep their order, and each of its windows has room.
    let at = Math.max(now, this.pausedUntil, mine.at(-1) ?? 0);
    for (const window of chatId < 0 ? [this.chatWindow, this.groupWindow] : [this.chatWindow]) {
      const edge = mine[mine.length - window.size];
      if (edge !== undefined) at = Math.max(at, edge + window.ms * (1 + WINDOW_MARGIN));
    }
    at = this.freeMoment(at, now);
    mine.push(at);
    if (mine.length > this.groupWindow.size) mine.shift();
    this.chats.set(chatId, mine);
    this.forgetQuietChats(now);
    return at;
  }

  private release(chatId: number, at: number): void {
    const mine = this.chats.get(chatId);
    const own = mine?.lastIndexOf(at) ?? -1;
    if (mine && own >= 0) mine.splice(own, 1);
    const index = this.reserved.indexOf(at);
    if (index >= 0) this.reserved.splice(index, 1);
  }

  /** Telegram answered 429: nothing goes out for `ms`. */
  pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.now() + ms);
  }

  /** Milliseconds until the current pause ends (0 when not paused). */
  pausedFor(): number {
    return Math.max(0, this.pausedUntil - this.now());
  }

  /** The first moment from `from` on that is `spacing` away from every other reservation; reserved. */
  private freeMoment(from: number, now: number): number {
    while (this.reserved.length > 0 && (this.reserved[0] ?? 0) <= now - this.spacing) this.reserved.shift();
    let at = from;
    let index = 0;
    for (; index < this.reserved.length; index++) {
      const other = this.reserved[index] ?? 0;
      if (other <= at - this.spacing) continue;
      if (other >= at + this.spacing) break;
      at = other + this.spacing;
    }
    this.reserved.splice(index, 0, at);
    return at;
  }

  /** Chats quiet for longer than any window are forgotten (the map would otherwise grow with every chat). */
  private forgetQuietChats(now: number): void {
    if (this.chats.size < 10_000) return;
    for (const [id, times] of this.chats) if ((times.at(-1) ?? 0) < now - this.groupWindow.ms) this.chats.delete(id);
  }
}

/** Bot API methods that put a message into a chat or change one: the ones Telegram's flood limits count. */
export function isLimited(method: string): boolean {
  return (
    (method.startsWith('send') && method !== 'sendChatAction') ||
    method === 'copyMessage' ||
    method === 'copyMessages' ||
    method === 'forwardMessage' ||
    method === 'forwardMessages' ||
    method.startsWith('editMessage')
  );
}
