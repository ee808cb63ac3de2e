import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { answers, erasures } from '../../src/db/schema.js';
import type { EmulatedUser } from '../../src/playground/emulator/index.js';
import { sendRequest, startHarness, type Harness } from '../helpers/bot.js';
import { ENGINES } from '../helpers/db.js';
import { everything, traces } from '../helpers/traces.js';

/** The client answers Personal data and confirms. */
async function answerPersonalData(client: EmulatedUser, values: readonly string[]): Promise<void> {
  for (const value of values) {
    await client.waitForMessage(/Personal data · step \d of 3/);
    await client.send(value);
  }
  await client.waitForMessage(/please check your answers/);
  await client.press('✅ Confirm');
  await client.waitForMessage(/sent to the operator/);
}

describe.each(ENGINES)('/forget on %s', (engine) => {
  let h: Harness;
  afterEach(() => h.close());

  it('erases exactly one client’s data once an admin confirms; the other client keeps everything', async () => {
    h = await startHarness(engine);
    const olga = h.operator;
    const anna = await h.client('Anna');
    const boris = await h.client('Boris');
    await sendRequest(olga, 'Anna', 'Personal data');
    await answerPersonalData(anna, ['Anna Petrova', 'Kaliningrad', '15.06.1990']);
    await olga.waitForMessage(/📥 Personal data from Anna/);
    await olga.press('✅ Accept');
    await olga.waitForMessage(/Accepted by Olga/);
    await sendRequest(olga, 'Boris', 'Personal data');
    await answerPersonalData(boris, ['Boris Ivanov', 'Kazan', '14.07.1990']);
    await olga.waitForMessage(/📥 Personal data from Boris/);
    // Anna has a request under way too.
    await sendRequest(olga, 'Anna', 'Passport photo');
    await anna.waitForMessage(/Passport photo · step 1 of 1/);
    await h.app.sender.flush();

    const db = h.db.current().db;
    const borisBefore = await traces(db, boris.id);

    // Refusals first: a usage line, nobody, a staff member.
    const admin = h.admin;
    await admin.send('/forget anna');
    await admin.waitForMessage(/Usage: \/forget <client ID>/);
    await admin.send('/forget 424242');
    await admin.waitForMessage('There is no client with this ID.');
    await admin.send(`/forget ${olga.id}`);
    await admin.waitForMessage(/This is a staff member, not a client/);

    // Asked, and kept.
    await admin.send(`/forget ${anna.id}`);
    await admin.waitForMessage(new RegExp(`Erase the data of Anna \\(ID ${anna.id}\\)\\?[\\s\\S]*requests \\(1\\) are cancelled`));
    await admin.press('Keep');
    await admin.waitForMessage('Nothing was erased.');
    expect((await traces(db, anna.id)).answers).toHaveLength(3);

    // Asked again, and erased.
    await admin.send(`/forget ${anna.id}`);
    await admin.waitForMessage(/Erase the data of Anna/);
    await admin.press('🗑 Erase');
    const done = await admin.waitForMessage(
      new RegExp(`🗑 Client ${anna.id} erased: answers 3, logged messages \\d+, .*requests cancelled: 1\\. Erasure record #\\d+\\.`),
    );
    expect(done.text).not.toMatch(/Anna/);

    // The operator's review card of Anna's request no longer shows her answers; the cancelled one is reported.
    await olga.waitForMessage(/🗑 Request #\d+: the client’s data was erased\./);
    await olga.waitForMessage(/🗑 “Passport photo” \(#\d+\) was cancelled: the client’s data was erased\./);
    await h.app.sender.flush();
    // Anna is not told anything more (her data is gone, and so is what was waiting for her).
    expect(anna.messages().some((m) => /cancelled/.test(m.text ?? ''))).toBe(false);

    const annaAfter = await traces(db, anna.id);
    expect(annaAfter.person[0]).toMatchObject({ firstName: '[erased]', lastName: null, username: null });
    expect(annaAfter.answers).toEqual([]);
    expect(annaAfter.messages.length).toBeGreaterThan(0);
    // What is left of her requests in the log is the staff's notice of the erasure.
    expect(
      annaAfter.messages.filter((m) => (m.text !== null && !/the client’s data was erased/.test(m.text)) || m.fileId !== null),
    ).toEqual([]);
    expect(annaAfter.flows.map((f) => f.status)).toEqual(['completed', 'cancelled']);
    const all = await everything(db);
    for (const trace of ['Anna Petrova', 'Kaliningrad', 'Erase the data of Anna']) expect(all, trace).not.toContain(trace);
    expect(await db.select({ actorKind: erasures.actorKind, actorId: erasures.actorId }).from(erasures)).toEqual([
      { actorKind: 'admin', actorId: admin.id },
    ]);

    // Boris: untouched, and his request goes on.
    const borisAfter = await traces(db, boris.id);
    expect({ ...borisAfter, outbox: borisAfter.outbox.length }).toEqual({ ...borisBefore, outbox: borisBefore.outbox.length });
    await olga.press('✅ Accept', {
      messageId:
        olga
          .messages()
          .filter((m) => /Personal data from Boris/.test(m.text ?? ''))
          .at(-1)?.messageId ?? 0,
    });
    await olga.waitForMessage(/Accepted by Olga/);
    expect(await db.select().from(answers).where(eq(answers.status, 'accepted'))).toHaveLength(3);
  });
});
