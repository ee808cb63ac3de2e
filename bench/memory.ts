/**
 * `npm run bench -- --memory`: the resident memory (RSS) of the app as people start it, against the
 * targets of docs/performance.md ("Memory").
 *
 * - **Playground**: `npm start` with no BOT_TOKEN, on an empty temporary DATA_DIR (the emulated
 *   Telegram, the bot and the page in one process), driven through the page's own HTTP API.
 * - **Bot on PGlite**: `npm start` with a BOT_TOKEN, on an empty temporary DATA_DIR, long polling a Bot
 *   API emulator that runs in this process (so its memory is not the bot's).
 * - **Bot on PostgreSQL** (only when a server URL is given: BENCH_DATABASE_URL or TEST_DATABASE_URL):
 *   the same, with DATABASE_URL naming a fresh database on that server that already holds 10,000 open
 *   and 10,000 finished flows (bench/scale.ts fills it before the app starts; it is dropped afterwards).
 *   Its target judges the peak: "Peak RSS ≤ 150 MB with 10,000 open flows on PostgreSQL".
 *
 * Each is measured a few seconds after it says it is ready (idle), while N clients go through "Personal
 * data" one after the other with a few at once (the operator opens the client's card from the arrival
 * notice, sends the request, the client answers its three prompts and confirms, the operator accepts),
 * and a few seconds after that. RSS is the app's node process, sampled with `ps` every 100 ms; the
 * tree adds npm, the shell and whatever node started.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { loadCatalogueFile } from '../src/config/catalogue.js';
import { openDatabase } from '../src/db/client.js';
import { startEmulator, type ChatSnapshot } from '../src/playground/emulator/index.js';
import { parse, type CallbackData } from '../src/ui/callback-data.js';
import { populate } from './scale.js';
import { table } from './stats.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const KiB_PER_MiB = 1024;
const ANSWERS = ['Anna Petrova', 'Moscow', '15.06.1990'] as const;
const STEP_TIMEOUT_MS = 60_000;
/** Open flows stored in the PostgreSQL database before the bot starts (the target's "10,000 open flows"). */
const POSTGRES_OPEN_FLOWS = 10_000;
/** Finished flows stored with them: bench/scale.ts gives each client with an open flow a finished one too. */
const POSTGRES_FINISHED_FLOWS = 10_000;

export interface MemoryOptions {
  /** Clients driven through a request after the idle measurement. */
  readonly clients: number;
  /** How many of them at once. */
  readonly concurrency: number;
  /** Seconds between "ready" (or the end of the traffic) and the measurement. */
  readonly idleSeconds: number;
  /** NODE_OPTIONS for the `npm start`s (to compare Node's memory flags); null: this process's own. */
  readonly nodeOptions: string | null;
}

/** RSS targets (MiB) of the performance issue. */
export const MEMORY_TARGETS = { playground: 300, bot: 250, botPostgres: 150 } as const;

/**
 * What each target judges: the app at rest (idle and after the traffic), or its peak (the highest
 * sample with the traffic, idle and after included): the PostgreSQL target is stated as a peak.
 */
const JUDGED: Record<keyof typeof MEMORY_TARGETS, ProcessMemory['judged']> = {
  playground: 'idle and after',
  bot: 'idle and after',
  botPostgres: 'peak',
};

export interface ProcessMemory {
  readonly name: keyof typeof MEMORY_TARGETS;
  readonly targetMiB: number;
  /** Which measurements the target is held against. */
  readonly judged: 'idle and after' | 'peak';
  /** From spawning `npm start` until it said it was ready. */
  readonly readySeconds: number;
  /** The app's node process, `idleSeconds` after ready. */
  readonly idleMiB: number;
  /** npm, its shell, node and node's children. */
  readonly idleTreeMiB: number;
  /** The highest sample while the clients went through their requests (idle and after count too). */
  readonly peakMiB: number;
  readonly trafficSeconds: number;
  /** `idleSeconds` after the traffic. */
  readonly afterMiB: number;
  readonly afterTreeMiB: number;
  /** What the database held before the app started; null: it started empty. */
  readonly stored: StoredFlows | null;
}

export interface StoredFlows {
  readonly open: number;
  readonly finished: number;
  /** How long filling the database took. */
  readonly populateSeconds: number;
  /** The database's size once filled (pg_database_size). */
  readonly megabytes: number | null;
}

