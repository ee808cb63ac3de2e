// The group-side driver: people in a group, supergroup or channel, and the bot they add to it.
import type { StoredMessage } from './chat.js';
import type { EmulatedUser, SendOptions, WaitOptions } from './client.js';
import { commandEntities } from './formatting.js';
import type { BotMembership, GroupChat, GroupType } from './group.js';
import type { EmulatorState } from './state.js';
import type { CallbackAnswer, ChatMessage, TgGroupChat, TgUser } from './types.js';
import { toChatMessage, transcript } from './views.js';
import {
  describeMatcher,
  findCallbackButton,
  waitForNextMessage,
  waitForPredicate,
  type Baseline,
  type ButtonMatcher,
  type MessageMatcher,
} from './waiting.js';

export type { BotMembership, GroupType };

export interface CreateGroupOptions {
  title: string;
  type: GroupType;
  /** The people in it (the first one created it). In a channel, every member may post. */
  members: EmulatedUser[];
  /** Token or username of the bot this chat can hold; defaults to the first bot created. */
  bot?: string;
}

/**
 * A group, supergroup or channel with its members and one bot, which is not in it until {@link addBot}.
 * All actions produce the real updates the bot would receive; while the bot is not a member it receives none.
 */
export class EmulatedGroup {
  /** Negative, as in Telegram: -<n> for groups, -100<n> for supergroups and channels. */
  readonly id: number;
  readonly type: GroupType;
  readonly title: string;
  /** Changes up to this sequence number are "before" the latest action here (see waitForMessage). */
  private baseline = 0;
  private readonly baselineRef: Baseline = {
    get: () => this.baseline,
    set: (seq) => {
      this.baseline = seq;
    },
  };

  /** @internal Created by `Emulator.createGroup`. */
  constructor(
    private readonly state: EmulatorState,
    private readonly group: GroupChat,
  ) {
    this.id = group.chatId;
    this.type = group.type;
    this.title = group.title;
  }

  /** The Chat object as the bot sees it. */
  get chat(): TgGroupChat {
    return this.group.chat;
  }

  /** Everyone in the chat but the bot. */
  members(): TgUser[] {
    return [...this.group.members];
  }

  botIsMember(): boolean {
    return this.group.botIsMember;
  }

  /** `left` before it is added and after leaveChat; `member` (in channels `administrator`); `kicked`. */
  botStatus(): BotMembership {
    return this.group.botStatus;
  }

  /**
   * `by` adds the bot: it becomes a member (in a channel, an administrator) and gets a my_chat_member update
   * from `by`; in groups and supergroups also the "new_chat_members" service message, as Telegram sends.
   */
  async addBot(by: EmulatedUser): Promise<void> {
    const adder = this.requireMember(by, 'add the bot');
    if (this.group.botIsMember) throw new Error(`@${this.group.bot.username} is already in ${this.describe()}`);
    this.baseline = this.state.currentSeq;
    this.state.setBotMembership(this.group, this.type === 'channel' ? 'administrator' : 'member', adder);
    if (this.type === 'channel') return;
    const joined = this.state.addMessage(this.group, {
      sender: 'user',
      fromUserId: adder.id,
      content: { new_chat_members: [this.group.bot.publicUser] },
    });
    this.deliver(joined);
  }

  /** `by` removes the bot: it gets a my_chat_member update (kicked) and 403 on every later message. */
  async removeBot(by: EmulatedUser): Promise<void> {
    const remover = this.requireMember(by, 'remove the bot');
    if (!this.group.botIsMember) throw new Error(`@${this.group.bot.username} is not in ${this.describe()}`);
    this.baseline = this.state.currentSeq;
    this.state.setBotMembership(this.group, 'kicked', remover);
  }

