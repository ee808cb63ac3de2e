// Shared pieces of Bot API method handlers: the call context, chat resolution, replies and captions.
import type { Conversation } from '../conversation.js';
import { badRequest, forbidden } from '../errors.js';
import { formatText } from '../formatting.js';
import type { GroupChat } from '../group.js';
import { parseReplyMarkup, type ReplyMarkup } from '../markup.js';
import type { Params } from '../params.js';
import type { BotRecord, EmulatorState } from '../state.js';
import type { MessageContent } from '../types.js';

export interface MethodContext {
  state: EmulatorState;
  bot: BotRecord;
  params: Params;
  /** Aborted when the caller disconnects. */
  signal: AbortSignal;
}

export type MethodHandler = (context: MethodContext) => unknown;

/** Any chat a method can address: a private chat or a group, supergroup or channel. */
export type BotChat = Conversation | GroupChat;

const MAX_TEXT_LENGTH = 4096;
const MAX_CAPTION_LENGTH = 1024;

export function chatIdParam(params: Params, name = 'chat_id'): number {
  const raw = params.string(name);
  if (raw === undefined || raw === '') throw badRequest(`${name} is empty`);
  const id = Number(raw);
  // Chats cannot be addressed by @username: the emulator's groups and channels have none.
  if (!Number.isSafeInteger(id)) throw badRequest('chat not found');
  return id;
}

/** A group, supergroup or channel (negative chat id) the bot is in right now. */
export function memberGroup({ state, bot }: MethodContext, chatId: number): GroupChat {
  const group = state.group(chatId);
  if (!group) throw badRequest('chat not found');
  const refusal = group.accessError(bot);
  if (refusal) throw refusal;
  return group;
}

/** A chat the bot knows: a user who has talked to the bot, or a group the bot is in. */
export function knownChat(context: MethodContext, name = 'chat_id'): BotChat {
  const { state, bot, params } = context;
  const chatId = chatIdParam(params, name);
  if (chatId < 0) return memberGroup(context, chatId);
  const conversation = state.conversationWith(bot, chatId);
  if (!conversation?.started) throw badRequest('chat not found');
  return conversation;
}

/** A chat the bot may post into right now. */
export function writableChat(context: MethodContext): BotChat {
  const { state, bot, params } = context;
  const chatId = chatIdParam(params, 'chat_id');
  if (chatId < 0) return memberGroup(context, chatId);
  const conversation = state.conversationWith(bot, chatId);
  if (!conversation) throw badRequest('chat not found');
  if (!conversation.started) throw forbidden("bot can't initiate conversation with a user");
  if (conversation.blocked) throw forbidden('bot was blocked by the user');
  return conversation;
}

export function messageIdParam(params: Params): number {
  const id = params.integer('message_id');
  if (id === undefined) throw badRequest('message identifier is not specified');
  return id;
}

export function optionalReplyMarkup(params: Params): ReplyMarkup | undefined {
  return params.has('reply_markup') ? parseReplyMarkup(params.json('reply_markup')) : undefined;
}

/** The message a new message replies to, from reply_parameters or the legacy reply_to_message_id. */
export function replyTarget(chat: BotChat, params: Params): number | undefined {
  const parameters = params.json('reply_parameters', "can't parse reply parameters JSON object");
  let messageId = params.integer('reply_to_message_id');
  let allowMissing = params.boolean('allow_sending_without_reply') ?? false;
  if (typeof parameters === 'object' && parameters !== null) {
    if ('message_id' in parameters && typeof parameters.message_id === 'number') messageId = parameters.message_id;
    if ('allow_sending_without_reply' in parameters) allowMissing = parameters.allow_sending_without_reply === true;
  }
  if (messageId === undefined) return undefined;
  if (chat.live(messageId)) return messageId;
  if (allowMissing) return undefined;
  throw badRequest('message to be replied not found');
}

/** caption / parse_mode / caption_entities as message content fields. */
export function captionContent(params: Params): Pick<MessageContent, 'caption' | 'caption_entities'> {
  const source = params.string('caption');
  if (source === undefined || source === '') return {};
  const { text, entities } = formatText(source, params.string('parse_mode'), params.json('caption_entities'));
  if (text.length > MAX_CAPTION_LENGTH) throw badRequest('message caption is too long');
  return { caption: text, ...(entities.length > 0 ? { caption_entities: entities } : {}) };
}

/** text / parse_mode / entities as message content fields, validated like sendMessage. */
export function textContent(params: Params): Pick<MessageContent, 'text' | 'entities'> {
  const source = params.string('text');
  if (source === undefined || source.trim() === '') throw badRequest('message text is empty');
  const { text, entities } = formatText(source, params.string('parse_mode'), params.json('entities'));
  if (text.trim() === '') throw badRequest('message text is empty');
  if (text.length > MAX_TEXT_LENGTH) throw badRequest('message is too long');
  return { text, ...(entities.length > 0 ? { entities } : {}) };
}
