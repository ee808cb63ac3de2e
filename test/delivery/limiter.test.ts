import { describe, expect, it } from 'vitest';
import { isLimited, RateLimiter } from '../../src/delivery/limiter.js';

/** A limiter on a clock that moves only when the limiter waits. */
function clocked() {
  let now = 1_000_000;
  const limiter = new RateLimiter({ now: () => now, wait: async (ms) => void (now += ms) });
  return { limiter, now: () => now };
}

/** The most events within any window of `windowMs` (both ends included). */
function busiest(times: readonly number[], windowMs: number): number {
  let most = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while ((times[i] ?? 0) - (times[j] ?? 0) > windowMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

describe('rate limiter', () => {
  it('keeps every 1 s window within 30 messages, and one chat within 3 in any 3 s (a burst, then 1 a second)', async () => {
    const { limiter, now } = clocked();
    const all: number[] = [];
    const perChat = new Map<number, number[]>();
    // 60 chats get 3 messages each, then one chat gets 10 more.
    const chats = [
      ...Array.from({ length: 3 }, () => Array.from({ length: 60 }, (_, i) => 100 + i)).flat(),
      ...Array.from({ length: 10 }, () => 100),
    ];
    for (const chat of chats) {
      await limiter.acquire(chat);
      all.push(now());
      perChat.set(chat, [...(perChat.get(chat) ?? []), now()]);
    }
    expect(busiest(all, 1_000)).toBeLessThanOrEqual(30);
    expect(busiest(all, 1_000)).toBeGreaterThanOrEqual(24); // and it is not needlessly slow
    const busy = perChat.get(100) ?? [];
    expect(busy).toHaveLength(13);
    expect(busiest(busy, 3_000)).toBe(3);
    expect(busiest(busy, 10_000)).toBeLessThanOrEqual(12);
  });

  it('lets a group have 20 messages a minute', async () => {
    const { limiter, now } = clocked();
    const times: number[] = [];
    for (let i = 0; i < 45; i++) {
      await limiter.acquire(-1001234);
      times.push(now());
    }
    expect(busiest(times, 60_000)).toBe(20);
    expect(busiest(times, 3_000)).toBeLessThanOrEqual(3);
  });

  it('does not hold other chats up while one chat waits for its window', async () => {
    // The clock stands still; each caller's wait is recorded instead of waited.
    const waits: number[] = [];
    const limiter = new RateLimiter({ now: () => 0, wait: async (ms) => void waits.push(Math.round(ms)) });
    for (let i = 0; i < 4; i++) await limiter.acquire(1);
    await limiter.acquire(2);
    // Three quick ones 1/30 s apart (the first at once), the fourth after chat 1's 3 s window, and chat 2
    // takes the next free moment rather than the one after chat 1's wait.
    expect(waits).toEqual([40, 81, 3_150, 121]);
  });

  it('counts a message from when it really went: a late wake (a busy event loop) never squeezes a window', async () => {
    let now = 1_000_000;
    let stall = 0;
    const limiter = new RateLimiter({
      now: () => now,
      wait: async (ms) => {
        now += ms + stall;
        stall = 0;
      },
    });
    await limiter.acquire(2);
    const times: number[] = [];
    for (let i = 0; i < 4; i++) {
      if (i === 0) stall = 300; // the first message to chat 1 wakes 300 ms after its moment
      await limiter.acquire(1);
      times.push(now);
    }
    expect((times[0] ?? 0) - 1_000_000).toBeGreaterThanOrEqual(300);
    // Telegram counts arrivals: at most 3 in any 3 s, the late one included.
    expect(busiest(times, 3_000)).toBeLessThanOrEqual(3);
  });

  it('holds everything back for the retry_after of a 429, including callers already waiting', async () => {
    const { limiter, now } = clocked();
    await limiter.acquire(1);
    const start = now();
    limiter.pause(5_000);
    expect(limiter.pausedFor()).toBe(5_000);
    await limiter.acquire(2);
    expect(now() - start).toBeGreaterThanOrEqual(5_000);
    expect(limiter.pausedFor()).toBe(0);
  });

  it('keeps the limits when its timers fire late together (a busy event loop): a message woken beside others queues again', async () => {
    // A clock and timers of the test's own: a timer fires when the clock reaches it, except during stalls,
    // when the clock jumps and every timer due meanwhile fires at once, late, as on a busy event loop.
    let now = 0;
    const timers: { at: number; fire: () => void }[] = [];
    const limiter = new RateLimiter({ now: () => now, wait: (ms) => new Promise((fire) => timers.push({ at: now + ms, fire })) });
    const sent: { chat: number; at: number }[] = [];
    const chats = Array.from({ length: 60 }, (_, i) => 100 + i);
    const senders = chats.map(async (chat) => {
      for (let i = 0; i < 3; i++) {
        await limiter.acquire(chat);
        sent.push({ chat, at: now });
      }
    });
    const settle = () => new Promise((resolve) => setImmediate(resolve));
    let stalled = false;
    for (;;) {
      await settle();
      timers.sort((a, b) => a.at - b.at);
      const next = timers[0];
      if (!next) break;
      // Half a second in, the loop is stuck for 300 ms.
      const stall: boolean = !stalled && next.at >= 500;
      if (stall) stalled = true;
      now = Math.max(now, next.at + (stall ? 300 : 0));
      for (const timer of timers.filter((t) => t.at <= now)) {
        timers.splice(timers.indexOf(timer), 1);
        timer.fire();
      }
    }
    await Promise.all(senders);
    expect(sent).toHaveLength(180);
    expect(
      busiest(
        sent.map((s) => s.at).sort((a, b) => a - b),
        1_000,
      ),
    ).toBeLessThanOrEqual(30);
    for (const chat of chats)
      expect(
        busiest(
          sent.filter((s) => s.chat === chat).map((s) => s.at),
          3_000,
        ),
      ).toBeLessThanOrEqual(3);
  });

  it('counts messages and edits, not chat actions, callback answers or polling', () => {
    expect(['sendMessage', 'sendPhoto', 'copyMessage', 'forwardMessage', 'editMessageText'].every(isLimited)).toBe(true);
    expect(['sendChatAction', 'answerCallbackQuery', 'getUpdates', 'leaveChat', 'setMyCommands'].some(isLimited)).toBe(false);
  });
});
