import { sql } from 'drizzle-orm';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { TelegramError } from 'telegraf';
import type { Update } from 'telegraf/types';
import { rowsOf, type Db } from './db/client.js';
import { FLOW_STATUSES, OUTBOX_STATUSES, RESULT_DELIVERY_STATUSES } from './db/schema.js';
import type { Inbox } from './inbox/inbox.js';
import { kindOf } from './inbox/updates.js';

export interface MetricsSources {
  readonly db: Db;
  /** The inbox (its counters since start and its backlog). */
  readonly inbox: () => Inbox;
}

/** The kinds of update the bot takes (`allowed_updates`); anything else is counted as `other`. */
const UPDATE_TYPES = new Set(['message', 'edited_message', 'callback_query', 'my_chat_member']);

/** How a handled update ended: applied, refused by the Bot API (the update is done anyway), or failed (retried). */
export type UpdateOutcome = 'ok' | 'refused' | 'failed';

/**
 * The app's Prometheus metrics, in a registry of its own (several apps can run in one process). Counters
 * and the handler histogram are updated as things happen; the database gauges (requests, outbox, inbox)
 * are read when scraped. Labels are kinds, methods, codes and statuses: never a person, a chat or a text.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly flows: Gauge<'status'>;
  private readonly outbox: Gauge<'status'>;
  private readonly outboxOldest: Gauge;
  private readonly resultDeliveries: Gauge<'status'>;
  private readonly inboxPending: Gauge;
  private readonly inboxDead: Gauge;
  private readonly inboxOldest: Gauge;
  private readonly updates: Counter<'outcome' | 'reason'>;
  private readonly handled: Counter<'type' | 'outcome'>;
  private readonly handlerSeconds: Histogram<'type'>;
  private readonly apiCalls: Counter<'method'>;
  private readonly apiErrors: Counter<'method' | 'code'>;

  constructor(private readonly sources: MetricsSources) {
    const registers = [this.registry];
    this.flows = new Gauge({ name: 'orb_flows', help: 'Requests by status.', labelNames: ['status'], registers });
    this.outbox = new Gauge({ name: 'orb_outbox', help: 'Outgoing messages by delivery status.', labelNames: ['status'], registers });
    this.outboxOldest = new Gauge({
      name: 'orb_outbox_oldest_pending_seconds',
      help: 'Age of the oldest outgoing message not yet sent.',
      registers,
    });
    this.resultDeliveries = new Gauge({
      name: 'orb_result_deliveries',
      help: 'Accepted requests for the result webhook, by delivery status (see /deliveries).',
      labelNames: ['status'],
      registers,
    });
    this.inboxPending = new Gauge({ name: 'orb_inbox_pending', help: 'Updates taken and not yet applied.', registers });
    this.inboxDead = new Gauge({ name: 'orb_inbox_dead', help: 'Updates that failed too often (see /failed).', registers });
    this.inboxOldest = new Gauge({ name: 'orb_inbox_oldest_pending_seconds', help: 'Age of the oldest pending update.', registers });
    this.updates = new Counter({
      name: 'orb_updates_total',
      help: 'Updates by outcome since start.',
      labelNames: ['outcome', 'reason'],
      registers,
    });
    this.handled = new Counter({
      name: 'orb_updates_handled_total',
      help: 'Updates run through the bot, by type and outcome (ok, refused by the Bot API, failed and retried).',
      labelNames: ['type', 'outcome'],
      registers,
    });
    this.handlerSeconds = new Histogram({
      name: 'orb_update_handler_seconds',
      help: 'Time the bot took to handle one update, by type.',
      labelNames: ['type'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.apiCalls = new Counter({
      name: 'orb_telegram_calls_total',
      help: 'Bot API requests by method.',
      labelNames: ['method'],
      registers,
    });
    this.apiErrors = new Counter({
      name: 'orb_telegram_errors_total',
      help: 'Bot API requests that failed, by method and Telegram error code ("network" when no answer came).',
      labelNames: ['method', 'code'],
      registers,
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Runs `handle` for `update`, timing it and counting its outcome; rethrows what it throws. */
  async handleUpdate(update: Update, handle: () => Promise<void>): Promise<void> {
    const kind = kindOf(update);
    const type = UPDATE_TYPES.has(kind) ? kind : 'other';
    const stop = this.handlerSeconds.startTimer({ type });
    let outcome: UpdateOutcome = 'failed';
    try {
      await handle();
      outcome = 'ok';
    } catch (error) {
      // The inbox takes a Bot API refusal (other than a flood wait) as final; anything else is retried.
      if (error instanceof TelegramError && error.code >= 400 && error.code < 500 && error.code !== 429) outcome = 'refused';
      throw error;
    } finally {
      stop();
      this.handled.inc({ type, outcome });
    }
  }

  /** One Bot API request returned (the observer of `TelegramGate`). */
  apiCall(method: string, error: number | 'network' | null): void {
    this.apiCalls.inc({ method });
    if (error !== null) this.apiErrors.inc({ method, code: String(error) });
  }

  /** The Prometheus text: the database gauges read now, with the counters and histograms so far. */
  async text(): Promise<string> {
    await this.read();
    return this.registry.metrics();
  }

  private async read(): Promise<void> {
    const { db } = this.sources;
    const inbox = this.sources.inbox();
    const flows = rowsOf<{ status: string; n: number }>(
      await db.execute(sql`select status, count(*)::int as n from flows group by status`),
    );
    const outbox = rowsOf<{ status: string; n: number; oldest: number | null }>(
      await db.execute(sql`
        select status, count(*)::int as n,
          extract(epoch from now() - min(created_at))::float8 as oldest
        from outbox group by status`),
    );
    const backlog = await inbox.backlog();
    const deliveries = rowsOf<{ status: string; n: number }>(
      await db.execute(sql`select status, count(*)::int as n from result_deliveries group by status`),
    );

    setByStatus(this.flows, FLOW_STATUSES, flows);
    setByStatus(this.outbox, OUTBOX_STATUSES, outbox);
    setByStatus(this.resultDeliveries, RESULT_DELIVERY_STATUSES, deliveries);
    this.outboxOldest.set(Math.max(0, outbox.find((r) => r.status === 'pending')?.oldest ?? 0));
    this.inboxPending.set(backlog.pending);
    this.inboxDead.set(backlog.dead);
    this.inboxOldest.set(Math.max(0, backlog.oldestSeconds));

    const c = inbox.counters;
    this.updates.reset();
    for (const outcome of ['accepted', 'duplicate', 'applied', 'retried', 'dead'] as const) this.updates.inc({ outcome }, c[outcome]);
    for (const [reason, n] of Object.entries(c.dropped)) this.updates.inc({ outcome: 'dropped', reason }, n);
  }
}

/** Every known status (0 when there are none), and any other the database has. */
function setByStatus(gauge: Gauge<'status'>, known: readonly string[], rows: readonly { status: string; n: number }[]): void {
  gauge.reset();
  for (const status of known) gauge.set({ status }, 0);
  for (const row of rows) gauge.set({ status: row.status }, row.n);
}
