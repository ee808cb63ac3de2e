import { afterEach, describe, expect, it } from 'vitest';
import { ENGINES } from '../helpers/db.js';
import { sendRequest, startHarness, type Harness } from '../helpers/bot.js';
import { samplePhoto } from '../helpers/telegram.js';

describe.each(ENGINES)('/language on %s', (engine) => {
  let h: Harness;
  afterEach(() => h.close());

  it('a client picks Russian: remembered across a restart, used for outbox texts, presets in each one’s language', async () => {
    h = await startHarness(engine);
    const operator = h.operator;
    const client = await h.client('Anna', 'en');

    await client.send('/language');
    const pick = await client.waitForMessage(/Which language should I write to you in/);
    expect(pick.replyMarkup).toBeDefined();
    await client.press('Русский');
    await client.waitForMessage(/теперь я пишу вам по-русски/);

    await h.restart();
    await client.send('/help');
    await client.waitForMessage(/Сменить язык: \/language/);

    // The operator (English) sends a request: the prompt, an outbox text, reaches the client in Russian.
    expect(await sendRequest(operator, 'Anna', 'Passport photo')).toBe('“Passport photo” sent to Anna.');
    await client.waitForMessage(/Фото паспорта · шаг 1 из 1/);
    await client.sendPhoto({ bytes: samplePhoto() });
    await client.waitForMessage(/Ответы отправлены оператору/);

    // A preset reason: the operator's card says it in English, the client reads it in Russian.
    await operator.waitForMessage(/📥 Passport photo from Anna/);
    await operator.press(/Ask again/);
    // One step: straight to the reasons, in the operator's language.
    await operator.waitForMessage(/Pick a reason or type one/);
    await operator.press('The photo is blurry');
    await operator.waitForMessage(/Asked again: The photo is blurry/);
    await client.waitForMessage(/Оператор просит прислать ещё раз: Фото размыто/);
  });

  it('an operator picks Russian: menus and outbox cards follow it, the client stays English; a typed reason is shown as typed', async () => {
    h = await startHarness(engine);
    const operator = h.operator;
    const client = await h.client('Boris', 'en');

    await operator.send('/language');
    await operator.waitForMessage(/Which language should I write to you in/);
    await operator.press('Русский');
    await operator.waitForMessage(/теперь я пишу вам по-русски/);
    await operator.send('/menu');
    await operator.waitForMessage(/Меню оператора/);

    // The title's gender: «Фото паспорта» is neuter.
    await operator.press(/Клиенты/);
    await operator.waitForMessage(/Клиенты \(1\)/);
    await operator.press(/^Boris/);
    await operator.waitForMessage(/👤 Boris/);
    const query = await operator.press('Фото паспорта');
    expect((await operator.waitForCallbackAnswer(query)).text).toBe('«Фото паспорта» отправлено клиенту Boris.');

    await client.waitForMessage(/Passport photo · step 1 of 1/);
    await client.sendPhoto({ bytes: samplePhoto() });
    await client.waitForMessage(/sent to the operator/);
    await operator.waitForMessage(/📥 Фото паспорта от Boris/);
    await operator.press(/Запросить снова/);
    await operator.waitForMessage(/Выберите причину или напишите свою/);
    await operator.press(/Написать причину/);
    await operator.waitForMessage(/Напишите причину/);
    await operator.send('Нужен разворот целиком');
    await operator.waitForMessage(/Запрошено снова: Нужен разворот целиком/);
    await client.waitForMessage(/send this again: Нужен разворот целиком/);

    // Back to English.
    await operator.send('/language');
    await operator.waitForMessage(/На каком языке вам писать/);
    await operator.press('English');
    await operator.waitForMessage(/from now on I write to you in English/);
  });
});
