/**
 * Group commit: what arrives while a batch is being written waits and goes, all together, in the next one;
 * with nothing being written, a batch starts at once (nobody waits for company). So one statement carries
 * every concurrent arrival under load, and a lone arrival costs what it did. Each `add` settles with the
 * batch that carried it: resolved once written, rejected with that batch's error.
 */
export class Batches<T> {
  private queued: T[] = [];
  private waiting: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  private writing = false;

  constructor(private readonly write: (items: readonly T[]) => Promise<void>) {}

  add(items: readonly T[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queued.push(...items);
      this.waiting.push({ resolve, reject });
      if (!this.writing) void this.next();
    });
  }

  private async next(): Promise<void> {
    this.writing = true;
    try {
      while (this.waiting.length > 0) {
        const items = this.queued;
        const waiting = this.waiting;
        this.queued = [];
        this.waiting = [];
        try {
          await this.write(items);
          for (const w of waiting) w.resolve();
        } catch (error) {
          for (const w of waiting) w.reject(error);
        }
      }
    } finally {
      this.writing = false;
    }
  }
}
