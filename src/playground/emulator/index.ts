/**
 * A local, in-memory Telegram Bot API emulator over real HTTP, for tests and the playground.
 *
 * Point Telegraf at it with `new Telegraf(token, { telegram: { apiRoot: emu.apiRoot } })`; drive users with
 * {@link EmulatedUser} and groups, supergroups and channels with {@link EmulatedGroup}; measure what the bot
 * sends with `emu.calls()`. Deliberate deviations from real Telegram:
 * - webhooks may be plain http:// and on any port; delivery is sequential (one update in flight per bot)
 *   with retries after 100 ms, doubling up to 2 s, forever (until deleteWebhook or close);
 * - a newer getUpdates call terminates a pending one with 409 Conflict, as Telegram does;
 * - photos are stored as sent (no re-encoding): every photo has exactly two sizes (≤90 px thumbnail and
 *   original) sharing the same bytes, so downloads round-trip byte-exact;
 * - file_ids are valid for every bot, never expire, and a file_id must be sent with the method of its kind;
 * - private chats, groups, supergroups and channels exist, but no forums, chat usernames (chat_id is numeric
 *   only), member joins and leaves other than the bot's, or group migration; a group, supergroup or channel
 *   holds one bot (chosen at createGroup) and its members never change; the bot sees every message in it
 *   (privacy mode off, getMe says can_read_all_group_messages) and may post in a channel as soon as it is added
 *   (as administrator); a group the bot is not in answers 403 "bot is not a member of the … chat" even if the
 *   bot was never in it;
 * - callback queries never expire;
 * - no rate limits unless turned on (`faults.enforceRateLimits`, sliding windows over the real clock, with
 *   Telegram's documented numbers) or injected (`faults.failNext`);
 * - entities users send contain bot_command only (no automatic url/mention/hashtag detection);
 * - the browser-facing JSON API (`/_emulator/...`) covers private chats only.
 */
export { startEmulator, Emulator, type EmulatorOptions, type CreateEmulatedUserOptions } from './server.js';
export type {
  EmulatedUser,
  AlbumItem,
  ButtonMatcher,
  ChatSnapshot,
  ContactInput,
  DocumentInput,
  MessageMatcher,
  PhotoInput,
  SendOptions,
  VideoInput,
  VoiceInput,
  WaitOptions,
} from './client.js';
export type { EmulatedGroup, BotMembership, CreateGroupOptions, GroupType } from './group-client.js';
export type { BotApiCall } from './calls.js';
export type { BotDump, ConversationDump, EmulatorDump, FileStoreDump, GroupDump, UpdateQueueDump } from './dump.js';
export type { FaultError, Faults, HeldCalls } from './faults.js';
export type { RateLimitOptions } from './rate-limits.js';
export type { CreateBotOptions } from './state.js';
export type * from './types.js';
