import pino from 'pino';
import { startApp, type App } from '../../src/app.js';
import type { Database } from '../../src/db/client.js';
import { startEmulator, type EmulatedUser } from '../../src/playground/emulator/index.js';
import type { Emulator } from '../../src/playground/emulator/index.js';
import { openTestDatabase, type Engine, type TestDatabase } from './db.js';

export interface Harness {
  readonly emu: Emulator;
  readonly db: TestDatabase;
  app: App;
  readonly token: string;
  readonly operators: EmulatedUser[];
  readonly admin: EmulatedUser;
  /** A client who has opened the bot with /start (and got the greeting). */
  client(name: string, language?: string): Promise<EmulatedUser>;
  /** Stops the bot process and starts a new one on the same database, as a restart would. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** The real app (bot, flows, delivery) against the emulator over HTTP, on a fresh test database. */
export async function startHarness(engine: Engine, options: { operators?: number } = {}): Promise<Harness> {
  const emu = await startEmulator();
  const { token } = emu.createBot({ username: 'orb_test_bot', firstName: 'Requests' });
  const db = await openTestDatabase(engine);
  const admin = emu.createUser({ firstName: 'Alex', lastName: 'Admin', username: 'alex_admin', languageCode: 'en' });
  const operators = Array.from({ length: options.operators ?? 1 }, (_, i) =>
    emu.createUser({ firstName: ['Olga', 'Oleg', 'Olivia'][i] ?? `Operator${i}`, lastName: 'Operator', languageCode: 'en' }),
  );
  const start = (database: Database) =>
    startApp({
      token,
      apiRoot: emu.apiRoot,
      operatorIds: operators.map((o) => o.id),
      adminIds: [admin.id],
      dataDir: 'memory://',
      cataloguePath: 'config/catalogue.yaml',
      defaultLocale: 'en',
      port: 0,
      host: '127.0.0.1',
      logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
      database,
    });
  let app = await start(db.current());
  for (const staff of [admin, ...operators]) await staff.send('/start');
  const harness: Harness = {
    emu,
    db,
    get app() {
      return app;
    },
    set app(value) {
      app = value;
    },
    token,
    operators,
    admin,
    async client(name, language = 'en') {
      const user = emu.createUser({ firstName: name, languageCode: language });
      await user.send('/start');
      await user.waitForMessage(language === 'ru' ? /Здравствуйте/ : /Hello/);
      return user;
    },
    async restart() {
      await app.stop('restart');
      app = await start(await db.restart());
    },
    async close() {
      await app.stop();
      await db.close();
      await emu.close();
    },
  };
  return harness;
}
