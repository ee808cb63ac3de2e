import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { initialTransition, transition } from 'xstate';
import { getShortestPaths } from 'xstate/graph';
import type { RequestDefinition } from '../../machines/definition.js';
import {
  createRequestMachine,
  EFFECT_TYPES,
  initial,
  parkUnrestorable,
  persist,
  restore,
  step,
  viewOf,
  type RequestEvent,
  type RequestMachine,
  type RequestSnapshot,
} from '../../machines/index.js';
import { STICKER, answerEvent, finish, run } from '../fixtures/answers.js';
import { ALL_DEFINITIONS, contactInfo, passportPhoto, personalData, requestDef, stepDef } from '../fixtures/definitions.js';

const text = (value: string) => answerEvent({ kind: 'text', text: value });
const essence = (s: RequestSnapshot) => ({ value: s.value, status: s.status, context: s.context });
const viaJson = (machine: RequestMachine, s: RequestSnapshot): unknown => JSON.parse(JSON.stringify(persist(machine, s)));

function restored(machine: RequestMachine, persisted: unknown): RequestSnapshot {
  const r = restore(machine, persisted);
  if (!r.ok) throw new Error(`restore failed: ${r.error.code} ${r.error.message}`);
  return r.snapshot;
}

/** The events tried at a state: an unsupported and a valid answer to the current step, and every other kind. */
function eventsAt(definition: RequestDefinition, s: RequestSnapshot): RequestEvent[] {
  const ids = definition.steps.map((x) => x.id);
  const current = definition.steps.find((x) => x.id === s.context.current);
  return [
    ...(current ? [answerEvent(STICKER)] : []),
    ...(current ? [finishAnswer(definition, current.id)] : []),
    { type: 'SKIP' },
    { type: 'CONFIRM' },
    { type: 'ACCEPT' },
    ...ids.map((stepId) => ({ type: 'EDIT_STEP' as const, stepId })),
    ...ids.map((stepId) => ({ type: 'ASK_AGAIN' as const, reason: `again ${stepId}`, stepIds: [stepId] })),
    { type: 'RETRY_STEP' },
    { type: 'CANCEL' },
    { type: 'EXPIRE' },
  ];
}

/** Every state the graph reaches (answers, rounds and attempts vary along the way). */
function reachable(machine: RequestMachine, definition: RequestDefinition): RequestSnapshot[] {
  const paths = getShortestPaths(machine, {
    events: (s): RequestEvent[] => eventsAt(definition, s),
    serializeState: (s) => JSON.stringify({ v: s.value, c: s.context.current, p: s.context.pending, a: s.context.attempts }),
  });
  return paths.map((p) => p.state);
}

/** The effects among actions (as `step` keeps them): their type and parameters, in order. */
const effects = (actions: readonly { type: string; params?: unknown }[]) =>
  actions.filter((a) => (EFFECT_TYPES as readonly string[]).includes(a.type)).map((a) => ({ type: a.type, params: a.params }));

function finishAnswer(definition: RequestDefinition, stepId: string) {
  // different values from the ones `finish` gives, so a lost answer would show
  const s = definition.steps.find((x) => x.id === stepId);
  if (!s) throw new Error(stepId);
  return answerEvent(
    s.type === 'photo' || s.type === 'photo_or_document'
      ? { kind: 'photo', fileId: `graph-${stepId}`, fileUniqueId: `graph-u-${stepId}` }
      : { kind: 'text', text: sampleText(s.type) },
  );
}

function sampleText(type: string): string {
  switch (type) {
    case 'date':
      return '03.03.1993';
    case 'phone':
      return '+44 20 7946 0958';
    case 'email':
      return 'graph@example.org';
    case 'number':
      return '4';
    default:
      return '1234567890';
  }
}

