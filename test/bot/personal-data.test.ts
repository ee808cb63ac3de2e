import { afterEach, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/db.js';
import { sendRequest, startHarness, type Harness } from '../helpers/bot.js';

describe.each(ENGINES)('personal data conversation on %s', (engine) => {
  let h: Harness;
  afterEach(() => h.close());

  it('answers, a date that does not exist, a summary, an edit, confirm, review, accepted', async () => {
    h = await startHarness(engine);
    const operator = h.operator;
    const client = await h.client('Boris');

    expect(await sendRequest(operator, 'Boris', 'Personal data')).toMatch(/“Personal data” sent to Boris/);
    await operator.waitForMessage(/“Personal data” was sent to Boris/);

    await client.waitForMessage(/Personal data · step 1 of 3/);
    await client.send('Boris Ivanov');
    await client.waitForMessage(/step 2 of 3[\s\S]*Which city/);
    await client.send('Kazan');
    await client.waitForMessage(/step 3 of 3[\s\S]*birth date/);
    await client.send('31.02.1990');
    await client.waitForMessage(/31\.02\.1990 is not a real date/);
    await client.send('14.07.1990');

    const summary = await client.waitForMessage(/Personal data: please check your answers/);
    expect(summary.text).toContain('Full name: Boris Ivanov');
    expect(summary.text).toContain('City: Kazan');
    expect(summary.text).toContain('Birth date: 14.07.1990');

    await client.press('✏️ City');
    const edit = await client.waitForMessage(/Which city[\s\S]*Previous answer: Kazan/);
    expect(edit.text).toMatch(/^Personal data · City\n/);
    await client.send('Samara');
    const second = await client.waitForMessage(/please check your answers[\s\S]*City: Samara/);
    expect(second.text).toContain('City: Samara');
    expect(second.text).toContain('Full name: Boris Ivanov');
    await client.press('✅ Confirm');
    await client.waitForMessage(/sent to the operator/);

    const card = await operator.waitForMessage(/📥 Personal data from Boris \(round 1\)/);
    expect(card.text).toContain('City: Samara');
    expect(card.text).toContain('Birth date: 14.07.1990');
    await operator.press('✅ Accept');
    await operator.waitForMessage(/Accepted by Olga/);
    await client.waitForMessage(/accepted “Personal data”. All done/);

    const [flow] = await h.app.flows.flowsOf(client.id);
    expect(flow?.status).toBe('completed');
    const answers = await h.app.flows.answersOf(flow?.id ?? 0);
    expect(answers.filter((a) => a.status === 'accepted').map((a) => [a.stepId, a.value])).toEqual([
      ['full_name', { kind: 'text', text: 'Boris Ivanov' }],
      ['birth_date', { kind: 'date', date: '1990-07-14' }],
      ['city', { kind: 'text', text: 'Samara' }],
    ]);
    // The pressed summary buttons were removed, so they cannot be pressed twice.
    expect(client.messages().filter((m) => m.replyMarkup !== undefined && /check your answers/.test(m.text ?? ''))).toEqual([]);
  });

  it('a client whose Telegram is in Russian gets Russian prompts', async () => {
    h = await startHarness(engine);
    const operator = h.operator;
    const client = await h.client('Dmitry', 'ru');
    await sendRequest(operator, 'Dmitry', 'Personal data');
    await client.waitForMessage(/Личные данные · шаг 1 из 3[\s\S]*фамилию, имя и отчество/);
    await client.send('31.02.1990x');
    await client.waitForMessage(/Только буквы, пробелы, дефисы и апострофы/);
  });
});
