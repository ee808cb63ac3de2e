/**
 * Buttons that name a request type (send it from a client card, an invite link that starts it) carry a
 * stable reference to the type, not its place in the catalogue: a reload that adds or removes entries
 * never makes an old button send another request, and a button whose type is gone is refused.
 */
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CatalogueError, parseCatalogue, requestByRef, requestRef } from '../../src/config/catalogue.js';
import { pack, parse } from '../../src/ui/callback-data.js';
import type { ChatMessage, EmulatedUser } from '../../src/playground/emulator/index.js';
import { ENGINES } from '../helpers/db.js';
import { openClientCard, startHarness, type Harness } from '../helpers/bot.js';

/** A new first entry, so every shipped entry moves one place down. */
const TAX_NUMBER = `  - id: tax_number
    title: { ru: ИНН, en: Tax number }
    steps:
      - id: inn
        type: number
        integer: true
        prompt: { ru: Ваш ИНН, en: Your tax number }

`;

const withFirstEntry = (yaml: string) => yaml.replace('\nrequests:\n', `\nrequests:\n${TAX_NUMBER}`);
const withoutPassportPhoto = (yaml: string) => yaml.replace(/\n {2}- id: passport_photo\n[\s\S]*?(?=\n {2}- id: personal_data\n)/, '\n');

function buttonsOf(message: ChatMessage | undefined): string[] {
  const markup = message?.replyMarkup;
  return (markup && 'inline_keyboard' in markup ? markup.inline_keyboard : []).flat().map((b) => b.text);
}

/** The client card the operator has open now (the menu message the card replaced, or a new one). */
function cardOf(operator: EmulatedUser, name: string): ChatMessage {
  const card = operator
    .messages()
    .filter((m) => (m.text ?? '').startsWith(`👤 ${name}`))
    .at(-1);
  if (!card) throw new Error(`no card of ${name}`);
  return card;
}

describe('request type references', () => {
  it('are 31-bit integers that fit callback data and name the type by its id', () => {
    const ref = requestRef('personal_data');
    expect(Number.isSafeInteger(ref) && ref >= 0 && ref < 2 ** 31).toBe(true);
    expect(requestRef('personal_data')).toBe(ref);
    expect(requestRef('passport_photo')).not.toBe(ref);
    const data = pack({ kind: 'send', client: 9_007_199_254_740_991, requestRef: 2 ** 31 - 1 });
    expect(Buffer.byteLength(data)).toBeLessThanOrEqual(64);
    expect(parse(data)).toEqual({ kind: 'send', client: 9_007_199_254_740_991, requestRef: 2 ** 31 - 1 });
    expect(parse(pack({ kind: 'inviteWith', requestRef: ref }))).toEqual({ kind: 'inviteWith', requestRef: ref });
  });

  it('resolve in the current catalogue wherever the entry stands; an unknown one resolves to nothing', () => {
    const yaml = `version: 1
requests:
  - { id: first, title: First, steps: [{ id: a, type: text, prompt: A }] }
  - { id: second, title: Second, steps: [{ id: a, type: text, prompt: A }] }
`;
    const before = parseCatalogue(yaml);
    const after = parseCatalogue(
      yaml.replace('requests:\n', 'requests:\n  - { id: zero, title: Zero, steps: [{ id: a, type: text, prompt: A }] }\n'),
    );
    expect(requestByRef(before, requestRef('second'))?.id).toBe('second');
    expect(requestByRef(after, requestRef('second'))?.id).toBe('second');
    expect(requestByRef(before, requestRef('zero'))).toBeUndefined();
    expect(requestByRef(before, 1)).toBeUndefined();
  });

  it('are unique within a catalogue: two ids with one reference are refused with their line', () => {
    // "r7wzx" and "ra6cd" have the same 31-bit FNV-1a hash.
    expect(requestRef('r7wzx')).toBe(requestRef('ra6cd'));
    const yaml = `version: 1
requests:
  - { id: r7wzx, title: One, steps: [{ id: a, type: text, prompt: A }] }
  - { id: ra6cd, title: Two, steps: [{ id: a, type: text, prompt: A }] }
`;
    let problems: readonly { path: string; line: number | null; message: string }[] = [];
    try {
      parseCatalogue(yaml, 'c.yaml');
    } catch (error) {
      if (!(error instanceof CatalogueError)) throw error;
      problems = error.problems;
    }
    expect(problems).toEqual([
      { path: 'requests[1].id', line: 4, message: expect.stringMatching(/"ra6cd" and "r7wzx" would share one button reference/) },
    ]);
  });
});

