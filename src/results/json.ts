/**
 * Requests and their answers as JSON, for machines: the result webhook's body and the request API's
 * responses. The zod schemas are the one description of these shapes: the OpenAPI document
 * (`src/api/openapi.ts`) is generated from them, and the tests parse what is sent with them.
 * Values are shown the way exports show them (`src/export/values.ts`); texts are in one locale.
 */
import { z } from 'zod';
import { pickText, STEP_TYPES, type Locale, type RequestDefinition, type StepDefinition } from '../../machines/definition.js';
import type { StepValue } from '../../machines/steps.js';
import { ANSWER_STATUSES, FLOW_STATUSES } from '../db/schema.js';
import { stepLabelOf } from '../export/csv.js';
import { answerText, fullName } from '../export/values.js';

/** Schemas named here become `components/schemas` of the OpenAPI document. */
export const schemas = z.registry<{ id: string }>();

const isoTime = z.string().describe('ISO 8601 in UTC, to the second: 2026-11-30T09:15:02Z');
const telegramId = z.number().int().positive().describe('a Telegram user id');

export const personSchema = z
  .strictObject({
    id: telegramId,
    name: z.string().describe('first and last name ("" when erased or unknown)'),
    username: z.string().nullable().describe('Telegram @username, without the @'),
  })
  .register(schemas, { id: 'Person' });

export const requestTypeSchema = z
  .strictObject({
    id: z.string().describe('the request type in the catalogue, e.g. personal_data'),
    title: z.string().describe('its title, in DEFAULT_LOCALE'),
  })
  .register(schemas, { id: 'RequestType' });

/** An answer's value as stored: one of the step value kinds. */
export const stepValueSchema = z
  .union([
    z.strictObject({ kind: z.literal('text'), text: z.string() }),
    z.strictObject({ kind: z.literal('date'), date: z.string().describe('YYYY-MM-DD') }),
    z.strictObject({ kind: z.literal('number'), value: z.number() }),
    z.strictObject({ kind: z.literal('choice'), optionId: z.string() }),
    z.strictObject({ kind: z.literal('phone'), phone: z.string().describe('+ and 10-15 digits') }),
    z.strictObject({ kind: z.literal('email'), email: z.string() }),
    z.strictObject({
      kind: z.literal('location'),
      latitude: z.number().describe('degrees, WGS 84'),
      longitude: z.number().describe('degrees, WGS 84'),
    }),
    z.strictObject({
      kind: z.literal('file'),
      media: z.enum(['photo', 'document']),
      fileId: z.string(),
      fileUniqueId: z.string(),
      mimeType: z.string().optional(),
      size: z.number().optional(),
      fileName: z.string().optional(),
    }),
  ])
  .register(schemas, { id: 'StepValue' });

export const fileSchema = z
  .strictObject({
    media: z.enum(['photo', 'document']),
    file_id: z.string().describe('Telegram file_id: valid for this bot only'),
    file_unique_id: z.string().describe('Telegram file_unique_id: the same file has the same one for every bot'),
    mime_type: z.string().nullable(),
    size: z.number().nullable().describe('bytes'),
    file_name: z.string().nullable(),
    download_url: z
      .string()
      .optional()
      .describe('only with RESULT_LINKS_URL set: a signed link to this server that serves the file, valid for 7 days'),
  })
  .register(schemas, { id: 'File' });

export const answerSchema = z
  .strictObject({
    step_id: z.string(),
    step_label: z.string().describe('in DEFAULT_LOCALE; the step id when the step has no label'),
    type: z.enum(STEP_TYPES),
    value: stepValueSchema.nullable().describe('null: the step was skipped or not answered'),
    text: z.string().nullable().describe('the value as the CSV export shows it (a date as DD.MM.YYYY, a choice as its label)'),
    file: fileSchema.nullable(),
  })
  .register(schemas, { id: 'Answer' });

/** The body POSTed to RESULT_WEBHOOK_URL when a request is accepted. */
export const resultSchema = z
  .strictObject({
    event: z.literal('request.completed'),
    flow_id: z.number().int().positive().describe('the request (flow) number'),
    request: requestTypeSchema,
    client: personSchema,
    operator: personSchema.describe('the operator the request belongs to'),
    accepted_by: z
      .strictObject({ kind: z.enum(['operator', 'client', 'system']), id: z.number().int().positive().nullable() })
      .describe('who completed it: the operator who accepted it, or the client whose confirmation finished a request without review'),
    accepted_at: isoTime,
    answers: z.array(answerSchema).describe('every step of the request, in order, with its accepted value'),
  })
  .register(schemas, { id: 'Result' });

export const answerRecordSchema = answerSchema
  .extend({
    round: z.number().int().positive().describe('the collection round: 1, then one more per "ask again" or reset'),
    status: z.enum(ANSWER_STATUSES).describe('pending (not reviewed yet), accepted, rejected (asked again) or superseded (answered again)'),
    answered_at: isoTime,
  })
  .register(schemas, { id: 'AnswerRecord' });

export const requestStateSchema = z
  .strictObject({
    id: z.number().int().positive().describe('the request (flow) number'),
    request: requestTypeSchema,
    status: z.enum(FLOW_STATUSES),
    client: personSchema,
    operator: personSchema,
    current_step: z.string().nullable().describe('the step the client is asked now (status collecting), else null'),
    created_at: isoTime,
    finished_at: isoTime.nullable(),
    answers: z.array(answerRecordSchema).describe('every answer of every round, oldest first (empty once the data was removed)'),
  })
  .register(schemas, { id: 'RequestState' });

export type ResultBody = z.infer<typeof resultSchema>;
export type AnswerJson = z.infer<typeof answerSchema>;
export type FileJson = z.infer<typeof fileSchema>;
export type RequestStateJson = z.infer<typeof requestStateSchema>;

export interface PersonFields {
  readonly firstName: string;
  readonly lastName: string | null;
  readonly username: string | null;
}

export function personJson(id: number, person: PersonFields | null): z.infer<typeof personSchema> {
  return { id, name: fullName(person), username: person?.username ?? null };
}

export function requestTypeJson(definition: RequestDefinition, locale: Locale): z.infer<typeof requestTypeSchema> {
  return { id: definition.id, title: pickText(definition.title, locale) };
}

/** One step's value as JSON; `link` makes a file's download URL (when links are configured). */
export function answerJson(
  step: StepDefinition,
  value: StepValue | null,
  locale: Locale,
  link?: (step: StepDefinition) => string | undefined,
): AnswerJson {
  let file: FileJson | null = null;
  if (value?.kind === 'file') {
    const url = link?.(step);
    file = {
      media: value.media,
      file_id: value.fileId,
      file_unique_id: value.fileUniqueId,
      mime_type: value.mimeType ?? null,
      size: value.size ?? null,
      file_name: value.fileName ?? null,
      ...(url === undefined ? {} : { download_url: url }),
    };
  }
  return {
    step_id: step.id,
    step_label: stepLabelOf(step, step.id, locale),
    type: step.type,
    value,
    text: value === null ? null : answerText(step, value, locale),
    file,
  };
}
