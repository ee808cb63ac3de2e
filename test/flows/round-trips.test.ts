import { and, eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { startProxy, type RoundTripProxy } from '../../bench/proxy.js';
import { openDatabase, type Database } from '../../src/db/client.js';
import { messages, outbox } from '../../src/db/schema.js';
import type { FlowService } from '../../src/flows/service.js';
import { ENGINES, openTestDatabase, type TestDatabase } from '../helpers/db.js';
import { addClient, addOperator, newService, OPERATOR, text, updateId } from '../helpers/flows.js';

/**
 * What one command costs on PostgreSQL: the statements it sends (BEGIN and COMMIT included)
 * and the network round trips they take, counted by a TCP proxy. The hot path is four statements:
 * BEGIN, the lock (with the update dedupe in the same statement), the one write statement, COMMIT.
 *
 * On the wire they are two round trips once the connection has prepared the statements (postgres.js
 * would otherwise send each statement with parameters as Parse/Describe first and Bind/Execute after; a
 * write holds only the parts it has rows for, so each kind of write is prepared on its first use):
 * BEGIN goes out with the lock instead of waiting for its answer, and COMMIT with the write, which checks
 * in SQL what it would otherwise check after it (`preparing()` in src/db/client.ts).
 * See docs/performance.md.
 */
describe.runIf(ENGINES.includes('postgres'))('round trips per client command on PostgreSQL', () => {
  let test: TestDatabase | undefined;
  let proxy: RoundTripProxy | undefined;
  let counted: Database | undefined;
  let statements: string[] = [];
  afterEach(async () => {
    await counted?.close();
    await proxy?.close();
    await test?.close();
    counted = undefined;
    proxy = undefined;
    test = undefined;
  });

  async function setup(): Promise<{ flows: FlowService; client: number }> {
    test = await openTestDatabase('postgres');
    const target = new URL(test.url ?? '');
    proxy = await startProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const viaProxy = new URL(target);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    counted = await openDatabase({
      databaseUrl: viaProxy.toString(),
      poolSize: 1,
      migrate: false,
      debug: (_c, query) => statements.push(query),
    });
    const { db } = counted;
    await addOperator(db);
    const client = await addClient(db, 42);
    const flows = await newService(db);
    const started = await flows.start({ operatorId: OPERATOR, clientId: client, requestId: 'personal_data', updateId: updateId() });
    if (!started.ok) throw new Error(started.refusal.code);
    // The first use of a statement on a connection prepares it (one more round trip); measure after that.
    await flows.answer({ clientId: client, answer: text('Anna Petrova'), updateId: updateId() });
    return { flows, client };
  }

  /** What `run` sends: its statements (one line each) and the round trips they take. */
  async function count<T>(run: () => Promise<T>): Promise<{ result: T; sent: string[]; trips: number }> {
    statements = [];
    const trips = () => proxy?.roundTrips() ?? Number.NaN;
    const before = trips();
    const result = await run();
    return { result, sent: statements.map((s) => s.replace(/\s+/g, ' ').trim()), trips: trips() - before };
  }

  function expectHotPath({ sent, trips }: { sent: string[]; trips: number }): void {
    expect(sent.length, sent.join('\n')).toBeLessThanOrEqual(4);
    expect(sent[0]).toMatch(/^begin\b/i);
    expect(sent.at(-1)).toMatch(/^commit\b/i);
    const locks = sent.filter((s) => /for update/i.test(s));
    expect(locks, 'one locking statement').toHaveLength(1);
    expect(locks[0], 'the update dedupe rides on the lock').toMatch(/insert into inbox/i);
    // One round trip per statement once the connection has prepared them, but BEGIN goes with the lock and
    // COMMIT with the write.
    expect(trips, sent.join('\n')).toBeLessThanOrEqual(2);
  }

  it('a valid answer to a step that is not the last: 4 statements', async () => {
    const { flows, client } = await setup();
    const cost = await count(() => flows.answer({ clientId: client, answer: text('Moscow'), updateId: updateId() }));
    expect(cost.result.ok && [cost.result.value.status, cost.result.value.invalid]).toEqual(['collecting', null]);
    expectHotPath(cost);
  });

  it('an invalid answer: 4 statements', async () => {
    const { flows, client } = await setup();
    // A write holds only the parts it has rows for: this one's statement is prepared by a first invalid answer.
    await flows.answer({ clientId: client, answer: text('2'), updateId: updateId() });
    const cost = await count(() => flows.answer({ clientId: client, answer: text('1'), updateId: updateId() }));
    expect(cost.result.ok && cost.result.value.invalid).not.toBeNull();
    expectHotPath(cost);
  });

  it('an answer that finishes the round: 4 statements', async () => {
    const { flows, client } = await setup();
    await flows.answer({ clientId: client, answer: text('Moscow'), updateId: updateId() });
    const cost = await count(() => flows.answer({ clientId: client, answer: text('15.06.1990'), updateId: updateId() }));
    expect(cost.result.ok && cost.result.value.status).toBe('confirming');
    expectHotPath(cost);
  });

  it("an answer while the client's card is open in a staff chat: 4 statements, the card's edit in the one write", async () => {
    const { flows, client } = await setup();
    const db = counted?.db;
    if (!db) throw new Error('no database');
    await flows.cardShown({ chatId: OPERATOR, messageId: 78, clientId: client });
    await db.delete(outbox).where(eq(outbox.method, 'editMessageText'));
    const cost = await count(() => flows.answer({ clientId: client, answer: text('Moscow'), updateId: updateId() }));
    expect(cost.result.ok && cost.result.value.status).toBe('collecting');
    expectHotPath(cost);
    const edits = await db
      .select()
      .from(outbox)
      .where(and(eq(outbox.chatId, OPERATOR), eq(outbox.method, 'editMessageText')));
    // Drawn from the answer's new state: the step after the city is the birth date (3 of 3).
    expect(edits.map((e) => [e.cardKey, (e.payload as { message_id?: number }).message_id])).toEqual([[`client:${client}`, 78]]);
    const drawn = JSON.stringify(edits[0]?.payload);
    expect(drawn).toContain('(3/3)');
    expect(drawn).not.toContain('(2/3)');
  });

  it('a request sent from an open client card: 5 statements in 2 round trips, the card redrawn and the press logged', async () => {
    const { flows } = await setup();
    const db = counted?.db;
    if (!db) throw new Error('no database');
    const card = { chatId: OPERATOR, messageId: 77 };
    const press = {
      chatId: OPERATOR,
      kind: 'callback' as const,
      text: 'sd:44:1',
      fileId: null,
      fileUniqueId: null,
      telegramMessageId: null,
    };
    // Once through on another client's card first: every statement of the path is prepared on the connection.
    const other = await addClient(db, 43);
    await flows.cardShown({ chatId: OPERATOR, messageId: 76, clientId: other });
    await flows.start({
      operatorId: OPERATOR,
      clientId: other,
      requestId: 'personal_data',
      updateId: updateId(),
      card: { chatId: OPERATOR, messageId: 76 },
      message: { ...press, text: 'sd:43:1' },
    });
    const client = await addClient(db, 44);
    await flows.cardShown({ ...card, clientId: client });
    const cost = await count(() =>
      flows.start({ operatorId: OPERATOR, clientId: client, requestId: 'personal_data', updateId: updateId(), card, message: press }),
    );
    expect(cost.result.ok && [cost.result.value.queued, cost.result.value.client.firstName]).toEqual([false, 'Client 44']);
    const { sent, trips } = cost;
    // BEGIN, the lock (update dedupe, person row lock, claim) and the read (open flows, cards, operator, the
    // new id) pipelined in one round trip; the one write (flow, audit, outbox with the card's edit, the log) and
    // COMMIT in another.
    expect(sent, sent.join('\n')).toHaveLength(5);
    expect(sent[0]).toMatch(/^begin\b/i);
    expect(sent[1]).toMatch(/insert into inbox .* for update/i);
    expect(sent[2]).toMatch(/nextval/i);
    expect(sent[2], 'only titles, and definitions of active flows on drawn cards').not.toMatch(/row_to_json\(f\)/i);
    expect(sent[3]).toMatch(/insert into flows/i);
    expect(sent.at(-1)).toMatch(/^commit\b/i);
    expect(trips, sent.join('\n')).toBeLessThanOrEqual(2);
    const edits = await db
      .select()
      .from(outbox)
      .where(and(eq(outbox.chatId, OPERATOR), eq(outbox.method, 'editMessageText'), eq(outbox.cardKey, `client:${client}`)));
    expect(edits.map((e) => [e.cardKey, (e.payload as { message_id?: number }).message_id])).toEqual([[`client:${client}`, 77]]);
    const logged = await db.select().from(messages).where(eq(messages.text, 'sd:44:1'));
    expect(logged.map((m) => [m.chatId, m.direction, m.kind])).toEqual([[OPERATOR, 'in', 'callback']]);
  });

  it('an accept that finishes a request and starts the queued one: the client locked and read in one round trip, COMMIT with the last write', async () => {
    const { flows, client } = await setup();
    const db = counted?.db;
    if (!db) throw new Error('no database');
    /** `clientId` answers the rest of their request with another queued behind it, and confirms it. */
    const readyToAccept = async (clientId: number, answers: readonly string[]) => {
      const queued = await flows.start({ operatorId: OPERATOR, clientId, requestId: 'personal_data', updateId: updateId() });
      expect(queued.ok && queued.value.queued).toBe(true);
      for (const value of answers) await flows.answer({ clientId, answer: text(value), updateId: updateId() });
      const confirmed = await flows.confirm({ clientId, updateId: updateId() });
      if (!confirmed.ok) throw new Error(confirmed.refusal.code);
      return confirmed.value.flow.id;
    };
    // Once through on another client first: every statement of the path is prepared on the connection.
    const other = await addClient(db, 43);
    await flows.start({ operatorId: OPERATOR, clientId: other, requestId: 'personal_data', updateId: updateId() });
    const warm = await readyToAccept(other, ['Boris Ivanov', 'Kazan', '01.02.1991']);
    await flows.accept({ operatorId: OPERATOR, flowId: warm, updateId: updateId() });

    const flowId = await readyToAccept(client, ['Moscow', '15.06.1990']);
    const cost = await count(() => flows.accept({ operatorId: OPERATOR, flowId, updateId: updateId() }));
    expect(cost.result.ok && cost.result.value.status).toBe('completed');
    const { sent, trips } = cost;
    // BEGIN with the lock; the write; the person lock with the open flows; the operator; the queued one's write
    // with COMMIT.
    expect(sent, sent.join('\n')).toHaveLength(8);
    expect(sent.at(-1)).toMatch(/^commit\b/i);
    expect(trips, sent.join('\n')).toBeLessThanOrEqual(5);
    const started = await flows.answer({ clientId: client, answer: text('Anna Petrova'), updateId: updateId() });
    expect(started.ok && started.value.flow.id).not.toBe(flowId);
  });

  it('a message the flow cannot take now (logged, refused): 4 statements', async () => {
    const { flows, client } = await setup();
    for (const value of ['Moscow', '15.06.1990']) await flows.answer({ clientId: client, answer: text(value), updateId: updateId() });
    await flows.confirm({ clientId: client, updateId: updateId() });
    const message = { chatId: client, kind: 'text' as const, text: 'hello?', fileId: null, fileUniqueId: null, telegramMessageId: 9 };
    // The first such message prepares its statement on the connection.
    await flows.answer({
      clientId: client,
      answer: text('hi'),
      message: { ...message, text: 'hi', telegramMessageId: 8 },
      updateId: updateId(),
    });
    const cost = await count(() => flows.answer({ clientId: client, answer: text('hello?'), message, updateId: updateId() }));
    expect(cost.result).toEqual({ ok: false, refusal: { code: 'not_allowed', status: 'in_review' } });
    expectHotPath(cost);
  });
});
