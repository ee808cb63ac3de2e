import type { MiddlewareFn } from 'telegraf';
import { describeMessage, type LoggedMessage } from '../log/messages.js';
import { isClientButton, parse } from '../ui/callback-data.js';
import { localeOf, t } from '../ui/i18n.js';
import type { BotContext, BotDeps } from './context.js';

/** Who is writing: records the person, resolves role and locale, and gives `ctx.t`. */
export function identify(deps: BotDeps): MiddlewareFn<BotContext> {
  return async (ctx, next) => {
    ctx.deps = deps;
    ctx.logged = false;
    ctx.locale = localeOf(ctx.from?.language_code, deps.defaultLocale);
    ctx.t = (key, params) => t(ctx.locale, key, params);
    ctx.role = 'client';
    if (ctx.from) {
      // Recorded first: when the record is due, it reads back the role and the chosen language with it.
      if (!ctx.from.is_bot) await deps.directory.touch(ctx.from);
      ctx.role = await deps.directory.roleOf(ctx.from.id);
      // A language chosen with /language wins over the Telegram app's.
      if (!ctx.from.is_bot) ctx.locale = (await deps.directory.chosenLocale(ctx.from.id)) ?? ctx.locale;
    }
    return next();
  };
}

/** Logs every incoming message and button press that no flow command logged itself. */
export function logIncoming(): MiddlewareFn<BotContext> {
  return async (ctx, next) => {
    try {
      await next();
    } finally {
      if (!ctx.logged) {
        const message = ctx.message ?? ctx.editedMessage;
        const logged = message ? describeMessage(message) : null;
        if (logged) await ctx.deps.messageLog.inbound(logged, { updateId: ctx.update.update_id }).catch(() => {});
        if (ctx.callbackQuery && ctx.from && 'data' in ctx.callbackQuery) {
          const press = pressLogged(ctx.chat?.id ?? ctx.from.id, ctx.callbackQuery.data);
          await ctx.deps.messageLog.inbound(press, { updateId: ctx.update.update_id }).catch(() => {});
        }
      }
    }
  };
}

/** A button press as the message log keeps it: its callback data. */
export function pressLogged(chatId: number, data: string): LoggedMessage {
  return { chatId, kind: 'callback', text: data, fileId: null, fileUniqueId: null, telegramMessageId: null };
}

/**
 * Checked on every press: a client who sends staff callback data (forged, or an old operator
 * message forwarded) gets "not allowed", nothing changes, and it is logged as a security event.
 */
export function guardButtons(): MiddlewareFn<BotContext> {
  return async (ctx, next) => {
    if (!ctx.callbackQuery || !('data' in ctx.callbackQuery)) return next();
    const data = parse(ctx.callbackQuery.data);
    if (data && !isClientButton(data) && ctx.role === 'client') {
      ctx.deps.logger.warn({ security: true, userId: ctx.from?.id, data: ctx.callbackQuery.data }, 'staff button pressed by a client');
      await ctx.answerCbQuery(ctx.t('notAllowed'), { show_alert: true });
      return;
    }
    return next();
  };
}
