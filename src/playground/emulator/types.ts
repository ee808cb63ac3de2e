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
}

export interface MessageOriginUser {
  type: 'user';
  sender_user: TgUser;
  date: number;
}

export interface TgMessage extends MessageContent {
  message_id: number;
  from: TgUser;
  chat: TgPrivateChat;
  date: number;
  edit_date?: number;
  media_group_id?: string;
  reply_to_message?: TgMessage;
  reply_markup?: { inline_keyboard: InlineKeyboardButton[][] };
  forward_origin?: MessageOriginUser;
  forward_from?: TgUser;
  forward_date?: number;
}

export interface TgCallbackQuery {
  id: string;
  from: TgUser;
  message: TgMessage;
  chat_instance: string;
  data: string;
}

export interface TgChatMember {
  user: TgUser;
  status: 'member' | 'kicked';
  until_date?: number;
}

export interface TgChatMemberUpdated {
  chat: TgPrivateChat;
  from: TgUser;
  date: number;
  old_chat_member: TgChatMember;
  new_chat_member: TgChatMember;
}

export type UpdatePayload =
  | { message: TgMessage }
  | { edited_message: TgMessage }
  | { callback_query: TgCallbackQuery }
  | { my_chat_member: TgChatMemberUpdated };

export type TgUpdate = { update_id: number } & UpdatePayload;

/** A message in an emulated private chat, in its current state (edits applied). */
export interface ChatMessage {
  messageId: number;
  from: 'bot' | 'user';
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
  | { type: 'chat.blocked'; botId: number; chatId: number; blocked: boolean };
