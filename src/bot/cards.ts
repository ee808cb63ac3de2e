/**
 * Cards the staff features share: the client card (shown from the menus and redrawn after a control on
 * it was pressed) and the helpers that draw a menu message in place.
 */
import type { InlineKeyboardButton } from 'telegraf/types';
import { pickText, type Text } from '../../machines/definition.js';
import { isFinal, type FlowStatus } from '../flows/statuses.js';
import { tStatus } from '../ui/i18n.js';
import type { BotContext } from './context.js';
import { inline } from './keyboards.js';
import { parse } from '../ui/callback-data.js';
import { clientCard } from '../ui/client-card.js';

/**
 * Replaces the menu message in place when it came from a button, or sends a new one; resolves to the
 * message shown. A client card replaced by something else is no longer kept current.
 */
export async function show(ctx: BotContext, edit: boolean, text: string, keyboard: InlineKeyboardButton[][]): Promise<number | null> {
  const extra = { parse_mode: 'HTML' as const, ...inline(keyboard) };
  const message = ctx.callbackQuery?.message;
  if (edit && message) {
    try {
      await ctx.editMessageText(text, extra);
      if (isClientCard(message) && !hasHistoryButton(keyboard) && ctx.chat)
        await ctx.deps.flows.cardClosed({ chatId: ctx.chat.id, messageId: message.message_id });
      return message.message_id;
    } catch (error) {
      // Already showing this (the outbox redrew it first): nothing to do. Too old to edit: send it anew.
      if (error instanceof Error && /message is not modified/.test(error.message)) return message.message_id;
    }
  }
  return (await ctx.reply(text, extra)).message_id;
}

/** Whether a message or keyboard is a client card: it has the History button. */
function isClientCard(message: { reply_markup?: { inline_keyboard: InlineKeyboardButton[][] } } | object): boolean {
  const keyboard = 'reply_markup' in message ? message.reply_markup?.inline_keyboard : undefined;
  return hasHistoryButton(keyboard ?? []);
}

function hasHistoryButton(keyboard: InlineKeyboardButton[][]): boolean {
  return keyboard.flat().some((b) => 'callback_data' in b && parse(b.callback_data)?.kind === 'history');
}

/** A catalogue or frozen text in the operator's language (a frozen one may lack it: see `pickText`). */
export function textIn(ctx: BotContext, text: Text): string {
  return pickText(text, ctx.locale, ctx.deps.defaultLocale);
}

/** A request status as a short label in the viewer's language (nothing for none). */
export function badge(ctx: BotContext, status: FlowStatus | null): string {
  return status ? tStatus(ctx.locale, status) : '';
}

/** The client card (src/ui/client-card.ts draws it), kept current from then on: a change to any of the client's requests redraws it. */
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
  const card = clientCard({
    person,
    open: open.map((f) => ({
      id: f.id,
      version: f.id === active?.id ? active.version : f.version,
      status: f.id === active?.id ? active.status : f.status,
      title: f.definition.title,
      view: f.id === active?.id ? active.view : null,
    })),
    requests: catalogue().requests,
    locale: ctx.locale,
    defaultLocale: ctx.deps.defaultLocale,
    owner: owner ?? null,
    mayHandOver: ctx.role === 'admin' || ctx.from?.id === person.operatorId || ownership.visibility === 'all',
  });
  const messageId = await show(ctx, edit, card.text, card.keyboard);
  if (messageId !== null && ctx.chat) await flows.cardShown({ chatId: ctx.chat.id, messageId, clientId });
}
