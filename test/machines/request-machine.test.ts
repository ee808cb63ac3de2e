import { describe, expect, it } from 'vitest';
import type { RequestDefinition } from '../../machines/definition.js';
import {
  can,
  createRequestMachine,
  initial,
  persist,
  statusOf,
  step,
  viewOf,
  type RequestEvent,
  type RequestMachine,
  type RequestSnapshot,
} from '../../machines/index.js';
import { STICKER, TODAY, answerEvent, finish, run, validAnswer } from '../fixtures/answers.js';
import { contactInfo, household, passportPhoto, personalData, proofOfAddress, requestDef, stepDef } from '../fixtures/definitions.js';

function start(definition: RequestDefinition): { machine: RequestMachine; snapshot: RequestSnapshot } {
  const machine = createRequestMachine(definition);
  return { machine, snapshot: initial(machine).snapshot };
}

function answerFor(definition: RequestDefinition, stepId: string, variant = 0): RequestEvent {
  const s = definition.steps.find((x) => x.id === stepId);
  if (!s) throw new Error(stepId);
  return answerEvent(validAnswer(s, variant));
}

const text = (value: string): RequestEvent => answerEvent({ kind: 'text', text: value });

/** Everything except `value` and `context` is XState bookkeeping; compare these. */
const essence = (s: RequestSnapshot) => ({ value: s.value, context: s.context, status: s.status });

describe('a new flow', () => {
  it('starts at the first step and asks for it', () => {
    const machine = createRequestMachine(personalData);
    const { snapshot, actions } = initial(machine);
    expect(snapshot.value).toEqual({ collecting: 'full_name' });
    expect(snapshot.context).toEqual({
      answers: {},
      pending: ['full_name', 'city', 'birth_date'],
      current: 'full_name',
      attempts: 0,
      lastError: null,
      round: 1,
      reason: null,
      parked: null,
      skipped: [],
    });
    expect(actions).toEqual([{ type: 'prompt', params: { stepId: 'full_name' } }]);
    expect(statusOf(snapshot)).toBe('collecting');
    expect(snapshot.hasTag('waiting_client')).toBe(true);
  });

  it('keeps the definition out of the snapshot', () => {
    const { machine, snapshot } = start(personalData);
    const json = JSON.stringify(persist(machine, snapshot));
    expect(json).not.toContain('ФИО');
    expect(json).not.toContain('min_age');
    expect(json.length).toBeLessThan(400);
  });

  it('refuses definitions it cannot turn into states', () => {
    expect(() => createRequestMachine(requestDef({ id: 'empty', steps: [] }))).toThrow(/at least one step/);
    expect(() => createRequestMachine(requestDef({ id: 'dots', steps: [stepDef({ id: 'a.b', type: 'text' })] }))).toThrow(/a\.b/);
    expect(() =>
      createRequestMachine(requestDef({ id: 'dup', steps: [stepDef({ id: 'a', type: 'text' }), stepDef({ id: 'a', type: 'text' })] })),
    ).toThrow(/duplicate/);
  });
});

