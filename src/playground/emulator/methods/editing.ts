// editMessageText, editMessageCaption, editMessageReplyMarkup, deleteMessage.
import { isDeepStrictEqual } from 'node:util';
import type { StoredMessage } from '../chat.js';
import { badRequest, NOT_MODIFIED } from '../errors.js';
import { GroupChat } from '../group.js';
import { parseInlineMarkup, type InlineKeyboardMarkup } from '../markup.js';
import type { MessagePatch } from '../state.js';
import type { MessageContent, TgMessage } from '../types.js';
import {
  captionContent,
  knownChat,
  messageIdParam,
  textContent,
  writableChat,
  type BotChat,
  type MethodContext,
  type MethodHandler,
} from './context.js';

/** The bot's own message addressed by chat_id + message_id. */
function messageToEdit(context: MethodContext): { conversation: BotChat; message: StoredMessage } {
  if (context.params.has('inline_message_id')) throw badRequest('MESSAGE_ID_INVALID');
  const conversation = writableChat(context);
  const message = conversation.live(messageIdParam(context.params));
  if (!message) throw badRequest('message to edit not found');
  if (message.sender !== 'bot') throw badRequest("message can't be edited");
  return { conversation, message };
}

// Like Telegram, an edit without reply_markup removes the inline keyboard.
function editedMarkup(context: MethodContext): InlineKeyboardMarkup | undefined {
  return context.params.has('reply_markup') ? parseInlineMarkup(context.params.json('reply_markup')) : undefined;
}

function applyEdit(
  context: MethodContext,
  target: ReturnType<typeof messageToEdit>,
  content: MessageContent,
  formatting: Pick<MessagePatch, 'parseMode'> = {},
): TgMessage {
  const { conversation, message } = target;
  const replyMarkup = editedMarkup(context);
  const current = message.replyMarkup;
  // A reply keyboard was never part of the message itself, so edits neither compare nor drop it.
  const currentInline = current && 'inline_keyboard' in current ? current : undefined;
  const unchanged = isDeepStrictEqual(content, message.content) && isDeepStrictEqual(replyMarkup, currentInline);
  if (unchanged) throw badRequest(NOT_MODIFIED);
  const patch: MessagePatch = { content, replyMarkup: replyMarkup ?? (currentInline ? undefined : current) };
  context.state.editMessage(conversation, message, { ...patch, ...formatting });
  return conversation.toWire(message);
}

function newParseMode(context: MethodContext): Pick<MessagePatch, 'parseMode'> {
  return { parseMode: context.params.string('parse_mode') };
}

function editMessageText(context: MethodContext): TgMessage {
  const target = messageToEdit(context);
  const { text: _text, entities: _entities, ...rest } = target.message.content;
  if (_text === undefined) throw badRequest('there is no text in the message to edit');
  return applyEdit(context, target, { ...rest, ...textContent(context.params) }, newParseMode(context));
}

function editMessageCaption(context: MethodContext): TgMessage {
  const target = messageToEdit(context);
  const { caption: _caption, caption_entities: _entities, ...rest } = target.message.content;
  if (rest.text !== undefined) throw badRequest('there is no caption in the message to edit');
  return applyEdit(context, target, { ...rest, ...captionContent(context.params) }, newParseMode(context));
}

function editMessageReplyMarkup(context: MethodContext): TgMessage {
  const target = messageToEdit(context);
  return applyEdit(context, target, target.message.content);
}

function deleteMessage(context: MethodContext): true {
  const conversation = knownChat(context);
  const message = conversation.live(messageIdParam(context.params));
  if (!message) throw badRequest('message to delete not found');
  // In groups, only administrators may delete other people's messages.
  const isAdmin = !(conversation instanceof GroupChat) || conversation.botStatus === 'administrator';
  if (message.sender === 'user' && !isAdmin) throw badRequest("message can't be deleted");
  context.state.deleteMessage(conversation, message);
  return true;
}

export const editingMethods: Record<string, MethodHandler> = {
  editMessageText,
  editMessageCaption,
  editMessageReplyMarkup,
  deleteMessage,
};
