/**
 * Answer validation for every step type, in one place. Pure: no I/O, no clock (the caller passes
 * `today`), no i18n (failures are codes with params; the app localises them).
 */
import { LOCALES, type StepDefinition } from './definition.js';

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
  /** A press on one of the step's option buttons. */
  | { kind: 'choice'; optionId: string }
  | { kind: 'unsupported'; what: UnsupportedWhat };

export type UnsupportedWhat = 'sticker' | 'voice' | 'video' | 'video_note' | 'audio' | 'location' | 'animation' | 'album' | 'other';

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
    };

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
] as const;
export type InvalidCode = (typeof INVALID_CODES)[number];

export type InvalidReason = { code: InvalidCode; params?: Record<string, string | number> };

export type ValidationResult = { ok: true; value: StepValue } | { ok: false; reason: InvalidReason };

/** Telegram re-encodes every photo as JPEG, so a photo without a MIME type is treated as this. */
const PHOTO_MIME = 'image/jpeg';
const MB = 1024 * 1024;

function fail(code: InvalidCode, params?: Record<string, string | number>): { ok: false; reason: InvalidReason } {
  return params ? { ok: false, reason: { code, params } } : { ok: false, reason: { code } };
}

/**
 * Validate `answer` for `step`; on success return the normalised value.
 * `today` is the client's current date (ISO `YYYY-MM-DD`), used for age limits and future dates.
 */
export function validateAnswer(step: StepDefinition, answer: Answer, today: string): ValidationResult {
  if (answer.kind === 'unsupported') return fail('unsupported_message', { what: answer.what });
  switch (step.type) {
    case 'photo':
    case 'document':
    case 'photo_or_document':
      return validateFile(step, answer);
    case 'text':
      return answer.kind === 'text' ? validateText(step, answer.text) : fail('expected_text');
    case 'date':
      return answer.kind === 'text' ? validateDate(step, answer.text, today) : fail('expected_text');
    case 'number':
      return answer.kind === 'text' ? validateNumber(step, answer.text) : fail('expected_text');
    case 'email':
      return answer.kind === 'text' ? validateEmail(answer.text) : fail('expected_text');
    case 'phone':
      if (answer.kind === 'contact') return answer.ownContact ? validatePhone(answer.phone, true) : fail('not_own_contact');
      return answer.kind === 'text' ? validatePhone(answer.text, false) : fail('expected_text');
    case 'choice':
      if (answer.kind === 'choice') return validateChoiceId(step, answer.optionId);
      return answer.kind === 'text' ? validateChoiceText(step, answer.text) : fail('expected_text');
  }
}

/** The album (Telegram media group) a photo or document answer is one item of, if any. */
export function mediaGroupOf(answer: Answer): string | undefined {
  return answer.kind === 'photo' || answer.kind === 'document' ? answer.mediaGroupId : undefined;
}

// ---------------------------------------------------------------------------------------------
// files

function validateFile(step: StepDefinition, answer: Answer): ValidationResult {
  if (answer.kind !== 'photo' && answer.kind !== 'document') return fail('expected_file');
  if (step.type === 'photo' && answer.kind === 'document') {
    return answer.mimeType ? fail('expected_photo', { mimeType: answer.mimeType }) : fail('expected_photo');
  }
  if (step.type === 'document' && answer.kind === 'photo') return fail('expected_document');

  const mimeType = answer.mimeType ?? (answer.kind === 'photo' ? PHOTO_MIME : undefined);
  if (mimeType !== undefined && step.mimeTypes && step.mimeTypes.length > 0) {
    if (!step.mimeTypes.some((pattern) => mimeMatches(pattern, mimeType))) {
      return fail('mime_not_allowed', { allowed: step.mimeTypes.join(', '), mimeType });
    }
  }
  if (answer.size !== undefined && step.maxSizeMb !== undefined && answer.size > step.maxSizeMb * MB) {
    return fail('file_too_large', { maxMb: step.maxSizeMb });
  }

  const value: Extract<StepValue, { kind: 'file' }> = {
    kind: 'file',
    media: answer.kind,
    fileId: answer.fileId,
    fileUniqueId: answer.fileUniqueId,
  };
  if (answer.mimeType !== undefined) value.mimeType = answer.mimeType;
  if (answer.size !== undefined) value.size = answer.size;
  if (answer.kind === 'document' && answer.fileName !== undefined) value.fileName = answer.fileName;
  return { ok: true, value };
}