describe('happy paths', () => {
  it('personal_data: answers → confirming → in_review → completed', () => {
    const { machine, snapshot: s0 } = start(personalData);
    const r1 = step(machine, s0, text('  Anna Petrova '));
    expect(r1).toMatchObject({ handled: true, changed: true, actions: [{ type: 'prompt', params: { stepId: 'city' } }] });
    expect(r1.next.value).toEqual({ collecting: 'city' });
    expect(r1.next.context.answers).toEqual({ full_name: { kind: 'text', text: 'Anna Petrova' } });

    const s2 = run(machine, r1.next, [text('Kazan')]);
    const r3 = step(machine, s2, text('29.02.2004'));
    expect(r3.next.value).toBe('confirming');
    expect(r3.actions).toEqual([{ type: 'presentSummary' }]);
    expect(r3.next.context.current).toBeNull();
    expect(r3.next.context.answers.birth_date).toEqual({ kind: 'date', date: '2004-02-29' });

    const r4 = step(machine, r3.next, { type: 'CONFIRM' });
    expect(r4.next.value).toBe('in_review');
    expect(r4.actions).toEqual([{ type: 'requestReview' }]);
    expect(r4.next.hasTag('waiting_operator')).toBe(true);

    const r5 = step(machine, r4.next, { type: 'ACCEPT' });
    expect(r5.next.value).toBe('completed');
    expect(r5.next.status).toBe('done');
    expect(r5.actions).toEqual([{ type: 'finish', params: { outcome: 'completed' } }]);
  });

  it('passport_photo and proof_of_address go straight to review', () => {
    for (const def of [passportPhoto, proofOfAddress]) {
      const { machine, snapshot } = start(def);
      const first = def.steps[0];
      if (!first) throw new Error('no step');
      const next = run(machine, snapshot, [answerEvent(validAnswer(first))]);
      expect(next.value).toBe('in_review');
    }
  });

  it('contact_info (no confirm, no review) completes on the last answer', () => {
    const { machine, snapshot } = start(contactInfo);
    const end = run(machine, snapshot, [
      answerEvent({ kind: 'contact', phone: '79991234567', ownContact: true }),
      text('me@example.com'),
      text('sms'),
    ]);
    expect(end.value).toBe('completed');
    expect(end.context.answers).toEqual({
      phone: { kind: 'phone', phone: '+79991234567' },
      email: { kind: 'email', email: 'me@example.com' },
      channel: { kind: 'choice', optionId: 'sms' },
    });
  });

  it('household (confirm, no review) completes on CONFIRM', () => {
    const { machine, snapshot } = start(household);
    const s = run(machine, snapshot, [text('2'), { type: 'SKIP' }, { type: 'SKIP' }]);
    expect(s.value).toEqual({ collecting: 'tax_id' });
    const done = run(machine, s, [text('1234567890'), { type: 'CONFIRM' }]);
    expect(done.value).toBe('completed');
    expect(done.context.skipped).toEqual(['income', 'statement']);
  });
});

describe('invalid answers and max attempts', () => {
  it('stays on the step, counts attempts and keeps the reason', () => {
    const { machine, snapshot } = start(personalData);
    const r = step(machine, snapshot, text('Al'));
    expect(r).toMatchObject({ handled: true, changed: true, actions: [] });
    expect(r.next.value).toEqual({ collecting: 'full_name' });
    expect(r.next.context).toMatchObject({ attempts: 1, lastError: { code: 'too_short', params: { min: 3 } } });
    const view = viewOf(personalData, r.next);
    expect(view).toMatchObject({ kind: 'prompt', attemptsLeft: 2, error: { code: 'too_short' }, position: 1, total: 3 });
  });

  it('parks after maxAttempts in a row; RETRY_STEP resumes that step; the flow then completes', () => {
    const { machine, snapshot } = start(personalData);
    const s1 = run(machine, snapshot, [text('Anna Petrova')]);
    const s2 = run(
      machine,
      s1,
      [STICKER, STICKER].map((a) => answerEvent(a)),
    );
    expect(s2.value).toEqual({ collecting: 'city' });
    const r = step(machine, s2, answerEvent(STICKER));
    expect(r.next.value).toBe('needs_operator');
    expect(r.actions).toEqual([{ type: 'notifyOperator' }]);
    expect(r.next.context.parked).toEqual({ code: 'max_attempts', stepId: 'city' });
    expect(statusOf(r.next)).toBe('needs_operator');
    expect(viewOf(personalData, r.next)).toMatchObject({
      kind: 'needs_operator',
      step: { id: 'city' },
      error: { code: 'unsupported_message', params: { what: 'sticker' } },
      parked: { code: 'max_attempts', stepId: 'city' },
    });
    // the client cannot answer while parked
    expect(step(machine, r.next, text('Kazan')).handled).toBe(false);

    const retry = step(machine, r.next, { type: 'RETRY_STEP' });
    expect(retry.next.value).toEqual({ collecting: 'city' });
    expect(retry.next.context).toMatchObject({ attempts: 0, lastError: null, parked: null });
    expect(retry.actions).toEqual([{ type: 'prompt', params: { stepId: 'city' } }]);
    expect(viewOf(personalData, retry.next)).toMatchObject({ kind: 'prompt', position: 2, total: 3, attemptsLeft: 3 });

    const done = finish(machine, personalData, retry.next);
    expect(done.value).toBe('completed');
    expect(done.context.answers.full_name).toEqual({ kind: 'text', text: 'Anna Petrova' });
  });

  it('a valid answer resets the count for the next step', () => {
    const { machine, snapshot } = start(contactInfo); // phone: maxAttempts 2
    const s = run(machine, snapshot, [text('12'), answerFor(contactInfo, 'phone'), text('bad')]);
    expect(s.value).toEqual({ collecting: 'email' });
    expect(s.context.attempts).toBe(1);
    const parked = run(machine, snapshot, [text('12'), text('34')]);
    expect(parked.value).toBe('needs_operator');
  });
});

