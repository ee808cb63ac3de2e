import { sql } from 'drizzle-orm';
import { ACTIVE_STATUSES, FLOW_STATUSES } from '../flows/statuses.js';
import { ROLES } from '../people/roles.js';
import { bigint, bigserial, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/** Telegram ids exceed 32 bits but stay within JavaScript's safe integers. */
const telegramId = () => bigint({ mode: 'number' });
const at = () => timestamp({ withTimezone: true, mode: 'date' });
const createdAt = () => at().notNull().defaultNow();

export { ROLES, type Role } from '../people/roles.js';

/** Telegram users the bot has seen: clients and staff. */
export const people = pgTable(
  'people',
  {
    id: telegramId().primaryKey(),
    firstName: text().notNull().default(''),
    lastName: text(),
    username: text(),
    languageCode: text(),
    /** The language the person chose with /language (a supported locale); null: their Telegram language decides. */
    locale: text(),
    /** Role kept in the database (admins can add operators); the environment's lists add to it. */
    role: text({ enum: ROLES }).notNull().default('client'),
    /** The operator a client belongs to (invite link, or who first sent them a request). */
    operatorId: telegramId(),
    /** The person has opened a private chat with the bot (the bot may write to them). */
    startedAt: at(),
    blockedAt: at(),
    /** Last time a client without a request was told to wait (once per quiet period). */
    nudgedAt: at(),
    /** The client pressed "Message the operator": their next message is passed on, not taken as an answer. */
    talkRequestedAt: at(),
    lastActivityAt: createdAt(),
    createdAt: createdAt(),
  },
  (t) => [index('people_last_activity_idx').on(t.lastActivityAt), index('people_username_idx').on(t.username)],
);

export { ACTIVE_STATUSES, FLOW_STATUSES, type FlowStatus } from '../flows/statuses.js';

/** One request sent to one client: its frozen definition and its machine snapshot. */
export const flows = pgTable(
  'flows',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    clientId: telegramId()
      .notNull()
      .references(() => people.id),
    operatorId: telegramId().notNull(),
    requestId: text().notNull(),
    /** The catalogue entry as it was when the flow was created (frozen). */
    definition: jsonb().notNull(),
    definitionHash: text().notNull(),
    /** XState persisted snapshot; null while queued. */
    snapshot: jsonb(),
    status: text({ enum: FLOW_STATUSES }).notNull(),
    /** Optimistic concurrency guard: incremented by every write. */
    version: integer().notNull().default(0),
    remindAt: at(),
    expireAt: at(),
    createdAt: createdAt(),
    updatedAt: createdAt(),
    finishedAt: at(),
    /**
     * When the flow's answers and message contents were removed (the retention pass, or a client's
     * erasure); the flow row itself stays, with its status and timestamps.
     */
    purgedAt: at(),
  },
  (t) => [
    uniqueIndex('flows_one_active_per_client')
      .on(t.clientId)
      .where(sql`${t.status} in (${sql.raw(ACTIVE_STATUSES.map((s) => `'${s}'`).join(', '))})`),
    index('flows_client_idx').on(t.clientId, t.id),
    index('flows_status_idx').on(t.status),
    index('flows_remind_idx')
      .on(t.remindAt)
      .where(sql`${t.remindAt} is not null`),
    index('flows_expire_idx')
      .on(t.expireAt)
      .where(sql`${t.expireAt} is not null`),
    index('flows_retention_idx')
      .on(t.finishedAt)
      .where(sql`${t.finishedAt} is not null and ${t.purgedAt} is null`),
  ],
);

export const ANSWER_STATUSES = ['pending', 'accepted', 'rejected', 'superseded'] as const;
export type AnswerStatus = (typeof ANSWER_STATUSES)[number];

/** Every accepted answer of every round; older ones stay as history. */
export const answers = pgTable(
  'answers',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    flowId: bigint({ mode: 'number' })
      .notNull()
      .references(() => flows.id),
    stepId: text().notNull(),
    round: integer().notNull(),
    value: jsonb().notNull(),
    fileId: text(),
    fileUniqueId: text(),
    messageId: integer(),
    status: text({ enum: ANSWER_STATUSES }).notNull().default('pending'),
    createdAt: createdAt(),
  },
  (t) => [index('answers_flow_idx').on(t.flowId, t.stepId)],
);

