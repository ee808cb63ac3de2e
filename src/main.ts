import { CatalogueError, loadCatalogueFile } from './config/catalogue.js';
import { EnvError, loadEnv } from './config/env.js';
import { DatabaseError, openDatabase } from './db/client.js';
import { createLogger } from './logger.js';

/** Start-up errors a user can fix: shown as one clear message, never a stack trace. */
function isUserError(error: unknown): error is Error {
  return error instanceof EnvError || error instanceof CatalogueError || error instanceof DatabaseError;
}

async function main(): Promise<void> {
  const env = loadEnv();
  const log = createLogger(env.logLevel);
  const catalogue = await loadCatalogueFile(env.cataloguePath);
  const database = await openDatabase({ databaseUrl: env.databaseUrl, dataDir: env.dataDir });
  log.info(
    { database: database.description, catalogue: env.cataloguePath, requestTypes: catalogue.requests.length },
    env.botToken ? 'ready' : 'ready (no BOT_TOKEN: local mode)',
  );

  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      log.info({ signal }, 'stopping');
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await database.close();
  log.info('stopped');
}

main().catch((error: unknown) => {
  if (isUserError(error)) {
    console.error(error.message);
  } else {
    console.error('Unexpected error during start-up:', error);
  }
  process.exit(1);
});
