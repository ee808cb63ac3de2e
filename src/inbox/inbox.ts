import { sql } from 'drizzle-orm';
import { TelegramError } from 'telegraf';
import type { Update } from 'telegraf/types';
import { rowsOf, type Db } from '../db/client.js';
import { q, statement } from '../db/statement.js';
import { Batches } from '../delivery/batches.js';
import { Lanes, type LaneOutcome } from '../delivery/lanes.js';
import { Leadership } from '../delivery/leadership.js';
import { Passes } from '../delivery/passes.js';
import { errorSummary } from '../delivery/telegram.js';
import type { Logger } from '../logger.js';
import { kindOf, routeOf, stripNul } from './updates.js';

export interface InboxDeps {
  readonly db: Db;
  readonly logger: Logger;
  /** Applies one update (the bot's `handleUpdate`); a throw means "not applied, try again". */
  readonly handle: (update: Update) => Promise<void>;
  /** Whether this instance applies updates (one does, when several share a database). Default: yes. */
  readonly leads?: () => Promise<boolean>;
  /** Tries before an update goes to the dead letters. */
  readonly maxAttempts?: number;
  /** Updates applied at once across all chats (each chat's updates one after another, in order, but see `laneKeyOf`). */
  readonly concurrency?: number;
  /**
   * A sub-lane within the update's chat (the bot's knowledge: a staff press on one client's card, say, need
   * not wait for a press on another client's card), or null for an update that keeps the chat's full order.
   * Without it every update keeps full order.
   */
  readonly laneKeyOf?: (update: Update) => number | null;
  /**
   * Chats whose updates take the next free slot before the others' (the staff's: an operator's press waits
   * behind no client's answer). Without it every chat waits its turn.
   */
  readonly firstOf?: (chatId: number) => boolean;
  /** How long a `leads()` answer is trusted before it is asked again (default 1 s, the pass interval). */
  readonly leadershipTtlMs?: number;
  /** Told once per chat when its update is delayed (a database outage, a failing handler). */
  readonly onDelayed?: (update: Update) => Promise<void>;
  /** Told when updates went to the dead letters. */
  readonly onDead?: (count: number) => Promise<void>;
  /** The bot was added to a group or channel: the outbox rows that say so and leave (written with the update). */
  readonly leaveGroup?: (chatId: number, languageCode: string | undefined) => readonly { method: string; payload: unknown }[];
}

export interface DeadLetter {
  readonly updateId: number;
  readonly chatId: number;
  readonly kind: string;
  readonly attempts: number;
  readonly lastError: string | null;
  readonly receivedAt: Date;
}

/** Updates applied at once across all chats, by default (a database connection each). */
export const INBOX_CONCURRENCY = 16;

/** A pending update in its chat's lane (`id` is the update id, `key` its sub-lane within the chat, if any). */
interface PendingUpdate {
  readonly id: number;
  readonly chatId: number;
  readonly key?: number;
  readonly payload: Update;
  readonly attempts: number;
}

interface PendingRow {
  update_id: number | string;
  chat_id: number | string;
  payload: Update;
  attempts: number;
}

/** Counts of updates by what happened to them, since start (for /metrics). */
export interface InboxCounters {
  accepted: number;
  duplicate: number;
  dropped: Record<string, number>;
  applied: number;
  retried: number;
  dead: number;
}

/**
 * The durable inbox. `ingest` commits updates before they are acknowledged to Telegram (the polling
 * offset moves, or the webhook answers 200, only after it resolves); the worker then applies each chat's
 * pending updates one at a time in `update_id` order (with `laneKeyOf`: those of one key in order, and one
 * without a key after every earlier update of its chat and before every later one). A failure leaves the
 * update pending with a backoff (the chat's later updates wait behind it, so order holds); after
 * `maxAttempts` it is a dead letter that admins see and can retry. Only the leading instance applies
 * updates, so per-chat order holds across instances too. Updates from groups and channels never enter.
 */
export class Inbox {
  readonly counters: InboxCounters = { accepted: 0, duplicate: 0, dropped: {}, applied: 0, retried: 0, dead: 0 };
  private readonly passes = new Passes(() => this.pass());
  private readonly arrivals = new Batches<Update>((updates) => this.commit(updates));
  private readonly lanes: Lanes<PendingUpdate>;
  private timer: NodeJS.Timeout | null = null;
  private readonly leadership: Leadership;
  /** Chats told that their update is delayed, until one of their updates is applied. */
  private readonly delayed = new Set<number>();
  /** Updates a flow command recorded as applied in its own transaction (see `recorded`). */
  private readonly recordedIds = new Set<number>();

