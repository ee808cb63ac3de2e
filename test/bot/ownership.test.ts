/**
 * Every client has an owner. With OPERATOR_VISIBILITY=own an operator sees and acts on their own clients
 * only; another operator's buttons (forged or old) are refused where the data is, nothing changes, and the
 * press is logged as a security event. Admins see everyone's; `all` lets every operator act on everything.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { EmulatedUser } from '../../src/playground/emulator/index.js';
import { requestRef } from '../../src/config/catalogue.js';
import { pack } from '../../src/ui/callback-data.js';
import { ENGINES } from '../helpers/db.js';
import { openClientCard, sendRequest, startHarness, type Harness } from '../helpers/bot.js';
import { samplePhoto } from '../helpers/telegram.js';

const NOT_OWNER = 'This client belongs to another operator.';

/** A logger whose lines the test reads. */
function capturedLogger(): { logger: pino.Logger; lines: () => Record<string, unknown>[] } {
  const out: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      out.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines: () => out.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

async function inReview(h: Harness, owner: EmulatedUser, name: string): Promise<{ client: EmulatedUser; card: number }> {
  const client = await h.client(name);
  await sendRequest(owner, name, 'Passport photo');
  await client.waitForMessage(/Passport photo · step 1 of 1/);
  await client.sendPhoto({ bytes: samplePhoto() });
  await client.waitForMessage(/sent to the operator/);
  const card = await owner.waitForMessage(new RegExp(`📥 Passport photo from ${name}`));
  return { client, card: card.messageId };
}

describe.each(ENGINES)('client ownership on %s', (engine) => {
  let h: Harness;
  afterEach(() => h.close());

  it('own: another operator cannot see or act on the client; forged and old buttons are refused and logged; an admin sees all', async () => {
    const log = capturedLogger();
    h = await startHarness(engine, { operators: 2, logger: log.logger });
    const [olga, oleg] = h.operators;
    if (!olga || !oleg) throw new Error('two operators');
    const { client: anna, card } = await inReview(h, olga, 'Anna');
    expect((await h.app.directory.get(anna.id))?.operatorId).toBe(olga.id);

    const [before] = await h.app.flows.flowsOf(anna.id);
    if (!before) throw new Error('no flow');
    const ref = { flow: before.id, version: before.version };

    // Oleg's client list does not show Anna; the Unassigned list does not either (she is Olga's).
    await oleg.send('/menu');
    const menu = await oleg.waitForMessage(/Operator menu/);
    expect(menu.text).toContain('Awaiting review: 0 · needs attention: 0 · active: 0 · unassigned: 0');
    await oleg.press(/Clients/);
    await oleg.waitForMessage(/Clients \(0\)/);

    // Every button that names Anna or her request, forged onto Oleg's own menu message.
    const forged = [
      pack({ kind: 'client', client: anna.id }),
      pack({ kind: 'history', client: anna.id }),
      pack({ kind: 'send', client: anna.id, requestRef: requestRef('personal_data') }),
      pack({ kind: 'handOver', client: anna.id }),
      pack({ kind: 'handOverTo', client: anna.id, operator: oleg.id }),
      pack({ kind: 'accept', ...ref }),
      pack({ kind: 'askAgain', ...ref }),
      pack({ kind: 'askReason', ...ref, reason: 0 }),
      pack({ kind: 'cancel', ...ref }),
      pack({ kind: 'reset', ...ref }),
      pack({ kind: 'retry', ...ref }),
      pack({ kind: 'resend', ...ref }),
    ];
    for (const data of forged) {
      const query = await oleg.pressData(data, menu.messageId);
      expect(await oleg.waitForCallbackAnswer(query)).toMatchObject({ text: NOT_OWNER, showAlert: true });
    }

    // The flow service refuses too, under its row lock (not only the buttons' guard).
    const actor = { kind: 'operator' as const, id: oleg.id };
    const refused = [
      await h.app.flows.accept({ operatorId: oleg.id, flowId: before.id }),
      await h.app.flows.askAgain({ operatorId: oleg.id, flowId: before.id, reason: 'x' }),
      await h.app.flows.cancel({ actor, flowId: before.id }),
      await h.app.flows.reset({ actor, flowId: before.id }),
      await h.app.flows.retry({ actor, flowId: before.id }),
      await h.app.flows.resend({ operatorId: oleg.id, flowId: before.id }),
      await h.app.flows.start({ operatorId: oleg.id, clientId: anna.id, requestId: 'personal_data' }),
    ];
    for (const result of refused) expect(result).toEqual({ ok: false, refusal: { code: 'not_owner' } });

    // Nothing changed.
    const after = await h.app.flows.flowsOf(anna.id);
    expect(after.map((f) => [f.status, f.version])).toEqual([['in_review', before.version]]);
    expect((await h.app.flows.eventsOf(before.id)).map((e) => e.event)).toEqual(['START', 'ANSWER']);
    expect(anna.messages().some((m) => /accepted|cancelled|send this again/.test(m.text ?? ''))).toBe(false);
    expect((await h.app.directory.get(anna.id))?.operatorId).toBe(olga.id);

    // Each forged press was logged as a security event, with ids only.
    const security = log.lines().filter((l) => l.security === true && l.userId === oleg.id);
    expect(security).toHaveLength(forged.length);
    expect(JSON.stringify(log.lines())).not.toMatch(/Anna/);

    // Olga still acts on her own card.
    const query = await olga.press('✅ Accept', { messageId: card });
    expect((await olga.waitForCallbackAnswer(query)).text).toBe('Accepted.');
    await anna.waitForMessage(/accepted “Passport photo”/);

    // The admin sees every client, with their operator, and may open the card.
    await h.admin.send('/menu');
    await h.admin.waitForMessage(/Operator menu/);
    await h.admin.press(/Clients/);
    await h.admin.waitForMessage(/Clients \(1\)/);
    await h.admin.press(/^Anna · .*🧑‍💼 Olga Operator/);
    const adminCard = await h.admin.waitForMessage(/👤 Anna/);
    expect(adminCard.text).toContain('Operator: Olga Operator');
  });

  it('all: every operator may act on every client', async () => {
    h = await startHarness(engine, { operators: 2, app: { operatorVisibility: 'all' } });
    const [olga, oleg] = h.operators;
    if (!olga || !oleg) throw new Error('two operators');
    const { client: anna } = await inReview(h, olga, 'Anna');
    await openClientCard(oleg, 'Anna');
    await oleg.send('/menu');
    await oleg.waitForMessage(/Awaiting review: 1/);
    await oleg.press(/Awaiting review \(1\)/);
    await oleg.waitForMessage(/Awaiting review \(1\)/);
    await oleg.press(/Anna · Passport photo/);
    const copy = await oleg.waitForMessage(/📥 Passport photo from Anna/);
    const query = await oleg.press('✅ Accept', { messageId: copy.messageId });
    expect((await oleg.waitForCallbackAnswer(query)).text).toBe('Accepted.');
    await anna.waitForMessage(/accepted “Passport photo”/);
    // Anna stays Olga's: acting on a client does not take them.
    expect((await h.app.directory.get(anna.id))?.operatorId).toBe(olga.id);
  });

  it('Take from Unassigned: of two operators taking at once, one wins', async () => {
    h = await startHarness(engine, { operators: 2 });
    const [olga, oleg] = h.operators;
    if (!olga || !oleg) throw new Error('two operators');
    const vera = await h.client('Vera');
    for (const operator of [olga, oleg]) {
      await operator.send('/menu');
      await operator.waitForMessage(/unassigned: 1/);
      await operator.press('🆕 Unassigned (1)');
      await operator.waitForMessage(/Unassigned clients \(1\)/);
    }
    const [a, b] = await Promise.all([olga.press('✋ Take'), oleg.press('✋ Take')]);
    const answers = await Promise.all([olga.waitForCallbackAnswer(a), oleg.waitForCallbackAnswer(b)]);
    expect(answers.map((x) => x.text).sort()).toEqual(['Another operator has already taken this client.', 'The client is yours now.']);
    const winner = answers[0]?.text === 'The client is yours now.' ? olga : oleg;
    const loser = winner === olga ? oleg : olga;
    expect((await h.app.directory.get(vera.id))?.operatorId).toBe(winner.id);
    await winner.waitForMessage(/👤 Vera[\s\S]*Operator: /);
    // The loser cannot send Vera a request now.
    expect(await h.app.flows.start({ operatorId: loser.id, clientId: vera.id, requestId: 'passport_photo' })).toEqual({
      ok: false,
      refusal: { code: 'not_owner' },
    });
  });

  it('Hand over: both operators are told, the open request moves, the new owner gets the next review', async () => {
    h = await startHarness(engine, { operators: 2 });
    const [olga, oleg] = h.operators;
    if (!olga || !oleg) throw new Error('two operators');
    const anna = await h.client('Anna');
    await sendRequest(olga, 'Anna', 'Passport photo');
    const prompt = await anna.waitForMessage(/Passport photo · step 1 of 1/);
    const [flow] = await h.app.flows.flowsOf(anna.id);
    if (!flow) throw new Error('no flow');

    await openClientCard(olga, 'Anna');
    await olga.press('🔀 Hand over');
    await olga.waitForMessage(/Hand Anna over to which operator/);
    const query = await olga.press('Oleg Operator');
    expect((await olga.waitForCallbackAnswer(query)).text).toBe('Handed over to Oleg Operator.');
    await oleg.waitForMessage(/Anna was handed over to you by Olga Operator\. Open requests: 1\./);
    await olga.waitForMessage(/Anna was handed over to Oleg Operator by Olga Operator\./);
    expect((await h.app.directory.get(anna.id))?.operatorId).toBe(oleg.id);
    expect((await h.app.flows.flow(flow.id))?.operatorId).toBe(oleg.id);
    expect((await h.app.flows.eventsOf(flow.id)).map((e) => e.event)).toEqual(['START', 'HAND_OVER']);

    // Olga's old card buttons are refused now.
    const old = await olga.pressData(pack({ kind: 'cancel', flow: flow.id, version: flow.version }), prompt.messageId - 1);
    expect((await olga.waitForCallbackAnswer(old)).text).toBe(NOT_OWNER);

    await anna.sendPhoto({ bytes: samplePhoto() });
    await oleg.waitForMessage(/📥 Passport photo from Anna/);
    expect(olga.messages().some((m) => /📥 Passport photo from Anna/.test(m.text ?? ''))).toBe(false);
  });
});
