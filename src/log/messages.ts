import { and, desc, eq } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { q, type Piece } from '../db/statement.js';
import { messages, type MessageKind } from '../db/schema.js';

export interface LoggedMessage {
  readonly chatId: number;
  readonly kind: MessageKind;
  readonly text: string | null;
  readonly fileId: string | null;
  readonly fileUniqueId: string | null;
  readonly telegramMessageId: number | null;
}

/** The log of every message in and out (answers are logged by the flow service in its transaction). */
export class MessageLog {
  /** What a chat's outgoing messages logged elsewhere (the sender's marks, written later) must come after. */
  private before: ((chatId: number) => Promise<void>) | null = null;

  constructor(private readonly db: Db) {}

  /**
   * Entries of outgoing messages that `outbound` must not overtake: `settle` resolves once those of the chat
   * are written (the outbox sender's marks, which log the messages it sent).
   */
  orderAfter(settle: (chatId: number) => Promise<void>): void {
    this.before = settle;
  }

  async inbound(message: LoggedMessage, meta: { updateId?: number | null; flowId?: number | null } = {}): Promise<void> {
    await this.db.insert(messages).values({ ...message, direction: 'in', updateId: meta.updateId ?? null, flowId: meta.flowId ?? null });
  }

  async outbound(message: LoggedMessage, meta: { flowId?: number | null } = {}): Promise<void> {
    // A message the sender sent just before this one is logged first: the chat's log keeps the order they went in.
    await this.before?.(message.chatId);
    await this.db.insert(messages).values({ ...message, direction: 'out', flowId: meta.flowId ?? null });
  }

  /** The insert of outgoing messages, to embed in a statement of its own (the sender's `sent` marks): one statement for all. */
  outboundInsert(sent: readonly (LoggedMessage & { readonly flowId: number | null })[]): Piece {
    return loggedInsert('out', sent);
  }

  /** The newest messages of a chat, newest first. */
  recent(chatId: number, limit = 20) {
    return this.db.select().from(messages).where(eq(messages.chatId, chatId)).orderBy(desc(messages.id)).limit(limit);
  }

  ofFlow(flowId: number) {
    return this.db
      .select()
      .from(messages)
      .where(and(eq(messages.flowId, flowId)))
      .orderBy(messages.id);
  }
}

/** The loggable parts of a Telegram message object (sent or received). */
export function describeMessage(message: unknown): LoggedMessage | null {
  if (!isRecord(message) || typeof message.message_id !== 'number' || !isRecord(message.chat)) return null;
  const chatId = Number(message.chat.id);
  const base = { chatId, telegramMessageId: message.message_id };
  const text = typeof message.text === 'string' ? message.text : typeof message.caption === 'string' ? message.caption : null;
  const file = (kind: MessageKind, f: unknown): LoggedMessage => ({
    ...base,
    kind,
    text,
    fileId: isRecord(f) && typeof f.file_id === 'string' ? f.file_id : null,
    fileUniqueId: isRecord(f) && typeof f.file_unique_id === 'string' ? f.file_unique_id : null,
  });
  if (Array.isArray(message.photo)) return file('photo', message.photo.at(-1));
  // An animation also carries a `document`: it is looked at first.
  for (const kind of ['animation', 'document', 'voice', 'video', 'video_note', 'audio', 'sticker'] as const) {
    if (isRecord(message[kind])) return file(kind, message[kind]);
  }
  if (isRecord(message.contact))
    return {
      ...base,
      kind: 'contact',
      text: typeof message.contact.phone_number === 'string' ? message.contact.phone_number : '',
      fileId: null,
      fileUniqueId: null,
    };
  if (isRecord(message.location)) {
    return {
      ...base,
      kind: 'location',
      text: `${String(message.location.latitude)},${String(message.location.longitude)}`,
      fileId: null,
      fileUniqueId: null,
    };
  }
  if (text !== null) return { ...base, kind: text.startsWith('/') ? 'command' : 'text', text, fileId: null, fileUniqueId: null };
  return { ...base, kind: 'other', text: null, fileId: null, fileUniqueId: null };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** A message as a statement logs it: what `describeMessage` read, and the update and request it belongs to. */
export type LogRow = LoggedMessage & { readonly flowId: number | null; readonly updateId?: number | null };

/** One insert of many log rows (in their order), to run or to embed in a statement (a command's write, the sender's marks). */
export function loggedInsert(direction: 'in' | 'out', logged: readonly LogRow[]): Piece {
  const rows = logged.map((m) => ({
    chat_id: m.chatId,
    kind: m.kind,
    text: m.text,
    file_id: m.fileId,
    file_unique_id: m.fileUniqueId,
    telegram_message_id: m.telegramMessageId,
    update_id: m.updateId ?? null,
    flow_id: m.flowId,
  }));
  return q`insert into messages (chat_id, direction, kind, text, file_id, file_unique_id, telegram_message_id, update_id, flow_id)
    select x.chat_id, ${direction}, x.kind, x.text, x.file_id, x.file_unique_id, x.telegram_message_id, x.update_id, x.flow_id
    from rows from (jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as (chat_id bigint, kind text, text text, file_id text,
      file_unique_id text, telegram_message_id int, update_id bigint, flow_id bigint))
      with ordinality as x(chat_id, kind, text, file_id, file_unique_id, telegram_message_id, update_id, flow_id, n)
    order by x.n`;
}