describe.each(ENGINES)('buttons across a catalogue reload on %s', (engine) => {
  let h: Harness;
  let dir: string;
  let file: string;
  let shipped: string;

  afterEach(async () => {
    await h.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function start(): Promise<void> {
    dir = await mkdtemp(path.join(tmpdir(), 'orb-stable-buttons-'));
    file = path.join(dir, 'catalogue.yaml');
    await copyFile('config/catalogue.yaml', file);
    shipped = await readFile(file, 'utf8');
    h = await startHarness(engine, { cataloguePath: file });
  }

  async function reload(yaml: string): Promise<void> {
    await writeFile(file, yaml);
    expect(await h.app.reloadCatalogue()).toMatchObject({ ok: true });
  }

  it('a card made before an entry was added in front still sends the request its button names', async () => {
    await start();
    const operator = h.operator;
    const client = await h.client('Anna');
    await openClientCard(operator, 'Anna');
    const card = cardOf(operator, 'Anna');

    await reload(withFirstEntry(shipped));
    const query = await operator.press('Personal data', { messageId: card.messageId });
    expect((await operator.waitForCallbackAnswer(query)).text).toBe('“Personal data” sent to Anna.');
    await client.waitForMessage(/Personal data · step 1 of 3/);
    const flows = await h.app.flows.flowsOf(client.id);
    expect(flows.map((f) => f.requestId)).toEqual(['personal_data']);

    // The refreshed card offers the new entry too, and its button sends it (once the first is done).
    const refreshed = await operator.waitForMessage((m) => m.messageId === card.messageId && buttonsOf(m).includes('Tax number'));
    const queued = await operator.press('Tax number', { messageId: refreshed.messageId });
    expect((await operator.waitForCallbackAnswer(queued)).text).toBe('“Tax number” queued for Anna (position 1).');
    expect((await h.app.flows.flowsOf(client.id)).map((f) => f.requestId)).toEqual(['tax_number', 'personal_data']);
  });

  it('a button whose request type was removed is refused with the current list, and sends nothing', async () => {
    await start();
    const operator = h.operator;
    const client = await h.client('Anna');
    // Two copies of the card, both made before the reload.
    await openClientCard(operator, 'Anna');
    const first = cardOf(operator, 'Anna');
    await openClientCard(operator, 'Anna');
    const second = cardOf(operator, 'Anna');
    expect(second.messageId).not.toBe(first.messageId);
    expect(buttonsOf(second)).toEqual(expect.arrayContaining(['Passport photo', 'Contact details']));

    await reload(withoutPassportPhoto(shipped));
    // A type that only moved up in the file: its old button still sends it.
    const moved = await operator.press('Contact details', { messageId: first.messageId });
    expect((await operator.waitForCallbackAnswer(moved)).text).toBe('“Contact details” sent to Anna.');
    await client.waitForMessage(/Contact details · step 1 of 3/);

    const query = await operator.press('Passport photo', { messageId: second.messageId });
    expect(await operator.waitForCallbackAnswer(query)).toMatchObject({
      text: 'This request type has changed; here is the current list.',
      showAlert: true,
    });
    const refreshed = await operator.waitForMessage((m) => m.messageId === second.messageId && !buttonsOf(m).includes('Passport photo'));
    expect(refreshed.text).toMatch(/👤 Anna/);
    expect(refreshed.text).toMatch(/Now: Contact details/);
    expect(buttonsOf(refreshed)).toEqual(expect.arrayContaining(['Personal data', 'Contact details']));
    expect((await h.app.flows.flowsOf(client.id)).map((f) => f.requestId)).toEqual(['contact_details']);
    expect(client.messages().some((m) => /Passport photo/.test(m.text ?? ''))).toBe(false);
  });

  it('an invite button keeps its request type across a reload, and a removed one is refused', async () => {
    await start();
    const operator = h.operator;
    await operator.send('/menu');
    await operator.waitForMessage(/Operator menu/);
    await operator.press('🔗 Invite a client');
    const menu = await operator.waitForMessage(/Invite a client/);
    expect(buttonsOf(menu)).toEqual(expect.arrayContaining(['🔗 + Passport photo', '🔗 + Proof of address']));

    await reload(withoutPassportPhoto(shipped));
    await operator.press('🔗 + Proof of address', { messageId: menu.messageId });
    const invite = await operator.waitForMessage(/Invite link/);
    expect(invite.text).toMatch(/starts “Proof of address”/);

    const stale = await operator.press('🔗 + Passport photo', { messageId: menu.messageId });
    expect(await operator.waitForCallbackAnswer(stale)).toMatchObject({
      text: 'This request type has changed; here is the current list.',
      showAlert: true,
    });
    const refreshed = await operator.waitForMessage((m) => m.messageId === menu.messageId && !buttonsOf(m).includes('🔗 + Passport photo'));
    expect(buttonsOf(refreshed)).toContain('🔗 + Proof of address');
    expect(operator.messages().filter((m) => /Invite link/.test(m.text ?? ''))).toHaveLength(1);
  });
});
