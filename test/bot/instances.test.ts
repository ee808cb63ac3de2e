import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { asc, eq, inArray } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { openDatabase, type Database } from '../../src/db/client.js';
import { answers, flows } from '../../src/db/schema.js';
import { startEmulator, type EmulatedUser, type Emulator } from '../../src/playground/emulator/index.js';
import { appOptions } from '../helpers/bot.js';
import { ENGINES, openTestDatabase, type TestDatabase } from '../helpers/db.js';

const SECRET = 'webhook-secret-two-instances';
const NAMES = ['Anna', 'Boris', 'Clara', 'Denis', 'Elena', 'Fedor', 'Galina', 'Igor', 'Karina', 'Lev'];

describe.runIf(ENGINES.includes('postgres'))('two webhook instances on one PostgreSQL database', () => {
  let test: TestDatabase;
  let emu: Emulator;
  let second: Database | undefined;
  let balancer: Server | undefined;
  const apps: App[] = [];
  afterAll(async () => {
    for (const app of apps) await app.stop();
    await second?.close();
    balancer?.close();
    await test?.close();
    await emu?.close();
  });

  it('fed alternately through a load balancer, apply each chat in order: answers sent back to back land on their own steps', async () => {
    test = await openTestDatabase('postgres');
    emu = await startEmulator();
    second = await openDatabase({ databaseUrl: test.url ?? '', migrate: false });
    const { token } = emu.createBot({ username: 'orb_twins_bot' });
    const operator = emu.createUser({ firstName: 'Olga', languageCode: 'en' });

    // Telegram posts to one URL; the balancer hands each update to the next instance in turn.
    const received = [0, 0];
    let turn = 0;
    balancer = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const index = turn++ % 2;
        received[index] = (received[index] ?? 0) + 1;
        const port = (apps[index]?.http.address() as AddressInfo | null)?.port;
        void fetch(`http://127.0.0.1:${port}${req.url ?? '/'}`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-telegram-bot-api-secret-token': String(req.headers['x-telegram-bot-api-secret-token'] ?? ''),
          },
          body: Buffer.concat(chunks),
        })
          .then(async (r) => res.writeHead(r.status).end(await r.text()))
          .catch(() => res.writeHead(502).end());
      });
    });
    await new Promise<void>((resolve) => balancer?.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(balancer.address() as AddressInfo).port}/telegram/webhook`;
    for (const database of [test.current(), second]) {
      apps.push(
        await startApp(
          appOptions({ token, apiRoot: emu.apiRoot, operatorIds: [operator.id], adminIds: [], webhook: { url, secret: SECRET }, database }),
        ),
      );
    }
    const [first] = apps;
    if (!first) throw new Error('no app');

    const clients: EmulatedUser[] = [];
    for (const name of NAMES) {
      const client = emu.createUser({ firstName: name, languageCode: 'en' });
      await client.send('/start');
      await client.waitForMessage(/Hello/, { timeoutMs: 30_000 });
      expect((await first.flows.start({ operatorId: operator.id, clientId: client.id, requestId: 'personal_data' })).ok).toBe(true);
      clients.push(client);
    }
    first.sender.kick();
    await Promise.all(
      clients.map(async (client, i) => {
        await client.waitForMessage(/step 1 of 3/, { timeoutMs: 60_000 });
        // Two answers back to back: the second before the bot has asked for it.
        await client.send(`${NAMES[i]} Karenina`);
        await client.send(`City of ${NAMES[i]}`);
        await client.waitForMessage(/step 3 of 3/, { timeoutMs: 60_000 });
        await client.send('15.06.1990');
        await client.waitForMessage(/please check your answers/, { timeoutMs: 60_000 });
      }),
    );

    expect(received[0]).toBeGreaterThan(10);
    expect(received[1]).toBeGreaterThan(10);
    const db = first.database.db;
    const rows = await db
      .select()
      .from(flows)
      .where(
        inArray(
          flows.clientId,
          clients.map((c) => c.id),
        ),
      );
    expect(rows.map((r) => r.status)).toEqual(clients.map(() => 'confirming'));
    for (const [i, client] of clients.entries()) {
      const flow = rows.find((r) => r.clientId === client.id);
      const stored = await db
        .select()
        .from(answers)
        .where(eq(answers.flowId, flow?.id ?? 0))
        .orderBy(asc(answers.id));
      expect(stored.map((a) => [a.stepId, a.value])).toEqual([
        ['full_name', { kind: 'text', text: `${NAMES[i]} Karenina` }],
        ['city', { kind: 'text', text: `City of ${NAMES[i]}` }],
        ['birth_date', { kind: 'date', date: '1990-06-15' }],
      ]);
    }
    // One instance applied everything (the leader); both took updates.
    const applied = apps.map((a) => a.inbox.counters.applied);
    expect(applied.filter((n) => n > 0)).toHaveLength(1);
  }, 300_000);
});
