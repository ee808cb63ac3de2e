import { Composer } from 'telegraf';
import { isFinal } from '../../flows/statuses.js';
import { parse, pack } from '../../ui/callback-data.js';
import { displayName, formatTimestamp, html } from '../../ui/format.js';
import { isAdmin, type BotContext } from '../context.js';

/**
 * Admins add and remove operators (/operators, /addoperator <id>, /removeoperator <id>), see updates that
 * failed (/failed) and result webhook deliveries (/deliveries), and erase a client's data (/forget <id>).
 */
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

for (const [command, enabled] of [
  ['addoperator', true],
  ['removeoperator', false],
] as const) {
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
    lines.push(
      `• #${item.updateId} · ${html(item.kind)} · <code>${item.chatId}</code> · ×${item.attempts} · ${html((item.lastError ?? '').slice(0, 80))}`,
    );
  }
  await ctx.reply(lines.join('\n'), {
    parse_mode: 'HTML',
    reply_markup: { inline_keyboard: [[{ text: ctx.t('deadLettersRetry'), callback_data: pack({ kind: 'retryFailed' }) }]] },
  });
});

/** Deliveries to the result webhook: how many wait, failed or went through, the last error, and a Retry button. */
admin.command('deliveries', async (ctx) => {
  const results = ctx.deps.results?.();
  if (!results) {
    await ctx.reply(ctx.t('deliveriesOff'));
    return;
  }
  const { counts, lastError } = await results.summary();
  const lines = [`<b>${html(ctx.t('deliveriesTitle'))}</b>`, html(ctx.t('deliveriesCounts', counts))];
  if (lastError) {
    const at = lastError.at ? `${formatTimestamp(lastError.at)} UTC` : '—';
    lines.push(html(ctx.t('deliveriesLastError', { error: lastError.error, id: lastError.deliveryId, flow: lastError.flowId, at })));
  }
  const keyboard =
    counts.failed > 0 ? [[{ text: ctx.t('deliveriesRetry', { n: counts.failed }), callback_data: pack({ kind: 'retryDeliveries' }) }]] : [];
  await ctx.reply(lines.join('\n'), { parse_mode: 'HTML', reply_markup: { inline_keyboard: keyboard } });
});

/** `/forget <client id>`: erases the client's data once the admin confirms (see FlowService.forget). */
admin.command('forget', async (ctx) => {
  const arg = ctx.payload.trim();
  if (!/^[1-9]\d{0,15}$/.test(arg)) {
    await ctx.reply(ctx.t('forgetUsage'));
    return;
  }
  const clientId = Number(arg);
  const refusal = await forgetRefusal(ctx, clientId);
  if (refusal) {
    await ctx.reply(ctx.t(refusal));
    return;
  }
  const person = await ctx.deps.directory.get(clientId);
  const open = (await ctx.deps.flows.flowsOf(clientId, 1_000)).filter((f) => !isFinal(f.status)).length;
  await ctx.reply(ctx.t('forgetConfirm', { client: html(person ? displayName(person) : String(clientId)), id: clientId, open }), {
    parse_mode: 'HTML',
    reply_markup: {
      inline_keyboard: [
        [{ text: ctx.t('forgetButton'), callback_data: pack({ kind: 'forget', client: clientId }) }],
        [{ text: ctx.t('forgetKeep'), callback_data: pack({ kind: 'forgetKeep' }) }],
      ],
    },
  });
});

admin.on('callback_query', async (ctx, next) => {
  const data = parse('data' in ctx.callbackQuery ? ctx.callbackQuery.data : undefined);
  switch (data?.kind) {
    case 'retryFailed': {
      const count = (await ctx.deps.inbox?.().retryDead()) ?? 0;
      ctx.deps.logger.info({ adminId: ctx.from.id, count }, 'dead letters retried');
      await ctx.answerCbQuery(ctx.t('deadLettersRetried', { n: count }));
      await ctx.editMessageReplyMarkup(undefined).catch(() => {});
      return;
    }
    case 'retryDeliveries': {
      const count = (await ctx.deps.results?.()?.retryFailed()) ?? 0;
      ctx.deps.logger.info({ adminId: ctx.from.id, count }, 'result deliveries retried');
      await ctx.answerCbQuery(ctx.t('deliveriesRetried', { n: count }));
      await ctx.editMessageReplyMarkup(undefined).catch(() => {});
      return;
    }
    case 'forgetKeep':
      await ctx.answerCbQuery();
      await ctx.editMessageText(ctx.t('forgetKept')).catch(() => {});
      return;
    case 'forget': {
      const refusal = await forgetRefusal(ctx, data.client);
      if (refusal) {
        await ctx.answerCbQuery(ctx.t(refusal), { show_alert: true });
        return;
      }
      const result = await ctx.deps.flows.forget({
        clientId: data.client,
        by: { kind: 'admin', id: ctx.from.id },
        updateId: ctx.update.update_id,
      });
      if (!result.ok) {
        // A press applied before (the update came again): nothing to do.
        if (result.refusal.code === 'duplicate_update') await ctx.answerCbQuery().catch(() => {});
        else await ctx.answerCbQuery(ctx.t('forgetNotFound'), { show_alert: true });
        return;
      }
      ctx.deps.sender.kick();
      const { erasureId, ...counts } = result.value;
      // Who erased and how much: never whom (the erasure record keeps only a hash of the id).
      ctx.deps.logger.info({ adminId: ctx.from.id, erasureId, ...counts }, 'client data erased');
      await ctx.answerCbQuery();
      const done = ctx.t('forgetDone', {
        id: data.client,
        answers: counts.answers,
        messages: counts.messages,
        inbox: counts.inboxUpdates,
        outbox: counts.outboxMessages,
        deliveries: counts.resultDeliveries,
        cancelled: counts.requestsCancelled,
        record: erasureId,
      });
      // The confirmation named the client: it is replaced by the counts (or, if it cannot be edited, they follow it).
      await ctx.editMessageText(done).catch(() => ctx.reply(done));
      return;
    }
    default:
      return next();
  }
});

/** Why this id cannot be erased: nobody by that id, or a staff member. */
async function forgetRefusal(ctx: BotContext, id: number): Promise<'forgetNotFound' | 'forgetStaff' | null> {
  if (!(await ctx.deps.directory.get(id))) return 'forgetNotFound';
  return (await ctx.deps.directory.roleOf(id)) === 'client' ? null : 'forgetStaff';
}

// Composed last: Composer.optional takes the handlers registered so far.
export const adminFeature = Composer.optional<BotContext>(isAdmin, admin);
