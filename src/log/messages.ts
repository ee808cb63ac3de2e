import { and, desc, eq } from 'drizzle-orm';
import type { Db } from '../db/client.js';
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
  constructor(private readonly db: Db) {}

  async inbound(message: LoggedMessage, meta: { updateId?: number | null; flowId?: number | null } = {}): Promise<void> {
    await this.db.insert(messages).values({ ...message, direction: 'in', updateId: meta.updateId ?? null, flowId: meta.flowId ?? null });
  }

  async outbound(message: LoggedMessage, meta: { flowId?: number | null } = {}): Promise<void> {
    await this.outboundInsert(message, meta);
  }

  /** The insert of an outgoing message, to run or to embed in a statement of its own (the sender's `sent` mark). */
  outboundInsert(message: LoggedMessage, meta: { flowId?: number | null } = {}) {
    return this.db.insert(messages).values({ ...message, direction: 'out', flowId: meta.flowId ?? null });
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
