// What every chat a bot can be in has in common (a private Conversation or a GroupChat): its stored messages,
// callback queries and the Message objects the Bot API renders from them.
import type { BotRecord } from './state.js';
import type { CallbackAnswer, MessageContent, MessageOrigin, ReplyMarkup, TgChat, TgMessage, TgUser } from './types.js';

export interface StoredMessage {
  id: number;
  sender: 'bot' | 'user';
  /** In groups and channels: the member who sent a user message (private chats have only one user). */
  fromUserId?: number;
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
  forwardOrigin?: MessageOrigin;
}

export interface CallbackQueryRecord {
  id: string;
  messageId: number;
  data: string;
  buttonText: string;
  seq: number;
  /** In groups and channels: the member who pressed the button. */
  fromUserId?: number;
  answer?: CallbackAnswer;
}

/** A chat between one bot and one or more users, as Bot API methods and views see it. */
export interface ChatRecord {
  readonly bot: BotRecord;
  readonly chatId: number;
  /** The Chat object of messages and updates. */
  readonly chat: TgChat;
  /** Telegram's chat_instance: an opaque id, stable per chat. */
  readonly chatInstance: string;
  readonly messages: StoredMessage[];
  readonly callbackQueries: CallbackQueryRecord[];
  nextMessageId(): number;
  /** A message that still exists (not deleted). */
  live(id: number): StoredMessage | undefined;
  /** Who sent `message`, as a User (the bot's own user for its messages). */
  author(message: StoredMessage): TgUser;
  /** The display name of a user in this chat (`fromUserId` of a message or callback query), for transcripts. */
  nameOf(userId: number | undefined): string;
  /** The first line of the chat's transcript. */
  heading(): string;
  toWire(message: StoredMessage, withReply?: boolean): TgMessage;
}

/** What a chat's dump holds of its stored messages and callback queries. */
export interface StoredChatDump {
  lastMessageId: number;
  messages: StoredMessage[];
  callbackQueries: CallbackQueryRecord[];
}

/** The message store every chat shares: messages, callback queries, message ids and wire rendering. */
export abstract class StoredChat implements ChatRecord {
  readonly messages: StoredMessage[] = [];
  readonly callbackQueries: CallbackQueryRecord[] = [];
  private lastMessageId = 0;

  abstract readonly bot: BotRecord;
  abstract readonly chatId: number;
  abstract readonly chat: TgChat;
  abstract readonly chatInstance: string;
  abstract author(message: StoredMessage): TgUser;
  abstract nameOf(userId: number | undefined): string;
  abstract heading(): string;

  nextMessageId(): number {
    this.lastMessageId += 1;
    return this.lastMessageId;
  }

  /** A message that still exists (not deleted). */
  live(id: number): StoredMessage | undefined {
    return this.messages.find((message) => message.id === id && !message.deleted);
  }

  toWire(message: StoredMessage, withReply = true): TgMessage {
    return wireMessage(this, message, withReply);
  }

  /** Takes over the messages and callback queries of a dump; message ids continue where it left off. */
  protected restoreStored(dump: StoredChatDump): void {
    this.messages.push(...structuredClone(dump.messages));
    this.callbackQueries.push(...structuredClone(dump.callbackQueries));
    this.lastMessageId = dump.lastMessageId;
  }

  protected dumpStored(): StoredChatDump {
    return {
      lastMessageId: this.lastMessageId,
      messages: structuredClone(this.messages),
      callbackQueries: structuredClone(this.callbackQueries),
    };
  }
}

/** The Bot API Message for a stored message: `from` (or, in channels, `sender_chat`), forward and reply fields. */
export function wireMessage(chat: ChatRecord, message: StoredMessage, withReply = true): TgMessage {
  const replied = withReply && message.replyToId !== undefined ? chat.live(message.replyToId) : undefined;
  const markup = message.replyMarkup;
  const where = chat.chat;
  const origin = message.forwardOrigin;
  return {
    message_id: message.id,
    ...(where.type === 'channel' ? { sender_chat: where } : { from: chat.author(message) }),
    chat: where,
    date: message.date,
    ...(message.editDate !== undefined ? { edit_date: message.editDate } : {}),
    ...(message.mediaGroupId !== undefined ? { media_group_id: message.mediaGroupId } : {}),
    ...(origin?.type === 'user' ? { forward_origin: origin, forward_from: origin.sender_user, forward_date: origin.date } : {}),
    ...(origin?.type === 'channel'
      ? {
          forward_origin: origin,
          forward_from_chat: origin.chat,
          forward_from_message_id: origin.message_id,
          forward_date: origin.date,
        }
      : {}),
    ...(replied ? { reply_to_message: wireMessage(chat, replied, false) } : {}),
    ...structuredClone(message.content),
    // Only inline keyboards are part of a Message; reply keyboards live in the client.
    ...(markup && 'inline_keyboard' in markup ? { reply_markup: { inline_keyboard: markup.inline_keyboard } } : {}),
  };
}
