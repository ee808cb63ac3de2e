import { startApp } from './app.js';
import { CatalogueError } from './config/catalogue.js';
import { EnvError, loadEnv } from './config/env.js';
import { DatabaseError } from './db/client.js';
import { StartupError } from './errors.js';
import { createLogger } from './logger.js';
import { startPlayground } from './playground/index.js';

/** Start-up errors a user can fix: shown as one clear message, never a stack trace. */
function isUserError(error: unknown): error is Error {
  return error instanceof EnvError || error instanceof CatalogueError || error instanceof DatabaseError || error instanceof StartupError;
}

async function main(): Promise<void> {
  const env = loadEnv();
  const log = createLogger(env.logLevel);
  let stop: (signal: string) => Promise<void>;
  if (env.botToken) {
    const app = await startApp({
      token: env.botToken,
      apiRoot: env.telegramApiRoot,
      operatorIds: env.operatorIds,
      adminIds: env.adminIds,
      databaseUrl: env.databaseUrl,
      dataDir: env.dataDir,
      cataloguePath: env.cataloguePath,
      defaultLocale: env.defaultLocale,
      port: env.port,
      webhook: env.webhookUrl && env.webhookSecret ? { url: env.webhookUrl, secret: env.webhookSecret } : undefined,
      logger: log,
    });
    log.info({ port: env.port }, 'ready');
    stop = (signal) => app.stop(signal);
  } else {
    const playground = await startPlayground(env, log);
    log.info({ url: playground.url, database: playground.app.database.description }, 'ready (no BOT_TOKEN: local playground)');
    // The one line a person starting the playground needs, readable among the JSON logs.
    process.stderr.write(`\n  Playground: ${playground.url}  (Ctrl+C stops it; set BOT_TOKEN to run the real bot)\n\n`);
    stop = (signal) => playground.stop(signal);
  }
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  log.info({ signal }, 'stopping');
  await stop(signal);
  log.info('stopped');
}

main().catch((error: unknown) => {
  if (isUserError(error)) {
    console.error(error.message);
  } else {
    console.error('Unexpected error during start-up:', error instanceof Error ? error.message : error);
  }
  process.exit(1);
});
