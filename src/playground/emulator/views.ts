// Human-facing views of a chat: ChatMessage objects and the readable transcript used in test failures.
import type { ChatRecord, StoredMessage } from './chat.js';
import type { ChatMessage, MessageContent, ReplyMarkup } from './types.js';

export function toChatMessage(message: StoredMessage): ChatMessage {
  const content = message.content;
  const file = content.document ?? content.video ?? content.voice;
  const entities = content.entities ?? content.caption_entities;
  const view: ChatMessage = {
    messageId: message.id,
    from: message.sender,
    fromUserId: message.fromUserId,
    date: message.date,
    text: content.text,
    caption: content.caption,
    entities: entities && entities.length > 0 ? structuredClone(entities) : undefined,
    parseMode: message.parseMode,
    photo: content.photo?.at(-1)?.file_id,
    document: content.document?.file_id,
    voice: content.voice?.file_id,
    video: content.video?.file_id,
    sticker: content.sticker?.file_id,
    fileName: file && 'file_name' in file ? file.file_name : undefined,
    mimeType: file?.mime_type,
    contact: content.contact,
    location: content.location,
    newChatMembers: content.new_chat_members ? structuredClone(content.new_chat_members) : undefined,
    mediaGroupId: message.mediaGroupId,
    replyMarkup: message.replyMarkup ? structuredClone(message.replyMarkup) : undefined,
    replyToMessageId: message.replyToId,
    forwarded: message.forwardOrigin ? true : undefined,
    editCount: message.editCount,
    deleted: message.deleted,
  };
  return withoutUndefined(view);
}

/** The whole chat, every side, with button presses and answers, as readable lines. */
export function transcript(chat: ChatRecord): string {
  const entries: Array<{ seq: number; lines: string[] }> = chat.messages.map((message) => ({
    seq: message.createdSeq,
    lines: describeMessage(message, message.sender === 'bot' ? 'bot' : chat.nameOf(message.fromUserId)),
  }));
  for (const query of chat.callbackQueries) {
    const { answer } = query;
    const outcome = answer
      ? `answered${answer.text !== undefined ? ` "${answer.text}"` : ''}${answer.showAlert ? ' (alert)' : ''}`
      : 'not answered';
    const line = `  ${chat.nameOf(query.fromUserId)} pressed [${query.buttonText}] on #${query.messageId} → ${outcome}`;
    entries.push({ seq: query.seq, lines: [line] });
  }
  entries.sort((a, b) => a.seq - b.seq);
  const body = entries.flatMap((entry) => entry.lines);
  return [chat.heading(), ...(body.length > 0 ? body : ['  (no messages)'])].join('\n');
}

function describeMessage(message: StoredMessage, sender: string): string[] {
  const flags = [
    message.editCount > 0 ? `edited ×${message.editCount}` : '',
    message.deleted ? 'deleted' : '',
    message.forwardOrigin ? 'forwarded' : '',
    message.replyToId !== undefined ? `reply to #${message.replyToId}` : '',
  ].filter(Boolean);
  const flagged = flags.length > 0 ? ` (${flags.join(', ')})` : '';
  const head = `#${message.id} ${sender}${flagged}: ${describeContent(message.content)}`;
  const markup = describeMarkup(message.replyMarkup);
  return [head, ...(markup ? [`    ${markup}`] : [])];
}

function describeContent(content: MessageContent): string {
  const parts: string[] = [];
  if (content.text !== undefined) parts.push(content.text);
  if (content.photo) {
    const largest = content.photo.at(-1);
    parts.push(`[photo ${largest?.width ?? 0}x${largest?.height ?? 0}]`);
  }
  if (content.document) {
    const { file_name, mime_type, file_size } = content.document;
    parts.push(`[document ${file_name ?? 'unnamed'} (${mime_type ?? 'unknown type'}, ${file_size} bytes)]`);
  }
  if (content.voice) parts.push(`[voice ${content.voice.duration}s]`);
  if (content.video) parts.push(`[video ${content.video.duration}s]`);
  if (content.sticker) parts.push(`[sticker ${content.sticker.emoji ?? ''}]`);
  if (content.contact) parts.push(`[contact ${content.contact.first_name} ${content.contact.phone_number}]`);
  if (content.location) parts.push(`[location ${content.location.latitude},${content.location.longitude}]`);
  if (content.new_chat_members) {
    parts.push(`[joined: ${content.new_chat_members.map((user) => user.first_name).join(', ')}]`);
  }
  if (content.caption !== undefined) parts.push(`caption: ${content.caption}`);
  return parts.join(' ');
}

function describeMarkup(markup: ReplyMarkup | undefined): string | undefined {
  if (!markup) return undefined;
  if ('inline_keyboard' in markup) {
    return markup.inline_keyboard.map((row) => row.map((button) => `[${button.text}]`).join(' ')).join(' / ');
  }
  if ('keyboard' in markup) {
    return `keyboard: ${markup.keyboard.map((row) => row.map((button) => `[${button.text}]`).join(' ')).join(' / ')}`;
  }
  return 'remove_keyboard' in markup ? '(keyboard removed)' : '(force reply)';
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as T;
}
