import { describe, expect, it } from 'vitest';
import { LOCALES, type Locale } from '../../machines/definition.js';
import type { InvalidCode } from '../../machines/steps.js';
import { en } from '../../src/ui/locales/en.js';
import { t, tInvalid, type MessageKey, type Params } from '../../src/ui/i18n.js';

/** Keys whose message takes parameters, and a sample of each (the compiler keeps this table complete). */
type ParamKey = { [K in MessageKey]: (typeof en)[K] extends string ? never : K }[MessageKey];

const title = 'Passport photo';
const client = 'Anna Petrova';
const SAMPLES: Record<ParamKey, Params> = {
  greeting: { name: 'Anna' },
  stepHeader: { title, position: 2, total: 3 },
  stepAgainHeader: { title, step: 'City' },
  askAgainHeader: { reason: 'The photo is blurry' },
  previousValue: { value: 'Berlin' },
  summaryHeader: { title },
  edit: { label: 'City' },
  completedClient: { title },
  acceptedClient: { title },
  cancelledClient: { title },
  expiredClient: { title },
  reminder: { title },
  helpStep: { prompt: 'Send a photo' },
  attemptsLeft: { n: 2 },
  albumKept: { media: 'photo' },
  requestStarted: { title, client, gender: 'n' },
  requestQueued: { client, title, position: 2 },
  reviewHeader: { title, client, round: 1 },
  fileCaption: { client, title, step: 'Passport' },
  acceptedCard: { operator: 'Olga' },
  askedAgainCard: { reason: 'The photo is blurry' },
  completedOperator: { client, title },
  parkedOperator: { client, step: 'City', title, attempts: 3, error: 'Too short' },
  clientBlockedNotice: { client, title },
  clientCancelled: { client, title },
  clientExpired: { title, client },
  deliveryFailed: { client, reason: 'Forbidden' },
  deadLettersNotice: { n: 2 },
  deadLettersTitle: { n: 2 },
  deadLettersRetried: { n: 2 },
  inviteWelcome: { operator: 'Olga' },
  menuReviews: { n: 2 },
  clientsTitle: { total: 12, page: 1, pages: 2 },
  searchTitle: { query: 'ann', total: 1 },
  clientTitle: { name: client },
  clientId: { id: 42 },
  clientLanguage: { language: 'English' },
  activeLine: { title, status: 'answering' },
  queuedLine: { titles: 'Personal data, Signed contract' },
  historyTitle: { name: client },
  askAgainPick: { title, client },
  requestSent: { title, client, gender: 'f' },
  requestQueuedShort: { title, client, position: 2 },
  inviteCreated: { title, link: 'https://t.me/bot?start=abc' },
  inviteWith: { title },
  catalogueTitle: { n: 6 },
  reloaded: { n: 6 },
  reloadFailed: { errors: 'requests[0].id: required' },
  clientWrote: { client, text: 'Hello' },
  operatorAdded: { id: 42 },
  operatorRemoved: { id: 42 },
  refusal_not_allowed: { status: 'answering' },
  cardNow: { status: 'awaiting review' },
  cardNowFinal: { status: 'cancelled' },
  stopCancelAsk: { title, client },
  stopResetAsk: { title, client },
  reasonWhy: { reason: 'It is no longer needed' },
  resetClient: { title },
  askAgainReasons: { title, client, steps: 'City' },
  talkFromClient: { client, request: title },
  talkFromOperator: { operator: 'Olga' },
  talkReplyPrompt: { client },
  talkReplySent: { client },
  talkArrivedStart: { client },
  talkArrivedNew: { client },
  talkArrivedInvite: { client },
  dashboardLine: { review: 2, attention: 1, active: 3, unassigned: 4 },
  menuAttention: { n: 1 },
  menuActiveCount: { n: 3 },
  menuUnassigned: { n: 4 },
  dashReviewsTitle: { n: 2 },
  dashAttentionTitle: { n: 1 },
  dashActiveTitle: { n: 3 },
  dashUnassignedTitle: { n: 4 },
  overdueRule: { hours: 24 },
  waited_min: { n: 45 },
  waited_h: { n: 2 },
  waited_d: { n: 3 },
  ownerLine: { owner: 'Olga' },
  ownerTag: { owner: 'Olga' },
  handOverPick: { client },
  handOverDone: { to: 'Oleg' },
  handedToYou: { client, by: 'Olga', n: 2 },
  handedAway: { client, to: 'Oleg', by: 'Olga' },
  exportPeriodPick: { title },
  exportNothing: { title, period: 'Last 7 days' },
  exportCaption: { title, period: 'Last 7 days', n: 3 },
  archivePick: { client, n: 3 },
  archiveAll: { n: 3 },
  archiveCaption: { what: title, requests: 3, files: 2 },
  archiveMissing: { n: 1 },
  deliveriesCounts: { pending: 1, failed: 2, delivered: 3, erased: 0 },
  deliveriesLastError: { error: 'HTTP 500', id: 7, flow: 12, at: '2026-01-31 10:00' },
  deliveriesRetry: { n: 2 },
  deliveriesRetried: { n: 2 },
  deliveriesFailedNotice: { n: 2 },
  forgetConfirm: { client, id: 42, open: 1 },
  forgetDone: { id: 42, answers: 3, messages: 10, inbox: 4, outbox: 6, deliveries: 1, cancelled: 1, record: 5 },
  erasedCard: { id: 12 },
  erasedCancelled: { title, id: 12, gender: 'pl' },
};

