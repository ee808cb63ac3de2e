import { Composer } from 'telegraf';
import type { InlineKeyboardButton, InlineKeyboardMarkup } from 'telegraf/types';
import { pickText, type Locale } from '../../../machines/definition.js';
import { reasonsFor } from '../../config/reasons.js';
import { reviewCard } from '../../flows/review-card.js';
import { changedText } from '../../ui/client-card.js';
import type { Outcome, FlowSummary } from '../../flows/types.js';
import { displayName, html, stepLabel } from '../../ui/format.js';
import { personLocale, tStatus, type MessageKey } from '../../ui/i18n.js';
import { parse } from '../../ui/callback-data.js';
import { isStaff, type BotContext } from '../context.js';
import { button, inline, rows } from '../keyboards.js';
import { refusalText } from '../refusals.js';
import { showClient } from '../cards.js';

/** `askReason` buttons: 0 lets the operator type a reason, 1 + i is the offered reason `i`. */
const TYPED_REASON = 0;
const FIRST_REASON = 1;

/** Review cards: accept, ask again (the steps, then a reason that fits them). */
const staff = new Composer<BotContext>();

staff.on('callback_query', async (ctx, next) => {
  const data = parse('data' in ctx.callbackQuery ? ctx.callbackQuery.data : undefined);
  if (!data) return next();
  const { flows } = ctx.deps;
  const operatorId = ctx.from.id;
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
      return showStepPicker(ctx, data.flow, data.version);
    }
    case 'askNext':
      await ctx.answerCbQuery();
      return showReasons(ctx, data.flow, data.version);
    case 'askBack':
      await ctx.answerCbQuery();
      if (data.screen === 1) return showStepPicker(ctx, data.flow, data.version);
      ctx.session.askAgain = undefined;
      return showReviewCard(ctx, data.flow);
    case 'askReason': {
      if (data.reason === TYPED_REASON) {
        ctx.session.awaiting = { kind: 'reason', flowId: data.flow, version: data.version };
        await ctx.answerCbQuery();
        await ctx.reply(ctx.t('reasonPrompt'), { reply_markup: { force_reply: true } });
        return;
      }
      const offered = ctx.session.askAgain?.flowId === data.flow ? ctx.session.askAgain.reasons : undefined;
      const reason = offered?.[data.reason - FIRST_REASON];
      if (!reason) return ctx.answerCbQuery(ctx.t('buttonExpired'));
      return askAgain(ctx, data.flow, data.version, (locale) => pickText(reason, locale, ctx.deps.defaultLocale));
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
  await askAgain(ctx, awaiting.flowId, awaiting.version, () => reason);
});

