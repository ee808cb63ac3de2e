import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import type { Env } from '../config/env.js';
import { optionsFromEnv, startApp, type App } from '../app.js';
import { openDatabase, rowsOf, type Database } from '../db/client.js';
import type { RateLimits } from '../delivery/limiter.js';
import { StartupError } from '../errors.js';
import type { Logger } from '../logger.js';
import { PlaygroundApi, type PlaygroundHost } from './api.js';
import { startEmulator, type EmulatedUser, type Emulator } from './emulator/index.js';
import { playgroundRoutes } from './routes.js';
import { PlaygroundStore, type PlaygroundSave } from './store.js';
import { wipeTables } from './wipe.js';

export interface Playground {
  readonly app: App;
  readonly emulator: Emulator;
  /** The page (and /healthz) on the app's HTTP server. */
  readonly url: string;
  /** The emulated user who is the operator. */
  readonly operatorId: number;
  stop(signal?: string): Promise<void>;
}

const BOT = { username: 'operator_requests_bot', firstName: 'Operator Requests' };

/**
 * The emulator enforces no flood limits (unless a test turns them on), so the bot need not pace itself to
 * Telegram's one message a second per chat: with those, each press through the operator's menus waited a
 * second or more. Loose enough never to hold anyone up; the limiter's code path still runs.
 */
const EMULATOR_RATE_LIMITS: Partial<RateLimits> = { globalPerSecond: 1_000, perChatBurst: 100, perChatPerSecond: 100 };

interface World {
  readonly operator: EmulatedUser;
  readonly bot: { readonly token: string; readonly username: string; readonly name: string };
}

/**
 * Local mode (no BOT_TOKEN): the emulated Telegram, the real bot against it over HTTP (the same code
 * path as production, polling through the emulator's apiRoot), on the embedded database, and a page on
 * PORT that shows the operator's and the clients' chats (src/playground/web). The emulated users and
 * chats are saved in DATA_DIR/playground, so they still match the database after a restart.
 */
export async function startPlayground(env: Env, logger: Logger): Promise<Playground> {
  const database = await openDatabase({ databaseUrl: env.databaseUrl, dataDir: env.dataDir });
  let emulator: Emulator | undefined;
  try {
    emulator = await startEmulator({ host: '127.0.0.1' });
    const running = emulator;
    // eslint-disable-next-line prefer-const -- read by the store's callback, made before it is assigned
    let world: World | undefined;
    const store = new PlaygroundStore(
      env.dataDir,
      (): PlaygroundSave => ({ operatorId: world?.operator.id ?? 0, emulator: running.exportState() }),
      logger,
    );
    const saved = await store.load();
    await warnIfOutOfStep(database, saved !== undefined, store.dir, logger);
    world = saved ? restoreWorld(running, saved) : createWorld(running, env);
    const { operator, bot } = world;
    // The operator's Telegram language follows DEFAULT_LOCALE at every start, not the first run's saved
    // one (a language picked with /language is kept in the database and still wins).
    operator.info.language_code = env.defaultLocale;

    // eslint-disable-next-line prefer-const -- read by the host's callbacks, made before it is assigned
    let app: App | undefined;
    const host: PlaygroundHost = {
      emulator: running,
      operator,
      bot: { username: bot.username, name: bot.name },
      locale: env.defaultLocale,
      app: () => app,
      resetRefusal: database.engine === 'pglite' ? null : 'Reset only wipes the embedded database, and DATABASE_URL is set.',
      reset: () => {
        if (!app) throw new Error('the bot is starting');
        return reset(app);
      },
    };
    /** Chats, clients and every table emptied; the operator stays (the app knows their id) and opens the bot again. */
    const reset = async (current: App): Promise<void> => {
      await store.wipe();
      running.reset([operator.id]);
      await wipeTables(database.db);
      store.resume();
      await current.directory.touch(operator.info, { started: true });
      await operator.send('/start');
      logger.info('playground reset');
    };

    const unsubscribe = running.subscribe(() => store.schedule());
    app = await startApp({
      token: bot.token,
      apiRoot: running.apiRoot,
      operatorIds: [...env.operatorIds, operator.id],
      adminIds: [...env.adminIds, operator.id],
      ...optionsFromEnv(env),
      host: '127.0.0.1',
      logger,
      database,
      rateLimits: EMULATOR_RATE_LIMITS,
      httpFallback: playgroundRoutes({ api: new PlaygroundApi(host), emulatorRoot: running.apiRoot, logger }),
    });
    // A first start: the operator opens the bot, so their chat shows the menu. Later starts only record
    // the operator's language, for the messages the bot sends before they write.
    if (!saved) await operator.send('/start');
    else await app.directory.touch(operator.info);
    store.schedule();
    const started = app;
    const { port } = started.http.address() as AddressInfo;
    return {
      app: started,
      emulator: running,
      url: `http://127.0.0.1:${port}`,
      operatorId: operator.id,
      async stop(signal) {
        await started.stop(signal);
        unsubscribe();
        await store.close();
        await running.close();
        await database.close();
      },
    };
  } catch (error) {
    await emulator?.close();
    await database.close();
    throw error;
  }
}

function createWorld(emulator: Emulator, env: Env): World {
  const bot = emulator.createBot(BOT);
  const operator = emulator.createUser({
    firstName: 'Olga',
    lastName: 'Operator',
    username: 'olga_operator',
    languageCode: env.defaultLocale,
  });
  return { operator, bot: { token: bot.token, username: bot.username, name: BOT.firstName } };
}

function restoreWorld(emulator: Emulator, saved: PlaygroundSave): World {
  emulator.importState(saved.emulator);
  const bot = saved.emulator.bots.find((b) => b.username === BOT.username) ?? saved.emulator.bots[0];
  const operator = emulator.user(saved.operatorId);
  if (!bot || !operator) throw new StartupError('the saved playground has no bot or no operator: delete DATA_DIR/playground to start over');
  return { operator, bot: { token: bot.token, username: bot.username, name: bot.firstName } };
}

/** Saved chats without a database, or a database without saved chats, no longer match: say so. */
async function warnIfOutOfStep(database: Database, hasSavedChats: boolean, dir: string, logger: Logger): Promise<void> {
  const [row] = rowsOf<{ n: number }>(await database.db.execute(sql`select count(*)::int as n from people`));
  const hasPeople = (row?.n ?? 0) > 0;
  if (hasPeople && !hasSavedChats) {
    logger.warn({ dir }, 'the database has people but no saved playground chats: press "Reset playground" to start clean');
  } else if (!hasPeople && hasSavedChats) {
    logger.warn({ dir }, 'saved playground chats but an empty database: clients must send /start again, or press "Reset playground"');
  }
}
