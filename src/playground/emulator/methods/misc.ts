// getMe, getFile, answerCallbackQuery, bot commands, chat actions, chat info, leaveChat and the menu button.
import { z } from 'zod';
import { badRequest } from '../errors.js';
import { GroupChat } from '../group.js';
import type { Params } from '../params.js';
import type { BotCommand } from '../state.js';
import type { TgChatMember, TgUser } from '../types.js';
import { chatIdParam, knownChat, memberGroup, writableChat, type MethodContext, type MethodHandler } from './context.js';

const MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024;

const CHAT_ACTIONS = new Set([
  'typing',
  'upload_photo',
  'record_video',
  'upload_video',
  'record_voice',
  'upload_voice',
  'upload_document',
  'choose_sticker',
  'find_location',
  'record_video_note',
  'upload_video_note',
]);

const commandsSchema = z.array(z.object({ command: z.string(), description: z.string() })).max(100);
const scopeSchema = z.object({
  type: z.enum([
    'default',
    'all_private_chats',
    'all_group_chats',
    'all_chat_administrators',
    'chat',
    'chat_administrators',
    'chat_member',
  ]),
  chat_id: z.union([z.number(), z.string()]).optional(),
  user_id: z.number().optional(),
});

function getMe({ bot }: MethodContext): TgUser {
  return {
    ...bot.publicUser,
    can_join_groups: true,
    // The emulator delivers every group message to the bot, as with privacy mode off.
    can_read_all_group_messages: true,
    supports_inline_queries: false,
  };
}

function getFile({ state, params }: MethodContext): Record<string, unknown> {
  const file = state.files.get(params.string('file_id') ?? '');
  if (!file) throw badRequest('invalid file_id');
  if (file.bytes.length > MAX_DOWNLOAD_BYTES) throw badRequest('file is too big');
  return {
    file_id: file.fileId,
    file_unique_id: file.fileUniqueId,
    file_size: file.bytes.length,
    file_path: file.filePath,
  };
}

function answerCallbackQuery({ state, bot, params }: MethodContext): true {
  const found = state.callbackQuery(params.string('callback_query_id') ?? '');
  if (!found || found.query.answer || found.chat.bot !== bot) {
    throw badRequest('query is too old and response timeout expired or query ID is invalid');
  }
  const { chat, query } = found;
  const text = params.string('text');
  const showAlert = params.boolean('show_alert');
  const url = params.string('url');
  state.answerCallbackQuery(chat, query, {
    callbackQueryId: query.id,
    messageId: query.messageId,
    data: query.data,
    ...(text !== undefined ? { text } : {}),
    ...(showAlert !== undefined ? { showAlert } : {}),
    ...(url !== undefined ? { url } : {}),
  });
  return true;
}

/** Commands are stored per (scope, language_code), exactly as Telegram keys them. */
function commandsKey(params: Params): string {
  const unparsable = "can't parse BotCommandScope JSON object";
  const scope = scopeSchema.safeParse(params.has('scope') ? params.json('scope', unparsable) : { type: 'default' });
  if (!scope.success) throw badRequest(unparsable);
  const { type, chat_id: chatId, user_id: userId } = scope.data;
  return [type, chatId ?? '', userId ?? '', params.string('language_code') ?? ''].join('|');
}

function setMyCommands({ bot, params }: MethodContext): true {
  const parsed = commandsSchema.safeParse(params.json('commands', "can't parse commands JSON object"));
  if (!parsed.success) throw badRequest("can't parse commands JSON object");
  const commands: BotCommand[] = parsed.data;
  if (commands.some(({ command }) => !/^[a-z0-9_]{1,32}$/.test(command))) throw badRequest('BOT_COMMAND_INVALID');
  const key = commandsKey(params);
  if (commands.length === 0) bot.commands.delete(key);
  else bot.commands.set(key, commands);
  return true;
}

function getMyCommands({ bot, params }: MethodContext): BotCommand[] {
  return bot.commands.get(commandsKey(params)) ?? [];
}

function deleteMyCommands({ bot, params }: MethodContext): true {
  bot.commands.delete(commandsKey(params));
  return true;
}

function sendChatAction(context: MethodContext): true {
  const conversation = writableChat(context);
  const action = context.params.string('action') ?? '';
  if (!CHAT_ACTIONS.has(action)) throw badRequest('wrong parameter action in request');
  context.state.emitForChat(conversation, { type: 'chat.action', action });
  return true;
}

function getChat(context: MethodContext): Record<string, unknown> {
  return { ...knownChat(context).chat, accent_color_id: 0, max_reaction_count: 11 };
}

function setChatMenuButton({ bot, params }: MethodContext): true {
  const key = params.string('chat_id') ?? '';
  if (params.has('menu_button')) bot.menuButtons.set(key, params.json('menu_button'));
  else bot.menuButtons.delete(key);
  return true;
}

function getChatMenuButton({ bot, params }: MethodContext): unknown {
  return bot.menuButtons.get(params.string('chat_id') ?? '') ?? bot.menuButtons.get('') ?? { type: 'commands' };
}

function getChatMember(context: MethodContext): TgChatMember {
  const chat = knownChat(context);
  const userId = context.params.integer('user_id');
  if (chat instanceof GroupChat) {
    if (userId === context.bot.id) return chat.botMember();
    const member = userId === undefined ? undefined : chat.member(userId);
    if (member) return chat.userMember(member);
    throw badRequest('user not found');
  }
  if (userId === chat.user.id) return { user: chat.user, status: 'member' };
  if (userId === context.bot.id) {
    return chat.blocked
      ? { user: context.bot.publicUser, status: 'kicked', until_date: 0 }
      : { user: context.bot.publicUser, status: 'member' };
  }
  throw badRequest('user not found');
}

function getChatMemberCount(context: MethodContext): number {
  const chat = knownChat(context);
  return chat instanceof GroupChat ? chat.members.length + 1 : 2;
}

/** The bot leaves a group, supergroup or channel; it then gets a my_chat_member update saying so. */
function leaveChat(context: MethodContext): true {
  const { state, bot, params } = context;
  const chatId = chatIdParam(params);
  if (chatId > 0) {
    if (state.conversationWith(bot, chatId)?.started) {
      throw badRequest("chat member status can't be changed in private chats");
    }
    throw badRequest('chat not found');
  }
  const group = memberGroup(context, chatId);
  state.setBotMembership(group, 'left', bot.publicUser);
  return true;
}

export const miscMethods: Record<string, MethodHandler> = {
  getMe,
  getFile,
  answerCallbackQuery,
  setMyCommands,
  getMyCommands,
  deleteMyCommands,
  sendChatAction,
  getChat,
  setChatMenuButton,
  getChatMenuButton,
  getChatMember,
  getChatMemberCount,
  leaveChat,
};
