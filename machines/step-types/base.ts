/**
 * What every step type shares: the answer and value shapes, refusal codes, and the shape of one
 * registry entry (`StepTypeEntry`). Pure: no I/O, no clock, no i18n catalogue.
 */
import { z } from 'zod';
import type { ChoiceOption, Locale, StepDefinition, Text } from '../definition.js';

/** What the client sent, as the bot layer normalises a Telegram message or button press. */
export type Answer =
  | { kind: 'text'; text: string }
  | {
      kind: 'photo';
      fileId: string;
      fileUniqueId: string;
      mimeType?: string;
      size?: number;
      /** Telegram's `media_group_id`: the photo is one item of an album. */
      mediaGroupId?: string;
    }
  | {
      kind: 'document';
      fileId: string;
      fileUniqueId: string;
      mimeType?: string;
      size?: number;
      fileName?: string;
      /** Telegram's `media_group_id`: the file is one item of an album. */
      mediaGroupId?: string;
    }
  /** A shared contact; `ownContact`: it is the sender's own (its `user_id` is the sender's id). */
  | { kind: 'contact'; phone: string; ownContact: boolean }
  /** A shared location (a point; a venue counts as its point). */
  | { kind: 'location'; latitude: number; longitude: number }
  /** A press on one of the step's option buttons. */
  | { kind: 'choice'; optionId: string }
  | { kind: 'unsupported'; what: UnsupportedWhat };

export type UnsupportedWhat = 'sticker' | 'voice' | 'video' | 'video_note' | 'audio' | 'animation' | 'album' | 'other';

/** An answer a step type judges (unsupported messages are refused before any step type sees them). */
export type TypedAnswer = Exclude<Answer, { kind: 'unsupported' }>;

/** The normalised accepted value of a step. JSON-serialisable. */
export type StepValue =
  | { kind: 'text'; text: string }
  /** ISO `YYYY-MM-DD`. */
  | { kind: 'date'; date: string }
  | { kind: 'number'; value: number }
  | { kind: 'choice'; optionId: string }
  /** `+` followed by 10–15 digits. */
  | { kind: 'phone'; phone: string }
  | { kind: 'email'; email: string }
  | {
      kind: 'file';
      media: 'photo' | 'document';
      fileId: string;
      fileUniqueId: string;
      mimeType?: string;
      size?: number;
      fileName?: string;
    }
  /** WGS 84 degrees, as Telegram sends them. */
  | { kind: 'location'; latitude: number; longitude: number };

export type ValueKind = StepValue['kind'];
export type ValueOf<K extends ValueKind> = Extract<StepValue, { kind: K }>;

/** Every reason an answer can be refused. The app maps each code to a localised message. */
export const INVALID_CODES = [
  /** A document arrived where a photo is required (params.mimeType when known: an image file means "send it as a photo"). */
  'expected_photo',
  /** A photo arrived where a document is required. */
  'expected_document',
  /** Text (or a contact, a button) arrived where a file is required. */
  'expected_file',
  /** A file (or a contact, a stale button) arrived where text is required. */
  'expected_text',
  /** A sticker, voice, video, … (params.what). */
  'unsupported_message',
  'empty',
  /** params.min (characters). */
  'too_short',
  /** params.max (characters). */
  'too_long',
  /** The app shows step.patternError. */
  'pattern_mismatch',
  /** params.input. */
  'bad_date_format',
  /** Right shape, but no such calendar day (31.02.1990); params.input. */
  'not_a_date',
  /** params.min_age, params.age. */
  'too_young',
  /** params.max_age, params.age. */
  'too_old',
  /** params.min (ISO date). */
  'date_too_early',
  /** params.max (ISO date). */
  'date_too_late',
  /** A birth date (a date step with an age limit) after today. */
  'date_in_future',
  'bad_email',
  'bad_phone',
  /** A shared contact that is someone else's, at a phone step (the client's own number is wanted). */
  'not_own_contact',
  'not_a_number',
  /** params.min. */
  'number_too_small',
  /** params.max. */
  'number_too_large',
  'not_integer',
  /** Neither a known option id nor an option label. */
  'unknown_option',
  /** params.allowed (comma-separated list), params.mimeType. */
  'mime_not_allowed',
  /** params.maxMb. */
  'file_too_large',
  /** Anything but a shared location (text, a file, a contact) at a location step. */
  'expected_location',
] as const;
export type InvalidCode = (typeof INVALID_CODES)[number];

export type InvalidReason = { code: InvalidCode; params?: Record<string, string | number> };

export type ValidationResult = { ok: true; value: StepValue } | { ok: false; reason: InvalidReason };

export function fail(code: InvalidCode, params?: Record<string, string | number>): { ok: false; reason: InvalidReason } {
  return params ? { ok: false, reason: { code, params } } : { ok: false, reason: { code } };
}

// ---------------------------------------------------------------------------------------------
// Catalogue building blocks (the YAML shape, snake_case as ops staff write it)

