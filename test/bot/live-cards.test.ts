/**
 * Cards that are always current: an open client card is redrawn when its request changes, shows only the
 * controls that apply now, and a press on an older card is applied only when it still makes sense.
 * Review that fits the request: reasons from the catalogue, no step picker for one step, Back, files.
 */
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pack } from '../../src/ui/callback-data.js';
import type { ChatMessage, EmulatedUser } from '../../src/playground/emulator/index.js';
import { ENGINES } from '../helpers/db.js';
import { openClientCard, sendRequest, startHarness, type Harness } from '../helpers/bot.js';
import { samplePhoto } from '../helpers/telegram.js';

function buttonsOf(message: ChatMessage | undefined): string[] {
  const markup = message?.replyMarkup;
  return (markup && 'inline_keyboard' in markup ? markup.inline_keyboard : []).flat().map((b) => b.text);
}

/** The newest client card of `name` in the operator's chat. */
function latestCard(operator: EmulatedUser, name: string): ChatMessage {
  const card = operator
    .messages()
    .filter((m) => (m.text ?? '').startsWith(`👤 ${name}`))
    .at(-1);
  if (!card) throw new Error(`no card of ${name}`);
  return card;
}

describe.each(ENGINES)('always-current cards on %s', (engine) => {
  let h: Harness;
  let dir: string | undefined;
  afterEach(async () => {
    await h.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('the card follows the request into review; older cards refuse retry and resend with what changed; cancel applies', async () => {
    h = await startHarness(engine);
    const operator = h.operator;
    const client = await h.client('Anna', 'ru');

    await sendRequest(operator, 'Anna', 'Passport photo');
    const first = latestCard(operator, 'Anna');
    const flowId = (await h.app.flows.flowsOf(client.id))[0]?.id ?? 0;
    // Two more copies: every open copy is kept current.
    await openClientCard(operator, 'Anna');
    const second = latestCard(operator, 'Anna');
    await openClientCard(operator, 'Anna');
    const newest = latestCard(operator, 'Anna');
    expect(buttonsOf(newest).slice(0, 4)).toEqual(['🔄 Resend prompt', '🔂 Retry step', '⏮ Reset', '✖️ Cancel']);
    const version = (await h.app.flows.flow(flowId))?.version ?? 0;

    await client.waitForMessage(/шаг 1 из 1/);
    await client.sendPhoto({ bytes: samplePhoto() });
    // The photo itself comes with the review card.
    const photo = await operator.waitForMessage((m) => m.photo !== undefined);
    expect(photo.caption).toMatch(/Anna · Passport photo · Passport/);
    await operator.waitForMessage(/📥 Passport photo from Anna \(round 1\)/);

    const redrawn = await operator.waitForMessage((m) => m.messageId === newest.messageId && /📥 to review/.test(m.text ?? ''));
    expect(buttonsOf(redrawn)).not.toContain('🔂 Retry step');
    expect(buttonsOf(redrawn)).not.toContain('🔄 Resend prompt');
    expect(buttonsOf(redrawn)).toEqual(expect.arrayContaining(['📥 Review card', '⏮ Reset', '✖️ Cancel']));

    for (const copy of [first, second])
      await operator.waitFor((messages) => messages.find((m) => m.messageId === copy.messageId && /📥 to review/.test(m.text ?? '')));

    // Retry from a card made before the review (its button as it was): nothing happens to the request, the card is redrawn, the toast names the change.
    let query = await operator.pressData(pack({ kind: 'retry', flow: flowId, version }), first.messageId);
    expect((await operator.waitForCallbackAnswer(query)).text).toBe('This request has changed: it is now awaiting review.');
    expect(buttonsOf(operator.messages().find((m) => m.messageId === first.messageId))).not.toContain('🔂 Retry step');

    // Resend on an older card does not send the review card to the operator as a "prompt".
    const cards = () => operator.messages().filter((m) => /📥 Passport photo from Anna/.test(m.text ?? '')).length;
    query = await operator.pressData(pack({ kind: 'resend', flow: flowId, version }), second.messageId);
    expect((await operator.waitForCallbackAnswer(query)).text).toBe('This request has changed: it is now awaiting review.');
    expect(cards()).toBe(1);
    const events = (await h.app.flows.eventsOf(flowId)).map((e) => e.event);
    expect(events).toEqual(['START', 'ANSWER']);

    // Cancel on a card made before the review applies, after a confirmation; the client is told why, in Russian.
    await operator.pressData(pack({ kind: 'cancel', flow: flowId, version }), second.messageId);
    await operator.waitForMessage((m) => m.messageId === second.messageId && /Cancel “Passport photo” for Anna\?/.test(m.text ?? ''));
    query = await operator.press('It is no longer needed', { messageId: second.messageId });
    expect((await operator.waitForCallbackAnswer(query)).text).toBe('Cancelled; the client is told.');
    await client.waitForMessage(/Запрос «Фото паспорта» отменён[\s\S]*Причина: Больше не нужно/);
    await operator.waitForMessage((m) => m.messageId === newest.messageId && /No active request/.test(m.text ?? ''));
    // The review card closes too.
    await operator.waitFor((messages) => messages.find((m) => /📥 Passport photo from Anna[\s\S]*✖️ Cancelled/.test(m.text ?? '')));
    // Each card was redrawn in place, none sent anew.
    expect(operator.messages().filter((m) => /👤 Anna/.test(m.text ?? ''))).toHaveLength(3);
    const cancel = (await h.app.flows.eventsOf(flowId)).find((e) => e.event === 'CANCEL');
    expect(cancel?.payload).toEqual({ reason: 'Больше не нужно' });
  });

  it('a typed reset reason reaches the client as typed; Back leaves the request as it is', async () => {
    h = await startHarness(engine);
    const operator = h.operator;
    const client = await h.client('Anna');
    await sendRequest(operator, 'Anna', 'Personal data');
    await client.waitForMessage(/step 1 of 3/);
    const card = await operator.waitForMessage((m) => /👤 Anna/.test(m.text ?? '') && buttonsOf(m).includes('⏮ Reset'));

    await operator.press('⏮ Reset', { messageId: card.messageId });
    await operator.waitForMessage((m) => m.messageId === card.messageId && /Start “Personal data” over/.test(m.text ?? ''));
    const query = await operator.press('◀️ Back', { messageId: card.messageId });
    expect((await operator.waitForCallbackAnswer(query)).text).toBe('Nothing was changed.');
    await operator.waitForMessage((m) => m.messageId === card.messageId && /👤 Anna/.test(m.text ?? ''));

    await operator.press('⏮ Reset', { messageId: card.messageId });
    await operator.waitForMessage((m) => m.messageId === card.messageId && /Start “Personal data” over/.test(m.text ?? ''));
    await operator.press('✍️ Type a reason', { messageId: card.messageId });
    await operator.waitForMessage(/Type the reason the client will see/);
    await operator.send('Your passport number changed');
    await operator.waitForMessage(/Started over; the client is told/);
    await client.waitForMessage(/started “Personal data” over[\s\S]*Reason: Your passport number changed/);
    const flowId = (await h.app.flows.flowsOf(client.id))[0]?.id ?? 0;
    expect((await h.app.flows.eventsOf(flowId)).map((e) => e.event)).toEqual(['START', 'RESET']);
  });

  it('ask-again reasons come from the catalogue (per request, else per step type); the picker has Back', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'orb-live-cards-'));
    const file = path.join(dir, 'catalogue.yaml');
    await copyFile('config/catalogue.yaml', file);
    const yaml = await readFile(file, 'utf8');
    // Personal data gets its own reasons; the passport photo keeps the photo defaults.
    await writeFile(
      file,
      yaml.replace(
        '    confirm: true\n    review: true\n',
        '    confirm: true\n    review: true\n    reasons:\n      - { en: The name does not match the passport, ru: ФИО не совпадает с паспортом }\n',
      ),
    );
    h = await startHarness(engine, { cataloguePath: file });
    const operator = h.operator;
    const client = await h.client('Anna');

    await sendRequest(operator, 'Anna', 'Personal data');
    await client.waitForMessage(/step 1 of 3/);
    await client.send('Anna Smirnova');
    await client.waitForMessage(/step 2 of 3/);
    await client.send('Tula');
    await client.waitForMessage(/step 3 of 3/);
    await client.send('14.07.1990');
    await client.waitForMessage(/please check your answers/);
    await client.press('✅ Confirm');
    const card = await operator.waitForMessage(/📥 Personal data from Anna \(round 1\)/);

    await operator.press('🔁 Ask again', { messageId: card.messageId });
    const picker = await operator.waitForMessage((m) => m.messageId === card.messageId && /Which steps/.test(m.text ?? ''));
    expect(buttonsOf(picker)).toEqual(expect.arrayContaining(['☐ Full name', '☐ City', '☐ Birth date', '◀️ Back', 'Next ▶️']));
    await operator.press('◀️ Back', { messageId: card.messageId });
    const back = await operator.waitForMessage((m) => m.messageId === card.messageId && buttonsOf(m).includes('✅ Accept'));
    expect(back.text).toMatch(/📥 Personal data from Anna \(round 1\)/);

    await operator.press('🔁 Ask again', { messageId: card.messageId });
    await operator.waitForMessage((m) => m.messageId === card.messageId && /Which steps/.test(m.text ?? ''));
    await operator.press('☐ City', { messageId: card.messageId });
    await operator.waitForMessage((m) => m.messageId === card.messageId && buttonsOf(m).includes('☑ City'));
    await operator.press('Next ▶️', { messageId: card.messageId });
    const reasons = await operator.waitForMessage((m) => m.messageId === card.messageId && /Send back: City/.test(m.text ?? ''));
    expect(buttonsOf(reasons)).toEqual(['The name does not match the passport', '✍️ Type a reason', '◀️ Back']);
    expect(buttonsOf(reasons)).not.toContain('The photo is blurry');
    await operator.press('◀️ Back', { messageId: card.messageId });
    await operator.waitForMessage((m) => m.messageId === card.messageId && buttonsOf(m).includes('☑ City'));
    await operator.press('Next ▶️', { messageId: card.messageId });
    await operator.waitForMessage((m) => m.messageId === card.messageId && /Send back: City/.test(m.text ?? ''));
    await operator.press('The name does not match the passport', { messageId: card.messageId });
    await client.waitForMessage(/send this again: The name does not match the passport/);

    // A one-step photo request: straight to the photo reasons; Back returns to the card.
    await client.send('Kaluga');
    await client.waitForMessage(/please check your answers/);
    await client.press('✅ Confirm');
    await operator.waitForMessage(/📥 Personal data from Anna \(round 2\)/);
    await operator.press('✅ Accept');
    await client.waitForMessage(/accepted “Personal data”/);
    await sendRequest(operator, 'Anna', 'Passport photo');
    await client.waitForMessage(/Passport photo · step 1 of 1/);
    await client.sendPhoto({ bytes: samplePhoto() });
    const passport = await operator.waitForMessage(/📥 Passport photo from Anna \(round 1\)/);
    await operator.press('🔁 Ask again', { messageId: passport.messageId });
    const photoReasons = await operator.waitForMessage(
      (m) => m.messageId === passport.messageId && /Send back: All steps/.test(m.text ?? ''),
    );
    expect(buttonsOf(photoReasons)).toEqual([
      'The photo is blurry',
      'Part of it is cut off',
      'There is glare on the photo',
      '✍️ Type a reason',
      '◀️ Back',
    ]);
    await operator.press('◀️ Back', { messageId: passport.messageId });
    await operator.waitForMessage((m) => m.messageId === passport.messageId && buttonsOf(m).includes('✅ Accept'));
  });
});
