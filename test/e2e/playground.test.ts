// The playground page in headless Chromium: the operator sends requests, clients answer, all by clicking.
import { existsSync } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlayground, type TestPlayground } from '../helpers/playground.js';
import { samplePdf } from '../helpers/telegram.js';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const RESULTS = 'test-results';
const DOCS_SCREENSHOT = 'docs/images/playground.png';
const CHROMIUM = '/usr/bin/chromium';

// Debian's Chromium is a system package: `.ci/run` installs it and sets E2E_REQUIRED=1, so CI can never
// skip these tests; elsewhere they are skipped, loudly, when it is missing.
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  if (process.env.E2E_REQUIRED === '1')
    throw new Error(`${CHROMIUM} is missing: the browser tests are required here (apt-get install chromium)`);
  console.warn(`\n[test] Browser tests SKIPPED: ${CHROMIUM} not found (apt-get install chromium, or run .ci/run).\n`);
}

describe.skipIf(!hasChromium)('playground page', () => {
  let playground: TestPlayground;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    [playground, browser] = await Promise.all([startTestPlayground(), chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })]);
    page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    // Every wait below is on a condition (an element, a state, an event); this only bounds how long one
    // may take before it fails with the locator in the message. Generous: a busy two-core machine running
    // Chromium, the bot and another test run is slow, not broken (the test's own limit is vitest's).
    page.setDefaultTimeout(30_000);
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(playground.current.url);
    await page.locator('#live.on').waitFor();
    await mkdir(RESULTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await playground?.close();
  });
  afterEach(() => expect(pageErrors).toEqual([]));

  const operator = (): Locator => page.locator('section.chat.operator');
  /** The newest message in a chat whose text matches. */
  const message = (chat: Locator, text: RegExp): Locator => chat.locator('.msg', { hasText: text }).last();
  const press = (chat: Locator, text: string | RegExp): Promise<void> => chat.locator('.ikb button', { hasText: text }).last().click();
  async function type(chat: Locator, text: string): Promise<void> {
    await chat.locator('textarea').fill(text);
    await chat.locator('textarea').press('Enter');
  }

  /** Adds a client with the toolbar button; returns their chat and their name. */
  async function addClient(): Promise<{ chat: Locator; panel: Locator; name: string }> {
    const columns = page.locator('.client-column');
    const before = await columns.count();
    await page.click('#add-client');
    await columns.nth(before).waitFor();
    const column = columns.nth(before);
    const name = (await column.locator('.owner').textContent()) ?? '';
    const chat = column.locator('section.chat');
    await message(chat, /Hello/).waitFor();
    return { chat, panel: column.locator('.panel'), name };
  }

  /** As the operator: /menu → Clients → the client → the request type, each press on the message just shown. */
  async function sendRequest(client: string, request: string): Promise<void> {
    await type(operator(), '/menu');
    // The newest menu (staff also hear of arrivals, which may come after it; older menus became lists or cards).
    const menu = operator().locator('.msg').filter({ hasText: 'Operator menu' }).last();
    await menu.waitFor();
    // The menu turns into the list of clients in place.
    const list = operator().locator(`.msg[data-message-id="${await menu.getAttribute('data-message-id')}"]`);
    await list.locator('.ikb button', { hasText: 'Clients' }).click();
    await list.locator('.ikb button', { hasText: client }).click();
    await operator()
      .locator('.msg', { hasText: `👤 ${client}` })
      .last()
      .locator('.ikb button', { hasText: request })
      .click();
    await message(operator(), new RegExp(`was sent to ${client}`)).waitFor();
  }

  it('passport photo: the operator asks, the client sends the sample image, the operator accepts', async () => {
    const { chat, panel, name } = await addClient();
    await sendRequest(name, 'Passport photo');
    await message(chat, /Passport photo · step 1 of 1/).waitFor();
    // The state in words: the step's label, its id only in the markup.
    await panel.locator('.current-state[data-state="collecting.passport"]', { hasText: 'Passport' }).waitFor();

    await chat.locator('button.attach').click();
    await chat.locator('.attach-menu button.sample').click();
    await chat.locator('.msg.out .photo img').waitFor();
    await message(chat, /sent to the operator/).waitFor();

    const card = operator()
      .locator('.msg.in', { has: page.locator('.photo img') })
      .last();
    await card.waitFor();
    expect(await card.textContent()).toContain(`${name} · Passport photo`);
    // The photo the operator sees is the sample the client sent.
    expect(await card.locator('img').evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)).toBe(640);
    await message(operator(), /Passport photo from/).waitFor();
    await press(operator(), '✅ Accept');
    await message(operator(), /Accepted by Olga/).waitFor();
    await message(chat, /accepted “Passport photo”/).waitFor();

    await panel.locator('.current-state[data-state="completed"]', { hasText: 'done' }).waitFor();
    await panel.locator('svg .node.current[data-state="completed"]').waitFor();
    await panel.locator('.tl-event', { hasText: 'ACCEPT' }).waitFor();
    expect(await panel.locator('.tl-event').allTextContents()).toEqual(['START', 'ANSWER', 'ACCEPT']);

    await page.screenshot({ path: `${RESULTS}/playground.png` });
    // The README's picture: written when missing, or on request (it would change on every run otherwise).
    if (process.env.UPDATE_SCREENSHOTS === '1' || !existsSync(DOCS_SCREENSHOT)) {
      await mkdir(path.dirname(DOCS_SCREENSHOT), { recursive: true });
      await copyFile(`${RESULTS}/playground.png`, DOCS_SCREENSHOT);
    }
  });

  it('personal data: a date that does not exist is refused, a real one taken, confirmed and accepted', async () => {
    const { chat, panel, name } = await addClient();
    await sendRequest(name, 'Personal data');
    await message(chat, /Personal data · step 1 of 3/).waitFor();
    await type(chat, 'Daria Smirnova');
    await message(chat, /step 2 of 3/).waitFor();
    await type(chat, 'Berlin');
    await message(chat, /step 3 of 3/).waitFor();

    await type(chat, '31.02.1990');
    await message(chat, /31\.02\.1990 is not a real date/).waitFor();
    await panel.locator('.current-state[data-state="collecting.birth_date"]', { hasText: 'Birth date' }).waitFor();
    await panel.locator('svg .node.current[data-state="collecting.birth_date"]').waitFor();
    // The refused answer is marked as such, with the reason the client was given.
    await panel.locator('.refusal', { hasText: /Last answer refused: .*not a real date/ }).waitFor();
    await panel.locator('.tl-item.refused .tl-detail s', { hasText: 'refused: text' }).waitFor();

    await type(chat, '15.04.1990');
    await message(chat, /please check your answers/).waitFor();
    await panel.locator('.current-state[data-state="confirming"]').waitFor();
    await page.screenshot({ path: `${RESULTS}/playground-personal-data-confirm.png` });
    await press(chat, '✅ Confirm');
    await message(chat, /sent to the operator/).waitFor();

    await message(operator(), new RegExp(`Personal data from ${name}`)).waitFor();
    await press(operator(), '✅ Accept');
    await message(operator(), /Accepted by Olga/).waitFor();
    await panel.locator('.current-state[data-state="completed"]').waitFor();
    const events = await panel.locator('.tl-event').allTextContents();
    expect(events).toEqual(['START', 'ANSWER', 'ANSWER', 'ANSWER', 'ANSWER', 'CONFIRM', 'ACCEPT']);
    // Values as the bot shows them, labels instead of state ids, times as dd.mm.yyyy hh:mm, no raw JSON.
    expect(await panel.locator('.answers .answer').allTextContents()).toEqual([
      'Full nameDaria Smirnova',
      'CityBerlin',
      'Birth date15.04.1990',
    ]);
    expect(await panel.locator('.tl-states').first().textContent()).toBe('queued → Full name');
    for (const time of await panel.locator('.timeline time').allTextContents()) expect(time).toMatch(/^\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}$/);
    const shown = (await panel.locator('.panel-body').innerText()) ?? '';
    expect(shown).not.toMatch(/[{}]|collecting\.|"kind"/);
    // No two transition labels of the chart overlap, nor one a state.
    // Client rects, read in the page (the tests are typed without the DOM library).
    type Box = { x: number; y: number; w: number; h: number; text: string };
    type Rect = { x: number; y: number; width: number; height: number };
    type Node = { textContent: string | null; getBoundingClientRect(): Rect };
    const rects = (selector: string): Promise<Box[]> =>
      panel.locator(selector).evaluateAll((els) =>
        (els as unknown as Node[]).map((el) => {
          const r = el.getBoundingClientRect();
          return { x: r.x, y: r.y, w: r.width, h: r.height, text: el.textContent ?? '' };
        }),
      );
    const boxes = { labels: await rects('svg text.edge-label'), states: await rects('svg .node:not(.kid) > .shape') };
    const overlap = (a: { x: number; y: number; w: number; h: number }, b: { x: number; y: number; w: number; h: number }) =>
      a.x < b.x + b.w - 0.5 && b.x < a.x + a.w - 0.5 && a.y < b.y + b.h - 0.5 && b.y < a.y + a.h - 0.5;
    expect(boxes.labels.length).toBeGreaterThan(3);
    const clashes = boxes.labels.flatMap((a, i) => [
      ...boxes.labels
        .slice(i + 1)
        .filter((b) => overlap(a, b))
        .map((b) => `${a.text} × ${b.text}`),
      ...boxes.states.filter((b) => overlap(a, b)).map(() => `${a.text} × a state`),
    ]);
    expect(clashes).toEqual([]);
    // Inline buttons show their whole label, wrapped where it is long.
    await type(operator(), '/menu');
    await message(operator(), /Operator menu/).waitFor();
    await press(operator(), 'Active requests');
    await press(operator(), '🔗 Invite a client');
    type Span = { textContent: string | null; scrollWidth: number; clientWidth: number; scrollHeight: number; clientHeight: number };
    const spans = await operator()
      .locator('.ikb button span')
      .evaluateAll((els) =>
        (els as unknown as Span[]).map((el) => ({
          text: el.textContent ?? '',
          fits: el.scrollWidth <= el.clientWidth && el.scrollHeight <= el.clientHeight + 1,
        })),
      );
    expect(spans.some((span) => span.text.length >= 18)).toBe(true);
    expect(spans.filter((span) => !span.fits)).toEqual([]);
    await page.screenshot({ path: `${RESULTS}/playground-personal-data.png` });
  });

  it('contact details: the reply keyboard shares the number, a step is skipped, the toolbar reloads the catalogue', async () => {
    const { chat, panel, name } = await addClient();
    await sendRequest(name, 'Contact details');
    await message(chat, /Contact details · step 1 of 3/).waitFor();
    const shareButton = chat.locator('.reply-keyboard button', { hasText: 'Share my number' });
    await shareButton.click();
    await chat.locator('.msg.out .contact').waitFor();
    // A one-time keyboard folds away once used.
    await shareButton.waitFor({ state: 'hidden' });
    await message(chat, /step 2 of 3/).waitFor();
    await press(chat, 'Skip');
    await message(chat, /step 3 of 3/).waitFor();
    await press(chat, 'Evening');
    await message(chat, /please check your answers/).waitFor();
    await panel.locator('.current-state[data-state="confirming"]').waitFor();

    await page.click('#reload-catalogue');
    await page.locator('.notice.ok', { hasText: 'Catalogue reloaded: 7 request types' }).waitFor();
  });

  it('signed contract: a PDF chosen from disk goes as a document, the date follows, the operator gets the file', async () => {
    const { chat, panel, name } = await addClient();
    await sendRequest(name, 'Signed contract');
    await message(chat, /Signed contract · step 1 of 2/).waitFor();
    await chat.locator('button.attach').click();
    const [chooser] = await Promise.all([
      page.waitForEvent('filechooser'),
      chat.locator('.attach-menu button', { hasText: 'File…' }).click(),
    ]);
    await chooser.setFiles({ name: 'contract.pdf', mimeType: 'application/pdf', buffer: samplePdf('Signed') });
    await chat.locator('.msg.out .document', { hasText: 'contract.pdf' }).waitFor();
    await message(chat, /step 2 of 2/).waitFor();
    await type(chat, '01.02.2024');
    await message(chat, /sent to the operator/).waitFor();
    const file = operator().locator('.msg.in .document', { hasText: 'contract.pdf' }).last();
    await file.waitFor();
    const href = await file.getAttribute('href');
    const download = await fetch(new URL(href ?? '', playground.current.url));
    expect(
      Buffer.from(await download.arrayBuffer())
        .subarray(0, 5)
        .toString(),
    ).toBe('%PDF-');
    await panel.locator('.current-state[data-state="in_review"]').waitFor();
  });

  it('an invite link in the operator’s chat opens as a new client who redeems it', async () => {
    await type(operator(), '/menu');
    await message(operator(), /Operator menu/).waitFor();
    await press(operator(), '🔗 Invite a client');
    await press(operator(), '🔗 + Passport photo');
    const invite = message(operator(), /Invite link/);
    const columns = page.locator('.client-column');
    const before = await columns.count();
    await invite.locator('a.invite-link').click();
    await columns.nth(before).waitFor();
    const chat = columns.nth(before).locator('section.chat');
    // The link's /start <code> ran: the request it carries starts at once.
    await message(chat, /Passport photo · step 1 of 1/).waitFor();
    expect(await chat.locator('.msg.out').first().textContent()).toMatch(/^\/start [\w-]+/);
  });

  it('the panel speaks the client’s language', async () => {
    await page.selectOption('#client-language', 'ru');
    const columns = page.locator('.client-column');
    const before = await columns.count();
    await page.click('#add-client');
    const column = columns.nth(before);
    const chat = column.locator('section.chat');
    await message(chat, /Здравствуйте/).waitFor();
    const name = (await column.locator('.owner').textContent()) ?? '';
    await page.selectOption('#client-language', 'en');
    await sendRequest(name, 'Passport photo');
    const panel = column.locator('.panel');
    await panel.locator('.flow-title', { hasText: 'Фото паспорта' }).waitFor();
    await panel.locator('.current-state[data-state="collecting.passport"]', { hasText: 'Паспорт' }).waitFor();
  });

  it('comes back after a restart with the same chats, and the reset starts clean', async () => {
    const { chat, name } = await addClient();
    await sendRequest(name, 'Passport photo');
    await message(chat, /Passport photo · step 1 of 1/).waitFor();
    const before = await chat.locator('.msg').count();

    const syncs = Number(await page.locator('body').getAttribute('data-syncs'));
    await playground.restart();
    // The page reconnects by itself and loads everything again.
    await page.locator(`body[data-syncs="${syncs + 1}"]`).waitFor();
    const again = page.locator('section.chat', { has: page.locator('.owner', { hasText: name }) });
    await message(again, /Passport photo · step 1 of 1/).waitFor();
    expect(await again.locator('.msg').count()).toBe(before);
    await again.locator('button.attach').click();
    await again.locator('.attach-menu button.sample').click();
    await message(again, /sent to the operator/).waitFor();

    page.once('dialog', (dialog) => void dialog.accept());
    await page.click('#reset');
    await page.locator('.notice.ok', { hasText: 'starts clean' }).waitFor();
    expect(await page.locator('.client-column').count()).toBe(0);
    await message(operator(), /Operator menu/).waitFor();
    expect(await operator().locator('.msg').count()).toBe(2);
  });
});
