// Fault injection for Bot API calls: scripted failures and artificial latency per method.
import { setTimeout as delay } from 'node:timers/promises';
import { ApiError } from './errors.js';

/**
 * The error a failing call answers with,
 * e.g. `{ code: 429, description: 'Too Many Requests: retry after 3', retryAfter: 3 }`.
 */
export interface FaultError {
  code: number;
  description: string;
  retryAfter?: number;
}

export class Faults {
  private readonly failures = new Map<string, Array<{ remaining: number; error: FaultError }>>();
  private readonly latencies = new Map<string, number>();

  /** The next `count` calls of `method` fail with `error` (queued after earlier failNext calls). */
  failNext(method: string, count: number, error: FaultError): void {
    if (count <= 0) return;
    const key = method.toLowerCase();
    const queue = this.failures.get(key) ?? [];
    queue.push({ remaining: count, error });
    this.failures.set(key, queue);
  }

  /** Every call of `method` ('*' for all methods without their own setting) is delayed by `ms`. */
  latency(method: string, ms: number): void {
    this.latencies.set(method === '*' ? '*' : method.toLowerCase(), ms);
  }

  clear(): void {
    this.failures.clear();
    this.latencies.clear();
  }

  /** Applies the configured latency, then throws the next scripted failure, if any. */
  async beforeCall(method: string): Promise<void> {
    const key = method.toLowerCase();
    const ms = this.latencies.get(key) ?? this.latencies.get('*') ?? 0;
    if (ms > 0) await delay(ms);
    const queue = this.failures.get(key);
    const next = queue?.[0];
    if (!queue || !next) return;
    next.remaining -= 1;
    if (next.remaining <= 0) queue.shift();
    const { code, description, retryAfter } = next.error;
    throw new ApiError(code, description, retryAfter !== undefined ? { retry_after: retryAfter } : undefined);
  }
}
