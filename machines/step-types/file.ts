/** Step types `photo`, `document` and `photo_or_document`: one file, stored as a `file` value. */
import { z } from 'zod';
import { pickText, type StepDefinition } from '../definition.js';
import { defineStepType, defined, fail, type StepValue, type TypedAnswer, type ValidationResult } from './base.js';

/** Telegram re-encodes every photo as JPEG, so a photo without a MIME type is treated as this. */
const PHOTO_MIME = 'image/jpeg';
const MB = 1024 * 1024;

const catalogue = {
  mime_types: z
    .array(z.string().regex(/^[\w.+-]+\/(\*|[\w.+-]+)$/, 'a mime type such as image/jpeg or image/*'))
    .min(1)
    .optional(),
  max_size_mb: z.number().positive().max(2000).optional(),
};

function validateFile(step: StepDefinition, answer: TypedAnswer): ValidationResult {
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

const PHOTO_WORD = { ru: '📷 фото', en: '📷 photo' } as const;
const FILE_WORD = { ru: 'файл', en: 'file' } as const;

function fileType() {
  return defineStepType({
    valueKind: 'file',
    catalogue,
    normalise: (input) => defined({ mimeTypes: input.mime_types, maxSizeMb: input.max_size_mb }),
    validate: validateFile,
    display: (value, { locale, fallback }) =>
      value.media === 'photo' ? pickText(PHOTO_WORD, locale, fallback) : `📄 ${value.fileName ?? pickText(FILE_WORD, locale, fallback)}`,
    // A spreadsheet cell names the file itself: its kind and Telegram's stable file_unique_id.
    exportText: (value) => `${value.media} ${value.fileUniqueId}`,
  });
}

export const photoStep = fileType();
export const documentStep = fileType();
export const photoOrDocumentStep = fileType();
