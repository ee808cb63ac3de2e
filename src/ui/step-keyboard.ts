import type { Locale } from '../../machines/definition.js';
import type { StepKeyboard } from '../../machines/steps.js';
import { t } from './i18n.js';

/** A Bot API `ReplyKeyboardMarkup`, as an outbox payload carries it. */
export type ReplyKeyboard = Record<string, unknown>;

/**
 * The reply keyboard for a step's keyboard description, or undefined when it has none (`none`, and
 * `options`, which are inline buttons with the prompt's callback data). One-time: it hides once used.
 */
export function replyKeyboardOf(keyboard: StepKeyboard, locale: Locale): ReplyKeyboard | undefined {
  switch (keyboard.kind) {
    case 'none':
    case 'options':
      return undefined;
    case 'request_contact':
      return oneButton({ text: t(locale, 'sharePhone'), request_contact: true });
    case 'request_location':
      return oneButton({ text: t(locale, 'shareLocation'), request_location: true });
    default:
      return unknownKeyboard(keyboard);
  }
}

function oneButton(button: Readonly<Record<string, unknown>>): ReplyKeyboard {
  return { keyboard: [[button]], resize_keyboard: true, one_time_keyboard: true };
}

/** Every keyboard kind is handled above: a new kind fails to compile here. */
function unknownKeyboard(keyboard: never): undefined {
  void keyboard;
  return undefined;
}
