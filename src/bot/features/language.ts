import { Composer } from 'telegraf';
import { LOCALES } from '../../../machines/definition.js';
import { parse } from '../../ui/callback-data.js';
import { LOCALE_NAMES, t } from '../../ui/i18n.js';
import type { BotContext } from '../context.js';
import { button, inline } from '../keyboards.js';

/**
 * /language, for everyone: a button per supported locale. The choice is kept with the person and wins over
 * their Telegram app's language in everything the bot sends them, outbox messages included.
 */
export const languageFeature = new Composer<BotContext>();

languageFeature.command('language', async (ctx) => {
  const keyboard = [
    LOCALES.map((locale, i) => button(`${locale === ctx.locale ? '✓ ' : ''}${LOCALE_NAMES[locale]}`, { kind: 'language', locale: i })),
  ];
  await ctx.reply(ctx.t('languagePick'), inline(keyboard));
});

languageFeature.on('callback_query', async (ctx, next) => {
  const data = parse('data' in ctx.callbackQuery ? ctx.callbackQuery.data : undefined);
  if (data?.kind !== 'language') return next();
  const locale = LOCALES[data.locale];
  if (!locale) return ctx.answerCbQuery(ctx.t('buttonExpired'));
  await ctx.deps.directory.setLocale(ctx.from, locale);
  ctx.locale = locale;
  await ctx.answerCbQuery();
  await ctx.editMessageText(t(locale, 'languageChosen')).catch(() => {});
});
