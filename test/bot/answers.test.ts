import type { Message } from 'telegraf/types';
import { describe, expect, it } from 'vitest';
import { answerOf, mediaGroupOfMessage } from '../../src/bot/answers.js';

const ME = 42;
const message = (fields: Record<string, unknown>): Message =>
  ({ message_id: 1, date: 0, chat: { id: ME, type: 'private', first_name: 'A' }, ...fields }) as unknown as Message;

describe('answerOf: a client message as an answer', () => {
  it('reads texts, photos (the largest size), documents and contacts', () => {
    expect(answerOf(message({ text: 'Moscow' }), ME)).toEqual({ kind: 'text', text: 'Moscow' });
    expect(
      answerOf(
        message({
          photo: [
            { file_id: 's', file_unique_id: 'us', width: 90, height: 90 },
            { file_id: 'l', file_unique_id: 'ul', width: 900, height: 900, file_size: 5000 },
          ],
        }),
        ME,
      ),
    ).toEqual({ kind: 'photo', fileId: 'l', fileUniqueId: 'ul', mimeType: 'image/jpeg', size: 5000 });
    expect(
      answerOf(message({ document: { file_id: 'd', file_unique_id: 'ud', mime_type: 'application/pdf', file_name: 'scan.pdf' } }), ME),
    ).toEqual({
      kind: 'document',
      fileId: 'd',
      fileUniqueId: 'ud',
      mimeType: 'application/pdf',
      fileName: 'scan.pdf',
    });
  });

  it("takes a shared contact as the client's own only when its user_id is the sender's", () => {
    const contact = (userId?: number) =>
      message({ contact: { phone_number: '+79991234567', first_name: 'A', ...(userId ? { user_id: userId } : {}) } });
    expect(answerOf(contact(ME), ME)).toEqual({ kind: 'contact', phone: '+79991234567', ownContact: true });
    expect(answerOf(contact(7), ME)).toMatchObject({ ownContact: false });
    expect(answerOf(contact(), ME)).toMatchObject({ ownContact: false });
  });

  it('reads a shared location, and a venue as its point', () => {
    expect(answerOf(message({ location: { latitude: 48.85837, longitude: 2.29448 } }), ME)).toEqual({
      kind: 'location',
      latitude: 48.85837,
      longitude: 2.29448,
    });
    const venue = { location: { latitude: 55.7539, longitude: 37.6208 }, title: 'Red Square', address: 'Moscow' };
    expect(answerOf(message({ venue, location: venue.location }), ME)).toEqual({ kind: 'location', latitude: 55.7539, longitude: 37.6208 });
  });

  it('marks album items with their album, and refuses kinds that cannot be answers', () => {
    const item = message({ media_group_id: 'album-1', photo: [{ file_id: 'p', file_unique_id: 'up', width: 1, height: 1 }] });
    expect(mediaGroupOfMessage(item)).toBe('album-1');
    expect(answerOf(item, ME)).toMatchObject({ kind: 'photo', mediaGroupId: 'album-1' });
    expect(answerOf(message({ media_group_id: 'album-2', video: { file_id: 'v' } }), ME)).toEqual({ kind: 'unsupported', what: 'album' });
    for (const what of ['sticker', 'voice', 'video', 'video_note', 'audio'] as const) {
      expect(answerOf(message({ [what]: {} }), ME)).toEqual({ kind: 'unsupported', what });
    }
    expect(answerOf(message({ animation: {}, document: { file_id: 'g', file_unique_id: 'ug' } }), ME)).toEqual({
      kind: 'unsupported',
      what: 'animation',
    });
    expect(answerOf(message({ dice: {} }), ME)).toEqual({ kind: 'unsupported', what: 'other' });
  });
});
