// Shared pieces of Bot API method handlers: the call context, chat resolution, replies and captions.
import type { Conversation } from '../conversation.js';
import { badRequest, forbidden } from '../errors.js';
import { formatText } from '../formatting.js';
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

const MAX_TEXT_LENGTH = 4096;
const MAX_CAPTION_LENGTH = 1024;

function chatIdParam(params: Params, name: string): number {
  const raw = params.string(name);
  if (raw === undefined || raw === '') throw badRequest(`${name} is empty`);
  const id = Number(raw);
  // Private chats cannot be addressed by @username.
  if (!Number.isSafeInteger(id)) throw badRequest('chat not found');
  return id;
}

/** A chat the bot knows: the user exists and has talked to the bot. */
export function knownChat({ state, bot, params }: MethodContext, name = 'chat_id'): Conversation {
  const conversation = state.conversationWith(bot, chatIdParam(params, name));
  if (!conversation?.started) throw badRequest('chat not found');
  return conversation;
}

/** A chat the bot may post into right now. */
export function writableChat({ state, bot, params }: MethodContext): Conversation {
  const conversation = state.conversationWith(bot, chatIdParam(params, 'chat_id'));
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
export function replyTarget(conversation: Conversation, params: Params): number | undefined {
  const parameters = params.json('reply_parameters', "can't parse reply parameters JSON object");
  let messageId = params.integer('reply_to_message_id');
  let allowMissing = params.boolean('allow_sending_without_reply') ?? false;
  if (typeof parameters === 'object' && parameters !== null) {
    if ('message_id' in parameters && typeof parameters.message_id === 'number') messageId = parameters.message_id;
    if ('allow_sending_without_reply' in parameters) allowMissing = parameters.allow_sending_without_reply === true;
  }
  if (messageId === undefined) return undefined;
  if (conversation.live(messageId)) return messageId;
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