/** `image/*` matches any image type, `*` or `*\/*` matches anything; comparison ignores case and parameters. */
export function mimeMatches(pattern: string, mimeType: string): boolean {
  const p = pattern.trim().toLowerCase();
  const m = (mimeType.split(';')[0] ?? '').trim().toLowerCase();
  if (p === '*' || p === '*/*') return true;
  if (p.endsWith('/*')) return m.startsWith(p.slice(0, -1));
  return p === m;
}

// ---------------------------------------------------------------------------------------------
// text

function validateText(step: StepDefinition, raw: string): ValidationResult {
  const text = raw.trim().normalize('NFC');
  if (text.length === 0) return fail('empty');
  const length = [...text].length;
  if (step.minLength !== undefined && length < step.minLength) return fail('too_short', { min: step.minLength });
  if (step.maxLength !== undefined && length > step.maxLength) return fail('too_long', { max: step.maxLength });
  if (step.pattern !== undefined) {
    const re = compilePattern(step.pattern);
    if (!re || !re.test(text)) return fail('pattern_mismatch');
  }
  return { ok: true, value: { kind: 'text', text } };
}

/**
 * The full-match regular expression for a step's `pattern` (`^(?:pattern)$`, flag `u`), or null
 * when the source is not a valid regular expression (the catalogue loader can use this to reject it).
 */
