/**
 * The operator's history of a client: every kind of answer shown the way summaries show it, and the
 * whole message within Telegram's limit however long the answers were, with valid markup.
 */
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { StepValue, Answer } from '../../machines/steps.js';
import { formatValue } from '../../src/ui/format.js';
import { stepDef, text as localized } from '../fixtures/definitions.js';
import type { ChatMessage, EmulatedUser } from '../../src/playground/emulator/index.js';
import { ENGINES } from '../helpers/db.js';
import { openClientCard, startHarness, type Harness } from '../helpers/bot.js';

/** Request types added after the shipped ones: one step of every answer kind, and a long note. */
const EXTRA = `
  - id: everything
    title: { ru: Всё сразу, en: Everything }
    steps:
      - { id: name, type: text, label: { ru: Имя, en: Name }, prompt: { ru: Имя, en: Name } }
      - { id: born, type: date, label: { ru: Дата рождения, en: Born }, prompt: { ru: Дата, en: Date } }
      - { id: count, type: number, label: { ru: Сколько, en: Count }, prompt: { ru: Сколько, en: How many } }
      - { id: ratio, type: number, label: { ru: Доля, en: Ratio }, prompt: { ru: Доля, en: Ratio } }
      - id: time
        type: choice
        label: { ru: Время, en: Best time }
        prompt: { ru: Когда, en: When }
        options:
          - { id: morning, label: { ru: Утро, en: Morning } }
          - { id: evening, label: { ru: Вечер, en: Evening } }
      - { id: phone, type: phone, label: { ru: Телефон, en: Phone }, prompt: { ru: Телефон, en: Phone } }
      - { id: email, type: email, label: { ru: Почта, en: Mail }, prompt: { ru: Почта, en: Mail } }
      - { id: selfie, type: photo, label: { ru: Фото, en: Picture }, prompt: { ru: Фото, en: Picture } }
      - { id: contract, type: document, label: { ru: Договор, en: Contract }, prompt: { ru: Договор, en: Contract } }

  - id: note
    title: { ru: Заметка, en: Note }
    steps:
      - { id: first, type: text, max_length: 1000, label: { ru: Первая, en: First }, prompt: { ru: Первая, en: First } }
      - { id: second, type: text, max_length: 1000, label: { ru: Вторая, en: Second }, prompt: { ru: Вторая, en: Second } }
      - { id: third, type: text, max_length: 1000, label: { ru: Третья, en: Third }, prompt: { ru: Третья, en: Third } }
`;

const text = (value: string): Answer => ({ kind: 'text', text: value });

describe('an answer put into words', () => {
  const choice = stepDef({ id: 'time', type: 'choice', options: [{ id: 'evening', label: localized('Вечер', 'Evening') }] });
  const cases: [StepValue, string, string][] = [
    [{ kind: 'text', text: 'Anna' }, 'Anna', 'Anna'],
    [{ kind: 'date', date: '1990-12-31' }, '31.12.1990', '31.12.1990'],
    [{ kind: 'number', value: 42 }, '42', '42'],
    [{ kind: 'number', value: -2.5 }, '-2.5', '-2.5'],
    [{ kind: 'choice', optionId: 'evening' }, 'Evening', 'Вечер'],
    [{ kind: 'choice', optionId: 'gone' }, 'gone', 'gone'],
    [{ kind: 'phone', phone: '+79991234567' }, '+79991234567', '+79991234567'],
    [{ kind: 'email', email: 'anna@example.com' }, 'anna@example.com', 'anna@example.com'],
    [{ kind: 'file', media: 'photo', fileId: 'f', fileUniqueId: 'u' }, '📷 photo', '📷 фото'],
    [{ kind: 'file', media: 'document', fileId: 'f', fileUniqueId: 'u', fileName: 'a.pdf' }, '📄 a.pdf', '📄 a.pdf'],
    [{ kind: 'file', media: 'document', fileId: 'f', fileUniqueId: 'u' }, '📄 file', '📄 файл'],
  ];
  it.each(cases)('%j reads %s (ru: %s)', (value, en, ru) => {
    expect(formatValue(choice, value, 'en')).toBe(en);
    expect(formatValue(choice, value, 'ru')).toBe(ru);
  });

  it('a stored value of a kind this version does not know shows as its kind', () => {
    expect(formatValue(undefined, { kind: 'signature', data: 'x' } as unknown as StepValue, 'en')).toBe('[signature]');
  });
});

