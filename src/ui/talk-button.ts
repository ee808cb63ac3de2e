import type { Locale } from '../../machines/definition.js';
import { pack } from './callback-data.js';
import { t } from './i18n.js';

type Markup = Readonly<Record<string, unknown>>;

/** The client's "💬 Message the operator" inline button. */
export function talkButton(locale: Locale): { text: string; callback_data: string } {
  return { text: t(locale, 'talkButton'), callback_data: pack({ kind: 'talk' }) };
}

/**
 * A prompt's reply markup with "💬 Message the operator" added: a row of its inline keyboard, or, on a
 * reply keyboard (the phone step's "share my number"), a plain button whose text the bot recognises.
 */
export function withTalkButton(markup: Markup | undefined, locale: Locale): Markup {
  if (markup === undefined) return { inline_keyboard: [[talkButton(locale)]] };
  const inline = markup['inline_keyboard'];
  if (Array.isArray(inline)) return { ...markup, inline_keyboard: [...(inline as unknown[]), [talkButton(locale)]] };
  const keyboard = markup['keyboard'];
  if (Array.isArray(keyboard)) return { ...markup, keyboard: [...(keyboard as unknown[]), [{ text: t(locale, 'talkButton') }]] };
  return markup;
}