/** Audit trail of every transition. */
export const flowEvents = pgTable(
  'flow_events',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    flowId: bigint({ mode: 'number' })
      .notNull()
      .references(() => flows.id),
    fromState: text(),
    toState: text().notNull(),
    event: text().notNull(),
    payload: jsonb(),
    actorId: telegramId(),
    actorKind: text({ enum: ['client', 'operator', 'system'] }).notNull(),
    at: createdAt(),
  },
  (t) => [index('flow_events_flow_idx').on(t.flowId, t.id)],
);

export const MESSAGE_KINDS = [
  'text',
  'command',
  'photo',
  'document',
  'voice',
  'video',
  'video_note',
  'audio',
  'animation',
  'sticker',
  'contact',
  'location',
  'callback',
  'other',
] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];

/** Every message in and out. */
export const messages = pgTable(
  'messages',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    chatId: telegramId().notNull(),
    direction: text({ enum: ['in', 'out'] }).notNull(),
    kind: text({ enum: MESSAGE_KINDS }).notNull(),
    text: text(),
    fileId: text(),
    fileUniqueId: text(),
    telegramMessageId: integer(),
    updateId: bigint({ mode: 'number' }),
    flowId: bigint({ mode: 'number' }),
    at: createdAt(),
    /** A message passed on between a client and the staff (either way): the client's id. */
    talkClientId: telegramId(),
  },
  (t) => [
    index('messages_chat_idx').on(t.chatId, t.id),
    index('messages_flow_idx').on(t.flowId),
    index('messages_talk_idx')
      .on(t.talkClientId, t.id)
      .where(sql`${t.talkClientId} is not null`),
  ],
);

export const INBOX_STATUSES = ['pending', 'done', 'dead'] as const;
export type InboxStatus = (typeof INBOX_STATUSES)[number];

/**
 * The durable inbox: every update accepted from Telegram, committed before it is acknowledged, then
 * applied per chat in `update_id` order. A flow command marks its update done in its own transaction
 * (applied and done commit together), which also makes every update apply at most once. Rows a command
 * records that never came through the inbox (tests, tools) have no chat and no payload. A payload is
 * cleared once its update is done; `dead` rows failed too often and wait for an admin's retry.
 */
export const inbox = pgTable(
  'inbox',
  {
    updateId: bigint({ mode: 'number' }).primaryKey(),
    chatId: telegramId(),
    payload: jsonb(),
    status: text({ enum: INBOX_STATUSES }).notNull().default('pending'),
    attempts: integer().notNull().default(0),
    nextAttemptAt: createdAt(),
    lastError: text(),
    receivedAt: createdAt(),
    doneAt: at(),
  },
  (t) => [
    index('inbox_pending_idx')
      .on(t.chatId, t.updateId)
      .where(sql`${t.status} = 'pending'`),
    // Pending rows (no done_at) are never asked for by it: only done rows are purged by age.
    index('inbox_done_idx')
      .on(t.doneAt)
      .where(sql`${t.doneAt} is not null`),
  ],
);

export const OUTBOX_STATUSES = ['pending', 'sent', 'failed'] as const;

/** Messages to send, written in the same transaction as the state change, delivered after commit. */
export const outbox = pgTable(
  'outbox',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    chatId: telegramId().notNull(),
    flowId: bigint({ mode: 'number' }),
    /** Bot API method and its parameters (without chat_id). */
    method: text().notNull(),
    payload: jsonb().notNull(),
    /** Identifies a message that later rows edit in place (e.g. `review:<flowId>`). */
    cardKey: text(),
    status: text({ enum: OUTBOX_STATUSES }).notNull().default('pending'),
    attempts: integer().notNull().default(0),
    nextAttemptAt: createdAt(),
    lastError: text(),
    telegramMessageId: integer(),
    createdAt: createdAt(),
    sentAt: at(),
  },
  (t) => [
    index('outbox_pending_idx')
      .on(t.chatId, t.id)
      .where(sql`${t.status} = 'pending'`),
    // Most rows are not cards: only rows with a key are ever looked up by it.
    index('outbox_card_idx')
      .on(t.cardKey)
      .where(sql`${t.cardKey} is not null`),
  ],
);

/** An outbox row, whole: what the sender sends from. */
export type OutboxRow = typeof outbox.$inferSelect;