  /**
   * A member posts a text message; commands get bot_command entities. The bot gets a `message` update
   * (in a channel a `channel_post`, without `from`). Returns the stored message.
   */
  async send(user: EmulatedUser, text: string, options: SendOptions = {}): Promise<ChatMessage> {
    const author = this.requireMember(user, 'post');
    const entities = commandEntities(text);
    this.baseline = this.state.currentSeq;
    const message = this.state.addMessage(this.group, {
      sender: 'user',
      fromUserId: author.id,
      content: { text, ...(entities.length > 0 ? { entities } : {}) },
      replyToId: options.replyTo,
    });
    this.deliver(message);
    return toChatMessage(message);
  }

  /**
   * A member presses an inline callback button, found by its text (exact string or RegExp) or a predicate,
   * on the newest bot message here that has it (or on `options.messageId`). Returns the callback query id.
   */
  async press(user: EmulatedUser, button: ButtonMatcher, options: { messageId?: number } = {}): Promise<string> {
    const presser = this.requireMember(user, 'press buttons');
    if (!this.group.botIsMember) throw new Error(`@${this.group.bot.username} is not in ${this.describe()}`);
    const found = findCallbackButton(this.group.messages, button, options.messageId);
    if (!found) {
      const where = options.messageId === undefined ? 'any bot message' : `message #${options.messageId}`;
      throw new Error(`No callback button ${describeMatcher(button)} on ${where}\n${this.transcript()}`);
    }
    this.baseline = this.state.currentSeq;
    const query = this.state.addCallbackQuery(this.group, found.message.id, found.data, found.text, presser.id);
    this.state.enqueue(this.group.bot, {
      callback_query: {
        id: query.id,
        from: presser,
        message: this.group.toWire(found.message),
        chat_instance: this.group.chatInstance,
        data: found.data,
      },
    });
    return query.id;
  }

  /** What the bot posted here, oldest first, in its current state (edits applied, deleted ones left out). */
  messages(options: { includeDeleted?: boolean } = {}): ChatMessage[] {
    return this.group.messages
      .filter((message) => message.sender === 'bot' && (options.includeDeleted || !message.deleted))
      .map(toChatMessage);
  }

  /** Every message here, everyone's, oldest first; deleted ones are included and flagged. */
  history(): ChatMessage[] {
    return this.group.messages.map(toChatMessage);
  }

  /** The newest message the bot posted here that still exists. */
  lastMessage(): ChatMessage | undefined {
    return this.messages().at(-1);
  }

  /** The bot's answers (answerCallbackQuery) to button presses here, in pressing order. */
  callbackAnswers(): CallbackAnswer[] {
    return this.group.callbackQueries.flatMap((query) => (query.answer ? [query.answer] : []));
  }

  /** The whole chat (every member, the bot, button presses and answers) as readable text. */
  transcript(): string {
    return transcript(this.group);
  }

  /**
   * Resolves with the first truthy value `predicate` returns for the bot's messages here, re-checking on every
   * change. On timeout, rejects with an Error that includes the transcript.
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
   * Resolves with the next bot message here matching `match` (as EmulatedUser.waitForMessage: sent or edited
   * after the latest action through this driver and after the message the previous call returned).
   */
  waitForMessage(match: MessageMatcher, options: WaitOptions = {}): Promise<ChatMessage> {
    return waitForNextMessage(
      this.state,
      () => this.group.messages,
      this.baselineRef,
      match,
      () => this.transcript(),
      options.timeoutMs,
    );
  }

  /** Hands a member's message to the bot, if it is here to see it. */
  private deliver(message: StoredMessage): void {
    if (!this.group.botIsMember) return;
    const wire = this.group.toWire(message);
    this.state.enqueue(this.group.bot, this.type === 'channel' ? { channel_post: wire } : { message: wire });
  }

  private requireMember(user: EmulatedUser, action: string): TgUser {
    const member = this.group.member(user.id);
    if (!member) throw new Error(`${user.info.first_name} is not in ${this.describe()} and cannot ${action}`);
    return member;
  }

  private describe(): string {
    return `${this.type} "${this.title}" (${this.id})`;
  }
}
