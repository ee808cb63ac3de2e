/** Step type `choice`: one of the step's options, pressed as a button or typed as its label. */
import { z } from 'zod';
import { LOCALES, pickText, type StepDefinition } from '../definition.js';
import { catalogueId, defineStepType, fail, localized, type StepProblem, type ValidationResult } from './base.js';

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

/** A plain-string option gets an id from its text (or its position when the text has no latin letters). */
function slug(label: string, index: number): string {
  const s = label
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 32);
  return /^[a-z]/.test(s) ? s : `option_${index + 1}`;
}

export const choiceStep = defineStepType({
  valueKind: 'choice',
  catalogue: {
    options: z
      .array(z.union([z.string().trim().min(1), z.strictObject({ id: catalogueId, label: localized })]))
      .min(2, 'a choice needs at least 2 options'),
  },
  check: (input) => {
    const problems: StepProblem[] = [];
    const ids = new Set<string>();
    input.options.forEach((option, o) => {
      const optionId = typeof option === 'string' ? slug(option, o) : option.id;
      if (ids.has(optionId)) problems.push({ path: ['options', o], message: `duplicate option "${optionId}"` });
      ids.add(optionId);
    });
    return problems;
  },
  normalise: (input, { text }) => ({
    options: input.options.map((option, i) =>
      typeof option === 'string' ? { id: slug(option, i), label: text(option) } : { id: option.id, label: text(option.label) },
    ),
  }),
  validate: (step, answer) => {
    if (answer.kind === 'choice') return validateChoiceId(step, answer.optionId);
    return answer.kind === 'text' ? validateChoiceText(step, answer.text) : fail('expected_text');
  },
  display: (value, { step, locale, fallback }) => {
    const option = step?.options?.find((o) => o.id === value.optionId);
    return (option ? pickText(option.label, locale, fallback) : '') || value.optionId;
  },
  keyboard: (step) => (step.options && step.options.length > 0 ? { kind: 'options', options: step.options } : { kind: 'none' }),
});
