import { describe, expect, it } from 'vitest';
import { Lanes, type LaneItem, type LaneOutcome } from '../../src/delivery/lanes.js';

const item = (chatId: number, id: number, key?: number): LaneItem => (key === undefined ? { chatId, id } : { chatId, id, key });

/** A lane runner whose applications finish only when the test says so. */
function controlled() {
  const started: number[] = [];
  /** For each started item, the items that were running when it started. */
  const alongside = new Map<number, number[]>();
  const pending = new Map<number, (outcome: LaneOutcome) => void>();
  const waiters: { count: number; resolve: () => void }[] = [];
  const apply = (i: LaneItem) =>
    new Promise<LaneOutcome>((resolve) => {
      started.push(i.id);
      alongside.set(
        i.id,
        [...pending.keys()].sort((a, b) => a - b),
      );
      pending.set(i.id, resolve);
      for (const w of waiters.splice(0))
        if (started.length >= w.count) w.resolve();
        else waiters.push(w);
    });
  return {
    started,
    alongside,
    apply,
    finish(id: number, outcome: LaneOutcome = 'done') {
      pending.get(id)?.(outcome);
      pending.delete(id);
    },
    /** Resolves once `count` applications have started. */
    startedCount(count: number): Promise<void> {
      if (started.length >= count) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
  };
}

describe('Lanes', () => {
  it("runs each chat's updates one at a time in update_id order, whatever order they arrive in", async () => {
    const applied: number[] = [];
    let running = 0;
    let overlap = false;
    const lanes = new Lanes(async (i) => {
      if (running++ > 0) overlap = true;
      await Promise.resolve();
      applied.push(i.id);
      running--;
      return 'done';
    }, 4);
    lanes.add(item(1, 10));
    lanes.add(item(1, 12));
    lanes.add(item(1, 11));
    await lanes.idle();
    expect(applied).toEqual([10, 11, 12]);
    expect(overlap).toBe(false);
  });

  it('never runs an update twice: queued, running and finished ones are refused', async () => {
    const c = controlled();
    const lanes = new Lanes(c.apply, 4);
    expect(lanes.add(item(1, 1))).toBe(true);
    expect(lanes.add(item(1, 2))).toBe(true);
    await c.startedCount(1);
    expect(lanes.add(item(1, 1))).toBe(false); // running
    expect(lanes.add(item(1, 2))).toBe(false); // queued
    c.finish(1);
    await c.startedCount(2);
    c.finish(2);
    await lanes.idle();
    expect(lanes.add(item(1, 1))).toBe(false); // finished (a pass that read it before it was done)
    expect(lanes.add(item(1, 2))).toBe(false);
    expect(c.started).toEqual([1, 2]);
    lanes.reopen([1]); // its dead letters were put back in line
    expect(lanes.add(item(1, 1))).toBe(true);
    await c.startedCount(3);
    c.finish(1);
    await lanes.idle();
    expect(c.started).toEqual([1, 2, 1]);
  });

  it('runs an older item that arrives after a newer one finished (its transaction committed later), once', async () => {
    const c = controlled();
    const lanes = new Lanes(c.apply, 4);
    expect(lanes.add(item(1, 101))).toBe(true);
    await c.startedCount(1);
    c.finish(101);
    await lanes.idle();
    // Row 100 was written before row 101 but committed after it: a pass reads it now. It is new here.
    expect(lanes.add(item(1, 100))).toBe(true);
    await c.startedCount(2);
    c.finish(100);
    await lanes.idle();
    expect(lanes.add(item(1, 100))).toBe(false);
    expect(lanes.add(item(1, 101))).toBe(false);
    expect(c.started).toEqual([101, 100]);
  });

  it('runs an older item that arrives while a newer one runs, after it, and keeps nothing back', async () => {
    const c = controlled();
    const lanes = new Lanes(c.apply, 4);
    expect(lanes.add(item(1, 10))).toBe(true);
    await c.startedCount(1);
    expect(lanes.add(item(1, 5))).toBe(true); // committed late, read by a pass while 10 is being sent
    expect(lanes.holdsEarlier(1, 10)).toBe(true);
    c.finish(10);
    await c.startedCount(2);
    c.finish(5);
    await lanes.idle();
    expect(c.started).toEqual([10, 5]);
    expect(lanes.holdsEarlier(1, 11)).toBe(false); // nothing left queued or running
    expect(lanes.add(item(1, 5))).toBe(false);
  });

  it("gives up a chat's later updates when one must wait for its retry, and keeps other chats going", async () => {
    const c = controlled();
    const lanes = new Lanes(c.apply, 4);
    lanes.add(item(1, 1));
    lanes.add(item(1, 2));
    lanes.add(item(2, 3));
    await c.startedCount(2);
    c.finish(1, 'wait');
    c.finish(3);
    await lanes.idle();
    expect(c.started).toEqual([1, 3]);
    expect(lanes.holdsEarlier(1, 5)).toBe(false);
    // Both are offered again by the pass once the retry is due.
    expect(lanes.add(item(1, 1))).toBe(true);
    expect(lanes.add(item(1, 2))).toBe(true);
    await c.startedCount(3);
    c.finish(1);
    await c.startedCount(4);
    c.finish(2);
    await lanes.idle();
    expect(c.started).toEqual([1, 3, 1, 2]);
  });

  it('runs at most `concurrency` chats at once and tells which chats hold older updates', async () => {
    const c = controlled();
    const lanes = new Lanes(c.apply, 2);
    lanes.add(item(1, 1));
    lanes.add(item(2, 2));
    lanes.add(item(3, 3));
    await c.startedCount(2);
    expect(c.started).toEqual([1, 2]);
    expect(lanes.holdsEarlier(3, 4)).toBe(true);
    expect(lanes.holdsEarlier(3, 3)).toBe(false);
    c.finish(1);
    await c.startedCount(3);
    expect(c.started).toEqual([1, 2, 3]);
    c.finish(2);
    c.finish(3);
    await lanes.idle();
  });

  it('gives the next free slot to a chat that goes first, ahead of chats that waited longer', async () => {
    const c = controlled();
    const staff = 99;
    const lanes = new Lanes(c.apply, 1, Date.now, (chatId) => chatId === staff);
    lanes.add(item(1, 1));
    await c.startedCount(1);
    // Every slot taken: two clients' chats queue, then the staff chat.
    lanes.add(item(2, 2));
    lanes.add(item(3, 3));
    lanes.add(item(staff, 4));
    c.finish(1);
    await c.startedCount(2);
    expect(c.started).toEqual([1, 4]);
    c.finish(4);
    await c.startedCount(3);
    c.finish(2);
    await c.startedCount(4);
    c.finish(3);
    await lanes.idle();
    // The others keep their order among themselves.
    expect(c.started).toEqual([1, 4, 2, 3]);
  });

  it('gives chats that go first at most half the slots while others wait', async () => {
    const c = controlled();
    const lanes = new Lanes(c.apply, 2, Date.now, (chatId) => chatId >= 98);
    lanes.add(item(1, 1));
    lanes.add(item(2, 2));
    await c.startedCount(2);
    lanes.add(item(3, 3));
    lanes.add(item(98, 4));
    lanes.add(item(99, 5));
    c.finish(1);
    await c.startedCount(3);
    // The first free slot to a staff chat; the next to the client, though another staff chat waits.
    c.finish(2);
    await c.startedCount(4);
    expect(c.started).toEqual([1, 2, 4, 3]);
    c.finish(4);
    await c.startedCount(5);
    c.finish(3);
    c.finish(5);
    await lanes.idle();
    expect(c.started).toEqual([1, 2, 4, 3, 5]);
  });

  it('forgets idle lanes after a while, never a running one', async () => {
    let now = 0;
    const c = controlled();
    const lanes = new Lanes(c.apply, 2, () => now);
    lanes.add(item(1, 1));
    lanes.add(item(2, 2));
    await c.startedCount(2);
    c.finish(1);
    await lanes.idle([1]);
    now = 61_000;
    lanes.prune(60_000);
    expect(lanes.size).toBe(1);
    c.finish(2);
    await lanes.idle();
  });

  it('closes: what runs finishes, what waits is given up, nothing new is taken', async () => {
    const c = controlled();
    const lanes = new Lanes(c.apply, 4);
    lanes.add(item(1, 1));
    lanes.add(item(1, 2));
    await c.startedCount(1);
    const closed = lanes.close();
    expect(lanes.add(item(2, 3))).toBe(false);
    c.finish(1);
    await closed;
    expect(c.started).toEqual([1]);
  });
});

/**
 * Sub-lanes: items with a key (the inbox gives a staff press on a client's card its client) run beside other
 * keys' items of their chat; items without one are barriers. A test proves an item did not start by another
 * one that did: the lanes always start the oldest item that may start.
 */
describe('Lanes with keys', () => {
  it("runs items of different keys of one chat at once, and each key's items in order", async () => {
    const c = controlled();
    const lanes = new Lanes(c.apply, 16);
    lanes.add(item(1, 10, 7));
    lanes.add(item(1, 11, 8));
    lanes.add(item(1, 12, 7));
    await c.startedCount(2);
    expect(c.started).toEqual([10, 11]);
    expect(c.alongside.get(11)).toEqual([10]);
    c.finish(11);
    // 12 waits for 10 (its key), while a later item of another key goes ahead of it.
    lanes.add(item(1, 13, 8));
    await c.startedCount(3);
    expect(c.started).toEqual([10, 11, 13]);
    c.finish(10);
    await c.startedCount(4);
    expect(c.started).toEqual([10, 11, 13, 12]);
    expect(c.alongside.get(12)).toEqual([13]);
    c.finish(12);
    c.finish(13);
    await lanes.idle();
  });

  it('runs an older item that arrives late before the newer ones of its key that have not started', async () => {
    const c = controlled();
    const lanes = new Lanes(c.apply, 16);
    lanes.add(item(1, 10, 7));
    lanes.add(item(1, 12, 7));
    await c.startedCount(1);
    expect(lanes.add(item(1, 11, 7))).toBe(true); // behind 10, which runs, in front of 12
    expect(lanes.add(item(1, 9, 8))).toBe(true); // older, another key: at once
    await c.startedCount(2);
    expect(c.started).toEqual([10, 9]);
    c.finish(10);
    await c.startedCount(3);
    c.finish(11);
    await c.startedCount(4);
    c.finish(12);
    c.finish(9);
    await lanes.idle();
    expect(c.started).toEqual([10, 9, 11, 12]);
  });

  it('runs an item without a key alone: after every earlier item of its chat, before every later one', async () => {
    const c = controlled();
    const lanes = new Lanes(c.apply, 16);
    lanes.add(item(1, 1, 7));
    lanes.add(item(1, 2, 8));
    lanes.add(item(1, 3)); // typed text, say
    lanes.add(item(1, 4, 9));
    lanes.add(item(1, 5, 7));
    lanes.add(item(2, 6, 7)); // another chat's item of the same key is not held up
    await c.startedCount(3);
    expect([...c.started].sort()).toEqual([1, 2, 6]);
    c.finish(1);
    c.finish(6);
    // The barrier waits for 2 as well; a later item of a free key does not pass it.
    lanes.add(item(1, 7, 10));
    c.finish(2);
    await c.startedCount(4);
    expect(c.started[3]).toBe(3);
    expect(c.alongside.get(3)).toEqual([]);
    // An older item arriving while the barrier runs waits for it, and the items behind the barrier wait for it too.
    expect(lanes.add(item(1, 0, 11))).toBe(true);
    c.finish(3);
    await c.startedCount(8);
    expect(c.started.slice(4)).toEqual([0, 4, 5, 7]);
    expect(c.alongside.get(7)).toEqual([0, 4, 5]);
    // A barrier that arrives late, older than items of the chat that run, waits for them and holds back later ones.
    expect(lanes.add(item(1, 8))).toBe(true);
    expect(lanes.add(item(1, 9, 12))).toBe(true);
    for (const id of [0, 4, 5, 7]) c.finish(id);
    await c.startedCount(9);
    expect(c.started.at(-1)).toBe(8);
    expect(c.alongside.get(8)).toEqual([]);
    c.finish(8);
    await c.startedCount(10);
    c.finish(9);
    await lanes.idle();
    expect(c.started.slice(8)).toEqual([8, 9]);
  });

  it('stops the whole chat when an item must wait: what runs finishes, what is queued is given up', async () => {
    const c = controlled();
    const lanes = new Lanes(c.apply, 3);
    lanes.add(item(1, 1, 7));
    lanes.add(item(1, 2, 8));
    lanes.add(item(1, 3, 7));
    lanes.add(item(1, 4, 9));
    lanes.add(item(1, 5));
    await c.startedCount(3);
    expect(c.started).toEqual([1, 2, 4]);
    lanes.add(item(2, 6, 7)); // waits for a slot
    c.finish(1, 'wait');
    // 1's slot goes to 6 once 1 is over; 2 and 4 still run, but a newer update must not queue behind them: the
    // chat's older pending update waits for its retry.
    await c.startedCount(4);
    expect(c.started).toEqual([1, 2, 4, 6]);
    expect(lanes.queued(1, () => true)).toBe(false);
    expect(lanes.holdsEarlier(1, 10)).toBe(false);
    c.finish(2);
    c.finish(4);
    await lanes.idle([1]);
    expect(c.started).toHaveLength(4);
    // The pass offers the chat's items again once the retry is due: the given-up ones run, the finished ones do not.
    expect(lanes.add(item(1, 1, 7))).toBe(true);
    expect(lanes.add(item(1, 2, 8))).toBe(false);
    expect(lanes.add(item(1, 3, 7))).toBe(true);
    expect(lanes.add(item(1, 4, 9))).toBe(false);
    expect(lanes.add(item(1, 5))).toBe(true);
    await c.startedCount(5);
    c.finish(1);
    await c.startedCount(6);
    c.finish(3);
    await c.startedCount(7);
    c.finish(5);
    c.finish(6);
    await lanes.idle();
    expect(c.started.slice(4)).toEqual([1, 3, 5]);
  });

  it('never runs an item twice, whatever its key: queued, running and finished ones are refused', async () => {
    const c = controlled();
    const lanes = new Lanes(c.apply, 16);
    expect(lanes.add(item(1, 1, 7))).toBe(true);
    expect(lanes.add(item(1, 2, 8))).toBe(true);
    expect(lanes.add(item(1, 3, 7))).toBe(true);
    await c.startedCount(2);
    expect(lanes.add(item(1, 1, 7))).toBe(false); // running
    expect(lanes.add(item(1, 2))).toBe(false); // running, offered without its key
    expect(lanes.add(item(1, 3, 8))).toBe(false); // queued
    expect(lanes.holdsEarlier(1, 2)).toBe(true);
    c.finish(1);
    c.finish(2);
    await c.startedCount(3);
    c.finish(3);
    await lanes.idle();
    for (const id of [1, 2, 3]) expect(lanes.add(item(1, id, 7))).toBe(false);
    expect(c.started).toEqual([1, 2, 3]);
  });

  it('counts running items across all chats against the limit, and closes: what runs finishes, what waits is given up', async () => {
    const c = controlled();
    const lanes = new Lanes(c.apply, 2);
    lanes.add(item(1, 1, 7));
    lanes.add(item(1, 2, 8));
    lanes.add(item(1, 3, 9));
    await c.startedCount(2);
    expect(c.started).toEqual([1, 2]);
    lanes.add(item(2, 4));
    c.finish(1);
    // The freed slot goes to whichever asked first: chat 1 for its third item, then chat 2.
    await c.startedCount(3);
    expect(c.started).toEqual([1, 2, 3]);
    c.finish(2);
    await c.startedCount(4);
    expect(c.started).toEqual([1, 2, 3, 4]);
    expect([...c.alongside.values()].every((running) => running.length <= 1)).toBe(true);
    lanes.add(item(1, 5, 10)); // waits for a slot
    const closed = lanes.close();
    expect(lanes.add(item(1, 6, 11))).toBe(false);
    c.finish(3);
    c.finish(4);
    await closed;
    expect(c.started).toEqual([1, 2, 3, 4]);
    expect(lanes.holdsEarlier(1, 7)).toBe(false);
  });
});
