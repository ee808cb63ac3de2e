/**
 * The typed shape of one request type from the catalogue, after validation and normalisation.
 * `src/config/catalogue.ts` produces these; machines and the flow service consume them.
 * A flow stores the definition it started with (frozen), so this shape is also persisted as JSON:
 * keep it plain data.
 */

export const LOCALES = ['ru', 'en'] as const;
export type Locale = (typeof LOCALES)[number];

/** Text in every supported locale (a plain string in the catalogue fills every locale). */
export type Text = Readonly<Record<Locale, string>>;

export const STEP_TYPES = [
  'photo',
  'document',
  'photo_or_document',
  'text',
  'date',
  'choice',
  'phone',
  'email',
  'number',
] as const;
export type StepType = (typeof STEP_TYPES)[number];

export interface ChoiceOption {
  readonly id: string;
  readonly label: Text;
}

export interface StepDefinition {
  readonly id: string;
  readonly type: StepType;
  readonly prompt: Text;
  /** Optional steps can be skipped by the client. */
  readonly optional: boolean;
  /** Invalid answers in a row before the flow is parked for an operator. */
  readonly maxAttempts: number;
  /** Short label used in summaries and review cards; defaults to the step id. */
  readonly label?: Text;
  // text
  readonly minLength?: number;
  readonly maxLength?: number;
  /** A JavaScript regular expression source the whole answer must match. */
  readonly pattern?: string;
  readonly patternError?: Text;
  // date (ages in whole years at the time of answering; dates as ISO `YYYY-MM-DD`)
  readonly minAge?: number;
  readonly maxAge?: number;
  readonly minDate?: string;
  readonly maxDate?: string;
  // number
  readonly min?: number;
  readonly max?: number;
  readonly integer?: boolean;
  // choice
  readonly options?: readonly ChoiceOption[];
  // photo / document
  readonly mimeTypes?: readonly string[];
  readonly maxSizeMb?: number;
}

export interface RequestDefinition {
  readonly id: string;
  readonly title: Text;
  readonly description?: Text;
  /** The operator accepts the answers or asks again. */
  readonly review: boolean;
  /** The client confirms a summary before the answers go on. */
  readonly confirm: boolean;
  /** The client may cancel the request themselves. */
  readonly clientCancel: boolean;
  /** Milliseconds of client silence before a reminder; null: never. */
  readonly remindAfterMs: number | null;
  /** Milliseconds after the start when an unfinished request expires; null: never. */
  readonly expireAfterMs: number | null;
  readonly steps: readonly StepDefinition[];
  /** A stable content hash of the normalised entry (sha256 hex of its canonical JSON). */
  readonly hash: string;
}

/** Pick the text for a locale, falling back to any available text. */
export function pickText(text: Text, locale: Locale): string {
  return text[locale] ?? text.ru ?? text.en ?? '';
}