export interface MemoryResult {
  readonly options: MemoryOptions;
  readonly processes: readonly ProcessMemory[];
}

/** Measures the playground and the bot on PGlite, and with a PostgreSQL server URL the bot on PostgreSQL. */
export async function runMemory(options: MemoryOptions, databaseUrl: string | null): Promise<MemoryResult> {
  const processes: ProcessMemory[] = [];
  console.error('measuring the playground (npm start, no BOT_TOKEN)…');
  processes.push(await measurePlayground(options));
  console.error('measuring the bot on PGlite (npm start with a BOT_TOKEN, polling an emulator)…');
  processes.push(await measureBot('bot', options, pgliteStore));
  if (databaseUrl) {
    console.error(`measuring the bot on PostgreSQL with ${count(POSTGRES_OPEN_FLOWS)} open flows stored (npm start with a DATABASE_URL)…`);
    processes.push(await measureBot('botPostgres', options, (operator) => postgresStore(databaseUrl, operator)));
  } else {
    console.error('the bot on PostgreSQL skipped: no BENCH_DATABASE_URL or TEST_DATABASE_URL is set.');
  }
  return { options, processes };
}

export function memoryReport(result: MemoryResult): string {
  const { clients, concurrency, idleSeconds, nodeOptions } = result.options;
  const mib = (v: number) => v.toFixed(0);
  const rows = result.processes.map((p) => [
    label(p),
    p.readySeconds.toFixed(1),
    mib(p.idleMiB),
    mib(p.peakMiB),
    mib(p.afterMiB),
    `${mib(p.idleTreeMiB)} / ${mib(p.afterTreeMiB)}`,
    `${p.judged} ≤ ${p.targetMiB}: ${judgedMiB(p) <= p.targetMiB ? 'met' : 'NOT met'}`,
  ]);
  const stored = result.processes.flatMap((p) => (p.stored ? [storedNote(p.stored)] : []));
  return [
    `Memory (RSS, MiB) · ${clients} clients through "Personal data", ${concurrency} at once · measured ${idleSeconds} s after ready and after the traffic` +
      (nodeOptions === null ? '' : ` · NODE_OPTIONS=${JSON.stringify(nodeOptions)}`),
    table(['process', 'ready (s)', 'idle', 'peak with traffic', 'after traffic', 'tree: idle / after', 'target'], rows),
    'RSS of the app\'s node process; "tree" adds npm and its shell (about 60 MiB) and anything node started.',
    ...stored,
  ].join('\n');
}

function label(p: ProcessMemory): string {
  switch (p.name) {
    case 'playground':
      return 'playground (npm start, no BOT_TOKEN)';
    case 'bot':
      return 'bot on PGlite (npm start, BOT_TOKEN)';
    case 'botPostgres':
      return `bot on PostgreSQL, ${count(p.stored?.open ?? 0)} open flows (npm start, BOT_TOKEN, DATABASE_URL)`;
  }
}

/** The measurement the target is held against (the peak already counts idle and after among its samples). */
function judgedMiB(p: ProcessMemory): number {
  return p.judged === 'peak' ? p.peakMiB : Math.max(p.idleMiB, p.afterMiB);
}

function storedNote(stored: StoredFlows): string {
  const size = stored.megabytes === null ? '' : `, ${stored.megabytes.toFixed(0)} MiB`;
  return `PostgreSQL: a fresh database filled with ${count(stored.open)} open and ${count(stored.finished)} finished flows before npm start (${stored.populateSeconds.toFixed(1)} s${size}), dropped afterwards.`;
}

const count = (n: number) => n.toLocaleString('en-US');

// ---- the processes -------------------------------------------------------------------------------

