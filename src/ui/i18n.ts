import { LOCALES, type Locale } from '../../machines/definition.js';
import type { InvalidCode } from '../../machines/steps.js';
import type { FlowStatus } from '../flows/statuses.js';
import type { Refusal } from '../flows/types.js';
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

export const isLocale = (value: unknown): value is Locale => typeof value === 'string' && (LOCALES as readonly string[]).includes(value);

/** Each supported locale's name, in itself (the /language buttons). */
export const LOCALE_NAMES: Readonly<Record<Locale, string>> = { en: 'English', ru: 'Русский' };

/** The locale for a Telegram `language_code`, falling back to the default. */
export function localeOf(languageCode: string | null | undefined, fallback: Locale): Locale {
  const base = languageCode?.toLowerCase().split('-')[0];
  return isLocale(base) ? base : fallback;
}

/**
 * The locale the bot writes to a person in: the one they chose with /language, else their Telegram
 * language when it is supported, else the default.
 */
export function personLocale(
  person: { readonly locale?: string | null; readonly languageCode?: string | null } | null | undefined,
  fallback: Locale,
): Locale {
  return isLocale(person?.locale) ? person.locale : localeOf(person?.languageCode, fallback);
}

function render(message: Message | undefined, params: Params): string {
  if (message === undefined) return '';
  return typeof message === 'string' ? message : message(params);
}

/** The text of a bot message in a locale. */
export function t(locale: Locale, key: MessageKey, params: Params = {}): string {
  return render(LOCALE_MESSAGES[locale][key], params);
}

const STATUS_KEYS = {
  queued: 'status_queued',
  collecting: 'status_collecting',
  confirming: 'status_confirming',
  in_review: 'status_in_review',
  needs_operator: 'status_needs_operator',
  completed: 'status_completed',
  cancelled: 'status_cancelled',
  expired: 'status_expired',
} as const satisfies Record<FlowStatus, MessageKey>;

/** A request's status, as staff see it. */
export function tStatus(locale: Locale, status: FlowStatus): string {
  return t(locale, STATUS_KEYS[status]);
}

const REFUSAL_KEYS = {
  duplicate_update: 'refusal_duplicate_update',
  no_active_request: 'refusal_no_active_request',
  flow_not_found: 'refusal_flow_not_found',
  not_your_request: 'refusal_not_your_request',
  unknown_request_type: 'refusal_unknown_request_type',
  client_not_found: 'refusal_client_not_found',
  client_not_started: 'refusal_client_not_started',
  client_blocked: 'refusal_client_blocked',
  stale: 'refusal_stale',
  already_accepted: 'refusal_already_accepted',
  request_cancelled: 'refusal_request_cancelled',
  request_expired: 'refusal_request_expired',
  request_queued: 'refusal_request_queued',
  not_allowed: 'refusal_not_allowed',
  cancel_not_allowed: 'refusal_cancel_not_allowed',
  not_owner: 'refusal_not_owner',
} as const satisfies Record<Refusal['code'], MessageKey>;

/** Why a command was refused, as staff see it. */
export function tRefusal(locale: Locale, refusal: Refusal): string {
  return t(locale, REFUSAL_KEYS[refusal.code], 'status' in refusal ? { status: tStatus(locale, refusal.status) } : {});
}

/** The text of a refused answer's reason. */
export function tInvalid(locale: Locale, code: InvalidCode, params: Params = {}): string {
  return render(LOCALE_MESSAGES[locale].invalid[code], params);
}