/** An outbox row as SQL gives it in JSON (`json_agg`, `row_to_json`): its column names, timestamps as text. */
export interface OutboxJson {
  id: number | string;
  chat_id: number | string;
  flow_id: number | string | null;
  method: string;
  payload: unknown;
  card_key: string | null;
  status: OutboxRow['status'];
  attempts: number;
  next_attempt_at: string;
  last_error: string | null;
  telegram_message_id: number | null;
  created_at: string;
  sent_at: string | null;
}

export function outboxRowOf(raw: OutboxJson): OutboxRow {
  return {
    id: Number(raw.id),
    chatId: Number(raw.chat_id),
    flowId: raw.flow_id === null ? null : Number(raw.flow_id),
    method: raw.method,
    payload: raw.payload,
    cardKey: raw.card_key,
    status: raw.status,
    attempts: raw.attempts,
    nextAttemptAt: new Date(raw.next_attempt_at),
    lastError: raw.last_error,
    telegramMessageId: raw.telegram_message_id,
    createdAt: new Date(raw.created_at),
    sentAt: raw.sent_at === null ? null : new Date(raw.sent_at),
  };
}

/** Telegraf session data (menu state only), keyed by Telegraf's session key. */
export const botSessions = pgTable('bot_sessions', {
  key: text().primaryKey(),
  value: jsonb().notNull(),
  updatedAt: createdAt(),
});

/** Single-use invite links that bind a client to an operator. */
export const invites = pgTable('invites', {
  code: text().primaryKey(),
  operatorId: telegramId().notNull(),
  requestIds: jsonb().$type<string[]>().notNull().default([]),
  expiresAt: at().notNull(),
  usedBy: telegramId(),
  usedAt: at(),
  createdAt: createdAt(),
});

export const RESULT_DELIVERY_STATUSES = ['pending', 'delivered', 'failed', 'erased'] as const;
export type ResultDeliveryStatus = (typeof RESULT_DELIVERY_STATUSES)[number];

/**
 * Accepted requests to POST to the result webhook (`RESULT_WEBHOOK_URL`). The flow service writes a row
 * in the same transaction as the acceptance; the leading instance's deliverer posts it after commit,
 * retrying with backoff. `body` is the JSON posted; it is cleared once delivered, and when the request's
 * data is erased or falls under the retention period (status `erased` if it was not delivered by then).
 */
export const resultDeliveries = pgTable(
  'result_deliveries',
  {
    id: bigserial({ mode: 'number' }).primaryKey(),
    flowId: bigint({ mode: 'number' })
      .notNull()
      .references(() => flows.id),
    body: jsonb(),
    status: text({ enum: RESULT_DELIVERY_STATUSES }).notNull().default('pending'),
    attempts: integer().notNull().default(0),
    nextAttemptAt: createdAt(),
    /** Why the last attempt failed (an HTTP status or a network error; never the URL). */
    lastError: text(),
    lastAttemptAt: at(),
    createdAt: createdAt(),
    deliveredAt: at(),
  },
  (t) => [
    index('result_deliveries_pending_idx')
      .on(t.nextAttemptAt)
      .where(sql`${t.status} = 'pending'`),
    index('result_deliveries_flow_idx').on(t.flowId),
  ],
);

/**
 * `Idempotency-Key`s of `POST /api/requests`: the key is written in the transaction that starts the
 * request, so a repeat never starts another; `response` is what was answered (kept to answer a repeat
 * the same way).
 */
export const apiRequests = pgTable('api_requests', {
  key: text().primaryKey(),
  /** sha256 of the request's validated body: a key reused for another body is refused. */
  requestHash: text().notNull(),
  flowId: bigint({ mode: 'number' })
    .notNull()
    .references(() => flows.id),
  response: jsonb(),
  createdAt: createdAt(),
});

/**
 * The anonymised record that a client's data was erased: a slow salted hash of their id (never the id),
 * who erased it (an admin's id, or the command line) and when, and how much was removed.
 */
export const erasures = pgTable('erasures', {
  id: bigserial({ mode: 'number' }).primaryKey(),
  clientRef: text().notNull(),
  actorKind: text({ enum: ['admin', 'command_line'] }).notNull(),
  actorId: telegramId(),
  at: createdAt(),
  counts: jsonb().notNull(),
});
