import { and, desc, eq, sql } from 'drizzle-orm';
import { TelegramError, type Telegram } from 'telegraf';
import { bigintArray } from '../db/arrays.js';
import { rowsOf, type Db } from '../db/client.js';
import { outbox, outboxRowOf, type OutboxJson, type OutboxRow } from '../db/schema.js';
import { q, statement } from '../db/statement.js';
import type { Logger } from '../logger.js';
import { describeMessage, type LoggedMessage, type MessageLog } from '../log/messages.js';
import { Batches } from './batches.js';
import { Lanes, type LaneOutcome } from './lanes.js';
import { Leadership } from './leadership.js';
import { Passes } from './passes.js';
import { errorSummary, retryAfterOf } from './telegram.js';

type Row = OutboxRow;

/** Row ids below the highest queued that a pass after a command still reads (late commits land there). */
const LATE_COMMIT_WINDOW = 64;

/** Due rows one pass reads at most. */
const PASS_LIMIT = 500;

/** A row that went: its `sent` mark, and the message to log. */
interface SentMark {
  readonly id: number;
  readonly messageId: number | null;
  readonly attempts: number;
  readonly note: string | null;
  readonly logged: (LoggedMessage & { readonly flowId: number | null }) | null;
}

/** Chats sent to at once, by default. */
export const SENDER_CONCURRENCY = 8;

export interface SenderDeps {
  readonly db: Db;
  readonly telegram: Telegram;
  readonly log: MessageLog;
  readonly logger: Logger;
  /** Told when Telegram says a user blocked the bot. */
  readonly onBlocked?: (chatId: number) => Promise<void>;
  /** Told when a request's message was refused for good (even in plain text), so a person can step in. */
  readonly onUndeliverable?: (row: { chatId: number; flowId: number; description: string }) => Promise<void>;
  /** Chats sent to at once (each chat's messages always go in order). */
  readonly concurrency?: number;
  /** Whether this instance delivers (one instance does, when several share a database). Default: yes. */
  readonly leads?: () => Promise<boolean>;
  readonly maxAttempts?: number;
  /** How long the marks of rows handed over together wait for each other, at most (default `HOLD_MARKS_MS`). */
  readonly holdMarksMs?: number;
}

/**
 * Delivers outbox rows written by the flow service: per chat in id order, several chats at once.
 * `telegram` is expected to pass the shared rate limiter (see `TelegramGate`). Failures are retried with
 * backoff; a 429 waits `retry_after` and is not an attempt. A message Telegram refuses (400) is sent
 * again as plain text within Telegram's limits; if even that is refused, the row is marked failed and
 * `onUndeliverable` tells a person.
 * A crash between commit and send leaves the row pending, and the next pass sends it. With several
 * instances on one database only the leader (`leads`) sends, so nothing goes out twice.
 *
 * Rows reach the lanes two ways: a command hands over the rows it wrote once it has committed (`hand`), and
 * passes read the table (the timer's every second, `kick`, `flush`) for everything else: rows other code or
 * another instance wrote, retries, rows a hand-over left. Lanes never queue a row twice.
 */
export class OutboxSender {
  private readonly passes = new Passes(() => this.pass());
  /** Rows sent meanwhile are marked (and their messages logged) together: one statement per batch, not per row. */
  private readonly marks = new Batches<SentMark>((marks) => this.writeMarks(marks));
  /** Each chat's latest mark still being written (see `finish`). */
  private readonly marking = new Map<number, Promise<void>>();
  /** Rows handed over together whose marks wait for each other (see `hand`), by row id. */
  private readonly held = new Map<number, HeldMarks>();
  /** Chats with a mark held in such a group: their next marks join it, so that their messages are logged in order. */
  private readonly heldChats = new Map<number, HeldMarks>();
  /** Each chat's rows in order; a chat that waits (its rate limit, a retry) never holds up the others. */
  private readonly lanes: Lanes<Row>;
  private timer: NodeJS.Timeout | null = null;
  /** Passes run after commands: leadership is asked by the timer's pass and `flush`, not on each kick or hand-over. */
  private readonly leadership: Leadership;
  private askLeadership = false;
  /**
   * The highest row id a pass or a hand-over has queued. A pass after a command reads only rows above it, less
   * a window for rows of concurrent transactions that committed after a newer one: re-reading a long backlog
   * (a busy staff chat) on every command would cost more than sending it. The timer's pass and `flush` read everything
   * due, so an older row, or one due for a retry, is never missed.
   */
  private seenUpTo = 0;
  private fullPass = true;
  /**
   * Chats with a row waiting for its retry, and the oldest such row: a row of the chat handed over after it is
   * left to the passes, which keep each chat's order. Every pass reads the waiting rows with the due ones, and
   * a row this sender puts off is noted at once; `stamp` orders the two, so that a pass's answer never drops a
   * wait noted after it asked.
   */
  private readonly waits = new Map<number, { id: number; stamp: number }>();
  private stamp = 0;
  /** Whether `waits` is known: a pass read them while this instance led, and it has not stopped leading since. */
  private waitsKnown = false;

