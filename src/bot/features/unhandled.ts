import { Composer } from 'telegraf';
import type { BotContext } from '../context.js';

/** Last: whatever no feature took. Buttons always get an answer (Telegram shows a spinner otherwise). */
export const unhandledFeature = new Composer<BotContext>();

unhandledFeature.on('callback_query', (ctx) => ctx.answerCbQuery(ctx.t('buttonExpired')));
unhandledFeature.on('message', async (ctx) => {
  if (ctx.role !== 'client') await ctx.reply(ctx.t('helpOperator'));
});