/** Answers the press; on a refusal says why and refreshes the card so it shows the truth. */
async function settle(ctx: BotContext, result: Outcome<FlowSummary>, ok: MessageKey, flowId: number, showCard: boolean): Promise<void> {
  if (result.ok) {
    await ctx.answerCbQuery(ctx.t(ok));
    // An alert card is rewritten by the outbox (edit rows of this command); redrawing it here too would race.
    if (showCard && pressedOnClientCard(ctx)) await showClient(ctx, result.value.clientId, true);
    return;
  }
  if (result.refusal.code === 'duplicate_update') return void (await ctx.answerCbQuery());
  const now = await ctx.deps.flows.flow(flowId);
  await ctx.answerCbQuery(
    result.refusal.code === 'stale' ? changedText(ctx.locale, now?.status ?? null) : refusalText(ctx, result.refusal),
  );
  // A client card is redrawn as a client card (its controls carry the new version).
  const flow = pressedOnClientCard(ctx) ? now : null;
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
export async function refreshCard(ctx: BotContext, flowId: number): Promise<void> {
  const flow = await ctx.deps.flows.flow(flowId);
  if (!flow || !ctx.callbackQuery?.message) return;
  const client = await ctx.deps.directory.get(flow.clientId);
  const text = `<b>${html(pickText(flow.definition.title, ctx.locale, ctx.deps.defaultLocale))}</b> · ${html(client ? displayName(client) : String(flow.clientId))}\n${tStatus(ctx.locale, flow.status)}`;
  const keyboard: InlineKeyboardButton[][] =
    flow.status === 'in_review'
      ? [
          [
            button(ctx.t('accept'), { kind: 'accept', flow: flow.id, version: flow.version }),
            button(ctx.t('askAgain'), { kind: 'askAgain', flow: flow.id, version: flow.version }),
          ],
        ]
      : [[button(ctx.t('openClient'), { kind: 'client', client: flow.clientId })]];
  await ctx.editMessageText(text, { parse_mode: 'HTML', ...inline(keyboard) }).catch(() => {});
}

async function startAskAgain(ctx: BotContext, flowId: number, version: number): Promise<void> {
  const flow = await ctx.deps.flows.flow(flowId);
  if (!flow || flow.status !== 'in_review' || flow.version !== version) {
    await ctx.answerCbQuery(flow ? changedText(ctx.locale, flow.status) : ctx.t('changed'));
    await refreshCard(ctx, flowId);
    return;
  }
  ctx.session.askAgain = { flowId, version, steps: [] };
  await ctx.answerCbQuery();
  // A request of one step has nothing to pick: straight to the reasons.
  if (flow.definition.steps.length > 1) await showStepPicker(ctx, flowId, version);
  else await showReasons(ctx, flowId, version);
}

/** The header of the ask-again screens: the request, the client, and the steps picked so far. */
async function askAgainHeader(ctx: BotContext, flow: FlowSummary, picked: readonly number[], key: MessageKey): Promise<string> {
  const client = await ctx.deps.directory.get(flow.clientId);
  const steps =
    picked.length > 0
      ? picked
          .map((i) => flow.definition.steps[i])
          .filter((s) => s !== undefined)
          .map((s) => stepLabel(s, ctx.locale, ctx.deps.defaultLocale))
          .join(', ')
      : ctx.t('allSteps');
  const text = ctx.t(key, {
    title: pickText(flow.definition.title, ctx.locale, ctx.deps.defaultLocale),
    client: client ? displayName(client) : String(flow.clientId),
    steps,
  });
  return key === 'askAgainPick' ? `${html(text)}\n\n<b>${html(steps)}</b>` : html(text);
}

const pickedSteps = (ctx: BotContext, flowId: number): number[] =>
  ctx.session.askAgain?.flowId === flowId ? (ctx.session.askAgain.steps ?? []) : [];

/** The card's keyboard becomes the step picker: a toggle per step, Next, and Back to the card. */
async function showStepPicker(ctx: BotContext, flowId: number, version: number): Promise<void> {
  const flow = await ctx.deps.flows.flow(flowId);
  if (!flow) return;
  const picked = pickedSteps(ctx, flowId);
  const toggles = flow.definition.steps.map((step, i) =>
    button(`${picked.includes(i) ? '☑' : '☐'} ${stepLabel(step, ctx.locale, ctx.deps.defaultLocale)}`, {
      kind: 'askToggle',
      flow: flowId,
      version,
      step: i,
    }),
  );
  const keyboard: InlineKeyboardButton[][] = [
    ...rows(toggles, 2),
    [
      button(ctx.t('backStep'), { kind: 'askBack', flow: flowId, version, screen: 0 }),
      button(ctx.t('askAgainNext'), { kind: 'askNext', flow: flowId, version }),
    ],
  ];
  const text = await askAgainHeader(ctx, flow, picked, 'askAgainPick');
  await ctx.editMessageText(text, { parse_mode: 'HTML', ...inline(keyboard) }).catch(() => {});
}

/**
 * The reasons that fit the picked steps (all when none is picked): the request's own from the catalogue,
 * else the defaults of those steps' types; then "Type a reason" and Back.
 */
async function showReasons(ctx: BotContext, flowId: number, version: number): Promise<void> {
  const flow = await ctx.deps.flows.flow(flowId);
  if (!flow) return;
  const picked = pickedSteps(ctx, flowId);
  const steps = picked.length > 0 ? picked.map((i) => flow.definition.steps[i]).filter((s) => s !== undefined) : flow.definition.steps;
  const catalogue = ctx.deps.catalogue();
  const reasons = reasonsFor(
    catalogue.reasons?.get(flow.requestId),
    steps.map((s) => s.type),
    catalogue.defaultReasons,
  );
  ctx.session.askAgain = { flowId, version, steps: picked, reasons: reasons.map((r) => ({ ...r })) };
  const keyboard: InlineKeyboardButton[][] = [
    ...rows(
      reasons.map((reason, i) =>
        button(pickText(reason, ctx.locale, ctx.deps.defaultLocale), {
          kind: 'askReason',
          flow: flowId,
          version,
          reason: FIRST_REASON + i,
        }),
      ),
      1,
    ),
    [button(ctx.t('typeReason'), { kind: 'askReason', flow: flowId, version, reason: TYPED_REASON })],
    [button(ctx.t('backStep'), { kind: 'askBack', flow: flowId, version, screen: flow.definition.steps.length > 1 ? 1 : 0 })],
  ];
  const text = await askAgainHeader(ctx, flow, picked, 'askAgainReasons');
  await ctx.editMessageText(text, { parse_mode: 'HTML', ...inline(keyboard) }).catch(() => {});
}

/** Back from ask-again: the review card as it was, or the request's state if it is no longer in review. */
async function showReviewCard(ctx: BotContext, flowId: number): Promise<void> {
  const flow = await ctx.deps.flows.flow(flowId);
  const client = flow ? await ctx.deps.directory.get(flow.clientId) : null;
  if (!flow || !ctx.from) return;
  const person = (
    p: { id: number; firstName: string; lastName: string | null; username: string | null } | null,
    id: number,
    locale: Locale,
  ) => ({
    id,
    firstName: p?.firstName ?? '',
    lastName: p?.lastName ?? null,
    username: p?.username ?? null,
    locale,
  });
  const card = reviewCard(
    flow,
    person(client, flow.clientId, personLocale(client, ctx.deps.defaultLocale)),
    person(
      { id: ctx.from.id, firstName: ctx.from.first_name, lastName: ctx.from.last_name ?? null, username: ctx.from.username ?? null },
      ctx.from.id,
      ctx.locale,
    ),
    ctx.deps.defaultLocale,
  );
  if (!card) return refreshCard(ctx, flowId);
  await ctx.editMessageText(card.text, { parse_mode: 'HTML', reply_markup: card.replyMarkup as InlineKeyboardMarkup }).catch(() => {});
}

/** Sends the client back to the picked steps; the reason is put in the client's language. */
async function askAgain(ctx: BotContext, flowId: number, version: number, reason: (locale: 'ru' | 'en') => string): Promise<void> {
  if (!ctx.from) return;
  const { flows, directory } = ctx.deps;
  const flow = await flows.flow(flowId);
  const picked = ctx.session.askAgain?.flowId === flowId ? ctx.session.askAgain.steps : [];
  const stepIds = picked.map((i) => flow?.definition.steps[i]?.id).filter((id): id is string => id !== undefined);
  const client = flow ? await directory.get(flow.clientId) : null;
  const result = await flows.askAgain({
    operatorId: ctx.from.id,
    flowId,
    version,
    reason: reason(personLocale(client, ctx.deps.defaultLocale)),
    operatorReason: reason(ctx.locale),
    stepIds,
    updateId: ctx.update.update_id,
  });
  ctx.session.askAgain = undefined;
  const text = result.ok ? ctx.t('askedAgain') : result.refusal.code === 'stale' ? ctx.t('changed') : refusalText(ctx, result.refusal);
  if (ctx.callbackQuery) await ctx.answerCbQuery(text);
  else await ctx.reply(text);
}

// Composed last: Composer.optional takes the handlers registered so far.
export const reviewFeature = Composer.optional<BotContext>(isStaff, staff);
