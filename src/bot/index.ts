import { session, Telegraf } from 'telegraf';
import type { BotCommand, Update } from 'telegraf/types';
import { LOCALES, type Locale } from '../../machines/definition.js';
import type { Db } from '../db/client.js';
import { sessionStore } from '../db/session-store.js';
import type { TelegramGate } from '../delivery/telegram.js';
import { parse, type CallbackKind } from '../ui/callback-data.js';
import { t } from '../ui/i18n.js';
import type { BotContext, BotDeps, SessionData } from './context.js';
import { adminFeature } from './features/admin.js';
import { cardActionsFeature } from './features/card-actions.js';
import { clientFeature } from './features/client.js';
import { conversationFeature } from './features/conversation.js';
import { exportFeature } from './features/export.js';
import { languageFeature } from './features/language.js';
import { membershipFeature } from './features/membership.js';
import { operatorMenuFeature } from './features/operator-menu.js';
import { guardOwnership, ownershipFeature } from './features/ownership.js';
import { reviewFeature } from './features/review.js';
import { unhandledFeature } from './features/unhandled.js';
import { guardButtons, identify, logIncoming } from './middleware.js';

export interface CreateBotOptions extends BotDeps {
  readonly token: string;
  /** A Bot API server root other than Telegram's (a local server or the emulator). */
  readonly apiRoot?: string | undefined;
  /** Where menu sessions are kept. */
  readonly db: Db;
  /** Paces and logs every message the bot sends (shared with the outbox sender). */
  readonly gate: TelegramGate;
}

/**
 * The Telegraf bot with every feature registered. Updates come through the inbox (`handleUpdate`),
 * which applies each chat's updates one at a time, in order (but see `laneKeyOf`).
 */
export function createBot(options: CreateBotOptions): Telegraf<BotContext> {
  const bot = new Telegraf<BotContext>(options.token, {
    ...(options.apiRoot ? { telegram: { apiRoot: options.apiRoot } } : {}),
    handlerTimeout: 60_000,
  });
  // Messages the bot sends directly (menus, replies) are paced and logged too. Telegraf gives every
  // update a Telegram client of its own, so each one is wrapped, as well as `bot.telegram`.
  options.gate.wrap(bot.telegram, options.messageLog);
  bot.use((ctx, next) => {
    options.gate.wrap(ctx.telegram, options.messageLog);
    return next();
  });

  bot.use(identify(options));
  bot.use(logIncoming());
  bot.use(
    session<SessionData, BotContext>({
      store: sessionStore<SessionData>(options.db),
      defaultSession: () => ({}),
      // Menu state per staff member; clients have no menus, so their updates skip the session's reads and writes.
      getSessionKey: (ctx) =>
        ctx.from && (ctx.role === 'operator' || ctx.role === 'admin') && !sessionless(ctx) ? String(ctx.from.id) : undefined,
    }),
  );
  bot.use(guardButtons());
  bot.use(guardOwnership());
  bot.use(membershipFeature);
  bot.use(languageFeature);
  bot.use(adminFeature);
  bot.use(ownershipFeature);
  bot.use(conversationFeature);
  bot.use(operatorMenuFeature);
  bot.use(cardActionsFeature);
  bot.use(reviewFeature);
  bot.use(clientFeature);
  bot.use(exportFeature({ db: options.db }));
  bot.use(unhandledFeature);

  // A failed update is not lost: the inbox keeps it and applies it again later (the person is told once
  // that it will be processed shortly). So the error goes back to the inbox, never to the person.
  bot.catch((error) => {
    throw error;
  });
  return bot;
}

/**
 * Staff presses whose handlers (src/bot/features/operator-menu.ts, ownership.ts, dashboard.ts, cards.ts)
 * never read or write `ctx.session`: their updates skip its read and write (one statement each). Only
 * these; a handler that starts using the session must leave this list (it also lets a press run beside
 * presses on other messages of its chat: see `laneKeyOf`). Typed text always reads it (it
 * may answer a search, a reason or a reply), and so do the presses that set or clear what it awaits.
 */
const SESSIONLESS_PRESSES: ReadonlySet<CallbackKind> = new Set<CallbackKind>([
  'send',
  'client',
  'clients',
  'history',
  'historyPage',
  'historyFile',
  'reviews',
  'active',
  'attention',
  'unassigned',
  'take',
  'handOver',
  'handOverTo',
  'invite',
  'inviteNew',
  'inviteWith',
  'catalogue',
  'reload',
]);

/**
 * The inbox's sub-lane for an update in its chat: the message a sessionless staff press was made on (a press on
 * one client's card need not wait for a press on another's; two presses on one message, such as a double tap on
 * a list that turns into a card, stay in order), or null, for an update that keeps its chat's full order (typed
 * text, commands, presses that read or write the menu session). Commands on one client from two messages are
 * ordered by the client's row lock. A client who forges staff callback data is refused by `guardButtons`
 * whichever lane the press runs in.
 */
export function laneKeyOf(update: Update): number | null {
  if (!('callback_query' in update) || !('data' in update.callback_query)) return null;
  const data = parse(update.callback_query.data);
  const message = update.callback_query.message;
  return data !== null && SESSIONLESS_PRESSES.has(data.kind) && message ? message.message_id : null;
}

function sessionless(ctx: BotContext): boolean {
  const data = ctx.callbackQuery && 'data' in ctx.callbackQuery ? parse(ctx.callbackQuery.data) : null;
  return data !== null && SESSIONLESS_PRESSES.has(data.kind);
}

/** Commands shown in Telegram's menu: clients see /start, /help and /language; staff also /menu and /export (admins more). */
export async function registerCommands(
  bot: Telegraf<BotContext>,
  staff: { operators: readonly number[]; admins: readonly number[] },
  defaultLocale: Locale,
): Promise<void> {
  const clientCommands = (locale: Locale): BotCommand[] => [
    { command: 'start', description: t(locale, 'cmd_start') },
    { command: 'help', description: t(locale, 'cmd_help') },
    { command: 'language', description: t(locale, 'cmd_language') },
  ];
  for (const locale of LOCALES) await bot.telegram.setMyCommands(clientCommands(locale), { language_code: locale });
  await bot.telegram.setMyCommands(clientCommands(defaultLocale));
  const staffCommands = (locale: Locale, admin: boolean): BotCommand[] => [
    { command: 'menu', description: t(locale, 'cmd_menu') },
    { command: 'help', description: t(locale, 'cmd_help') },
    { command: 'export', description: t(locale, 'cmd_export') },
    { command: 'language', description: t(locale, 'cmd_language') },
    ...(admin
      ? [
          { command: 'operators', description: t(locale, 'cmd_operators') },
          { command: 'failed', description: t(locale, 'cmd_failed') },
          { command: 'deliveries', description: t(locale, 'cmd_deliveries') },
        ]
      : []),
  ];
  for (const id of new Set([...staff.operators, ...staff.admins])) {
    const admin = staff.admins.includes(id);
    try {
      for (const locale of LOCALES) {
        await bot.telegram.setMyCommands(staffCommands(locale, admin), { scope: { type: 'chat', chat_id: id }, language_code: locale });
      }
      await bot.telegram.setMyCommands(staffCommands(defaultLocale, admin), { scope: { type: 'chat', chat_id: id } });
    } catch {
      // A staff member who never opened the bot has no chat yet: Telegram refuses, and that is fine.
    }
  }
}
