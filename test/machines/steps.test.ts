import { describe, expect, it } from 'vitest';
import type { StepDefinition } from '../../machines/definition.js';
import {
  INVALID_CODES,
  ageOn,
  compilePattern,
  mimeMatches,
  parseDate,
  validateAnswer,
  type Answer,
  type InvalidCode,
  type StepValue,
} from '../../machines/steps.js';
import { stepDef, text } from '../fixtures/definitions.js';

const TODAY = '2024-06-15';
const t = (s: string): Answer => ({ kind: 'text', text: s });
const photo = (extra: Partial<Extract<Answer, { kind: 'photo' }>> = {}): Answer => ({
  kind: 'photo',
  fileId: 'F',
  fileUniqueId: 'U',
  ...extra,
});
const doc = (extra: Partial<Extract<Answer, { kind: 'document' }>> = {}): Answer => ({
  kind: 'document',
  fileId: 'F',
  fileUniqueId: 'U',
  ...extra,
});

function ok(step: StepDefinition, answer: Answer, today = TODAY): StepValue {
  const r = validateAnswer(step, answer, today);
  if (!r.ok) throw new Error(`expected ok, got ${JSON.stringify(r.reason)}`);
  return r.value;
}
function code(step: StepDefinition, answer: Answer, today = TODAY): InvalidCode {
  const r = validateAnswer(step, answer, today);
  if (r.ok) throw new Error(`expected a refusal, got ${JSON.stringify(r.value)}`);
  return r.reason.code;
}
function reason(step: StepDefinition, answer: Answer, today = TODAY) {
  const r = validateAnswer(step, answer, today);
  return r.ok ? null : r.reason;
}

describe('parseDate', () => {
  it.each([
    ['15.06.1990', '1990-06-15'],
    ['5.6.1990', '1990-06-05'],
    ['05.6.1990', '1990-06-05'],
    ['1990-06-15', '1990-06-15'],
    ['15/06/1990', '1990-06-15'],
    ['  15.06.1990 \n', '1990-06-15'],
    ['29.02.2024', '2024-02-29'],
    ['29.02.2000', '2000-02-29'],
    ['31.12.1999', '1999-12-31'],
  ])('accepts %j as %s', (input, iso) => {
    expect(parseDate(input)).toEqual({ ok: true, date: iso });
  });

  it.each(['29.02.2023', '29.02.1900', '31.02.1990', '31.04.1990', '00.01.1990', '01.13.1990', '1990-02-30', '1990-00-10'])(
    'refuses the impossible day %j as not_a_date',
    (input) => {
      expect(parseDate(input)).toEqual({ ok: false, code: 'not_a_date' });
    },
  );

  it.each(['', 'yesterday', '15-06-1990', '15.06.90', '1990/06/15', '15.06/1990', '15 06 1990', '1990-6-15', '115.06.1990'])(
    'refuses the shape %j as bad_date_format',
    (input) => {
      expect(parseDate(input)).toEqual({ ok: false, code: 'bad_date_format' });
    },
  );
});

describe('ageOn', () => {
  it('counts whole years', () => {
    expect(ageOn('2010-06-15', '2024-06-15')).toBe(14);
    expect(ageOn('2010-06-16', '2024-06-15')).toBe(13);
    expect(ageOn('2010-07-01', '2024-06-15')).toBe(13);
    expect(ageOn('2004-02-29', '2023-02-28')).toBe(18);
    expect(ageOn('2004-02-29', '2023-03-01')).toBe(19);
  });
});

