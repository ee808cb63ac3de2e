import { pickText, type Locale, type StepDefinition } from '../../machines/definition.js';
import type { StepValue } from '../../machines/steps.js';

/** Escapes text for Telegram's HTML parse mode. */
export function html(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export interface PersonName {
  readonly id: number;
  readonly firstName: string;
  readonly lastName: string | null;
  readonly username: string | null;
}

/** "Anna Petrova (@anna)" or "id 123" for someone with no name. */
export function displayName(person: PersonName): string {
  const name = [person.firstName, person.lastName].filter((s) => s && s.trim() !== '').join(' ');
  const handle = person.username ? `@${person.username}` : '';
  if (name && handle) return `${name} (${handle})`;
  return name || handle || `id ${person.id}`;
}

/**
 * A step's short label in summaries (its id when it has none). `fallback`: the default locale, for a
 * definition frozen before the locale was added (see `pickText`).
 */
export function stepLabel(step: StepDefinition, locale: Locale, fallback?: Locale): string {
  return (step.label ? pickText(step.label, locale, fallback) : '') || step.id;
}

/** A date answer (`1990-06-15`) as people read it: `15.06.1990`; anything else unchanged. */
export function formatDate(iso: string): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  return match ? `${match[3]}.${match[2]}.${match[1]}` : iso;
}

/** A moment as people read it: `15.06.1990 14:05` (UTC, like every time the bot shows). */
export function formatTimestamp(date: Date): string {
  const iso = date.toISOString();
  return `${formatDate(iso.slice(0, 10))} ${iso.slice(11, 16)}`;
}

/**
 * A human form of an accepted value ("31.12.1990", the option's label, "📷 photo"): the one place an
 * answer is put into words for display (summaries, review cards, the operator's history). Plain text:
 * escape it, and cut it with `clip`, where it is shown.
 */
export function formatValue(step: StepDefinition | undefined, value: StepValue, locale: Locale, fallback?: Locale): string {
  switch (value.kind) {
    case 'text':
      return value.text;
    case 'date':
      return formatDate(value.date);
    case 'number':
      return String(value.value);
    case 'choice': {
      const option = step?.options?.find((o) => o.id === value.optionId);
      return (option ? pickText(option.label, locale, fallback) : '') || value.optionId;
    }
    case 'phone':
      return value.phone;
    case 'email':
      return value.email;
    case 'file':
      return value.media === 'photo'
        ? locale === 'ru'
          ? '📷 фото'
          : '📷 photo'
        : `📄 ${value.fileName ?? (locale === 'ru' ? 'файл' : 'file')}`;
    default:
      return unknownKind(value);
  }
}

/**
 * Every answer kind is handled above: a new kind of `StepValue` fails to compile here. At run time a
 * stored value of a kind this version does not know shows as its kind.
 */
function unknownKind(value: never): string {
  const kind: unknown = (value as { kind?: unknown } | null)?.kind;
  return `[${typeof kind === 'string' ? kind : '?'}]`;
}
