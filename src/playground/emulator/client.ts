// The user-side driver: a person chatting privately with a bot (chat.id === user.id).
import { randomInt } from 'node:crypto';
import type { Conversation, StoredMessage } from './conversation.js';
import { documentOf, mimeTypeFor, sniffImage, stickerOf, videoOf, voiceOf } from './files.js';
import { commandEntities } from './formatting.js';
import type { KeyboardButton } from './markup.js';
import { unixNow, type EmulatorState, type NewMessage } from './state.js';
import type { CallbackAnswer, ChatMessage, MessageContent, TgChatMember, TgUser } from './types.js';
import { toChatMessage, transcript } from './views.js';
import {
  describeMatcher,
  findCallbackButton,
  waitUntil,
  waitForNextMessage,
  waitForPredicate,
  type Baseline,
  type ButtonMatcher,
  type MessageMatcher,
} from './waiting.js';

export type { ButtonMatcher, MessageMatcher };

/** A photo to send. Like Telegram, the emulator keeps no name or type for photos; use a document for that. */
export interface PhotoInput {
  bytes: Buffer;
  fileName?: string;
  mimeType?: string;
  caption?: string;
}

export interface DocumentInput {
  bytes: Buffer;
  fileName: string;
  mimeType?: string;
  caption?: string;
}

export interface ContactInput {
  phoneNumber: string;
  firstName?: string;
  lastName?: string;
  userId?: number;
}

export interface VoiceInput {
  bytes?: Buffer;
  duration?: number;
}

export interface VideoInput {
  bytes?: Buffer;
  duration?: number;
  width?: number;
  height?: number;
  fileName?: string;
  mimeType?: string;
  caption?: string;
}

export interface ChatSnapshot {
  user: TgUser;
  bot: { id: number; username: string } | null;
  blocked: boolean;
  messages: ChatMessage[];
  callbackAnswers: CallbackAnswer[];
  replyKeyboard: KeyboardButton[][] | null;
  transcript: string;
}

export type AlbumItem = ({ type: 'photo' } & PhotoInput) | ({ type: 'document' } & DocumentInput);

export interface SendOptions {
  /** message_id this message replies to. */
  replyTo?: number;
}

export interface WaitOptions {
  /** Defaults to 5000. */
  timeoutMs?: number;
}

// Placeholder media: well-formed headers are enough, nothing decodes them.
const STICKER_BYTES = Buffer.from('524946461a000000574542505650384c0d0000002f0000001007101111888888fe0700', 'hex');
const VOICE_BYTES = Buffer.concat([Buffer.from('OggS'), Buffer.alloc(60)]);
const VIDEO_BYTES = Buffer.from('000000186674797069736f6d0000020069736f6d6d703431', 'hex');
const DEFAULT_PHOTO_SIZE = { width: 800, height: 600 };

/** A Telegram user chatting with one bot. All actions produce the real updates the bot would receive. */
export class EmulatedUser {
  readonly id: number;
  readonly info: TgUser;
  /** Changes up to this sequence number are "before" the user's latest action (see waitForMessage). */
  private baseline = 0;
  private readonly baselineRef: Baseline = {
    get: () => this.baseline,
    set: (seq) => {
      this.baseline = seq;
    },
  };

  /** @internal Created by `Emulator.createUser`. */
  constructor(
    private readonly state: EmulatorState,
    info: TgUser,
    private readonly botRef: string | undefined,
    private readonly phoneNumber: string,
  ) {
    this.id = info.id;
    this.info = info;
  }

  /** Sends a text message; commands such as "/start payload" get bot_command entities. */
  async send(text: string, options: SendOptions = {}): Promise<ChatMessage> {
    const entities = commandEntities(text);
    return this.post({ content: { text, ...(entities.length > 0 ? { entities } : {}) }, replyToId: options.replyTo });
  }

  /** Sends a photo; the bot sees two sizes (thumbnail and original) whose downloads return `bytes`. */
  async sendPhoto(photo: PhotoInput): Promise<ChatMessage> {
    return this.post({ content: this.photoContent(photo) });
  }

  /** Sends a file as a document; `mimeType` defaults to what the file name's extension implies. */
  async sendDocument(document: DocumentInput): Promise<ChatMessage> {
    return this.post({ content: this.documentContent(document) });
  }

