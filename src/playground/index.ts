import type { Env } from '../config/env.js';
import { startApp, type App } from '../app.js';
import type { Logger } from '../logger.js';
import { startEmulator, type Emulator } from './emulator/index.js';

export interface Playground {
  readonly app: App;
  readonly emulator: Emulator;
  readonly url: string;
  stop(signal?: string): Promise<void>;
}

/**
 * Local mode (no BOT_TOKEN): the emulated Telegram, the real bot against it over HTTP (the same code
 * path as production, polling through the emulator's apiRoot), on the embedded database.
 */
export async function startPlayground(env: Env, logger: Logger): Promise<Playground> {
  const emulator = await startEmulator({ host: '127.0.0.1' });
  const bot = emulator.createBot({ username: 'operator_requests_bot', firstName: 'Operator Requests' });
  const operator = emulator.createUser({ firstName: 'Olga', lastName: 'Operator', username: 'olga_operator', languageCode: env.defaultLocale });
  const app = await startApp({
    token: bot.token,
    apiRoot: emulator.apiRoot,
    operatorIds: [...env.operatorIds, operator.id],
    adminIds: [...env.adminIds, operator.id],
    databaseUrl: env.databaseUrl,
    dataDir: env.dataDir,
    cataloguePath: env.cataloguePath,
    defaultLocale: env.defaultLocale,
    port: env.port,
    host: '127.0.0.1',
    logger,
  });
  const url = `http://127.0.0.1:${env.port}`;
  return {
    app,
    emulator,
    url,
    async stop(signal) {
      await app.stop(signal);
      await emulator.close();
    },
  };
}
