import { describe, expect, it } from 'vitest';
import type { Update } from 'telegraf/types';
import { kindOf, parseUpdate, routeOf, stripNul } from '../../src/inbox/updates.js';

const user = { id: 42, is_bot: false, first_name: 'Anna', language_code: 'en' };
const message = (chat: { id: number; type: string }, text = 'hi') =>
  ({ update_id: 1, message: { message_id: 1, date: 0, chat, from: user, text } }) as unknown as Update;

describe('incoming updates', () => {
  it('takes only JSON objects with an integer update_id', () => {
    for (const bad of [null, [], {}, 'update', 7, { update_id: -1 }, { update_id: 1.5 }, { update_id: '1' }]) {
      expect(parseUpdate(bad).ok, JSON.stringify(bad)).toBe(false);
    }
    expect(parseUpdate({ update_id: 5, message: { text: 'x' } })).toEqual({ ok: true, update: { update_id: 5, message: { text: 'x' } } });
  });

  it('routes private chats to the inbox, drops groups and channels, and leaves a group it was added to', () => {
    expect(routeOf(message({ id: 42, type: 'private' }))).toEqual({ kind: 'private', chatId: 42 });
    for (const type of ['group', 'supergroup', 'channel'])
      expect(routeOf(message({ id: -100, type }))).toEqual({ kind: 'dropped', reason: 'not_private' });
    const press = {
      update_id: 2,
      callback_query: {
        id: 'q',
        from: user,
        chat_instance: 'c',
        data: 'x',
        message: { message_id: 3, date: 0, chat: { id: -5, type: 'group' } },
      },
    };
    expect(routeOf(press as unknown as Update)).toEqual({ kind: 'dropped', reason: 'not_private' });
    const added = (status: string, type = 'group') =>
      ({
        update_id: 3,
        my_chat_member: { chat: { id: -7, type }, from: user, date: 0, old_chat_member: { status: 'left' }, new_chat_member: { status } },
      }) as unknown as Update;
    expect(routeOf(added('member'))).toEqual({ kind: 'joined_group', chatId: -7, languageCode: 'en' });
    expect(routeOf(added('administrator', 'channel'))).toEqual({ kind: 'joined_group', chatId: -7, languageCode: 'en' });
    expect(routeOf(added('left'))).toEqual({ kind: 'dropped', reason: 'not_private' });
    expect(routeOf(added('kicked', 'private'))).toEqual({ kind: 'private', chatId: -7 });
    expect(routeOf({ update_id: 4, inline_query: { id: 'i', from: user, query: '', offset: '' } })).toEqual({
      kind: 'dropped',
      reason: 'no_chat',
    });
    expect(kindOf(press as unknown as Update)).toBe('callback_query');
  });

  it('removes NUL characters, which PostgreSQL cannot store, from every string', () => {
    const update = message({ id: 42, type: 'private' }, 'Ann\u0000a');
    expect(stripNul(update)).toEqual(message({ id: 42, type: 'private' }, 'Anna'));
    expect(stripNul({ a: ['x\u0000', 1, null, { b: '\u0000\u0000' }] })).toEqual({ a: ['x', 1, null, { b: '' }] });
  });
});
