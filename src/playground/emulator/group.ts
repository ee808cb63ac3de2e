// A group, supergroup or channel: its members, the bot's membership, messages and wire rendering.
import { randomBytes } from 'node:crypto';
import { StoredChat, type StoredMessage } from './chat.js';
import type { GroupDump } from './dump.js';
import { forbidden, type ApiError } from './errors.js';
import type { BotRecord } from './state.js';
import type { ChatMemberStatus, TgChatMember, TgGroupChat, TgUser } from './types.js';

export type GroupType = TgGroupChat['type'];

/** What the bot can be in a group: never added or gone (`left`), in it, or removed by a member (`kicked`). */
export type BotMembership = Extract<ChatMemberStatus, 'left' | 'member' | 'administrator' | 'kicked'>;

/** The rights a channel gives a bot added as administrator (a bot can only join a channel as one). */
const ADMINISTRATOR_RIGHTS = {
  can_be_edited: false,
  is_anonymous: false,
  can_manage_chat: true,
  can_delete_messages: true,
  can_manage_video_chats: true,
  can_restrict_members: true,
  can_promote_members: false,
  can_change_info: true,
  can_invite_users: true,
  can_post_messages: true,
  can_edit_messages: true,
  can_post_stories: true,
  can_edit_stories: true,
  can_delete_stories: true,
} as const;

export class GroupChat extends StoredChat {
  botStatus: BotMembership = 'left';

  constructor(
    readonly chatId: number,
    readonly type: GroupType,
    readonly title: string,
    /** Everyone in the chat but the bot; the first one created it. */
    readonly members: TgUser[],
    /** The one bot this chat can hold. */
    readonly bot: BotRecord,
    readonly chatInstance: string = randomBytes(8).readBigInt64BE().toString(),
  ) {
    super();
  }

  /** A group from its dump: message ids continue where it left off; members missing from `users` are dropped. */
  static restore(bot: BotRecord, users: ReadonlyMap<number, TgUser>, dump: GroupDump): GroupChat {
    const members = dump.memberIds.flatMap((id) => {
      const user = users.get(id);
      return user ? [user] : [];
    });
    const group = new GroupChat(dump.chatId, dump.type, dump.title, members, bot, dump.chatInstance);
    group.restoreStored(dump);
    group.botStatus = dump.botStatus;
    return group;
  }

  dump(): GroupDump {
    return {
      chatId: this.chatId,
      type: this.type,
      title: this.title,
      memberIds: this.members.map((member) => member.id),
      botId: this.bot.id,
      botStatus: this.botStatus,
      chatInstance: this.chatInstance,
      ...this.dumpStored(),
    };
  }

  get chat(): TgGroupChat {
    return { id: this.chatId, type: this.type, title: this.title };
  }

  get botIsMember(): boolean {
    return this.botStatus === 'member' || this.botStatus === 'administrator';
  }

  /**
   * Why `bot` may not act in this chat, as Telegram words it, or undefined when it may.
   * A bot other than the chat's own was never in it.
   */
  accessError(bot: BotRecord): ApiError | undefined {
    if (bot === this.bot && this.botIsMember) return undefined;
    if (bot === this.bot && this.botStatus === 'kicked') return forbidden(`bot was kicked from the ${this.type} chat`);
    return forbidden(`bot is not a member of the ${this.type} chat`);
  }

  member(userId: number): TgUser | undefined {
    return this.members.find((member) => member.id === userId);
  }

  /** The ChatMember of the bot with the given status. */
  botMember(status: BotMembership = this.botStatus): TgChatMember {
    const user = this.bot.publicUser;
    if (status === 'administrator') return { user, status, ...ADMINISTRATOR_RIGHTS };
    return status === 'kicked' ? { user, status, until_date: 0 } : { user, status };
  }

  /** The ChatMember of a user: the first member created the chat. */
  userMember(user: TgUser): TgChatMember {
    return { user, status: this.members[0]?.id === user.id ? 'creator' : 'member' };
  }

  author(message: StoredMessage): TgUser {
    if (message.sender === 'bot') return this.bot.publicUser;
    const id = message.fromUserId ?? 0;
    return this.member(id) ?? { id, is_bot: false, first_name: 'Deleted Account' };
  }

  nameOf(userId: number | undefined): string {
    return (userId !== undefined ? this.member(userId)?.first_name : undefined) ?? 'someone';
  }

  heading(): string {
    const status = this.botIsMember ? '' : ` [bot ${this.botStatus === 'kicked' ? 'removed' : 'not a member'}]`;
    return `${this.type} "${this.title}" (id ${this.chatId}) with @${this.bot.username}${status}:`;
  }
}
