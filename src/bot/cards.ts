/**
 * Cards the staff features share: the client card (shown from the menus and redrawn after a control on
 * it was pressed) and the helpers that draw a menu message in place.
 */
import type { InlineKeyboardButton } from 'telegraf/types';
import { pickText, type Text } from '../../machines/definition.js';
import type { FlowStatus } from '../flows/statuses.js';
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

/**
 * The client card (src/ui/client-card.ts draws it), kept current from then on: a change to any of the
 * client's requests redraws it. One read (the client, their owner and their open requests, titles only
 * but for what the active one shows), the card, and one write recording it.
 */
export async function showClient(ctx: BotContext, clientId: number, edit: boolean): Promise<void> {
  const { flows, catalogue, ownership } = ctx.deps;
  const state = await flows.clientCard(clientId);
  if (!state) {
    await ctx.answerCbQuery(ctx.t('refusal_client_not_found')).catch(() => {});
    return;
  }
  const { client, owner, open } = state;
  if (ctx.from && !(await ownership.maySeeOwned(ctx.from.id, client.ownerId))) {
    await ctx.answerCbQuery(ctx.t('refusal_not_owner'), { show_alert: true }).catch(() => {});
    return;
  }
  const card = clientCard({
    person: { ...client, operatorId: client.ownerId },
    open,
    requests: catalogue().requests,
    locale: ctx.locale,
    defaultLocale: ctx.deps.defaultLocale,
    owner,
    mayHandOver: ctx.role === 'admin' || ctx.from?.id === client.ownerId || ownership.visibility === 'all',
  });
  const messageId = await show(ctx, edit, card.text, card.keyboard);
  if (messageId !== null && ctx.chat) await flows.cardShown({ chatId: ctx.chat.id, messageId, clientId });
}