describe('ask again', () => {
  it('works round after round, asking exactly the rejected steps with the reason', () => {
    const { machine, snapshot } = start(personalData);
    const inReview = run(machine, snapshot, [text('Anna Petrova'), text('Kazan'), text('01.02.1990'), { type: 'CONFIRM' }]);
    expect(inReview.value).toBe('in_review');

    // round 2: only birth_date
    const r2 = step(machine, inReview, { type: 'ASK_AGAIN', reason: 'Wrong year', stepIds: ['birth_date'] });
    expect(r2.next.value).toEqual({ collecting: 'birth_date' });
    expect(r2.next.context).toMatchObject({ pending: ['birth_date'], round: 2, reason: 'Wrong year' });
    expect(r2.actions).toEqual([{ type: 'prompt', params: { stepId: 'birth_date' } }]);
    expect(viewOf(personalData, r2.next)).toMatchObject({
      kind: 'prompt',
      step: { id: 'birth_date' },
      position: 1,
      total: 1,
      reason: 'Wrong year',
      round: 2,
      previous: { kind: 'date', date: '1990-02-01' },
    });
    // the old answer stays until replaced
    expect(r2.next.context.answers.birth_date).toEqual({ kind: 'date', date: '1990-02-01' });
    const s2 = run(machine, r2.next, [text('01.02.1991'), { type: 'CONFIRM' }]);
    expect(s2.value).toBe('in_review');
    expect(s2.context.answers.birth_date).toEqual({ kind: 'date', date: '1991-02-01' });

    // round 3: city and full_name, given out of order and with an unknown id: catalogue order
    const r3 = run(machine, s2, [{ type: 'ASK_AGAIN', reason: 'Full city name please', stepIds: ['city', 'nope', 'full_name'] }]);
    expect(r3.value).toEqual({ collecting: 'full_name' });
    expect(r3.context).toMatchObject({ pending: ['full_name', 'city'], round: 3, reason: 'Full city name please' });
    const s3 = run(machine, r3, [text('Anna Ivanovna Petrova')]);
    expect(s3.value).toEqual({ collecting: 'city' });
    expect(viewOf(personalData, s3)).toMatchObject({ kind: 'prompt', position: 2, total: 2, round: 3 });
    const s3done = run(machine, s3, [text('Kazan, Tatarstan'), { type: 'CONFIRM' }]);
    expect(s3done.value).toBe('in_review');

    // round 4: only unknown ids → every step
    const r4 = run(machine, s3done, [{ type: 'ASK_AGAIN', reason: 'Start again', stepIds: ['ghost'] }]);
    expect(r4.value).toEqual({ collecting: 'full_name' });
    expect(r4.context).toMatchObject({ pending: ['full_name', 'city', 'birth_date'], round: 4 });
    const r4b = run(machine, s3done, [{ type: 'ASK_AGAIN', reason: 'all', stepIds: [] }]);
    expect(r4b.context.pending).toEqual(['full_name', 'city', 'birth_date']);
    const r4c = run(machine, s3done, [{ type: 'ASK_AGAIN', reason: 'all' }]);
    expect(r4c.context.pending).toEqual(['full_name', 'city', 'birth_date']);

    const done = finish(machine, personalData, r4);
    expect(done.value).toBe('completed');
    expect(done.context.round).toBe(4);
  });

  it('passport_photo: three rejections in a row, each back to the photo', () => {
    const { machine, snapshot } = start(passportPhoto);
    let s = snapshot;
    for (let round = 1; round <= 3; round += 1) {
      s = run(machine, s, [answerFor(passportPhoto, 'passport', round)]);
      expect(s.value).toBe('in_review');
      expect(s.context.answers.passport).toMatchObject({ fileId: `file-passport-${round + 1}` });
      s = run(machine, s, [{ type: 'ASK_AGAIN', reason: `blurry ${round}` }]);
      expect(s.value).toEqual({ collecting: 'passport' });
      expect(s.context).toMatchObject({ round: round + 1, reason: `blurry ${round}`, pending: ['passport'] });
    }
    s = run(machine, s, [answerFor(passportPhoto, 'passport', 9), { type: 'ACCEPT' }]);
    expect(s.value).toBe('completed');
  });
});

