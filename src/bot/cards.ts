/**
 * Cards the staff features share: the client card (shown from the menus and redrawn after a control on
 * it was pressed) and the helpers that draw a menu message in place.
 */
import type { InlineKeyboardButton } from 'telegraf/types';
import { pickText, type Text } from '../../machines/definition.js';
import { requestRef } from '../config/catalogue.js';
import { isFinal, type FlowStatus } from '../flows/statuses.js';
import { displayName, html } from '../ui/format.js';
import { LOCALE_NAMES, isLocale, tStatus } from '../ui/i18n.js';
import type { BotContext } from './context.js';
import { button, inline, rows } from './keyboards.js';

/** Replaces the menu message in place when it came from a button, or sends a new one. */
export async function show(ctx: BotContext, edit: boolean, text: string, keyboard: InlineKeyboardButton[][]): Promise<void> {
  const extra = { parse_mode: 'HTML' as const, ...inline(keyboard) };
  if (edit && ctx.callbackQuery?.message) {
    try {
      await ctx.editMessageText(text, extra);
      return;
    } catch {
      // Not modified, or too old to edit: send it anew.
    }
  }
  await ctx.reply(text, extra);
}

/** A catalogue or frozen text in the operator's language (a frozen one may lack it: see `pickText`). */
export function textIn(ctx: BotContext, text: Text): string {
  return pickText(text, ctx.locale, ctx.deps.defaultLocale);
}

/** A request status as a short label in the viewer's language (nothing for none). */
export function badge(ctx: BotContext, status: FlowStatus | null): string {
  return status ? tStatus(ctx.locale, status) : '';
}

/** The client card: who they are, their requests, controls, and a button per request type. */
export async function showClient(ctx: BotContext, clientId: number, edit: boolean): Promise<void> {
  const { directory, flows, catalogue, ownership } = ctx.deps;
  const person = await directory.get(clientId);
  if (!person) {
    await ctx.answerCbQuery(ctx.t('refusal_client_not_found')).catch(() => {});
    return;
  }
  if (ctx.from && !(await ownership.maySeeClient(ctx.from.id, clientId))) {
    await ctx.answerCbQuery(ctx.t('refusal_not_owner'), { show_alert: true }).catch(() => {});
    return;
  }
  const owner = person.operatorId === null ? undefined : (await ownership.names([person.operatorId])).get(person.operatorId);
  const open = (await flows.flowsOf(clientId, 50)).filter((f) => !isFinal(f.status));
  const active = await flows.activeFlow(clientId);
  const queued = open.filter((f) => f.status === 'queued').reverse();
  // The language the client chose with /language, else what their Telegram app says.
  const language = isLocale(person.locale) ? LOCALE_NAMES[person.locale] : person.languageCode;
  const lines = [
    `<b>${html(ctx.t('clientTitle', { name: displayName(person) }))}</b>`,
    `${ctx.t('clientId', { id: person.id })}${language ? ` · ${ctx.t('clientLanguage', { language: html(language) })}` : ''}`,
  ];
  lines.push(html(owner ? ctx.t('ownerLine', { owner: displayName(owner) }) : ctx.t('ownerNone')));
  if (person.blockedAt) lines.push(ctx.t('clientBlocked'));
  if (!person.startedAt) lines.push(ctx.t('clientNotStartedYet'));
  lines.push('');
  if (active) {
    const progress = active.view.kind === 'prompt' ? ` (${active.view.position}/${active.view.total})` : '';
    lines.push(
      html(ctx.t('activeLine', { title: textIn(ctx, active.definition.title), status: `${badge(ctx, active.status)}${progress}` })),
    );
  } else {
    lines.push(ctx.t('noActiveRequest'));
  }
  if (queued.length > 0) lines.push(html(ctx.t('queuedLine', { titles: queued.map((f) => textIn(ctx, f.definition.title)).join(', ') })));
  lines.push('', ctx.t('sendHeader'));

  const keyboard: InlineKeyboardButton[][] = [];
  if (active) {
    const ref = { flow: active.id, version: active.version };
    keyboard.push([button(ctx.t('resendPrompt'), { kind: 'resend', ...ref }), button(ctx.t('retryStep'), { kind: 'retry', ...ref })]);
    keyboard.push([button(ctx.t('reset'), { kind: 'reset', ...ref }), button(ctx.t('cancel'), { kind: 'cancel', ...ref })]);
  }
  for (const flow of queued)
    keyboard.push([
      button(`${ctx.t('cancel')}: ${textIn(ctx, flow.definition.title)}`, { kind: 'cancel', flow: flow.id, version: flow.version }),
    ]);
  // Each button names its request type by a stable reference: a reloaded catalogue never redirects it.
  keyboard.push(
    ...rows(
      catalogue().requests.map((r) => button(textIn(ctx, r.title), { kind: 'send', client: clientId, requestRef: requestRef(r.id) })),
      2,
    ),
  );
  // Nobody's client: Take. The owner (or an admin, or anyone with visibility `all`): Hand over.
  if (person.operatorId === null) keyboard.push([button(ctx.t('take'), { kind: 'take', client: clientId })]);
  else if (ctx.role === 'admin' || ctx.from?.id === person.operatorId || ownership.visibility === 'all')
    keyboard.push([button(ctx.t('handOver'), { kind: 'handOver', client: clientId })]);
  keyboard.push([button(ctx.t('history'), { kind: 'history', client: clientId }), button(ctx.t('back'), { kind: 'menu' })]);
  await show(ctx, edit, lines.join('\n'), keyboard);
}
