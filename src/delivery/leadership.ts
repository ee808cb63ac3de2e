/**
 * Whether this instance leads a kind of background work (applying the inbox, sending the outbox), asked
 * of the database (`Database.leads`, an advisory lock) and trusted for `ttlMs`: a pass that runs after
 * every command does not pay a round trip each time. Without `leads` this instance always leads.
 */
export class Leadership {
  private last: { leads: boolean; at: number } | null = null;

  constructor(
    private readonly leads: (() => Promise<boolean>) | undefined,
    private readonly ttlMs = 1_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The last answer while it is younger than the time to live (without asking); null when there is none. */
  cached(): boolean | null {
    if (!this.leads) return true;
    return this.last && this.now() - this.last.at < this.ttlMs ? this.last.leads : null;
  }

  /** The answer, asked again when older than the time to live or when `fresh`. */
  async check(fresh = false): Promise<boolean> {
    if (!this.leads) return true;
    const now = this.now();
    if (!fresh && this.last && now - this.last.at < this.ttlMs) return this.last.leads;
    const leads = await this.leads();
    this.last = { leads, at: now };
    return leads;
  }
}
