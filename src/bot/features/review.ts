import { Composer } from 'telegraf';
import type { InlineKeyboardButton } from 'telegraf/types';
import { pickText } from '../../../machines/definition.js';
import { reviewKeyboard } from '../../flows/render.js';
import type { Actor, Outcome, FlowSummary } from '../../flows/types.js';
import { displayName, html, stepLabel } from '../../ui/format.js';
import { ASK_AGAIN_REASONS, personLocale, tReason, tStatus, type AskAgainReason, type MessageKey } from '../../ui/i18n.js';
import { parse } from '../../ui/callback-data.js';
import { isStaff, type BotContext } from '../context.js';
import { button, inline, rows } from '../keyboards.js';
import { refusalText } from '../refusals.js';
import { showClient } from '../cards.js';

/** Preset ask-again reasons are buttons by index; the one after the last lets the operator type one. */
const TYPED_REASON = ASK_AGAIN_REASONS.length;

/** Request cards: accept, ask again (steps + reason), retry, reset, cancel, resend. */
const staff = new Composer<BotContext>();

staff.on('callback_query', async (ctx, next) => {
  const data = parse('data' in ctx.callbackQuery ? ctx.callbackQuery.data : undefined);
  if (!data) return next();
  const { flows, sender } = ctx.deps;
  const operatorId = ctx.from.id;
  const actor: Actor = { kind: 'operator', id: operatorId };
  const updateId = ctx.update.update_id;
  switch (data.kind) {
    case 'accept':
      return settle(
        ctx,
        await flows.accept({ operatorId, flowId: data.flow, version: data.version, updateId }),
        'accepted',
        data.flow,
        false,
      );
    case 'askAgain':
      return startAskAgain(ctx, data.flow, data.version);
    case 'askToggle': {
      const picked = ctx.session.askAgain;
      const steps = picked?.flowId === data.flow && picked.version === data.version ? picked.steps : [];
      const next = steps.includes(data.step) ? steps.filter((s) => s !== data.step) : [...steps, data.step].sort((a, b) => a - b);
      ctx.session.askAgain = { flowId: data.flow, version: data.version, steps: next };
      await ctx.answerCbQuery();
      return showAskAgain(ctx, data.flow, data.version);
    }
    case 'askReason': {
      if (data.reason === TYPED_REASON) {
        ctx.session.awaiting = { kind: 'reason', flowId: data.flow, version: data.version };
        await ctx.answerCbQuery();
        await ctx.reply(ctx.t('reasonPrompt'), { reply_markup: { force_reply: true } });
        return;
      }
      const preset = ASK_AGAIN_REASONS[data.reason];
      if (!preset) return ctx.answerCbQuery(ctx.t('buttonExpired'));
      return askAgain(ctx, data.flow, data.version, { preset });
    }
    case 'retry':
      return settle(ctx, await flows.retry({ actor, flowId: data.flow, version: data.version, updateId }), 'done', data.flow, true);
    case 'reset':
      return settle(ctx, await flows.reset({ actor, flowId: data.flow, version: data.version, updateId }), 'done', data.flow, true);
    case 'cancel':
      return settle(ctx, await flows.cancel({ actor, flowId: data.flow, version: data.version, updateId }), 'done', data.flow, true);
    case 'resend': {
      const result = await flows.resend({ operatorId, flowId: data.flow, updateId });
      if (result.ok) sender.kick();
      return ctx.answerCbQuery(result.ok ? ctx.t('done') : refusalText(ctx, result.refusal));
    }
    default:
      return next();
  }
});

/** The reason typed after "Type a reason". */
staff.on('text', async (ctx, next) => {
  const awaiting = ctx.session.awaiting;
  if (awaiting?.kind !== 'reason' || ctx.message.text.startsWith('/')) return next();
  ctx.session.awaiting = undefined;
  const reason = ctx.message.text.trim().slice(0, 500);
  await askAgain(ctx, awaiting.flowId, awaiting.version, { typed: reason });
});

/** Answers the press; on a refusal says why and refreshes the card so it shows the truth. */
async function settle(ctx: BotContext, result: Outcome<FlowSummary>, ok: MessageKey, flowId: number, showCard: boolean): Promise<void> {
  if (result.ok) {
    ctx.deps.sender.kick();
    await ctx.answerCbQuery(ctx.t(ok));
    // An alert card is rewritten by the outbox (edit rows of this command); redrawing it here too would race.
    if (showCard && pressedOnClientCard(ctx)) await showClient(ctx, result.value.clientId, true);
    return;
  }
  if (result.refusal.code === 'duplicate_update') return void (await ctx.answerCbQuery());
  await ctx.answerCbQuery(result.refusal.code === 'stale' ? ctx.t('changed') : refusalText(ctx, result.refusal));
  // A client card is redrawn as a client card (its controls carry the new version).
  const flow = pressedOnClientCard(ctx) ? await ctx.deps.flows.flow(flowId) : null;
  if (flow) await showClient(ctx, flow.clientId, true);
  else await refreshCard(ctx, flowId);
}