describe('confirming', () => {
  it('EDIT_STEP goes to that step only, then back to confirming', () => {
    const { machine, snapshot } = start(personalData);
    const confirming = run(machine, snapshot, [text('Anna Petrova'), text('Kazan'), text('01.02.1990')]);
    const r = step(machine, confirming, { type: 'EDIT_STEP', stepId: 'city' });
    expect(r.next.value).toEqual({ collecting: 'city' });
    expect(r.next.context).toMatchObject({ pending: ['city'], current: 'city', round: 1 });
    expect(viewOf(personalData, r.next)).toMatchObject({ kind: 'prompt', position: 1, total: 1 });
    const back = step(machine, r.next, text('Samara'));
    expect(back.next.value).toBe('confirming');
    expect(back.next.context.answers).toEqual({
      full_name: { kind: 'text', text: 'Anna Petrova' },
      city: { kind: 'text', text: 'Samara' },
      birth_date: { kind: 'date', date: '1990-02-01' },
    });
    const view = viewOf(personalData, back.next);
    expect(view.kind).toBe('confirm');
    if (view.kind !== 'confirm') throw new Error('not confirm');
    expect(view.answers.map((a) => [a.step.id, a.value])).toEqual([
      ['full_name', { kind: 'text', text: 'Anna Petrova' }],
      ['city', { kind: 'text', text: 'Samara' }],
      ['birth_date', { kind: 'date', date: '1990-02-01' }],
    ]);
  });

  it('EDIT_STEP with an unknown step is not allowed', () => {
    const { machine, snapshot } = start(personalData);
    const confirming = run(machine, snapshot, [text('Anna Petrova'), text('Kazan'), text('01.02.1990')]);
    const r = step(machine, confirming, { type: 'EDIT_STEP', stepId: 'nope' });
    expect(r).toMatchObject({ handled: false, changed: false, actions: [] });
    expect(r.next).toBe(confirming);
  });

  it('RETRY_STEP re-presents the summary without changing anything', () => {
    const { machine, snapshot } = start(household);
    const confirming = run(machine, snapshot, [text('1'), { type: 'SKIP' }, { type: 'SKIP' }, text('123456789012')]);
    expect(confirming.value).toBe('confirming');
    const r = step(machine, confirming, { type: 'RETRY_STEP' });
    expect(r).toMatchObject({ handled: true, changed: false, actions: [{ type: 'presentSummary' }] });
    expect(essence(r.next)).toEqual(essence(confirming));
  });
});

describe('SKIP', () => {
  it('is allowed on optional steps only', () => {
    const { machine, snapshot } = start(contactInfo);
    expect(can(machine, snapshot, { type: 'SKIP' })).toBe(false);
    const r0 = step(machine, snapshot, { type: 'SKIP' });
    expect(r0).toMatchObject({ handled: false, changed: false });
    expect(r0.next).toBe(snapshot);

    const onEmail = run(machine, snapshot, [answerFor(contactInfo, 'phone')]);
    const r = step(machine, onEmail, { type: 'SKIP' });
    expect(r.next.value).toEqual({ collecting: 'channel' });
    expect(r.next.context.skipped).toEqual(['email']);
    expect(r.next.context.answers).not.toHaveProperty('email');
    expect(step(machine, r.next, { type: 'SKIP' }).handled).toBe(false);
  });

  it('skipping a re-asked optional step drops its old value; answering it un-skips it', () => {
    const def = requestDef({
      id: 'opt_review',
      review: true,
      steps: [stepDef({ id: 'a', type: 'text' }), stepDef({ id: 'b', type: 'text', optional: true })],
    });
    const { machine, snapshot } = start(def);
    const skipped = run(machine, snapshot, [text('one'), { type: 'SKIP' }]);
    expect(skipped.value).toBe('in_review');
    expect(viewOf(def, skipped)).toMatchObject({
      kind: 'review',
      answers: [
        { step: { id: 'a' }, value: { kind: 'text', text: 'one' }, skipped: false },
        { step: { id: 'b' }, value: null, skipped: true },
      ],
    });
    const answered = run(machine, skipped, [{ type: 'ASK_AGAIN', reason: 'b please', stepIds: ['b'] }, text('two')]);
    expect(answered.context.skipped).toEqual([]);
    expect(answered.context.answers.b).toEqual({ kind: 'text', text: 'two' });
    const skippedAgain = run(machine, answered, [{ type: 'ASK_AGAIN', reason: 'no b', stepIds: ['b'] }, { type: 'SKIP' }]);
    expect(skippedAgain.context.skipped).toEqual(['b']);
    expect(skippedAgain.context.answers).not.toHaveProperty('b');
  });
});