async function measurePlayground(options: MemoryOptions): Promise<ProcessMemory> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'orb-memory-playground-'));
  const port = await freePort();
  const env = { BOT_TOKEN: '', DATABASE_URL: '', DATA_DIR: dataDir, PORT: String(port) };
  const app = await startNpm(withNodeOptions(env, options), /Playground: http/);
  try {
    const base = `http://127.0.0.1:${port}`;
    const state = await getJson<{ operator: { id: number } }>(`${base}/api/state`);
    const driver = new Driver(base, state.operator.id);
    // A client as the page adds one: a new emulated user who opens the bot with /start.
    const newClient = async () => (await postJson<{ id: number }>(`${base}/api/clients`, {})).id;
    return await measure('playground', app, options, driver, newClient, null);
  } finally {
    await app.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Where the bot keeps its data: the environment that says so to `npm start`, and how to remove it afterwards. */
interface BotStore {
  readonly env: Record<string, string>;
  readonly stored: StoredFlows | null;
  close(): Promise<void>;
}

/**
 * The bot as `npm start` runs it with a BOT_TOKEN, long polling a Bot API emulator in this process. The
 * emulator, the bot and the operator come first: `store` is given the operator's id (to own stored
 * flows) and says where the data goes. Everything is closed again, also when the measurement fails.
 */
async function measureBot(
  name: ProcessMemory['name'],
  options: MemoryOptions,
  store: (operator: number) => Promise<BotStore>,
): Promise<ProcessMemory> {
  const emulator = await startEmulator({ host: '127.0.0.1' });
  try {
    const bot = emulator.createBot({ username: 'orb_memory_bot', firstName: 'Requests' });
    const operator = emulator.createUser({ firstName: 'Olga', lastName: 'Operator', languageCode: 'en' });
    const data = await store(operator.id);
    try {
      const port = await freePort();
      const env = {
        BOT_TOKEN: bot.token,
        TELEGRAM_API_ROOT: emulator.apiRoot,
        OPERATOR_IDS: String(operator.id),
        ADMIN_IDS: '',
        WEBHOOK_URL: '',
        ...data.env,
        PORT: String(port),
      };
      const app = await startNpm(withNodeOptions(env, options), /"msg":"ready"/);
      try {
        const driver = new Driver(emulator.apiRoot, operator.id);
        await postJson(`${emulator.apiRoot}/_emulator/users/${operator.id}/send`, { text: '/start' });
        let n = 0;
        const newClient = async () => {
          const user = emulator.createUser({ firstName: 'Client', lastName: String(++n), languageCode: 'en' });
          await user.send('/start');
          return user.id;
        };
        return await measure(name, app, options, driver, newClient, data.stored);
      } finally {
        await app.stop();
      }
    } finally {
      await data.close();
    }
  } finally {
    await emulator.close();
  }
}

/** PGlite in an empty temporary DATA_DIR, as a first `npm start` has it. */
async function pgliteStore(): Promise<BotStore> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'orb-memory-bot-'));
  return {
    env: { DATABASE_URL: '', DATA_DIR: dataDir },
    stored: null,
    close: () => rm(dataDir, { recursive: true, force: true }),
  };
}

/**
 * A fresh database on the PostgreSQL server at `url`, migrated and filled with the stored flows (owned
 * by `operator`) before the app starts, and dropped on close; dropped at once if filling it fails.
 * DATA_DIR is an empty temporary folder (nothing of the database lives there).
 */
async function postgresStore(url: string, operator: number): Promise<BotStore> {
  const name = `orb_bench_memory_${randomBytes(5).toString('hex')}`;
  const admin = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'orb-memory-postgres-'));
  const close = async () => {
    try {
      await admin.unsafe(`drop database if exists "${name}" with (force)`);
    } finally {
      await admin.end({ timeout: 5 });
      await rm(dataDir, { recursive: true, force: true });
    }
  };
  try {
    await admin.unsafe(`create database "${name}"`);
    const target = new URL(url);
    target.pathname = `/${name}`;
    const stored = await fill(target.toString(), operator);
    return { env: { DATABASE_URL: target.toString(), DATA_DIR: dataDir }, stored, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Migrates the database at `databaseUrl` and stores the open and finished flows in it (bench/scale.ts), then closes it. */
async function fill(databaseUrl: string, operator: number): Promise<StoredFlows> {
  const catalogue = await loadCatalogueFile(path.join(ROOT, 'config/catalogue.yaml'));
  const database = await openDatabase({ databaseUrl });
  try {
    console.error(`  storing ${count(POSTGRES_OPEN_FLOWS)} open and ${count(POSTGRES_FINISHED_FLOWS)} finished flows…`);
    const populated = await populate(database.db, catalogue, {
      finished: POSTGRES_FINISHED_FLOWS,
      open: POSTGRES_OPEN_FLOWS,
      operator,
      engine: 'postgres',
    });
    return { open: populated.open, finished: populated.finished, populateSeconds: populated.seconds, megabytes: populated.megabytes };
  } finally {
    await database.close();
  }
}

async function measure(
  name: ProcessMemory['name'],
  app: RunningApp,
  options: MemoryOptions,
  driver: Driver,
  newClient: () => Promise<number>,
  stored: StoredFlows | null,
): Promise<ProcessMemory> {
  await sleep(options.idleSeconds * 1000);
  const idle = await app.memory();
  const sampler = app.sampler();
  const began = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(options.concurrency, options.clients) }, async () => {
      while (next < options.clients) {
        next++;
        await driver.throughRequest(await newClient());
      }
    }),
  );
  const trafficSeconds = (performance.now() - began) / 1000;
  const peak = await sampler.stop();
  await sleep(options.idleSeconds * 1000);
  const after = await app.memory();
  return {
    name,
    targetMiB: MEMORY_TARGETS[name],
    judged: JUDGED[name],
    readySeconds: app.readySeconds,
    idleMiB: idle.app / KiB_PER_MiB,
    idleTreeMiB: idle.tree / KiB_PER_MiB,
    peakMiB: Math.max(peak, idle.app, after.app) / KiB_PER_MiB,
    trafficSeconds,
    afterMiB: after.app / KiB_PER_MiB,
    afterTreeMiB: after.tree / KiB_PER_MiB,
    stored,
  };
}

