import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import postgres from 'postgres';
import type { TestProject } from 'vitest/node';
import { MIGRATIONS_FOLDER, openDatabase } from '../../src/db/client.js';
import { PGLITE_TEMPLATE_FILE, templateDatabaseName } from './db-config.js';

/**
 * Prepares migrated template databases once per run, so each test gets a fresh database fast:
 * a PGlite data directory dump, and (when TEST_DATABASE_URL is set) a PostgreSQL template database.
 */
export default async function setup(project: TestProject): Promise<void> {
  const hash = await migrationsHash();
  await mkdir(path.dirname(PGLITE_TEMPLATE_FILE), { recursive: true });
  const pglite = await openDatabase({});
  const client = (pglite.db as unknown as { $client: { dumpDataDir(c: 'none'): Promise<Blob> } }).$client;
  const dump = await client.dumpDataDir('none');
  await writeFile(PGLITE_TEMPLATE_FILE, Buffer.from(await dump.arrayBuffer()));
  await pglite.close();

  const url = process.env.TEST_DATABASE_URL;
  if (!url) {
    console.warn('\n[test] PostgreSQL suite SKIPPED: TEST_DATABASE_URL is not set (PGlite only).\n');
    project.provide('postgresTemplate', null);
    return;
  }
  const template = templateDatabaseName(hash);
  const admin = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    await admin`select 1`;
  } catch (error) {
    await admin.end({ timeout: 1 }).catch(() => {});
    throw new Error(`[test] TEST_DATABASE_URL is set but PostgreSQL does not answer at ${url}: ${(error as Error).message}`);
  }
  const exists = await admin`select 1 from pg_database where datname = ${template}`;
  if (exists.length === 0) {
    await admin.unsafe(`create database "${template}"`);
    const templateUrl = new URL(url);
    templateUrl.pathname = `/${template}`;
    const db = await openDatabase({ databaseUrl: templateUrl.toString(), poolSize: 1 });
    await db.close();
  }
  await admin.end({ timeout: 5 });
  console.warn(`\n[test] PostgreSQL suite ENABLED against ${new URL(url).host} (template ${template}).\n`);
  project.provide('postgresTemplate', { url, template });
}

async function migrationsHash(): Promise<string> {
  const hash = createHash('sha256');
  for (const file of (await readdir(MIGRATIONS_FOLDER, { recursive: true })).sort()) {
    if (file.endsWith('.sql') || file.endsWith('.json')) hash.update(file).update(await readFile(path.join(MIGRATIONS_FOLDER, file)));
  }
  return hash.digest('hex').slice(0, 12);
}

declare module 'vitest' {
  export interface ProvidedContext {
    postgresTemplate: { url: string; template: string } | null;
  }
}