const INVALID_SAMPLES: Partial<Record<InvalidCode, Params>> = {
  expected_photo: { mimeType: 'image/png' },
  too_short: { min: 3 },
  too_long: { max: 200 },
  bad_date_format: { input: '31/12' },
  not_a_date: { input: '31.02.1990' },
  too_young: { min_age: 14 },
  too_old: { max_age: 120 },
  date_too_early: { min: '01.01.2000' },
  date_too_late: { max: '01.01.2030' },
  number_too_small: { min: 1 },
  number_too_large: { max: 10 },
  mime_not_allowed: { allowed: 'PDF' },
  file_too_large: { maxMb: 20 },
};

/** The params, refusing to give a name the sample does not have: a message reading one is caught here. */
function strict(key: string, params: Params): Params {
  return new Proxy(params, {
    get(target, name) {
      if (typeof name === 'string' && !(name in target)) throw new Error(`${key} reads the parameter "${name}", missing from its sample`);
      return Reflect.get(target, name) as unknown;
    },
  });
}

const TAGS = ['b', 'strong', 'i', 'em', 'u', 'ins', 's', 'strike', 'del', 'code', 'pre', 'a', 'blockquote', 'tg-spoiler', 'span'];

/** The HTML tags Telegram knows, opened and closed in order (text in angle brackets such as "<client ID>" is not a tag). */
function balanced(text: string): boolean {
  const open: string[] = [];
  for (const match of text.matchAll(/<(\/?)([a-z-]+)(?:\s[^>]*)?>/g)) {
    const [, closing, name = ''] = match;
    if (!TAGS.includes(name)) continue;
    if (!closing) open.push(name);
    else if (open.pop() !== name) return false;
  }
  return open.length === 0;
}

function expectReadable(text: string, where: string): void {
  expect(text.trim(), where).not.toBe('');
  for (const bad of ['undefined', 'NaN', '[object', 'null']) expect(text, `${where}: "${bad}"`).not.toContain(bad);
  expect(balanced(text), `${where}: unbalanced tags`).toBe(true);
}

const keys = Object.keys(en).filter((key): key is MessageKey => key !== 'invalid');

describe('every message', () => {
  it.each(LOCALES)('renders every key in %s with sample values', (locale: Locale) => {
    for (const key of keys) {
      const sample: Params = (SAMPLES as Partial<Record<MessageKey, Params>>)[key] ?? {};
      expectReadable(t(locale, key, strict(key, sample)), `${locale}.${key}`);
    }
    for (const code of Object.keys(en.invalid) as InvalidCode[]) {
      const sample = INVALID_SAMPLES[code] ?? {};
      expectReadable(tInvalid(locale, code, strict(`invalid.${code}`, sample)), `${locale}.invalid.${code}`);
    }
  });

  it('has a sample only for keys that take parameters', () => {
    const fixed = Object.keys(SAMPLES).filter((key) => typeof en[key as MessageKey] === 'string');
    expect(fixed).toEqual([]);
  });

  it('renders optional parameters both ways', () => {
    for (const locale of LOCALES) {
      expectReadable(t(locale, 'inviteCreated', { title: undefined, link: 'https://t.me/bot?start=abc' }), `${locale}.inviteCreated`);
      for (const key of ['requestStarted', 'requestSent', 'erasedCancelled'] as const) {
        expectReadable(t(locale, key, { ...SAMPLES[key], gender: undefined }), `${locale}.${key} without gender`);
      }
    }
  });
});