  constructor(private readonly deps: SenderDeps) {
    this.lanes = new Lanes((row) => this.deliver(row), deps.concurrency ?? SENDER_CONCURRENCY);
    this.leadership = new Leadership(deps.leads);
    // A message sent outside the outbox (a direct reply) is logged after the chat's messages this sender sent.
    deps.log.orderAfter((chatId) => {
      this.heldChats.get(chatId)?.release();
      return this.marked([chatId]);
    });
  }

  /**
   * Sends everything due now; resolves once it is sent (or waits for a retry): in every chat, or only in
   * `chatIds` (the others may still be waiting for their rate limits).
   */
  async flush(chatIds?: Iterable<number>): Promise<void> {
    this.askLeadership = true;
    this.fullPass = true;
    await this.passes.run();
    const chats = chatIds ? [...chatIds] : undefined;
    await this.lanes.idle(chats);
    await this.marked(chats);
  }

  /** Starts sending in the background: soon after `kick()`, and every `intervalMs` for retries. */
  start(intervalMs = 1_000): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.askLeadership = true;
      this.fullPass = true;
      this.kick();
    }, intervalMs);
    this.timer.unref();
  }

  /**
   * Asks for a pass now (after rows were written): it queues what is due and returns; the lanes send it. Not
   * needed after a flow or conversation command: the rows it wrote are handed over with its commit (`hand`).
   */
  kick(): void {
    void this.passes.run().catch((error: unknown) => this.deps.logger.error({ err: errorSummary(error) }, 'outbox pass failed'));
  }

  /**
   * Queues the outbox rows a command wrote, handed over once it has committed (whole rows: the table is not
   * read). Only while this instance leads, as last asked (the leader's timer pass sends them otherwise); a
   * row of a chat whose older row waits for a retry is left to the passes. Without a recent answer on
   * leadership, or before a pass has read which chats wait, a pass is asked for instead.
   */
  hand(rows: readonly Row[]): void {
    const leads = this.leadership.cached();
    if (leads === false || rows.length === 0) return;
    if (leads === null || !this.waitsKnown) return this.kick();
    const queued: Row[] = [];
    for (const row of rows) {
      const wait = this.waits.get(row.chatId);
      if (row.status !== 'pending' || (wait && wait.id < row.id)) continue;
      if (this.lanes.add(row)) queued.push(row);
      this.seenUpTo = Math.max(this.seenUpTo, row.id);
    }
    // A command's rows (a prompt to the client, a notice and a card edit for the operator) go within moments of
    // each other: their marks wait for each other and go in one statement.
    if (queued.length > 1) {
      const group = new HeldMarks(
        queued.map((r) => r.id),
        (marks) => this.marks.add(marks),
        this.deps.holdMarksMs ?? HOLD_MARKS_MS,
        () => {
          for (const row of queued) {
            if (this.held.get(row.id) === group) this.held.delete(row.id);
            if (this.heldChats.get(row.chatId) === group) this.heldChats.delete(row.chatId);
          }
        },
      );
      for (const row of queued) this.held.set(row.id, group);
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.passes.idle();
    // What waits (for a rate limit, say) stays pending for the next start.
    await this.lanes.close();
    await this.marked();
  }

  private async pass(): Promise<void> {
    const fresh = this.askLeadership;
    const full = this.fullPass;
    this.askLeadership = false;
    this.fullPass = false;
    if (!(await this.leadership.check(fresh))) {
      this.waitsKnown = false;
      return;
    }
    const asked = ++this.stamp;
    // Due rows, but never one whose chat has an earlier row still waiting for its retry: order per chat. The
    // waiting rows (the oldest of each chat) come back too, for the rows handed over later. A row waits only once
    // it was put off (an attempt or a flood wait recorded): a new row's `next_attempt_at` is its transaction's
    // start, later than this statement's `now()` when that transaction began after it and committed before it read.
    const result = await this.deps.db.execute(sql`
      with waiting as (
        select chat_id, min(id) as id from outbox
        where status = 'pending' and next_attempt_at > now() and (attempts > 0 or last_error is not null) group by chat_id),
      due as (
        select o.* from outbox o
        where o.status = 'pending' and (o.next_attempt_at <= now() or (o.attempts = 0 and o.last_error is null))
          and o.id > ${full ? 0 : this.seenUpTo - LATE_COMMIT_WINDOW}::bigint
          and not exists (select 1 from waiting w where w.chat_id = o.chat_id and w.id < o.id)
        order by o.id
        limit ${PASS_LIMIT})
      select (select json_agg(json_build_array(w.chat_id, w.id)) from waiting w) as waiting,
        (select json_agg(d order by d.id) from due d) as due`);
    const read = rowsOf<{ waiting: [number | string, number | string][] | null; due: OutboxJson[] | null }>(result)[0];
    const rows = (read?.due ?? []).map(outboxRowOf);
    // A full pass that read every due row knows all waits as they were when it asked: a chat whose row is due
    // again waits no longer (that row was read with the others). Waits noted since it asked stay.
    if (full && rows.length < PASS_LIMIT) {
      for (const [chatId, wait] of this.waits) if (wait.stamp < asked) this.waits.delete(chatId);
    }
    for (const [chatId, id] of read?.waiting ?? []) this.noteWait(Number(chatId), Number(id), asked);
    this.waitsKnown = true;
    this.lanes.prune(60_000);
    // Rows queued, being sent or sent already (a pass that read them before, or a hand-over) are not queued again.
    for (const row of rows) {
      this.lanes.add(row);
      this.seenUpTo = Math.max(this.seenUpTo, row.id);
    }
  }

  /** Sends a row in its lane. One put off (a retry, or the database failed) holds its chat's handed rows back. */
  private async deliver(row: Row): Promise<LaneOutcome> {
    let outcome: LaneOutcome = 'wait';
    try {
      outcome = await this.sendRow(row);
    } finally {
      if (outcome === 'wait') this.noteWait(row.chatId, row.id, ++this.stamp);
      // Not marked (put off, failed for good): the rest of its group does not wait for it.
      this.held.get(row.id)?.leave(row.id);
    }
    return outcome;
  }

  private noteWait(chatId: number, id: number, stamp: number): void {
    const known = this.waits.get(chatId);
    this.waits.set(chatId, { id: Math.min(id, known?.id ?? id), stamp: Math.max(stamp, known?.stamp ?? stamp) });
  }

  private async sendRow(row: Row): Promise<'done' | 'wait'> {
    const payload = { ...(row.payload as Record<string, unknown>), chat_id: row.chatId };
    try {
      if (row.method === 'editMessageText') {
        // A newer edit of the same card waits behind this one (a burst of changes): it shows all of them.
        if (this.lanes.queued(row.chatId, (later) => supersedes(later, row))) return this.finish(row, null, 'superseded');
        // A row may name its message itself (one of several open copies of a card), else its card's newest.
        const named = (row.payload as Record<string, unknown>)['message_id'];
        const target = typeof named === 'number' ? named : await this.cardMessageId(row);
        if (target === null) return this.finish(row, null, 'no card to edit');
        await this.deps.telegram.callApi('editMessageText', { ...payload, message_id: target } as never);
        return this.finish(row, target, null);
      }
      const result: unknown = await this.deps.telegram.callApi(row.method as 'sendMessage', payload as never);
      const logged = describeMessage(result) ?? copied(row, result);
      return this.finish(row, logged?.telegramMessageId ?? null, null, logged);
    } catch (error) {
      return this.failed(row, error);
    }
  }

  private async cardMessageId(row: Row): Promise<number | null> {
    if (!row.cardKey) return null;
    // The card's message may have gone just before this row: its id is in its mark, which must not wait for this row.
    this.held.get(row.id)?.leave(row.id);
    await this.marked([row.chatId]);
    const [card] = await this.deps.db
      .select({ id: outbox.telegramMessageId })
      .from(outbox)
      .where(
        and(eq(outbox.chatId, row.chatId), eq(outbox.cardKey, row.cardKey), eq(outbox.method, 'sendMessage'), eq(outbox.status, 'sent')),
      )
      .orderBy(desc(outbox.id))
      .limit(1);
    return card?.id ?? null;
  }

  /**
   * The row went (or is set aside): its `sent` mark and its message's log entry are written in the background,
   * with those of the rows that go meanwhile (`marks`), and the chat's next row goes at once. A crash before
   * the mark is written sends the row again, as a crash before the send would; a card edit of the chat and
   * `flush` wait for the chat's marks (`marking`).
   */
  private async finish(row: Row, messageId: number | null, note: string | null, logged: LoggedMessage | null = null): Promise<'done'> {
    const sent: SentMark = { id: row.id, messageId, attempts: row.attempts + 1, note, logged: logged && { ...logged, flowId: row.flowId } };
    const group = this.held.get(row.id) ?? this.heldChats.get(row.chatId);
    const held = group?.hold(row.id, sent);
    if (group && !group.over) this.heldChats.set(row.chatId, group);
    const mark = (held ?? this.marks.add([sent])).catch((error: unknown) =>
      this.deps.logger.error({ rowId: row.id, err: errorSummary(error) }, 'sent message not marked sent: it will be sent again'),
    );
    this.marking.set(row.chatId, mark);
    void mark.then(() => {
      if (this.marking.get(row.chatId) === mark) this.marking.delete(row.chatId);
    });
    return 'done';
  }

  /** Resolves once the marks of the chats' rows that went (every chat's without `chatIds`) are written. */
  private async marked(chatIds?: Iterable<number>): Promise<void> {
    const pending = chatIds ? [...chatIds].flatMap((id) => this.marking.get(id) ?? []) : [...this.marking.values()];
    await Promise.all(pending);
  }

  /** Marks rows sent and logs the messages that went, in one statement (see `marks`). */
  private async writeMarks(marks: readonly SentMark[]): Promise<void> {
    const rows = marks.map((m) => ({ id: m.id, message_id: m.messageId, attempts: m.attempts, note: m.note }));
    const logged = marks.flatMap((m) => (m.logged ? [m.logged] : []));
    const marking = q`update outbox set status = 'sent', sent_at = now(), telegram_message_id = x.message_id, attempts = x.attempts,
        last_error = x.note
      from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as x(id bigint, message_id int, attempts int, note text)
      where outbox.id = x.id and outbox.id = any(${bigintArray(marks.map((m) => m.id))}::bigint[])`;
    await this.deps.db.execute(
      statement(logged.length > 0 ? q`with logged as (${this.deps.log.outboundInsert(logged)}) ${marking}` : marking),
    );
  }

  private async failed(row: Row, error: unknown): Promise<'done' | 'wait'> {
    const retryAfter = retryAfterOf(error);
    if (retryAfter !== null) {
      // A flood wait is not a failure: the row waits, its attempts unchanged.
      await this.deps.db
        .update(outbox)
        .set({ lastError: 'flood wait', nextAttemptAt: sql`now() + make_interval(secs => ${retryAfter})` })
        .where(eq(outbox.id, row.id));
      return 'wait';
    }
    const attempts = row.attempts + 1;
    const description = error instanceof TelegramError ? error.description : errorSummary(error).type;
    if (error instanceof TelegramError && error.code === 400 && /message is not modified/.test(description)) {
      return this.finish(row, null, 'not modified');
    }
    if (error instanceof TelegramError && error.code === 400 && /message to edit not found/.test(description)) {
      return this.finish(row, null, 'card no longer exists');
    }
    if (error instanceof TelegramError && error.code === 400) {
      for (const plain of plainVersions(row)) {
        try {
          const result: unknown = await this.deps.telegram.callApi('sendMessage', { ...plain, chat_id: row.chatId } as never);
          const logged = describeMessage(result);
          this.deps.logger.warn({ outboxId: row.id, method: row.method, error: description }, 'message refused; sent as plain text');
          return this.finish(row, logged?.telegramMessageId ?? null, `sent as plain text: ${description}`, logged);
        } catch {
          // refused as well: the next version, or a permanent failure below
        }
      }
      if (row.flowId !== null && row.chatId > 0) {
        await this.deps.onUndeliverable?.({ chatId: row.chatId, flowId: row.flowId, description });
      }
    }
    const permanent = error instanceof TelegramError && (error.code === 400 || error.code === 403 || error.code === 401);
    if (error instanceof TelegramError && error.code === 403) {
      await this.deps.onBlocked?.(row.chatId);
    }
    if (permanent || attempts >= (this.deps.maxAttempts ?? 10)) {
      this.deps.logger.warn({ outboxId: row.id, chatId: row.chatId, method: row.method, error: description }, 'message not delivered');
      await this.deps.db.update(outbox).set({ status: 'failed', attempts, lastError: description }).where(eq(outbox.id, row.id));
      return 'done';
    }
    const delayMs = Math.min(300_000, 500 * 2 ** attempts);
    await this.deps.db
      .update(outbox)
      .set({ attempts, lastError: description, nextAttemptAt: sql`now() + make_interval(secs => ${delayMs / 1000})` })
      .where(eq(outbox.id, row.id));
    return 'wait';
  }
}

