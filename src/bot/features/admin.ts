import { Composer } from 'telegraf';
import { parse, pack } from '../../ui/callback-data.js';
import { displayName, html } from '../../ui/format.js';
import { isAdmin, type BotContext } from '../context.js';

/** Admins add and remove operators: /operators, /addoperator <id>, /removeoperator <id>. */
const admin = new Composer<BotContext>();

admin.command('operators', async (ctx) => {
  const ids = await ctx.deps.directory.staffIds();
  const lines = [`<b>${ctx.t('operatorsTitle')}</b>`];
  for (const id of ids) {
    const person = await ctx.deps.directory.get(id);
    lines.push(`• ${person ? displayName(person) : ''} <code>${id}</code>`);
  }
  lines.push('', ctx.t('usageOperator'));
  await ctx.reply(lines.join('\n'), { parse_mode: 'HTML' });
});

for (const [command, enabled] of [['addoperator', true], ['removeoperator', false]] as const) {
  admin.command(command, async (ctx) => {
    const arg = ctx.payload.trim();
    if (!/^[1-9]\d{0,15}$/.test(arg)) {
      await ctx.reply(ctx.t('usageOperator'));
      return;
    }
    const id = Number(arg);
    const result = await ctx.deps.directory.setOperator(id, enabled);
    if (result === 'from_environment') await ctx.reply(ctx.t('fromEnvironment'));
    else await ctx.reply(ctx.t(enabled ? 'operatorAdded' : 'operatorRemoved', { id }));
    ctx.deps.logger.info({ adminId: ctx.from.id, operatorId: id, enabled }, 'operator list changed');
  });
}

/** Updates that failed too often (dead letters): how many, of which kinds, and a button to try them all again. */
admin.command('failed', async (ctx) => {
  const inbox = ctx.deps.inbox?.();
  if (!inbox) return;
  const { total, items } = await inbox.deadLetters(20);
  if (total === 0) {
    await ctx.reply(ctx.t('deadLettersNone'));
    return;
  }
  const lines = [`<b>${html(ctx.t('deadLettersTitle', { n: total }))}</b>`];
  for (const item of items) {
    lines.push(`• #${item.updateId} · ${html(item.kind)} · <code>${item.chatId}</code> · ×${item.attempts} · ${html((item.lastError ?? '').slice(0, 80))}`);
  }
  await ctx.reply(lines.join('\n'), {
    parse_mode: 'HTML',
    reply_markup: { inline_keyboard: [[{ text: ctx.t('deadLettersRetry'), callback_data: pack({ kind: 'retryFailed' }) }]] },
  });
});

admin.on('callback_query', async (ctx, next) => {
  const data = parse('data' in ctx.callbackQuery ? ctx.callbackQuery.data : undefined);
  if (data?.kind !== 'retryFailed') return next();
  const count = (await ctx.deps.inbox?.().retryDead()) ?? 0;
  ctx.deps.logger.info({ adminId: ctx.from.id, count }, 'dead letters retried');
  await ctx.answerCbQuery(ctx.t('deadLettersRetried', { n: count }));
  await ctx.editMessageReplyMarkup(undefined).catch(() => {});
});

// Composed last: Composer.optional takes the handlers registered so far.
export const adminFeature = Composer.optional<BotContext>(isAdmin, admin);