/** Texts with a count, the parameter that holds it, and the Russian forms for 1, 2 and 5 ("#" is the number). */
const COUNTED: ReadonlyArray<{ key: ParamKey; param: string; forms: readonly [one: string, few: string, many: string] }> = [
  { key: 'attemptsLeft', param: 'n', forms: ['Осталась # попытка', 'Осталось # попытки', 'Осталось # попыток'] },
  { key: 'parkedOperator', param: 'attempts', forms: ['после # попытки', 'после # попыток', 'после # попыток'] },
  { key: 'deadLettersNotice', param: 'n', forms: ['# входящее обновление', '# входящих обновления', '# входящих обновлений'] },
  { key: 'deadLettersRetried', param: 'n', forms: ['# обновление будет', '# обновления будут', '# обновлений будут'] },
  { key: 'catalogueTitle', param: 'n', forms: ['# тип запроса', '# типа запросов', '# типов запросов'] },
  { key: 'reloaded', param: 'n', forms: ['# тип запроса', '# типа запросов', '# типов запросов'] },
  { key: 'deliveriesRetried', param: 'n', forms: ['# доставка будет', '# доставки будут', '# доставок будут'] },
  { key: 'deliveriesFailedNotice', param: 'n', forms: ['# принятый запрос', '# принятых запроса', '# принятых запросов'] },
];

const INVALID_COUNTED: ReadonlyArray<{ code: InvalidCode; param: string; forms: readonly [string, string, string] }> = [
  { code: 'too_short', param: 'min', forms: ['# символа', '# символов', '# символов'] },
  { code: 'too_long', param: 'max', forms: ['# символа', '# символов', '# символов'] },
  { code: 'too_young', param: 'min_age', forms: ['# года', '# лет', '# лет'] },
];

/** 1 and 21 take "one", 2 "few", 5 "many". */
const CASES = [
  [1, 0],
  [2, 1],
  [5, 2],
  [21, 0],
] as const;

describe('counted texts in Russian', () => {
  it.each(COUNTED)('$key agrees with its count', ({ key, param, forms }) => {
    for (const [n, form] of CASES) expect(t('ru', key, { ...SAMPLES[key], [param]: n })).toContain(forms[form].replace('#', String(n)));
  });

  it.each(INVALID_COUNTED)('invalid.$code agrees with its count', ({ code, param, forms }) => {
    for (const [n, form] of CASES) expect(tInvalid('ru', code, { [param]: n })).toContain(forms[form].replace('#', String(n)));
  });

  it('says 1 attempt, 2 attempts in English', () => {
    expect(t('en', 'parkedOperator', { ...SAMPLES.parkedOperator, attempts: 1 })).toContain('after 1 attempt (');
    expect(t('en', 'parkedOperator', { ...SAMPLES.parkedOperator, attempts: 21 })).toContain('after 21 attempts (');
    expect(t('en', 'catalogueTitle', { n: 1 })).toBe('Catalogue: 1 request type');
  });
});

describe('titles with a gender in Russian', () => {
  it('agree with the title, and name the request when the gender is unknown', () => {
    const sent = (gender?: string) => t('ru', 'requestSent', { title: 'Т', client: 'Анна', ...(gender ? { gender } : {}) });
    expect(sent('m')).toBe('«Т» отправлен клиенту Анна.');
    expect(sent('f')).toBe('«Т» отправлена клиенту Анна.');
    expect(sent('n')).toBe('«Т» отправлено клиенту Анна.');
    expect(sent('pl')).toBe('«Т» отправлены клиенту Анна.');
    expect(sent()).toBe('Запрос «Т» отправлен клиенту Анна.');
    expect(t('ru', 'erasedCancelled', { title: 'Т', id: 3, gender: 'f' })).toBe('🗑 «Т» (№3) отменена: данные клиента удалены.');
  });
});
