import type { Message } from 'telegraf/types';
import type { Answer } from '../../machines/steps.js';

/** The answer a client message stands for, as the flow machines understand it. */
export function answerOf(message: Message, fromId: number): Answer {
  if ('media_group_id' in message && message.media_group_id && !('photo' in message) && !('document' in message)) {
    return { kind: 'unsupported', what: 'album' };
  }
  if ('text' in message) return { kind: 'text', text: message.text };
  if ('photo' in message) {
    const largest = message.photo.at(-1);
    if (!largest) return { kind: 'unsupported', what: 'other' };
    return { kind: 'photo', fileId: largest.file_id, fileUniqueId: largest.file_unique_id, mimeType: 'image/jpeg', ...(largest.file_size ? { size: largest.file_size } : {}) };
  }
  // An animation also carries a `document`: it is not a file answer.
  if ('animation' in message) return { kind: 'unsupported', what: 'animation' };
  if ('document' in message) {
    const d = message.document;
    return {
      kind: 'document',
      fileId: d.file_id,
      fileUniqueId: d.file_unique_id,
      ...(d.mime_type ? { mimeType: d.mime_type } : {}),
      ...(d.file_size ? { size: d.file_size } : {}),
      ...(d.file_name ? { fileName: d.file_name } : {}),
    };
  }
  if ('contact' in message) return { kind: 'contact', phone: message.contact.phone_number, ownContact: message.contact.user_id === fromId };
  for (const what of ['sticker', 'voice', 'video', 'video_note', 'audio', 'animation', 'location'] as const) {
    if (what in message) return { kind: 'unsupported', what };
  }
  return { kind: 'unsupported', what: 'other' };
}
