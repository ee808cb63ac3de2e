import { afterEach, describe, expect, it } from 'vitest';
import { Directory } from '../../src/people/directory.js';
import { ENGINES, openTestDatabase, type TestDatabase } from '../helpers/db.js';
import { addClient, addOperator, catalogue, newService, outboxTexts, updateId, validAnswer } from '../helpers/flows.js';

describe.each(ENGINES)('who gets a request card, on %s', (engine) => {
  let test: TestDatabase;
  afterEach(() => test.close());

  it('reads the operator role through the command transaction: an operator added in the bot (not in the environment) gets the review card', async () => {
    test = await openTestDatabase(engine);
    const db = test.current().db;
    const operator = await addOperator(db, 2001); // a database role: not in OPERATOR_IDS
    const client = await addClient(db, 3001);
    // A fresh directory: nothing cached, so routing must read the role — inside the transaction
    // (on PGlite a read through the database itself would wait for the transaction forever).
    const directory = new Directory(db, { operatorIds: [], adminIds: [] });
    const flows = await newService(db, {
      operatorsFor: async (id, q) => ((await directory.roleOf(id, q)) === 'client' ? directory.staffIds(q) : [id]),
      staffIds: (q) => directory.staffIds(q),
    });
    expect((await flows.start({ operatorId: operator, clientId: client, requestId: 'passport_photo', updateId: updateId() })).ok).toBe(
      true,
    );
    const step = (await catalogue()).byId.get('passport_photo')?.steps[0];
    if (!step) throw new Error('no passport step');
    const answered = await flows.answer({ clientId: client, answer: validAnswer(step), updateId: updateId() });
    expect(answered.ok && answered.value.status).toBe('in_review');
    expect((await outboxTexts(db, operator)).some((t) => /Passport photo/.test(t))).toBe(true);
  });
});
