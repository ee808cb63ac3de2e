import { pickText, type Locale, type StepDefinition } from '../../machines/definition.js';
import { stepTypeOfValue, type StepValue } from '../../machines/steps.js';
import { showDate } from '../../machines/step-types/date.js';

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
  return showDate(iso);
}

/** A moment as people read it: `15.06.1990 14:05` (UTC, like every time the bot shows). */
export function formatTimestamp(date: Date): string {
  const iso = date.toISOString();
  return `${formatDate(iso.slice(0, 10))} ${iso.slice(11, 16)}`;
}

/**
 * A human form of an accepted value ("31.12.1990", the option's label, "📷 photo", "48.85837, 2.29448"):
 * the one place an answer is put into words for display (summaries, review cards, the operator's
 * history), through its step type's `display`. Plain text: escape it, and cut it with `clip`, where it
 * is shown.
 */
export function formatValue(step: StepDefinition | undefined, value: StepValue, locale: Locale, fallback?: Locale): string {
  const entry = stepTypeOfValue(value);
  return entry ? entry.display(value, { step, locale, ...(fallback ? { fallback } : {}) }) : unknownKind(value);
}

/** A stored value of a kind this version does not know shows as its kind. */
function unknownKind(value: unknown): string {
  const kind: unknown = (value as { kind?: unknown } | null)?.kind;
  return `[${typeof kind === 'string' ? kind : '?'}]`;
}
