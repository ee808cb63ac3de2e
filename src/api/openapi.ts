/**
 * The OpenAPI 3.1 document of the request API and the result webhook, served at /api/openapi.json. The
 * schemas are generated from the zod schemas the code validates and answers with (`src/results/json.ts`,
 * `./schemas.ts`); the paths are written here. docs/api.md describes the same in prose.
 */
import { z } from 'zod';
import { schemas } from '../results/json.js';
import './schemas.js';

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
const json = (schema: object) => ({ 'application/json': { schema } });
const error = (description: string) => ({ description, content: json(ref('Error')) });
const requestId = {
  name: 'id',
  in: 'path',
  required: true,
  description: 'the request (flow) number',
  schema: { type: 'integer', minimum: 1 },
};

let document: Record<string, unknown> | undefined;

export function openApiDocument(): Record<string, unknown> {
  document ??= build();
  return document;
}

function build(): Record<string, unknown> {
  const generated = z.toJSONSchema(schemas, { target: 'draft-2020-12', uri: (id) => `#/components/schemas/${id}` }).schemas;
  // Each generated schema names itself; inside components the key does that.
  const components = Object.fromEntries(
    Object.entries(generated).map(([id, schema]) => {
      const { $schema: _schema, $id: _id, ...rest } = schema as Record<string, unknown>;
      return [id, rest];
    }),
  );
  return {
    openapi: '3.1.0',
    info: {
      title: 'Operator Request Bot: request API',
      version: '1',
      description:
        'Start, read and cancel requests to clients as an operator would from the bot, and receive every accepted request on a webhook. ' +
        'Every call but this document needs `Authorization: Bearer <API_TOKEN>`; without API_TOKEN the API answers 404. Errors are `{ "error": { "code", "message" } }`.',
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    paths: {
      '/api/requests': {
        post: {
          operationId: 'startRequest',
          summary: 'Send a request to a client',
          description:
            'Starts the request at once, or queues it behind the client’s active one (status `queued`), exactly as the operator’s button does. ' +
            'With an `Idempotency-Key`, a repeat with the same key and body answers as the first call did and starts nothing; only a call that started a request is remembered.',
          parameters: [
            {
              name: 'Idempotency-Key',
              in: 'header',
              required: false,
              description: '1-255 visible ASCII characters, e.g. a UUID; reusing one with another body is refused (422)',
              schema: { type: 'string', minLength: 1, maxLength: 255 },
            },
          ],
          requestBody: { required: true, content: json(ref('StartRequest')) },
          responses: {
            '201': {
              description: 'Started (or queued). A replayed answer has the header `Idempotent-Replayed: true`.',
              headers: { Location: { schema: { type: 'string' }, description: '/api/requests/{id}' } },
              content: json(ref('RequestState')),
            },
            '400': error('The body is not JSON or not valid (`invalid_json`, `invalid_body`), or a malformed `Idempotency-Key`'),
            '401': error('No token, or a wrong one'),
            '404': error('No such client (`client_not_found`): they have never opened the bot'),
            '409': error('The client has not started the bot or has blocked it (`client_not_started`, `client_blocked`)'),
            '413': error('The body is larger than 16 KB'),
            '422': error(
              'Unknown request type, an `operator_id` that is not staff, a client id of a staff member, no operator to assign, or an `Idempotency-Key` reused with another body',
            ),
          },
        },
      },
      '/api/requests/{id}': {
        get: {
          operationId: 'getRequest',
          summary: 'A request’s state and answers',
          parameters: [requestId],
          responses: {
            '200': { description: 'The request', content: json(ref('RequestState')) },
            '401': error('No token, or a wrong one'),
            '404': error('No such request'),
          },
        },
      },
      '/api/requests/{id}/cancel': {
        post: {
          operationId: 'cancelRequest',
          summary: 'Cancel a request',
          description: 'Cancels an active request (the client is told) or drops a queued one. The body may be empty.',
          parameters: [requestId],
          requestBody: { required: false, content: json(ref('CancelRequest')) },
          responses: {
            '200': { description: 'Cancelled', content: json(ref('RequestState')) },
            '400': error('The body is not JSON or not valid'),
            '401': error('No token, or a wrong one'),
            '404': error('No such request'),
            '409': error('Already finished: `already_accepted`, `request_cancelled` or `request_expired`'),
            '422': error('An `operator_id` that is not staff'),
          },
        },
      },
      '/api/openapi.json': {
        get: {
          operationId: 'openApi',
          summary: 'This document',
          security: [],
          responses: { '200': { description: 'OpenAPI 3.1', content: json({ type: 'object' }) } },
        },
      },
    },
    webhooks: {
      requestCompleted: {
        post: {
          summary: 'A request was accepted (RESULT_WEBHOOK_URL)',
          description:
            'POSTed once per accepted request. `X-Orb-Signature: t=<unix seconds>,v1=<hex>` is HMAC-SHA256 with RESULT_WEBHOOK_SECRET over `<t>.<raw body>`; ' +
            '`X-Orb-Delivery` is the delivery id (the same on every retry: use it to ignore repeats). Answer 2xx within 10 s; ' +
            '4xx other than 408 and 429 is taken as a refusal for good; anything else is retried with backoff (12 attempts over about three and a half hours).',
          parameters: [
            { name: 'X-Orb-Signature', in: 'header', required: true, schema: { type: 'string' } },
            { name: 'X-Orb-Delivery', in: 'header', required: true, schema: { type: 'string' } },
            { name: 'X-Orb-Event', in: 'header', required: true, schema: { type: 'string', const: 'request.completed' } },
          ],
          requestBody: { required: true, content: json(ref('Result')) },
          responses: { '2XX': { description: 'Received' } },
        },
      },
    },
    components: {
      schemas: components,
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'API_TOKEN' } },
    },
  };
}
