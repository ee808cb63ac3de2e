// The emulator's in-memory world: bots, users, their private chats, groups, files and the change feed.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { CallbackQueryRecord, ChatRecord, StoredMessage } from './chat.js';
import { Conversation } from './conversation.js';
import type { EmulatorDump } from './dump.js';
import { FileStore } from './files.js';
import { GroupChat, type BotMembership, type GroupType } from './group.js';
import type { Params } from './params.js';
import { UpdateQueue } from './updates.js';
import { toChatMessage } from './views.js';
import { WebhookDelivery } from './webhook.js';
import type { CallbackAnswer, EmulatorEvent, TgUser, UpdatePayload } from './types.js';

export interface BotCommand {
  command: string;
  description: string;
}

export interface BotRecord {
  id: number;
  token: string;
  username: string;
  /** The bot as it appears in `from` of its messages. */
  publicUser: TgUser;
  updates: UpdateQueue;
  webhook: WebhookDelivery;
  /** Keyed by scope + language code. */
  commands: Map<string, BotCommand[]>;
  /** Keyed by chat id, or '' for the default button. */
  menuButtons: Map<string, unknown>;
}

export interface CreateBotOptions {
  token?: string;
  username?: string;
  firstName?: string;
}

export interface CreateUserOptions {
  firstName: string;
  lastName?: string;
  username?: string;
  languageCode?: string;
}

export interface CreateGroupInit {
  title: string;
  type: GroupType;
  members: TgUser[];
}

export type NewMessage = Pick<StoredMessage, 'sender' | 'content'> &
  Partial<Pick<StoredMessage, 'fromUserId' | 'parseMode' | 'replyMarkup' | 'replyToId' | 'mediaGroupId' | 'forwardOrigin'>>;

export type MessagePatch = Partial<Pick<StoredMessage, 'content' | 'parseMode' | 'replyMarkup'>>;

export type WebhookReplyExecutor = (bot: BotRecord, method: string, params: Params) => Promise<void>;

export const unixNow = (): number => Math.floor(Date.now() / 1000);

const TOKEN_PATTERN = /^(\d+):[A-Za-z0-9_-]{8,}$/;

/** Supergroup and channel ids are -100 followed by the channel's own id (here 10 digits). */
const CHANNEL_ID_OFFSET = 1_000_000_000_000;

export class EmulatorState {
  readonly files = new FileStore();
  private readonly botsById = new Map<number, BotRecord>();
  private readonly usersById = new Map<number, TgUser>();
  private readonly conversations = new Map<string, Conversation>();
  private readonly groupsById = new Map<number, GroupChat>();
  private readonly queries = new Map<string, { chat: ChatRecord; query: CallbackQueryRecord }>();
  private readonly events = new EventEmitter();
  private seq = 0;
  private lastBotId = 7_000_000_000;
  private lastUserId = 100_000_000;
  private lastGroupId = 1_900_000_000;

  constructor(private readonly executeWebhookReply: WebhookReplyExecutor) {
    this.events.setMaxListeners(0);
  }

  /** Increases on every message creation, edit, deletion and callback query. */
  get currentSeq(): number {
    return this.seq;
  }

  createBot(options: CreateBotOptions = {}): BotRecord {
    const id = options.token ? Number(TOKEN_PATTERN.exec(options.token)?.[1]) : this.nextBotId();
    if (!Number.isSafeInteger(id)) throw new Error(`Invalid bot token "${options.token}": expected "<id>:<secret>"`);
    if (this.botsById.has(id) || this.usersById.has(id)) throw new Error(`Bot id ${id} is already taken`);
    const token = options.token || `${id}:AA${randomBytes(25).toString('base64url').slice(0, 33)}`;
    const username = options.username || `emulated_${this.botsById.size + 1}_bot`;
    const updates = new UpdateQueue();
    const bot: BotRecord = {
      id,
      token,
      username,
      publicUser: { id, is_bot: true, first_name: options.firstName || 'Emulated Bot', username },
      updates,
      webhook: new WebhookDelivery(updates, (method, params) => this.executeWebhookReply(bot, method, params)),
      commands: new Map(),
      menuButtons: new Map(),
    };
    this.botsById.set(id, bot);
    this.emit({ type: 'bot.created', bot: { id, username } });
    return bot;
  }

  bots(): BotRecord[] {
    return [...this.botsById.values()];
  }

  botByToken(token: string): BotRecord | undefined {
    const bot = this.botsById.get(Number(token.split(':')[0]));
    return bot?.token === token ? bot : undefined;
  }