describe('RESET, RETRY_STEP, CANCEL, REMIND, EXPIRE', () => {
  it('RESET clears the answers and starts a new round at the first step', () => {
    const { machine, snapshot } = start(personalData);
    const s = run(machine, snapshot, [text('Anna Petrova'), text('Kazan'), text('x')]);
    const r = step(machine, s, { type: 'RESET' });
    expect(r.next.value).toEqual({ collecting: 'full_name' });
    expect(r.next.context).toEqual({
      answers: {},
      pending: ['full_name', 'city', 'birth_date'],
      current: 'full_name',
      attempts: 0,
      lastError: null,
      round: 2,
      reason: null,
      parked: null,
      skipped: [],
    });
    expect(r.actions).toEqual([{ type: 'prompt', params: { stepId: 'full_name' } }]);
  });

  it('RETRY_STEP while collecting prompts the same step again with attempts reset', () => {
    const { machine, snapshot } = start(personalData);
    const s = run(machine, snapshot, [text('Anna Petrova'), answerEvent(STICKER)]);
    const r = step(machine, s, { type: 'RETRY_STEP' });
    expect(r.next.value).toEqual({ collecting: 'city' });
    expect(r.next.context).toMatchObject({ attempts: 0, lastError: null });
    expect(r.actions).toEqual([{ type: 'prompt', params: { stepId: 'city' } }]);
  });

  it('REMIND is observable in waiting-for-client states only and changes nothing', () => {
    const { machine, snapshot } = start(personalData);
    const r = step(machine, snapshot, { type: 'REMIND' });
    expect(r).toMatchObject({ handled: true, changed: false, actions: [{ type: 'remind' }] });
    const confirming = run(machine, snapshot, [text('Anna Petrova'), text('Kazan'), text('01.02.1990')]);
    expect(step(machine, confirming, { type: 'REMIND' }).actions).toEqual([{ type: 'remind' }]);
    const review = run(machine, confirming, [{ type: 'CONFIRM' }]);
    expect(step(machine, review, { type: 'REMIND' }).handled).toBe(false);
  });

  it('CANCEL and EXPIRE end the flow; a finished flow accepts nothing', () => {
    const { machine, snapshot } = start(personalData);
    const cancelled = step(machine, snapshot, { type: 'CANCEL' });
    expect(cancelled.next.value).toBe('cancelled');
    expect(cancelled.actions).toEqual([{ type: 'finish', params: { outcome: 'cancelled' } }]);
    const expired = run(machine, snapshot, [text('Anna Petrova'), { type: 'EXPIRE' }]);
    expect(expired.value).toBe('expired');
    expect(expired.status).toBe('done');
    expect(viewOf(personalData, expired)).toMatchObject({ kind: 'expired', answers: [{ value: { kind: 'text' } }, {}, {}] });

    const all: RequestEvent[] = [
      { type: 'RESET' },
      { type: 'RETRY_STEP' },
      { type: 'CANCEL' },
      { type: 'EXPIRE' },
      { type: 'REMIND' },
      { type: 'ACCEPT' },
      text('x'),
    ];
    for (const final of [cancelled.next, expired]) {
      for (const event of all) {
        const r = step(machine, final, event);
        expect(r, event.type).toMatchObject({ handled: false, changed: false, actions: [] });
        expect(r.next).toBe(final);
        // not even the raw XState transition moves it (no root-level handlers)
        expect(final.can(event)).toBe(false);
      }
    }
  });
});

