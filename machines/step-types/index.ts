/**
 * The step-type registry: one entry per step type, each in its own file. A new type is its file, its
 * line here and in `STEP_TYPES`, its value / answer shape in `base.ts`, and its texts in the locales;
 * the compiler points at each (this map must cover every `StepType`, and every value kind needs a type
 * that stores it).
 */
import type { StepType } from '../definition.js';
import type { StepTypeEntry, StepValue, ValueKind } from './base.js';
import { choiceStep } from './choice.js';
import { dateStep } from './date.js';
import { emailStep } from './email.js';
import { documentStep, photoOrDocumentStep, photoStep } from './file.js';
import { locationStep } from './location.js';
import { numberStep } from './number.js';
import { phoneStep } from './phone.js';
import { textStep } from './text.js';

export const STEP_TYPE_REGISTRY = {
  photo: photoStep,
  document: documentStep,
  photo_or_document: photoOrDocumentStep,
  text: textStep,
  date: dateStep,
  choice: choiceStep,
  phone: phoneStep,
  email: emailStep,
  number: numberStep,
  location: locationStep,
} as const satisfies { readonly [T in StepType]: StepTypeEntry };

/**
 * The entry of a step type, or undefined for a type this version does not know (a definition frozen
 * by a newer version).
 */
export function stepTypeOf(type: string): StepTypeEntry | undefined {
  return Object.hasOwn(STEP_TYPE_REGISTRY, type) ? STEP_TYPE_REGISTRY[type as StepType] : undefined;
}

/** The entry that displays a stored value (by its kind), or undefined for a kind this version does not know. */
export function stepTypeOfValue(value: StepValue): StepTypeEntry | undefined {
  return Object.values(STEP_TYPE_REGISTRY).find((entry) => entry.valueKind === value.kind);
}

type StoredKind = (typeof STEP_TYPE_REGISTRY)[StepType]['valueKind'];

/** Compiles only while every kind of `StepValue` is stored by some step type (so it can be displayed). */
export const EVERY_VALUE_KIND_STORED: [Exclude<ValueKind, StoredKind>] extends [never] ? true : never = true;