  /** Finds a bot by token or username (with or without "@"). */
  findBot(tokenOrUsername: string): BotRecord | undefined {
    const username = tokenOrUsername.replace(/^@/, '').toLowerCase();
    return this.botByToken(tokenOrUsername) ?? this.bots().find((bot) => bot.username.toLowerCase() === username);
  }

  createUser(options: CreateUserOptions): TgUser {
    this.lastUserId += 1;
    const user: TgUser = {
      id: this.lastUserId,
      is_bot: false,
      first_name: options.firstName,
      ...(options.lastName !== undefined ? { last_name: options.lastName } : {}),
      ...(options.username !== undefined ? { username: options.username } : {}),
      ...(options.languageCode !== undefined ? { language_code: options.languageCode } : {}),
    };
    this.usersById.set(user.id, user);
    this.emit({ type: 'user.created', user });
    return user;
  }

  user(id: number): TgUser | undefined {
    return this.usersById.get(id);
  }

  users(): TgUser[] {
    return [...this.usersById.values()];
  }

  conversation(bot: BotRecord, user: TgUser): Conversation {
    const key = `${bot.id}:${user.id}`;
    let conversation = this.conversations.get(key);
    if (!conversation) {
      conversation = new Conversation(bot, user);
      this.conversations.set(key, conversation);
    }
    return conversation;
  }

  /** The chat a bot addresses by chat_id, if that user exists. */
  conversationWith(bot: BotRecord, chatId: number): Conversation | undefined {
    const user = this.usersById.get(chatId);
    return user ? this.conversation(bot, user) : undefined;
  }

  /**
   * A new group, supergroup or channel holding `bot` (not added yet). Groups get ids -<n>,
   * supergroups and channels -100<n>, as in Telegram.
   */
  createGroup(bot: BotRecord, init: CreateGroupInit): GroupChat {
    this.lastGroupId += 1;
    const chatId = init.type === 'group' ? -this.lastGroupId : -(CHANNEL_ID_OFFSET + this.lastGroupId);
    const group = new GroupChat(chatId, init.type, init.title, [...init.members], bot);
    this.groupsById.set(chatId, group);
    this.emitForChat(group, { type: 'group.created', chat: group.chat });
    return group;
  }

  group(chatId: number): GroupChat | undefined {
    return this.groupsById.get(chatId);
  }

  groups(): GroupChat[] {
    return [...this.groupsById.values()];
  }

  /**
   * Changes the bot's membership of a group and sends the bot its my_chat_member update (also when it left:
   * Telegram tells a bot that it is out). `by` is who did it: a member, or the bot itself for leaveChat.
   */
  setBotMembership(group: GroupChat, status: BotMembership, by: TgUser): void {
    const old = group.botMember();
    group.botStatus = status;
    this.emitForChat(group, { type: 'group.bot_status', status });
    this.enqueue(group.bot, {
      my_chat_member: {
        chat: group.chat,
        from: by,
        date: unixNow(),
        old_chat_member: old,
        new_chat_member: group.botMember(),
      },
    });
  }

  addMessage(chat: ChatRecord, init: NewMessage): StoredMessage {
    const seq = this.nextSeq();
    const message: StoredMessage = {
      ...init,
      id: chat.nextMessageId(),
      date: unixNow(),
      editCount: 0,
      deleted: false,
      createdSeq: seq,
      changeSeq: seq,
    };
    chat.messages.push(message);
    if (init.sender === 'user' && chat instanceof Conversation) chat.started = true;
    this.emitForChat(chat, { type: 'message.created', message: toChatMessage(message) });
    return message;
  }

  editMessage(chat: ChatRecord, message: StoredMessage, patch: MessagePatch): void {
    Object.assign(message, patch);
    message.editCount += 1;
    message.editDate = unixNow();
    message.changeSeq = this.nextSeq();
    this.emitForChat(chat, { type: 'message.edited', message: toChatMessage(message) });
  }

  deleteMessage(chat: ChatRecord, message: StoredMessage): void {
    message.deleted = true;
    message.changeSeq = this.nextSeq();
    this.emitForChat(chat, { type: 'message.deleted', messageId: message.id });
  }

  enqueue(bot: BotRecord, payload: UpdatePayload): void {
    bot.updates.push(payload);
  }

  /** A button press; `fromUserId` names the member who pressed it in a group (a private chat has one user). */
  addCallbackQuery(chat: ChatRecord, messageId: number, data: string, buttonText: string, fromUserId?: number): CallbackQueryRecord {
    const query: CallbackQueryRecord = {
      id: randomBytes(8).readBigUInt64BE().toString(),
      messageId,
      data,
      buttonText,
      seq: this.nextSeq(),
      ...(fromUserId !== undefined ? { fromUserId } : {}),
    };
    chat.callbackQueries.push(query);
    this.queries.set(query.id, { chat, query });
    this.emitForChat(chat, { type: 'callback.pressed', callbackQueryId: query.id, messageId, data });
    return query;
  }

