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
import { samplePhoto } from '../helpers/telegram.js';
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

  - id: ordered
    title: { ru: По порядку, en: In order }
    confirm: true
    steps:
      - { id: alpha, type: text, label: { ru: Альфа, en: Alpha }, prompt: { ru: Альфа, en: Alpha } }
      - { id: beta, type: text, label: { ru: Бета, en: Beta }, prompt: { ru: Бета, en: Beta } }
      - { id: gamma, type: text, label: { ru: Гамма, en: Gamma }, prompt: { ru: Гамма, en: Gamma } }
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
    return h.operator.waitForMessage(new RegExp(`^History of ${client}`), { timeoutMs: 60_000 });
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

  /** A history of a dozen requests takes a while to lay out on a busy machine: a limit for a hang, not a speed. */
  const SLOW = { timeoutMs: 60_000 };

  /** The history's pages from the first on, turned with ▶️ (each one edits the message in place). */
  async function allPages(client: string): Promise<ChatMessage[]> {
    const pages = [await openHistory(client)];
    for (;;) {
      const last = pages.at(-1);
      const next =
        last?.replyMarkup && 'inline_keyboard' in last.replyMarkup
          ? last.replyMarkup.inline_keyboard.flat().find((b) => b.text === '▶️')
          : undefined;
      if (!last || !next) return pages;
      await h.operator.press('▶️', { messageId: last.messageId });
      pages.push(await h.operator.waitForMessage((m) => m.messageId === last.messageId, SLOW));
    }
  }

  it('pages a long history: every page within Telegram, every request on one, markup intact, newest first', async () => {
    await start();
    const anna = await h.client('Anna');
    // Twelve notes of three long answers of markup characters (as HTML five times as long as they read).
    for (let i = 0; i < 12; i++)
      await complete(
        anna,
        'note',
        ['first', 'second', 'third'].map((part) => text(`note ${i} ${part} ${'&<'.repeat(400)}`)),
      );
    await anna.waitFor((messages) => messages.filter((m) => /“Note” is done/.test(m.text ?? '')).length === 12, SLOW);

    const pages = await allPages('Anna');
    expect(pages.length).toBeGreaterThan(2);
    const texts = pages.map((p) => p.text ?? '');
    texts.forEach((page, i) => {
      expect(page.length).toBeLessThanOrEqual(4096);
      expect(page).toMatch(/^History of Anna\n/);
      // The client's last messages close the first page only.
      if (i === 0) expect(page.trimEnd()).toMatch(/Recent messages:\n[^]*Thank you! “Note” is done\.$/);
      else expect(page).not.toMatch(/Recent messages:/);
      const bold = (pages[i]?.entities ?? []).filter((e) => e.type === 'bold').map((e) => page.slice(e.offset, e.offset + e.length));
      expect(bold).toEqual(i === 0 ? ['History of Anna', 'Recent messages:'] : ['History of Anna']);
    });
    // Every request is on a page, whole (its three answers with it), the newest first.
    const all = texts.join('\n');
    const order = [...all.matchAll(/First: note (\d+) first/g)].map((m) => Number(m[1]));
    expect(order).toEqual([11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    for (let i = 0; i < 12; i++) {
      const page = texts.find((t) => t.includes(`First: note ${i} first`)) ?? '';
      expect(page).toMatch(new RegExp(`Third: note ${i} third &<&<`));
    }
    // The counter, and ◀️ back to the first page.
    const lastPage = pages.at(-1);
    const labels = (m: ChatMessage | undefined) =>
      m?.replyMarkup && 'inline_keyboard' in m.replyMarkup ? m.replyMarkup.inline_keyboard.flat().map((b) => b.text) : [];
    expect(labels(pages[0])).toEqual(expect.arrayContaining([`1 / ${pages.length}`, '▶️']));
    expect(labels(pages[0])).not.toContain('◀️');
    expect(labels(lastPage)).toEqual(expect.arrayContaining(['◀️', `${pages.length} / ${pages.length}`]));
    await h.operator.press('◀️', { messageId: lastPage?.messageId ?? 0 });
    const back = await h.operator.waitForMessage((m) => m.messageId === lastPage?.messageId, SLOW);
    expect(back.text).toBe(texts.at(-2));
    expect(h.emu.calls().filter((c) => c.chatId === h.operator.id && !c.ok)).toEqual([]);
  });

  it('shortens a long answer at a whole word, dates as dd.mm.yyyy hh:mm, answers in the order of the steps', async () => {
    await start();
    const anna = await h.client('Anna');
    const long = Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ');
    await complete(anna, 'note', [text(long), text('short'), text('x')]);

    // Answered alpha, beta, gamma, then alpha again from the summary: stored in another order than the steps'.
    const started = await h.app.flows.start({ operatorId: h.operator.id, clientId: anna.id, requestId: 'ordered' });
    if (!started.ok) throw new Error('not started');
    for (const value of ['first alpha', 'the beta', 'the gamma']) await h.app.flows.answer({ clientId: anna.id, answer: text(value) });
    await h.app.flows.editStep({ clientId: anna.id, step: 0 });
    await h.app.flows.answer({ clientId: anna.id, answer: text('second alpha') });
    await h.app.flows.confirm({ clientId: anna.id });
    const flow = await h.app.flows.flow(started.value.flow.id);
    expect(flow?.status).toBe('completed');

    const history = (await openHistory('Anna')).text ?? '';
    const lines = history.split('\n').map((line) => line.trim());
    // Whole words, then "…"; what is shown is the start of the answer.
    const first = lines.find((line) => line.startsWith('First: ')) ?? '';
    expect(first).toMatch(/^First: word0 word1 .* word\d+…$/);
    const shown = first.slice('First: '.length, -1);
    expect(long.startsWith(shown)).toBe(true);
    expect(long.charAt(shown.length)).toBe(' ');
    // Every request heading ends with its last change as dd.mm.yyyy hh:mm (UTC).
    const at = flow?.updatedAt.toISOString() ?? '';
    const stamp = `${at.slice(8, 10)}.${at.slice(5, 7)}.${at.slice(0, 4)} ${at.slice(11, 16)}`;
    expect(lines).toContain(`• In order — ✅ done · ${stamp}`);
    for (const heading of lines.filter((line) => line.startsWith('• '))) expect(heading).toMatch(/ · \d{2}\.\d{2}\.\d{4} \d{2}:\d{2}$/);
    // The catalogue's order, not the order the answers came in.
    const ordered = lines.filter((line) => /^(Alpha|Beta|Gamma): /.test(line));
    expect(ordered).toEqual(['Alpha: second alpha', 'Beta: the beta', 'Gamma: the gamma']);
  });

  it('a file answer has a button that sends the file to the operator again; refused once the data is erased', async () => {
    await start();
    const anna = await h.client('Anna');
    await h.app.flows.start({ operatorId: h.operator.id, clientId: anna.id, requestId: 'passport_photo' });
    await anna.waitForMessage(/passport/i);
    await anna.sendPhoto({ bytes: samplePhoto() });
    await h.operator.waitForMessage((m) => m.photo !== undefined);
    const [flow] = await h.app.flows.flowsOf(anna.id, 1);
    const [answer] = await h.app.flows.answersOf(flow?.id ?? 0);
    const value = answer?.value as StepValue | undefined;
    if (value?.kind !== 'file') throw new Error('no file answer');

    const history = await openHistory('Anna');
    const buttons =
      history.replyMarkup && 'inline_keyboard' in history.replyMarkup ? history.replyMarkup.inline_keyboard.flat().map((b) => b.text) : [];
    expect(buttons).toContain('📎 Passport');
    await h.operator.press('📎 Passport', { messageId: history.messageId });
    const again = await h.operator.waitForMessage((m) => m.photo !== undefined);
    expect(again.photo).toBe(value.fileId);

    const erased = await h.app.flows.forget({ clientId: anna.id, by: { kind: 'command_line' } });
    expect(erased.ok).toBe(true);
    const press = await h.operator.press('📎 Passport', { messageId: history.messageId });
    expect((await h.operator.waitForCallbackAnswer(press)).text).toBe('This file was erased and can no longer be sent.');
  });
});