describe('events that make no sense leave the snapshot unchanged', () => {
  const cases: Array<[string, RequestDefinition, RequestEvent[], RequestEvent[]]> = [
    [
      'collecting',
      personalData,
      [],
      [
        { type: 'ACCEPT' },
        { type: 'CONFIRM' },
        { type: 'EDIT_STEP', stepId: 'city' },
        { type: 'ASK_AGAIN', reason: 'x' },
        { type: 'SKIP' },
      ],
    ],
    [
      'confirming',
      personalData,
      [text('Anna Petrova'), text('Kazan'), text('01.02.1990')],
      [{ type: 'ACCEPT' }, { type: 'ASK_AGAIN', reason: 'x' }, { type: 'SKIP' }, text('late answer')],
    ],
    [
      'in_review',
      passportPhoto,
      [answerFor(passportPhoto, 'passport')],
      [
        { type: 'CONFIRM' },
        { type: 'EDIT_STEP', stepId: 'passport' },
        { type: 'SKIP' },
        { type: 'REMIND' },
        answerFor(passportPhoto, 'passport', 2),
      ],
    ],
    [
      'needs_operator',
      contactInfo,
      [text('1'), text('2')],
      [
        { type: 'ACCEPT' },
        { type: 'CONFIRM' },
        { type: 'ASK_AGAIN', reason: 'x' },
        { type: 'SKIP' },
        { type: 'REMIND' },
        text('+79991234567'),
      ],
    ],
  ];
  it.each(cases)('in %s', (status, def, setupEvents, refused) => {
    const { machine, snapshot } = start(def);
    const s = run(machine, snapshot, setupEvents);
    expect(statusOf(s)).toBe(status);
    for (const event of refused) {
      expect(can(machine, s, event), event.type).toBe(false);
      const r = step(machine, s, event);
      expect(r, event.type).toEqual({ next: s, changed: false, handled: false, actions: [] });
    }
  });
});

describe('viewOf', () => {
  it('shows position within the round and attempts left', () => {
    const { machine, snapshot } = start(personalData);
    expect(viewOf(personalData, snapshot)).toEqual({
      kind: 'prompt',
      step: personalData.steps[0],
      position: 1,
      total: 3,
      error: null,
      reason: null,
      round: 1,
      attemptsLeft: 3,
      previous: null,
    });
    const s = run(machine, snapshot, [text('Anna Petrova'), text(''), text('')]);
    expect(viewOf(personalData, s)).toMatchObject({ position: 2, total: 3, attemptsLeft: 1, error: { code: 'empty' } });
  });

  it('works on a persisted snapshot (plain JSON) too', () => {
    const { machine, snapshot } = start(personalData);
    const s = run(machine, snapshot, [text('Anna Petrova')]);
    const json = JSON.parse(JSON.stringify(persist(machine, s))) as ReturnType<typeof persist>;
    expect(viewOf(personalData, json)).toEqual(viewOf(personalData, s));
    expect(statusOf(json)).toBe('collecting');
  });

  it('maps every state to a status', () => {
    expect(statusOf({ value: { collecting: 'x' } })).toBe('collecting');
    expect(statusOf({ value: 'in_review' })).toBe('in_review');
    expect(statusOf({ value: 'completed' })).toBe('completed');
    expect(statusOf({ value: 'something_old' })).toBe('needs_operator');
    expect(statusOf({ value: 'collecting' })).toBe('needs_operator');
  });

  it('answers the day it is told (no clock in the machine)', () => {
    const { machine, snapshot } = start(personalData);
    const s = run(machine, snapshot, [text('Anna Petrova'), text('Kazan')]);
    const young = step(machine, s, answerEvent({ kind: 'text', text: '16.06.2010' }, TODAY));
    expect(young.next.context.lastError).toEqual({ code: 'too_young', params: { min_age: 14, age: 13 } });
    const birthday = step(machine, s, answerEvent({ kind: 'text', text: '16.06.2010' }, '2024-06-16'));
    expect(birthday.next.value).toBe('confirming');
  });
});