  /** Shares a contact; `firstName` and `userId` default to this user's own. */
  async sendContact(contact: ContactInput): Promise<ChatMessage> {
    return this.post({
      content: {
        contact: {
          phone_number: contact.phoneNumber,
          first_name: contact.firstName ?? this.info.first_name,
          ...(contact.lastName !== undefined ? { last_name: contact.lastName } : {}),
          user_id: contact.userId ?? this.id,
        },
      },
    });
  }

  /** Sends a 512×512 "👍" sticker. */
  async sendSticker(): Promise<ChatMessage> {
    const file = this.state.files.add('sticker', STICKER_BYTES, { width: 512, height: 512, mimeType: 'image/webp' });
    return this.post({ content: { sticker: stickerOf(file) } });
  }

  /** Sends a voice note (placeholder OGG bytes unless given). */
  async sendVoice(voice: VoiceInput = {}): Promise<ChatMessage> {
    const file = this.state.files.add('voice', voice.bytes ?? VOICE_BYTES, {
      mimeType: 'audio/ogg',
      duration: voice.duration ?? 1,
    });
    return this.post({ content: { voice: voiceOf(file) } });
  }

  /** Sends a video (placeholder MP4 bytes, 640×360, 1 s unless given). */
  async sendVideo(video: VideoInput = {}): Promise<ChatMessage> {
    const file = this.state.files.add('video', video.bytes ?? VIDEO_BYTES, {
      fileName: video.fileName ?? 'video.mp4',
      mimeType: video.mimeType ?? 'video/mp4',
      width: video.width ?? 640,
      height: video.height ?? 360,
      duration: video.duration ?? 1,
    });
    return this.post({ content: { video: videoOf(file), ...captionOf(video.caption) } });
  }

  /** Shares a location. */
  async sendLocation(latitude: number, longitude: number): Promise<ChatMessage> {
    return this.post({ content: { location: { latitude, longitude } } });
  }

  /** Sends several photos/documents as one album: separate messages sharing a media_group_id. */
  async sendAlbum(items: AlbumItem[]): Promise<ChatMessage[]> {
    const mediaGroupId = String(randomInt(10 ** 14, 2 ** 47));
    return items.map((item) =>
      this.post({
        content: item.type === 'photo' ? this.photoContent(item) : this.documentContent(item),
        mediaGroupId,
      }),
    );
  }

  /** Edits one of the user's own text messages; the bot receives an edited_message update. */
  async editMessage(messageId: number, text: string): Promise<ChatMessage> {
    const conversation = this.activeConversation();
    const message = conversation.live(messageId);
    if (!message || message.sender !== 'user' || message.content.text === undefined) {
      throw new Error(`${this.info.first_name} has no text message #${messageId} to edit\n${transcript(conversation)}`);
    }
    this.baseline = this.state.currentSeq;
    const entities = commandEntities(text);
    const { entities: _previous, ...rest } = message.content;
    this.state.editMessage(conversation, message, {
      content: { ...rest, text, ...(entities.length > 0 ? { entities } : {}) },
    });
    this.state.enqueue(conversation.bot, { edited_message: conversation.toWire(message) });
    return toChatMessage(message);
  }

  /**
   * Presses an inline callback button, found by its text (exact string or RegExp) or a predicate,
   * on the newest bot message that has it (or on `options.messageId`). Returns the callback query id.
   */
  async press(button: ButtonMatcher, options: { messageId?: number } = {}): Promise<string> {
    const conversation = this.activeConversation();
    const found = findCallbackButton(conversation.messages, button, options.messageId);
    if (found) return this.sendCallback(conversation, found.message, found.data, found.text);
    const where = options.messageId === undefined ? 'any bot message' : `message #${options.messageId}`;
    throw new Error(`No callback button ${describeMatcher(button)} on ${where}\n${transcript(conversation)}`);
  }

  /**
   * Sends a callback_query with arbitrary `data` for an existing bot message, as a modified client
   * could (real apps only send the data of buttons they show). Returns the callback query id.
   */
  async pressData(data: string, messageId: number): Promise<string> {
    const conversation = this.activeConversation();
    const message = conversation.live(messageId);
    if (!message || message.sender !== 'bot') {
      throw new Error(`No bot message #${messageId} in the chat of ${this.info.first_name}\n${transcript(conversation)}`);
    }
    return this.sendCallback(conversation, message, data, '');
  }

