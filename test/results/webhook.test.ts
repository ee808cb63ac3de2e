import { createHmac } from 'node:crypto';
import { asc } from 'drizzle-orm';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client.js';
import { resultDeliveries } from '../../src/db/schema.js';
import { FlowService } from '../../src/flows/service.js';
import { resultSink } from '../../src/results/body.js';
import { ResultDeliverer } from '../../src/results/deliverer.js';
import { resultSchema } from '../../src/results/json.js';
import { FileLinks } from '../../src/results/links.js';
import { ENGINES, openTestDatabase, type TestDatabase } from '../helpers/db.js';
import { addClient, addOperator, catalogue, OPERATOR, photo, text, updateId } from '../helpers/flows.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';

const SECRET = 'a-shared-secret-of-the-receiver';

/** The receiver's own check, written from the documentation: HMAC-SHA256 over "<t>.<raw body>". */
function signatureOf(header: string | string[] | undefined): { t: number; v1: string } {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(typeof header === 'string' ? header : '');
  if (!match?.[1] || !match[2]) throw new Error(`not a signature header: ${String(header)}`);
  return { t: Number(match[1]), v1: match[2] };
}

function expectSigned(
  received: { headers: Record<string, string | string[] | undefined>; body: string },
  window: { from: number; to: number },
): void {
  const { t, v1 } = signatureOf(received.headers['x-orb-signature']);
  expect(v1).toBe(createHmac('sha256', SECRET).update(`${t}.${received.body}`).digest('hex'));
  // Signed at the moment of sending, by the deliverer's clock.
  expect(t).toBeGreaterThanOrEqual(Math.floor(window.from / 1000));
  expect(t).toBeLessThanOrEqual(Math.ceil(window.to / 1000));
  // Anyone else's signature, or another body, does not match.
  expect(createHmac('sha256', 'another secret').update(`${t}.${received.body}`).digest('hex')).not.toBe(v1);
  expect(createHmac('sha256', SECRET).update(`${t}.${received.body} `).digest('hex')).not.toBe(v1);
}

