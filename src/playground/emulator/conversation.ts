// A private chat between one user and one bot: its messages, callback queries and wire rendering.
import { randomBytes } from 'node:crypto';
import { StoredChat, type StoredMessage } from './chat.js';
import type { ConversationDump } from './dump.js';
import type { BotRecord } from './state.js';
import type { TgPrivateChat, TgUser } from './types.js';

export type { CallbackQueryRecord, StoredMessage } from './chat.js';

export class Conversation extends StoredChat {
  started = false;
  blocked = false;

  constructor(
    readonly bot: BotRecord,
    readonly user: TgUser,
    /** Telegram's chat_instance: an opaque id, stable per chat. */
    readonly chatInstance: string = randomBytes(8).readBigInt64BE().toString(),
  ) {
    super();
  }

  /** A chat from its dump: message ids continue where it left off. */
  static restore(bot: BotRecord, user: TgUser, dump: ConversationDump): Conversation {
    const conversation = new Conversation(bot, user, dump.chatInstance);
    conversation.restoreStored(dump);
    conversation.started = dump.started;
    conversation.blocked = dump.blocked;
    return conversation;
  }

  dump(): ConversationDump {
    return {
      botId: this.bot.id,
      userId: this.user.id,
      chatInstance: this.chatInstance,
      started: this.started,
      blocked: this.blocked,
      ...this.dumpStored(),
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
}
