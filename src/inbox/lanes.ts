import type { Update } from 'telegraf/types';

/** An update waiting to be applied, as the inbox holds it. */
export interface LaneItem {
  readonly updateId: number;
  readonly chatId: number;
  readonly payload: Update;
  /** Tries so far (0 for an update that just arrived). */
  readonly attempts: number;
}

/**
 * What became of an item: `done` (applied, or set aside for good, such as a dead letter) lets the chat's next
 * item run; `wait` (a retry is due later) stops the chat, and its queued items are given up for a later pass.
 */
export type LaneOutcome = 'done' | 'wait';

interface Lane {
  readonly queue: LaneItem[];
  /** Update ids queued or running. */
  readonly ids: Set<number>;
  running: Promise<void> | null;
  /** The highest update id this lane finished: an older one offered again (a pass read it before) is refused. */
  finished: number;
  idleSince: number;
}

/**
 * One lane per chat: each chat's updates run one after another in `update_id` order, up to `concurrency`
 * chats at once. Updates enter as soon as they are committed (no waiting for a pass) and again from the
 * inbox's passes (retries, updates taken by another instance); an update queued, running or finished here is
 * never run twice.
 */
export class Lanes {
  private readonly lanes = new Map<number, Lane>();
  private active = 0;
  private readonly slots: (() => void)[] = [];

  constructor(
    private readonly apply: (item: LaneItem) => Promise<LaneOutcome>,
    private readonly concurrency: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Queues an update; false when it is queued, running or finished here already. */
  add(item: LaneItem): boolean {
    let lane = this.lanes.get(item.chatId);
    if (!lane) {
      lane = { queue: [], ids: new Set(), running: null, finished: 0, idleSince: this.now() };
      this.lanes.set(item.chatId, lane);
    }
    if (lane.ids.has(item.updateId) || item.updateId <= lane.finished) return false;
    const at = lane.queue.findIndex((queued) => queued.updateId > item.updateId);
    if (at === -1) lane.queue.push(item);
    else lane.queue.splice(at, 0, item);
    lane.ids.add(item.updateId);
    lane.running ??= this.run(lane);
    return true;
  }

  /** Whether an update of the chat older than `updateId` is queued or running here. */
  holdsEarlier(chatId: number, updateId: number): boolean {
    const lane = this.lanes.get(chatId);
    return lane !== undefined && [...lane.ids].some((id) => id < updateId);
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

  /** Forgets what the chats finished (their dead letters are put back in line and must run again). */
  reopen(chatIds?: Iterable<number>): void {
    for (const id of chatIds ?? [...this.lanes.keys()]) {
      const lane = this.lanes.get(id);
      if (lane) lane.finished = 0;
    }
  }

  /** Drops lanes idle for longer than `ms` (a pass that read their updates before they finished is long over). */
  prune(ms: number): void {
    const before = this.now() - ms;
    for (const [id, lane] of this.lanes) if (!lane.running && lane.idleSince < before) this.lanes.delete(id);
  }

  get size(): number {
    return this.lanes.size;
  }

  private async run(lane: Lane): Promise<void> {
    try {
      for (let item = lane.queue[0]; item; item = lane.queue[0]) {
        await this.slot();
        let outcome: LaneOutcome = 'wait';
        try {
          outcome = await this.apply(item);
        } catch {
          // The bookkeeping itself failed (the database went away): the update stays pending for a later pass.
        } finally {
          this.release();
        }
        lane.queue.shift();
        lane.ids.delete(item.updateId);
        if (outcome === 'wait') {
          // Later updates of the chat must not overtake this one: they wait for the pass that retries it.
          for (const queued of lane.queue) lane.ids.delete(queued.updateId);
          lane.queue.length = 0;
          break;
        }
        lane.finished = Math.max(lane.finished, item.updateId);
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
