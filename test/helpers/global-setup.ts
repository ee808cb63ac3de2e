import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../../src/db/client.js';
import {
  appBundleDir,
  DATABASE_PREFIX,
  isRunAlive,
  KEPT_DATABASE_KIND,
  LEGACY_PGLITE_TEMPLATE_FILE,
  newRunId,
  pgliteTemplateFile,
  runDatabasePrefix,
  runIdOfDatabase,
  runIdOfAppBundle,
  runIdOfPgliteFile,
  templateDatabaseName,
  TMP_DIR,
  type RunId,
} from './db-config.js';

/**
 * What a run left behind is removed by a later run only when that run is surely over: its process is gone
 * (same machine), or, when that cannot be seen (another machine or container on the same server), after
 * this long with nobody connected. Longer than a day on purpose: a `vitest --watch` session keeps its
 * template for as long as it stays open, idle most of the time.
 */
const STALE_AFTER_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * Prepares migrated template databases once per run, so each test gets a fresh database fast: a PGlite
 * data directory dump, and (when TEST_DATABASE_URL is set) a PostgreSQL template database. Both belong to
 * this run alone (named by its run id, see db-config.ts) and the returned teardown removes them, with any
 * test database a failed test left behind. Leftovers of runs that died are removed first.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const run = newRunId();
  const undo: Array<() => Promise<void>> = [];
  // Ctrl-C: vitest exits at once and never calls the teardown. What can be done on the way out is done
  // here; a later run removes the rest (this process is gone by then).
  const onExit = (): void => exitCleanup(run);
  process.once('exit', onExit);
  const teardown = async (): Promise<void> => {
    process.off('exit', onExit);
    for (const step of undo.splice(0).reverse()) {
      await step().catch((error: unknown) => console.warn(`\n[test] teardown: ${(error as Error).message}\n`));
    }
  };
  try {
    await preparePglite(project, run, undo, await buildApp(run, undo));
    await preparePostgres(project, run, undo);
    return teardown;
  } catch (error) {
    await teardown();
    throw error;
  }
}

/**
 * On an exit without the teardown: removes the PGlite dump, and leaves the run's PostgreSQL databases to a
 * detached process (nothing asynchronous runs in an 'exit' handler any more).
 */
function exitCleanup(run: RunId): void {
  rmSync(pgliteTemplateFile(run.id), { force: true });
  rmSync(appBundleDir(run.id), { recursive: true, force: true });
  const url = process.env.TEST_DATABASE_URL;
  if (!url) return;
  const script = `
    import postgres from 'postgres';
    const [url, prefix] = process.argv.slice(1);
    const admin = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 5 });
    try {
      const rows = await admin\`select datname from pg_database where left(datname, \${prefix.length}) = \${prefix}\`;
      for (const { datname } of rows) await admin.unsafe(\`drop database if exists "\${datname}" with (force)\`);
    } finally {
      await admin.end({ timeout: 5 });
    }`;
  try {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    spawn(process.execPath, ['--input-type=module', '-e', script, url, runDatabasePrefix(run.id)], {
      cwd: root,
      detached: true,
      stdio: 'ignore',
    }).unref();
  } catch {
    // The next run removes them.
  }
}

/**
 * Builds the app as `npm start` does (`npm run build`), into this run's folder: the tests that start the app
 * in a process of its own start this build, so they run what users run. Resolves to its entry file.
 */
async function buildApp(run: RunId, undo: Array<() => Promise<void>>): Promise<string> {
  const dir = appBundleDir(run.id);
  undo.push(() => rm(dir, { recursive: true, force: true }));
  const entry = path.join(dir, 'main.mjs');
  const root = fileURLToPath(new URL('../../', import.meta.url));
  await new Promise<void>((resolve, reject) => {
    const npm = spawn('npm', ['run', '--silent', 'build', '--', `--outfile=${entry}`], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    let errors = '';
    npm.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    npm.once('error', reject);
    npm.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`[test] npm run build failed (${code}):\n${errors}`))));
  });
  return entry;
}

async function preparePglite(project: TestProject, run: RunId, undo: Array<() => Promise<void>>, appEntry: string): Promise<void> {
  await mkdir(TMP_DIR, { recursive: true });
  await removeStalePgliteFiles(run);
  const file = pgliteTemplateFile(run.id);
  undo.push(() => rm(file, { force: true }));
  const pglite = await openDatabase({});
  try {
    const client = (pglite.db as unknown as { $client: { dumpDataDir(c: 'none'): Promise<Blob> } }).$client;
    const dump = await client.dumpDataDir('none');
    await writeFile(file, Buffer.from(await dump.arrayBuffer()));
  } finally {
    await pglite.close();
  }
  project.provide('testRun', { id: run.id, databasePrefix: runDatabasePrefix(run.id), pgliteTemplateFile: file, appEntry });
}