export function compilePattern(pattern: string): RegExp | null {
  try {
    return new RegExp(`^(?:${pattern})$`, 'u');
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// dates

const DMY = /^(\d{1,2})([./])(\d{1,2})\2(\d{4})$/;
const ISO = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * Parse `DD.MM.YYYY`, `D.M.YYYY`, `DD/MM/YYYY` (also `D/M/YYYY`) or `YYYY-MM-DD` (surrounding
 * whitespace ignored) into an ISO date. A well-formed string that is no calendar day (31.02.1990,
 * 29.02.2023) is `not_a_date`.
 */
export function parseDate(text: string): { ok: true; date: string } | { ok: false; code: 'bad_date_format' | 'not_a_date' } {
  const input = text.trim();
  let year: number;
  let month: number;
  let day: number;
  const dmy = DMY.exec(input);
  const iso = dmy ? null : ISO.exec(input);
  if (dmy) {
    day = Number(dmy[1]);
    month = Number(dmy[3]);
    year = Number(dmy[4]);
  } else if (iso) {
    year = Number(iso[1]);
    month = Number(iso[2]);
    day = Number(iso[3]);
  } else {
    return { ok: false, code: 'bad_date_format' };
  }
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    return { ok: false, code: 'not_a_date' };
  }
  return { ok: true, date: isoDate(year, month, day) };
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function isoDate(year: number, month: number, day: number): string {
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/**
 * Whole years between the ISO dates `birth` and `today` (a person born on 29 February becomes a
 * year older on 1 March in non-leap years). Both dates must be valid ISO dates.
 */
export function ageOn(birth: string, today: string): number {
  const [by, bm, bd] = birth.split('-').map(Number);
  const [ty, tm, td] = today.split('-').map(Number);
  if (by === undefined || bm === undefined || bd === undefined || ty === undefined || tm === undefined || td === undefined) {
    return Number.NaN;
  }
  let age = ty - by;
  if (tm < bm || (tm === bm && td < bd)) age -= 1;
  return age;
}

function validateDate(step: StepDefinition, raw: string, today: string): ValidationResult {
  const input = raw.trim();
  if (input.length === 0) return fail('empty');
  const parsed = parseDate(input);
  if (!parsed.ok) return fail(parsed.code, { input });
  const date = parsed.date;
  // ISO dates compare correctly as strings.
  if (step.minDate !== undefined && date < step.minDate) return fail('date_too_early', { min: step.minDate });
  if (step.maxDate !== undefined && date > step.maxDate) return fail('date_too_late', { max: step.maxDate });
  const hasAgeLimit = step.minAge !== undefined || step.maxAge !== undefined;
  // An unparsable `today` is a caller bug; the age checks are then skipped rather than throwing.
  if (hasAgeLimit && ISO.test(today)) {
    if (date > today) return fail('date_in_future');
    const age = ageOn(date, today);
    if (step.minAge !== undefined && age < step.minAge) return fail('too_young', { min_age: step.minAge, age });
    if (step.maxAge !== undefined && age > step.maxAge) return fail('too_old', { max_age: step.maxAge, age });
  }
  return { ok: true, value: { kind: 'date', date } };
}

// ---------------------------------------------------------------------------------------------
// numbers, e-mail, phone

/** Optional sign, digits, optional fraction; `,` works as the decimal separator, spaces group digits. */
const NUMBER = /^[+-]?\d+(?:\.\d+)?$/;

function validateNumber(step: StepDefinition, raw: string): ValidationResult {
  const input = raw.trim();
  if (input.length === 0) return fail('empty');
  const compact = input.replace(/(?<=\d)[\s\u00a0\u202f](?=\d)/gu, '').replace(/(?<=\d),(?=\d)/u, '.');
  if (!NUMBER.test(compact)) return fail('not_a_number');
  const value = Number(compact);
  if (!Number.isFinite(value)) return fail('not_a_number');
  if (step.integer === true && !Number.isInteger(value)) return fail('not_integer');
  if (step.min !== undefined && value < step.min) return fail('number_too_small', { min: step.min });
  if (step.max !== undefined && value > step.max) return fail('number_too_large', { max: step.max });
  // Avoid -0 in stored values.
  return { ok: true, value: { kind: 'number', value: value === 0 ? 0 : value } };
}

const EMAIL = /^[^\s@]+@[^\s@.]+(?:\.[^\s@.]+)+$/u;

function validateEmail(raw: string): ValidationResult {
  const input = raw.trim();
  if (input.length === 0) return fail('empty');
  if (input.length > 254 || !EMAIL.test(input)) return fail('bad_email');
  const at = input.lastIndexOf('@');
  const local = input.slice(0, at);
  if (local.length > 64 || local.startsWith('.') || local.endsWith('.') || local.includes('..')) {
    return fail('bad_email');
  }
  return { ok: true, value: { kind: 'email', email: `${local}@${input.slice(at + 1).toLowerCase()}` } };
}

const PHONE_CHARS = /^\+?[\d\s()-]+$/;

/**
 * Typed numbers may hold digits, spaces, dashes and parentheses with an optional leading `+`;
 * shared contacts (Telegram sends their numbers with or without `+`) only need 10–15 digits.
 */
function validatePhone(raw: string, fromContact: boolean): ValidationResult {
  const input = raw.trim();
  if (input.length === 0) return fail('empty');
  if (!fromContact && !PHONE_CHARS.test(input)) return fail('bad_phone');
  const digits = input.replace(/\D/g, '');
  if (digits.length < 10 || digits.length > 15) return fail('bad_phone');
  return { ok: true, value: { kind: 'phone', phone: `+${digits}` } };
}

// ---------------------------------------------------------------------------------------------
// choice

function validateChoiceId(step: StepDefinition, optionId: string): ValidationResult {
  return step.options?.some((o) => o.id === optionId) ? { ok: true, value: { kind: 'choice', optionId } } : fail('unknown_option');
}

function fold(text: string): string {
  return text.trim().normalize('NFC').toLowerCase();
}

function validateChoiceText(step: StepDefinition, raw: string): ValidationResult {
  const input = fold(raw);
  if (input.length === 0) return fail('empty');
  const options = step.options ?? [];
  const match =
    options.find((o) => fold(o.id) === input) ?? options.find((o) => LOCALES.some((locale) => fold(o.label[locale] ?? '') === input));
  return match ? { ok: true, value: { kind: 'choice', optionId: match.id } } : fail('unknown_option');
}
