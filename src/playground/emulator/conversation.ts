// A private chat between one user and one bot: its messages, callback queries and wire rendering.
import { randomBytes } from 'node:crypto';
import type { ConversationDump } from './dump.js';
import type { BotRecord } from './state.js';
import type {
  CallbackAnswer,
  MessageContent,
  MessageOriginUser,
  ReplyMarkup,
  TgMessage,
  TgPrivateChat,
  TgUser,
} from './types.js';

export interface StoredMessage {
  id: number;
  sender: 'bot' | 'user';
  date: number;
  editDate?: number;
  editCount: number;
  deleted: boolean;
  /** Emulator-wide sequence numbers (see EmulatorState.currentSeq) of the creation and of the last change. */
  createdSeq: number;
  changeSeq: number;
  content: MessageContent;
  parseMode?: string;
  replyMarkup?: ReplyMarkup;
  replyToId?: number;
  mediaGroupId?: string;
  forwardOrigin?: MessageOriginUser;
}

export interface CallbackQueryRecord {
  id: string;
  messageId: number;
  data: string;
  buttonText: string;
  seq: number;
  answer?: CallbackAnswer;
}

export class Conversation {
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

  toWire(message: StoredMessage, withReply = true): TgMessage {
    const replied = withReply && message.replyToId !== undefined ? this.live(message.replyToId) : undefined;
    const markup = message.replyMarkup;
    return {
      message_id: message.id,
      from: message.sender === 'bot' ? this.bot.publicUser : this.user,
      chat: this.chat,
      date: message.date,
      ...(message.editDate !== undefined ? { edit_date: message.editDate } : {}),
      ...(message.mediaGroupId !== undefined ? { media_group_id: message.mediaGroupId } : {}),
      ...(message.forwardOrigin
        ? {
            forward_origin: message.forwardOrigin,
            forward_from: message.forwardOrigin.sender_user,
            forward_date: message.forwardOrigin.date,
          }
        : {}),
      ...(replied ? { reply_to_message: this.toWire(replied, false) } : {}),
      ...structuredClone(message.content),
      // Only inline keyboards are part of a Message; reply keyboards live in the client.
      ...(markup && 'inline_keyboard' in markup ? { reply_markup: { inline_keyboard: markup.inline_keyboard } } : {}),
    };
  }
}
