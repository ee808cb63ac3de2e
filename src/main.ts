import { optionsFromEnv, startApp, type App } from './app.js';
import { CatalogueError } from './config/catalogue.js';
import { EnvError, loadEnv } from './config/env.js';
import { DatabaseError } from './db/client.js';
import { StartupError } from './errors.js';
import { createLogger, summarizeError } from './logger.js';
import { startPlayground } from './playground/index.js';

/** Start-up errors a user can fix: shown as one clear message, never a stack trace. */
function isUserError(error: unknown): error is Error {
  return error instanceof EnvError || error instanceof CatalogueError || error instanceof DatabaseError || error instanceof StartupError;
}

async function main(): Promise<void> {
  const env = loadEnv();
  const log = createLogger(env.logLevel);
  let stop: (signal: string) => Promise<void>;
  let app: App;
  if (env.botToken) {
    app = await startApp({
      token: env.botToken,
      apiRoot: env.telegramApiRoot,
      operatorIds: env.operatorIds,
      adminIds: env.adminIds,
      ...optionsFromEnv(env),
      webhook: env.webhookUrl && env.webhookSecret ? { url: env.webhookUrl, secret: env.webhookSecret } : undefined,
      logger: log,
    });
    log.info({ port: env.port }, 'ready');
    const running = app;
    stop = (signal) => running.stop(signal);
  } else {
    const playground = await startPlayground(env, log);
    log.info({ url: playground.url, database: playground.app.database.description }, 'ready (no BOT_TOKEN: local playground)');
    // The one line a person starting the playground needs, readable among the JSON logs.
    process.stderr.write(`\n  Playground: ${playground.url}  (Ctrl+C stops it; set BOT_TOKEN to run the real bot)\n\n`);
    stop = (signal) => playground.stop(signal);
    app = playground.app;
  }
  // SIGHUP re-reads the catalogue, as the admins' Reload button does; a broken one keeps the old one in force.
  let stopping = false;
  process.on('SIGHUP', () => {
    if (stopping) return;
    log.info({ signal: 'SIGHUP' }, 'reloading the catalogue');
    app.reloadCatalogue({ tellAdmins: true }).catch((error: unknown) => log.error({ err: error }, 'catalogue reload failed'));
  });
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  stopping = true;
  log.info({ signal }, 'stopping');
  await stop(signal);
  log.info('stopped');
}

main().catch((error: unknown) => {
  if (isUserError(error)) {
    console.error(error.message);
  } else {
    // Its message may quote data (a failed query's parameters): only what a log may hold.
    console.error('Unexpected error during start-up:', JSON.stringify(summarizeError(error)));
  }
  process.exit(1);
});