  /** A real callback_query update for `message`, as Telegram sends it when a button is pressed. */
  private sendCallback(conversation: Conversation, message: StoredMessage, data: string, buttonText: string): string {
    this.baseline = this.state.currentSeq;
    const query = this.state.addCallbackQuery(conversation, message.id, data, buttonText);
    this.state.enqueue(conversation.bot, {
      callback_query: {
        id: query.id,
        from: this.info,
        message: conversation.toWire(message),
        chat_instance: conversation.chatInstance,
        data,
      },
    });
    return query.id;
  }

  /** Resolves with the bot's answer (answerCallbackQuery) to the press `callbackQueryId`. */
  waitForCallbackAnswer(callbackQueryId: string, options: WaitOptions = {}): Promise<CallbackAnswer> {
    return waitUntil(
      this.state,
      () => {
        const answer = this.callbackAnswers().find((a) => a.callbackQueryId === callbackQueryId);
        return answer ? { value: answer } : undefined;
      },
      `the answer to callback query ${callbackQueryId}`,
      () => this.transcript(),
      options.timeoutMs,
    );
  }

  /** The reply keyboard the bot currently shows this user, if any. */
  replyKeyboard(): KeyboardButton[][] | undefined {
    const conversation = this.currentConversation();
    const bots = conversation?.messages.filter((message) => message.sender === 'bot').reverse() ?? [];
    for (const { replyMarkup } of bots) {
      if (replyMarkup && 'keyboard' in replyMarkup) return replyMarkup.keyboard;
      if (replyMarkup && 'remove_keyboard' in replyMarkup) return undefined;
    }
    return undefined;
  }

  /**
   * Presses a reply-keyboard button: sends its text, or the user's own contact for a request_contact button,
   * or `options.location` for a request_location button.
   */
  async pressReplyButton(text: string, options: { location?: { latitude: number; longitude: number } } = {}): Promise<ChatMessage> {
    const button = this.replyKeyboard()
      ?.flat()
      .find((candidate) => candidate.text === text);
    if (!button) {
      throw new Error(`No reply keyboard button "${text}" is shown\n${this.transcript()}`);
    }
    if ('request_contact' in button && button.request_contact) {
      return this.sendContact({ phoneNumber: this.phoneNumber });
    }
    if ('request_location' in button && button.request_location) {
      if (!options.location) throw new Error(`Button "${text}" requests a location: pass options.location`);
      return this.sendLocation(options.location.latitude, options.location.longitude);
    }
    return this.send(text);
  }

  /** Blocks the bot: it gets a my_chat_member update and 403 on every later message. */
  async blockBot(): Promise<void> {
    this.setBlocked(true);
  }

  /** Unblocks the bot (the bot gets a my_chat_member update) so both sides can write again. */
  async unblockBot(): Promise<void> {
    this.setBlocked(false);
  }

  /** What the bot sent to this chat, oldest first, in its current state (edits applied, deleted ones left out). */
  messages(options: { includeDeleted?: boolean } = {}): ChatMessage[] {
    return (this.currentConversation()?.messages ?? [])
      .filter((message) => message.sender === 'bot' && (options.includeDeleted || !message.deleted))
      .map(toChatMessage);
  }

  /** Every message in the chat, both sides, oldest first; deleted ones are included and flagged. */
  history(): ChatMessage[] {
    return (this.currentConversation()?.messages ?? []).map(toChatMessage);
  }

  /** The chat as plain data (what `GET /_emulator/chats/:id` returns). */
  snapshot(): ChatSnapshot {
    const conversation = this.currentConversation();
    return {
      user: this.info,
      bot: conversation ? { id: conversation.bot.id, username: conversation.bot.username } : null,
      blocked: conversation?.blocked ?? false,
      messages: this.history(),
      callbackAnswers: this.callbackAnswers(),
      replyKeyboard: this.replyKeyboard() ?? null,
      transcript: this.transcript(),
    };
  }

  /** The newest message the bot sent that still exists. */
  lastMessage(): ChatMessage | undefined {
    return this.messages().at(-1);
  }

