import { Writable } from 'node:stream';
import { eq, inArray } from 'drizzle-orm';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { answers, flows as flowsTable, messages, outbox, resultDeliveries } from '../../src/db/schema.js';
import { startScheduler } from '../../src/delivery/scheduler.js';
import { FlowService } from '../../src/flows/service.js';
import { resultSink } from '../../src/results/body.js';
import { ENGINES, openTestDatabase, type TestDatabase } from '../helpers/db.js';
import { addClient, addOperator, catalogue, OPERATOR, text, updateId } from '../helpers/flows.js';

const DAY = 86_400_000;

describe.each(ENGINES)('retention on %s', (engine) => {
  let test: TestDatabase;
  afterEach(() => test.close());

  /** A service on a clock the test sets: `at(days)` is that many days from now. */
  async function setup(retentionDays: number | undefined) {
    test = await openTestDatabase(engine);
    const { db } = test.current();
    await addOperator(db);
    const current = await catalogue();
    let offset = 0;
    const flows = new FlowService({
      db,
      catalogue: () => current,
      defaultLocale: 'en',
      clock: () => new Date(Date.now() + offset),
      retentionDays,
      results: resultSink({ locale: 'en' }),
    });
    return { db, flows, at: (days: number) => void (offset = days * DAY) };
  }

  /** A client answers Personal data (with the messages logged); `finish`: and the operator accepts it. */
  async function personalData(
    db: Awaited<ReturnType<typeof setup>>['db'],
    flows: FlowService,
    clientId: number,
    finish: boolean,
  ): Promise<number> {
    await addClient(db, clientId);
    const started = await flows.start({ operatorId: OPERATOR, clientId, requestId: 'personal_data', updateId: updateId() });
    if (!started.ok) throw new Error(started.refusal.code);
    for (const value of ['Anna Petrova', 'Moscow', '15.06.1990']) {
      const message = { chatId: clientId, kind: 'text' as const, text: value, fileId: null, fileUniqueId: null, telegramMessageId: null };
      await flows.answer({ clientId, answer: text(value), message, updateId: updateId() });
    }
    await flows.confirm({ clientId, updateId: updateId() });
    if (finish) await flows.accept({ operatorId: OPERATOR, flowId: started.value.flow.id, updateId: updateId() });
    // As the sender would: everything sent.
    await db.update(outbox).set({ status: 'sent' }).where(eq(outbox.flowId, started.value.flow.id));
    return started.value.flow.id;
  }

  it('removes the answers and message contents of requests finished longer ago than RETENTION_DAYS, and nothing else', async () => {
    const { db, flows, at } = await setup(30);
    const old = await personalData(db, flows, 7, true);
    const open = await personalData(db, flows, 8, false);

    // 29 days on: too early.
    at(29);
    expect(await flows.applyRetention()).toEqual({ requests: 0, answers: 0, messages: 0 });
    expect(await db.select().from(answers).where(eq(answers.flowId, old))).toHaveLength(3);

    // 31 days on: the finished one is emptied; the one still in review is kept whole.
    at(31);
    expect(await flows.applyRetention()).toEqual({ requests: 1, answers: 3, messages: expect.any(Number) });
    expect(await db.select().from(answers).where(eq(answers.flowId, old))).toEqual([]);
    expect(await db.select().from(answers).where(eq(answers.flowId, open))).toHaveLength(3);
    const logged = await db
      .select()
      .from(messages)
      .where(inArray(messages.flowId, [old, open]));
    expect(logged.filter((m) => m.flowId === old).every((m) => m.text === null)).toBe(true);
    expect(logged.filter((m) => m.flowId === open).map((m) => m.text)).toEqual(['Anna Petrova', 'Moscow', '15.06.1990']);
    const rows = await db.select().from(outbox).where(eq(outbox.flowId, old));
    expect(rows.every((o) => JSON.stringify(o.payload) === '{}')).toBe(true);
    expect((await db.select().from(outbox).where(eq(outbox.flowId, open))).some((o) => JSON.stringify(o.payload).includes('Moscow'))).toBe(
      true,
    );
    expect(await db.select({ status: resultDeliveries.status, body: resultDeliveries.body }).from(resultDeliveries)).toEqual([
      { status: 'erased', body: null },
    ]);
    const [flow] = await db.select().from(flowsTable).where(eq(flowsTable.id, old));
    expect(flow).toMatchObject({ status: 'completed' });
    expect(flow?.purgedAt).not.toBeNull();
    expect((flow?.snapshot as { context: { answers: unknown } }).context.answers).toEqual({});
    // The flow still reads (its view, without answers).
    const view = (await flows.flow(old))?.view;
    expect(view?.kind).toBe('completed');
    expect(view && 'answers' in view ? view.answers.map((a) => [a.step.id, a.value]) : null).toEqual([
      ['full_name', null],
      ['city', null],
      ['birth_date', null],
    ]);

    // Done once: the next pass finds nothing.
    at(60);
    expect(await flows.applyRetention()).toEqual({ requests: 0, answers: 0, messages: 0 });
  });

  it('keeps everything without RETENTION_DAYS', async () => {
    const { db, flows, at } = await setup(undefined);
    const old = await personalData(db, flows, 7, true);
    at(10_000);
    expect(await flows.applyRetention()).toEqual({ requests: 0, answers: 0, messages: 0 });
    expect(await db.select().from(answers).where(eq(answers.flowId, old))).toHaveLength(3);
  });

  it('the timer pass runs it and logs the count', async () => {
    const { db, flows, at } = await setup(1);
    await personalData(db, flows, 7, true);
    at(2);
    const lines: Record<string, unknown>[] = [];
    let logged: (line: Record<string, unknown>) => void = () => {};
    const retention = new Promise<Record<string, unknown>>((resolve) => (logged = resolve));
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        const line = JSON.parse(chunk.toString('utf8')) as Record<string, unknown>;
        lines.push(line);
        if (typeof line['msg'] === 'string' && line['msg'].startsWith('retention')) logged(line);
        done();
      },
    });
    const scheduler = startScheduler({
      flows,
      logger: pino({ level: 'info' }, destination),
      onWork: () => {},
      retention: true,
      intervalMs: 60_000,
    });
    const line = await retention;
    await scheduler.stop();
    expect(line).toMatchObject({ msg: 'retention: answers and message contents of finished requests removed', requests: 1, answers: 3 });
    expect(JSON.stringify(lines)).not.toMatch(/Anna|Moscow/);
  });
});
