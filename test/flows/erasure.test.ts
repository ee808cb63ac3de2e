import { asc, eq, sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/client.js';
import { answers, erasures, inbox, messages, outbox, people } from '../../src/db/schema.js';
import { clientRef, ERASED_NAME } from '../../src/flows/erasure.js';
import { FlowService } from '../../src/flows/service.js';
import { resultSink } from '../../src/results/body.js';
import { ENGINES, openTestDatabase, type TestDatabase } from '../helpers/db.js';
import { addOperator, catalogue, OPERATOR, photo, text, updateId } from '../helpers/flows.js';
import { everything, traces } from '../helpers/traces.js';

const ANNA = 7;
const BORIS = 8;
const ADMIN = 999;

describe.each(ENGINES)('erasing a client on %s', (engine) => {
  let test: TestDatabase;
  afterEach(() => test.close());

  /**
   * Anna and Boris, each with an accepted Personal data (its result not yet posted), their messages in the
   * log, their updates in the inbox; Anna also has an active request and a queued one, and staff messages
   * name both.
   */
  async function setup() {
    test = await openTestDatabase(engine);
    const { db } = test.current();
    await addOperator(db);
    const current = await catalogue();
    const flows = new FlowService({
      db,
      catalogue: () => current,
      defaultLocale: 'en',
      results: resultSink({ locale: 'en' }),
      staffIds: async () => [OPERATOR, ADMIN],
    });
    let telegramMessage = 100;
    for (const [id, first, last, username] of [
      [ANNA, 'Anna', 'Petrova', 'anna_p'],
      [BORIS, 'Boris', 'Ivanov', 'boris_i'],
    ] as const) {
      await db
        .insert(people)
        .values({ id, firstName: first, lastName: last, username, languageCode: 'en', startedAt: new Date(), operatorId: OPERATOR });
      const started = await flows.start({ operatorId: OPERATOR, clientId: id, requestId: 'personal_data', updateId: updateId() });
      if (!started.ok) throw new Error(started.refusal.code);
      for (const answer of [`${first} ${last}`, `${first}'s city`, '15.06.1990']) {
        const message = {
          chatId: id,
          kind: 'text' as const,
          text: answer,
          fileId: null,
          fileUniqueId: null,
          telegramMessageId: ++telegramMessage,
        };
        await flows.answer({ clientId: id, answer: text(answer), message, updateId: updateId() });
      }
      await flows.confirm({ clientId: id, updateId: updateId() });
      await flows.accept({ operatorId: OPERATOR, flowId: started.value.flow.id, updateId: updateId() });
      // What the sender does: every row so far sent, and logged.
      await db
        .update(outbox)
        .set({ status: 'sent', telegramMessageId: sql`${outbox.id} + 1000` })
        .where(eq(outbox.status, 'pending'));
      await db.insert(messages).values({ chatId: id, direction: 'out', kind: 'text', text: `Hello, ${first}!`, flowId: null });
      await db.insert(inbox).values([
        { updateId: updateId() + 10_000, chatId: id, payload: { message: { text: `${first} writes` } }, status: 'pending' },
        {
          updateId: updateId() + 10_000,
          chatId: id,
          payload: { message: { text: `${first} failed` } },
          status: 'dead',
          lastError: 'Error',
        },
        { updateId: updateId() + 10_000, chatId: id, payload: null, status: 'done' },
      ]);
    }
    // Anna: a passport photo on its way, and one more request queued behind it.
    await flows.start({ operatorId: OPERATOR, clientId: ANNA, requestId: 'passport_photo', updateId: updateId() });
    const message = {
      chatId: ANNA,
      kind: 'photo' as const,
      text: null,
      fileId: 'photo-5',
      fileUniqueId: 'uphoto-5',
      telegramMessageId: 150,
    };
    await flows.answer({ clientId: ANNA, answer: photo(5), message, updateId: updateId() });
    await flows.start({ operatorId: OPERATOR, clientId: ANNA, requestId: 'proof_of_address', updateId: updateId() });
    // Staff chats: a client card of each, an admin's command with Anna's id, and a message about nobody.
    await db.insert(messages).values([
      { chatId: OPERATOR, direction: 'out', kind: 'text', text: '👤 Anna Petrova (@anna_p)', flowId: null },
      {
        chatId: OPERATOR,
        direction: 'out',
        kind: 'document',
        text: '📦 Anna Petrova (@anna_p) · requests: 2 · files: 1',
        fileId: 'zip-1',
        fileUniqueId: 'uzip-1',
        flowId: null,
      },
      { chatId: ADMIN, direction: 'in', kind: 'command', text: `/forget ${ANNA}`, flowId: null },
      { chatId: OPERATOR, direction: 'out', kind: 'text', text: '👤 Boris Ivanov (@boris_i)', flowId: null },
      { chatId: OPERATOR, direction: 'out', kind: 'text', text: 'Operator menu', flowId: null },
    ]);
    return { db, flows };
  }

  it('removes exactly that client’s data, cancels their requests first, and keeps an anonymised record', async () => {
    const { db, flows } = await setup();
    const boris = await traces(db, BORIS);
    const anna = await traces(db, ANNA);
    expect(anna.answers).toHaveLength(4);
    expect(await everything(db)).toMatch(/Petrova/);

    const erased = await flows.forget({ clientId: ANNA, by: { kind: 'admin', id: ADMIN }, updateId: updateId() });
    if (!erased.ok) throw new Error(erased.refusal.code);
    expect(erased.value).toEqual({
      requestsCancelled: 2,
      answers: 4,
      // Her chat's log (3 answers, a photo, a greeting), her requests' messages elsewhere (none logged here),
      // and the staff messages naming her (card, archive, the admin's /forget).
      messages: 8,
      inboxUpdates: 2,
      outboxMessages: anna.outbox.length + 2, // + the cancellation notices written and withheld in the same transaction
      resultDeliveries: 1,
      erasureId: expect.any(Number),
    });

    // Boris: not a byte changed.
    expect(await traces(db, BORIS)).toEqual(boris);
    expect(await db.select({ text: messages.text }).from(messages).where(eq(messages.text, '👤 Boris Ivanov (@boris_i)'))).toHaveLength(1);
    expect(await db.select({ text: messages.text }).from(messages).where(eq(messages.text, 'Operator menu'))).toHaveLength(1);

    // Anna: her person row stays (requests point at it), without her names.
    const after = await traces(db, ANNA);
    expect(after.person).toEqual([expect.objectContaining({ id: ANNA, firstName: ERASED_NAME, lastName: null, username: null })]);
    expect(after.flows.map((f) => f.status)).toEqual(['completed', 'cancelled', 'cancelled']);
    for (const flow of after.flows) {
      expect(flow.purgedAt).not.toBeNull();
      const snapshot = flow.snapshot as { context?: { answers: unknown } } | null;
      if (snapshot) expect(snapshot.context?.answers).toEqual({});
    }
    expect(after.answers).toEqual([]);
    expect(after.messages.every((m) => m.text === null && m.fileId === null && m.fileUniqueId === null)).toBe(true);
    expect(after.inbox.every((u) => u.payload === null && u.status === 'done')).toBe(true);
    expect(after.deliveries).toEqual([expect.objectContaining({ status: 'erased', body: null })]);
    // Nothing more goes to her; what was about her is emptied.
    expect(after.outbox.filter((o) => o.chatId === ANNA && o.status === 'pending')).toEqual([]);
    expect(after.outbox.filter((o) => o.chatId === ANNA).every((o) => JSON.stringify(o.payload) === '{}')).toBe(true);
    // Her cards in the operator's chat are rewritten, and the operator hears of the cancelled requests, without her name.
    const pending = after.outbox.filter((o) => o.status === 'pending');
    expect(pending.map((o) => [o.chatId, o.method, (o.payload as { text: string }).text])).toEqual([
      [OPERATOR, 'editMessageText', `🗑 Request #${after.flows[0]?.id}: the client’s data was erased.`],
      [OPERATOR, 'sendMessage', `🗑 “Passport photo” (#${after.flows[1]?.id}) was cancelled: the client’s data was erased.`],
      [OPERATOR, 'sendMessage', `🗑 “Proof of address” (#${after.flows[2]?.id}) was cancelled: the client’s data was erased.`],
    ]);
    expect(pending[0]?.cardKey).toBe(`review:${after.flows[0]?.id}`);

    // Nowhere in the database any more, but in the hash of the record.
    const all = await everything(db);
    for (const trace of ['Petrova', 'anna_p', "Anna's city", 'photo-5', 'uphoto-5', 'zip-1', 'Anna writes', 'Anna failed'])
      expect(all, trace).not.toContain(trace);
    expect(all).toContain('Boris Ivanov');
    const [record] = await db.select().from(erasures);
    expect(record).toMatchObject({ id: erased.value.erasureId, clientRef: clientRef(ANNA), actorKind: 'admin', actorId: ADMIN });
    expect(record?.clientRef).toMatch(/^scrypt1:[0-9a-f]{64}$/);
    expect(record?.counts).toEqual({
      requestsCancelled: 2,
      answers: 4,
      messages: 8,
      inboxUpdates: 2,
      outboxMessages: anna.outbox.length + 2,
      resultDeliveries: 1,
    });

    // The audit trail says who cancelled; the flows still count.
    const cancels = await db.execute(sql`select count(*)::int as n from flow_events where event = 'CANCEL' and actor_id = ${ADMIN}`);
    expect(rowsOf<{ n: number }>(cancels)[0]?.n).toBe(2);
  });

  it('a repeated press changes nothing; a second erasure finds nothing left; an unknown id is refused', async () => {
    const { db, flows } = await setup();
    const press = updateId();
    expect((await flows.forget({ clientId: ANNA, by: { kind: 'admin', id: ADMIN }, updateId: press })).ok).toBe(true);
    expect(await flows.forget({ clientId: ANNA, by: { kind: 'admin', id: ADMIN }, updateId: press })).toEqual({
      ok: false,
      refusal: { code: 'duplicate_update' },
    });
    const again = await flows.forget({ clientId: ANNA, by: { kind: 'command_line' } });
    expect(again.ok && again.value).toMatchObject({ requestsCancelled: 0, answers: 0, messages: 0, inboxUpdates: 0, resultDeliveries: 0 });
    expect(await db.select({ kind: erasures.actorKind, actor: erasures.actorId }).from(erasures).orderBy(asc(erasures.id))).toEqual([
      { kind: 'admin', actor: ADMIN },
      { kind: 'command_line', actor: null },
    ]);
    expect(await flows.forget({ clientId: 424242, by: { kind: 'command_line' } })).toEqual({
      ok: false,
      refusal: { code: 'client_not_found' },
    });
    expect(await db.select().from(answers).where(eq(answers.stepId, 'full_name'))).toHaveLength(1);
  });
});
