/**
 * A flow keeps the definition it started with. One frozen before a locale existed (texts in `ru` only)
 * and before definitions had a format (no `format` field) still works for people of that locale: every
 * text falls back to the default locale, then to any text there is.
 */
import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFINITION_FORMAT, pickText, readStoredDefinition, storedDefinition, type RequestDefinition } from '../../machines/definition.js';
import { flows } from '../../src/db/schema.js';
import { ENGINES } from '../helpers/db.js';
import { openClientCard, sendRequest, startHarness, type Harness } from '../helpers/bot.js';
import { passportPhoto } from '../fixtures/definitions.js';

/** The definition as an older version stored it: every text in Russian only, and no format. */
function asStoredLongAgo(definition: unknown): unknown {
  const strip = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(strip);
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value);
    if (entries.length === 2 && typeof (value as { ru?: unknown }).ru === 'string' && typeof (value as { en?: unknown }).en === 'string') {
      return { ru: (value as { ru: string }).ru };
    }
    return Object.fromEntries(entries.filter(([key]) => key !== 'format').map(([key, v]) => [key, strip(v)]));
  };
  return strip(definition);
}

describe('texts of a frozen definition', () => {
  it('fall back to the default locale, then to any text', () => {
    const ruOnly = { ru: 'Фото' } as unknown as RequestDefinition['title'];
    expect(pickText(ruOnly, 'en')).toBe('Фото');
    expect(pickText(ruOnly, 'en', 'ru')).toBe('Фото');
    expect(pickText({ ru: 'Фото', en: 'Photo' }, 'en', 'ru')).toBe('Photo');
    expect(pickText({ ru: '', en: 'Photo' }, 'ru', 'ru')).toBe('Photo');
    expect(pickText({ de: 'Foto' }, 'en', 'ru')).toBe('Foto');
    expect(pickText(undefined, 'en')).toBe('');
  });

  it('carry a format: written as the current one, a missing one read as format 0 and migrated', () => {
    const stored = storedDefinition(passportPhoto);
    expect(stored.format).toBe(DEFINITION_FORMAT);
    expect(readStoredDefinition(stored)).toEqual(stored);

    const old = asStoredLongAgo(stored) as RequestDefinition;
    expect(old.format).toBeUndefined();
    const read = readStoredDefinition(old);
    expect(read.format).toBe(DEFINITION_FORMAT);
    expect(read).toEqual({ ...old, format: DEFINITION_FORMAT });
    // A format from a newer version is taken as it is.
    const newer = { ...stored, format: DEFINITION_FORMAT + 1 };
    expect(readStoredDefinition(newer)).toBe(newer);
  });
});

describe.each(ENGINES)('a flow frozen before English existed on %s', (engine) => {
  let h: Harness;
  afterEach(() => h.close());

  it('is prompted, summarised, reviewed, started from the queue and listed for English speakers in its Russian texts', async () => {
    h = await startHarness(engine);
    const operator = h.operator;
    const anna = await h.client('Anna');
    const { db } = h.db.current();

    await sendRequest(operator, 'Anna', 'Personal data');
    await anna.waitForMessage(/Personal data · step 1 of 3/);
    expect(await sendRequest(operator, 'Anna', 'Passport photo')).toBe('“Passport photo” queued for Anna (position 1).');

    // New flows store their definition with the current format.
    const rows = await db.select().from(flows).where(eq(flows.clientId, anna.id));
    expect(rows.map((r) => (r.definition as RequestDefinition).format)).toEqual([DEFINITION_FORMAT, DEFINITION_FORMAT]);
    // Turn both into what an older version stored.
    for (const row of rows)
      await db
        .update(flows)
        .set({ definition: asStoredLongAgo(row.definition) })
        .where(eq(flows.id, row.id));
    const [stored] = await db
      .select()
      .from(flows)
      .where(eq(flows.id, rows[0]?.id ?? 0));
    expect(stored?.definition).not.toHaveProperty('format');
    expect(JSON.stringify(stored?.definition)).not.toMatch(/Personal data|Full name/);

    // The client: prompts and the summary.
    await anna.send('Anna Petrova');
    await anna.waitForMessage(/Личные данные · step 2 of 3\n\nВ каком городе вы живёте\?/);
    await anna.send('Moscow');
    await anna.waitForMessage(/Личные данные · step 3 of 3\n\nДата рождения \(ДД\.ММ\.ГГГГ\)/);
    await anna.send('31.12.1990');
    const summary = await anna.waitForMessage(/Личные данные: please check your answers/);
    expect(summary.text).toContain('ФИО: Anna Petrova\nГород: Moscow\nДата рождения: 31.12.1990');

    // The operator's client card lists both in Russian.
    await openClientCard(operator, 'Anna');
    expect(operator.lastMessage()?.text).toMatch(/Now: Личные данные — 👀 confirming[\s\S]*Queued: Фото паспорта/);

    // The review card, and the queued request starting when the first is accepted.
    await anna.press('✅ Confirm');
    const card = await operator.waitForMessage(/📥 Личные данные from Anna \(round 1\)/);
    expect(card.text).toContain('ФИО: Anna Petrova');
    await operator.press('✅ Accept', { messageId: card.messageId });
    await operator.waitForMessage(/“Фото паспорта” was sent to Anna\./);
    await anna.waitForMessage(/Фото паспорта · step 1 of 1\n\nПришлите, пожалуйста, фото главного разворота паспорта/);

    // The client blocks the bot: the operator is told, in the request's only language.
    await anna.blockBot();
    await operator.waitForMessage(/Anna has blocked the bot, so “Фото паспорта” cannot go on/);

    // The history.
    await openClientCard(operator, 'Anna');
    await operator.press('🕘 History');
    const history = await operator.waitForMessage(/^History of Anna/);
    expect(history.text).toMatch(/• Фото паспорта — ✍️ answering/);
    expect(history.text).toMatch(
      /• Личные данные — ✅ done[^\n]*\n {3}ФИО: Anna Petrova\n {3}Город: Moscow\n {3}Дата рождения: 31\.12\.1990/,
    );
  });
});
