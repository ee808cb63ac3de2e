import { and, eq, sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { parseCatalogue, type Catalogue } from '../../src/config/catalogue.js';
import { rowsOf } from '../../src/db/client.js';
import { answers, flowEvents, flows as flowsTable, messages, outbox, inbox, people } from '../../src/db/schema.js';
import { ENGINES, openTestDatabase, type TestDatabase } from '../helpers/db.js';
import { driveOneStep } from '../helpers/drive.js';
import {
  addClient,
  addOperator,
  catalogue,
  document,
  driveToEnd,
  newService,
  OPERATOR,
  outboxTexts,
  photo,
  text,
  updateId,
} from '../helpers/flows.js';

describe.each(ENGINES)('flow service on %s', (engine) => {
  let test: TestDatabase;
  afterEach(() => test.close());

  async function setup(options: Parameters<typeof newService>[1] = {}) {
    test = await openTestDatabase(engine, { poolSize: 20 });
    const { db } = test.current();
    await addOperator(db);
    return { db, flows: await newService(db, options) };
  }

  // Every request type at once, one step each per round, then a restart: each flow survives a restart
  // after every one of its steps, in as many restarts as the longest request has steps (on PGlite each
  // dumps and reloads the data directory). The limit is there to catch a hang, not a slow machine.
  it('runs every default request type to completion, surviving a restart at every step', { timeout: 5 * 60_000 }, async () => {
    await setup();
    const requests = (await catalogue()).requests;
    let flows = await newService(test.current().db);
    const running: Array<{ request: (typeof requests)[number]; client: number; flowId: number }> = [];
    let clientId = 100;
    for (const request of requests) {
      const client = await addClient(test.current().db, ++clientId);
      const started = await flows.start({ operatorId: OPERATOR, clientId: client, requestId: request.id, updateId: updateId() });
      expect(started.ok, request.id).toBe(true);
      running.push({ request, client, flowId: started.ok ? started.value.flow.id : 0 });
    }
    // One step of every flow still going, then throw the service (and the connection) away, as a restarted
    // process would.
    for (let round = 0; round < 10; round++) {
      let moved = false;
      for (const { client } of running) {
        const active = await flows.activeFlow(client);
        if (!active) continue;
        await driveOneStep(flows, client, active);
        moved = true;
      }
      if (!moved) break;
      const reopened = await test.restart();
      flows = await newService(reopened.db);
    }
    for (const { request, flowId } of running) {
      const finished = await flows.flow(flowId);
      expect(finished?.status, request.id).toBe('completed');
      const accepted = await test
        .current()
        .db.select()
        .from(answers)
        .where(and(eq(answers.flowId, flowId), eq(answers.status, 'accepted')));
      expect(accepted.map((a) => a.stepId).sort(), request.id).toEqual(request.steps.map((s) => s.id).sort());
    }
  });

  it('tells, once committed, which updates its commands recorded as applied, and never a repeat', async () => {
    const recorded: number[] = [];
    const { db, flows } = await setup({ onRecorded: (id) => recorded.push(id) });
    const client = await addClient(db, 8);
    await flows.start({ operatorId: OPERATOR, clientId: client, requestId: 'personal_data', updateId: 9_001 });
    await flows.answer({ clientId: client, answer: text('Anna Petrova'), updateId: 9_002 });
    await flows.answer({ clientId: client, answer: text('Anna Petrova'), updateId: 9_002 }); // redelivered
    await flows.answer({ clientId: client, answer: text('Moscow') }); // not from an update
    expect(recorded).toEqual([9_001, 9_002]);
  });

  it('asks again round after round, only for the rejected steps, with the reason', async () => {
    const { db, flows } = await setup();
    const client = await addClient(db, 7);
    const started = await flows.start({ operatorId: OPERATOR, clientId: client, requestId: 'personal_data', updateId: updateId() });
    if (!started.ok) throw new Error(started.refusal.code);
    const id = started.value.flow.id;
    await flows.answer({ clientId: client, answer: text('Anna Petrova'), updateId: updateId() });
    await flows.answer({ clientId: client, answer: text('Moscow'), updateId: updateId() });
    await flows.answer({ clientId: client, answer: text('15.06.1990'), updateId: updateId() });
    await flows.confirm({ clientId: client, updateId: updateId() });
    for (let round = 2; round <= 4; round++) {
      const again = await flows.askAgain({
        operatorId: OPERATOR,
        flowId: id,
        reason: `typo ${round}`,
        stepIds: ['city'],
        updateId: updateId(),
      });
      expect(again.ok && again.value.status).toBe('collecting');
      const active = await flows.activeFlow(client);
      expect(active?.view).toMatchObject({ kind: 'prompt', step: { id: 'city' }, position: 1, total: 1, reason: `typo ${round}`, round });
      const answered = await flows.answer({ clientId: client, answer: text(`City ${round}`), updateId: updateId() });
      expect(answered.ok && answered.value.status).toBe('confirming');
      await flows.confirm({ clientId: client, updateId: updateId() });
      expect((await flows.activeFlow(client))?.status).toBe('in_review');
    }
    const accepted = await flows.accept({ operatorId: OPERATOR, flowId: id, updateId: updateId() });
    expect(accepted.ok && accepted.value.status).toBe('completed');
    const rows = await db.select().from(answers).where(eq(answers.flowId, id)).orderBy(answers.id);
    expect(rows.filter((r) => r.stepId === 'city').map((r) => [r.round, r.status])).toEqual([
      [1, 'rejected'],
      [2, 'rejected'],
      [3, 'rejected'],
      [4, 'accepted'],
    ]);
    expect(rows.filter((r) => r.stepId !== 'city').every((r) => r.status === 'accepted')).toBe(true);
    expect((await outboxTexts(db, client)).filter((m) => m.includes('send this again: typo'))).toHaveLength(3);
  });

  it('parks the flow for an operator after max attempts; retry resumes it to completion', async () => {
    const { db, flows } = await setup();
    const client = await addClient(db, 8);
    const started = await flows.start({ operatorId: OPERATOR, clientId: client, requestId: 'personal_data', updateId: updateId() });
    if (!started.ok) throw new Error(started.refusal.code);
    const id = started.value.flow.id;
    await flows.answer({ clientId: client, answer: text('Anna Petrova'), updateId: updateId() });
    await flows.answer({ clientId: client, answer: text('Moscow'), updateId: updateId() });
    const reasons = [];
    for (const bad of ['31.02.1990', 'yesterday', '01.01.2099']) {
      const result = await flows.answer({ clientId: client, answer: text(bad), updateId: updateId() });
      reasons.push(result.ok ? [result.value.invalid?.code, result.value.status] : result.refusal.code);
    }
    expect(reasons).toEqual([
      ['not_a_date', 'collecting'],
      ['bad_date_format', 'collecting'],
      [expect.any(String), 'needs_operator'],
    ]);
    expect((await outboxTexts(db, OPERATOR)).some((m) => m.includes('could not answer'))).toBe(true);
    // The client cannot move it on by themselves, but nothing is stuck: the operator retries.
    const meanwhile = await flows.answer({ clientId: client, answer: text('15.06.1990'), updateId: updateId() });
    expect(meanwhile.ok).toBe(false);
    const retried = await flows.retry({ actor: { kind: 'operator', id: OPERATOR }, flowId: id, updateId: updateId() });
    expect(retried.ok && retried.value.status).toBe('collecting');
    expect((await flows.activeFlow(client))?.view).toMatchObject({ kind: 'prompt', step: { id: 'birth_date' }, error: null });
    expect(await driveToEnd(flows, client)).toBe('completed');
  });

  it('queues a second request and starts it by itself when the first finishes', async () => {
    const { db, flows } = await setup();
    const client = await addClient(db, 9);
    const first = await flows.start({ operatorId: OPERATOR, clientId: client, requestId: 'passport_photo', updateId: updateId() });
    const second = await flows.start({ operatorId: OPERATOR, clientId: client, requestId: 'selfie_with_document', updateId: updateId() });
    expect(first.ok && first.value.queued).toBe(false);
    expect(second.ok && [second.value.queued, second.value.position]).toEqual([true, 1]);
    expect((await outboxTexts(db, OPERATOR)).at(-1)).toMatch(/is queued \(position 1\)/);
    expect(await driveToEnd(flows, client)).toBe('completed');
    const active = await flows.activeFlow(client);
    expect(active?.requestId).toBe('selfie_with_document');
    expect((await outboxTexts(db, client)).at(-1)).toMatch(/Selfie with document · step 1 of 1/);
    expect((await outboxTexts(db, OPERATOR)).at(-1)).toMatch(/“Selfie with document” was sent to Client 9/);
    expect(await driveToEnd(flows, client)).toBe('completed');
    expect(await flows.activeFlow(client)).toBeNull();
  });

  it('sends ten requests to one client at once: one starts, the others queue at positions 1 to 9 in the order they came', async () => {
    const { db, flows } = await setup();
    const client = await addClient(db, 16);
    // Each start reads the open flows after it holds the client's lock, so none decides on what it saw before waiting.
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        flows.start({ operatorId: OPERATOR, clientId: client, requestId: 'passport_photo', updateId: updateId() }),
      ),
    );
    const started = results.flatMap((r) => (r.ok ? [r.value] : []));
    expect(started).toHaveLength(10);
    expect(started.filter((s) => !s.queued)).toHaveLength(1);
    const queued = started.filter((s) => s.queued).sort((a, b) => a.flow.id - b.flow.id);
    expect(queued.map((s) => s.position)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const rows = await db.select().from(flowsTable).where(eq(flowsTable.clientId, client));
    expect(rows.filter((r) => r.status === 'collecting').map((r) => r.id)).toEqual(started.filter((s) => !s.queued).map((s) => s.flow.id));
    // The client was claimed for the operator with the first of them.
    expect((await db.select().from(people).where(eq(people.id, client)))[0]?.operatorId).toBe(OPERATOR);
  });

  it('keeps queue order when a queue has nothing active: the oldest queued starts, the new one waits', async () => {
    const { db, flows } = await setup();
    const client = await addClient(db, 15);
    const definition = (await catalogue()).byId.get('selfie_with_document');
    await db.insert(flowsTable).values({
      clientId: client,
      operatorId: OPERATOR,
      requestId: 'selfie_with_document',
      definition,
      definitionHash: definition?.hash ?? '',
      status: 'queued',
    });
    const started = await flows.start({ operatorId: OPERATOR, clientId: client, requestId: 'passport_photo', updateId: updateId() });
    expect(started.ok && started.value.queued).toBe(true);
    expect((await flows.activeFlow(client))?.requestId).toBe('selfie_with_document');
    expect(await driveToEnd(flows, client)).toBe('completed');
    expect((await flows.activeFlow(client))?.requestId).toBe('passport_photo');
  });

  it('sends the results to the whole staff when the operator who asked has left', async () => {
    test = await openTestDatabase(engine);
    const { db } = test.current();
    await addOperator(db);
    const stillStaff = [2_000, 3_000];
    const flows = await newService(db, { operatorsFor: async (id) => (id === OPERATOR ? stillStaff : [id]) });
    const client = await addClient(db, 16);
    await flows.start({ operatorId: OPERATOR, clientId: client, requestId: 'passport_photo', updateId: updateId() });
    await flows.answer({ clientId: client, answer: photo(), updateId: updateId() });
    for (const id of stillStaff) {
      expect(await outboxTexts(db, id)).toEqual([
        expect.stringMatching(/^sendPhoto: Client 16 · Passport photo/),
        expect.stringMatching(/Passport photo from Client 16/),
      ]);
    }
    expect((await outboxTexts(db, OPERATOR)).filter((m) => m.includes('from Client 16'))).toEqual([]);
  });

  it('returns typed refusals for actions that make no sense, never throws', async () => {
    const { db, flows } = await setup();
    const client = await addClient(db, 10);
    const started = await flows.start({ operatorId: OPERATOR, clientId: client, requestId: 'passport_photo', updateId: updateId() });
    if (!started.ok) throw new Error(started.refusal.code);
    const id = started.value.flow.id;
    const early = await flows.accept({ operatorId: OPERATOR, flowId: id, updateId: updateId() });
    expect(early).toEqual({ ok: false, refusal: { code: 'not_allowed', status: 'collecting' } });
    await flows.answer({ clientId: client, answer: photo(), updateId: updateId() });
    const stale = await flows.accept({ operatorId: OPERATOR, flowId: id, version: 1, updateId: updateId() });
    expect(stale).toEqual({ ok: false, refusal: { code: 'stale', status: 'in_review' } });
    expect((await flows.accept({ operatorId: OPERATOR, flowId: id, version: 2, updateId: updateId() })).ok).toBe(true);
    expect(await flows.accept({ operatorId: OPERATOR, flowId: id, updateId: updateId() })).toEqual({
      ok: false,
      refusal: { code: 'already_accepted' },
    });
    expect(await flows.askAgain({ operatorId: OPERATOR, flowId: id, reason: 'x', updateId: updateId() })).toEqual({
      ok: false,
      refusal: { code: 'already_accepted' },
    });

    const other = await flows.start({ operatorId: OPERATOR, clientId: client, requestId: 'passport_photo', updateId: updateId() });
    if (!other.ok) throw new Error(other.refusal.code);
    await flows.cancel({ actor: { kind: 'operator', id: OPERATOR }, flowId: other.value.flow.id, updateId: updateId() });
    expect(await flows.accept({ operatorId: OPERATOR, flowId: other.value.flow.id, updateId: updateId() })).toEqual({
      ok: false,
      refusal: { code: 'request_cancelled' },
    });
    expect(await flows.accept({ operatorId: OPERATOR, flowId: 99_999, updateId: updateId() })).toEqual({
      ok: false,
      refusal: { code: 'flow_not_found' },
    });
    expect(await flows.start({ operatorId: OPERATOR, clientId: client, requestId: 'no_such_request', updateId: updateId() })).toEqual({
      ok: false,
      refusal: { code: 'unknown_request_type', requestId: 'no_such_request' },
    });
    expect(await flows.start({ operatorId: OPERATOR, clientId: 424_242, requestId: 'passport_photo', updateId: updateId() })).toEqual({
      ok: false,
      refusal: { code: 'client_not_found' },
    });
    expect(await flows.answer({ clientId: client, answer: photo(), updateId: updateId() })).toEqual({
      ok: false,
      refusal: { code: 'no_active_request' },
    });
    expect(await flows.cancelByClient({ clientId: client, updateId: updateId() })).toEqual({
      ok: false,
      refusal: { code: 'no_active_request' },
    });
  });

  it('applies the same update id once: one transition, one set of outbox rows', async () => {
    const { db, flows } = await setup();
    const client = await addClient(db, 11);
    await flows.start({ operatorId: OPERATOR, clientId: client, requestId: 'passport_photo', updateId: updateId() });
    const before = (await db.select().from(outbox)).length;
    const update = updateId();
    const message = {
      chatId: client,
      kind: 'photo' as const,
      text: null,
      fileId: 'photo-1',
      fileUniqueId: 'uphoto-1',
      telegramMessageId: 5,
    };
    const first = await flows.answer({ clientId: client, answer: photo(), message, updateId: update });
    const again = await flows.answer({ clientId: client, answer: photo(), message, updateId: update });
    expect(first.ok && first.value.status).toBe('in_review');
    expect(again).toEqual({ ok: false, refusal: { code: 'duplicate_update' } });
    expect((await db.select().from(outbox)).length - before).toBe(3); // thanks, file, review card
    expect(await db.select().from(flowEvents).where(eq(flowEvents.event, 'ANSWER'))).toHaveLength(1);
    expect(await db.select().from(messages)).toHaveLength(1);
    expect(await db.select().from(inbox).where(eq(inbox.updateId, update))).toHaveLength(1);
  });

  it('takes exactly one of 50 concurrent answers to one step, logs all 50, and errors for none', async () => {
    const { db, flows } = await setup();
    const client = await addClient(db, 12);
    const started = await flows.start({ operatorId: OPERATOR, clientId: client, requestId: 'passport_photo', updateId: updateId() });
    if (!started.ok) throw new Error(started.refusal.code);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        flows.answer({
          clientId: client,
          answer: photo(i),
          message: {
            chatId: client,
            kind: 'photo',
            text: null,
            fileId: `photo-${i}`,
            fileUniqueId: `uphoto-${i}`,
            telegramMessageId: 100 + i,
          },
          updateId: updateId(),
        }),
      ),
    );
    const taken = results.filter((r) => r.ok);
    expect(taken).toHaveLength(1);
    expect(results.filter((r) => !r.ok).map((r) => !r.ok && r.refusal.code)).toEqual(Array(49).fill('not_allowed'));
    expect(await db.select().from(answers).where(eq(answers.flowId, started.value.flow.id))).toHaveLength(1);
    expect(await db.select().from(messages).where(eq(messages.chatId, client))).toHaveLength(50);
    expect((await flows.flow(started.value.flow.id))?.status).toBe('in_review');
  });

  it('brings 200 clients through their requests in parallel', async () => {
    const { db, flows } = await setup();
    const ids = Array.from({ length: 200 }, (_, i) => 5_000 + i);
    for (const id of ids) await addClient(db, id);
    const requests = ['passport_photo', 'personal_data', 'contact_details', 'proof_of_address'];
    await Promise.all(
      ids.map((id, i) =>
        flows.start({ operatorId: OPERATOR, clientId: id, requestId: requests[i % requests.length] ?? '', updateId: updateId() }),
      ),
    );
    const outcomes = await Promise.all(ids.map((id) => driveToEnd(flows, id)));
    expect(outcomes).toEqual(Array(200).fill('completed'));
    const counts = rowsOf<{ status: string; n: number }>(
      await db.execute(sql`select status, count(*)::int as n from flows group by status`),
    );
    expect(counts).toEqual([{ status: 'completed', n: 200 }]);
  });

  it('completes 20 flows in flight on their frozen definitions after the catalogue changes and loses entries', async () => {
    const original = await catalogue();
    let current: Catalogue = original;
    const { db, flows } = await setup({ catalogue: () => current });
    const ids = Array.from({ length: 20 }, (_, i) => 7_000 + i);
    for (const [i, id] of ids.entries()) {
      await addClient(db, id);
      await flows.start({
        operatorId: OPERATOR,
        clientId: id,
        requestId: i % 2 === 0 ? 'personal_data' : 'passport_photo',
        updateId: updateId(),
      });
      await flows.answer({ clientId: id, answer: i % 2 === 0 ? text('Anna Petrova') : document('image/png'), updateId: updateId() });
    }
    // personal_data loses its city step and gains a required e-mail; passport_photo is removed.
    current = parseCatalogue(`version: 1
requests:
  - id: personal_data
    title: Personal data v2
    review: true
    steps:
      - { id: full_name, type: text, prompt: Name }
      - { id: email, type: email, prompt: E-mail }
`);
    expect(current.byId.has('passport_photo')).toBe(false);
    const outcomes = await Promise.all(ids.map((id) => driveToEnd(flows, id)));
    expect(outcomes).toEqual(Array(20).fill('completed'));
    const cities = await db.select().from(answers).where(eq(answers.stepId, 'city'));
    expect(cities).toHaveLength(10);
    const hashes = new Set((await db.select().from(flowsTable)).map((f) => f.definitionHash));
    expect(hashes).toEqual(new Set([original.byId.get('personal_data')?.hash, original.byId.get('passport_photo')?.hash]));
  });

  it('reminds a silent client once and expires the request, by the database clock columns', async () => {
    let now = new Date('2026-01-01T10:00:00Z');
    const { db, flows } = await setup({ clock: () => now });
    const client = await addClient(db, 13);
    const started = await flows.start({ operatorId: OPERATOR, clientId: client, requestId: 'passport_photo', updateId: updateId() });
    if (!started.ok) throw new Error(started.refusal.code);
    now = new Date('2026-01-02T09:00:00Z');
    expect(await flows.tick(now)).toEqual({ reminded: 0, expired: 0, activated: 0 });
    now = new Date('2026-01-02T10:30:00Z');
    expect(await flows.tick(now)).toEqual({ reminded: 1, expired: 0, activated: 0 });
    expect(await flows.tick(now)).toEqual({ reminded: 0, expired: 0, activated: 0 });
    expect((await outboxTexts(db, client)).some((m) => m.includes('A reminder'))).toBe(true);
    now = new Date('2026-01-04T10:30:00Z');
    expect(await flows.tick(now)).toEqual({ reminded: 0, expired: 1, activated: 0 });
    expect((await flows.flow(started.value.flow.id))?.status).toBe('expired');
    expect((await outboxTexts(db, client)).at(-1)).toMatch(/expired/);
  });

  it('parks a flow whose stored snapshot no longer fits its machine, and an operator gets it going again', async () => {
    const { db, flows } = await setup();
    const client = await addClient(db, 14);
    const started = await flows.start({ operatorId: OPERATOR, clientId: client, requestId: 'personal_data', updateId: updateId() });
    if (!started.ok) throw new Error(started.refusal.code);
    const id = started.value.flow.id;
    await flows.answer({ clientId: client, answer: text('Anna Petrova'), updateId: updateId() });
    await db.execute(sql`update flows set snapshot = jsonb_set(snapshot, '{value}', '{"collecting": "no_such_step"}') where id = ${id}`);
    expect((await flows.activeFlow(client))?.view.kind).toBe('needs_operator');
    const answer = await flows.answer({ clientId: client, answer: text('Moscow'), updateId: updateId() });
    expect(answer.ok).toBe(false);
    expect((await db.select().from(flowEvents).where(eq(flowEvents.event, 'RESTORE_FAILED'))).length).toBeGreaterThan(0);
    expect((await flows.flow(id))?.status).toBe('needs_operator');
    expect((await outboxTexts(db, OPERATOR)).at(-1)).toMatch(/could not answer/);
    const retried = await flows.retry({ actor: { kind: 'operator', id: OPERATOR }, flowId: id, updateId: updateId() });
    expect(retried.ok && retried.value.status).toBe('collecting');
    expect((await flows.activeFlow(client))?.view).toMatchObject({ kind: 'prompt', step: { id: 'city' } });
    expect(await driveToEnd(flows, client)).toBe('completed');
  });
});
