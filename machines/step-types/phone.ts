/** Step type `phone`: the client's own number, typed or shared with the "share my number" button. */
import { defineStepType, fail, type ValidationResult } from './base.js';

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

export const phoneStep = defineStepType({
  valueKind: 'phone',
  catalogue: {},
  validate: (_step, answer) => {
    if (answer.kind === 'contact') return answer.ownContact ? validatePhone(answer.phone, true) : fail('not_own_contact');
    return answer.kind === 'text' ? validatePhone(answer.text, false) : fail('expected_text');
  },
  display: (value) => value.phone,
  keyboard: () => ({ kind: 'request_contact' }),
});
