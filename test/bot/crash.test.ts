import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCatalogueFile } from '../../src/config/catalogue.js';
import { rowsOf } from '../../src/db/client.js';
import { flows } from '../../src/db/schema.js';
import { FlowService } from '../../src/flows/service.js';
import { startEmulator, type EmulatedUser, type Emulator } from '../../src/playground/emulator/index.js';
import { APP_ENTRY } from '../helpers/db-config.js';
import { ENGINES, openTestDatabase, type TestDatabase } from '../helpers/db.js';
import { freePort } from '../helpers/ports.js';

/** SIGKILLs of the bot process during the conversations (`npm run soak` sets more). */
const KILLS = Number(process.env.CRASH_KILLS ?? 10);
const CLIENTS = Number(process.env.CRASH_CLIENTS ?? 6);
const NAMES = ['Anna', 'Boris', 'Clara', 'Denis', 'Elena', 'Fedor', 'Galina', 'Igor'];

/** A seeded random source, so a failing run can be repeated (CRASH_SEED). */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1_664_525 + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

describe.runIf(ENGINES.includes('postgres'))('the bot process killed at random points (SIGKILL) on PostgreSQL', () => {
  let test: TestDatabase;
  let emu: Emulator;
  let dir: string;
  let child: ChildProcess | undefined;
  afterAll(async () => {
    child?.kill('SIGKILL');
    await test?.close();
    await emu?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Starts the app as `npm start` does (its build, `node dist/main.mjs`); resolves once it logs "ready". */
  async function startBot(env: Record<string, string>): Promise<ChildProcess> {
    const proc = spawn(process.execPath, [APP_ENTRY], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env, PORT: String(await freePort()) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    await new Promise<void>((resolve, reject) => {
      proc.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (process.env.CRASH_LOG) appendFileSync(process.env.CRASH_LOG, chunk);
        if (output.includes('"msg":"ready"')) resolve();
      });
      proc.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      proc.once('exit', (code) => reject(new Error(`bot exited (${code}) before ready:\n${output}`)));
    });
    proc.removeAllListeners('exit');
    return proc;
  }

  it(`loses no answer, applies none twice, apologises never, and repeats at most one message per chat per kill (${KILLS} kills)`, async () => {
    const seed = Number(process.env.CRASH_SEED ?? Date.now() % 100_000);
    const rand = random(seed);
    test = await openTestDatabase('postgres');
    emu = await startEmulator();
    dir = await mkdtemp(path.join(tmpdir(), 'orb-crash-'));
    const { token } = emu.createBot({ username: 'orb_crash_bot' });
    const operator = emu.createUser({ firstName: 'Olga', languageCode: 'en' });
    const env = {
      BOT_TOKEN: token,
      TELEGRAM_API_ROOT: emu.apiRoot,
      OPERATOR_IDS: String(operator.id),
      DATABASE_URL: test.url ?? '',
      DATA_DIR: path.join(dir, 'data'),
      DEFAULT_LOCALE: 'en',
      LOG_LEVEL: process.env.CRASH_LOG_LEVEL ?? 'info',
    };
    child = await startBot(env);
    const db = test.current().db;
    const catalogue = await loadCatalogueFile('config/catalogue.yaml');
    const service = new FlowService({ db, catalogue: () => catalogue, defaultLocale: 'en' });
    const clients: EmulatedUser[] = [];

    /** One client: /start, gets "Personal data", answers like a person (waits for each prompt), confirms. */
    const converse = async (i: number) => {
      const wait = { timeoutMs: 120_000 };
      const client = emu.createUser({ firstName: `Client${i}`, languageCode: 'en' });
      clients.push(client);
      await client.send('/start');
      await client.waitForMessage(/Hello/, wait);
      expect((await service.start({ operatorId: operator.id, clientId: client.id, requestId: 'personal_data' })).ok).toBe(true);
      await client.waitForMessage(/step 1 of 3/, wait);
      await client.send(`${NAMES[i % NAMES.length]} Karenina`);
      await client.waitForMessage(/step 2 of 3/, wait);
      await client.send(`City ${NAMES[i % NAMES.length]}`);
      await client.waitForMessage(/step 3 of 3/, wait);
      await client.send(`${10 + (i % 18)}.03.1990`);
      await client.waitForMessage(/please check your answers/, wait);
      await client.press('✅ Confirm');
      await client.waitForMessage(/Your answers were sent to the operator/, wait);
    };
    // Waves of clients keep the bot busy until every kill has happened during a conversation.
    let kills = 0;
    const traffic = (async () => {
      for (let wave = 0; wave === 0 || kills < KILLS; wave++) {
        await Promise.all(Array.from({ length: CLIENTS }, (_, j) => converse(wave * CLIENTS + j)));
      }
    })();
    let trafficDone = false;
    void traffic.finally(() => (trafficDone = true)).catch(() => {});
    while (kills < KILLS && !trafficDone) {
      // A random point: somewhere within the next 0.05–1.2 s of the running bot's work.
      await new Promise((r) => setTimeout(r, 50 + rand() * 1_150));
      child.kill('SIGKILL');
      await new Promise((r) => child?.once('exit', r));
      kills++;
      child = await startBot(env);
    }
    await traffic;
    expect(kills).toBe(KILLS);

    const rows = await db.select().from(flows).where(eq(flows.requestId, 'personal_data'));
    expect(rows.map((r) => r.status)).toEqual(clients.map(() => 'in_review'));
    const seen = clients.length;
    const events = rowsOf<{ event: string; n: number }>(
      await db.execute(
        sql`select event, count(*)::int as n from flow_events where event in ('ANSWER', 'CONFIRM') group by event order by event`,
      ),
    );
    expect(events).toEqual([
      { event: 'ANSWER', n: 3 * seen },
      { event: 'CONFIRM', n: seen },
    ]);
    const answersPerStep = rowsOf<{ n: number }>(await db.execute(sql`select count(*)::int as n from answers group by flow_id, step_id`));
    expect(answersPerStep.every((r) => r.n === 1)).toBe(true);
    let repeated = 0;
    for (const client of clients) {
      const texts = client
        .messages()
        .filter((m) => m.from === 'bot')
        .map((m) => m.text ?? '');
      expect(
        texts.filter((t) => /went wrong|try again/i.test(t)),
        `seed ${seed}`,
      ).toEqual([]);
      const repeats = texts.length - new Set(texts).size;
      repeated += repeats;
      expect(repeats, `messages repeated to ${client.info.first_name} (seed ${seed}): ${texts.join(' | ')}`).toBeLessThanOrEqual(kills);
    }
    console.info(`[crash] ${kills} kills, ${clients.length} clients, ${repeated} repeated messages in all, seed ${seed}`);
  }, 600_000);
});
