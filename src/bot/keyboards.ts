import { Markup } from 'telegraf';
import type { InlineKeyboardButton } from 'telegraf/types';
import { pack, type CallbackData } from '../ui/callback-data.js';

/** An inline button with typed callback data. */
export function button(text: string, data: CallbackData): InlineKeyboardButton.CallbackButton {
  return Markup.button.callback(text, pack(data));
}

/** Lays buttons out `perRow` to a row. */
export function rows<T>(buttons: readonly T[], perRow: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < buttons.length; i += perRow) out.push(buttons.slice(i, i + perRow));
  return out;
}

export function inline(keyboard: InlineKeyboardButton[][]) {
  return Markup.inlineKeyboard(keyboard);
}
