import { Composer, type MiddlewareFn } from 'telegraf';
import { parse } from '../../ui/callback-data.js';
import { displayName, html } from '../../ui/format.js';
import { isStaff, type BotContext } from '../context.js';
import { button, rows } from '../keyboards.js';
import { showDashboard, showUnassigned, showWaiting } from './dashboard.js';
import { show, showClient } from '../cards.js';

/**
 * Checked on every operator's press (OPERATOR_VISIBILITY=own): a button that names another operator's
 * client or request (forged, or left from before a hand-over) is refused with a clear alert, nothing
 * changes, and it is logged as a security event. The flow service checks it again under its row lock.
 */
export function guardOwnership(): MiddlewareFn<BotContext> {
  return async (ctx, next) => {
    if (!ctx.from || ctx.role !== 'operator' || !ctx.callbackQuery || !('data' in ctx.callbackQuery)) return next();
    const { ownership } = ctx.deps;
    const data = parse(ctx.callbackQuery.data);
    // Take is for a client nobody owns, and decides that itself (atomically): a lost race is not a forgery.
    // Send is one flow command, which checks ownership under the client's row lock (refused: `not_owner`,
    // logged the same way by the menu): a read here first would only repeat it.
    if (!data || ownership.visibility === 'all' || data.kind === 'take' || data.kind === 'send') return next();
    const allowed =
      'flow' in data
        ? await ownership.mayActOnFlow(ctx.from.id, data.flow)
        : 'client' in data
          ? await ownership.maySeeClient(ctx.from.id, data.client)
          : true;
    if (allowed) return next();
    logForeignPress(ctx);
    await ctx.answerCbQuery(ctx.t('refusal_not_owner'), { show_alert: true });
  };
}

/** An operator pressed a button for another operator's client or request: a security event (ids and data only). */
export function logForeignPress(ctx: BotContext): void {
  const data = ctx.callbackQuery && 'data' in ctx.callbackQuery ? ctx.callbackQuery.data : undefined;
  ctx.deps.logger.warn({ security: true, userId: ctx.from?.id, data }, 'another operator’s button pressed');
}

/** The dashboard's lists, Take (a client nobody owns) and Hand over (to another operator). */
const staff = new Composer<BotContext>();

staff.on('callback_query', async (ctx, next) => {
  const raw = 'data' in ctx.callbackQuery ? ctx.callbackQuery.data : undefined;
  const data = parse(raw);
  if (!data) return next();
  const { ownership, directory, logger } = ctx.deps;
  switch (data.kind) {
    case 'attention':
      await showWaiting(ctx, 'attention', data.page);
      break;
    case 'unassigned':
      await showUnassigned(ctx, data.page);
      break;
    case 'take': {
      const taken = await ownership.take(ctx.from.id, data.client);
      if (!taken) {
        await ctx.answerCbQuery(ctx.t('takeLost'), { show_alert: true });
        await showUnassigned(ctx, 0);
        return;
      }
      logger.info({ audit: true, operatorId: ctx.from.id, clientId: data.client }, 'client taken');
      ctx.deps.sender.kick();
      await ctx.answerCbQuery(ctx.t('taken'));
      await showClient(ctx, data.client, true);
      return;
    }
    case 'handOver': {
      const client = await directory.get(data.client);
      const owner = client?.operatorId ?? null;
      const candidates = (await directory.staffIds()).filter((id) => id !== owner && id !== data.client);
      if (!client || candidates.length === 0) {
        await ctx.answerCbQuery(ctx.t('handOverNobody'), { show_alert: true });
        return;
      }
      const names = await ownership.names(candidates);
      const buttons = candidates.map((id) => {
        const person = names.get(id);
        return button(person ? displayName(person) : String(id), { kind: 'handOverTo', client: data.client, operator: id });
      });
      await show(ctx, true, html(ctx.t('handOverPick', { client: displayName(client) })), [
        ...rows(buttons, 2),
        [button(ctx.t('back'), { kind: 'client', client: data.client })],
      ]);
      break;
    }
    case 'handOverTo': {
      const result = await ownership.handOver({ by: ctx.from.id, clientId: data.client, to: data.operator });
      if (!result.ok) {
        if (result.reason === 'not_owner') {
          logger.warn({ security: true, userId: ctx.from.id, data: raw }, 'hand-over of another operator’s client refused');
        }
        const key = result.reason === 'not_owner' ? 'refusal_not_owner' : result.reason === 'not_staff' ? 'handOverNotStaff' : 'done';
        await ctx.answerCbQuery(ctx.t(key), { show_alert: result.reason !== 'already_owner' });
        return;
      }
      // Ids only: who handed whom over to whom (names stay out of the logs).
      logger.info({ audit: true, by: ctx.from.id, clientId: data.client, from: result.from, to: result.to }, 'client handed over');
      ctx.deps.sender.kick();
      const to = (await ownership.names([result.to])).get(result.to);
      await ctx.answerCbQuery(ctx.t('handOverDone', { to: to ? displayName(to) : String(result.to) }));
      // The card stays open for whoever may still see the client (an admin); the others go back to the menu.
      if (await ownership.maySeeClient(ctx.from.id, data.client)) await showClient(ctx, data.client, true);
      else await showDashboard(ctx, true);
      return;
    }
    default:
      return next();
  }
  await ctx.answerCbQuery().catch(() => {});
});

// Composed last: Composer.optional takes the handlers registered so far.
export const ownershipFeature = Composer.optional<BotContext>(isStaff, staff);
