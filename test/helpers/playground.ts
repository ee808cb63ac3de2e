// The playground (emulator + real app + page) in-process, on a random port and a temporary DATA_DIR.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { Env } from '../../src/config/env.js';
import { StartupError } from '../../src/errors.js';
import type { Logger } from '../../src/logger.js';
import { startPlayground, type Playground } from '../../src/playground/index.js';
import { seedDataDir } from './db.js';

export interface TestPlayground {
  readonly dataDir: string;
  readonly current: Playground;
  /** Stops it and starts it again on the same DATA_DIR and port, as `npm start` twice would (with other settings if given). */
  restart(changes?: Partial<Env>): Promise<void>;
  close(): Promise<void>;
}

export function playgroundEnv(dataDir: string, cataloguePath = 'config/catalogue.yaml'): Env {
  return {
    botToken: undefined,
    telegramApiRoot: undefined,
    operatorIds: [],
    adminIds: [],
    databaseUrl: undefined,
    dataDir,
    cataloguePath,
    defaultLocale: 'en',
    logLevel: 'silent',
    port: 0,
    webhookUrl: undefined,
    webhookSecret: undefined,
    resultWebhookUrl: undefined,
    resultWebhookSecret: undefined,
    resultLinksUrl: undefined,
    apiToken: undefined,
    retentionDays: undefined,
    operatorVisibility: 'own',
    reviewOverdueHours: 24,
  };
}

/**
 * Starts the playground on a port below the range the system hands out to outgoing connections (32768 and
 * up on Linux), so that its restarts can take the same port again (the page reconnects to it): a port the
 * system chose could meanwhile be the local end of any connection. A port another run took is tried again.
 */
async function startOnOwnPort(env: Env, logger: Logger): Promise<Playground> {
  for (let attempt = 1; ; attempt++) {
    const port = 10_000 + Math.floor(Math.random() * 22_000);
    try {
      return await startPlayground({ ...env, port }, logger);
    } catch (error) {
      if (attempt >= 10 || !(error instanceof StartupError && /already in use/.test(error.message))) throw error;
    }
  }
}

/** A fresh DATA_DIR holds the migrated template database (a first open would spend seconds in initdb). */
export async function startTestPlayground(options: { cataloguePath?: string; env?: Partial<Env> } = {}): Promise<TestPlayground> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'orb-playground-'));
  await seedDataDir(dataDir);
  const env = { ...playgroundEnv(dataDir, options.cataloguePath), ...options.env };
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  let current = await startOnOwnPort(env, logger);
  return {
    dataDir,
    get current() {
      return current;
    },
    async restart(changes = {}) {
      const port = Number(new URL(current.url).port);
      await current.stop('restart');
      current = await startPlayground({ ...env, ...changes, port }, logger);
    },
    async close() {
      await current.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
