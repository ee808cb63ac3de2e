import type { Update } from 'telegraf/types';
import { z } from 'zod';

/**
 * The least an update must be to be taken: a JSON object with a non-negative integer `update_id`.
 * Everything else in it is Telegram's; handlers read it through Telegraf's types.
 */
const updateSchema = z.looseObject({ update_id: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER) });

/** An update as received, or why it cannot be one. */
export function parseUpdate(value: unknown): { ok: true; update: Update } | { ok: false; error: string } {
  const parsed = updateSchema.safeParse(value);
  if (!parsed.success) return { ok: false, error: 'not a Telegram update (a JSON object with an integer update_id)' };
  return { ok: true, update: parsed.data as unknown as Update };
}

/** Where an update belongs: a private chat (it enters the inbox), a group the bot was added to, or nowhere. */
export type Route =
  | { readonly kind: 'private'; readonly chatId: number }
  | { readonly kind: 'joined_group'; readonly chatId: number; readonly languageCode: string | undefined }
  | { readonly kind: 'dropped'; readonly reason: 'not_private' | 'no_chat' };

interface ChatLike {
  readonly id: number;
  readonly type: string;
}

/**
 * The bot acts in private chats only: updates from groups, supergroups and channels are dropped before
 * anything else runs. Being added to one is the exception: the bot says so once and leaves.
 */
export function routeOf(update: Update): Route {
  const u = update as unknown as Partial<Record<string, unknown>>;
  const member = u.my_chat_member as
    { chat?: ChatLike; from?: { language_code?: string }; new_chat_member?: { status?: string } } | undefined;
  if (member?.chat) {
    if (member.chat.type === 'private') return { kind: 'private', chatId: member.chat.id };
    const status = member.new_chat_member?.status;
    return status === 'member' || status === 'administrator' || status === 'restricted'
      ? { kind: 'joined_group', chatId: member.chat.id, languageCode: member.from?.language_code }
      : { kind: 'dropped', reason: 'not_private' };
  }
  const chat = chatOf(u);
  if (!chat) return { kind: 'dropped', reason: 'no_chat' };
  return chat.type === 'private' && Number.isSafeInteger(chat.id)
    ? { kind: 'private', chatId: chat.id }
    : { kind: 'dropped', reason: 'not_private' };
}

function chatOf(u: Partial<Record<string, unknown>>): ChatLike | undefined {
  for (const key of [
    'message',
    'edited_message',
    'channel_post',
    'edited_channel_post',
    'chat_member',
    'chat_join_request',
    'message_reaction',
  ]) {
    const chat = (u[key] as { chat?: ChatLike } | undefined)?.chat;
    if (chat) return chat;
  }
  const query = u.callback_query as { message?: { chat?: ChatLike } } | undefined;
  return query?.message?.chat;
}

/** The kind of an update, for counters and logs (never its content). */
export function kindOf(update: Update): string {
  return Object.keys(update).find((key) => key !== 'update_id') ?? 'empty';
}

/**
 * PostgreSQL text and jsonb cannot hold a NUL character: one in a message would make every write of it
 * fail. Removed from every string of the update as it arrives.
 */
export function stripNul<T>(value: T): T {
  if (typeof value === 'string') return (value.includes('\u0000') ? value.replaceAll('\u0000', '') : value) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => stripNul(item)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, stripNul(item)])) as T;
  }
  return value;
}
