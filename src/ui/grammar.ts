/**
 * Grammar for bot texts: plural forms of counted words (CLDR rules through `Intl.PluralRules`) and the
 * grammatical gender a request type's title has in a locale (from the catalogue).
 */
import { GENDERS, type Gender, type Locale, type RequestDefinition } from '../../machines/definition.js';

/** The forms each locale's plural rules need for whole numbers: Russian one/few/many, English one/other. */
export interface PluralForms {
  readonly ru: { readonly one: string; readonly few: string; readonly many: string };
  readonly en: { readonly one: string; readonly other: string };
}

const RULES = new Map<Locale, Intl.PluralRules>();
const rulesOf = (locale: Locale): Intl.PluralRules => {
  let rules = RULES.get(locale);
  if (!rules) RULES.set(locale, (rules = new Intl.PluralRules(locale)));
  return rules;
};

/**
 * The form of a counted phrase for `n`, with every `#` replaced by the number:
 * `plural('ru', 21, { one: '# попытка', few: '# попытки', many: '# попыток' })` → "21 попытка".
 * A form may agree more than the noun ("Осталась # попытка" / "Осталось # попытки").
 */
export function plural<L extends Locale>(locale: L, n: number, forms: PluralForms[L]): string {
  const category = rulesOf(locale).select(n);
  const all: Readonly<Partial<Record<string, string>>> = forms;
  // Fractions are "other" in Russian; they read like "few" (1,5 попытки).
  const form = all[category] ?? all['other'] ?? all['few'] ?? all['one'] ?? '';
  return form.replaceAll('#', String(n));
}

/** A count from message parameters (they arrive as string | number). */
export const count = (value: string | number | undefined): number => (typeof value === 'number' ? value : Number(value));

/** A Russian word that agrees with a title of the given gender; `fallback` when the title has none. */
export function byGender(gender: string | number | undefined, forms: Readonly<Record<Gender, string>>, fallback: string): string {
  return isGender(gender) ? forms[gender] : fallback;
}

export function isGender(value: unknown): value is Gender {
  return typeof value === 'string' && (GENDERS as readonly string[]).includes(value);
}

/** The gender of a request type's title in a locale, as a message parameter (absent when unknown). */
export function genderOf(definition: Pick<RequestDefinition, 'gender'>, locale: Locale): Gender | undefined {
  const gender: unknown = definition.gender?.[locale];
  return isGender(gender) ? gender : undefined;
}
