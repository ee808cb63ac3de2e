import { Composer } from 'telegraf';
import { displayName } from '../../ui/format.js';
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

// Composed last: Composer.optional takes the handlers registered so far.
export const adminFeature = Composer.optional<BotContext>(isAdmin, admin);
