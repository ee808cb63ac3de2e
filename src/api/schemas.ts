/** What the request API takes and answers, as zod schemas (the OpenAPI document is generated from them). */
import { z } from 'zod';
import { schemas } from '../results/json.js';

const id = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

export const startRequestSchema = z
  .strictObject({
    client_id: id.describe('the client’s Telegram user id; they must have opened the bot (/start or an invite link)'),
    request_id: z.string().min(1).max(100).describe('a request type of the catalogue, e.g. personal_data'),
    operator_id: id
      .optional()
      .describe('the operator (or admin) the request belongs to; default: the client’s operator, else the first admin'),
  })
  .register(schemas, { id: 'StartRequest' });

export const cancelRequestSchema = z
  .strictObject({
    operator_id: id.optional().describe('the operator (or admin) who cancels it, as the audit trail shows; default: the system'),
  })
  .register(schemas, { id: 'CancelRequest' });

export const ERROR_CODES = [
  'bad_request',
  'invalid_json',
  'invalid_body',
  'invalid_idempotency_key',
  'unauthorized',
  'not_found',
  'method_not_allowed',
  'payload_too_large',
  'client_not_found',
  'client_not_started',
  'client_blocked',
  'not_a_client',
  'operator_not_staff',
  'no_operator',
  'unknown_request_type',
  'idempotency_key_reused',
  'already_accepted',
  'request_cancelled',
  'request_expired',
  'not_allowed',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export const errorSchema = z
  .strictObject({
    error: z.strictObject({
      code: z.enum(ERROR_CODES),
      message: z.string().describe('for people; the code is for programs'),
    }),
  })
  .register(schemas, { id: 'Error' });

export type StartRequest = z.infer<typeof startRequestSchema>;
export type ApiError = z.infer<typeof errorSchema>;
