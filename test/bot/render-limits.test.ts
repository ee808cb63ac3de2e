/**
 * What the bot sends for a transition (src/flows/render.ts), checked without Telegram: user input only
 * as short excerpts, every text within Telegram's limits, valid HTML; album and contact notices.
 */
import { describe, expect, it } from 'vitest';
import type { RequestDefinition } from '../../machines/definition.js';
import {
  createRequestMachine,
  initial,
  step,
  validateAnswer,
  viewOf,
  type RequestEvent,
  type RequestSnapshot,
} from '../../machines/index.js';
import { render } from '../../src/flows/render.js';
import type { Actor, OutMessage, PersonInfo } from '../../src/flows/types.js';
import { CAPTION_MAX, EXCERPT_MAX, TEXT_MAX, renderedLength } from '../../src/ui/limits.js';
import { TODAY, answerEvent, run } from '../fixtures/answers.js';
import { contactInfo, passportPhoto, personalData, requestDef, stepDef, text } from '../fixtures/definitions.js';

const client: PersonInfo = { id: 100, firstName: 'Anna', lastName: null, username: null, locale: 'en' };
const operator: PersonInfo = { id: 1, firstName: 'Olga', lastName: 'Operator', username: null, locale: 'en' };

/** One command as the flow service applies it: the event, then the messages render makes of it. */
function apply(
  definition: RequestDefinition,
  before: RequestSnapshot,
  event: RequestEvent,
  options: { client?: PersonInfo; actor?: Actor } = {},
) {
  const machine = createRequestMachine(definition);
  const result = step(machine, before, event);
  if (!result.handled) throw new Error(`${event.type} not handled`);
  const stepDefinition = definition.steps.find((s) => s.id === before.context.current);
  const checked = event.type === 'ANSWER' && stepDefinition ? validateAnswer(stepDefinition, event.answer, event.today) : null;
  const messages = render({
    flowId: 7,
    version: 3,
    definition,
    client: options.client ?? client,
    operator,
    event,
    actor: options.actor ?? { kind: 'client', id: client.id },
    effects: result.actions,
    view: viewOf(definition, result.next),
    before: viewOf(definition, before),
    invalid: checked && !checked.ok ? checked.reason : null,
  });
  return { next: result.next, messages };
}

function start(definition: RequestDefinition): RequestSnapshot {
  return initial(createRequestMachine(definition)).snapshot;
}