/** How long the marks of rows handed over together wait for the last of them to go, at most, by default. */
export const HOLD_MARKS_MS = 50;

/**
 * The marks of rows handed over together, sent within moments of each other: each waits for the others to go
 * (or to be put off), for a moment at most (`holdMarksMs`), and they are written in one statement. A crash meanwhile
 * sends them again, as a crash before any mark would. A later row of a chat with a mark held here is marked
 * with them (its message is logged after theirs); a mark that comes after the wait is written alone.
 */
class HeldMarks {
  private readonly left: Set<number>;
  private readonly marks: SentMark[] = [];
  /** Whether the wait is over (the marks held went to be written). */
  over = false;
  private settle: { resolve: () => void; reject: (error: unknown) => void } = { resolve: () => {}, reject: () => {} };
  /** Settles once the marks held are written. */
  private readonly written: Promise<void>;
  private readonly timer: NodeJS.Timeout;

  constructor(
    ids: readonly number[],
    private readonly write: (marks: readonly SentMark[]) => Promise<void>,
    holdMs: number,
    private readonly onEnd: () => void,
  ) {
    this.left = new Set(ids);
    this.written = new Promise<void>((resolve, reject) => (this.settle = { resolve, reject }));
    this.timer = setTimeout(() => this.end(), holdMs);
    this.timer.unref();
  }

