import type { Locale, StepDefinition } from '../../machines/definition.js';
import { formatValue } from '../ui/format.js';
import { stepTypeOfValue, type StepValue } from '../../machines/steps.js';

/**
 * A stored answer as one spreadsheet cell: dates as DD.MM.YYYY, a choice as its label (in `locale`), a
 * file as its kind and `file_unique_id` ("photo AgAD…"), a location as "48.85837, 2.29448" (its step
 * type's `exportText`). `step` is the definition the flow ran with; without it a choice shows its option id.
 */
export function answerText(step: StepDefinition | undefined, value: StepValue, locale: Locale): string {
  const entry = stepTypeOfValue(value);
  return entry ? entry.exportText(value, { step, locale }) : formatValue(step, value, locale);
}

/** `2026-11-30T09:15:02Z`: ISO 8601 in UTC, to the second. */
export function isoUtc(date: Date | null): string {
  return date === null ? '' : `${date.toISOString().slice(0, 19)}Z`;
}

/** `2026-11-30`: the UTC date, for file names. */
export function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** First and last name ("" when the person has neither). */
export function fullName(person: { readonly firstName: string; readonly lastName: string | null } | null): string {
  if (!person) return '';
  return [person.firstName, person.lastName].filter((s): s is string => typeof s === 'string' && s.trim() !== '').join(' ');
}
