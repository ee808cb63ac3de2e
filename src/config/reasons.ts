import type { StepType, Text } from '../../machines/definition.js';

/**
 * Ask-again reasons offered when the catalogue gives none for a request: by the type of the steps the
 * operator sends back. A catalogue may replace a type's list (`defaults.reasons.<type>`).
 */
export const DEFAULT_REASONS: Readonly<Record<StepType, readonly Text[]>> = {
  photo: [
    { en: 'The photo is blurry', ru: 'Фото размыто' },
    { en: 'Part of it is cut off', ru: 'Часть снимка обрезана' },
    { en: 'There is glare on the photo', ru: 'На фото блики' },
  ],
  document: [
    { en: 'The document is not readable', ru: 'Документ не читается' },
    { en: 'This is the wrong document', ru: 'Это не тот документ' },
  ],
  photo_or_document: [
    { en: 'The text is not readable', ru: 'Текст не читается' },
    { en: 'Part of it is cut off', ru: 'Часть документа обрезана' },
    { en: 'This is the wrong document', ru: 'Это не тот документ' },
  ],
  text: [
    { en: 'The answer is incomplete', ru: 'Ответ неполный' },
    { en: 'There is a mistake in the answer', ru: 'В ответе ошибка' },
  ],
  date: [{ en: 'The date is wrong', ru: 'Дата указана неверно' }],
  choice: [{ en: 'Please choose again', ru: 'Пожалуйста, выберите ещё раз' }],
  phone: [{ en: 'This number does not answer', ru: 'Этот номер не отвечает' }],
  email: [{ en: 'This address does not work', ru: 'Этот адрес не работает' }],
  number: [{ en: 'The number is wrong', ru: 'Число указано неверно' }],
  location: [
    { en: 'The point is in the wrong place', ru: 'Точка стоит не там' },
    { en: 'Please share the exact point', ru: 'Отправьте, пожалуйста, точную точку' },
  ],
};

/** When nothing else applies. */
const GENERIC: readonly Text[] = [{ en: 'Please check it and send it again', ru: 'Пожалуйста, проверьте и пришлите ещё раз' }];

/**
 * The reasons to offer for sending steps back: the request's own list, else the defaults of the steps'
 * types (the catalogue's, else the built-in ones) in step order, without repeats.
 */
export function reasonsFor(
  own: readonly Text[] | undefined,
  stepTypes: readonly StepType[],
  defaults: Partial<Record<StepType, readonly Text[]>> = {},
): readonly Text[] {
  if (own && own.length > 0) return own;
  const seen = new Set<string>();
  const out: Text[] = [];
  for (const type of stepTypes) {
    for (const reason of defaults[type] ?? DEFAULT_REASONS[type]) {
      if (seen.has(reason.en)) continue;
      seen.add(reason.en);
      out.push(reason);
    }
  }
  return out.length > 0 ? out : GENERIC;
}
