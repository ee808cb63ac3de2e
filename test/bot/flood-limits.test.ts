import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { outbox } from '../../src/db/schema.js';
import type { EmulatedUser } from '../../src/playground/emulator/index.js';
import { startHarness, type Harness } from '../helpers/bot.js';

/** The most events within any window of `windowMs` (both ends included). */
function busiest(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while ((sorted[i] ?? 0) - (sorted[j] ?? 0) > windowMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

/** Resolves when `done()` holds, checked on every change the emulator sees (no polling, no sleeps). */
function until(h: Harness, done: () => boolean, timeoutMs = 120_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error('timed out waiting for every message'));
    }, timeoutMs);
    const check = () => {
      if (!done()) return;
      clearTimeout(timer);
      unsubscribe();
      resolve();
    };
    const unsubscribe = h.emu.subscribe(check);
    check();
  });
}

const STORM = 6;

describe("Telegram's flood limits", () => {
  let h: Harness;
  afterEach(() => h.close());

  it('a burst to 60 chats and a 429 storm: every message delivered, no limit ever exceeded, no flood wait counted as an attempt', async () => {
    h = await startHarness('pglite', { realRateLimits: true });
    const clients: EmulatedUser[] = [];
    for (let i = 0; i < 60; i++) clients.push(await h.client(`Client${i}`));
    h.emu.clearCalls();
    // Telegram's limits, as the emulator enforces them, and a storm of 429s on top.
    h.emu.faults.enforceRateLimits();
    // Each 429 pauses every chat for its second: six in a row make the storm.
    h.emu.faults.failNext('sendMessage', STORM, { code: 429, description: 'Too Many Requests: retry after 1', retryAfter: 1 });

    const db = h.app.database.db;
    for (let round = 1; round <= 3; round++) {
      await db.insert(outbox).values(clients.map((c) => ({ chatId: c.id, method: 'sendMessage', payload: { text: `notice ${round}` } })));
    }
    h.app.sender.kick();
    // Direct replies share the same limiter.
    for (const client of clients.slice(0, 10)) await client.send('/help');
    const notices = (c: EmulatedUser) =>
      c
        .messages()
        .map((m) => m.text ?? '')
        .filter((t) => t.startsWith('notice'));
    const helped = (c: EmulatedUser) => c.messages().some((m) => /Your operator will send you a request here/.test(m.text ?? ''));
    await until(h, () => clients.every((c) => notices(c).length === 3) && clients.slice(0, 10).every(helped));
    for (const client of clients) expect(notices(client)).toEqual(['notice 1', 'notice 2', 'notice 3']);

    const calls = h.emu.calls().filter((c) => c.method === 'sendMessage');
    const sent = calls.filter((c) => c.ok);
    // Every notice and reply to the clients, once (the staff's chat also gets the clients' arrival notices).
    const clientChats = new Set(clients.map((c) => c.id));
    expect(sent.filter((c) => c.chatId !== null && clientChats.has(c.chatId))).toHaveLength(190);
    // Only the injected 429s: the emulator never had to refuse a message for exceeding a limit.
    expect(calls.filter((c) => c.errorCode === 429)).toHaveLength(STORM);
    expect(
      busiest(
        sent.map((c) => c.at),
        1_000,
      ),
    ).toBeLessThanOrEqual(30);
    for (const client of clients)
      expect(
        busiest(
          sent.filter((c) => c.chatId === client.id).map((c) => c.at),
          3_000,
        ),
      ).toBeLessThanOrEqual(3);
    // A row is marked sent just after Telegram took it. The staff's chat is not waited for: its 60 arrival
    // notices take a minute at one message a second.
    await h.app.sender.flush(clientChats);
    const rows = await db.select().from(outbox).where(eq(outbox.method, 'sendMessage'));
    expect(
      rows.filter((r) => r.payload && /notice/.test(JSON.stringify(r.payload))).every((r) => r.status === 'sent' && r.attempts === 1),
    ).toBe(true);
  }, 300_000);
});
