import { describe, expect, it } from 'vitest';
import { STEP_TYPES, type StepType } from '../../machines/definition.js';
import { STEP_TYPE_REGISTRY, stepTypeOf, stepTypeOfValue, validateAnswer, type Answer, type StepValue } from '../../machines/steps.js';
import { parseCatalogue } from '../../src/config/catalogue.js';
import { answerText } from '../../src/export/values.js';
import { formatValue } from '../../src/ui/format.js';
import { replyKeyboardOf } from '../../src/ui/step-keyboard.js';

/**
 * One sample per step type: its extra catalogue keys (YAML), an answer it takes, the value stored, how
 * it reads, and the keyboard its prompt offers. A new step type fails to compile here until it has one.
 */
const SAMPLES: Readonly<
  Record<
    StepType,
    { yaml: string; answer: Answer; value: StepValue; shown: { en: string; ru: string }; exported: string; keyboard: string }
  >
> = {
  photo: {
    yaml: 'max_size_mb: 5',
    answer: { kind: 'photo', fileId: 'F', fileUniqueId: 'U', size: 1000 },
    value: { kind: 'file', media: 'photo', fileId: 'F', fileUniqueId: 'U', size: 1000 },
    shown: { en: '📷 photo', ru: '📷 фото' },
    exported: 'photo U',
    keyboard: 'none',
  },
  document: {
    yaml: 'mime_types: [application/pdf]',
    answer: { kind: 'document', fileId: 'F', fileUniqueId: 'U', mimeType: 'application/pdf', fileName: 'a.pdf' },
    value: { kind: 'file', media: 'document', fileId: 'F', fileUniqueId: 'U', mimeType: 'application/pdf', fileName: 'a.pdf' },
    shown: { en: '📄 a.pdf', ru: '📄 a.pdf' },
    exported: 'document U',
    keyboard: 'none',
  },
  photo_or_document: {
    yaml: 'mime_types: [image/*]',
    answer: { kind: 'document', fileId: 'F', fileUniqueId: 'U', mimeType: 'image/png' },
    value: { kind: 'file', media: 'document', fileId: 'F', fileUniqueId: 'U', mimeType: 'image/png' },
    shown: { en: '📄 file', ru: '📄 файл' },
    exported: 'document U',
    keyboard: 'none',
  },
  text: {
    yaml: 'min_length: 2',
    answer: { kind: 'text', text: '  Paris ' },
    value: { kind: 'text', text: 'Paris' },
    shown: { en: 'Paris', ru: 'Paris' },
    exported: 'Paris',
    keyboard: 'none',
  },
  date: {
    yaml: 'min: 2020-01-01',
    answer: { kind: 'text', text: '1.2.2024' },
    value: { kind: 'date', date: '2024-02-01' },
    shown: { en: '01.02.2024', ru: '01.02.2024' },
    exported: '01.02.2024',
    keyboard: 'none',
  },
  choice: {
    yaml: 'options: [{ id: morning, label: { ru: Утро, en: Morning } }, Evening]',
    answer: { kind: 'text', text: 'утро' },
    value: { kind: 'choice', optionId: 'morning' },
    shown: { en: 'Morning', ru: 'Утро' },
    exported: 'Morning',
    keyboard: 'options',
  },
  phone: {
    yaml: '',
    answer: { kind: 'contact', phone: '79991234567', ownContact: true },
    value: { kind: 'phone', phone: '+79991234567' },
    shown: { en: '+79991234567', ru: '+79991234567' },
    exported: '+79991234567',
    keyboard: 'request_contact',
  },
  email: {
    yaml: '',
    answer: { kind: 'text', text: 'Anna@Example.COM' },
    value: { kind: 'email', email: 'Anna@example.com' },
    shown: { en: 'Anna@example.com', ru: 'Anna@example.com' },
    exported: 'Anna@example.com',
    keyboard: 'none',
  },
  number: {
    yaml: 'integer: true',
    answer: { kind: 'text', text: '1 200' },
    value: { kind: 'number', value: 1200 },
    shown: { en: '1200', ru: '1200' },
    exported: '1200',
    keyboard: 'none',
  },
  location: {
    yaml: '',
    answer: { kind: 'location', latitude: 48.858370001, longitude: 2.294481 },
    value: { kind: 'location', latitude: 48.858370001, longitude: 2.294481 },
    shown: { en: '48.85837, 2.29448', ru: '48.85837, 2.29448' },
    exported: '48.85837, 2.29448',
    keyboard: 'request_location',
  },
};

