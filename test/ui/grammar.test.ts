import { describe, expect, it } from 'vitest';
import { byGender, count, genderOf, plural } from '../../src/ui/grammar.js';

const attempts = { one: '# попытка', few: '# попытки', many: '# попыток' };

describe('plural', () => {
  it('picks the Russian form by CLDR rules', () => {
    const cases: [number, string][] = [
      [0, '0 попыток'],
      [1, '1 попытка'],
      [2, '2 попытки'],
      [3, '3 попытки'],
      [4, '4 попытки'],
      [5, '5 попыток'],
      [11, '11 попыток'],
      [12, '12 попыток'],
      [14, '14 попыток'],
      [21, '21 попытка'],
      [22, '22 попытки'],
      [25, '25 попыток'],
      [101, '101 попытка'],
      [111, '111 попыток'],
    ];
    for (const [n, text] of cases) expect(plural('ru', n, attempts)).toBe(text);
  });

  it('reads a fraction like "few" in Russian', () => {
    expect(plural('ru', 1.5, attempts)).toBe('1.5 попытки');
  });

  it('picks one or other in English', () => {
    const forms = { one: '# attempt', other: '# attempts' };
    expect([0, 1, 2, 5, 21].map((n) => plural('en', n, forms))).toEqual([
      '0 attempts',
      '1 attempt',
      '2 attempts',
      '5 attempts',
      '21 attempts',
    ]);
  });

  it('lets a whole phrase agree, not only the noun', () => {
    const left = { one: 'Осталась # попытка', few: 'Осталось # попытки', many: 'Осталось # попыток' };
    expect(plural('ru', 1, left)).toBe('Осталась 1 попытка');
    expect(plural('ru', 2, left)).toBe('Осталось 2 попытки');
  });

  it('takes counts from message parameters', () => {
    expect(count(3)).toBe(3);
    expect(count('21')).toBe(21);
    expect(Number.isNaN(count(undefined))).toBe(true);
  });
});

describe('gender', () => {
  const forms = { m: 'отправлен', f: 'отправлена', n: 'отправлено', pl: 'отправлены' };

  it('agrees with the title, or falls back when it has no gender', () => {
    expect(byGender('f', forms, '?')).toBe('отправлена');
    expect(byGender('pl', forms, '?')).toBe('отправлены');
    expect(byGender(undefined, forms, 'запрос отправлен')).toBe('запрос отправлен');
    expect(byGender('x', forms, 'запрос отправлен')).toBe('запрос отправлен');
  });

  it('reads a definition’s gender per locale, ignoring what it does not know', () => {
    expect(genderOf({ gender: { ru: 'n' } }, 'ru')).toBe('n');
    expect(genderOf({ gender: { ru: 'n' } }, 'en')).toBeUndefined();
    expect(genderOf({}, 'ru')).toBeUndefined();
  });
});
