// A bot's pending updates: update_id assignment, allowed_updates filtering, offset confirmation, long-poll waiting.
import type { UpdateQueueDump } from './dump.js';
import type { TgUpdate, UpdatePayload } from './types.js';

/** Why a long poll stopped waiting. */
export type WaitOutcome = 'ready' | 'timeout' | 'replaced' | 'webhook' | 'closed';

export class UpdateQueue {
  private pending: TgUpdate[] = [];
  private lastUpdateId = 0;
  private allowed: ReadonlySet<string> | undefined;
  private settleWaiter: ((outcome: WaitOutcome) => void) | undefined;
  private readonly listeners = new Set<() => void>();

  get size(): number {
    return this.pending.length;
  }

  get allowedUpdates(): string[] | undefined {
    return this.allowed ? [...this.allowed] : undefined;
  }

  /** Like Telegram, the setting sticks until changed; an empty list means "all types". */
  setAllowedUpdates(types: string[]): void {
    this.allowed = types.length > 0 ? new Set(types) : undefined;
  }

  push(payload: UpdatePayload): TgUpdate | undefined {
    const type = Object.keys(payload)[0];
    if (this.allowed && type !== undefined && !this.allowed.has(type)) return undefined;
    this.lastUpdateId += 1;
    const update: TgUpdate = { update_id: this.lastUpdateId, ...payload };
    this.pending.push(update);
    this.settleWaiter?.('ready');
    for (const listener of this.listeners) listener();
    return update;
  }

  /** getUpdates offset semantics: positive confirms everything below it; negative keeps only the last -offset. */
  confirm(offset: number): void {
    this.pending = offset > 0 ? this.pending.filter((update) => update.update_id >= offset) : this.pending.slice(offset);
  }

  peek(limit: number): TgUpdate[] {
    return this.pending.slice(0, limit);
  }

  remove(updateId: number): void {
    this.pending = this.pending.filter((update) => update.update_id !== updateId);
  }

  clear(): void {
    this.pending = [];
  }

  dump(): UpdateQueueDump {
    return {
      lastUpdateId: this.lastUpdateId,
      pending: structuredClone(this.pending),
      ...(this.allowed ? { allowedUpdates: [...this.allowed] } : {}),
    };
  }

  /** Takes over a dumped queue: update ids continue where it left off. */
  restore(dump: UpdateQueueDump): void {
    this.lastUpdateId = Math.max(this.lastUpdateId, dump.lastUpdateId);
    this.pending = structuredClone(dump.pending);
    this.setAllowedUpdates(dump.allowedUpdates ?? []);
  }

  onPush(listener: () => void): void {
    this.listeners.add(listener);
  }

  /** Waits for the next update; a newer wait (or setWebhook/close) ends the previous one. */
  wait(timeoutMs: number, signal: AbortSignal): Promise<WaitOutcome> {
    this.interruptWait('replaced');
    return new Promise((resolve) => {
      const settle = (outcome: WaitOutcome): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        if (this.settleWaiter === settle) this.settleWaiter = undefined;
        resolve(outcome);
      };
      const onAbort = (): void => settle('closed');
      const timer = setTimeout(() => settle('timeout'), timeoutMs);
      signal.addEventListener('abort', onAbort, { once: true });
      this.settleWaiter = settle;
    });
  }

  interruptWait(outcome: WaitOutcome): void {
    this.settleWaiter?.(outcome);
  }
}