function withNodeOptions(env: Record<string, string>, options: MemoryOptions): Record<string, string> {
  return options.nodeOptions === null ? env : { ...env, NODE_OPTIONS: options.nodeOptions };
}

// ---- npm start as a child, and its RSS -----------------------------------------------------------

interface RunningApp {
  readonly readySeconds: number;
  /** RSS in KiB of the app's node process and of the whole tree. */
  memory(): Promise<{ app: number; tree: number }>;
  /** Samples the app's RSS every 100 ms until stopped; resolves with the highest (KiB). */
  sampler(): { stop(): Promise<number> };
  stop(): Promise<void>;
}

/** `npm start` in the project folder with `env` over this process's environment; ready when its output matches. */
async function startNpm(env: Record<string, string>, ready: RegExp): Promise<RunningApp> {
  const started = performance.now();
  const child = spawn('npm', ['start'], {
    cwd: ROOT,
    env: { ...process.env, DEFAULT_LOCALE: 'en', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-64 * 1024);
      if (ready.test(output)) resolve();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', reject);
    void exited.then((code) => reject(new Error(`npm start exited with ${code} before it was ready:\n${output.slice(-4000)}`)));
  });
  const readySeconds = (performance.now() - started) / 1000;
  const npm = child.pid ?? 0;
  const appPid = await findApp(npm);
  const memory = async () => {
    const processes = await processTable();
    const tree = descendants(processes, npm);
    return { app: processes.get(appPid)?.rss ?? 0, tree: tree.reduce((sum, pid) => sum + (processes.get(pid)?.rss ?? 0), 0) };
  };
  return {
    readySeconds,
    memory,
    sampler() {
      let peak = 0;
      let running = true;
      const loop = (async () => {
        while (running) {
          peak = Math.max(peak, (await memory()).app);
          await sleep(100);
        }
      })();
      return {
        async stop() {
          running = false;
          await loop;
          return peak;
        },
      };
    },
    async stop() {
      // npm does not pass SIGINT on to node: the app is stopped itself, as Ctrl+C stops it in a terminal.
      process.kill(appPid, 'SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

interface ProcessRow {
  readonly ppid: number;
  /** KiB. */
  readonly rss: number;
  readonly args: string;
}

async function processTable(): Promise<Map<number, ProcessRow>> {
  const { stdout } = await promisify(execFile)('ps', ['-A', '-o', 'pid=,ppid=,rss=,args=']);
  const rows = new Map<number, ProcessRow>();
  for (const line of stdout.split('\n')) {
    const match = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(.*)$/.exec(line);
    if (match) rows.set(Number(match[1]), { ppid: Number(match[2]), rss: Number(match[3]), args: match[4] ?? '' });
  }
  return rows;
}

function descendants(processes: ReadonlyMap<number, ProcessRow>, root: number): number[] {
  const out = [root];
  for (let i = 0; i < out.length; i++) {
    for (const [pid, row] of processes) if (row.ppid === out[i]) out.push(pid);
  }
  return out.filter((pid) => processes.has(pid));
}

/** The node process running the app (dist/main.mjs, built from src/main.ts) below npm (npm → sh → node). */
async function findApp(npm: number): Promise<number> {
  const processes = await processTable();
  const app = descendants(processes, npm).find((pid) => /(^|\/)node\b.*dist\/main\.mjs/.test(processes.get(pid)?.args ?? ''));
  if (app === undefined) throw new Error('npm start is running, but no node process of dist/main.mjs below it');
  return app;
}

// ---- driving the chats through the emulator's JSON API -------------------------------------------

interface Button {
  readonly messageId: number;
  readonly text: string;
  readonly data: CallbackData;
  readonly raw: string;
}

/** The emulated operator and clients, through `/_emulator/*` (the playground passes it on to its emulator). */
class Driver {
  constructor(
    private readonly base: string,
    private readonly operator: number,
  ) {}

  /**
   * One client through "Personal data": the operator opens their card from the arrival notice and sends
   * the request, the client answers and confirms, the operator accepts. Each step waits for the bot.
   */
  async throughRequest(client: number): Promise<void> {
    const card = await this.waitButton(this.operator, (b) => b.data.kind === 'client' && b.data.client === client, 'the arrival notice');
    await this.press(this.operator, card);
    const send = await this.waitButton(
      this.operator,
      (b) => b.data.kind === 'send' && b.data.client === client && /Personal data/.test(b.text),
      'the client card',
    );
    let seen = botMessages(await this.chat(client));
    await this.press(this.operator, send);
    for (const text of ANSWERS) {
      seen = await this.waitNew(client, seen, 'a prompt');
      await postJson(`${this.base}/_emulator/users/${client}/send`, { text });
    }
    const confirm = await this.waitButton(client, (b) => b.data.kind === 'confirm', 'the summary');
    await this.press(client, confirm);
    const flow = confirm.data.kind === 'confirm' ? confirm.data.flow : 0;
    const accept = await this.waitButton(this.operator, (b) => b.data.kind === 'accept' && b.data.flow === flow, 'the review card');
    seen = botMessages(await this.chat(client));
    await this.press(this.operator, accept);
    await this.waitNew(client, seen, 'the acceptance');
  }

  private chat(user: number): Promise<ChatSnapshot> {
    return getJson<ChatSnapshot>(`${this.base}/_emulator/chats/${user}`);
  }

  private press(user: number, button: Button): Promise<unknown> {
    return postJson(`${this.base}/_emulator/users/${user}/press`, { messageId: button.messageId, data: button.raw });
  }

  /** The newest button in `user`'s chat that `accept` takes. */
  private waitButton(user: number, accept: (button: Button) => boolean, what: string): Promise<Button> {
    return this.waitFor(user, what, (chat) => {
      for (const message of [...chat.messages].reverse()) {
        if (message.from !== 'bot' || message.deleted) continue;
        const markup = message.replyMarkup as { inline_keyboard?: { text: string; callback_data?: string }[][] } | undefined;
        const buttons = (markup?.inline_keyboard ?? []).flat().flatMap((b) => {
          const data = b.callback_data === undefined ? null : parse(b.callback_data);
          return data && b.callback_data ? [{ messageId: message.messageId, text: b.text, data, raw: b.callback_data }] : [];
        });
        const found = buttons.find(accept);
        if (found) return found;
      }
      return undefined;
    });
  }

  /** Waits for more bot messages in `user`'s chat than `seen`; returns the new count. */
  private waitNew(user: number, seen: number, what: string): Promise<number> {
    return this.waitFor(user, what, (chat) => {
      const count = botMessages(chat);
      return count > seen ? count : undefined;
    });
  }

  private async waitFor<T>(user: number, what: string, found: (chat: ChatSnapshot) => T | undefined): Promise<T> {
    const deadline = performance.now() + STEP_TIMEOUT_MS;
    for (;;) {
      const chat = await this.chat(user);
      const value = found(chat);
      if (value !== undefined) return value;
      if (performance.now() > deadline)
        throw new Error(`chat ${user}: no ${what} within ${STEP_TIMEOUT_MS / 1000} s\n${chat.transcript.slice(-2000)}`);
      await sleep(50);
    }
  }
}

function botMessages(chat: ChatSnapshot): number {
  return chat.messages.filter((m) => m.from === 'bot' && !m.deleted).length;
}

// ---- small helpers -------------------------------------------------------------------------------

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function postJson<T>(url: string, body: unknown): Promise<T> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`POST ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
