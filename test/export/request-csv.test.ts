import { afterEach, describe, expect, it } from 'vitest';
import { parseCatalogue, type Catalogue } from '../../src/config/catalogue.js';
import { people } from '../../src/db/schema.js';
import { FLOW_COLUMNS, toCsv } from '../../src/export/csv.js';
import { Exporter } from '../../src/export/exporter.js';
import { FlowService } from '../../src/flows/service.js';
import { ENGINES, openTestDatabase, type TestDatabase } from '../helpers/db.js';
import { photo, text, updateId } from '../helpers/flows.js';
import { readCsv, readCsvFile } from './readers.js';

/** The catalogue when the first flows ran: `nickname` is there, `best_time`, `passport` and `phone` are not yet. */
const BEFORE = parseCatalogue(`
version: 1
defaults: { locale: ru, max_attempts: 3, remind_after: never, expire_after: never }
requests:
  - id: profile
    title: { ru: Анкета, en: Profile }
    steps:
      - { id: full_name, type: text, prompt: { ru: ФИО, en: Full name } }
      - { id: city, type: text, prompt: { ru: Город, en: City } }
      - { id: nickname, type: text, prompt: { ru: Как к вам обращаться?, en: Nickname } }
      - { id: birth_date, type: date, prompt: { ru: Дата рождения, en: Birth date } }
  - id: other
    title: { ru: Другое, en: Other }
    steps:
      - { id: note, type: text, prompt: Note }
`);

/** The catalogue now: `nickname` removed; `best_time`, `passport` and `phone` added; answers reviewed. */
const AFTER = parseCatalogue(`
version: 1
defaults: { locale: ru, max_attempts: 3, remind_after: never, expire_after: never }
requests:
  - id: profile
    title: { ru: Анкета, en: Profile }
    review: true
    steps:
      - { id: full_name, type: text, prompt: { ru: ФИО, en: Full name } }
      - id: best_time
        type: choice
        prompt: { ru: Когда удобно?, en: Best time? }
        options:
          - { id: morning, label: { ru: Утро, en: Morning } }
          - { id: evening, label: { ru: Вечер, en: Evening } }
      - { id: city, type: text, prompt: { ru: Город, en: City } }
      - { id: birth_date, type: date, prompt: { ru: Дата рождения, en: Birth date } }
      - { id: passport, type: photo, prompt: { ru: Фото паспорта, en: Passport photo } }
      - { id: phone, type: phone, prompt: { ru: Телефон, en: Phone } }
  - id: other
    title: { ru: Другое, en: Other }
    steps:
      - { id: note, type: text, prompt: Note }
`);

const OLGA = 1000;
const OLEG = 2000;