async function preparePostgres(project: TestProject, run: RunId, undo: Array<() => Promise<void>>): Promise<void> {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) {
    console.warn('\n[test] PostgreSQL suite SKIPPED: TEST_DATABASE_URL is not set (PGlite only).\n');
    project.provide('postgresTemplate', null);
    return;
  }
  const prefix = runDatabasePrefix(run.id);
  const template = templateDatabaseName(run.id);
  const admin = adminConnection(url);
  try {
    try {
      await admin`select 1`;
    } catch (error) {
      throw new Error(`[test] TEST_DATABASE_URL is set but PostgreSQL does not answer at ${url}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    await removeStaleDatabases(admin, run);
    // Registered before the CREATE: a failed migration leaves the database, and it is this run's to drop.
    undo.push(() => dropRunDatabases(url, prefix, template));
    await admin.unsafe(`create database "${template}"`);
    const templateUrl = new URL(url);
    templateUrl.pathname = `/${template}`;
    const db = await openDatabase({ databaseUrl: templateUrl.toString(), poolSize: 1 });
    await db.close();
  } finally {
    await admin.end({ timeout: 5 }).catch(() => {});
  }
  console.warn(`\n[test] PostgreSQL suite ENABLED against ${new URL(url).host} (template ${template}).\n`);
  project.provide('postgresTemplate', { url, template, prefix });
}

function adminConnection(url: string): postgres.Sql {
  return postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 5 });
}

/**
 * Teardown: the run's template, the databases the test workers kept for a next test, and every test database
 * of the run still there (a test failed before its close).
 */
async function dropRunDatabases(url: string, prefix: string, template: string): Promise<void> {
  const admin = adminConnection(url);
  try {
    const rows = await admin<{ datname: string }[]>`select datname from pg_database where left(datname, ${prefix.length}) = ${prefix}`;
    const leftOver = rows.map((r) => r.datname).filter((name) => name !== template);
    // Each test worker keeps the database its last test closed, emptied, for a next test (test/helpers/db.ts).
    const unclosed = leftOver.filter((name) => !name.startsWith(`${prefix}${KEPT_DATABASE_KIND}_`));
    if (unclosed.length > 0)
      console.warn(
        `\n[test] dropping ${unclosed.length} test database(s) left behind by tests that did not close them: ${unclosed.join(', ')}\n`,
      );
    for (const name of [...leftOver, template]) await admin.unsafe(`drop database if exists "${name}" with (force)`);
  } finally {
    await admin.end({ timeout: 5 }).catch(() => {});
  }
}

/**
 * Databases of runs that are over (see isRunAlive and STALE_AFTER_MS), when nobody is connected to them.
 * Databases of the older naming scheme (`orb_template_<hash>`, `orb_t_<random>`) carry no run id: a run
 * of an older checkout may be using them right now, so they are only pointed out, never dropped.
 */
async function removeStaleDatabases(admin: postgres.Sql, run: RunId): Promise<void> {
  const rows = await admin<{ datname: string; connections: number }[]>`
    select d.datname, (select count(*) from pg_stat_activity a where a.datid = d.oid)::int as connections
    from pg_database d where left(d.datname, ${DATABASE_PREFIX.length}) = ${DATABASE_PREFIX}`;
  const dropped: string[] = [];
  const legacy: string[] = [];
  for (const { datname, connections } of rows) {
    const other = runIdOfDatabase(datname);
    if (!other) {
      if (/^orb_(template_[0-9a-f]{12}|t_[0-9a-f]{12})$/.test(datname)) legacy.push(datname);
      continue;
    }
    if (other.id === run.id || connections > 0 || !isOver(other)) continue;
    try {
      // No FORCE: should anyone connect meanwhile, the database stays.
      await admin.unsafe(`drop database if exists "${datname}"`);
      dropped.push(datname);
    } catch (error) {
      console.warn(`\n[test] could not drop ${datname}, left by a test run that is over: ${(error as Error).message}\n`);
    }
  }
  if (dropped.length > 0)
    console.warn(`\n[test] dropped ${dropped.length} database(s) left by test runs that are over: ${dropped.join(', ')}\n`);
  if (legacy.length > 0) {
    console.warn(
      `\n[test] ${legacy.length} database(s) of the old naming scheme stay on the server (${legacy.join(', ')}): ` +
        'drop them by hand once no older checkout runs its tests against it.\n',
    );
  }
}

async function removeStalePgliteFiles(run: RunId): Promise<void> {
  for (const name of await readdir(TMP_DIR)) {
    const other = runIdOfPgliteFile(name) ?? runIdOfAppBundle(name);
    if (!other || other.id === run.id || !isOver(other)) continue;
    await rm(path.join(TMP_DIR, name), { recursive: true, force: true });
  }
  // The old fixed file: every run of an older checkout rewrites it at its start.
  const legacy = await stat(LEGACY_PGLITE_TEMPLATE_FILE).catch(() => undefined);
  if (legacy && Date.now() - legacy.mtimeMs > STALE_AFTER_MS) await rm(LEGACY_PGLITE_TEMPLATE_FILE, { force: true });
}

function isOver(other: RunId): boolean {
  const alive = isRunAlive(other);
  return alive === undefined ? Date.now() - other.startedAt.getTime() > STALE_AFTER_MS : !alive;
}