/** Whether the pressed message is a client card (it has the History button), not a request card. */
function pressedOnClientCard(ctx: BotContext): boolean {
  const message = ctx.callbackQuery?.message;
  const keyboard = message && 'reply_markup' in message ? message.reply_markup?.inline_keyboard : undefined;
  return (keyboard ?? []).flat().some((b) => 'callback_data' in b && parse(b.callback_data)?.kind === 'history');
}

/** Rewrites an out-of-date card: the request's current state, with buttons only if they apply now. */
async function refreshCard(ctx: BotContext, flowId: number): Promise<void> {
  const flow = await ctx.deps.flows.flow(flowId);
  if (!flow || !ctx.callbackQuery?.message) return;
  const client = await ctx.deps.directory.get(flow.clientId);
  const text = `<b>${html(pickText(flow.definition.title, ctx.locale, ctx.deps.defaultLocale))}</b> · ${html(client ? displayName(client) : String(flow.clientId))}\n${tStatus(ctx.locale, flow.status)}`;
  const keyboard: InlineKeyboardButton[][] =
    flow.status === 'in_review'
      ? reviewKeyboard(ctx.locale, flow.id, flow.version)
      : [[button(ctx.t('openClient'), { kind: 'client', client: flow.clientId })]];
  await ctx.editMessageText(text, { parse_mode: 'HTML', ...inline(keyboard) }).catch(() => {});
}

async function startAskAgain(ctx: BotContext, flowId: number, version: number): Promise<void> {
  const flow = await ctx.deps.flows.flow(flowId);
  if (!flow || flow.status !== 'in_review' || flow.version !== version) {
    await ctx.answerCbQuery(ctx.t('changed'));
    await refreshCard(ctx, flowId);
    return;
  }
  ctx.session.askAgain = { flowId, version, steps: [] };
  await ctx.answerCbQuery();
  await showAskAgain(ctx, flowId, version);
}

/** The card's keyboard becomes the step picker and the reasons. */
async function showAskAgain(ctx: BotContext, flowId: number, version: number): Promise<void> {
  const flow = await ctx.deps.flows.flow(flowId);
  if (!flow) return;
  const picked = ctx.session.askAgain?.flowId === flowId ? (ctx.session.askAgain.steps ?? []) : [];
  const keyboard: InlineKeyboardButton[][] = [];
  if (flow.definition.steps.length > 1) {
    const toggles = flow.definition.steps.map((step, i) =>
      button(`${picked.includes(i) ? '☑' : '☐'} ${stepLabel(step, ctx.locale, ctx.deps.defaultLocale)}`, {
        kind: 'askToggle',
        flow: flowId,
        version,
        step: i,
      }),
    );
    keyboard.push(...rows(toggles, 2));
  }
  keyboard.push(
    ...rows(
      ASK_AGAIN_REASONS.map((preset, i) => button(tReason(ctx.locale, preset), { kind: 'askReason', flow: flowId, version, reason: i })),
      2,
    ),
  );
  keyboard.push([button(ctx.t('typeReason'), { kind: 'askReason', flow: flowId, version, reason: TYPED_REASON })]);
  const client = await ctx.deps.directory.get(flow.clientId);
  const text = ctx.t('askAgainPick', {
    title: pickText(flow.definition.title, ctx.locale, ctx.deps.defaultLocale),
    client: client ? displayName(client) : String(flow.clientId),
  });
  const steps =
    picked.length > 0
      ? picked
          .map((i) => flow.definition.steps[i])
          .filter((s) => s !== undefined)
          .map((s) => stepLabel(s, ctx.locale, ctx.deps.defaultLocale))
          .join(', ')
      : ctx.t('allSteps');
  await ctx.editMessageText(`${html(text)}\n\n<b>${html(steps)}</b>`, { parse_mode: 'HTML', ...inline(keyboard) }).catch(() => {});
}

/**
 * Sends the client back to the picked steps. A preset reason goes to the client in their language (the
 * operator's card shows it in the operator's); a typed one as typed.
 */
async function askAgain(
  ctx: BotContext,
  flowId: number,
  version: number,
  reason: { readonly preset: AskAgainReason } | { readonly typed: string },
): Promise<void> {
  if (!ctx.from) return;
  const { flows, directory, sender } = ctx.deps;
  const flow = await flows.flow(flowId);
  const picked = ctx.session.askAgain?.flowId === flowId ? ctx.session.askAgain.steps : [];
  const stepIds = picked.map((i) => flow?.definition.steps[i]?.id).filter((id): id is string => id !== undefined);
  const client = flow ? await directory.get(flow.clientId) : null;
  const result = await flows.askAgain({
    operatorId: ctx.from.id,
    flowId,
    version,
    ...('preset' in reason
      ? { reason: tReason(personLocale(client, ctx.deps.defaultLocale), reason.preset), preset: reason.preset }
      : { reason: reason.typed }),
    stepIds,
    updateId: ctx.update.update_id,
  });
  ctx.session.askAgain = undefined;
  if (result.ok) sender.kick();
  const text = result.ok ? ctx.t('askedAgain') : result.refusal.code === 'stale' ? ctx.t('changed') : refusalText(ctx, result.refusal);
  if (ctx.callbackQuery) await ctx.answerCbQuery(text);
  else await ctx.reply(text);
}

// Composed last: Composer.optional takes the handlers registered so far.
export const reviewFeature = Composer.optional<BotContext>(isStaff, staff);
