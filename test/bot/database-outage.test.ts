import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { openDatabase, type Database } from '../../src/db/client.js';
import { answers, flows } from '../../src/db/schema.js';
import { startEmulator, type Emulator } from '../../src/playground/emulator/index.js';
import { appOptions } from '../helpers/bot.js';
import { postgresBin, startOwnCluster, type OwnCluster } from '../helpers/pg-cluster.js';

const canRun = postgresBin() !== null;
if (!canRun) console.warn('\n[test] database outage test SKIPPED: no PostgreSQL server binaries (initdb) on this machine.\n');

describe.runIf(canRun)('a database outage during answers (a PostgreSQL server of the test own, stopped and started)', () => {
  let cluster: OwnCluster;
  let emu: Emulator;
  let database: Database;
  let app: App;

  beforeAll(async () => {
    cluster = await startOwnCluster();
    emu = await startEmulator();
  }, 120_000);
  afterAll(async () => {
    await app?.stop();
    await database?.close();
    await emu?.close();
    await cluster?.destroy();
  });

  it('tells the client once that the answers will be processed, and applies every one after recovery, in order', async () => {
    const { token } = emu.createBot({ username: 'orb_outage_bot' });
    const operator = emu.createUser({ firstName: 'Olga', languageCode: 'en' });
    const client = emu.createUser({ firstName: 'Anna', languageCode: 'en' });
    database = await openDatabase({ databaseUrl: cluster.url, poolSize: 4 });
    app = await startApp(
      appOptions({ token, apiRoot: emu.apiRoot, operatorIds: [operator.id], adminIds: [], database, pollTimeoutSeconds: 1 }),
    );
    await client.send('/start');
    await client.waitForMessage(/Hello/);
    const started = await app.flows.start({ operatorId: operator.id, clientId: client.id, requestId: 'personal_data' });
    expect(started.ok).toBe(true);
    app.sender.kick();
    await client.waitForMessage(/step 1 of 3/);
    await client.send('Anna Karenina');
    await client.waitForMessage(/step 2 of 3/);

    await cluster.stop();
    await client.send('Moscow');
    await client.waitForMessage(/will be processed in a moment/, { timeoutMs: 30_000 });
    await client.send('15.06.1990');
    await cluster.start();

    await client.waitForMessage(/please check your answers/, { timeoutMs: 60_000 });
    const [flow] = await database.db.select().from(flows).where(eq(flows.clientId, client.id));
    const stored = await database.db
      .select()
      .from(answers)
      .where(eq(answers.flowId, flow?.id ?? 0))
      .orderBy(asc(answers.id));
    expect(stored.map((a) => [a.stepId, a.value])).toEqual([
      ['full_name', { kind: 'text', text: 'Anna Karenina' }],
      ['city', { kind: 'text', text: 'Moscow' }],
      ['birth_date', { kind: 'date', date: '1990-06-15' }],
    ]);
    const texts = client.messages().map((m) => m.text ?? '');
    expect(texts.filter((t) => /will be processed in a moment/.test(t))).toHaveLength(1);
    expect(texts.filter((t) => /went wrong|try again/i.test(t))).toEqual([]);
  }, 120_000);
});
