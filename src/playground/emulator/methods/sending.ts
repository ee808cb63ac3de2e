// sendMessage, send<Media>, sendMediaGroup, copyMessage, forwardMessage.
import { randomInt } from 'node:crypto';
import { z } from 'zod';
import { badRequest } from '../errors.js';
import type { FileKind, FileMeta } from '../files.js';
import { Params } from '../params.js';
import type { MessageOrigin, TgMessage } from '../types.js';
import {
  captionContent,
  knownChat,
  messageIdParam,
  optionalReplyMarkup,
  replyTarget,
  textContent,
  writableChat,
  type MethodContext,
  type MethodHandler,
} from './context.js';
import { fileContent, resolveInputFile, resolveReference } from './inputs.js';

const MAX_ALBUM_SIZE = 10;

const inputMediaSchema = z.array(
  z.looseObject({
    type: z.enum(['photo', 'video', 'document']),
    media: z.string(),
    caption: z.string().optional(),
    parse_mode: z.string().optional(),
    caption_entities: z.unknown().optional(),
  }),
);

function sendMessage(context: MethodContext): TgMessage {
  const { state, params } = context;
  const conversation = writableChat(context);
  const content = textContent(params);
  const message = state.addMessage(conversation, {
    sender: 'bot',
    content,
    parseMode: params.string('parse_mode'),
    replyMarkup: optionalReplyMarkup(params),
    replyToId: replyTarget(conversation, params),
  });
  return conversation.toWire(message);
}

function sendFile(kind: FileKind): MethodHandler {
  return async (context: MethodContext): Promise<TgMessage> => {
    const { state, params } = context;
    const conversation = writableChat(context);
    const replyMarkup = optionalReplyMarkup(params);
    const replyToId = replyTarget(conversation, params);
    const caption = kind === 'sticker' ? {} : captionContent(params);
    const file = await resolveInputFile(state.files, kind, params, kind, declaredMeta(params));
    const message = state.addMessage(conversation, {
      sender: 'bot',
      content: { ...fileContent(file), ...caption },
      parseMode: params.string('parse_mode'),
      replyMarkup,
      replyToId,
    });
    return conversation.toWire(message);
  };
}

/** The duration/width/height a bot declares for an uploaded voice or video are what Telegram reports back. */
function declaredMeta(params: Params): FileMeta {
  const meta: FileMeta = {};
  for (const key of ['duration', 'width', 'height'] as const) {
    const value = params.integer(key);
    if (value !== undefined) meta[key] = value;
  }
  return meta;
}

async function sendMediaGroup(context: MethodContext): Promise<TgMessage[]> {
  const { state, params } = context;
  const conversation = writableChat(context);
  if (!params.has('media')) throw badRequest('parameter "media" is required');
  const parsed = inputMediaSchema.safeParse(params.json('media', "can't parse media JSON object"));
  if (!parsed.success) throw badRequest("can't parse media JSON object");
  const items = parsed.data;
  if (items.length === 0) throw badRequest('media to send are not specified');
  if (items.length > MAX_ALBUM_SIZE) throw badRequest('too many messages to send as an album');
  const replyToId = replyTarget(conversation, params);
  const prepared = [];
  for (const item of items) {
    const file = await resolveReference(state.files, item.type, item.media, params);
    prepared.push({ file, caption: captionContent(Params.fromObject(item)), parseMode: item.parse_mode });
  }
  const mediaGroupId = String(randomInt(10 ** 14, 2 ** 47));
  return prepared.map(({ file, caption, parseMode }) => {
    const message = state.addMessage(conversation, {
      sender: 'bot',
      content: { ...fileContent(file), ...caption },
      parseMode,
      replyToId,
      mediaGroupId,
    });
    return conversation.toWire(message);
  });
}

/** The message to copy or forward; like Telegram, service messages (someone joined) can be neither. */
function sourceMessage(context: MethodContext, missing: string, refused: string) {
  const source = knownChat(context, 'from_chat_id');
  const message = source.live(messageIdParam(context.params));
  if (!message) throw badRequest(missing);
  if (message.content.new_chat_members) throw badRequest(refused);
  return { source, message };
}

function copyMessage(context: MethodContext): { message_id: number } {
  const { state, params } = context;
  const target = writableChat(context);
  const { message: original } = sourceMessage(context, 'message to copy not found', "message can't be copied");
  const content = structuredClone(original.content);
  if (params.has('caption') && content.text === undefined) {
    delete content.caption;
    delete content.caption_entities;
    Object.assign(content, captionContent(params));
  }
  const message = state.addMessage(target, {
    sender: 'bot',
    content,
    parseMode: params.has('caption') ? params.string('parse_mode') : original.parseMode,
    replyMarkup: optionalReplyMarkup(params),
    replyToId: replyTarget(target, params),
  });
  return { message_id: message.id };
}

function forwardMessage(context: MethodContext): TgMessage {
  const { state } = context;
  const target = writableChat(context);
  const { source, message: original } = sourceMessage(context, 'message to forward not found', "message can't be forwarded");
  const origin: MessageOrigin =
    source.chat.type === 'channel'
      ? { type: 'channel', chat: source.chat, message_id: original.id, date: original.date }
      : { type: 'user', sender_user: source.author(original), date: original.date };
  const message = state.addMessage(target, {
    sender: 'bot',
    content: structuredClone(original.content),
    forwardOrigin: original.forwardOrigin ?? origin,
  });
  return target.toWire(message);
}

export const sendingMethods: Record<string, MethodHandler> = {
  sendMessage,
  sendPhoto: sendFile('photo'),
  sendDocument: sendFile('document'),
  sendVoice: sendFile('voice'),
  sendVideo: sendFile('video'),
  sendSticker: sendFile('sticker'),
  sendMediaGroup,
  copyMessage,
  forwardMessage,
};
