/**
 * Answer validation for every step type, through the step-type registry (`step-types/`). Pure: no
 * I/O, no clock (the caller passes `today`), no i18n (failures are codes with params; the app
 * localises them).
 */
import type { StepDefinition } from './definition.js';
import { fail, type Answer, type ValidationResult } from './step-types/base.js';
import { stepTypeOf } from './step-types/index.js';

export {
  INVALID_CODES,
  type Answer,
  type InvalidCode,
  type InvalidReason,
  type StepKeyboard,
  type StepValue,
  type UnsupportedWhat,
  type ValidationResult,
} from './step-types/base.js';
export { STEP_TYPE_REGISTRY, stepTypeOf, stepTypeOfValue } from './step-types/index.js';
export { ageOn, parseDate } from './step-types/date.js';
export { compilePattern } from './step-types/text.js';
export { mimeMatches } from './step-types/file.js';

/**
 * Validate `answer` for `step`; on success return the normalised value.
 * `today` is the client's current date (ISO `YYYY-MM-DD`), used for age limits and future dates.
 */
export function validateAnswer(step: StepDefinition, answer: Answer, today: string): ValidationResult {
  if (answer.kind === 'unsupported') return fail('unsupported_message', { what: answer.what });
  // A type this version does not know (a definition frozen by a newer one) takes no answer.
  const entry = stepTypeOf(step.type);
  return entry ? entry.validate(step, answer, today) : fail('unsupported_message', { what: 'other' });
}

/** The album (Telegram media group) a photo or document answer is one item of, if any. */
export function mediaGroupOf(answer: Answer): string | undefined {
  return answer.kind === 'photo' || answer.kind === 'document' ? answer.mediaGroupId : undefined;
}