describe.each(ENGINES)('result webhook on %s', (engine) => {
  let test: TestDatabase;
  let receiver: Receiver | undefined;
  afterEach(async () => {
    await receiver?.close();
    receiver = undefined;
    await test.close();
  });

  /** A service that writes results, and a deliverer whose clock the test moves on. */
  async function setup(
    answer: (n: number) => number | 'hang',
    options: { maxAttempts?: number; timeoutMs?: number; links?: FileLinks } = {},
  ) {
    test = await openTestDatabase(engine);
    const { db } = test.current();
    await addOperator(db);
    const current = await catalogue();
    const flows = new FlowService({
      db,
      catalogue: () => current,
      defaultLocale: 'en',
      results: resultSink({ locale: 'en', links: options.links }),
    });
    receiver = await startReceiver(answer);
    let shift = 0;
    const clock = () => new Date(Date.now() + shift);
    const failures: number[] = [];
    const deliverer = new ResultDeliverer({
      db,
      url: receiver.url,
      secret: SECRET,
      logger: pino({ level: 'silent' }),
      clock,
      onFailed: async (n) => void failures.push(n),
      ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    });
    return { db, flows, deliverer, clock, receiver, failures, advance: (ms: number) => void (shift += ms) };
  }

  /** Anna answers Personal data and the operator accepts it; resolves to the flow id. */
  async function acceptPersonalData(db: Db, flows: FlowService, clientId = 7): Promise<number> {
    await addClient(db, clientId, { name: 'Anna' });
    const started = await flows.start({ operatorId: OPERATOR, clientId, requestId: 'personal_data', updateId: updateId() });
    if (!started.ok) throw new Error(started.refusal.code);
    for (const answer of ['Anna Petrova', 'Moscow', '15.06.1990'])
      await flows.answer({ clientId, answer: text(answer), updateId: updateId() });
    await flows.confirm({ clientId, updateId: updateId() });
    const accepted = await flows.accept({ operatorId: OPERATOR, flowId: started.value.flow.id, updateId: updateId() });
    expect(accepted.ok).toBe(true);
    return started.value.flow.id;
  }

  async function deliveries(db: Db) {
    return db.select().from(resultDeliveries).orderBy(asc(resultDeliveries.id));
  }

  it('posts an accepted request once, signed; a 500 is tried again after the backoff, then it is delivered', async () => {
    const { db, flows, deliverer, clock, receiver, failures, advance } = await setup((n) => (n === 0 ? 500 : 200));
    const flowId = await acceptPersonalData(db, flows);

    // Written with the acceptance, in its transaction.
    const [written] = await deliveries(db);
    expect(written).toMatchObject({ flowId, status: 'pending', attempts: 0 });

    const from = clock().getTime();
    await deliverer.flush();
    const first = await receiver.request(0);
    expectSigned(first, { from, to: clock().getTime() });
    expect(first.method).toBe('POST');
    expect(first.path).toBe('/hooks/results');
    expect(first.headers['content-type']).toBe('application/json');
    expect(first.headers['x-orb-event']).toBe('request.completed');
    expect(first.headers['x-orb-delivery']).toBe(String(written?.id));
    const body = resultSchema.parse(JSON.parse(first.body));
    expect(body).toMatchObject({
      event: 'request.completed',
      flow_id: flowId,
      request: { id: 'personal_data', title: 'Personal data' },
      client: { id: 7, name: 'Anna', username: null },
      operator: { id: OPERATOR, name: 'Olga Operator', username: null },
      accepted_by: { kind: 'operator', id: OPERATOR },
    });
    expect(Date.parse(body.accepted_at)).not.toBeNaN();
    expect(body.answers.map((a) => [a.step_id, a.type, a.value, a.text, a.file])).toEqual([
      ['full_name', 'text', { kind: 'text', text: 'Anna Petrova' }, 'Anna Petrova', null],
      ['city', 'text', { kind: 'text', text: 'Moscow' }, 'Moscow', null],
      ['birth_date', 'date', { kind: 'date', date: '1990-06-15' }, '15.06.1990', null],
    ]);

    // The 500: an attempt, with its error, due again later.
    const [afterFailure] = await deliveries(db);
    expect(afterFailure).toMatchObject({ status: 'pending', attempts: 1, lastError: 'HTTP 500' });
    expect(afterFailure?.nextAttemptAt.getTime()).toBeGreaterThan(clock().getTime());

    // Not due yet: nothing is posted.
    await deliverer.flush();
    expect(receiver.received).toHaveLength(1);

    // Due: posted again, the same body, a fresh signature; a 200 delivers it and the copy of the answers goes.
    advance(afterFailure!.nextAttemptAt.getTime() - clock().getTime() + 1);
    const again = clock().getTime();
    await deliverer.flush();
    const second = await receiver.request(1);
    expectSigned(second, { from: again, to: clock().getTime() });
    expect(second.body).toBe(first.body);
    expect(second.headers['x-orb-delivery']).toBe(first.headers['x-orb-delivery']);
    const [delivered] = await deliveries(db);
    expect(delivered).toMatchObject({ status: 'delivered', attempts: 2, body: null });
    expect(failures).toEqual([]);

    // Delivered once: later passes post nothing.
    advance(3_600_000);
    await deliverer.flush();
    expect(receiver.received).toHaveLength(2);
    expect((await deliverer.summary()).counts).toEqual({ pending: 0, delivered: 1, failed: 0, erased: 0 });
  });

  it('a 400 is a refusal for good: failed at once, admins told once; Retry sends it again', async () => {
    let refuse = true;
    const { db, flows, deliverer, receiver, failures, advance } = await setup(() => (refuse ? 400 : 204));
    const flowId = await acceptPersonalData(db, flows);
    await deliverer.flush();
    await receiver.request(0);
    expect(await deliveries(db)).toEqual([expect.objectContaining({ flowId, status: 'failed', attempts: 1, lastError: 'HTTP 400' })]);
    expect(failures).toEqual([1]);

    advance(86_400_000);
    await deliverer.flush();
    expect(receiver.received).toHaveLength(1);
    expect(failures).toEqual([1]);
    const summary = await deliverer.summary();
    expect(summary.counts).toMatchObject({ failed: 1, pending: 0 });
    expect(summary.lastError).toMatchObject({ flowId, error: 'HTTP 400' });

    refuse = false;
    expect(await deliverer.retryFailed()).toBe(1);
    await deliverer.flush();
    await receiver.request(1);
    expect(await deliveries(db)).toEqual([expect.objectContaining({ status: 'delivered', attempts: 1, body: null })]);
  });

  it('408, 429 and 5xx are retried up to the last attempt, then failed; a receiver that does not answer times out', async () => {
    const statuses: (number | 'hang')[] = [408, 429, 'hang', 503];
    const { db, flows, deliverer, clock, receiver, failures, advance } = await setup((n) => statuses[n] ?? 500, {
      maxAttempts: 4,
      timeoutMs: 300,
    });
    await acceptPersonalData(db, flows);
    const errors: (string | null)[] = [];
    for (let n = 0; n < 4; n++) {
      await deliverer.flush();
      await receiver.request(n);
      const [row] = await deliveries(db);
      errors.push(row?.lastError ?? null);
      advance(Math.max(0, (row?.nextAttemptAt.getTime() ?? 0) - clock().getTime()) + 1);
    }
    expect(errors).toEqual(['HTTP 408', 'HTTP 429', 'no answer within 0.3 s', 'HTTP 503']);
    expect(await deliveries(db)).toEqual([expect.objectContaining({ status: 'failed', attempts: 4 })]);
    expect(failures).toEqual([1]);
  });

  it('files are sent as file ids, with signed download links when links are configured', async () => {
    const links = new FileLinks({ baseUrl: 'https://bot.example.com', secret: SECRET });
    const { db, flows, deliverer, receiver } = await setup(() => 200, { links });
    await addClient(db, 8);
    const started = await flows.start({ operatorId: OPERATOR, clientId: 8, requestId: 'passport_photo', updateId: updateId() });
    if (!started.ok) throw new Error(started.refusal.code);
    await flows.answer({ clientId: 8, answer: photo(3), updateId: updateId() });
    await flows.accept({ operatorId: OPERATOR, flowId: started.value.flow.id, updateId: updateId() });
    await deliverer.flush();
    const body = resultSchema.parse(JSON.parse((await receiver.request(0)).body));
    const file = body.answers[0]?.file;
    expect(file).toMatchObject({ media: 'photo', file_id: 'photo-3', file_unique_id: 'uphoto-3', mime_type: 'image/jpeg' });
    const url = new URL(file?.download_url ?? '');
    expect(url.origin + url.pathname).toBe(`https://bot.example.com/files/${started.value.flow.id}/passport`);
    const valid = (at: Date) =>
      links.check(started.value.flow.id, 'passport', url.searchParams.get('expires'), url.searchParams.get('signature'), at);
    expect(valid(new Date())).toBe('ok');
    expect(valid(new Date(Date.now() + 8 * 86_400_000))).toBe('expired');
    expect(
      links.check(started.value.flow.id, 'other', url.searchParams.get('expires'), url.searchParams.get('signature'), new Date()),
    ).toBe('invalid');
  });

  it('writes nothing for requests that end otherwise, or when no webhook is configured', async () => {
    const { db, flows } = await setup(() => 200);
    await addClient(db, 9);
    const started = await flows.start({ operatorId: OPERATOR, clientId: 9, requestId: 'personal_data', updateId: updateId() });
    if (!started.ok) throw new Error(started.refusal.code);
    await flows.cancel({ actor: { kind: 'operator', id: OPERATOR }, flowId: started.value.flow.id });
    const current = await catalogue();
    await acceptPersonalData(db, new FlowService({ db, catalogue: () => current, defaultLocale: 'en' }), 10);
    expect(await deliveries(db)).toEqual([]);
  });
});
