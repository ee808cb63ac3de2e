/** Step type `number`: a typed number, optionally whole, within limits. */
import { z } from 'zod';
import type { StepDefinition } from '../definition.js';
import { defineStepType, defined, fail, type ValidationResult } from './base.js';

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

export const numberStep = defineStepType({
  valueKind: 'number',
  catalogue: {
    min: z.number().optional(),
    max: z.number().optional(),
    integer: z.boolean().optional(),
  },
  check: (input) =>
    input.min !== undefined && input.max !== undefined && input.min > input.max
      ? [{ path: ['min'], message: `min ${input.min} is greater than max ${input.max}` }]
      : [],
  normalise: (input) => defined({ min: input.min, max: input.max, integer: input.integer }),
  validate: (step, answer) => (answer.kind === 'text' ? validateNumber(step, answer.text) : fail('expected_text')),
  display: (value) => String(value.value),
});
