/**
 * Work for one chat: an update to apply, a message to send. Each chat's items run in `id` order; items
 * with a `key` (a client, for a staff press) are ordered only among the chat's items of the same key.
 */
export interface LaneItem {
  readonly id: number;
  readonly chatId: number;
  /**
   * A sub-lane of the chat: items of different keys may run at once. An item without a key is a barrier: it
   * waits for every earlier item of its chat, and every later one waits for it.
   */
  readonly key?: number;
}

/**
 * What became of an item: `done` (applied, or set aside for good, such as a dead letter) lets the chat's next
 * item run; `wait` (a retry is due later) stops the chat, and its queued items are given up for a later pass.
 */
export type LaneOutcome = 'done' | 'wait';

interface Lane<T extends LaneItem> {
  /** Items waiting to run, in `id` order. */
  readonly queue: T[];
  /** Ids queued or running. */
  readonly ids: Set<number>;
  /** Items running now (more than one only when they have different keys). */
  readonly inflight: Map<number, T>;
  /** The lane's runner, until it has nothing queued or running. */
  running: Promise<void> | null;
  /** Wakes the runner when it waits for an item to finish (or a new one to arrive). */
  wake: (() => void) | null;
  /**
   * An item waited (its retry is due later) while others of the chat still ran: until they finish, the lane
   * holds nothing a newer update may queue behind (see `holdsEarlier`).
   */
  stopped: boolean;
  /**
   * Ids this lane finished lately, oldest first: one offered again (a pass read it before it finished) is
   * refused. Not a high-water mark: an older id that was never here (its transaction committed after a newer
   * one's) must still run.
   */
  readonly finished: Set<number>;
  idleSince: number;
}

/** Finished ids remembered per lane: far more than a chat finishes while a pass's read is on its way. */
const REMEMBERED = 1_024;

/**
 * One lane per chat: each chat's items run one after another in `id` order, up to `concurrency` items at
 * once across all chats, and a chat that waits never holds up the others. Within a chat, items with a key
 * form sub-lanes between barriers (items without one): items of different keys run at once, items of one
 * key in order, and a barrier runs alone. Items enter as soon as they exist (the inbox adds an update once it
 * is committed) and again from passes over the table (retries, rows another instance wrote); an item
 * queued, running or finished here is never run twice.
 */
export class Lanes<T extends LaneItem> {
  private readonly lanes = new Map<number, Lane<T>>();
  private active = 0;
  private readonly slots: (() => void)[] = [];
  /**
   * Runners of chats that go first (`first`), waiting for a slot: they take the next one freed while such chats
   * hold fewer than half the slots (the others are never shut out).
   */
  private readonly firstSlots: (() => void)[] = [];
  /** Slots held by chats that go first. */
  private activeFirst = 0;
  private closing = false;

  constructor(
    private readonly apply: (item: T) => Promise<LaneOutcome>,
    private readonly concurrency: number,
    private readonly now: () => number = Date.now,
    /**
     * Chats whose items take the next free slot before any other chat's (a staff chat's among hundreds of
     * clients' chats), up to half the slots; checked each time the chat's runner waits for a slot.
     */
    private readonly first: (chatId: number) => boolean = () => false,
  ) {}

  /** Queues an item; false when it is queued, running or finished here already (or the lanes are closed). */
  add(item: T): boolean {
    if (this.closing) return false;
    let lane = this.lanes.get(item.chatId);
    if (!lane) {
      lane = {
        queue: [],
        ids: new Set(),
        inflight: new Map(),
        running: null,
        wake: null,
        stopped: false,
        finished: new Set(),
        idleSince: this.now(),
      };
      this.lanes.set(item.chatId, lane);
    }
    if (lane.ids.has(item.id) || lane.finished.has(item.id)) return false;
    const at = lane.queue.findIndex((queued) => queued.id > item.id);
    if (at === -1) lane.queue.push(item);
    else lane.queue.splice(at, 0, item);
    lane.ids.add(item.id);
    // A runner waiting for a running item may start this one now (another key's).
    this.wakeUp(lane);
    lane.running ??= this.run(lane, item.chatId);
    return true;
  }

  /** Whether an item queued in the chat's lane (waiting, not running) matches `test`. */
  queued(chatId: number, test: (item: T) => boolean): boolean {
    return this.lanes.get(chatId)?.queue.some(test) ?? false;
  }

  /**
   * Whether an item of the chat older than `id` is queued or running here (never while the chat waits for a
   * retry and its other running items finish: the older update still pending may be the one that waits).
   */
  holdsEarlier(chatId: number, id: number): boolean {
    const lane = this.lanes.get(chatId);
    return lane !== undefined && !lane.stopped && [...lane.ids].some((queued) => queued < id);
  }

  /** Resolves when the given chats' lanes (all lanes without `chatIds`) have nothing left to run. */
  async idle(chatIds?: Iterable<number>): Promise<void> {
    const ids = chatIds ? [...chatIds] : [...this.lanes.keys()];
    for (;;) {
      const running = ids.map((id) => this.lanes.get(id)?.running).filter((p): p is Promise<void> => p !== null && p !== undefined);
      if (running.length === 0) return;
      await Promise.all(running);
    }
  }