describe.each(ENGINES)('request export (CSV) on %s', (engine) => {
  let test: TestDatabase;
  afterEach(() => test.close());

  /** Three flows of `profile` (two of Olga's, one of Oleg's) and one of `other`, across a catalogue change. */
  async function seed(): Promise<{ exporter: Exporter; ids: { anna: number; boris: number; carl: number } }> {
    test = await openTestDatabase(engine);
    const db = test.current().db;
    let catalogue: Catalogue = BEFORE;
    const flows = new FlowService({ db, catalogue: () => catalogue, defaultLocale: 'ru' });
    await db.insert(people).values([
      { id: OLGA, firstName: 'Ольга', lastName: 'Оператор', role: 'operator', startedAt: new Date() },
      { id: OLEG, firstName: 'Oleg', role: 'operator', startedAt: new Date() },
      { id: 1, firstName: 'Анна', lastName: 'Петрова', username: 'anna_p', languageCode: 'ru', startedAt: new Date() },
      { id: 2, firstName: '=Boris', languageCode: 'ru', startedAt: new Date() },
      { id: 3, firstName: 'Carl', username: 'carl', languageCode: 'en', startedAt: new Date() },
    ]);
    const answer = async (clientId: number, value: Parameters<FlowService['answer']>[0]['answer']) => {
      const result = await flows.answer({ clientId, answer: value, updateId: updateId() });
      expect(result.ok && result.value.invalid).toBe(null);
    };
    const start = async (operatorId: number, clientId: number, requestId = 'profile') => {
      const started = await flows.start({ operatorId, clientId, requestId });
      if (!started.ok) throw new Error(started.refusal.code);
      return started.value.flow.id;
    };

    // Before the change: Anna answers everything; no review, so her answers are accepted.
    const anna = await start(OLGA, 1);
    await answer(1, text('Анна Петрова'));
    await answer(1, text('=HYPERLINK("http://example.com","x")'));
    await answer(1, text('Ася'));
    await answer(1, text('15.06.1990'));
    await start(OLGA, 1, 'other');
    await answer(1, text('not a profile'));

    catalogue = AFTER;
    // After it: Boris answers, is asked for his city again, and answers again (waiting for review).
    const boris = await start(OLGA, 2);
    await answer(2, text('Борис'));
    await answer(2, { kind: 'choice', optionId: 'evening' });
    await answer(2, text('Kazan'));
    await answer(2, text('01.02.1985'));
    await answer(2, photo(7));
    await answer(2, text('+7 900 123-45-67'));
    const asked = await flows.askAgain({ operatorId: OLGA, flowId: boris, reason: 'typo', stepIds: ['city'] });
    expect(asked.ok).toBe(true);
    await answer(2, text('-Kazan'));
    // Oleg's client, accepted.
    const carl = await start(OLEG, 3);
    for (const value of [
      text('Carl Jung'),
      { kind: 'choice' as const, optionId: 'morning' },
      text('Basel'),
      text('26.07.1975'),
      photo(8),
      text('+41 61 123 45 67'),
    ])
      await answer(3, value);
    const accepted = await flows.accept({ operatorId: OLEG, flowId: carl });
    expect(accepted.ok).toBe(true);
    return { exporter: new Exporter({ db, catalogue: () => catalogue }), ids: { anna, boris, carl } };
  }

  it('one row per flow, a column per step (added ones empty for older flows, removed ones kept), cells as text', async () => {
    const { exporter, ids } = await seed();
    const csv = await exporter.requestCsv({ requestId: 'profile', since: null, viewer: null, locale: 'ru' });
    expect(csv.filename).toMatch(/^profile_\d{4}-\d{2}-\d{2}\.csv$/);
    expect([...csv.bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(csv.bytes.toString('utf8')).toContain('\r\n');

    const { header, rows } = readCsvFile(csv.bytes);
    // The current catalogue's steps in order, then the step only older flows have.
    expect(header).toEqual([...FLOW_COLUMNS, 'full_name', 'best_time', 'city', 'birth_date', 'passport', 'phone', 'nickname']);
    expect(rows.map((r) => r['flow_id'])).toEqual([String(ids.anna), String(ids.boris), String(ids.carl)]);
    const [anna, boris, carl] = rows;

    expect(anna).toMatchObject({
      request_id: 'profile',
      request_title: 'Анкета',
      status: 'completed',
      client_id: '1',
      client_name: 'Анна Петрова',
      client_username: 'anna_p',
      operator_id: String(OLGA),
      operator_name: 'Ольга Оператор',
      full_name: 'Анна Петрова',
      // Added to the catalogue after her request: an empty cell.
      best_time: '',
      passport: '',
      phone: '',
      // A formula: shown as text.
      city: `'=HYPERLINK("http://example.com","x")`,
      birth_date: '15.06.1990',
      // Removed from the catalogue since: still there.
      nickname: 'Ася',
    });
    expect(anna?.['created_at']).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(anna?.['finished_at']).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);

    expect(boris).toMatchObject({
      status: 'in_review',
      client_name: `'=Boris`,
      client_username: '',
      full_name: 'Борис',
      best_time: 'Вечер',
      // Asked again: the new answer, not the rejected "Kazan".
      city: `'-Kazan`,
      birth_date: '01.02.1985',
      passport: 'photo uphoto-7',
      phone: `'+79001234567`,
      nickname: '',
      finished_at: '',
    });
    expect(carl).toMatchObject({
      status: 'completed',
      operator_id: String(OLEG),
      operator_name: 'Oleg',
      client_username: 'carl',
      best_time: 'Утро',
      city: 'Basel',
    });

    // In English, the titles and labels are English.
    const english = readCsvFile((await exporter.requestCsv({ requestId: 'profile', since: null, viewer: null, locale: 'en' })).bytes);
    expect(english.rows.map((r) => [r['request_title'], r['best_time']])).toEqual([
      ['Profile', ''],
      ['Profile', 'Evening'],
      ['Profile', 'Morning'],
    ]);
  });

  it('an operator gets only the requests they sent; a period leaves older ones out', async () => {
    const { exporter, ids } = await seed();
    const olga = readCsvFile((await exporter.requestCsv({ requestId: 'profile', since: null, viewer: OLGA, locale: 'ru' })).bytes);
    expect(olga.rows.map((r) => r['flow_id'])).toEqual([String(ids.anna), String(ids.boris)]);
    const oleg = readCsvFile((await exporter.requestCsv({ requestId: 'profile', since: null, viewer: OLEG, locale: 'ru' })).bytes);
    expect(oleg.rows.map((r) => r['flow_id'])).toEqual([String(ids.carl)]);
    expect(oleg.rows.some((r) => r['client_name'] === 'Анна Петрова')).toBe(false);

    const later = await exporter.requestCsv({ requestId: 'profile', since: new Date(Date.now() + 86_400_000), viewer: null, locale: 'ru' });
    expect(later.rows).toBe(0);
    expect(readCsvFile(later.bytes).header[0]).toBe('request_id');
  });
});

describe('CSV cells', () => {
  it('a quote before cells that start with = + - @, a tab or a carriage return, and nothing else', () => {
    const risky = ['=1+1', '+7900', '-5', '@SUM(A1)', '\tx', '\rx'];
    const safe = ['', 'Анна', 'a=b', ' =1', '1-2', "'quoted"];
    const [row] = readCsvFile(
      toCsv([
        [...risky, ...safe],
        [...risky, ...safe],
      ]),
    ).rows;
    expect(Object.values(row ?? {})).toEqual([...risky.map((cell) => `'${cell}`), ...safe]);
  });

  it('line breaks, commas and quotes inside a cell stay inside it', () => {
    const cells = ['two\nlines', 'a lone\rreturn', 'crlf\r\ninside', 'a, b', 'say "hi"'];
    const bytes = toCsv([cells]);
    expect(readCsv(bytes.subarray(3).toString('utf8'))).toEqual([cells]);
  });
});
