import { eq, sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { invites, people } from '../../src/db/schema.js';
import { sessionStore } from '../../src/db/session-store.js';
import { Directory } from '../../src/people/directory.js';
import { ENGINES, openTestDatabase, type TestDatabase } from '../helpers/db.js';
import { addClient, newService, OPERATOR, updateId } from '../helpers/flows.js';

describe.each(ENGINES)('people directory on %s', (engine) => {
  let test: TestDatabase;
  afterEach(() => test.close());

  async function setup(options?: ConstructorParameters<typeof Directory>[2]) {
    test = await openTestDatabase(engine);
    const { db } = test.current();
    return { db, directory: new Directory(db, { operatorIds: [OPERATOR], adminIds: [1] }, options) };
  }

  it('records people and keeps their profile current', async () => {
    const { db, directory } = await setup({ touchEveryMs: 0 });
    await directory.touch({ id: 42, first_name: 'Anna', language_code: 'ru' }, { started: true });
    await directory.touch({ id: 42, first_name: 'Anna', last_name: 'Petrova', username: 'anna' });
    const [row] = await db.select().from(people).where(eq(people.id, 42));
    expect(row).toMatchObject({ firstName: 'Anna', lastName: 'Petrova', username: 'anna', languageCode: null, role: 'client' });
    expect(row?.startedAt).toBeInstanceOf(Date);
  });

  it('reads the role and the chosen language back with the record of a person: no read of them after it', async () => {
    const statements: string[] = [];
    test = await openTestDatabase(engine, { onStatement: (query) => void statements.push(query) });
    const { db } = test.current();
    const directory = new Directory(db, { operatorIds: [OPERATOR], adminIds: [1] });
    await addClient(db, 42);
    await db.update(people).set({ locale: 'ru', role: 'operator' }).where(eq(people.id, 42));
    const from = statements.length;
    await directory.touch({ id: 42, first_name: 'Anna' });
    expect(await directory.roleOf(42)).toBe('operator');
    expect(await directory.chosenLocale(42)).toBe('ru');
    expect(statements.slice(from), statements.slice(from).join('\n')).toHaveLength(1);
    expect(statements[from]).toMatch(/insert into "people"/i);
  });

  it("resolves roles from the environment first, then from admins' changes", async () => {
    const { directory } = await setup();
    expect(await directory.roleOf(1)).toBe('admin');
    expect(await directory.roleOf(OPERATOR)).toBe('operator');
    expect(await directory.roleOf(5)).toBe('client');
    // Known without a query: the environment's lists, and a role once read.
    expect([directory.knownStaff(1), directory.knownStaff(OPERATOR), directory.knownStaff(5)]).toEqual([true, true, false]);
    expect(await directory.setOperator(5, true)).toBe('ok');
    expect(await directory.roleOf(5)).toBe('operator');
    expect(directory.knownStaff(5)).toBe(true);
    expect((await directory.staffIds()).sort((a, b) => a - b)).toEqual([1, 5, OPERATOR]);
    expect(await directory.setOperator(OPERATOR, false)).toBe('from_environment');
    expect(await directory.setOperator(5, false)).toBe('ok');
    expect(await directory.roleOf(5)).toBe('client');
    expect(directory.knownStaff(5)).toBe(false);
  });

  it('remembers a chosen language, which a profile update does not touch, and knows it without a query once read', async () => {
    const { db, directory } = await setup({ touchEveryMs: 0 });
    await directory.touch({ id: 42, first_name: 'Anna', language_code: 'en' });
    expect(await directory.chosenLocale(42)).toBeNull();
    await directory.setLocale({ id: 42, first_name: 'Anna', language_code: 'en' }, 'ru');
    expect(await directory.chosenLocale(42)).toBe('ru');
    expect(directory.knownLocale(42)).toBe('ru');
    await directory.touch({ id: 42, first_name: 'Anna', language_code: 'de' });
    const [row] = await db.select().from(people).where(eq(people.id, 42));
    expect(row).toMatchObject({ languageCode: 'de', locale: 'ru' });
    // Another instance reads it from the database; a value that is not a supported locale counts as none.
    expect(await new Directory(db, { operatorIds: [], adminIds: [] }).chosenLocale(42)).toBe('ru');
    await db.update(people).set({ locale: 'xx' }).where(eq(people.id, 42));
    expect(await new Directory(db, { operatorIds: [], adminIds: [] }).chosenLocale(42)).toBeNull();
  });

  it('nudges a client without a request once per quiet period', async () => {
    const { db, directory } = await setup({ quietPeriodMs: 3_600_000 });
    await addClient(db, 7);
    expect(await directory.shouldNudge(7)).toBe(true);
    expect(await directory.shouldNudge(7)).toBe(false);
    await db.execute(sql`update people set nudged_at = now() - interval '2 hours' where id = 7`);
    expect(await directory.shouldNudge(7)).toBe(true);
  });

  it('lists clients newest activity first, with their request status, and finds them by name, @username or id', async () => {
    const { db, directory } = await setup();
    for (const [id, name, username, minutesAgo] of [
      [10, 'Anna', 'anna_p', 30],
      [11, 'Boris', null, 10],
      [12, 'Vera', 'vera', 20],
    ] as const) {
      await db
        .insert(people)
        .values({ id, firstName: name, username, startedAt: new Date(), lastActivityAt: new Date(Date.now() - minutesAgo * 60_000) });
    }
    await db.insert(people).values({ id: OPERATOR, firstName: 'Olga' });
    const flows = await newService(db);
    await flows.start({ operatorId: OPERATOR, clientId: 12, requestId: 'passport_photo', updateId: updateId() });
    await flows.start({ operatorId: OPERATOR, clientId: 12, requestId: 'personal_data', updateId: updateId() });
    const page = await directory.clients({ page: 0, pageSize: 2 });
    expect(page.total).toBe(3);
    expect(page.items.map((i) => [i.person.firstName, i.status, i.queued])).toEqual([
      ['Boris', null, 0],
      ['Vera', 'collecting', 1],
    ]);
    expect((await directory.clients({ page: 1, pageSize: 2 })).items.map((i) => i.person.firstName)).toEqual(['Anna']);
    expect((await directory.clients({ page: 0, pageSize: 10, query: '@anna' })).items.map((i) => i.person.id)).toEqual([10]);
    expect((await directory.clients({ page: 0, pageSize: 10, query: 'ver' })).items.map((i) => i.person.id)).toEqual([12]);
    expect((await directory.clients({ page: 0, pageSize: 10, query: '11' })).items.map((i) => i.person.id)).toEqual([11]);
    expect((await directory.clients({ page: 0, pageSize: 10, query: '100%' })).total).toBe(0);
  });

  it('redeems an invite once, binding the client to the operator', async () => {
    const { db, directory } = await setup();
    await addClient(db, 20);
    await addClient(db, 21);
    const code = await directory.createInvite(OPERATOR, ['passport_photo']);
    expect(code).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(await directory.redeemInvite(code, 20)).toEqual({ ok: true, operatorId: OPERATOR, requestIds: ['passport_photo'] });
    expect((await directory.get(20))?.operatorId).toBe(OPERATOR);
    expect(await directory.redeemInvite(code, 21)).toEqual({ ok: false, reason: 'used' });
    expect(await directory.redeemInvite('nope', 21)).toEqual({ ok: false, reason: 'unknown' });
    const expired = await directory.createInvite(OPERATOR, [], 60_000);
    await db
      .update(invites)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(invites.code, expired));
    expect(await directory.redeemInvite(expired, 21)).toEqual({ ok: false, reason: 'expired' });
    const own = await directory.createInvite(OPERATOR, []);
    expect(await directory.redeemInvite(own, OPERATOR)).toEqual({ ok: false, reason: 'own' });
  });

  it('keeps menu sessions in the database', async () => {
    test = await openTestDatabase(engine);
    const store = sessionStore<{ page: number }>(test.current().db);
    expect(await store.get('1')).toBeUndefined();
    await store.set('1', { page: 2 });
    await store.set('1', { page: 3 });
    expect(await store.get('1')).toEqual({ page: 3 });
    await store.delete('1');
    expect(await store.get('1')).toBeUndefined();
  });
});