  /**
   * Stops: what runs is finished, what waits in the queues is given up (it stays pending in its table, for
   * the next start), and nothing new is taken.
   */
  async close(): Promise<void> {
    this.closing = true;
    await this.idle();
  }

  /** Forgets what the chats finished (their items are put back in line, such as dead letters retried, and must run again). */
  reopen(chatIds?: Iterable<number>): void {
    for (const id of chatIds ?? [...this.lanes.keys()]) {
      const lane = this.lanes.get(id);
      lane?.finished.clear();
    }
  }

  /** Drops lanes idle for longer than `ms` (a pass that read their items before they finished is long over). */
  prune(ms: number): void {
    const before = this.now() - ms;
    for (const [id, lane] of this.lanes) if (!lane.running && lane.idleSince < before) this.lanes.delete(id);
  }

  get size(): number {
    return this.lanes.size;
  }

  private async run(lane: Lane<T>, chatId: number): Promise<void> {
    try {
      for (;;) {
        if (this.closing) this.giveUp(lane);
        if (lane.queue.length === 0 && lane.inflight.size === 0) break;
        if (this.next(lane)) {
          const first = this.first(chatId);
          await this.slot(first);
          // Taken once the slot is free: an older item that arrived meanwhile goes first.
          const item = this.closing ? undefined : this.next(lane);
          if (item) this.start(lane, item, first);
          else this.release(first);
          continue;
        }
        // Everything queued waits for a running item of its sub-lane (or the barrier for all of them).
        await new Promise<void>((resolve) => (lane.wake = resolve));
      }
    } finally {
      lane.idleSince = this.now();
      lane.running = null;
      lane.stopped = false;
    }
  }

  /**
   * The oldest queued item that may start now: nothing running or queued before it shares its key, and no
   * barrier runs or is queued before it; a barrier only when nothing runs and nothing is queued before it.
   */
  private next(lane: Lane<T>): T | undefined {
    const busy = new Set<number>();
    for (const running of lane.inflight.values()) {
      if (running.key === undefined) return undefined;
      busy.add(running.key);
    }
    for (const queued of lane.queue) {
      if (queued.key === undefined) return busy.size === 0 ? queued : undefined;
      if (!busy.has(queued.key)) return queued;
    }
    return undefined;
  }

  /**
   * Runs an item in the slot its runner took: out of the queue while it runs (an older one may be queued in front
   * of it), in `ids` until it is over.
   */
  private start(lane: Lane<T>, item: T, first: boolean): void {
    lane.queue.splice(lane.queue.indexOf(item), 1);
    lane.inflight.set(item.id, item);
    void this.execute(lane, item, first);
  }

  private async execute(lane: Lane<T>, item: T, first: boolean): Promise<void> {
    let outcome: LaneOutcome = 'wait';
    try {
      outcome = await this.apply(item);
    } catch {
      // The bookkeeping itself failed (the database went away): the item stays pending for a later pass.
    } finally {
      this.release(first);
    }
    lane.inflight.delete(item.id);
    lane.ids.delete(item.id);
    if (outcome === 'wait') {
      // Later items of the chat must not overtake this one: they wait for the pass that retries it. Items of
      // the chat already running finish.
      this.giveUp(lane);
      if (lane.inflight.size > 0) lane.stopped = true;
    } else {
      lane.finished.add(item.id);
      if (lane.finished.size > REMEMBERED) lane.finished.delete(lane.finished.values().next().value as number);
    }
    if (lane.inflight.size === 0) lane.stopped = false;
    this.wakeUp(lane);
  }

  /** Drops the lane's queued items: they stay pending in their table for a later pass (or the next start). */
  private giveUp(lane: Lane<T>): void {
    for (const queued of lane.queue) lane.ids.delete(queued.id);
    lane.queue.length = 0;
  }

  private wakeUp(lane: Lane<T>): void {
    const wake = lane.wake;
    lane.wake = null;
    wake?.();
  }

  /** Takes a slot (counted in `activeFirst` for a chat that goes first), waiting for one when all are taken. */
  private async slot(first: boolean): Promise<void> {
    if (this.active < this.concurrency) {
      this.active++;
      if (first) this.activeFirst++;
      return;
    }
    // `release` hands the slot over already counted.
    await new Promise<void>((resolve) => (first ? this.firstSlots : this.slots).push(resolve));
  }

  private release(first: boolean): void {
    if (first) this.activeFirst--;
    const toFirst =
      this.firstSlots.length > 0 && (this.activeFirst < Math.max(1, Math.floor(this.concurrency / 2)) || this.slots.length === 0);
    const next = toFirst ? this.firstSlots.shift() : this.slots.shift();
    if (!next) {
      this.active--;
      return;
    }
    if (toFirst) this.activeFirst++;
    next();
  }
}
