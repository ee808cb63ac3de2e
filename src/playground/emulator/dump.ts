// The emulator's world as plain data, so a host (the playground) can keep users and chats across restarts.
import type { CallbackQueryRecord, StoredMessage } from './chat.js';
import type { StoredFile } from './files.js';
import type { BotMembership, GroupType } from './group.js';
import type { TgUpdate, TgUser } from './types.js';

export interface UpdateQueueDump {
  lastUpdateId: number;
  /** Updates the bot has not confirmed yet: delivered again after a restore. */
  pending: TgUpdate[];
  allowedUpdates?: string[];
}

export interface BotDump extends UpdateQueueDump {
  id: number;
  token: string;
  username: string;
  firstName: string;
}

export interface ConversationDump {
  botId: number;
  userId: number;
  chatInstance: string;
  started: boolean;
  blocked: boolean;
  lastMessageId: number;
  messages: StoredMessage[];
  callbackQueries: CallbackQueryRecord[];
}

export interface GroupDump {
  chatId: number;
  type: GroupType;
  title: string;
  memberIds: number[];
  botId: number;
  botStatus: BotMembership;
  chatInstance: string;
  lastMessageId: number;
  messages: StoredMessage[];
  callbackQueries: CallbackQueryRecord[];
}

export interface FileStoreDump {
  counter: number;
  /** Every stored file, bytes included (photo sizes are separate files sharing one Buffer). */
  files: StoredFile[];
}

/** Everything but webhooks, bot commands and menu buttons (a restarted bot sets those again). */
export interface EmulatorDump {
  version: 1;
  seq: number;
  lastUserId: number;
  bots: BotDump[];
  users: TgUser[];
  files: FileStoreDump;
  conversations: ConversationDump[];
  /** Groups, supergroups and channels (absent in dumps from before they existed). */
  groups?: GroupDump[];
  /** The counter behind group ids. */
  lastGroupId?: number;
}
