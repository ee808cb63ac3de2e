/** Step type `date`: a calendar day, optionally within dates or an age range (a birth date). */
import { z } from 'zod';
import type { StepDefinition } from '../definition.js';
import { defineStepType, defined, fail, isoDateString, type StepProblem, type ValidationResult } from './base.js';

const DMY = /^(\d{1,2})([./])(\d{1,2})\2(\d{4})$/;
const ISO = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * Parse `DD.MM.YYYY`, `D.M.YYYY`, `DD/MM/YYYY` (also `D/M/YYYY`) or `YYYY-MM-DD` (surrounding
 * whitespace ignored) into an ISO date. A well-formed string that is no calendar day (31.02.1990,
 * 29.02.2023) is `not_a_date`.
 */
/** A date as people read it: `1990-06-15` → `15.06.1990` (anything else as it is). */
export function showDate(iso: string): string {
  const match = ISO.exec(iso);
  return match ? `${match[3]}.${match[2]}.${match[1]}` : iso;
}

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

/** Whether an ISO `YYYY-MM-DD` string is a calendar day. */
function isRealDate(iso: string): boolean {
  const parsed = parseDate(iso);
  return parsed.ok && parsed.date === iso;
}

export const dateStep = defineStepType({
  valueKind: 'date',
  catalogue: {
    min_age: z.int().min(0).max(150).optional(),
    max_age: z.int().min(0).max(150).optional(),
    min: isoDateString.optional(),
    max: isoDateString.optional(),
  },
  check: (input) => {
    const problems: StepProblem[] = [];
    if (input.min_age !== undefined && input.max_age !== undefined && input.min_age > input.max_age) {
      problems.push({ path: ['min_age'], message: `min_age ${input.min_age} is greater than max_age ${input.max_age}` });
    }
    for (const key of ['min', 'max'] as const) {
      const value = input[key];
      if (value !== undefined && !isRealDate(value)) problems.push({ path: [key], message: `${value} is not a real date` });
    }
    if (input.min !== undefined && input.max !== undefined && input.min > input.max)
      problems.push({ path: ['min'], message: `min ${input.min} is after max ${input.max}` });
    return problems;
  },
  normalise: (input) => defined({ minAge: input.min_age, maxAge: input.max_age, minDate: input.min, maxDate: input.max }),
  validate: (step, answer, today) => (answer.kind === 'text' ? validateDate(step, answer.text, today) : fail('expected_text')),
  display: (value) => showDate(value.date),
});
