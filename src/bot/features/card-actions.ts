import { Composer } from 'telegraf';
import type { InlineKeyboardButton } from 'telegraf/types';
import { pickText, type Locale } from '../../../machines/definition.js';
import type { Actor, FlowSummary, Outcome } from '../../flows/types.js';
import type { FlowStatus } from '../../flows/statuses.js';
import { appliesTo, changedText, type CardAction } from '../../ui/client-card.js';
import { displayName, html } from '../../ui/format.js';
import { personLocale, t, type MessageKey } from '../../ui/i18n.js';
import { parse } from '../../ui/callback-data.js';
import { isStaff, type BotContext } from '../context.js';
import { button, inline } from '../keyboards.js';
import { refusalText } from '../refusals.js';
import { showClient } from '../cards.js';
import { refreshCard } from './review.js';

type Stop = 'cancel' | 'reset';
const STOPS: readonly Stop[] = ['cancel', 'reset'];
/** Preset reasons for cancelling and starting over, put in the client's language when sent. */
const STOP_REASONS: Readonly<Record<Stop, readonly MessageKey[]>> = {
  cancel: ['stopReason_cancel_not_needed', 'stopReason_cancel_mistake', 'stopReason_cancel_client'],
  reset: ['stopReason_reset_mistakes', 'stopReason_reset_changed', 'stopReason_reset_client'],
};
/** `stopReason` buttons: 0 without a reason, 1 type one, 2 + i the preset `i`. */
const NO_REASON = 0;
const TYPED_REASON = 1;
const PRESET = 2;
/** A press that lost a race with another change is decided again, at most this many times. */
const ATTEMPTS = 3;

/**
 * The controls on client cards and alert cards (resend, retry, reset, cancel, review card). A press is
 * checked against the request's state now, not the card's: it is applied when it still makes sense
 * (cancel: any open request; reset: any active one), otherwise the card is redrawn and the toast says
 * what changed. Cancel and reset ask first, with an optional reason the client is told.
 */
const staff = new Composer<BotContext>();

staff.on('callback_query', async (ctx, next) => {
  const data = parse('data' in ctx.callbackQuery ? ctx.callbackQuery.data : undefined);
  if (!data) return next();
  switch (data.kind) {
    case 'resend':
    case 'retry':
    case 'reset':
    case 'cancel':
    case 'reviewCard':
      return press(ctx, data.kind, data.flow);
    case 'stopReason': {
      const stop = STOPS[data.action];
      if (!stop) return ctx.answerCbQuery(ctx.t('buttonExpired'));
      if (data.reason === TYPED_REASON) {
        ctx.session.awaiting = { kind: 'stopReason', flowId: data.flow, action: data.action };
        await ctx.answerCbQuery();
        await ctx.reply(ctx.t('reasonPrompt'), { reply_markup: { force_reply: true } });
        return;
      }
      const key = data.reason >= PRESET ? STOP_REASONS[stop][data.reason - PRESET] : undefined;
      if (data.reason !== NO_REASON && !key) return ctx.answerCbQuery(ctx.t('buttonExpired'));
      return applyStop(ctx, stop, data.flow, key ? (locale) => t(locale, key) : undefined);
    }
    case 'stopBack': {
      await ctx.answerCbQuery(ctx.t('stopKept'));
      const flow = await ctx.deps.flows.flow(data.flow);
      if (ctx.session.stop?.onClientCard && flow) return showClient(ctx, flow.clientId, true);
      await ctx.deleteMessage().catch(() => {});
      return;
    }
    default:
      return next();
  }
});

/** The reason typed after "Type a reason" for a cancel or a reset. */
staff.on('text', async (ctx, next) => {
  const awaiting = ctx.session.awaiting;
  if (awaiting?.kind !== 'stopReason' || ctx.message.text.startsWith('/')) return next();
  ctx.session.awaiting = undefined;
  const stop = STOPS[awaiting.action];
  if (!stop) return;
  const reason = ctx.message.text.trim();
  await applyStop(ctx, stop, awaiting.flowId, reason ? () => reason : undefined);
});

/** Whether the pressed message is a client card (it has the History button), not a request card. */
export function pressedOnClientCard(ctx: BotContext): boolean {
  const message = ctx.callbackQuery?.message;
  const keyboard = message && 'reply_markup' in message ? message.reply_markup?.inline_keyboard : undefined;
  return (keyboard ?? []).flat().some((b) => 'callback_data' in b && parse(b.callback_data)?.kind === 'history');
}

