// A private chat between one user and one bot: its messages, callback queries and wire rendering.
import { randomBytes } from 'node:crypto';
import { wireMessage, type CallbackQueryRecord, type ChatRecord, type StoredMessage } from './chat.js';
import type { ConversationDump } from './dump.js';
import type { BotRecord } from './state.js';
import type { TgMessage, TgPrivateChat, TgUser } from './types.js';

export type { CallbackQueryRecord, StoredMessage } from './chat.js';

export class Conversation implements ChatRecord {
  readonly messages: StoredMessage[] = [];
  readonly callbackQueries: CallbackQueryRecord[] = [];
  started = false;
  blocked = false;
  private lastMessageId = 0;

  constructor(
    readonly bot: BotRecord,
    readonly user: TgUser,
    /** Telegram's chat_instance: an opaque id, stable per chat. */
    readonly chatInstance: string = randomBytes(8).readBigInt64BE().toString(),
  ) {}

  /** A chat from its dump: message ids continue where it left off. */
  static restore(bot: BotRecord, user: TgUser, dump: ConversationDump): Conversation {
    const conversation = new Conversation(bot, user, dump.chatInstance);
    conversation.messages.push(...structuredClone(dump.messages));
    conversation.callbackQueries.push(...structuredClone(dump.callbackQueries));
    conversation.started = dump.started;
    conversation.blocked = dump.blocked;
    conversation.lastMessageId = dump.lastMessageId;
    return conversation;
  }

  dump(): ConversationDump {
    return {
      botId: this.bot.id,
      userId: this.user.id,
      chatInstance: this.chatInstance,
      started: this.started,
      blocked: this.blocked,
      lastMessageId: this.lastMessageId,
      messages: structuredClone(this.messages),
      callbackQueries: structuredClone(this.callbackQueries),
    };
  }

  get chatId(): number {
    return this.user.id;
  }

  get chat(): TgPrivateChat {
    const { id, first_name, last_name, username } = this.user;
    return {
      id,
      first_name,
      ...(last_name !== undefined ? { last_name } : {}),
      ...(username !== undefined ? { username } : {}),
      type: 'private',
    };
  }

  nextMessageId(): number {
    this.lastMessageId += 1;
    return this.lastMessageId;
  }

  /** A message that still exists (not deleted). */
  live(id: number): StoredMessage | undefined {
    return this.messages.find((message) => message.id === id && !message.deleted);
  }

  author(message: StoredMessage): TgUser {
    return message.sender === 'bot' ? this.bot.publicUser : this.user;
  }

  nameOf(): string {
    return this.user.first_name;
  }

  heading(): string {
    const blocked = this.blocked ? ' [bot blocked]' : '';
    return `Chat of ${this.user.first_name} (id ${this.chatId}) with @${this.bot.username}${blocked}:`;
  }

  toWire(message: StoredMessage, withReply = true): TgMessage {
    return wireMessage(this, message, withReply);
  }
}