/** A text in one or more locales; a plain string fills every locale. */
export const localized = z.union([
  z.string().trim().min(1, 'must not be empty'),
  z
    .strictObject({ ru: z.string().trim().min(1).optional(), en: z.string().trim().min(1).optional() })
    .refine((m) => m.ru !== undefined || m.en !== undefined, 'give the text in at least one locale (ru, en)'),
]);
export type Localized = z.infer<typeof localized>;

export const catalogueId = z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, 'lowercase letters, digits and _ (start with a letter, at most 32)');
export const isoDateString = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD');

/** A problem a step type finds across its catalogue keys; `path` is relative to the step. */
export interface StepProblem {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/** What normalisation of a catalogue step gets from the loader. */
export interface NormaliseContext {
  /** A catalogue text as a full `Text` (missing locales filled from the default one). */
  readonly text: (value: Localized) => Text;
}

/** What a value is displayed with. `step` is undefined when the flow's definition no longer has the step. */
export interface DisplayContext {
  readonly step: StepDefinition | undefined;
  readonly locale: Locale;
  /** The default locale, for a definition frozen before `locale` was added. */
  readonly fallback?: Locale;
}

/**
 * The keyboard a step's prompt offers, as data: the app turns it into Telegram markup. `options`:
 * one inline button per option; `request_contact` / `request_location`: a one-time reply keyboard
 * with the one sharing button.
 */
export type StepKeyboard =
  | { readonly kind: 'none' }
  | { readonly kind: 'options'; readonly options: readonly ChoiceOption[] }
  | { readonly kind: 'request_contact' }
  | { readonly kind: 'request_location' };

/** One step type: everything the rest of the code needs to know about it. */
export interface StepTypeEntry<K extends ValueKind = ValueKind> {
  /** The kind of value it stores (several types may share one: photo and document both store `file`). */
  readonly valueKind: K;
  /** The catalogue keys it accepts besides the common ones (id, prompt, label, optional, max_attempts). */
  readonly catalogue: z.ZodRawShape;
  /** Checks across its keys once the schema passed (min ≤ max, …). */
  check(input: Readonly<Record<string, unknown>>): readonly StepProblem[];
  /** Its keys from the catalogue as definition fields (camelCase). */
  normalise(input: Readonly<Record<string, unknown>>, context: NormaliseContext): Partial<StepDefinition>;
  /** Judges an answer; on success the normalised value. `today`: the client's date, ISO. */
  validate(step: StepDefinition, answer: TypedAnswer, today: string): ValidationResult;
  /** A stored value as plain text (summaries, review cards, history). */
  display(value: StepValue, context: DisplayContext): string;
  /** A stored value as one spreadsheet cell (defaults to `display`). */
  exportText(value: StepValue, context: DisplayContext): string;
  /** The keyboard its prompt offers. */
  keyboard(step: StepDefinition): StepKeyboard;
}

/** A step type as its file writes it: typed by its catalogue keys and its value kind. */
export interface StepTypeSpec<Shape extends z.ZodRawShape, K extends ValueKind> {
  readonly valueKind: K;
  readonly catalogue: Shape;
  check?(input: z.infer<z.ZodObject<Shape>>): readonly StepProblem[];
  normalise?(input: z.infer<z.ZodObject<Shape>>, context: NormaliseContext): Partial<StepDefinition>;
  validate(step: StepDefinition, answer: TypedAnswer, today: string): ValidationResult;
  display(value: ValueOf<K>, context: DisplayContext): string;
  exportText?(value: ValueOf<K>, context: DisplayContext): string;
  keyboard?(step: StepDefinition): StepKeyboard;
}

/**
 * A registry entry from a step type's typed spec. The loader hands `check` and `normalise` the whole
 * catalogue step: they read back only their own keys through the type's schema.
 */
export function defineStepType<Shape extends z.ZodRawShape, K extends ValueKind>(spec: StepTypeSpec<Shape, K>): StepTypeEntry<K> {
  const own = z.object(spec.catalogue);
  const ownKeys = (input: Readonly<Record<string, unknown>>) => own.parse(input);
  const isOwn = (value: StepValue): value is ValueOf<K> => value.kind === spec.valueKind;
  const display = (value: StepValue, context: DisplayContext) => (isOwn(value) ? spec.display(value, context) : `[${value.kind}]`);
  return {
    valueKind: spec.valueKind,
    catalogue: spec.catalogue,
    check: (input) => (spec.check ? spec.check(ownKeys(input)) : []),
    normalise: (input, context) => (spec.normalise ? spec.normalise(ownKeys(input), context) : {}),
    validate: (step, answer, today) => spec.validate(step, answer, today),
    display,
    exportText: (value, context) => (spec.exportText && isOwn(value) ? spec.exportText(value, context) : display(value, context)),
    keyboard: (step) => (spec.keyboard ? spec.keyboard(step) : { kind: 'none' }),
  };
}

/** The object without its undefined fields (definitions are hashed and stored as JSON). */
export function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
