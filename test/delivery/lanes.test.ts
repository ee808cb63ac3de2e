import { describe, expect, it } from 'vitest';
import { Lanes, type LaneItem, type LaneOutcome } from '../../src/delivery/lanes.js';

const item = (chatId: number, id: number): LaneItem => ({ chatId, id });

/** A lane runner whose applications finish only when the test says so. */
function controlled() {
  const started: number[] = [];
  const pending = new Map<number, (outcome: LaneOutcome) => void>();
  const waiters: { count: number; resolve: () => void }[] = [];
  const apply = (i: LaneItem) =>
    new Promise<LaneOutcome>((resolve) => {
      started.push(i.id);
      pending.set(i.id, resolve);
      for (const w of waiters.splice(0))
        if (started.length >= w.count) w.resolve();
        else waiters.push(w);
    });
  return {
    started,
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

  it('runs an item that turns up after a later one of its chat finished (rows commit out of id order on PostgreSQL)', async () => {
    const c = controlled();
    const lanes = new Lanes(c.apply, 4);
    lanes.add(item(1, 2));
    await c.startedCount(1);
    c.finish(2);
    await lanes.idle();
    // Row 1 was written first but committed after row 2 was sent: the next pass finds it.
    expect(lanes.add(item(1, 1))).toBe(true);
    await c.startedCount(2);
    c.finish(1);
    await lanes.idle();
    expect(c.started).toEqual([2, 1]);
    expect(lanes.add(item(1, 1))).toBe(false);
    expect(lanes.add(item(1, 2))).toBe(false);
  });

  it('queues an item with a smaller id that turns up while one of its chat runs behind it: each runs once', async () => {
    const c = controlled();
    const lanes = new Lanes(c.apply, 4);
    lanes.add(item(1, 5));
    lanes.add(item(1, 6));
    await c.startedCount(1);
    expect(lanes.add(item(1, 4))).toBe(true);
    c.finish(5);
    await c.startedCount(2);
    expect(c.started).toEqual([5, 4]);
    c.finish(4);
    await c.startedCount(3);
    c.finish(6);
    await lanes.idle();
    expect(c.started).toEqual([5, 4, 6]);
    expect(lanes.holdsEarlier(1, 100)).toBe(false);
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