  /** The mark of a row of the group (or a later row of one of its chats): settles once it is written. */
  hold(id: number, mark: SentMark): Promise<void> {
    if (this.over) return this.write([mark]);
    this.marks.push(mark);
    this.leave(id);
    return this.written;
  }

  /** The row is done with (marked, put off or failed): the others do not wait for it. */
  leave(id: number): void {
    if (this.left.delete(id) && this.left.size === 0) this.end();
  }

  /** The marks held so far are written now, without waiting for the rest. */
  release(): void {
    this.end();
  }

  private end(): void {
    if (this.over) return;
    this.over = true;
    clearTimeout(this.timer);
    this.onEnd();
    // Written at once (in order with any mark that comes after), not on a later tick.
    if (this.marks.length === 0) this.settle.resolve();
    else this.write(this.marks).then(this.settle.resolve, this.settle.reject);
  }
}

/** Telegram's limit on a message text, in characters. */
const MAX_TEXT = 4_096;

/**
 * A refused message as plain text: its text or caption without markup, within Telegram's limit; with its
 * buttons first, then without them (the buttons may be what was refused). None when there is no text.
 */
function plainVersions(row: Row): Record<string, unknown>[] {
  if (row.method === 'editMessageText' || row.method === 'leaveChat') return [];
  const payload = row.payload as Record<string, unknown>;
  const source = typeof payload.text === 'string' ? payload.text : typeof payload.caption === 'string' ? payload.caption : null;
  if (source === null || source.trim() === '') return [];
  const text = payload.parse_mode === 'HTML' ? htmlToPlain(source) : source;
  const plain = { text: cutTo(text, MAX_TEXT) };
  return payload.reply_markup ? [{ ...plain, reply_markup: payload.reply_markup }, plain] : [plain];
}

