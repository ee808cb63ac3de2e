import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { errorSchema } from '../../src/api/schemas.js';
import { requestStateSchema, type RequestStateJson } from '../../src/results/json.js';
import { startHarness, type Harness } from '../helpers/bot.js';
import { ENGINES } from '../helpers/db.js';

const TOKEN = 'api-token-for-the-tests-0123456789';

/** Calls the app's HTTP server; resolves to the status, the headers and the parsed JSON. */
function client(h: Harness, token: string | null = TOKEN) {
  const { port } = h.app.http.address() as AddressInfo;
  return async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, {
      method,
      headers: {
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, json: (text === '' ? null : JSON.parse(text)) as unknown };
  };
}

/** An error answer: its code (the body must be exactly `{ error: { code, message } }`). */
function errorCode(json: unknown): string {
  return errorSchema.parse(json).error.code;
}

function state(json: unknown): RequestStateJson {
  return requestStateSchema.parse(json);
}

describe.each(ENGINES)('request API on %s', (engine) => {
  let h: Harness;
  afterEach(() => h.close());

  it('answers 404 on every /api route without API_TOKEN', async () => {
    h = await startHarness(engine);
    const call = client(h);
    for (const [method, path] of [
      ['GET', '/api/openapi.json'],
      ['POST', '/api/requests'],
      ['GET', '/api/requests/1'],
      ['POST', '/api/requests/1/cancel'],
    ] as const) {
      const response = await call(method, path, method === 'POST' ? {} : undefined);
      expect(response.status, path).toBe(404);
      expect(errorCode(response.json)).toBe('not_found');
    }
  });

  it('wants the token: none or a wrong one is 401; with it a request starts as the operator’s button starts it', async () => {
    h = await startHarness(engine, { app: { apiToken: TOKEN } });
    const anna = await h.client('Anna');
    const boris = await h.client('Boris');
    const body = { client_id: anna.id, request_id: 'personal_data' };

    for (const token of [null, 'wrong', `${TOKEN}x`, TOKEN.slice(0, -1), '']) {
      const refused = await client(h, token)('POST', '/api/requests', body);
      expect(refused.status, String(token)).toBe(401);
      expect(errorCode(refused.json)).toBe('unauthorized');
      expect(refused.headers.get('www-authenticate')).toBe('Bearer');
    }
    const basic = await client(h, null)('GET', '/api/requests/1', undefined, { authorization: `Basic ${TOKEN}` });
    expect(basic.status).toBe(401);
    expect(await h.app.flows.flowsOf(anna.id)).toEqual([]);

    const call = client(h);
    const started = await call('POST', '/api/requests', body);
    expect(started.status).toBe(201);
    const flow = state(started.json);
    expect(started.headers.get('location')).toBe(`/api/requests/${flow.id}`);
    // Anna has no operator of her own: the request is the first admin's.
    expect(flow).toMatchObject({
      request: { id: 'personal_data', title: 'Personal data' },
      status: 'collecting',
      current_step: 'full_name',
      client: { id: anna.id, name: 'Anna' },
      operator: { id: h.admin.id, name: 'Alex Admin', username: 'alex_admin' },
      finished_at: null,
      answers: [],
    });
    await anna.waitForMessage(/Personal data · step 1 of 3/);
    await h.admin.waitForMessage(/“Personal data” was sent to Anna/);

    // Another operator, named; and a second request for Anna queues behind the first.
    const forBoris = state(
      (await call('POST', '/api/requests', { client_id: boris.id, request_id: 'passport_photo', operator_id: h.operator.id })).json,
    );
    expect(forBoris.operator.id).toBe(h.operator.id);
    await boris.waitForMessage(/Passport photo · step 1 of 1/);
    const queued = await call('POST', '/api/requests', { client_id: anna.id, request_id: 'passport_photo' });
    expect(queued.status).toBe(201);
    expect(state(queued.json).status).toBe('queued');
  });

  it('a repeat with the same Idempotency-Key answers the same and starts nothing new, even at the same moment', async () => {
    h = await startHarness(engine, { app: { apiToken: TOKEN } });
    const anna = await h.client('Anna');
    const boris = await h.client('Boris');
    const call = client(h);
    const body = { client_id: anna.id, request_id: 'personal_data' };
    const key = { 'idempotency-key': '2f1c7a9e-5b7d-4c3e-9a51-0d3c1e0b7f42' };

    const first = await call('POST', '/api/requests', body, key);
    expect(first.status).toBe(201);
    await anna.waitForMessage(/Personal data · step 1 of 3/);
    await anna.send('Anna Petrova');
    await anna.waitForMessage(/step 2 of 3/);
    const repeat = await call('POST', '/api/requests', body, key);
    expect(repeat.status).toBe(201);
    expect(repeat.json).toEqual(first.json);
    expect(repeat.headers.get('idempotent-replayed')).toBe('true');
    expect(await h.app.flows.flowsOf(anna.id)).toHaveLength(1);

    const other = await call('POST', '/api/requests', { ...body, request_id: 'passport_photo' }, key);
    expect(other.status).toBe(422);
    expect(errorCode(other.json)).toBe('idempotency_key_reused');
    expect(await h.app.flows.flowsOf(anna.id)).toHaveLength(1);

    // Five at once with one key: one request, five identical answers.
    const together = await Promise.all(
      Array.from({ length: 5 }, () =>
        call('POST', '/api/requests', { client_id: boris.id, request_id: 'passport_photo' }, { 'idempotency-key': 'boris-once' }),
      ),
    );
    expect(together.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
    expect(new Set(together.map((r) => state(r.json).id)).size).toBe(1);
    expect(await h.app.flows.flowsOf(boris.id)).toHaveLength(1);

    // Survives a restart: the key is in the database.
    await h.restart();
    const afterRestart = await client(h)('POST', '/api/requests', body, key);
    expect(afterRestart.json).toEqual(first.json);
    expect(await h.app.flows.flowsOf(anna.id)).toHaveLength(1);
  });

  it('refuses what it cannot do with a code: bad bodies 400, unknown things 404, conflicts 409, wrong references 422', async () => {
    h = await startHarness(engine, { app: { apiToken: TOKEN } });
    const anna = await h.client('Anna');
    const call = client(h);
    const cases: [string, string, unknown, Record<string, string>, number, string][] = [
      ['POST', '/api/requests', '{"client_id": ', {}, 400, 'invalid_json'],
      ['POST', '/api/requests', { client_id: 'anna', request_id: 'personal_data' }, {}, 400, 'invalid_body'],
      ['POST', '/api/requests', { client_id: anna.id }, {}, 400, 'invalid_body'],
      ['POST', '/api/requests', { client_id: anna.id, request_id: 'personal_data', colour: 'red' }, {}, 400, 'invalid_body'],
      ['POST', '/api/requests', { client_id: -1, request_id: 'personal_data' }, {}, 400, 'invalid_body'],
      [
        'POST',
        '/api/requests',
        { client_id: anna.id, request_id: 'personal_data' },
        { 'idempotency-key': 'x'.repeat(300) },
        400,
        'invalid_idempotency_key',
      ],
      ['POST', '/api/requests', { client_id: 424242, request_id: 'personal_data' }, {}, 404, 'client_not_found'],
      ['POST', '/api/requests', { client_id: anna.id, request_id: 'tax_return' }, {}, 422, 'unknown_request_type'],
      ['POST', '/api/requests', { client_id: anna.id, request_id: 'personal_data', operator_id: anna.id }, {}, 422, 'operator_not_staff'],
      ['POST', '/api/requests', { client_id: h.operator.id, request_id: 'personal_data' }, {}, 422, 'not_a_client'],
      ['GET', '/api/requests/999999', undefined, {}, 404, 'not_found'],
      ['GET', '/api/requests/abc', undefined, {}, 404, 'not_found'],
      ['POST', '/api/requests/999999/cancel', undefined, {}, 404, 'not_found'],
      ['GET', '/api/requests', undefined, {}, 405, 'method_not_allowed'],
    ];
    for (const [method, path, body, headers, status, code] of cases) {
      const response = await call(method, path, body, headers);
      expect([response.status, errorCode(response.json)], `${method} ${path} ${JSON.stringify(body)}`).toEqual([status, code]);
    }
    const invalid = await call('POST', '/api/requests', { client_id: 'anna', request_id: 'personal_data' });
    expect(errorSchema.parse(invalid.json).error.message).toMatch(/^client_id: /);
    // Nothing started by any of them.
    expect(await h.app.flows.flowsOf(anna.id)).toEqual([]);

    // A client who never opened the bot cannot be written to.
    await h.app.directory.setOperator(555_000_001, false);
    const unstarted = await call('POST', '/api/requests', { client_id: 555_000_001, request_id: 'personal_data' });
    expect([unstarted.status, errorCode(unstarted.json)]).toEqual([409, 'client_not_started']);
  });

  it('GET shows the state and the answers; cancel cancels it once', async () => {
    h = await startHarness(engine, { app: { apiToken: TOKEN } });
    const anna = await h.client('Anna');
    const call = client(h);
    const { id } = state(
      (await call('POST', '/api/requests', { client_id: anna.id, request_id: 'personal_data', operator_id: h.operator.id })).json,
    );
    await anna.waitForMessage(/step 1 of 3/);
    await anna.send('Anna Petrova');
    await anna.waitForMessage(/step 2 of 3/);

    const read = await call('GET', `/api/requests/${id}`);
    expect(read.status).toBe(200);
    expect(state(read.json)).toMatchObject({
      id,
      status: 'collecting',
      current_step: 'city',
      answers: [
        {
          step_id: 'full_name',
          step_label: 'Full name',
          type: 'text',
          round: 1,
          status: 'pending',
          value: { kind: 'text', text: 'Anna Petrova' },
          text: 'Anna Petrova',
          file: null,
        },
      ],
    });

    const cancelled = await call('POST', `/api/requests/${id}/cancel`, { operator_id: h.operator.id });
    expect(cancelled.status).toBe(200);
    expect(state(cancelled.json)).toMatchObject({ id, status: 'cancelled', current_step: null });
    expect(state(cancelled.json).finished_at).not.toBeNull();
    await anna.waitForMessage(/“Personal data” was cancelled/);
    const events = await h.app.flows.eventsOf(id);
    expect(events.at(-1)).toMatchObject({ event: 'CANCEL', actorKind: 'operator', actorId: h.operator.id });

    const again = await call('POST', `/api/requests/${id}/cancel`);
    expect([again.status, errorCode(again.json)]).toEqual([409, 'request_cancelled']);

    // Without an operator, the system cancels (an empty body is fine).
    const second = state((await call('POST', '/api/requests', { client_id: anna.id, request_id: 'passport_photo' })).json);
    const bySystem = await call('POST', `/api/requests/${second.id}/cancel`);
    expect(state(bySystem.json).status).toBe('cancelled');
    expect((await h.app.flows.eventsOf(second.id)).at(-1)).toMatchObject({ event: 'CANCEL', actorKind: 'system', actorId: null });
  });

  it('serves an OpenAPI 3.1 document that describes its routes, schemas and the result webhook', async () => {
    h = await startHarness(engine, { app: { apiToken: TOKEN } });
    const response = await client(h, null)('GET', '/api/openapi.json');
    expect(response.status).toBe(200);
    const document = response.json as {
      openapi: string;
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
      webhooks: Record<string, unknown>;
      components: { schemas: Record<string, { type?: string; properties?: Record<string, unknown>; required?: string[] }> };
    };
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths).sort()).toEqual([
      '/api/openapi.json',
      '/api/requests',
      '/api/requests/{id}',
      '/api/requests/{id}/cancel',
    ]);
    expect(Object.keys(document.paths['/api/requests']?.['post']?.responses ?? {}).sort()).toEqual([
      '201',
      '400',
      '401',
      '404',
      '409',
      '413',
      '422',
    ]);
    expect(Object.keys(document.webhooks)).toEqual(['requestCompleted']);
    const schemas = document.components.schemas;
    expect(Object.keys(schemas)).toEqual(
      expect.arrayContaining([
        'StartRequest',
        'CancelRequest',
        'RequestState',
        'Result',
        'Answer',
        'AnswerRecord',
        'File',
        'Person',
        'Error',
      ]),
    );
    expect(schemas['StartRequest']?.required).toEqual(['client_id', 'request_id']);
    expect(Object.keys(schemas['RequestState']?.properties ?? {})).toEqual(Object.keys(requestStateSchema.shape));
    // Every schema it points to is there.
    for (const [, target] of JSON.stringify(document).matchAll(/"#\/components\/schemas\/([A-Za-z]+)"/g))
      expect(schemas, target).toHaveProperty(target ?? '');
  });
});