  constructor(private readonly deps: InboxDeps) {
    this.lanes = new Lanes((item) => this.applyOne(item), deps.concurrency ?? INBOX_CONCURRENCY, Date.now, deps.firstOf);
    this.leadership = new Leadership(deps.leads, deps.leadershipTtlMs);
  }

  /**
   * Commits the private-chat updates of a batch (a repeated `update_id` is ignored), makes the bot leave
   * groups it was added to, and counts the rest as dropped. Resolves once committed; throws when the
   * database cannot take them (the caller must not acknowledge them then). Batches that arrive while one is
   * being committed (concurrent webhook calls) are committed together, in one statement.
   */
  ingest(updates: readonly Update[]): Promise<void> {
    return updates.length === 0 ? Promise.resolve() : this.arrivals.add(updates);
  }

  private async commit(updates: readonly Update[]): Promise<void> {
    const rows: { update_id: number; chat_id: number; payload: Update }[] = [];
    const seen = new Set<number>();
    for (const update of updates) {
      const route = routeOf(update);
      if (route.kind === 'private') {
        // The same update twice in one batch (Telegram sent it again while the first was being committed): once.
        if (seen.has(update.update_id)) this.counters.duplicate++;
        else rows.push({ update_id: update.update_id, chat_id: route.chatId, payload: update });
        seen.add(update.update_id);
      } else if (route.kind === 'joined_group') await this.leave(update.update_id, route.chatId, route.languageCode);
      else this.counters.dropped[route.reason] = (this.counters.dropped[route.reason] ?? 0) + 1;
    }
    if (rows.length === 0) return;
    let batch = rows;
    let json = JSON.stringify(batch);
    // PostgreSQL cannot store a NUL character (JSON writes it as \u0000): removed on arrival (rare, so checked on the whole batch).
    if (json.includes('\\u0000')) {
      batch = stripNul(rows);
      json = JSON.stringify(batch);
    }
    let inserted: { update_id: number | string; chat_id: number | string; earlier: boolean }[];
    try {
      // Each new row says whether its chat had an older update still pending (the statement sees the table as
      // it was before the insert): such a row waits for the pass, behind that one.
      inserted = rowsOf(
        await this.deps.db.execute(
          statement(q`
          with ins as (
            insert into inbox (update_id, chat_id, payload)
            select update_id, chat_id, payload from jsonb_to_recordset(${json}::jsonb) as x(update_id bigint, chat_id bigint, payload jsonb)
            on conflict (update_id) do nothing
            returning update_id, chat_id)
          select ins.update_id, ins.chat_id,
            exists (select 1 from inbox w where w.chat_id = ins.chat_id and w.status = 'pending' and w.update_id < ins.update_id) as earlier
          from ins order by ins.update_id`),
        ),
      );
    } catch (error) {
      for (const row of rows) await this.tellDelayed(row.chat_id, row.payload);
      throw error;
    }
    this.counters.accepted += inserted.length;
    this.counters.duplicate += rows.length - inserted.length;
    if (inserted.length === 0) return;
    // The leader applies what just arrived at once, from memory; anything behind an older pending update of its
    // chat (a retry due later, or one another instance took) is left to the pass.
    if (!(await this.leadership.check().catch(() => false))) return;
    const payloads = new Map(batch.map((row) => [row.update_id, row.payload]));
    const blocked = new Set<number>();
    for (const row of inserted) {
      const updateId = Number(row.update_id);
      const chatId = Number(row.chat_id);
      const payload = payloads.get(updateId);
      if (!payload || blocked.has(chatId) || (row.earlier && !this.lanes.holdsEarlier(chatId, updateId))) {
        blocked.add(chatId);
        continue;
      }
      this.lanes.add(this.pending(updateId, chatId, payload, 0));
    }
    if (blocked.size > 0) this.kick();
  }

  /** Applies everything due now; resolves when this pass (and any pass asked for meanwhile) and every chat's lane are done. */
  async drain(): Promise<void> {
    await this.passes.run();
    await this.lanes.idle();
  }

  /** Asks for a pass now. */
  kick(): void {
    void this.drain().catch((error: unknown) => this.deps.logger.error({ err: errorSummary(error) }, 'inbox pass failed'));
  }

