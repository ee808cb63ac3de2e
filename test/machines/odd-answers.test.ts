/** Albums (several messages sharing a media group) and other people's contacts, in the pure machine. */
import { describe, expect, it } from 'vitest';
import type { RequestDefinition } from '../../machines/definition.js';
import {
  createRequestMachine,
  initial,
  persist,
  restore,
  statusOf,
  step,
  toMermaid,
  validateAnswer,
  viewOf,
  type Answer,
  type RequestEvent,
  type RequestMachine,
  type RequestSnapshot,
} from '../../machines/index.js';
import { TODAY, answerEvent, run } from '../fixtures/answers.js';
import { contactInfo, passportPhoto, requestDef, stepDef, text } from '../fixtures/definitions.js';

function start(definition: RequestDefinition): { machine: RequestMachine; snapshot: RequestSnapshot } {
  const machine = createRequestMachine(definition);
  return { machine, snapshot: initial(machine).snapshot };
}

const photo = (n: number, mediaGroupId?: string): RequestEvent =>
  answerEvent({ kind: 'photo', fileId: `photo-${n}`, fileUniqueId: `uniq-${n}`, ...(mediaGroupId ? { mediaGroupId } : {}) });
const pdf = (n: number, mediaGroupId?: string): RequestEvent =>
  answerEvent({
    kind: 'document',
    fileId: `doc-${n}`,
    fileUniqueId: `udoc-${n}`,
    mimeType: 'application/pdf',
    fileName: `${n}.pdf`,
    ...(mediaGroupId ? { mediaGroupId } : {}),
  });

/** Two photo steps in a row: where a second album item would once have answered the next step. */
const passportPages = requestDef({
  id: 'passport_pages',
  title: text('Страницы паспорта', 'Passport pages'),
  review: true,
  steps: [stepDef({ id: 'main', type: 'photo' }), stepDef({ id: 'registration', type: 'photo' }), stepDef({ id: 'city', type: 'text' })],
});

describe('an album at a one-photo step', () => {
  it('the first item answers; the other items are not handled at the next step (not stored, not counted)', () => {
    const { machine, snapshot } = start(passportPages);
    const first = step(machine, snapshot, photo(1, 'album-1'));
    expect(first.handled).toBe(true);
    expect(first.next.value).toEqual({ collecting: 'registration' });
    expect(first.next.context.album).toBe('album-1');
    expect(first.next.context.answers['main']).toMatchObject({ kind: 'file', fileId: 'photo-1' });
    // The media group is not part of the stored value.
    expect(first.next.context.answers['main']).not.toHaveProperty('mediaGroupId');

    for (const n of [2, 3]) {
      const follower = step(machine, first.next, photo(n, 'album-1'));
      expect(follower).toMatchObject({ handled: false, changed: false, actions: [] });
      expect(follower.next).toBe(first.next);
    }
    expect(viewOf(passportPages, first.next)).toMatchObject({
      kind: 'prompt',
      step: { id: 'registration' },
      attemptsLeft: 3,
      album: 'album-1',
    });

    // A photo of its own (or of another album) answers the next step, and the album is forgotten.
    const second = step(machine, first.next, photo(4));
    expect(second.handled).toBe(true);
    expect(second.next.context.answers['registration']).toMatchObject({ fileId: 'photo-4' });
    expect(second.next.context.album).toBeUndefined();
    expect(viewOf(passportPages, second.next)).not.toHaveProperty('album');
  });

  it('other album items are not answers at a text step either (they would be invalid attempts there)', () => {
    const { machine, snapshot } = start(passportPages);
    const s = run(machine, snapshot, [photo(1), photo(2, 'album-2')]);
    expect(s.value).toEqual({ collecting: 'city' });
    expect(step(machine, s, photo(3, 'album-2')).handled).toBe(false);
    expect(step(machine, s, photo(4, 'album-3'))).toMatchObject({
      handled: true,
      next: { context: { attempts: 1, lastError: { code: 'expected_text' } } },
    });
  });

  it('an album that ends the round: the other items find the review closed, and the view names the album', () => {
    const { machine, snapshot } = start(passportPhoto);
    const s = run(machine, snapshot, [photo(1, 'album-4')]);
    expect(statusOf(s)).toBe('in_review');
    expect(step(machine, s, photo(2, 'album-4')).handled).toBe(false);
    expect(viewOf(passportPhoto, s)).toMatchObject({ kind: 'review', album: 'album-4' });
  });

  it('a refused first item counts once; the rest of its album is not more attempts', () => {
    const { machine, snapshot } = start(passportPages);
    const s = run(machine, snapshot, [pdf(1, 'album-5')]);
    expect(s.context).toMatchObject({ current: 'main', attempts: 1, lastError: { code: 'expected_photo' }, album: 'album-5' });
    expect(step(machine, s, pdf(2, 'album-5')).handled).toBe(false);
    expect(step(machine, s, pdf(3, 'album-5')).handled).toBe(false);
  });

  it('RESET forgets the album; a snapshot with an album persists and restores', () => {
    const { machine, snapshot } = start(passportPages);
    const s = run(machine, snapshot, [photo(1, 'album-6')]);
    const restored = restore(machine, JSON.parse(JSON.stringify(persist(machine, s))));
    expect(restored.ok && restored.snapshot.context.album).toBe('album-6');
    const reset = run(machine, s, [{ type: 'RESET' }]);
    expect(reset.context.album).toBeUndefined();
    expect(step(machine, reset, photo(2, 'album-6')).handled).toBe(true);
    // A stored album of the wrong type is a context that does not fit.
    const bad = { ...JSON.parse(JSON.stringify(persist(machine, s))), context: { ...s.context, album: 42 } };
    expect(restore(machine, bad)).toMatchObject({ ok: false, error: { code: 'bad_context' } });
  });

  it('the ignored album items leave the state chart as it was', () => {
    expect(toMermaid(passportPages)).not.toContain('isAlbumFollower');
  });
});

describe('a shared contact at a phone step', () => {
  const phoneStep = contactInfo.steps[0];
  if (!phoneStep) throw new Error('contact_info has a phone step');
  const contact = (ownContact: boolean): Answer => ({ kind: 'contact', phone: '+7 999 123-45-67', ownContact });

  it("someone else's contact is refused, the client's own is taken, a typed number too", () => {
    expect(validateAnswer(phoneStep, contact(false), TODAY)).toEqual({ ok: false, reason: { code: 'not_own_contact' } });
    expect(validateAnswer(phoneStep, contact(true), TODAY)).toEqual({ ok: true, value: { kind: 'phone', phone: '+79991234567' } });
    expect(validateAnswer(phoneStep, { kind: 'text', text: '+7 999 765-43-21' }, TODAY)).toEqual({
      ok: true,
      value: { kind: 'phone', phone: '+79997654321' },
    });
  });

  it('counts as an invalid attempt, and the client can still answer with their own', () => {
    const { machine, snapshot } = start(contactInfo);
    const refused = run(machine, snapshot, [answerEvent(contact(false))]);
    expect(refused.context).toMatchObject({ current: 'phone', attempts: 1, lastError: { code: 'not_own_contact' } });
    expect(refused.context.answers).toEqual({});
    const taken = run(machine, refused, [answerEvent(contact(true))]);
    expect(taken.context.answers['phone']).toEqual({ kind: 'phone', phone: '+79991234567' });
  });
});
