// The playground's server side without a browser: its API, page files, the emulator passed through,
// catalogue reloads, saving chats across restarts, and the reset.
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EmulatedUser } from '../../src/playground/emulator/index.js';
import type { ClientPanel } from '../../src/playground/panel.js';
import { startTestPlayground, type TestPlayground } from '../helpers/playground.js';
import { samplePhoto } from '../helpers/telegram.js';

interface State {
  bot: { username: string; name: string };
  operator: { id: number; name: string };
  clients: Array<{ id: number; name: string; languageCode: string | null }>;
  catalogue: Array<{ id: string; title: string }>;
  resetRefusal: string | null;
}

describe('playground server', () => {
  let t: TestPlayground;
  afterEach(() => t?.close());

  const url = (p: string): string => `${t.current.url}${p}`;
  const get = async <T>(p: string): Promise<T> => (await (await fetch(url(p))).json()) as T;
  const post = async <T>(p: string, body?: unknown): Promise<{ status: number; json: T }> => {
    const response = await fetch(url(p), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json()) as T };
  };
  const operator = (): EmulatedUser => {
    const user = t.current.emulator.user(t.current.operatorId);
    if (!user) throw new Error('no operator');
    return user;
  };
  const client = (id: number): EmulatedUser => {
    const user = t.current.emulator.user(id);
    if (!user) throw new Error(`no client ${id}`);
    return user;
  };
  async function sendRequest(name: string, request: string): Promise<void> {
    await operator().send('/menu');
    await operator().waitForMessage(/Operator menu/);
    await operator().press(/Clients/);
    await operator().waitForMessage(new RegExp(`Clients`));
    await operator().press(name);
    await operator().waitForMessage(new RegExp(`👤 ${name}`));
    await operator().press(request);
  }

  it('lists the people, adds a client who starts the bot, and shows their flow with its chart and audit trail', async () => {
    t = await startTestPlayground();
    const state = await get<State>('/api/state');
    expect(state.operator).toMatchObject({ id: t.current.operatorId, name: 'Olga Operator' });
    expect(state.clients).toEqual([]);
    expect(state.catalogue.map((r) => r.id)).toContain('passport_photo');
    expect(state.resetRefusal).toBeNull();
    expect(JSON.stringify(state)).not.toMatch(/\d+:AA/); // never the bot token
    // A first start: the operator has opened the bot and sees the menu.
    await operator().waitForMessage(/Operator menu/);

    const added = await post<{ id: number; name: string }>('/api/clients', { languageCode: 'en' });
    expect(added.status).toBe(200);
    expect(added.json.name).toBe('Anna Petrova');
    await client(added.json.id).waitForMessage(/Hello, Anna/);
    expect((await get<State>('/api/state')).clients).toEqual([expect.objectContaining({ id: added.json.id, languageCode: 'en' })]);
    expect(await get<ClientPanel>(`/api/clients/${added.json.id}/panel`)).toEqual({ clientId: added.json.id, flows: [], flow: null });

    await sendRequest('Anna Petrova', 'Passport photo');
    await client(added.json.id).waitForMessage(/Passport photo · step 1 of 1/);
    const panel = await get<ClientPanel>(`/api/clients/${added.json.id}/panel`);
    expect(panel.flows).toEqual([expect.objectContaining({ requestId: 'passport_photo', title: 'Passport photo', status: 'collecting' })]);
    expect(panel.flow).toMatchObject({ requestId: 'passport_photo', state: 'collecting.passport', status: 'collecting' });
    expect(panel.flow?.chart.nodes.map((n) => n.id)).toEqual(
      expect.arrayContaining(['collecting', 'collecting.passport', 'routing', 'in_review', 'completed']),
    );
    expect(panel.flow?.timeline).toEqual([
      expect.objectContaining({ event: 'START', from: 'queued', to: 'collecting.passport', actorKind: 'operator', actor: 'Olga Operator' }),
    ]);

    const named = await post<{ id: number; name: string }>('/api/clients', { firstName: 'Zoe' });
    expect(named.json.name).toBe('Zoe');
  });

  it('refuses what it does not know', async () => {
    t = await startTestPlayground();
    expect((await fetch(url('/api/clients/42/panel'))).status).toBe(404);
    expect((await fetch(url(`/api/clients/${t.current.operatorId}/panel`))).status).toBe(404);
    expect((await fetch(url('/api/nothing'))).status).toBe(404);
    const bad = await fetch(url('/api/clients'), { method: 'POST', body: '{nope' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: 'body is not JSON' });
  });

  it('serves the page and its files, and nothing outside them', async () => {
    t = await startTestPlayground();
    const page = await fetch(url('/'));
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toContain('/assets/app.js');
    for (const [file, type] of [
      ['app.js', /javascript/],
      ['style.css', /text\/css/],
      ['sample-passport.jpg', /image\/jpeg/],
      ['favicon.svg', /svg/],
    ] as const) {
      const response = await fetch(url(`/assets/${file}`));
      expect(response.status, file).toBe(200);
      expect(response.headers.get('content-type')).toMatch(type);
    }
    for (const bad of ['/assets/..%2Fapi.ts', '/assets/../index.ts', '/assets/nope.js', '/assets/api.ts', '/assets/']) {
      expect((await fetch(url(bad))).status, bad).toBe(404);
    }
    expect(await get('/healthz')).toEqual({ ok: true });
  });

  it('passes the emulator API and its event stream through on the same port', async () => {
    t = await startTestPlayground();
    const chat = await get<{ messages: Array<{ text?: string }> }>(`/_emulator/chats/${t.current.operatorId}`);
    expect(chat.messages[0]?.text).toBe('/start');

    const controller = new AbortController();
    const stream = await fetch(url('/_emulator/events'), { signal: controller.signal });
    expect(stream.headers.get('content-type')).toBe('text/event-stream');
    const reader = stream.body?.getReader();
    if (!reader) throw new Error('the event stream has no body');
    let text = '';
    /** Reads the stream until `done` holds for what came so far (or the stream ends). */
    const readUntil = async (done: (text: string) => boolean): Promise<void> => {
      while (!done(text)) {
        const chunk = await reader.read();
        if (chunk.done) return;
        text += Buffer.from(chunk.value).toString('utf8');
      }
    };
    // The emulator writes the stream's first line (`retry:`) and subscribes it in one synchronous step:
    // once that line is here, every later change comes on the stream. No timer: this waits for the
    // subscription itself.
    await readUntil((so) => /^retry: \d+$/m.test(so));
    const sent = await post<{ messageId: number }>(`/_emulator/users/${t.current.operatorId}/send`, { text: '/help' });
    expect(sent.status).toBe(200);
    await readUntil((so) => so.includes(`"messageId":${sent.json.messageId}`));
    controller.abort();
    expect(text).toMatch(/^retry: \d+$/m);
    expect(text).toContain('event: message.created');
    expect(text).toContain(`"messageId":${sent.json.messageId}`);
  });

  it('reloads the catalogue from disk and reports its problems instead of failing', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'orb-catalogue-'));
    const file = path.join(dir, 'catalogue.yaml');
    await copyFile('config/catalogue.yaml', file);
    t = await startTestPlayground({ cataloguePath: file });
    const good = await readFile(file, 'utf8');

    await writeFile(file, good.replace('type: photo\n', 'type: selfie\n'));
    const broken = await post<{ ok: boolean; errors: string[] }>('/api/catalogue/reload');
    expect(broken.status).toBe(200);
    expect(broken.json.ok).toBe(false);
    expect(broken.json.errors.join('\n')).toMatch(/catalogue\.yaml:\d+ requests\[0\]\.steps\[0\]\.type/);
    expect((await get<State>('/api/state')).catalogue).toHaveLength(7); // the previous one stays

    await writeFile(file, good.replace(/\n {2}- id: contact_details[\s\S]*$/, '\n'));
    expect((await post('/api/catalogue/reload')).json).toEqual({ ok: true, count: 5 });
    expect((await get<State>('/api/state')).catalogue).toHaveLength(5);
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps clients, chats and files across a restart, and the reset starts clean', async () => {
    t = await startTestPlayground();
    const { json: anna } = await post<{ id: number }>('/api/clients');
    await client(anna.id).waitForMessage(/Hello/);
    await sendRequest('Anna Petrova', 'Passport photo');
    await client(anna.id).waitForMessage(/step 1 of 1/);
    const photo = samplePhoto({ width: 40, height: 30 });
    const sent = await client(anna.id).sendPhoto({ bytes: photo });
    await client(anna.id).waitForMessage(/sent to the operator/);
    // The playground keeps Telegram's per-chat limit (3 messages in 3 s): the operator's chat has a queue here.
    await operator().waitForMessage(/Passport photo from Anna/, { timeoutMs: 20_000 });
    // The open client card follows the request into review (an edit after the review card).
    await operator().waitFor((messages) => messages.find((m) => /👤 Anna[\s\S]*📥 to review/.test(m.text ?? '')));
    const before = { operatorId: t.current.operatorId, operator: operator().history(), anna: client(anna.id).history() };

    await t.restart();
    expect(t.current.operatorId).toBe(before.operatorId);
    expect((await get<State>('/api/state')).clients.map((c) => c.id)).toEqual([anna.id]);
    expect(operator().history()).toEqual(before.operator);
    expect(client(anna.id).history()).toEqual(before.anna);
    const bytes = Buffer.from(await (await fetch(url(`/_emulator/files/${sent.photo ?? ''}`))).arrayBuffer());
    expect(bytes.equals(photo)).toBe(true);
    // The card's buttons still work: message ids and update ids carry on where they were.
    await operator().press('✅ Accept');
    await operator().waitForMessage(/Accepted by Olga/);
    await client(anna.id).waitForMessage(/accepted “Passport photo”/);
    expect((await get<ClientPanel>(`/api/clients/${anna.id}/panel`)).flow?.state).toBe('completed');
    const saved = JSON.parse(await readFile(path.join(t.dataDir, 'playground', 'state.json'), 'utf8')) as { operatorId: number };
    expect(saved.operatorId).toBe(t.current.operatorId);

    expect((await post('/api/reset')).json).toEqual({ ok: true });
    expect((await get<State>('/api/state')).clients).toEqual([]);
    await operator().waitForMessage(/Operator menu/);
    expect(
      operator()
        .history()
        .map((m) => m.text),
    ).toEqual(['/start', 'Operator menu\nAwaiting review: 0 · needs attention: 0 · active: 0 · unassigned: 0']);
    expect(t.current.emulator.user(anna.id)).toBeUndefined();
    expect(await t.current.app.flows.flowsOf(anna.id)).toEqual([]);
    // A new client after the reset never reuses an old id.
    const { json: next } = await post<{ id: number; name: string }>('/api/clients');
    expect(next.id).toBeGreaterThan(anna.id);
    expect(next.name).toBe('Anna Petrova');
    await client(next.id).waitForMessage(/Hello/);
    await operator().send('/menu');
    await operator().waitForMessage(/Operator menu/);
    await operator().press(/Clients/);
    await operator().waitForMessage(/Clients \(1\)/);
  });

  it('the operator follows DEFAULT_LOCALE at every start, and keeps a language picked with /language', async () => {
    t = await startTestPlayground({ env: { defaultLocale: 'ru' } });
    await operator().waitForMessage(/Меню оператора/);

    await t.restart({ defaultLocale: 'en' });
    expect((await t.current.app.directory.get(t.current.operatorId))?.languageCode).toBe('en');
    await operator().send('/menu');
    await operator().waitForMessage(/Operator menu/);

    await operator().send('/language');
    await operator().waitForMessage(/Which language/);
    await operator().press('Русский');
    await operator().waitForMessage(/по-русски/);
    await t.restart({ defaultLocale: 'en' });
    await operator().send('/menu');
    await operator().waitForMessage(/Меню оператора/);
  });
});
