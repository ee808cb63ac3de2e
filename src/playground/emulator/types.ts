// Telegram Bot API wire shapes (the subset the emulator produces), plus the emulator's public view types.
import type { InlineKeyboardButton, ReplyMarkup } from './markup.js';

export type { InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyMarkup } from './markup.js';

export interface TgUser {
  id: number;
  is_bot: boolean;
  first_name: string;
  last_name?: string;
  username?: string;
  language_code?: string;
  can_join_groups?: boolean;
  can_read_all_group_messages?: boolean;
  supports_inline_queries?: boolean;
}

export interface TgPrivateChat {
  id: number;
  type: 'private';
  first_name: string;
  last_name?: string;
  username?: string;
}

/** A group, supergroup or channel as it appears in `chat` (groups have ids -<n>, the others -100<n>). */
export interface TgGroupChat {
  id: number;
  type: 'group' | 'supergroup' | 'channel';
  title: string;
}

export type TgChat = TgPrivateChat | TgGroupChat;

export interface MessageEntity {
  type: string;
  offset: number;
  length: number;
  url?: string;
  language?: string;
  custom_emoji_id?: string;
}

export interface PhotoSize {
  file_id: string;
  file_unique_id: string;
  width: number;
  height: number;
  file_size: number;
}

export interface TgDocument {
  file_id: string;
  file_unique_id: string;
  file_name?: string;
  mime_type?: string;
  file_size: number;
}

export interface TgVoice {
  file_id: string;
  file_unique_id: string;
  duration: number;
  mime_type?: string;
  file_size: number;
}

export interface TgVideo {
  file_id: string;
  file_unique_id: string;
  width: number;
  height: number;
  duration: number;
  file_name?: string;
  mime_type?: string;
  file_size: number;
}

export interface TgSticker {
  file_id: string;
  file_unique_id: string;
  type: 'regular';
  width: number;
  height: number;
  is_animated: boolean;
  is_video: boolean;
  emoji?: string;
  file_size: number;
}

export interface TgContact {
  phone_number: string;
  first_name: string;
  last_name?: string;
  user_id?: number;
}

export interface TgLocation {
  latitude: number;
  longitude: number;
}

/** What a message carries, independent of who sent it where. */
export interface MessageContent {
  text?: string;
  entities?: MessageEntity[];
  caption?: string;
  caption_entities?: MessageEntity[];
  photo?: PhotoSize[];
  document?: TgDocument;
  voice?: TgVoice;
  video?: TgVideo;
  sticker?: TgSticker;
  contact?: TgContact;
  location?: TgLocation;
  /** Service message: members joined a group (the bot itself, when added). */
  new_chat_members?: TgUser[];
}

export interface MessageOriginUser {
  type: 'user';
  sender_user: TgUser;
  date: number;
}

export interface MessageOriginChannel {
  type: 'channel';
  chat: TgGroupChat;
  message_id: number;
  date: number;
}

export type MessageOrigin = MessageOriginUser | MessageOriginChannel;

export interface TgMessage extends MessageContent {
  message_id: number;
  /** Absent in channels, where `sender_chat` is the channel. */
  from?: TgUser;
  sender_chat?: TgGroupChat;
  chat: TgChat;
  date: number;
  edit_date?: number;
  media_group_id?: string;
  reply_to_message?: TgMessage;
  reply_markup?: { inline_keyboard: InlineKeyboardButton[][] };
  forward_origin?: MessageOrigin;
  forward_from?: TgUser;
  forward_from_chat?: TgGroupChat;
  forward_from_message_id?: number;
  forward_date?: number;
}

export interface TgCallbackQuery {
  id: string;
  from: TgUser;
  message: TgMessage;
  chat_instance: string;
  data: string;
}

export type ChatMemberStatus = 'creator' | 'administrator' | 'member' | 'left' | 'kicked';

/** A ChatMember; administrators carry their rights (`can_*`). */
export interface TgChatMember {
  user: TgUser;
  status: ChatMemberStatus;
  until_date?: number;
  is_anonymous?: boolean;
  can_be_edited?: boolean;
  can_manage_chat?: boolean;
  can_delete_messages?: boolean;
  can_manage_video_chats?: boolean;
  can_restrict_members?: boolean;
  can_promote_members?: boolean;
  can_change_info?: boolean;
  can_invite_users?: boolean;
  can_post_messages?: boolean;
  can_edit_messages?: boolean;
  can_pin_messages?: boolean;
  can_post_stories?: boolean;
  can_edit_stories?: boolean;
  can_delete_stories?: boolean;
}

export interface TgChatMemberUpdated {
  chat: TgChat;
  from: TgUser;
  date: number;
  old_chat_member: TgChatMember;
  new_chat_member: TgChatMember;
}

export type UpdatePayload =
  | { message: TgMessage }
  | { edited_message: TgMessage }
  | { channel_post: TgMessage }
  | { callback_query: TgCallbackQuery }
  | { my_chat_member: TgChatMemberUpdated };

export type TgUpdate = { update_id: number } & UpdatePayload;

/** A message in an emulated chat, in its current state (edits applied). */
export interface ChatMessage {
  messageId: number;
  from: 'bot' | 'user';
  /** In groups and channels: the member who sent a user message. */
  fromUserId?: number;
  /** Unix seconds, like Telegram's `date`. */
  date: number;
  text?: string;
  caption?: string;
  /** Entities of `text` or `caption`, after parse_mode was applied. */
  entities?: MessageEntity[];
  parseMode?: string;
  /** file_id of the largest photo size. */
  photo?: string;
  document?: string;
  voice?: string;
  video?: string;
  sticker?: string;
  fileName?: string;
  mimeType?: string;
  contact?: TgContact;
  location?: TgLocation;
  /** Service message: who joined the group. */
  newChatMembers?: TgUser[];
  mediaGroupId?: string;
  /** Any markup the bot attached: inline keyboard, reply keyboard, remove_keyboard or force_reply. */
  replyMarkup?: ReplyMarkup;
  replyToMessageId?: number;
  forwarded?: boolean;
  editCount: number;
  deleted: boolean;
}

/** The bot's answer to a callback query (answerCallbackQuery). */
export interface CallbackAnswer {
  callbackQueryId: string;
  messageId: number;
  data: string;
  text?: string;
  showAlert?: boolean;
  url?: string;
}

/** A bot registered in the emulator. */
export interface BotInfo {
  token: string;
  id: number;
  username: string;
}

/** Something that changed, as streamed to `/_emulator/events` and to waiters. */
export type EmulatorEvent =
  | { type: 'bot.created'; bot: { id: number; username: string } }
  | { type: 'user.created'; user: TgUser }
  | { type: 'message.created'; botId: number; chatId: number; message: ChatMessage }
  | { type: 'message.edited'; botId: number; chatId: number; message: ChatMessage }
  | { type: 'message.deleted'; botId: number; chatId: number; messageId: number }
  | {
      type: 'callback.pressed';
      botId: number;
      chatId: number;
      callbackQueryId: string;
      messageId: number;
      data: string;
    }
  | { type: 'callback.answered'; botId: number; chatId: number; answer: CallbackAnswer }
  | { type: 'chat.action'; botId: number; chatId: number; action: string }
  | { type: 'chat.blocked'; botId: number; chatId: number; blocked: boolean }
  | { type: 'group.created'; botId: number; chatId: number; chat: TgGroupChat }
  | { type: 'group.bot_status'; botId: number; chatId: number; status: ChatMemberStatus };
