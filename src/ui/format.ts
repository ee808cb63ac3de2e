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

/** A step's short label in summaries. */
export function stepLabel(step: StepDefinition, locale: Locale): string {
  return step.label ? pickText(step.label, locale) : step.id;
}

/** A human form of an accepted value ("31.12.1990", the option's label, "📷 photo"). */
export function formatValue(step: StepDefinition, value: StepValue, locale: Locale): string {
  switch (value.kind) {
    case 'text':
      return value.text;
    case 'date': {
      const [y, m, d] = value.date.split('-');
      return `${d}.${m}.${y}`;
    }
    case 'number':
      return String(value.value);
    case 'choice': {
      const option = step.options?.find((o) => o.id === value.optionId);
      return option ? pickText(option.label, locale) : value.optionId;
    }
    case 'phone':
      return value.phone;
    case 'email':
      return value.email;
    case 'file':
      return value.media === 'photo' ? (locale === 'ru' ? '📷 фото' : '📷 photo') : `📄 ${value.fileName ?? (locale === 'ru' ? 'файл' : 'file')}`;
  }
}