  /** Applies in the background: at once, soon after `kick()`, and every `intervalMs` for retries. */
  start(intervalMs = 1_000): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.kick(), intervalMs);
    this.timer.unref();
    this.kick();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.passes.idle();
    // What waits (for a rate limit, say) stays pending for the next start.
    await this.lanes.close();
  }

  /**
   * A command committed this update as applied (its inbox row is `done` already): the worker skips its own
   * mark. Ids not taken soon (an update that did not come through the inbox) are forgotten in bulk.
   */
  recorded(updateId: number): void {
    if (this.recordedIds.size >= 10_000) this.recordedIds.clear();
    this.recordedIds.add(updateId);
  }

  /** Updates that failed `maxAttempts` times, oldest first (kinds only, never their content). */
  async deadLetters(limit = 20): Promise<{ total: number; items: DeadLetter[] }> {
    const rows = rowsOf<{
      update_id: number | string;
      chat_id: number | string;
      payload: Update;
      attempts: number;
      last_error: string | null;
      received_at: string | Date;
      total: number;
    }>(
      await this.deps.db.execute(sql`
        select update_id, chat_id, payload, attempts, last_error, received_at, count(*) over ()::int as total
        from inbox where status = 'dead' order by update_id limit ${limit}`),
    );
    return {
      total: rows[0]?.total ?? 0,
      items: rows.map((r) => ({
        updateId: Number(r.update_id),
        chatId: Number(r.chat_id),
        kind: kindOf(r.payload),
        attempts: r.attempts,
        lastError: r.last_error,
        receivedAt: new Date(r.received_at),
      })),
    };
  }

  /** Puts every dead letter back in line (an admin pressed Retry); resolves to how many. */
  async retryDead(): Promise<number> {
    const rows = rowsOf<{ n: number }>(
      await this.deps.db.execute(sql`
        with r as (update inbox set status = 'pending', attempts = 0, next_attempt_at = now(), last_error = null where status = 'dead' returning 1)
        select count(*)::int as n from r`),
    );
    const count = rows[0]?.n ?? 0;
    // Those chats' lanes finished later updates already: the retried ones must not be refused as seen.
    this.lanes.reopen();
    if (count > 0) this.kick();
    return count;
  }

  /** Pending updates and the age of the oldest, for /metrics. */
  async backlog(): Promise<{ pending: number; dead: number; oldestSeconds: number }> {
    const [row] = rowsOf<{ pending: number; dead: number; oldest: number | null }>(
      await this.deps.db.execute(sql`
        select count(*) filter (where status = 'pending')::int as pending, count(*) filter (where status = 'dead')::int as dead,
          extract(epoch from now() - min(received_at) filter (where status = 'pending'))::float8 as oldest
        from inbox where status <> 'done'`),
    );
    return { pending: row?.pending ?? 0, dead: row?.dead ?? 0, oldestSeconds: row?.oldest ?? 0 };
  }

  /** One pass; true when there may be more due at once. */
  private async pass(): Promise<boolean> {
    if (!(await this.leadership.check(true))) return false;
    this.lanes.prune(60_000);
    const limit = 500;
    // Due rows, but never one whose chat has an earlier row still waiting for its retry: order per chat.
    const rows = rowsOf<PendingRow>(
      await this.deps.db.execute(sql`
        select i.update_id, i.chat_id, i.payload, i.attempts from inbox i
        where i.status = 'pending' and i.chat_id is not null and i.next_attempt_at <= now()
          and not exists (
            select 1 from inbox w
            where w.status = 'pending' and w.chat_id = i.chat_id and w.update_id < i.update_id and w.next_attempt_at > now())
        order by i.update_id limit ${limit}`),
    );
    const chats = new Set<number>();
    for (const row of rows) {
      const chatId = Number(row.chat_id);
      // Rows already queued or finished in this chat's lane are not run again.
      this.lanes.add(this.pending(Number(row.update_id), chatId, row.payload, row.attempts));
      chats.add(chatId);
    }
    await this.lanes.idle(chats);
    return rows.length === limit;
  }

  private pending(id: number, chatId: number, payload: Update, attempts: number): PendingUpdate {
    const key = this.deps.laneKeyOf?.(payload) ?? null;
    return key === null ? { id, chatId, payload, attempts } : { id, chatId, key, payload, attempts };
  }

  /** Applies one update of a chat; `wait` when it failed and the chat's later updates must wait for its retry. */
  private async applyOne(item: PendingUpdate): Promise<LaneOutcome> {
    const row: PendingRow = { update_id: item.id, chat_id: item.chatId, payload: item.payload, attempts: item.attempts };
    try {
      await this.deps.handle(item.payload);
    } catch (error) {
      this.recordedIds.delete(item.id);
      return (await this.failed(item.chatId, item.id, row, error)) ? 'wait' : 'done';
    }
    // A flow command marks its update done in its own transaction; this covers every other update.
    if (!this.recordedIds.delete(item.id)) {
      await this.deps.db.execute(
        statement(q`update inbox set status = 'done', done_at = now(), payload = null where update_id = ${item.id} and status = 'pending'`),
      );
    }
    this.counters.applied++;
    this.delayed.delete(item.chatId);
    return 'done';
  }

  /** Records a failed update; true when the chat must wait (a retry is due later). */
  private async failed(chatId: number, updateId: number, row: PendingRow, error: unknown): Promise<boolean> {
    const summary = errorSummary(error);
    const description = JSON.stringify(summary).slice(0, 500);
    // A Bot API refusal (bad request, blocked) will not change on a retry: the update is done.
    if (error instanceof TelegramError && error.code >= 400 && error.code < 500 && error.code !== 429) {
      this.deps.logger.warn({ updateId, kind: kindOf(row.payload), err: summary }, 'update applied with a refused reply');
      await this.deps.db.execute(
        sql`update inbox set status = 'done', done_at = now(), payload = null, last_error = ${description} where update_id = ${updateId} and status = 'pending'`,
      );
      return false;
    }
    const attempts = row.attempts + 1;
    const maxAttempts = this.deps.maxAttempts ?? 8;
    if (attempts >= maxAttempts) {
      this.deps.logger.error({ updateId, kind: kindOf(row.payload), attempts, err: summary }, 'update failed for good: dead letter');
      await this.deps.db.execute(
        sql`update inbox set status = 'dead', attempts = ${attempts}, last_error = ${description} where update_id = ${updateId} and status = 'pending'`,
      );
      this.counters.dead++;
      await this.deps
        .onDead?.(1)
        .catch((e: unknown) => this.deps.logger.warn({ err: errorSummary(e) }, 'admins not told about a dead letter'));
      return false;
    }
    const delaySeconds = Math.min(60, 2 ** (attempts - 1));
    this.deps.logger.warn({ updateId, kind: kindOf(row.payload), attempts, err: summary }, 'update failed: retrying');
    // Told first: when the database is what failed, the retry below cannot be recorded either.
    await this.tellDelayed(chatId, row.payload);
    await this.deps.db.execute(sql`
      update inbox set attempts = ${attempts}, last_error = ${description}, next_attempt_at = now() + make_interval(secs => ${delaySeconds})
      where update_id = ${updateId} and status = 'pending'`);
    this.counters.retried++;
    return true;
  }

  private async tellDelayed(chatId: number, update: Update): Promise<void> {
    if (this.delayed.has(chatId) || !this.deps.onDelayed) return;
    this.delayed.add(chatId);
    await this.deps
      .onDelayed(update)
      .catch((error: unknown) => this.deps.logger.warn({ err: errorSummary(error) }, 'delay notice not sent'));
  }

  /** Says once that the bot works in private chats only, and leaves; both through the outbox, with the update. */
  private async leave(updateId: number, chatId: number, languageCode: string | undefined): Promise<void> {
    const rows = (this.deps.leaveGroup?.(chatId, languageCode) ?? [{ method: 'leaveChat', payload: {} }]).map((r) => ({
      chat_id: chatId,
      method: r.method,
      payload: r.payload,
    }));
    const [row] = rowsOf<{ n: number }>(
      await this.deps.db.execute(sql`
        with seen as (
          insert into inbox (update_id, chat_id, status, done_at) values (${updateId}, ${chatId}, 'done', now())
          on conflict (update_id) do nothing returning 1),
        sent as (
          insert into outbox (chat_id, method, payload)
          select x.chat_id, x.method, x.payload
          from rows from (jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as (chat_id bigint, method text, payload jsonb)) with ordinality as x(chat_id, method, payload, n)
          where exists (select 1 from seen)
            -- at most one notice per group, however often the bot is added
            and (x.method <> 'sendMessage' or not exists (select 1 from outbox o where o.chat_id = x.chat_id and o.method = 'sendMessage'))
          order by x.n
          returning 1)
        select (select count(*)::int from seen) as n, (select count(*)::int from sent) as sent`),
    );
    if ((row?.n ?? 0) === 0) {
      this.counters.duplicate++;
      return;
    }
    this.counters.dropped.joined_group = (this.counters.dropped.joined_group ?? 0) + 1;
  }
}
