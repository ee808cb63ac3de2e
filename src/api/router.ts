/**
 * The request API (`API_TOKEN`): other systems start, read and cancel requests as an operator's button
 * would, through the flow service. Described in docs/api.md and served as OpenAPI at /api/openapi.json.
 * Without a token every route of it answers 404.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import type { Locale, StepDefinition } from '../../machines/definition.js';
import type { Catalogue } from '../config/catalogue.js';
import type { Db } from '../db/client.js';
import { stepOf } from '../export/csv.js';
import { answersInScope, flowsInScope } from '../export/store.js';
import { isoUtc } from '../export/values.js';
import type { FlowService } from '../flows/service.js';
import type { Actor, Refusal } from '../flows/types.js';
import { readBody, type Route } from '../http/server.js';
import type { Logger } from '../logger.js';
import type { Directory } from '../people/directory.js';
import { answerJson, personJson, requestTypeJson, type RequestStateJson } from '../results/json.js';
import { claimKey, findKey, IDEMPOTENCY_KEY, KeyTakenError, requestHash, storeResponse, type StoredRequest } from './idempotency.js';
import { openApiDocument } from './openapi.js';
import { cancelRequestSchema, startRequestSchema, type ErrorCode } from './schemas.js';

export interface RequestApiDeps {
  /** The bearer token; undefined: the API is off and its routes answer 404. */
  readonly token: string | undefined;
  readonly db: Db;
  readonly flows: FlowService;
  readonly directory: Directory;
  readonly catalogue: () => Catalogue;
  readonly defaultLocale: Locale;
  readonly logger: Logger;
  /** Called after a command committed (the outbox sender is woken). */
  readonly onWork?: () => void;
}

/** Request bodies are small: ids and a request type. */
const MAX_BODY_BYTES = 16_384;
const FLOW_PATH = /^\/api\/requests\/([1-9]\d{0,15})(\/cancel)?$/;

class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The API's routes (`/api/openapi.json`, `/api/requests…`); other paths are left to the next route. */
export function requestApi(deps: RequestApiDeps): Route {
  const token = deps.token === undefined ? null : digest(deps.token);
  return async (req, res, path) => {
    if (path !== '/api/openapi.json' && path !== '/api/requests' && !path.startsWith('/api/requests/')) return false;
    try {
      if (token === null) throw new ApiFailure(404, 'not_found', 'not found');
      if (path === '/api/openapi.json') {
        allow(req, 'GET');
        sendJson(res, 200, openApiDocument());
        return true;
      }
      if (!authorised(req, token)) {
        deps.logger.warn({ security: true, ip: req.socket.remoteAddress }, 'API call with a missing or wrong token');
        res.setHeader('www-authenticate', 'Bearer');
        throw new ApiFailure(401, 'unauthorized', 'a valid bearer token is required (Authorization: Bearer <API_TOKEN>)');
      }
      if (path === '/api/requests') {
        allow(req, 'POST');
        await start(deps, req, res);
        return true;
      }
      const match = FLOW_PATH.exec(path);
      if (!match) throw new ApiFailure(404, 'not_found', 'not found');
      const flowId = Number(match[1]);
      if (match[2]) {
        allow(req, 'POST');
        await cancel(deps, req, res, flowId);
      } else {
        allow(req, 'GET');
        const state = await requestState(deps, flowId);
        if (!state) throw new ApiFailure(404, 'not_found', `there is no request ${flowId}`);
        sendJson(res, 200, state);
      }
    } catch (error) {
      if (!(error instanceof ApiFailure)) throw error;
      if (error.status === 405) res.setHeader('allow', error.message.replace(/^use /, ''));
      if (error.status === 413) res.setHeader('connection', 'close');
      sendJson(res, error.status, { error: { code: error.code, message: error.message } });
    }
    return true;
  };
}