describe('date steps', () => {
  const birth = stepDef({ id: 'birth_date', type: 'date', minAge: 14, maxAge: 120 });
  const plain = stepDef({ id: 'd', type: 'date', minDate: '2024-01-01', maxDate: '2024-12-31' });

  it('normalises every accepted format to ISO', () => {
    for (const input of ['01.02.1990', '1.2.1990', '1990-02-01', '01/02/1990']) {
      expect(ok(birth, t(input))).toEqual({ kind: 'date', date: '1990-02-01' });
    }
    expect(ok(plain, t('29.02.2024'))).toEqual({ kind: 'date', date: '2024-02-29' });
  });

  it('refuses impossible days and bad shapes with the input', () => {
    expect(reason(birth, t('31.02.1990'))).toEqual({ code: 'not_a_date', params: { input: '31.02.1990' } });
    expect(reason(birth, t(' 29.02.2023 '))).toEqual({ code: 'not_a_date', params: { input: '29.02.2023' } });
    expect(reason(birth, t('June 1990'))).toEqual({ code: 'bad_date_format', params: { input: 'June 1990' } });
    expect(code(birth, t('   '))).toBe('empty');
  });

  it('checks ages at their boundaries (whole years on `today`)', () => {
    expect(ok(birth, t('15.06.2010'))).toEqual({ kind: 'date', date: '2010-06-15' }); // 14 today
    expect(reason(birth, t('16.06.2010'))).toEqual({ code: 'too_young', params: { min_age: 14, age: 13 } });
    expect(ok(birth, t('16.06.1903'))).toEqual({ kind: 'date', date: '1903-06-16' }); // 120
    expect(ok(birth, t('15.06.1904'))).toEqual({ kind: 'date', date: '1904-06-15' }); // 120 today
    expect(reason(birth, t('15.06.1903'))).toEqual({ code: 'too_old', params: { max_age: 120, age: 121 } });
    expect(code(birth, t('16.06.2024'))).toBe('date_in_future');
    expect(code(birth, t('15.06.2024'))).toBe('too_young'); // born today: age 0
    // the age depends on the day the event says it is
    expect(code(birth, t('16.06.2010'), '2024-06-15')).toBe('too_young');
    expect(ok(birth, t('16.06.2010'), '2024-06-16')).toEqual({ kind: 'date', date: '2010-06-16' });
  });

  it('checks min and max dates', () => {
    expect(ok(plain, t('01.01.2024'))).toEqual({ kind: 'date', date: '2024-01-01' });
    expect(ok(plain, t('31.12.2024'))).toEqual({ kind: 'date', date: '2024-12-31' });
    expect(reason(plain, t('31.12.2023'))).toEqual({ code: 'date_too_early', params: { min: '2024-01-01' } });
    expect(reason(plain, t('2025-01-01'))).toEqual({ code: 'date_too_late', params: { max: '2024-12-31' } });
    // no age limit: a future date is fine
    expect(ok(stepDef({ id: 'x', type: 'date' }), t('01.01.2099'))).toEqual({ kind: 'date', date: '2099-01-01' });
  });

  it('wants text', () => {
    expect(code(birth, photo())).toBe('expected_text');
  });
});

describe('text steps', () => {
  const name = stepDef({ id: 'full_name', type: 'text', minLength: 3, maxLength: 10 });

  it('trims and counts code points', () => {
    expect(ok(name, t('  Ann  '))).toEqual({ kind: 'text', text: 'Ann' });
    expect(ok(name, t('😀😀😀'))).toEqual({ kind: 'text', text: '😀😀😀' }); // 3 code points, 6 UTF-16 units
    expect(ok(name, t('Лев Толсто'))).toEqual({ kind: 'text', text: 'Лев Толсто' });
  });

  it('checks lengths with params', () => {
    expect(reason(name, t(' Al '))).toEqual({ code: 'too_short', params: { min: 3 } });
    expect(reason(name, t('Abcdefghijk'))).toEqual({ code: 'too_long', params: { max: 10 } });
    expect(code(name, t(' \n '))).toBe('empty');
    expect(code(stepDef({ id: 'x', type: 'text' }), t(''))).toBe('empty');
  });

  it('matches the whole answer against the pattern', () => {
    const inn = stepDef({ id: 'inn', type: 'text', pattern: '\\d{10}|\\d{12}', patternError: text('x') });
    expect(ok(inn, t('1234567890'))).toEqual({ kind: 'text', text: '1234567890' });
    expect(ok(inn, t('123456789012'))).toEqual({ kind: 'text', text: '123456789012' });
    // without the (?:…) group, `^\d{10}|\d{12}$` would accept these
    expect(code(inn, t('12345678901'))).toBe('pattern_mismatch');
    expect(code(inn, t('1234567890abc'))).toBe('pattern_mismatch');
    const letters = stepDef({ id: 'l', type: 'text', pattern: '\\p{L}+' });
    expect(ok(letters, t('Ёжик'))).toEqual({ kind: 'text', text: 'Ёжик' });
    expect(code(letters, t('Ёжик1'))).toBe('pattern_mismatch');
  });

  it('treats a broken pattern as a mismatch instead of throwing', () => {
    expect(compilePattern('(')).toBeNull();
    expect(code(stepDef({ id: 'x', type: 'text', pattern: '(' }), t('a'))).toBe('pattern_mismatch');
  });

  it('refuses files, contacts, stale buttons and unsupported messages', () => {
    expect(code(name, photo())).toBe('expected_text');
    expect(code(name, doc())).toBe('expected_text');
    expect(code(name, { kind: 'contact', phone: '+79991234567', ownContact: true })).toBe('expected_text');
    expect(code(name, { kind: 'choice', optionId: 'x' })).toBe('expected_text');
    expect(reason(name, { kind: 'unsupported', what: 'voice' })).toEqual({
      code: 'unsupported_message',
      params: { what: 'voice' },
    });
  });
});

