import { describe, expect, it } from 'vitest';
import { describeMessage } from '../../src/log/messages.js';

const base = { message_id: 7, date: 0, chat: { id: 42, type: 'private' } };

describe('describeMessage', () => {
  it('turns each kind of message into one loggable row', () => {
    expect(describeMessage({ ...base, text: 'Anna' })).toEqual({
      chatId: 42,
      telegramMessageId: 7,
      kind: 'text',
      text: 'Anna',
      fileId: null,
      fileUniqueId: null,
    });
    expect(describeMessage({ ...base, text: '/start abc' })?.kind).toBe('command');
    expect(
      describeMessage({
        ...base,
        caption: 'front',
        photo: [
          { file_id: 'small', file_unique_id: 's' },
          { file_id: 'large', file_unique_id: 'l' },
        ],
      }),
    ).toMatchObject({ kind: 'photo', text: 'front', fileId: 'large', fileUniqueId: 'l' });
    expect(describeMessage({ ...base, document: { file_id: 'd', file_unique_id: 'ud' } })).toMatchObject({ kind: 'document', fileId: 'd' });
    expect(
      describeMessage({ ...base, animation: { file_id: 'a', file_unique_id: 'ua' }, document: { file_id: 'a', file_unique_id: 'ua' } })
        ?.kind,
    ).toBe('animation');
    expect(describeMessage({ ...base, contact: { phone_number: '+79991234567', first_name: 'A' } })).toMatchObject({
      kind: 'contact',
      text: '+79991234567',
    });
    expect(describeMessage({ ...base, contact: { phone_number: { not: 'a string' } } })).toMatchObject({ kind: 'contact', text: '' });
    expect(describeMessage({ ...base, location: { latitude: 55.75, longitude: 37.62 } })).toMatchObject({
      kind: 'location',
      text: '55.75,37.62',
    });
    expect(describeMessage({ ...base, dice: { emoji: '🎲', value: 3 } })).toMatchObject({ kind: 'other', text: null });
  });

  it('is null for what is not a message (a Bot API result like true, or a malformed object)', () => {
    for (const value of [true, null, undefined, 'text', {}, { message_id: 'x', chat: { id: 1 } }, { message_id: 1 }]) {
      expect(describeMessage(value)).toBeNull();
    }
  });
});