/** `POST /api/requests`: starts a request; with an `Idempotency-Key`, at most once per key. */
async function start(deps: RequestApiDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const keyHeader = req.headers['idempotency-key'];
  const key = typeof keyHeader === 'string' ? keyHeader : undefined;
  if (keyHeader !== undefined && (key === undefined || !IDEMPOTENCY_KEY.test(key))) {
    throw new ApiFailure(400, 'invalid_idempotency_key', 'Idempotency-Key must be 1-255 visible ASCII characters (a UUID, say)');
  }
  const body = parse(startRequestSchema, await readJson(req, false));
  const hash = requestHash([body.client_id, body.request_id, body.operator_id ?? null]);
  if (key !== undefined) {
    const stored = await findKey(deps.db, key);
    if (stored) return replay(deps, res, key, stored, hash);
  }
  const operatorId = await operatorFor(deps, body.client_id, body.operator_id);
  let result: Awaited<ReturnType<FlowService['start']>>;
  try {
    result = await deps.flows.start({
      operatorId,
      clientId: body.client_id,
      requestId: body.request_id,
      ...(key === undefined ? {} : { within: (tx, flowId) => claimKey(tx, key, hash, flowId) }),
    });
  } catch (error) {
    // The same key, a moment earlier, from another call: answer as that one was.
    const stored = key !== undefined && error instanceof KeyTakenError ? await findKey(deps.db, key) : null;
    if (key === undefined || !stored) throw error;
    return replay(deps, res, key, stored, hash);
  }
  if (!result.ok) throw refusalFailure(result.refusal);
  const flowId = result.value.flow.id;
  deps.onWork?.();
  deps.logger.info({ flowId, requestId: body.request_id, queued: result.value.queued }, 'request started through the API');
  const state = await requestState(deps, flowId);
  if (key !== undefined) await storeResponse(deps.db, key, { status: 201, body: state });
  res.setHeader('location', `/api/requests/${flowId}`);
  sendJson(res, 201, state);
}

/** A repeat of a key: the stored answer (made again from the request when the first call ended before storing it). */
async function replay(deps: RequestApiDeps, res: ServerResponse, key: string, stored: StoredRequest, hash: string): Promise<void> {
  if (stored.requestHash !== hash) {
    throw new ApiFailure(422, 'idempotency_key_reused', 'this Idempotency-Key was used for another request body');
  }
  let response = stored.response;
  if (!response) {
    response = { status: 201, body: await requestState(deps, stored.flowId) };
    await storeResponse(deps.db, key, response);
  }
  res.setHeader('idempotent-replayed', 'true');
  res.setHeader('location', `/api/requests/${stored.flowId}`);
  sendJson(res, response.status, response.body);
}

/** `POST /api/requests/:id/cancel`: by the given operator, or by the system. */
async function cancel(deps: RequestApiDeps, req: IncomingMessage, res: ServerResponse, flowId: number): Promise<void> {
  const body = parse(cancelRequestSchema, await readJson(req, true));
  let actor: Actor = { kind: 'system', id: null };
  if (body.operator_id !== undefined) {
    await requireStaff(deps, body.operator_id);
    actor = { kind: 'operator', id: body.operator_id };
  }
  const result = await deps.flows.cancel({ actor, flowId });
  if (!result.ok) throw refusalFailure(result.refusal);
  deps.onWork?.();
  deps.logger.info({ flowId, by: actor.kind }, 'request cancelled through the API');
  sendJson(res, 200, await requestState(deps, flowId));
}

/**
 * Whose request it is: `operator_id` when given (it must be staff), else the client's own operator while
 * they are on the staff, else the first admin.
 */
async function operatorFor(deps: RequestApiDeps, clientId: number, given: number | undefined): Promise<number> {
  const client = await deps.directory.get(clientId);
  if (!client)
    throw new ApiFailure(
      404,
      'client_not_found',
      `there is no client ${clientId}: they must open the bot first (/start or an invite link)`,
    );
  if ((await deps.directory.roleOf(clientId)) !== 'client')
    throw new ApiFailure(422, 'not_a_client', `${clientId} is a staff member, not a client`);
  if (given !== undefined) {
    await requireStaff(deps, given);
    return given;
  }
  if (client.operatorId !== null && (await deps.directory.roleOf(client.operatorId)) !== 'client') return client.operatorId;
  const [admin] = await deps.directory.adminIds();
  if (admin === undefined) throw new ApiFailure(422, 'no_operator', 'give operator_id: the client has no operator and there is no admin');
  return admin;
}