const textOf = (m: OutMessage): string => {
  const text = m.payload['text'] ?? m.payload['caption'];
  return typeof text === 'string' ? text : '';
};
const to = (messages: readonly OutMessage[], person: PersonInfo) => messages.filter((m) => m.chatId === person.id);
/** Valid Telegram HTML of ours: every `&` starts an entity, tags balanced. */
function validHtml(s: string): boolean {
  if (/&(?!(?:lt|gt|amp|quot|#\d+);)/.test(s)) return false;
  const open: string[] = [];
  for (const [, slash, name] of s.matchAll(/<(\/?)([a-z]+)\b[^>]*>/g)) {
    if (!slash) open.push(name ?? '');
    else if (open.pop() !== name) return false;
  }
  return open.length === 0;
}
function expectWithinLimits(messages: readonly OutMessage[]): void {
  for (const m of messages) {
    const body = textOf(m);
    const isHtml = m.payload['parse_mode'] === 'HTML';
    const length = isHtml ? renderedLength(body) : body.length;
    expect(length, `${m.method}: ${body.slice(0, 80)}`).toBeLessThanOrEqual(m.payload['caption'] !== undefined ? CAPTION_MAX : TEXT_MAX);
    if (isHtml) expect(validHtml(body), body.slice(0, 200)).toBe(true);
  }
}

const birthDateStep = (definition: RequestDefinition): RequestSnapshot =>
  run(createRequestMachine(definition), start(definition), [
    answerEvent({ kind: 'text', text: 'Anna Petrova' }),
    answerEvent({ kind: 'text', text: 'Kazan' }),
  ]);

describe('a 5,000-character answer at a date step, three times', () => {
  it('each refusal echoes a short excerpt only; the parked notice too; everything fits', () => {
    const long = `${'1'.repeat(4990)}<b>&amp;`;
    let snapshot = birthDateStep(personalData);
    const sent: OutMessage[] = [];
    for (let i = 0; i < 3; i += 1) {
      const { next, messages } = apply(personalData, snapshot, answerEvent({ kind: 'text', text: long }));
      snapshot = next;
      sent.push(...messages);
      expectWithinLimits(messages);
    }
    const refusals = to(sent, client).filter((m) => /is not a date/.test(textOf(m)));
    expect(refusals).toHaveLength(2);
    for (const refusal of refusals) {
      const echoed = /“(.*)” is not a date/.exec(textOf(refusal))?.[1] ?? '';
      expect(echoed).toBe(`${'1'.repeat(EXCERPT_MAX - 1)}…`);
    }
    expect(textOf(to(sent, client).at(-1) ?? refusals[0]!)).toMatch(/Too many attempts/);
    const alert = to(sent, operator).at(-1);
    expect(textOf(alert!)).toMatch(
      /could not answer “birth_date” of “Personal data” after 3 attempts \(last problem: “1{49}…” is not a date/,
    );
    expect(textOf(alert!).length).toBeLessThan(600);
  });

  it('input made of HTML is escaped after the cut: no entity cut in two', () => {
    const { messages } = apply(personalData, birthDateStep(personalData), answerEvent({ kind: 'text', text: '<>&'.repeat(2000) }));
    const [refusal] = to(messages, client);
    expect(textOf(refusal!)).toContain(`“${'&lt;&gt;&amp;'.repeat(16)}&lt;…” is not a date`);
    expectWithinLimits(messages);
  });
});

describe('summaries and review cards of long answers', () => {
  const essay = requestDef({
    id: 'essay',
    title: text('Эссе', 'Essay'),
    confirm: true,
    review: true,
    steps: ['intro', 'body', 'conclusion', 'notes', 'extra'].map((id) => stepDef({ id, type: 'text', label: text(id, id.toUpperCase()) })),
  });
  it('each answer is cut for display, the whole summary and card fit, and the full values stay in the snapshot', () => {
    const value = (i: number) => `${String(i)}${'é'.repeat(3999)}`;
    const machine = createRequestMachine(essay);
    const lastButOne = run(
      machine,
      start(essay),
      essay.steps.slice(0, -1).map((_, i) => answerEvent({ kind: 'text', text: value(i) })),
    );
    const summary = apply(essay, lastButOne, answerEvent({ kind: 'text', text: value(4) }));
    expect(summary.next.value).toBe('confirming');
    expect(summary.next.context.answers['extra']).toEqual({ kind: 'text', text: value(4) });
    const [message] = to(summary.messages, client);
    expect(textOf(message!)).toMatch(/^<b>Essay: please check your answers<\/b>/);
    for (const label of ['INTRO', 'BODY', 'CONCLUSION', 'NOTES', 'EXTRA'])
      expect(textOf(message!)).toMatch(new RegExp(`<b>${label}</b>: \\dé+…`));
    expectWithinLimits(summary.messages);

    const review = apply(essay, summary.next, { type: 'CONFIRM' });
    const card = to(review.messages, operator).find((m) => /Essay from Anna/.test(textOf(m)));
    expect(textOf(card!).match(/é+…/g)).toHaveLength(5);
    expectWithinLimits(review.messages);

    const again = apply(
      essay,
      review.next,
      { type: 'ASK_AGAIN', reason: 'r'.repeat(5000) },
      { actor: { kind: 'operator', id: operator.id } },
    );
    expectWithinLimits(again.messages);
    expect(to(again.messages, client).map(textOf).join('\n')).toMatch(/send this again: r+…/);
  });

  it('with many steps each answer gets a fair share, and nothing goes over the limit', () => {
    const many = requestDef({
      id: 'many',
      confirm: true,
      steps: Array.from({ length: 40 }, (_, i) => stepDef({ id: `step_${i}`, type: 'text' })),
    });
    const machine = createRequestMachine(many);
    const before = run(
      machine,
      start(many),
      many.steps.slice(0, -1).map(() => answerEvent({ kind: 'text', text: 'x'.repeat(4000) })),
    );
    const { messages } = apply(many, before, answerEvent({ kind: 'text', text: 'x'.repeat(4000) }));
    const [summary] = to(messages, client);
    // Every step is still listed: the values are shortened, not the list.
    expect(textOf(summary!)).toContain('<b>step_39</b>: xxx');
    expectWithinLimits(messages);
  });

  it('a long edited answer shown as the previous value is an excerpt', () => {
    const machine = createRequestMachine(personalData);
    const confirming = run(machine, start(personalData), [
      answerEvent({ kind: 'text', text: 'Anna Petrova' }),
      answerEvent({ kind: 'text', text: `Kazan ${'k'.repeat(4000)}` }),
      answerEvent({ kind: 'text', text: '14.07.1990' }),
    ]);
    const { messages } = apply(personalData, confirming, { type: 'EDIT_STEP', stepId: 'city' });
    expect(textOf(to(messages, client)[0]!)).toMatch(/Previous answer: Kazan k+…<\/i>$/);
    expectWithinLimits(messages);
  });

  it('a client with a very long name still gets a card and captions within the limits', () => {
    const longName: PersonInfo = { ...client, firstName: 'Anna'.repeat(1000) };
    const { messages } = apply(passportPhoto, start(passportPhoto), answerEvent({ kind: 'photo', fileId: 'f', fileUniqueId: 'u' }), {
      client: longName,
    });
    expect(messages.some((m) => m.method === 'sendPhoto')).toBe(true);
    expectWithinLimits(messages);
  });
});

describe('album and contact notices', () => {
  it('the first photo of an album answers the step and the client is told, once, that the others were left out', () => {
    const { messages } = apply(
      passportPhoto,
      start(passportPhoto),
      answerEvent({ kind: 'photo', fileId: 'f1', fileUniqueId: 'u1', mediaGroupId: 'g1' }),
    );
    expect(to(messages, client).map(textOf)).toEqual([
      'We kept the first photo of your album; the others were not used. Please send one file per step.',
      expect.stringMatching(/^Thank you! Your answers were sent to the operator/),
    ]);
    const ru = apply(
      passportPhoto,
      start(passportPhoto),
      answerEvent({ kind: 'document', fileId: 'f1', fileUniqueId: 'u1', mimeType: 'image/jpeg', mediaGroupId: 'g1' }),
      {
        client: { ...client, locale: 'ru' },
      },
    );
    // A document album at a photo step: refused as usual, and no album notice.
    expect(to(ru.messages, client).map(textOf)).toEqual([expect.stringMatching(/^❗ Пришлите, пожалуйста, как фото/)]);
    const taken = apply(personalData, start(personalData), answerEvent({ kind: 'text', text: 'Anna Petrova' }));
    expect(to(taken.messages, client).map(textOf).join('\n')).not.toMatch(/album/);
  });

  it("someone else's contact is refused with the share button offered again", () => {
    const { messages } = apply(
      contactInfo,
      start(contactInfo),
      answerEvent({ kind: 'contact', phone: '+79991234567', ownContact: false }, TODAY),
    );
    const [refusal] = to(messages, client);
    expect(textOf(refusal!)).toBe(
      '❗ This is someone else’s contact. We need your own number: tap “📱 Share my number” or type it.\nAttempts left: 1.',
    );
    expect(refusal?.payload['reply_markup']).toEqual({
      keyboard: [[{ text: '📱 Share my number', request_contact: true }]],
      resize_keyboard: true,
      one_time_keyboard: true,
    });
    const ru = apply(contactInfo, start(contactInfo), answerEvent({ kind: 'contact', phone: '+79991234567', ownContact: false }), {
      client: { ...client, locale: 'ru' },
    });
    expect(textOf(to(ru.messages, client)[0]!)).toMatch(
      /^❗ Это чужой контакт\. Нужен ваш собственный номер: нажмите «📱 Поделиться номером» или напишите его\./,
    );
  });
});