  /** The whole chat (both sides, button presses, answers) as readable text. */
  transcript(): string {
    const conversation = this.currentConversation();
    return conversation ? transcript(conversation) : `Chat of ${this.info.first_name}: (no bot yet)`;
  }

  /** The bot's answers (answerCallbackQuery) to this user's button presses, in pressing order. */
  callbackAnswers(): CallbackAnswer[] {
    return (this.currentConversation()?.callbackQueries ?? []).flatMap((query) => (query.answer ? [query.answer] : []));
  }

  /**
   * Resolves with the first truthy value `predicate` returns for the bot's messages, re-checking on every change.
   * On timeout, rejects with an Error that includes the transcript.
   */
  waitFor<T>(predicate: (messages: ChatMessage[]) => T | false | null | undefined, options: WaitOptions = {}): Promise<T> {
    return waitForPredicate(
      this.state,
      () => this.messages(),
      predicate,
      () => this.transcript(),
      options.timeoutMs,
    );
  }

  /**
   * Resolves with the next bot message matching `match` (a substring of text/caption, a RegExp, or a predicate)
   * that was sent or edited after this user's latest action and after the message the previous
   * waitForMessage returned. Messages are consumed in order, so consecutive calls walk through the replies.
   */
  waitForMessage(match: MessageMatcher, options: WaitOptions = {}): Promise<ChatMessage> {
    return waitForNextMessage(
      this.state,
      () => this.currentConversation()?.messages ?? [],
      this.baselineRef,
      match,
      () => this.transcript(),
      options.timeoutMs,
    );
  }

  private post(init: Omit<NewMessage, 'sender'>): ChatMessage {
    const conversation = this.activeConversation();
    this.baseline = this.state.currentSeq;
    const message = this.state.addMessage(conversation, { sender: 'user', ...init });
    this.state.enqueue(conversation.bot, { message: conversation.toWire(message) });
    return toChatMessage(message);
  }

  private photoContent(photo: PhotoInput): MessageContent {
    const { width, height } = sniffImage(photo.bytes) ?? DEFAULT_PHOTO_SIZE;
    const file = this.state.files.addPhoto(photo.bytes, width, height);
    return { photo: structuredClone(file.photoSizes ?? []), ...captionOf(photo.caption) };
  }

  private documentContent(document: DocumentInput): MessageContent {
    const mimeType = document.mimeType ?? mimeTypeFor(document.fileName) ?? 'application/octet-stream';
    const file = this.state.files.add('document', document.bytes, { fileName: document.fileName, mimeType });
    return { document: documentOf(file), ...captionOf(document.caption) };
  }

  private setBlocked(blocked: boolean): void {
    const conversation = this.requireConversation();
    if (conversation.blocked === blocked) return;
    const bot = conversation.bot.publicUser;
    const member: TgChatMember = { user: bot, status: 'member' };
    const kicked: TgChatMember = { user: bot, status: 'kicked', until_date: 0 };
    this.baseline = this.state.currentSeq;
    this.state.setBlocked(conversation, blocked);
    this.state.enqueue(conversation.bot, {
      my_chat_member: {
        chat: conversation.chat,
        from: this.info,
        date: unixNow(),
        old_chat_member: blocked ? member : kicked,
        new_chat_member: blocked ? kicked : member,
      },
    });
  }

  /** The chat with this user's bot, if a bot exists yet. */
  private currentConversation(): Conversation | undefined {
    const bot = this.botRef === undefined ? this.state.bots()[0] : this.state.findBot(this.botRef);
    return bot ? this.state.conversation(bot, this.info) : undefined;
  }

  private requireConversation(): Conversation {
    const conversation = this.currentConversation();
    if (!conversation) throw new Error(`No bot ${this.botRef ?? ''} to talk to: call emu.createBot() first`);
    return conversation;
  }

  /** The chat, for actions that need the bot to be unblocked (as Telegram apps require). */
  private activeConversation(): Conversation {
    const conversation = this.requireConversation();
    if (conversation.blocked) {
      throw new Error(`${this.info.first_name} has blocked @${conversation.bot.username}: call unblockBot() first`);
    }
    return conversation;
  }
}

function captionOf(caption: string | undefined): MessageContent {
  return caption ? { caption } : {};
}