describe.each(ENGINES)("the operator's history on %s", (engine) => {
  let h: Harness;
  let dir: string;

  afterEach(async () => {
    await h.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function start(): Promise<void> {
    dir = await mkdtemp(path.join(tmpdir(), 'orb-history-'));
    const file = path.join(dir, 'catalogue.yaml');
    await copyFile('config/catalogue.yaml', file);
    await writeFile(file, `${(await readFile(file, 'utf8')).trimEnd()}\n${EXTRA}`);
    h = await startHarness(engine, { cataloguePath: file });
  }

  /** Sends a request and answers it through the flow service, as the client's messages would. */
  async function complete(client: EmulatedUser, requestId: string, answers: readonly Answer[]): Promise<void> {
    const started = await h.app.flows.start({ operatorId: h.operator.id, clientId: client.id, requestId });
    if (!started.ok) throw new Error(`not started: ${started.refusal.code}`);
    for (const answer of answers) {
      const result = await h.app.flows.answer({ clientId: client.id, answer });
      if (!result.ok || result.value.invalid) throw new Error(`answer to ${requestId} refused`);
    }
    expect((await h.app.flows.flow(started.value.flow.id))?.status).toBe('completed');
  }

  async function openHistory(client: string): Promise<ChatMessage> {
    await openClientCard(h.operator, client);
    await h.operator.press('🕘 History');
    return h.operator.waitForMessage(new RegExp(`^History of ${client}`));
  }

  it('shows every kind of answer as summaries do: text, date, number, choice, phone, e-mail, photo, document', async () => {
    await start();
    const anna = await h.client('Anna');
    await complete(anna, 'everything', [
      text('Anna <Petrova> & Co'),
      text('31.12.1990'),
      text('42'),
      text('2.5'),
      { kind: 'choice', optionId: 'evening' },
      text('+7 999 123-45-67'),
      text('anna@example.com'),
      { kind: 'photo', fileId: 'photo-1', fileUniqueId: 'uphoto-1', mimeType: 'image/jpeg', size: 50_000 },
      { kind: 'document', fileId: 'doc-1', fileUniqueId: 'udoc-1', mimeType: 'application/pdf', size: 50_000, fileName: 'contract.pdf' },
    ]);

    const history = (await openHistory('Anna')).text ?? '';
    const lines = history.split('\n').map((line) => line.trim());
    expect(lines).toEqual(
      expect.arrayContaining([
        'Name: Anna <Petrova> & Co',
        'Born: 31.12.1990',
        'Count: 42',
        'Ratio: 2.5',
        'Best time: Evening',
        'Phone: +79991234567',
        'Mail: anna@example.com',
        'Picture: 📷 photo',
        'Contract: 📄 contract.pdf',
      ]),
    );
  });

  it('fits Telegram however long the answers: the newest requests whole, the rest counted, markup intact', async () => {
    await start();
    const anna = await h.client('Anna');
    // Ten notes of three long answers of markup characters (as HTML five times as long as they read):
    // more than one message holds.
    for (let i = 0; i < 10; i++)
      await complete(
        anna,
        'note',
        ['first', 'second', 'third'].map((part) => text(`note ${i} ${part} ${'&<'.repeat(400)}`)),
      );
    await anna.waitFor((messages) => messages.filter((m) => /“Note” is done/.test(m.text ?? '')).length === 10);

    const message = await openHistory('Anna');
    const history = message.text ?? '';
    expect(history.length).toBeLessThanOrEqual(4096);
    expect(history).toMatch(/First: note 9 first &<&</);
    expect(history).toMatch(/Third: note 9 third &<&</);
    expect(history).toMatch(/… \d+ earlier requests? not shown/);
    expect(history).toMatch(/Recent messages:\n/);
    expect(history.trimEnd()).toMatch(/Thank you! “Note” is done\.$/);
    // Telegram (the emulator) took the markup: both headings bold, and no call refused.
    const bold = (message.entities ?? []).filter((e) => e.type === 'bold').map((e) => history.slice(e.offset, e.offset + e.length));
    expect(bold).toEqual(['History of Anna', 'Recent messages:']);
    expect(h.emu.calls().filter((c) => c.chatId === h.operator.id && !c.ok)).toEqual([]);
  });
});
