import type { Message } from 'telegraf/types';
import type { Answer } from '../../machines/steps.js';

/**
 * The album a message is one item of: Telegram delivers an album as separate messages that share
 * a `media_group_id`.
 */
export function mediaGroupOfMessage(message: Message): string | undefined {
  return 'media_group_id' in message && typeof message.media_group_id === 'string' && message.media_group_id !== ''
    ? message.media_group_id
    : undefined;
}

/**
 * The answer a client message stands for, as the flow machines understand it. A photo or document
 * from an album carries the album's id (the machine takes its first item and ignores the others);
 * a shared contact says whether it is the sender's own; a shared location (or venue) is its point.
 */
export function answerOf(message: Message, fromId: number): Answer {
  const album = mediaGroupOfMessage(message);
  const inAlbum = album === undefined ? {} : { mediaGroupId: album };
  if (album !== undefined && !('photo' in message) && !('document' in message)) {
    return { kind: 'unsupported', what: 'album' };
  }
  if ('text' in message) return { kind: 'text', text: message.text };
  if ('photo' in message) {
    const largest = message.photo.at(-1);
    if (!largest) return { kind: 'unsupported', what: 'other' };
    return {
      kind: 'photo',
      fileId: largest.file_id,
      fileUniqueId: largest.file_unique_id,
      mimeType: 'image/jpeg',
      ...(largest.file_size ? { size: largest.file_size } : {}),
      ...inAlbum,
    };
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
      ...inAlbum,
    };
  }
  // Only the client's own contact is their phone number: a contact without `user_id` (not on
  // Telegram) or with someone else's is not.
  if ('contact' in message) return { kind: 'contact', phone: message.contact.phone_number, ownContact: message.contact.user_id === fromId };
  // A venue carries its point in `location` too.
  if ('location' in message) return { kind: 'location', latitude: message.location.latitude, longitude: message.location.longitude };
  for (const what of ['sticker', 'voice', 'video', 'video_note', 'audio', 'animation'] as const) {
    if (what in message) return { kind: 'unsupported', what };
  }
  return { kind: 'unsupported', what: 'other' };
}
