/**
 * Posts accepted requests to the result webhook (`RESULT_WEBHOOK_URL`): the rows the flow service wrote
 * to `result_deliveries` in the accepting transaction, after commit, signed, with a timeout, retried with
 * backoff. Only the leading instance delivers (`Database.leads('results')`).
 */
import { createHmac } from 'node:crypto';
import { and, asc, desc, eq, inArray, isNotNull, lte, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { resultDeliveries, RESULT_DELIVERY_STATUSES, type ResultDeliveryStatus } from '../db/schema.js';
import { Passes } from '../delivery/passes.js';
import { errorSummary } from '../delivery/telegram.js';
import type { Logger } from '../logger.js';

export interface ResultDelivererDeps {
  readonly db: Db;
  readonly url: string;
  /** Key of the HMAC-SHA256 signature. */
  readonly secret: string;
  readonly logger: Logger;
  /** Whether this instance delivers (one does, when several share a database). Default: yes. */
  readonly leads?: () => Promise<boolean>;
  /** Signature timestamps and retry times. */
  readonly clock?: () => Date;
  /** How long one POST may take, headers and body (default 10 s). */
  readonly timeoutMs?: number;
  /** Attempts before a delivery is marked failed (default 12: about three and a half hours of retries). */
  readonly maxAttempts?: number;
  /** Deliveries posted at once (default 4). */
  readonly concurrency?: number;
  /** Told once per pass how many deliveries have just failed for good (admins are told). */
  readonly onFailed?: (count: number) => Promise<void>;
}

export const SIGNATURE_HEADER = 'x-orb-signature';
/** The first retry waits this long; each next one twice as long, up to {@link MAX_DELAY_MS}. */
const FIRST_DELAY_MS = 10_000;
const MAX_DELAY_MS = 3_600_000;
const BATCH = 50;

export interface DeliverySummary {
  readonly counts: Readonly<Record<ResultDeliveryStatus, number>>;
  /** The latest error of a delivery that is still pending or failed. */
  readonly lastError: { readonly deliveryId: number; readonly flowId: number; readonly error: string; readonly at: Date | null } | null;
}

type Row = { id: number; flowId: number; body: unknown; attempts: number };
type Outcome = { ok: true } | { ok: false; permanent: boolean; error: string; waitMs?: number };

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. */
export function signature(secret: string, body: string, at: Date): string {
  const t = Math.floor(at.getTime() / 1000);
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

export class ResultDeliverer {
  private readonly passes = new Passes(() => this.pass());
  private readonly clock: () => Date;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: ResultDelivererDeps) {
    this.clock = deps.clock ?? (() => new Date());
  }

  /** Posts everything due now; resolves when this pass (and any asked for meanwhile) is done. */
  flush(): Promise<void> {
    return this.passes.run();
  }

  /** Delivers in the background, every `intervalMs` (and soon after `kick()`). */
  start(intervalMs = 2_000): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.kick(), intervalMs);
    this.timer.unref();
  }

  kick(): void {
    void this.flush().catch((error: unknown) => this.deps.logger.error({ err: errorSummary(error) }, 'result delivery pass failed'));
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.passes.idle();
  }

  /** How many deliveries are in each status, and the latest error of one not delivered. */
  async summary(): Promise<DeliverySummary> {
    const rows = await this.deps.db
      .select({ status: resultDeliveries.status, n: sql<number>`count(*)::int` })
      .from(resultDeliveries)
      .groupBy(resultDeliveries.status);
    const counts = Object.fromEntries(RESULT_DELIVERY_STATUSES.map((s) => [s, rows.find((r) => r.status === s)?.n ?? 0])) as Record<
      ResultDeliveryStatus,
      number
    >;
    const [last] = await this.deps.db
      .select({
        id: resultDeliveries.id,
        flowId: resultDeliveries.flowId,
        error: resultDeliveries.lastError,
        at: resultDeliveries.lastAttemptAt,
      })
      .from(resultDeliveries)
      .where(and(inArray(resultDeliveries.status, ['pending', 'failed']), isNotNull(resultDeliveries.lastError)))
      .orderBy(sql`${resultDeliveries.lastAttemptAt} desc nulls last`, desc(resultDeliveries.id))
      .limit(1);
    return { counts, lastError: last ? { deliveryId: last.id, flowId: last.flowId, error: last.error ?? '', at: last.at } : null };
  }

  /** Failed deliveries go back to pending, with a fresh set of attempts; resolves to how many. */
  async retryFailed(): Promise<number> {
    const rows = await this.deps.db
      .update(resultDeliveries)
      .set({ status: 'pending', attempts: 0, nextAttemptAt: this.clock() })
      .where(and(eq(resultDeliveries.status, 'failed'), isNotNull(resultDeliveries.body)))
      .returning({ id: resultDeliveries.id });
    if (rows.length > 0) this.kick();
    return rows.length;
  }

  private async pass(): Promise<boolean> {
    if (this.deps.leads && !(await this.deps.leads())) return false;
    const rows: Row[] = await this.deps.db
      .select({
        id: resultDeliveries.id,
        flowId: resultDeliveries.flowId,
        body: resultDeliveries.body,
        attempts: resultDeliveries.attempts,
      })
      .from(resultDeliveries)
      .where(and(eq(resultDeliveries.status, 'pending'), lte(resultDeliveries.nextAttemptAt, this.clock())))
      .orderBy(asc(resultDeliveries.id))
      .limit(BATCH);
    let failed = 0;
    const queue = [...rows];
    const workers = Array.from({ length: Math.min(this.deps.concurrency ?? 4, queue.length) }, async () => {
      for (let row = queue.shift(); row; row = queue.shift()) if ((await this.deliver(row)) === 'failed') failed++;
    });
    await Promise.all(workers);
    if (failed > 0) await this.deps.onFailed?.(failed);
    return rows.length === BATCH;
  }

  private async deliver(row: Row): Promise<'delivered' | 'retry' | 'failed'> {
    const pending = and(eq(resultDeliveries.id, row.id), eq(resultDeliveries.status, 'pending'));
    if (row.body === null) {
      await this.deps.db.update(resultDeliveries).set({ status: 'erased' }).where(pending);
      return 'delivered';
    }
    const body = JSON.stringify(row.body);
    const outcome = await this.post(row.id, body);
    const at = this.clock();
    const attempts = row.attempts + 1;
    if (outcome.ok) {
      // Delivered: the receiver has it now, and this copy of the answers is not kept.
      await this.deps.db
        .update(resultDeliveries)
        .set({ status: 'delivered', attempts, body: null, lastAttemptAt: at, deliveredAt: at })
        .where(pending);
      return 'delivered';
    }
    if (outcome.permanent || attempts >= (this.deps.maxAttempts ?? 12)) {
      this.deps.logger.error({ deliveryId: row.id, flowId: row.flowId, attempts, error: outcome.error }, 'result not delivered: gave up');
      await this.deps.db
        .update(resultDeliveries)
        .set({ status: 'failed', attempts, lastError: outcome.error, lastAttemptAt: at })
        .where(pending);
      return 'failed';
    }
    const delayMs = Math.min(MAX_DELAY_MS, Math.max(FIRST_DELAY_MS * 2 ** (attempts - 1), outcome.waitMs ?? 0));
    this.deps.logger.warn(
      { deliveryId: row.id, flowId: row.flowId, attempts, error: outcome.error, retryInSeconds: delayMs / 1000 },
      'result not delivered: will retry',
    );
    await this.deps.db
      .update(resultDeliveries)
      .set({ attempts, lastError: outcome.error, lastAttemptAt: at, nextAttemptAt: new Date(at.getTime() + delayMs) })
      .where(pending);
    return 'retry';
  }

  /** One POST. 2xx: delivered; 4xx but 408 and 429: refused for good; anything else: try again later. */
  private async post(id: number, body: string): Promise<Outcome> {
    const timeoutMs = this.deps.timeoutMs ?? 10_000;
    let response: Response;
    try {
      response = await fetch(this.deps.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'operator-request-bot',
          'x-orb-event': 'request.completed',
          'x-orb-delivery': String(id),
          [SIGNATURE_HEADER]: signature(this.deps.secret, body, this.clock()),
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      // The answer's body is not needed; reading it (within the timeout) frees the connection.
      await response.arrayBuffer();
    } catch (error) {
      return { ok: false, permanent: false, error: networkError(error, timeoutMs) };
    }
    const status = response.status;
    if (status >= 200 && status < 300) return { ok: true };
    const error = `HTTP ${status}`;
    if (status >= 400 && status < 500 && status !== 408 && status !== 429) return { ok: false, permanent: true, error };
    const retryAfter = Number(response.headers.get('retry-after'));
    return { ok: false, permanent: false, error, ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { waitMs: retryAfter * 1000 } : {}) };
  }
}

/** What went wrong on the way, without the URL (it may hold credentials). */
function networkError(error: unknown, timeoutMs: number): string {
  const name = (error as { name?: unknown } | null)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return `no answer within ${timeoutMs / 1000} s`;
  for (let e: unknown = error; e; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z_]{3,40}$/.test(code)) return `network error (${code})`;
  }
  return 'network error';
}
