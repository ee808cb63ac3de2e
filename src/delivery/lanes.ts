/** Work for one chat: an update to apply, a message to send. Each chat's items run in `id` order. */
export interface LaneItem {
  readonly id: number;
  readonly chatId: number;
}

/**
 * What became of an item: `done` (applied, or set aside for good, such as a dead letter) lets the chat's next
 * item run; `wait` (a retry is due later) stops the chat, and its queued items are given up for a later pass.
 */
export type LaneOutcome = 'done' | 'wait';

interface Lane<T extends LaneItem> {
  readonly queue: T[];
  /** Ids queued or running. */
  readonly ids: Set<number>;
  running: Promise<void> | null;
  /**
   * The ids this lane finished (the latest {@link REMEMBERED}), refused when a pass that read them before
   * offers them again. Ids, not the highest one: on PostgreSQL rows commit out of id order, and a row that
   * commits after a later one of its chat was sent must still go.
   */
  readonly finished: Set<number>;
  idleSince: number;
}

/** Finished ids a lane remembers: a pass offers at most a few hundred rows, long done after this many more. */
const REMEMBERED = 1_000;

/**
 * One lane per chat: each chat's items run one after another in `id` order, up to `concurrency` chats at
 * once, and a chat that waits never holds up the others. Items enter as soon as they exist (the inbox adds an
 * update once it is committed) and again from passes over the table (retries, rows another instance wrote);
 * an item queued, running or finished here is never run twice.
 */
export class Lanes<T extends LaneItem> {
  private readonly lanes = new Map<number, Lane<T>>();
  private active = 0;
  private readonly slots: (() => void)[] = [];
  private closing = false;

  constructor(
    private readonly apply: (item: T) => Promise<LaneOutcome>,
    private readonly concurrency: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Queues an item; false when it is queued, running or finished here already (or the lanes are closed). */
  add(item: T): boolean {
    if (this.closing) return false;
    let lane = this.lanes.get(item.chatId);
    if (!lane) {
      lane = { queue: [], ids: new Set(), running: null, finished: new Set(), idleSince: this.now() };
      this.lanes.set(item.chatId, lane);
    }
    if (lane.ids.has(item.id) || lane.finished.has(item.id)) return false;
    const at = lane.queue.findIndex((queued) => queued.id > item.id);
    if (at === -1) lane.queue.push(item);
    else lane.queue.splice(at, 0, item);
    lane.ids.add(item.id);
    lane.running ??= this.run(lane);
    return true;
  }

  /** Whether an item of the chat older than `id` is queued or running here. */
  holdsEarlier(chatId: number, id: number): boolean {
    const lane = this.lanes.get(chatId);
    return lane !== undefined && [...lane.ids].some((queued) => queued < id);
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

  private async run(lane: Lane<T>): Promise<void> {
    try {
      // An item leaves the queue as it starts (its id stays in `ids` until it is done): one added meanwhile,
      // even with a smaller id (a row committed later), queues behind it and never takes its place.
      for (let item = lane.queue.shift(); item; item = lane.queue.shift()) {
        await this.slot();
        if (this.closing) {
          this.release();
          lane.ids.delete(item.id);
          for (const queued of lane.queue) lane.ids.delete(queued.id);
          lane.queue.length = 0;
          break;
        }
        let outcome: LaneOutcome = 'wait';
        try {
          outcome = await this.apply(item);
        } catch {
          // The bookkeeping itself failed (the database went away): the item stays pending for a later pass.
        } finally {
          this.release();
        }
        lane.ids.delete(item.id);
        if (outcome === 'wait') {
          // Later items of the chat must not overtake this one: they wait for the pass that retries it.
          for (const queued of lane.queue) lane.ids.delete(queued.id);
          lane.queue.length = 0;
          break;
        }
        lane.finished.add(item.id);
        for (const oldest of lane.finished) {
          if (lane.finished.size <= REMEMBERED) break;
          lane.finished.delete(oldest);
        }
      }
    } finally {
      lane.idleSince = this.now();
      lane.running = null;
    }
  }

  private async slot(): Promise<void> {
    if (this.active < this.concurrency) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.slots.push(resolve));
  }

  private release(): void {
    const next = this.slots.shift();
    if (next) next();
    else this.active--;
  }
}