async function press(ctx: BotContext, action: CardAction, flowId: number): Promise<void> {
  const { flows } = ctx.deps;
  const operatorId = ctx.from?.id;
  if (operatorId === undefined) return;
  const actor: Actor = { kind: 'operator', id: operatorId };
  const updateId = ctx.update.update_id;
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const flow = await flows.flow(flowId);
    // A list of what waits (the dashboard) opens the review card, or the alert of a request that needs the
    // operator, with "resend": it still does.
    const fromList = action === 'resend' && !pressedOnClientCard(ctx);
    const wanted = fromList && flow?.status === 'in_review' ? 'reviewCard' : action;
    const alert = fromList && flow?.status === 'needs_operator';
    if (!flow || !(alert || appliesTo(wanted, flow.status))) return changed(ctx, flowId, flow?.status ?? null);
    if (wanted === 'cancel' || wanted === 'reset') return askStop(ctx, wanted, flow);
    let result: Outcome<FlowSummary>;
    if (wanted === 'retry') result = await flows.retry({ actor, flowId, version: flow.version, updateId });
    else result = await flows.resend({ operatorId, flowId, updateId });
    if (!result.ok && result.refusal.code === 'stale') continue;
    if (!result.ok) {
      if (result.refusal.code === 'duplicate_update') return void (await ctx.answerCbQuery());
      const now = await flows.flow(flowId);
      return changed(ctx, flowId, now?.status ?? null, refusalText(ctx, result.refusal));
    }
    await ctx.answerCbQuery(
      ctx.t(alert ? 'cardAlertBelow' : wanted === 'retry' ? 'cardRetried' : wanted === 'resend' ? 'cardResent' : 'cardReviewBelow'),
    );
    if (wanted === 'retry' && pressedOnClientCard(ctx)) await showClient(ctx, flow.clientId, true);
    return;
  }
  const now = await flows.flow(flowId);
  return changed(ctx, flowId, now?.status ?? null);
}

/** Says what the request is now and redraws the pressed card to match. */
async function changed(ctx: BotContext, flowId: number, status: FlowStatus | null, text?: string): Promise<void> {
  await ctx.answerCbQuery(text ?? changedText(ctx.locale, status)).catch(() => {});
  const flow = pressedOnClientCard(ctx) ? await ctx.deps.flows.flow(flowId) : null;
  if (flow) await showClient(ctx, flow.clientId, true);
  else await refreshCard(ctx, flowId);
}

/** The confirmation: on a client card in its place, elsewhere as a new message under the card. */
async function askStop(ctx: BotContext, stop: Stop, flow: FlowSummary): Promise<void> {
  const onClientCard = pressedOnClientCard(ctx);
  ctx.session.stop = { flowId: flow.id, onClientCard };
  const client = await ctx.deps.directory.get(flow.clientId);
  const action = STOPS.indexOf(stop);
  const args = {
    title: pickText(flow.definition.title, ctx.locale, ctx.deps.defaultLocale),
    client: client ? displayName(client) : String(flow.clientId),
  };
  const text = html(ctx.t(stop === 'cancel' ? 'stopCancelAsk' : 'stopResetAsk', args));
  const keyboard: InlineKeyboardButton[][] = [
    ...STOP_REASONS[stop].map((key, i) => [button(ctx.t(key), { kind: 'stopReason', flow: flow.id, action, reason: PRESET + i })]),
    [
      button(ctx.t('typeReason'), { kind: 'stopReason', flow: flow.id, action, reason: TYPED_REASON }),
      button(ctx.t('stopWithoutReason'), { kind: 'stopReason', flow: flow.id, action, reason: NO_REASON }),
    ],
    [button(ctx.t('backStep'), { kind: 'stopBack', flow: flow.id, action })],
  ];
  await ctx.answerCbQuery();
  const extra = { parse_mode: 'HTML' as const, ...inline(keyboard) };
  if (onClientCard) await ctx.editMessageText(text, extra).catch(() => ctx.reply(text, extra));
  else await ctx.reply(text, extra);
}

/** Cancels or resets the request if that still applies to it; the reason goes in the client's language. */
async function applyStop(ctx: BotContext, stop: Stop, flowId: number, reason: ((locale: Locale) => string) | undefined): Promise<void> {
  const { flows, directory } = ctx.deps;
  const operatorId = ctx.from?.id;
  if (operatorId === undefined) return;
  const onClientCard = ctx.session.stop?.flowId === flowId && ctx.session.stop.onClientCard;
  ctx.session.stop = undefined;
  const answer = async (text: string) => {
    if (ctx.callbackQuery) await ctx.answerCbQuery(text).catch(() => {});
    else await ctx.reply(text);
  };
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const flow = await flows.flow(flowId);
    if (!flow || !appliesTo(stop, flow.status)) {
      await answer(changedText(ctx.locale, flow?.status ?? null));
      break;
    }
    const client = await directory.get(flow.clientId);
    const input = {
      actor: { kind: 'operator' as const, id: operatorId },
      flowId,
      version: flow.version,
      updateId: ctx.update.update_id,
      ...(reason ? { reason: reason(personLocale(client, ctx.deps.defaultLocale)) } : {}),
    };
    const result = stop === 'cancel' ? await flows.cancel(input) : await flows.reset(input);
    if (!result.ok && result.refusal.code === 'stale' && attempt < ATTEMPTS) continue;
    if (result.ok) {
      await answer(ctx.t(stop === 'cancel' ? 'stopCancelled' : 'stopReset'));
    } else if (result.refusal.code !== 'duplicate_update') {
      await answer(result.refusal.code === 'stale' ? ctx.t('changed') : refusalText(ctx, result.refusal));
    }
    break;
  }
  // The confirmation made way for the client card again; a confirmation of its own is closed.
  const flow = await flows.flow(flowId);
  if (!ctx.callbackQuery || !flow) return;
  if (onClientCard) await showClient(ctx, flow.clientId, true);
  else await ctx.editMessageText(html(changedText(ctx.locale, flow.status)), { parse_mode: 'HTML' }).catch(() => {});
}

// Composed last: Composer.optional takes the handlers registered so far.
export const cardActionsFeature = Composer.optional<BotContext>(isStaff, staff);
