// Names of what a test run creates: a PGlite template dump and PostgreSQL databases, all under the run's id,
// so that two runs at once (on one machine, on one PostgreSQL server) never touch each other's.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const TMP_DIR = fileURLToPath(new URL('../../.tmp/', import.meta.url));

/** Every PostgreSQL database a test run creates starts with this, then the run id: `orb_<run id>_…`. */
export const DATABASE_PREFIX = 'orb_';

/**
 * A run id says who made it: `<host>_<pid>_<process start>_<time>_<random>`.
 * - host: 8 hex of a hash of this boot's boot_id, the pid namespace and the host name. Two runs with the
 *   same host key share a process table, so one can tell whether the other's process is still alive.
 *   Without /proc (not Linux) it is random: no other run can ever claim to see that process.
 * - pid and process start (clock ticks since boot, /proc/<pid>/stat): the process that ran the global
 *   setup; the start time tells a live run from an unrelated process that got the same pid later.
 * - time: seconds since the epoch when the run began (for the age rule on runs of other hosts).
 * All base 36 or hex, lowercase, so a name needs no quoting trouble and fits PostgreSQL's 63 bytes.
 */
export interface RunId {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly processStart: number;
  readonly startedAt: Date;
}

const RUN_ID = /^([0-9a-f]{8})_([0-9a-z]{1,8})_([0-9a-z]{1,10})_([0-9a-z]{1,8})_([0-9a-f]{4})$/;
const RUN_ID_AT_START = new RegExp(`^${DATABASE_PREFIX}(${RUN_ID.source.slice(1, -1)})_`);
const PGLITE_FILE = new RegExp(`^pglite-template-(${RUN_ID.source.slice(1, -1)})\\.tar$`);

export function newRunId(): RunId {
  const host = hostKey() ?? randomBytes(4).toString('hex');
  const pid = process.pid;
  const processStart = processStartTicks(pid) ?? 0;
  const startedAt = new Date(Math.floor(Date.now() / 1000) * 1000);
  const id = [
    host,
    pid.toString(36),
    processStart.toString(36),
    (startedAt.getTime() / 1000).toString(36),
    randomBytes(2).toString('hex'),
  ].join('_');
  return { id, host, pid, processStart, startedAt };
}

export function parseRunId(id: string): RunId | undefined {
  const match = RUN_ID.exec(id);
  if (!match) return undefined;
  const [, host = '', pid = '', start = '', time = ''] = match;
  return { id, host, pid: parseInt(pid, 36), processStart: parseInt(start, 36), startedAt: new Date(parseInt(time, 36) * 1000) };
}

/** The prefix of every database of the run: `orb_<run id>_`. */
export function runDatabasePrefix(runId: string): string {
  return `${DATABASE_PREFIX}${runId}_`;
}

/** The kind (`orb_<run id>_<kind>_<random>`) of a database a test worker keeps, emptied, for its next test. */
export const KEPT_DATABASE_KIND = 'k';

/** The run's migrated template database. */
export function templateDatabaseName(runId: string): string {
  return `${runDatabasePrefix(runId)}template`;
}

/** The run id in a database name made by runDatabasePrefix, if it is one. */
export function runIdOfDatabase(name: string): RunId | undefined {
  const match = RUN_ID_AT_START.exec(name);
  return match?.[1] === undefined ? undefined : parseRunId(match[1]);
}

/** The run's PGlite data directory dump. */
export function pgliteTemplateFile(runId: string): string {
  return path.join(TMP_DIR, `pglite-template-${runId}.tar`);
}

/** The run id in a file name made by pgliteTemplateFile, if it is one. */
export function runIdOfPgliteFile(fileName: string): RunId | undefined {
  const match = PGLITE_FILE.exec(fileName);
  return match?.[1] === undefined ? undefined : parseRunId(match[1]);
}

const APP_DIR = new RegExp(`^app-(${RUN_ID.source.slice(1, -1)})$`);

/** The folder of the run's build of the app (`npm run build`), which tests start as `npm start` starts it. */
export function appBundleDir(runId: string): string {
  return path.join(TMP_DIR, `app-${runId}`);
}

/** The run id in a folder name made by appBundleDir, if it is one. */
export function runIdOfAppBundle(name: string): RunId | undefined {
  const match = APP_DIR.exec(name);
  return match?.[1] === undefined ? undefined : parseRunId(match[1]);
}

/** The fixed file of the scheme before per-run files; a run of an older checkout may still be using it. */
export const LEGACY_PGLITE_TEMPLATE_FILE = path.join(TMP_DIR, 'pglite-template.tar');

/**
 * Whether the run that made `run` is still going: `true` or `false` when this process can tell (same host
 * key: same boot and pid namespace), `undefined` when it cannot (another machine or container, no /proc).
 */
export function isRunAlive(run: RunId): boolean | undefined {
  const ours = hostKey();
  if (ours === undefined || run.host !== ours || run.processStart === 0) return undefined;
  const start = processStartTicks(run.pid);
  // No such process: the run is over. Another start time: its pid now belongs to another process.
  return start !== undefined && start === run.processStart;
}

let cachedHostKey: string | null | undefined;

function hostKey(): string | undefined {
  if (cachedHostKey === undefined) {
    try {
      const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
      const pidNamespace = readlinkSync('/proc/self/ns/pid');
      cachedHostKey =
        bootId && pidNamespace ? createHash('sha256').update(`${bootId}\0${pidNamespace}\0${hostname()}`).digest('hex').slice(0, 8) : null;
    } catch {
      cachedHostKey = null;
    }
  }
  return cachedHostKey ?? undefined;
}

/** The start time of a process in clock ticks after boot (field 22 of /proc/<pid>/stat), if it exists. */
function processStartTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 is the command in parentheses and may hold spaces: count from the last ')', which ends field 2.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const start = Number(fields[22 - 3]);
    return Number.isSafeInteger(start) && start > 0 ? start : undefined;
  } catch {
    return undefined;
  }
}

/**
 * In a test worker: the PGlite template dump of this run (the global setup provides the run's paths).
 * Empty in the main process, where nothing reads it.
 */
export const PGLITE_TEMPLATE_FILE: string =
  process.env.VITEST_WORKER_ID === undefined ? '' : (await import('vitest')).inject('testRun').pgliteTemplateFile;

/** In a test worker: this run's build of the app (`npm run build`), to start as `npm start` does: `node <it>`. */
export const APP_ENTRY: string = process.env.VITEST_WORKER_ID === undefined ? '' : (await import('vitest')).inject('testRun').appEntry;

declare module 'vitest' {
  export interface ProvidedContext {
    /** This run: its id, the prefix of its PostgreSQL databases, its PGlite template dump, and its build of the app. */
    testRun: { id: string; databasePrefix: string; pgliteTemplateFile: string; appEntry: string };
    /** PostgreSQL: the server and the run's migrated template database; null when TEST_DATABASE_URL is unset. */
    postgresTemplate: { url: string; template: string; prefix: string } | null;
  }
}
