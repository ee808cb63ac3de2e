import pino from 'pino';
import { startApp, type App, type AppOptions } from '../../src/app.js';
import type { RateLimits } from '../../src/delivery/limiter.js';
import type { Database } from '../../src/db/client.js';
import type { Logger } from '../../src/logger.js';
import { startEmulator, type EmulatedUser } from '../../src/playground/emulator/index.js';
import type { ChatMessage, Emulator } from '../../src/playground/emulator/index.js';
import { openTestDatabase, type Engine, type TestDatabase } from './db.js';
import { freePort } from './ports.js';

export interface Harness {
  readonly emu: Emulator;
  readonly db: TestDatabase;
  app: App;
  readonly token: string;
  readonly operators: EmulatedUser[];
  /** The first operator (every harness has one). */
  readonly operator: EmulatedUser;
  readonly admin: EmulatedUser;
  /** A client who has opened the bot with /start (and got the greeting). */
  client(name: string, language?: string): Promise<EmulatedUser>;
  /** Stops the bot process and starts a new one on the same database, as a restart would. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** The real app (bot, flows, delivery) against the emulator over HTTP, on a fresh test database. */
/** The app's options for a test: the shipped catalogue, English, in-memory data, a free port on 127.0.0.1, quiet logs. */
export function appOptions(
  options: Pick<AppOptions, 'token' | 'apiRoot' | 'operatorIds' | 'adminIds' | 'database'> & Partial<AppOptions>,
): AppOptions {
  return {
    dataDir: 'memory://',
    cataloguePath: 'config/catalogue.yaml',
    defaultLocale: 'en',
    port: 0,
    host: '127.0.0.1',
    logger: pino(
      { level: process.env.TEST_LOG_LEVEL ?? 'silent' },
      process.env.TEST_LOG_FILE ? pino.destination(process.env.TEST_LOG_FILE) : undefined,
    ),
    ...options,
  };
}

export interface HarnessOptions {
  readonly operators?: number;
  readonly webhook?: { secret: string; path?: string };
  /** HTTP server limits (short ones let a test see a stalled request cut off). */
  readonly httpTimeouts?: { headersMs: number; requestMs: number; checkEveryMs?: number };
  /**
   * Telegram's real flood limits (one message a second per chat after a burst of three). Off by default:
   * a conversation test sends an operator a dozen messages in a few seconds, and waiting them out would
   * only slow the suite; `test/bot/flood-limits.test.ts` and the limiter's own tests cover the limits.
   */
  readonly realRateLimits?: boolean;
  /** The catalogue file (default: the shipped `config/catalogue.yaml`); `app.reloadCatalogue()` re-reads it. */
  readonly cataloguePath?: string;
  /** The app's logger (quiet by default; see {@link appOptions}). */
  readonly logger?: Logger;
  /** Told every statement the app sends to its database (see `openTestDatabase`). */
  readonly onStatement?: (query: string, connection?: number) => void;
  /** More of the app's options: the result webhook, the request API, retention. */
  readonly app?: Partial<
    Pick<
      AppOptions,
      'results' | 'resultsClock' | 'apiToken' | 'retentionDays' | 'port' | 'operatorVisibility' | 'reviewOverdueHours' | 'dashboardClock'
    >
  >;
}

/** Loose enough never to hold a test conversation up; the limiter's code path still runs. */
const TEST_RATE_LIMITS: Partial<RateLimits> = { globalPerSecond: 1_000, perChatBurst: 100, perChatPerSecond: 100 };

export async function startHarness(engine: Engine, options: HarnessOptions = {}): Promise<Harness> {
  const emu = await startEmulator();
  const { token } = emu.createBot({ username: 'orb_test_bot', firstName: 'Requests' });
  const db = await openTestDatabase(engine, options.onStatement ? { onStatement: options.onStatement } : {});
  const admin = emu.createUser({ firstName: 'Alex', lastName: 'Admin', username: 'alex_admin', languageCode: 'en' });
  const operators = Array.from({ length: options.operators ?? 1 }, (_, i) =>
    emu.createUser({ firstName: ['Olga', 'Oleg', 'Olivia'][i] ?? `Operator${i}`, lastName: 'Operator', languageCode: 'en' }),
  );
  // Webhook mode: Telegram (the emulator) posts updates to the app's own HTTP server, so its port is fixed up front.
  const port = options.webhook ? await freePort() : 0;
  const webhook = options.webhook
    ? { url: `http://127.0.0.1:${port}${options.webhook.path ?? '/telegram/webhook'}`, secret: options.webhook.secret }
    : undefined;
  const start = (database: Database) =>
    startApp(
      appOptions({
        token,
        apiRoot: emu.apiRoot,
        operatorIds: operators.map((o) => o.id),
        adminIds: [admin.id],
        port,
        webhook,
        ...(options.httpTimeouts ? { httpTimeouts: options.httpTimeouts } : {}),
        ...(options.realRateLimits ? {} : { rateLimits: TEST_RATE_LIMITS }),
        ...(options.cataloguePath ? { cataloguePath: options.cataloguePath } : {}),
        ...(options.logger ? { logger: options.logger } : {}),
        ...options.app,
        database,
      }),
    );
  let app = await start(db.current());
  const clients: EmulatedUser[] = [];
  for (const staff of [admin, ...operators]) {
    await staff.send('/start');
    await staff.waitForMessage(/Operator menu/);
  }
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
    operator: operators[0] ?? admin,
    admin,
    async client(name, language = 'en') {
      const user = emu.createUser({ firstName: name, languageCode: language });
      clients.push(user);
      await user.send('/start');
      await user.waitForMessage(language === 'ru' ? /Здравствуйте/ : /Hello/);
      return user;
    },
    async restart() {
      await app.stop('restart');
      app = await start(await db.restart());
    },
    async close() {
      // TEST_TRANSCRIPTS=1 prints every chat of the test, to read a conversation through.
      if (process.env.TEST_TRANSCRIPTS) console.log([admin, ...operators, ...clients].map((u) => u.transcript()).join('\n\n'));
      await app.stop();
      await db.close();
      await emu.close();
    },
  };
  return harness;
}

/** From the operator's /menu: Clients, then the client's card (by the client's first name); resolves with the card. */
export async function openClientCard(operator: EmulatedUser, clientName: string): Promise<ChatMessage> {
  await operator.send('/menu');
  await operator.waitForMessage(/Operator menu/);
  await operator.press(/Clients/);
  const list = await operator.waitForMessage(/Clients \(\d+\)/);
  await operator.press(new RegExp(`^${clientName}\\b`), { messageId: list.messageId });
  // The list message becomes the card (older cards in the chat are kept current too: not those).
  const card = new RegExp(`👤 ${clientName}`);
  return operator.waitForMessage((m) => m.messageId === list.messageId && card.test(m.text ?? ''));
}

/** The operator opens the client's card and sends a request from it; resolves with the press's callback answer. */
export async function sendRequest(operator: EmulatedUser, clientName: string, title: string): Promise<string | undefined> {
  await openClientCard(operator, clientName);
  const query = await operator.press(title);
  return (await operator.waitForCallbackAnswer(query)).text;
}