describe('file steps', () => {
  const passport = stepDef({ id: 'passport', type: 'photo' });
  const contract = stepDef({ id: 'contract', type: 'document', mimeTypes: ['application/pdf'], maxSizeMb: 5 });
  const proof = stepDef({
    id: 'proof',
    type: 'photo_or_document',
    mimeTypes: ['image/*', 'application/pdf'],
    maxSizeMb: 20,
  });

  it('photo steps take photos; a document is expected_photo (with its MIME type)', () => {
    expect(ok(passport, photo({ size: 10 }))).toEqual({
      kind: 'file',
      media: 'photo',
      fileId: 'F',
      fileUniqueId: 'U',
      size: 10,
    });
    expect(reason(passport, doc({ mimeType: 'image/png' }))).toEqual({
      code: 'expected_photo',
      params: { mimeType: 'image/png' },
    });
    expect(reason(passport, doc())).toEqual({ code: 'expected_photo' });
    expect(code(passport, t('here it is'))).toBe('expected_file');
    expect(code(passport, { kind: 'contact', phone: '1', ownContact: false })).toBe('expected_file');
    expect(code(passport, { kind: 'unsupported', what: 'album' })).toBe('unsupported_message');
  });

  it('document steps take documents; a photo is expected_document', () => {
    expect(ok(contract, doc({ mimeType: 'application/pdf', size: 5 * 1024 * 1024, fileName: 'c.pdf' }))).toEqual({
      kind: 'file',
      media: 'document',
      fileId: 'F',
      fileUniqueId: 'U',
      mimeType: 'application/pdf',
      size: 5 * 1024 * 1024,
      fileName: 'c.pdf',
    });
    expect(code(contract, photo())).toBe('expected_document');
    expect(code(contract, t('pdf'))).toBe('expected_file');
  });

  it('photo_or_document takes either, within the MIME list (wildcards) and size', () => {
    expect(ok(proof, photo())).toMatchObject({ media: 'photo' });
    expect(ok(proof, doc({ mimeType: 'image/heic' }))).toMatchObject({ media: 'document', mimeType: 'image/heic' });
    expect(ok(proof, doc({ mimeType: 'application/pdf' }))).toMatchObject({ media: 'document' });
    expect(ok(proof, doc())).toMatchObject({ media: 'document' }); // unknown MIME type: not checked
    expect(reason(proof, doc({ mimeType: 'application/zip' }))).toEqual({
      code: 'mime_not_allowed',
      params: { allowed: 'image/*, application/pdf', mimeType: 'application/zip' },
    });
    expect(ok(proof, doc({ mimeType: 'application/pdf', size: 20 * 1024 * 1024 }))).toMatchObject({ media: 'document' });
    expect(reason(proof, doc({ mimeType: 'application/pdf', size: 20 * 1024 * 1024 + 1 }))).toEqual({
      code: 'file_too_large',
      params: { maxMb: 20 },
    });
    expect(code(proof, photo({ size: 21 * 1024 * 1024 }))).toBe('file_too_large');
  });

  it('a photo counts as image/jpeg for MIME lists', () => {
    expect(code(contract, photo())).toBe('expected_document');
    const pdfOnly = stepDef({ id: 'p', type: 'photo_or_document', mimeTypes: ['application/pdf'] });
    expect(code(pdfOnly, photo())).toBe('mime_not_allowed');
  });

  it('matches MIME patterns', () => {
    expect(mimeMatches('image/*', 'image/png')).toBe(true);
    expect(mimeMatches('image/*', 'IMAGE/PNG')).toBe(true);
    expect(mimeMatches('image/*', 'imagex/png')).toBe(false);
    expect(mimeMatches('image/*', 'application/pdf')).toBe(false);
    expect(mimeMatches('application/pdf', 'application/pdf; charset=binary')).toBe(true);
    expect(mimeMatches('*/*', 'text/plain')).toBe(true);
    expect(mimeMatches('application/pdf', 'application/pdfx')).toBe(false);
  });
});

