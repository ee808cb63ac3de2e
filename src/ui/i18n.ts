import { LOCALES, type Locale } from '../../machines/definition.js';
import type { InvalidCode } from '../../machines/steps.js';
import { en } from './locales/en.js';
import { ru } from './locales/ru.js';

export type Params = Readonly<Record<string, string | number | undefined>>;
/** A message is fixed text or a function of named parameters. */
export type Message = string | ((params: Params) => string);

/** The loose shape the English messages are checked against. */
export interface MessageCatalog {
  readonly [key: string]: Message | Readonly<Record<InvalidCode, Message>>;
  readonly invalid: Readonly<Record<InvalidCode, Message>>;
}

export type MessageKey = Exclude<keyof typeof en, 'invalid' | number>;
/** Every bot text: the English keys, required in every other locale too. */
export type Messages = Readonly<Record<MessageKey, Message>> & { readonly invalid: Readonly<Record<InvalidCode, Message>> };

const LOCALE_MESSAGES: Readonly<Record<Locale, Messages>> = { ru, en };

/** The locale for a Telegram `language_code`, falling back to the default. */
export function localeOf(languageCode: string | null | undefined, fallback: Locale): Locale {
  const base = languageCode?.toLowerCase().split('-')[0];
  return (LOCALES as readonly string[]).includes(base ?? '') ? (base as Locale) : fallback;
}

function render(message: Message | undefined, params: Params): string {
  if (message === undefined) return '';
  return typeof message === 'string' ? message : message(params);
}

/** The text of a bot message in a locale. */
export function t(locale: Locale, key: MessageKey, params: Params = {}): string {
  return render(LOCALE_MESSAGES[locale][key], params);
}

/** The text of a refused answer's reason. */
export function tInvalid(locale: Locale, code: InvalidCode, params: Params = {}): string {
  return render(LOCALE_MESSAGES[locale].invalid[code], params);
}
