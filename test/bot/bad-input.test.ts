import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { outbox } from '../../src/db/schema.js';
import type { EmulatedUser } from '../../src/playground/emulator/index.js';
import { ENGINES } from '../helpers/db.js';
import { sendRequest, startHarness, type Harness } from '../helpers/bot.js';
import { samplePhoto } from '../helpers/telegram.js';

/** What the bot sent this person, as text (captions included). */
const textsOf = (user: EmulatedUser) => user.messages().map((m) => m.text ?? m.caption ?? '');

describe.each(ENGINES)('answers that are too long, albums and other people’s contacts on %s', (engine) => {
  let h: Harness;
  afterEach(() => h.close());

  /** Nothing the bot queued was refused by Telegram (a text over 4,096 characters is a permanent 400). */
  async function expectAllDelivered(): Promise<void> {
    const rows = await h.app.database.db.select().from(outbox).where(eq(outbox.status, 'failed'));
    expect(rows.map((r) => r.lastError)).toEqual([]);
  }

  it('a 5,000-character answer at a date step, three times: short excerpts, every message delivered, parked for the operator', async () => {
    h = await startHarness(engine);
    const operator = h.operator;
    const client = await h.client('Anna');
    await sendRequest(operator, 'Anna', 'Personal data');
    await client.waitForMessage(/step 1 of 3/);
    await client.send('Anna Petrova');
    await client.waitForMessage(/step 2 of 3/);
    await client.send('Kazan');
    await client.waitForMessage(/step 3 of 3/);

    const long = `${'1'.repeat(4990)}<b>&amp;`;
    const excerpt = `“${'1'.repeat(49)}…” is not a date`;
    await client.send(long);
    const first = await client.waitForMessage(/is not a date/);
    expect(first.text).toBe(`❗ ${excerpt}. Please write it as DD.MM.YYYY, for example 31.12.1990.\nAttempts left: 2.`);
    await client.send(long);
    await client.waitForMessage(/is not a date[\s\S]*Attempts left: 1\./);
    await client.send(long);
    await client.waitForMessage(/Too many attempts/);

    const alert = await operator.waitForMessage(/Anna could not answer “Birth date” of “Personal data” after 3 attempts/);
    expect(alert.text).toContain(`last problem: ${excerpt}`);
    expect(alert.text?.length).toBeLessThan(500);
    const [flow] = await h.app.flows.flowsOf(client.id);
    expect(flow?.status).toBe('needs_operator');
    for (const text of [...textsOf(client), ...textsOf(operator)]) expect(text.length).toBeLessThanOrEqual(4096);
    await expectAllDelivered();
  });

  it('a message with no request too long to go under a header reaches the operator whole: the header, then a copy', async () => {
    h = await startHarness(engine);
    const client = await h.client('Anna');
    const text = `Hello! ${'a long question '.repeat(300)}`;
    await client.send(text);
    await client.waitForMessage(/Passed on to your operator/);
    const header = await h.operator.waitForMessage(/^💬 Anna · no open request$/);
    expect(header.replyMarkup).toBeUndefined();
    const copy = await h.operator.waitForMessage(/^Hello! a long question/);
    expect(copy.text).toBe(text);
    expect(JSON.stringify(copy.replyMarkup)).toContain('↩️ Reply');
  });

  it('an album of 3 photos for a one-photo step: the first is taken, the client is told once, no thanks for the others', async () => {
    h = await startHarness(engine);
    const operator = h.operator;
    const client = await h.client('Anna');
    await sendRequest(operator, 'Anna', 'Passport photo');
    await client.waitForMessage(/Passport photo · step 1 of 1/);

    const album = await client.sendAlbum([
      { type: 'photo', bytes: samplePhoto({ rgb: [200, 0, 0] }) },
      { type: 'photo', bytes: samplePhoto({ rgb: [0, 200, 0] }) },
      { type: 'photo', bytes: samplePhoto({ rgb: [0, 0, 200] }) },
    ]);
    await client.waitForMessage('We kept the first photo of your album; the others were not used. Please send one file per step.');
    await client.waitForMessage(/sent to the operator/);
    await operator.waitForMessage(/📥 Passport photo from Anna/);
    // Updates of a chat are applied in order: once this is answered, the album's other items were handled.
    // (A message while the request is in review goes to the operator.)
    await client.sendSticker();
    await client.waitForMessage(/Passed on to your operator/);

    expect(textsOf(client).slice(2)).toEqual([
      'We kept the first photo of your album; the others were not used. Please send one file per step.',
      'Thank you! Your answers were sent to the operator. We will write if anything else is needed.',
      '✉️ Passed on to your operator; the answer will come here.',
    ]);
    const [flow] = await h.app.flows.flowsOf(client.id);
    const answers = await h.app.flows.answersOf(flow?.id ?? 0);
    expect(answers.map((a) => [a.stepId, a.fileId])).toEqual([['passport', album[0]?.photo]]);
    // The operator got the one photo and one card.
    expect(
      operator
        .messages()
        .filter((m) => m.photo !== undefined)
        .map((m) => m.photo),
    ).toEqual([album[0]?.photo]);
    expect(operator.messages().filter((m) => /📥 Passport photo from Anna/.test(m.text ?? ''))).toHaveLength(1);

    await operator.press('✅ Accept');
    await client.waitForMessage(/accepted “Passport photo”/);
    await expectAllDelivered();
  });

  it('an album of 3 PDFs for a one-file step: the others are neither answers nor attempts at the next (date) step', async () => {
    h = await startHarness(engine);
    const operator = h.operator;
    const client = await h.client('Boris', 'ru');
    await sendRequest(operator, 'Boris', 'Signed contract');
    await client.waitForMessage(/Подписанный договор · шаг 1 из 2/);

    const album = await client.sendAlbum(
      [1, 2, 3].map((n) => ({
        type: 'document' as const,
        bytes: Buffer.from(`%PDF-1.4 page ${n}`),
        fileName: `contract-${n}.pdf`,
        mimeType: 'application/pdf',
      })),
    );
    await client.waitForMessage(
      'Из альбома мы взяли только первый файл, остальные не учтены. Присылайте, пожалуйста, по одному файлу на каждый шаг.',
    );
    await client.waitForMessage(/шаг 2 из 2[\s\S]*Дата подписания/);
    await client.send('01.02.2024');
    await client.waitForMessage(/Ответы отправлены оператору/);

    // No refusal ("answer with a text message") and no attempt spent on the date step.
    expect(textsOf(client).slice(2)).toEqual([
      'Из альбома мы взяли только первый файл, остальные не учтены. Присылайте, пожалуйста, по одному файлу на каждый шаг.',
      expect.stringMatching(/^Подписанный договор · шаг 2 из 2/),
      'Спасибо! Ответы отправлены оператору. Мы напишем, если понадобится что-то ещё.',
    ]);
    const [flow] = await h.app.flows.flowsOf(client.id);
    const answers = await h.app.flows.answersOf(flow?.id ?? 0);
    expect(answers.map((a) => [a.stepId, a.fileId ?? a.value])).toEqual([
      ['contract', album[0]?.document],
      ['signed_on', { kind: 'date', date: '2024-02-01' }],
    ]);
    const card = await operator.waitForMessage(/📥 Signed contract from Boris/);
    expect(card.text).toContain('Contract: 📄 contract-1.pdf');
    await expectAllDelivered();
  });

  it('someone else’s shared contact is not the client’s phone; their own contact is', async () => {
    h = await startHarness(engine);
    const operator = h.operator;
    const client = await h.client('Anna');
    await sendRequest(operator, 'Anna', 'Contact details');
    await client.waitForMessage(/Contact details · step 1 of 3/);

    await client.sendContact({ phoneNumber: '+44 20 7946 0958', firstName: 'Boris', userId: client.id + 1000 });
    const refusal = await client.waitForMessage(/someone else’s contact/);
    expect(refusal.text).toBe(
      '❗ This is someone else’s contact. We need your own number: tap “📱 Share my number” or type it.\nAttempts left: 2.',
    );
    // The button is offered again.
    await client.pressReplyButton('📱 Share my number');
    await client.waitForMessage(/step 2 of 3[\s\S]*e-mail/);

    const [flow] = await h.app.flows.flowsOf(client.id);
    const answers = await h.app.flows.answersOf(flow?.id ?? 0);
    expect(answers.map((a) => [a.stepId, a.value])).toEqual([['phone', { kind: 'phone', phone: `+1555${String(client.id).slice(-7)}` }]]);
  });

  it('in Russian: someone else’s contact refused, a typed number taken', async () => {
    h = await startHarness(engine);
    const operator = h.operator;
    const client = await h.client('Dmitry', 'ru');
    await sendRequest(operator, 'Dmitry', 'Contact details');
    await client.waitForMessage(/Контактные данные · шаг 1 из 3/);

    await client.sendContact({ phoneNumber: '79990001122', firstName: 'Мама', userId: client.id + 1000 });
    await client.waitForMessage(
      '❗ Это чужой контакт. Нужен ваш собственный номер: нажмите «📱 Поделиться номером» или напишите его.\nОсталось 2 попытки.',
    );
    await client.send('+7 900 123-45-67');
    await client.waitForMessage(/шаг 2 из 3/);
    await vi.waitFor(async () => {
      const [flow] = await h.app.flows.flowsOf(client.id);
      const answers = await h.app.flows.answersOf(flow?.id ?? 0);
      expect(answers.map((a) => a.value)).toEqual([{ kind: 'phone', phone: '+79001234567' }]);
    });
  });
});
