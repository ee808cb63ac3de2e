/**
 * Runs a background pass (deliver the outbox, apply the inbox) one at a time: a request while a pass runs
 * shares it and asks for one more pass after it, so nothing is missed and nothing runs twice at once.
 * `pass` resolves to true when there may be more to do at once.
 */
export class Passes {
  private running: Promise<void> | null = null;
  private again = false;

  constructor(private readonly pass: () => Promise<boolean | void>) {}

  /** Resolves when this pass, and any asked for meanwhile, are done. */
  run(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          if ((await this.pass()) === true) this.again = true;
        } while (this.again);
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  /** Resolves when no pass runs (never starts one). */
  async idle(): Promise<void> {
    await this.running?.catch(() => {});
  }
}