describe('phone steps', () => {
  const phone = stepDef({ id: 'phone', type: 'phone' });

  it('normalises typed numbers to +digits', () => {
    expect(ok(phone, t('+7 (999) 123-45-67'))).toEqual({ kind: 'phone', phone: '+79991234567' });
    expect(ok(phone, t('8 999 123 45 67'))).toEqual({ kind: 'phone', phone: '+89991234567' });
    expect(ok(phone, t('4420 7946 0958'))).toEqual({ kind: 'phone', phone: '+442079460958' });
    expect(ok(phone, t('123456789012345'))).toEqual({ kind: 'phone', phone: '+123456789012345' });
  });

  it("accepts the client's own shared contact, with or without +", () => {
    expect(ok(phone, { kind: 'contact', phone: '79991234567', ownContact: true })).toEqual({
      kind: 'phone',
      phone: '+79991234567',
    });
    expect(ok(phone, { kind: 'contact', phone: '+79991234567', ownContact: true })).toEqual({
      kind: 'phone',
      phone: '+79991234567',
    });
    // Someone else's contact is not the client's number (see test/machines/odd-answers.test.ts).
    expect(code(phone, { kind: 'contact', phone: '+79991234567', ownContact: false })).toBe('not_own_contact');
    expect(code(phone, { kind: 'contact', phone: '12345', ownContact: true })).toBe('bad_phone');
  });

  it('refuses wrong lengths and characters', () => {
    expect(code(phone, t('123456789'))).toBe('bad_phone'); // 9 digits
    expect(code(phone, t('1234567890123456'))).toBe('bad_phone'); // 16 digits
    expect(code(phone, t('+7 999 123 45 6x'))).toBe('bad_phone');
    expect(code(phone, t('7+9991234567'))).toBe('bad_phone');
    expect(code(phone, t('call me'))).toBe('bad_phone');
    expect(code(phone, t(''))).toBe('empty');
    expect(code(phone, photo())).toBe('expected_text');
  });
});

describe('email steps', () => {
  const email = stepDef({ id: 'email', type: 'email' });
  it('accepts addresses, lower-casing the domain only', () => {
    expect(ok(email, t('  John.Doe@Example.COM '))).toEqual({ kind: 'email', email: 'John.Doe@example.com' });
    expect(ok(email, t('a+tag@mail.co.uk'))).toEqual({ kind: 'email', email: 'a+tag@mail.co.uk' });
  });
  it.each(['plain', 'a@b', 'a@@b.com', 'a b@c.com', '@c.com', 'a@.com', 'a@c..com', '.a@c.com', 'a..b@c.com'])('refuses %j', (input) => {
    expect(code(email, t(input))).toBe('bad_email');
  });
});

describe('number steps', () => {
  const children = stepDef({ id: 'children', type: 'number', integer: true, min: 0, max: 20 });
  const income = stepDef({ id: 'income', type: 'number', min: 0 });

  it('parses numbers with comma decimals and digit grouping', () => {
    expect(ok(children, t(' 3 '))).toEqual({ kind: 'number', value: 3 });
    expect(ok(children, t('-0'))).toEqual({ kind: 'number', value: 0 });
    expect(Object.is((ok(children, t('-0')) as { value: number }).value, 0)).toBe(true);
    expect(ok(income, t('1 500,75'))).toEqual({ kind: 'number', value: 1500.75 });
    expect(ok(income, t('2.5'))).toEqual({ kind: 'number', value: 2.5 });
  });

  it('refuses non-numbers, fractions where integers are needed, and out-of-range values', () => {
    expect(code(children, t('three'))).toBe('not_a_number');
    expect(code(children, t('1e3'))).toBe('not_a_number');
    expect(code(children, t('1,2,3'))).toBe('not_a_number');
    expect(code(children, t('2.5'))).toBe('not_integer');
    expect(reason(children, t('-1'))).toEqual({ code: 'number_too_small', params: { min: 0 } });
    expect(reason(children, t('21'))).toEqual({ code: 'number_too_large', params: { max: 20 } });
    expect(ok(children, t('20'))).toEqual({ kind: 'number', value: 20 });
    expect(code(children, t(''))).toBe('empty');
  });
});

describe('choice steps', () => {
  const channel = stepDef({
    id: 'channel',
    type: 'choice',
    options: [
      { id: 'call', label: text('Звонок', 'Phone call') },
      { id: 'sms', label: text('СМС', 'SMS') },
    ],
  });

  it('accepts a button press for a known option', () => {
    expect(ok(channel, { kind: 'choice', optionId: 'sms' })).toEqual({ kind: 'choice', optionId: 'sms' });
    expect(code(channel, { kind: 'choice', optionId: 'fax' })).toBe('unknown_option');
  });

  it('accepts the typed id or a label in any locale, ignoring case and spaces', () => {
    expect(ok(channel, t('CALL'))).toEqual({ kind: 'choice', optionId: 'call' });
    expect(ok(channel, t(' звонок '))).toEqual({ kind: 'choice', optionId: 'call' });
    expect(ok(channel, t('phone CALL'))).toEqual({ kind: 'choice', optionId: 'call' });
    expect(ok(channel, t('смс'))).toEqual({ kind: 'choice', optionId: 'sms' });
    expect(code(channel, t('phone'))).toBe('unknown_option');
    expect(code(channel, photo())).toBe('expected_text');
  });
});

describe('codes', () => {
  it('has one code per reason, no duplicates', () => {
    expect(new Set(INVALID_CODES).size).toBe(INVALID_CODES.length);
  });
});