async function requireStaff(deps: RequestApiDeps, id: number): Promise<void> {
  if ((await deps.directory.roleOf(id)) === 'client') throw new ApiFailure(422, 'operator_not_staff', `${id} is not an operator or admin`);
}

/** A request as the API shows it, or null when there is no such request. */
export async function requestState(
  deps: Pick<RequestApiDeps, 'db' | 'flows' | 'catalogue' | 'defaultLocale'>,
  flowId: number,
): Promise<RequestStateJson | null> {
  const [flow] = await flowsInScope(deps.db, { flowId, operatorId: null });
  if (!flow) return null;
  const locale = deps.defaultLocale;
  const answers = await answersInScope(deps.db, { flowId, operatorId: null });
  const current = await deps.flows.flow(flowId);
  const view = current?.view;
  const catalogueEntry = deps.catalogue().byId.get(flow.requestId);
  return {
    id: flow.id,
    request: requestTypeJson(flow.definition, locale),
    status: current?.status ?? flow.status,
    client: personJson(flow.clientId, flow.client),
    operator: personJson(flow.operatorId, flow.operator),
    current_step: view?.kind === 'prompt' ? view.step.id : null,
    created_at: isoUtc(flow.createdAt),
    finished_at: flow.finishedAt ? isoUtc(flow.finishedAt) : null,
    answers: answers.map((a) => ({
      ...answerJson(stepOf(flow.definition, catalogueEntry, a.stepId) ?? unknownStep(a.stepId, a.value.kind === 'file'), a.value, locale),
      round: a.round,
      status: a.status,
      answered_at: isoUtc(a.createdAt),
    })),
  };
}

/** A step no definition has any more (it cannot happen with frozen definitions; shown as plainly as possible). */
function unknownStep(id: string, file: boolean): StepDefinition {
  return { id, type: file ? 'document' : 'text', prompt: { ru: id, en: id }, optional: false, maxAttempts: 1 };
}

function refusalFailure(refusal: Refusal): ApiFailure {
  switch (refusal.code) {
    case 'client_not_found':
      return new ApiFailure(404, 'client_not_found', 'there is no such client: they must open the bot first');
    case 'flow_not_found':
      return new ApiFailure(404, 'not_found', 'there is no such request');
    case 'client_not_started':
      return new ApiFailure(
        409,
        'client_not_started',
        'the client has not opened the bot, so it cannot write to them: send them an invite link',
      );
    case 'client_blocked':
      return new ApiFailure(409, 'client_blocked', 'the client has blocked the bot');
    case 'unknown_request_type':
      return new ApiFailure(422, 'unknown_request_type', `"${refusal.requestId}" is not a request type of the catalogue`);
    case 'already_accepted':
      return new ApiFailure(409, 'already_accepted', 'the request is already completed');
    case 'request_cancelled':
      return new ApiFailure(409, 'request_cancelled', 'the request is already cancelled');
    case 'request_expired':
      return new ApiFailure(409, 'request_expired', 'the request has expired');
    default:
      return new ApiFailure(409, 'not_allowed', `not possible now (${refusal.code})`);
  }
}

function allow(req: IncomingMessage, method: 'GET' | 'POST'): void {
  if (req.method !== method) throw new ApiFailure(405, 'method_not_allowed', `use ${method}`);
}

/** Constant time: both sides are hashed first, so neither the token's length nor its content leaks. */
function authorised(req: IncomingMessage, token: Buffer): boolean {
  const match = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
  const given = digest(match?.[1] ?? '');
  return timingSafeEqual(given, token) && match !== null;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** The body as JSON; `emptyIsObject`: no body at all counts as `{}`. */
async function readJson(req: IncomingMessage, emptyIsObject: boolean): Promise<unknown> {
  const bytes = await readBody(req, MAX_BODY_BYTES);
  if (bytes === 'too_large') throw new ApiFailure(413, 'payload_too_large', `the body is larger than ${MAX_BODY_BYTES} bytes`);
  if (bytes.length === 0 && emptyIsObject) return {};
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as unknown;
  } catch {
    throw new ApiFailure(400, 'invalid_json', 'the body is not JSON');
  }
}

function parse<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : 'body'}: ${issue.message}`);
  throw new ApiFailure(400, 'invalid_body', problems.join('; '));
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).end(JSON.stringify(body));
}