  callbackQuery(id: string): { chat: ChatRecord; query: CallbackQueryRecord } | undefined {
    return this.queries.get(id);
  }

  answerCallbackQuery(chat: ChatRecord, query: CallbackQueryRecord, answer: CallbackAnswer): void {
    query.answer = answer;
    this.emitForChat(chat, { type: 'callback.answered', answer });
  }

  setBlocked(conversation: Conversation, blocked: boolean): void {
    conversation.blocked = blocked;
    this.emitForChat(conversation, { type: 'chat.blocked', blocked });
  }

  emit(event: EmulatorEvent): void {
    this.events.emit('event', event);
  }

  /** Calls `listener` for every change; returns the unsubscribe function. */
  subscribe(listener: (event: EmulatorEvent) => void): () => void {
    this.events.on('event', listener);
    return () => this.events.off('event', listener);
  }

  /** The whole world as plain data (file bytes included), for {@link importDump} in a later process. */
  exportDump(): EmulatorDump {
    return {
      version: 1,
      seq: this.seq,
      lastUserId: this.lastUserId,
      bots: this.bots().map((bot) => ({
        id: bot.id,
        token: bot.token,
        username: bot.username,
        firstName: bot.publicUser.first_name,
        ...bot.updates.dump(),
      })),
      users: this.users().map((user) => structuredClone(user)),
      files: this.files.dump(),
      conversations: [...this.conversations.values()].map((conversation) => conversation.dump()),
      groups: this.groups().map((group) => group.dump()),
      lastGroupId: this.lastGroupId,
    };
  }

  /** Loads a dump into a fresh state (no bots or users yet): ids, chats and update ids continue. */
  importDump(dump: EmulatorDump): void {
    if (dump.version !== 1) throw new Error(`Unsupported emulator dump version ${String(dump.version)}`);
    if (this.botsById.size > 0 || this.usersById.size > 0) throw new Error('importDump needs a fresh emulator');
    for (const saved of dump.bots) {
      const bot = this.createBot({ token: saved.token, username: saved.username, firstName: saved.firstName });
      bot.updates.restore(saved);
    }
    for (const user of dump.users) this.usersById.set(user.id, structuredClone(user));
    this.lastUserId = Math.max(this.lastUserId, dump.lastUserId, ...dump.users.map((user) => user.id));
    this.seq = Math.max(this.seq, dump.seq);
    this.files.restore(dump.files);
    for (const saved of dump.conversations) {
      const bot = this.botsById.get(saved.botId);
      const user = this.usersById.get(saved.userId);
      if (!bot || !user) continue;
      const conversation = Conversation.restore(bot, user, saved);
      this.conversations.set(`${bot.id}:${user.id}`, conversation);
      for (const query of conversation.callbackQueries) this.queries.set(query.id, { chat: conversation, query });
    }
    this.lastGroupId = Math.max(this.lastGroupId, dump.lastGroupId ?? 0);
    for (const saved of dump.groups ?? []) {
      const bot = this.botsById.get(saved.botId);
      if (!bot) continue;
      const group = GroupChat.restore(bot, this.usersById, saved);
      this.groupsById.set(group.chatId, group);
      for (const query of group.callbackQueries) this.queries.set(query.id, { chat: group, query });
    }
  }

  /**
   * Forgets every chat (groups too), file and pending update, and every user except `keepUserIds`. Bots stay,
   * and ids keep counting up (new users, groups and updates never reuse an old id).
   */
  reset(keepUserIds: readonly number[] = []): void {
    for (const id of [...this.usersById.keys()]) if (!keepUserIds.includes(id)) this.usersById.delete(id);
    this.conversations.clear();
    this.groupsById.clear();
    this.queries.clear();
    this.files.restore({ counter: this.files.dump().counter, files: [] });
    for (const bot of this.botsById.values()) bot.updates.clear();
  }

  close(): void {
    for (const bot of this.botsById.values()) {
      bot.webhook.close();
      bot.updates.interruptWait('closed');
    }
  }

  emitForChat(chat: ChatRecord, event: DistributiveOmit<ChatEvent, 'botId' | 'chatId'>): void {
    this.emit({ ...event, botId: chat.bot.id, chatId: chat.chatId });
  }

  private nextSeq(): number {
    this.seq += 1;
    return this.seq;
  }

  private nextBotId(): number {
    do this.lastBotId += 1;
    while (this.botsById.has(this.lastBotId));
    return this.lastBotId;
  }
}

type ChatEvent = Extract<EmulatorEvent, { chatId: number }>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