/** The step of `type` as the catalogue loader makes it from its sample keys. */
function loadStep(type: StepType) {
  const extra = SAMPLES[type].yaml;
  const source = `version: 1
requests:
  - id: sample
    title: Sample
    steps:
      - id: s
        type: ${type}
        prompt: { ru: Ответ, en: Answer }
${extra === '' ? '' : `        ${extra}\n`}`;
  const step = parseCatalogue(source).byId.get('sample')?.steps[0];
  if (!step) throw new Error(`no step for ${type}`);
  return step;
}

describe('the step-type registry', () => {
  it('has exactly one entry per step type', () => {
    expect(Object.keys(STEP_TYPE_REGISTRY).sort()).toEqual([...STEP_TYPES].sort());
    expect(stepTypeOf('hologram')).toBeUndefined();
    expect(stepTypeOf('toString')).toBeUndefined();
  });

  it.each(STEP_TYPES)('%s: the catalogue takes its keys, and it validates, normalises, displays and offers its keyboard', (type) => {
    const sample = SAMPLES[type];
    const step = loadStep(type);
    expect(step.type).toBe(type);

    expect(validateAnswer(step, sample.answer, '2026-11-30')).toEqual({ ok: true, value: sample.value });
    expect(stepTypeOfValue(sample.value)?.valueKind).toBe(sample.value.kind);
    expect(formatValue(step, sample.value, 'en')).toBe(sample.shown.en);
    expect(formatValue(step, sample.value, 'ru')).toBe(sample.shown.ru);
    expect(answerText(step, sample.value, 'en')).toBe(sample.exported);

    const keyboard = STEP_TYPE_REGISTRY[type].keyboard(step);
    expect(keyboard.kind).toBe(sample.keyboard);
    const markup = replyKeyboardOf(keyboard, 'en');
    if (keyboard.kind === 'request_contact' || keyboard.kind === 'request_location') {
      expect(markup).toMatchObject({ keyboard: [[{ [keyboard.kind]: true }]], one_time_keyboard: true });
    } else {
      expect(markup).toBeUndefined();
    }
  });

  it('refuses an unknown catalogue key for a type, and names the types when the type is unknown', () => {
    expect(() => loadStepFrom('location', 'min_length: 3')).toThrow(/steps\[0\]\.min_length: unknown key/);
    expect(() => loadStepFrom('hologram', '')).toThrow(/expected one of .*number, location/);
  });

  it('location: anything but a shared point is refused with expected_location', () => {
    const step = loadStep('location');
    for (const answer of [
      { kind: 'text', text: '48.85837, 2.29448' },
      { kind: 'contact', phone: '+79991234567', ownContact: true },
      { kind: 'photo', fileId: 'F', fileUniqueId: 'U' },
      { kind: 'location', latitude: 91, longitude: 0 },
      { kind: 'location', latitude: 0, longitude: Number.NaN },
    ] satisfies Answer[]) {
      expect(validateAnswer(step, answer, '2026-11-30')).toEqual({ ok: false, reason: { code: 'expected_location' } });
    }
  });
});

function loadStepFrom(type: string, extra: string) {
  return parseCatalogue(`version: 1
requests:
  - id: sample
    title: Sample
    steps:
      - id: s
        type: ${type}
        prompt: Answer
${extra === '' ? '' : `        ${extra}\n`}`);
}