/** At most `max` UTF-16 code units (Telegram's measure), cut between characters, with "…" when cut. */
function cutTo(text: string, max: number): string {
  if (text.length <= max) return text;
  let out = '';
  for (const char of text) {
    if (out.length + char.length > max - 1) break;
    out += char;
  }
  return `${out}…`;
}

/** Text of an HTML-formatted message: tags removed, the five entities Telegram uses decoded. */
export function htmlToPlain(html: string): string {
  return html
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

/**
 * Whether `later` edits the same message as `row` and shows everything `row` would (a card is drawn whole).
 * Asked of every row queued in the chat for each card edit: it allocates nothing.
 */
function supersedes(later: Row, row: Row): boolean {
  return (
    later.id > row.id &&
    later.method === 'editMessageText' &&
    later.cardKey !== null &&
    later.cardKey === row.cardKey &&
    (later.payload as Record<string, unknown>)['message_id'] === (row.payload as Record<string, unknown>)['message_id']
  );
}

/** A `copyMessage` answers only the new message's id: enough to log it and to find it again (a reply to it). */
function copied(row: Row, result: unknown): LoggedMessage | null {
  if (row.method !== 'copyMessage' || typeof result !== 'object' || result === null || !('message_id' in result)) return null;
  const id = result.message_id;
  if (typeof id !== 'number') return null;
  const caption = (row.payload as Record<string, unknown>).caption;
  return {
    chatId: row.chatId,
    kind: 'other',
    text: typeof caption === 'string' ? caption : null,
    fileId: null,
    fileUniqueId: null,
    telegramMessageId: id,
  };
}
