import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/bot.js';

describe('commands shown in Telegram', () => {
  let h: Harness;
  afterEach(() => h.close());

  it('registers client commands per locale and staff commands per staff chat and locale', async () => {
    h = await startHarness('pglite');
    const telegram = h.app.bot.telegram;
    expect((await telegram.getMyCommands({ language_code: 'ru' })).map((c) => c.description)).toEqual([
      'Начать',
      'Что сейчас нужно сделать',
      'Язык / Language',
    ]);
    expect((await telegram.getMyCommands()).map((c) => c.command)).toEqual(['start', 'help', 'language']);
    const operatorRu = await telegram.getMyCommands({ scope: { type: 'chat', chat_id: h.operator.id }, language_code: 'ru' });
    expect(operatorRu).toEqual([
      { command: 'menu', description: 'Меню оператора' },
      { command: 'help', description: 'Что сейчас нужно сделать' },
      { command: 'export', description: 'Выгрузка ответов (CSV)' },
      { command: 'language', description: 'Язык / Language' },
    ]);
    const admin = await telegram.getMyCommands({ scope: { type: 'chat', chat_id: h.admin.id }, language_code: 'en' });
    expect(admin.map((c) => c.command)).toEqual(['menu', 'help', 'export', 'language', 'operators', 'failed', 'deliveries']);
  });
});