describe.each(ALL_DEFINITIONS.map((d) => [d.id, d] as const))('round trip: %s', (_id, definition) => {
  const machine = createRequestMachine(definition);
  const states = reachable(machine, definition);

  it('persist → JSON → restore → finish equals finishing without the round trip, at every state', () => {
    expect(states.length).toBeGreaterThan(4);
    for (const s of states) {
      const json = viaJson(machine, s);
      const back = restored(machine, json);
      expect(essence(back)).toEqual(essence(s));
      expect(back.can({ type: 'CANCEL' })).toBe(s.can({ type: 'CANCEL' }));
      expect(essence(finish(machine, definition, back))).toEqual(essence(finish(machine, definition, s)));
    }
  });

  it("initial and step give what XState's own initialTransition and transition give, at every state for every event", () => {
    const [first, entered] = initialTransition(machine);
    const mine = initial(machine);
    expect(essence(mine.snapshot)).toEqual(essence(first));
    expect(effects(mine.actions)).toEqual(effects(entered));
    expect(mine.actions.length).toBeGreaterThan(0);
    let compared = 0;
    for (const s of states) {
      for (const event of eventsAt(definition, s)) {
        if (!s.can(event)) continue;
        const [next, actions] = transition(machine, s, event);
        const result = step(machine, s, event);
        expect(essence(result.next)).toEqual(essence(next));
        expect(effects(result.actions)).toEqual(effects(actions));
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(states.length);
  });

  it('persists plain JSON', () => {
    for (const s of states) {
      const persisted = persist(machine, s);
      expect(JSON.parse(JSON.stringify(persisted))).toEqual(persisted);
    }
  });
});

describe('a restored snapshot behaves like the original, event by event', () => {
  it('personal_data through ask-again, restoring before every event', () => {
    const machine = createRequestMachine(personalData);
    const events: RequestEvent[] = [
      text('Anna Petrova'),
      answerEvent(STICKER),
      text('Kazan'),
      text('01.02.1990'),
      { type: 'EDIT_STEP', stepId: 'city' },
      text('Samara'),
      { type: 'CONFIRM' },
      { type: 'ASK_AGAIN', reason: 'year', stepIds: ['birth_date'] },
      text('01.02.1991'),
      { type: 'CONFIRM' },
      { type: 'ACCEPT' },
    ];
    let direct = initial(machine).snapshot;
    let hopping = direct;
    for (const event of events) {
      const a = step(machine, direct, event);
      const b = step(machine, restored(machine, viaJson(machine, hopping)), event);
      expect(b.actions).toEqual(a.actions);
      expect(b.changed).toBe(a.changed);
      direct = a.next;
      hopping = b.next;
      expect(essence(hopping)).toEqual(essence(direct));
    }
    expect(direct.value).toBe('completed');
  });
});

describe('restore failures are typed, never thrown', () => {
  const machine = createRequestMachine(personalData);
  const collecting = run(machine, initial(machine).snapshot, [text('Anna Petrova')]);
  const good = viaJson(machine, collecting) as Record<string, unknown>;
  const context = good.context as Record<string, unknown>;

  it.each([
    ['a state that no longer exists', { ...good, value: 'awaiting_signature' }, 'unknown_state'],
    ['a step that no longer exists', { ...good, value: { collecting: 'passport_no' } }, 'unknown_state'],
    ['the transient routing state', { ...good, value: 'routing' }, 'unknown_state'],
    ['status error', { ...good, status: 'error', error: 'boom' }, 'bad_status'],
    ['done but not final', { ...good, status: 'done' }, 'bad_status'],
    ['final but active', { ...good, value: 'completed' }, 'bad_status'],
    ['an answer to an unknown step', { ...good, context: { ...context, answers: { ghost: { kind: 'text', text: 'x' } } } }, 'bad_context'],
    ['current not matching the state', { ...good, context: { ...context, current: 'birth_date' } }, 'bad_context'],
    ['pending with unknown ids', { ...good, context: { ...context, pending: ['city', 'ghost'] } }, 'bad_context'],
    ['negative attempts', { ...good, context: { ...context, attempts: -1 } }, 'bad_context'],
    ['a wrong park code', { ...good, context: { ...context, parked: { code: 'lunch' } } }, 'bad_context'],
    ['no context', { ...good, context: undefined }, 'malformed'],
    ['null', null, 'malformed'],
    ['a string', '{"value":"x"}', 'malformed'],
    ['an array', [], 'malformed'],
    ['an empty object', {}, 'malformed'],
  ] as const)('%s', (_label, persisted, code) => {
    const r = restore(machine, persisted);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe(code);
    expect(r.error.message.length).toBeGreaterThan(0);
  });

  it('a snapshot from a definition whose step was removed restores as a failure, and can be parked', () => {
    const older = createRequestMachine(personalData);
    const atBirthDate = run(older, initial(older).snapshot, [text('Anna Petrova'), text('Kazan')]);
    const persisted = viaJson(older, atBirthDate);

    const newer = requestDef({
      ...personalData,
      steps: personalData.steps.filter((s) => s.id !== 'birth_date').concat(stepDef({ id: 'email', type: 'email' })),
    });
    const machine2 = createRequestMachine(newer);
    const r = restore(machine2, persisted);
    expect(r).toMatchObject({ ok: false, error: { code: 'unknown_state' } });

    const parked = parkUnrestorable(machine2, newer, persisted);
    expect(parked.value).toBe('needs_operator');
    expect(parked.status).toBe('active');
    expect(parked.context).toEqual({
      answers: {
        full_name: { kind: 'text', text: 'Anna Petrova' },
        city: { kind: 'text', text: 'Kazan' },
      },
      pending: ['full_name', 'city', 'email'],
      current: 'email',
      attempts: 0,
      lastError: null,
      round: 1,
      reason: null,
      parked: { code: 'restored_invalid', stepId: 'email' },
      skipped: [],
    });
    expect(viewOf(newer, parked)).toMatchObject({ kind: 'needs_operator', step: { id: 'email' }, parked: { code: 'restored_invalid' } });
    // the parked snapshot itself persists and restores cleanly
    expect(restore(machine2, viaJson(machine2, parked)).ok).toBe(true);
    const resumed = step(machine2, parked, { type: 'RETRY_STEP' });
    expect(resumed.next.value).toEqual({ collecting: 'email' });
    expect(viewOf(newer, resumed.next)).toMatchObject({ kind: 'prompt', position: 3, total: 3 });
    expect(finish(machine2, newer, resumed.next).value).toBe('completed');
  });

  it('parkUnrestorable copes with garbage and with nothing left to ask', () => {
    const garbage = parkUnrestorable(machine, personalData, 'garbage');
    expect(garbage.value).toBe('needs_operator');
    expect(garbage.context).toMatchObject({ answers: {}, current: 'full_name', round: 1 });

    const passportMachine = createRequestMachine(passportPhoto);
    const all = parkUnrestorable(passportMachine, passportPhoto, {
      value: 'somewhere',
      context: { answers: { passport: { kind: 'file', media: 'photo', fileId: 'f', fileUniqueId: 'u' } }, round: 3 },
    });
    expect(all.context).toMatchObject({ current: null, round: 3, parked: { code: 'restored_invalid' } });
    // nothing to ask: RETRY_STEP ends the round, which for passport_photo means review
    expect(step(passportMachine, all, { type: 'RETRY_STEP' }).next.value).toBe('in_review');
  });
});

describe('stored snapshot fixtures still restore (xstate format drift)', () => {
  const load = (name: string): unknown => JSON.parse(readFileSync(new URL(`../fixtures/snapshots/${name}.json`, import.meta.url), 'utf8'));

  it('personal_data, collecting city after an empty answer', () => {
    const machine = createRequestMachine(personalData);
    const json = load('personal_data.collecting_city');
    const s = restored(machine, json);
    expect(persist(machine, s)).toEqual(json);
    expect(viewOf(personalData, s)).toMatchObject({
      kind: 'prompt',
      step: { id: 'city' },
      position: 2,
      total: 3,
      error: { code: 'empty' },
      attemptsLeft: 2,
    });
    const done = finish(machine, personalData, s);
    expect(done.value).toBe('completed');
    expect(done.context.answers.full_name).toEqual({ kind: 'text', text: 'Anna Petrova' });
  });

  it('personal_data, in review in round 2', () => {
    const machine = createRequestMachine(personalData);
    const json = load('personal_data.in_review_round_2');
    const s = restored(machine, json);
    expect(persist(machine, s)).toEqual(json);
    expect(s.value).toBe('in_review');
    expect(s.context).toMatchObject({ round: 2, reason: 'Wrong year', pending: ['birth_date'] });
    const again = step(machine, s, { type: 'ASK_AGAIN', reason: 'city too', stepIds: ['city'] });
    expect(again.next.value).toEqual({ collecting: 'city' });
    expect(again.next.context.round).toBe(3);
  });

  it('contact_info, parked after two invalid phone numbers', () => {
    const machine = createRequestMachine(contactInfo);
    const json = load('contact_info.needs_operator');
    const s = restored(machine, json);
    expect(persist(machine, s)).toEqual(json);
    expect(viewOf(contactInfo, s)).toMatchObject({ kind: 'needs_operator', step: { id: 'phone' }, parked: { code: 'max_attempts' } });
    expect(step(machine, s, { type: 'RETRY_STEP' }).next.value).toEqual({ collecting: 'phone' });
  });

  it('passport_photo, completed', () => {
    const machine = createRequestMachine(passportPhoto);
    const json = load('passport_photo.completed');
    const s = restored(machine, json);
    expect(persist(machine, s)).toEqual(json);
    expect(s.status).toBe('done');
    expect(viewOf(passportPhoto, s)).toMatchObject({
      kind: 'completed',
      answers: [{ value: { kind: 'file', media: 'photo', fileUniqueId: 'AQADm8kxG' } }],
    });
    expect(step(machine, s, { type: 'RESET' }).handled).toBe(false);
  });
});
