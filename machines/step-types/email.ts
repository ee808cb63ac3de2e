/** Step type `email`: an e-mail address, its domain lower-cased. */
import { defineStepType, fail, type ValidationResult } from './base.js';

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

export const emailStep = defineStepType({
  valueKind: 'email',
  catalogue: {},
  validate: (_step, answer) => (answer.kind === 'text' ? validateEmail(answer.text) : fail('expected_text')),
  display: (value) => value.email,
});
