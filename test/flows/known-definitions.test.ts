/**
 * A lock reads a flow's frozen definition (the largest value it reads) only when the service does not know
 * it by its hash yet; a definition it knows comes from memory, the same as stored.
 */
import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import type { RequestDefinition } from '../../machines/definition.js';
import { flows } from '../../src/db/schema.js';
import { lockFlow, type KnownDefinitions } from '../../src/flows/store.js';
import { ENGINES, openTestDatabase, type TestDatabase } from '../helpers/db.js';
import { addClient, addOperator, newService, OPERATOR, text, updateId } from '../helpers/flows.js';

describe.each(ENGINES)('definitions a lock leaves out on %s', (engine) => {
  let test: TestDatabase | undefined;
  afterEach(async () => {
    await test?.close();
    test = undefined;
  });

  /** Knows the hashes given; records what each lock gave it. */
  function knowing(hashes: readonly string[], definition: RequestDefinition): KnownDefinitions & { given: (RequestDefinition | null)[] } {
    const given: (RequestDefinition | null)[] = [];
    return {
      given,
      hashes: () => hashes,
      resolve: (hash, stored) => {
        given.push(stored);
        expect(hash).toBe(definition.hash);
        return stored ?? definition;
      },
    };
  }

  it('returns the definition only when its hash is not known', async () => {
    test = await openTestDatabase(engine);
    const { db } = test.current();
    await addOperator(db);
    const client = await addClient(db, 42);
    const service = await newService(db);
    const started = await service.start({ operatorId: OPERATOR, clientId: client, requestId: 'personal_data', updateId: updateId() });
    if (!started.ok) throw new Error(started.refusal.code);
    const [row] = await db.select().from(flows).where(eq(flows.id, started.value.flow.id));
    const stored = row?.definition as RequestDefinition;

    const unknown = knowing([], stored);
    const read = await db.transaction((tx) => lockFlow(tx, started.value.flow.id, null, unknown));
    expect(unknown.given).toEqual([stored]);
    expect(read.flow?.definition).toEqual(stored);

    const known = knowing(['0'.repeat(64), stored.hash], stored);
    const left = await db.transaction((tx) => lockFlow(tx, started.value.flow.id, null, known));
    expect(known.given).toEqual([null]);
    expect(left.flow).toEqual(read.flow);

    // Through the service, which knows it after its first lock, the flow goes on.
    for (const answer of ['Anna Petrova', 'Moscow']) {
      const answered = await service.answer({ clientId: client, answer: text(answer), updateId: updateId() });
      expect(answered.ok && answered.value.invalid).toBe(null);
    }
  });
});
