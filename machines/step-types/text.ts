/** Step type `text`: free text with optional length limits and a pattern. */
import { z } from 'zod';
import type { StepDefinition } from '../definition.js';
import { defineStepType, defined, fail, localized, type StepProblem, type ValidationResult } from './base.js';

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

export const textStep = defineStepType({
  valueKind: 'text',
  catalogue: {
    min_length: z.int().min(0).optional(),
    max_length: z.int().min(1).max(4096).optional(),
    pattern: z.string().min(1).optional(),
    pattern_error: localized.optional(),
  },
  check: (input) => {
    const problems: StepProblem[] = [];
    if (input.min_length !== undefined && input.max_length !== undefined && input.min_length > input.max_length) {
      problems.push({ path: ['min_length'], message: `min_length ${input.min_length} is greater than max_length ${input.max_length}` });
    }
    if (input.pattern !== undefined) {
      try {
        new RegExp(input.pattern, 'u');
      } catch (error) {
        problems.push({ path: ['pattern'], message: `not a valid regular expression: ${(error as Error).message}` });
      }
    }
    if (input.pattern_error !== undefined && input.pattern === undefined)
      problems.push({ path: ['pattern_error'], message: 'pattern_error needs a pattern' });
    return problems;
  },
  normalise: (input, { text }) =>
    defined({
      minLength: input.min_length,
      maxLength: input.max_length,
      pattern: input.pattern,
      patternError: input.pattern_error === undefined ? undefined : text(input.pattern_error),
    }),
  validate: (step, answer) => (answer.kind === 'text' ? validateText(step, answer.text) : fail('expected_text')),
  display: (value) => value.text,
});
