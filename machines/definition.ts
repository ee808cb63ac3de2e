/**
 * The typed shape of one request type from the catalogue, after validation and normalisation.
 * `src/config/catalogue.ts` produces these; machines and the flow service consume them.
 * A flow stores the definition it started with (frozen), so this shape is also persisted as JSON:
 * keep it plain data.
 */

export const LOCALES = ['ru', 'en'] as const;
export type Locale = (typeof LOCALES)[number];

/**
 * Text in every supported locale (a plain string in the catalogue fills every locale). A definition
 * frozen in a flow before a locale was added lacks that locale: read texts only through `pickText`.
 */
export type Text = Readonly<Record<Locale, string>>;

/** The grammatical gender of a title, for texts that agree with it: masculine, feminine, neuter, plural. */
export const GENDERS = ['m', 'f', 'n', 'pl'] as const;
export type Gender = (typeof GENDERS)[number];

/** Every step type; each has its entry in `step-types/` (the registry must cover this list). */
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
  'location',
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
  /** The title's grammatical gender per locale that has one (Russian); absent: texts avoid agreeing with it. */
  readonly gender?: Readonly<Partial<Record<Locale, Gender>>>;
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
  /**
   * The shape version of a definition stored in a flow (`DEFINITION_FORMAT` when written; a stored
   * definition without it is format 0). Catalogue entries have none: it is not part of the hash.
   */
  readonly format?: number;
}

/** The shape version written with every definition a flow stores (see `readStoredDefinition`). */
export const DEFINITION_FORMAT = 1;

/**
 * Each step of the way from one stored format to the next: `MIGRATIONS[n]` turns format n into n + 1.
 * Format 0 (stored before formats existed) has the shape of format 1 without the field.
 */
const MIGRATIONS: readonly ((definition: Record<string, unknown>) => Record<string, unknown>)[] = [(definition) => definition];

/** The definition as a flow stores it: tagged with the current format. */
export function storedDefinition(definition: RequestDefinition): RequestDefinition {
  return { ...definition, format: DEFINITION_FORMAT };
}

/**
 * A definition read back from a flow, migrated to the current format. Tolerant: a definition without a
 * format is format 0; one from a newer format (written by a newer version) is taken as it is.
 */
export function readStoredDefinition(stored: RequestDefinition): RequestDefinition {
  const raw = stored as unknown as Record<string, unknown>;
  const format = typeof raw['format'] === 'number' && Number.isInteger(raw['format']) && raw['format'] >= 0 ? raw['format'] : 0;
  if (format >= DEFINITION_FORMAT) return stored;
  let migrated = raw;
  for (let from = format; from < DEFINITION_FORMAT; from++) {
    const migrate = MIGRATIONS[from];
    if (migrate) migrated = migrate(migrated);
  }
  return { ...(migrated as unknown as RequestDefinition), format: DEFINITION_FORMAT };
}

/**
 * The title of a stored definition read on its own (`definition -> 'title'`: lists and cards need no
 * more of it). No format so far has changed the title; a migration that does must change it here too.
 */
export function readStoredTitle(stored: Text | null): Text {
  return stored ?? ({} as Text);
}

/**
 * The text for a locale; when it has none (a definition frozen before the locale was added), the text
 * in `fallback` (the default locale), then in any locale; '' when there is no text at all.
 */
export function pickText(text: Readonly<Partial<Record<string, string>>> | undefined, locale: Locale, fallback?: Locale): string {
  if (!text) return '';
  // In order, without building a list of candidates: this runs for every text of every message and card.
  const own = text[locale];
  if (usable(own)) return own;
  const preferred = fallback === undefined ? undefined : text[fallback];
  if (usable(preferred)) return preferred;
  for (const l of LOCALES) {
    const value = text[l];
    if (usable(value)) return value;
  }
  for (const value of Object.values(text)) if (usable(value)) return value;
  return '';
}

const usable = (value: unknown): value is string => typeof value === 'string' && value !== '';
