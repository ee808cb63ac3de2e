/**
 * A local, in-memory Telegram Bot API emulator over real HTTP, for tests and the playground.
 *
 * Point Telegraf at it with `new Telegraf(token, { telegram: { apiRoot: emu.apiRoot } })`; drive users with
 * {@link EmulatedUser}. Deliberate deviations from real Telegram:
 * - webhooks may be plain http:// and on any port; delivery is sequential (one update in flight per bot)
 *   with retries after 100 ms, doubling up to 2 s, forever (until deleteWebhook or close);
 * - a newer getUpdates call terminates a pending one with 409 Conflict, as Telegram does;
 * - photos are stored as sent (no re-encoding): every photo has exactly two sizes (≤90 px thumbnail and
 *   original) sharing the same bytes, so downloads round-trip byte-exact;
 * - file_ids are valid for every bot, never expire, and a file_id must be sent with the method of its kind;
 * - only private chats exist; callback queries never expire; no rate limits unless injected via `faults`;
 * - entities users send contain bot_command only (no automatic url/mention/hashtag detection).
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
export type { BotDump, ConversationDump, EmulatorDump, FileStoreDump, UpdateQueueDump } from './dump.js';
export type { FaultError, Faults } from './faults.js';
export type { CreateBotOptions } from './state.js';
export type * from './types.js';
