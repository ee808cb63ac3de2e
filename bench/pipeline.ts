/**
 * The whole pipeline, as production runs it: `startApp` (bot, flow service, durable inbox, outbox sender,
 * TelegramGate + RateLimiter, scheduler, HTTP server in webhook mode) against a recording Bot API stub in
 * a child process (bench/stub.ts), every update fed through `app.inbox.ingest([update])` as the webhook
 * does, applied by the inbox worker through `bot.handleUpdate`, and the replies delivered by the outbox
 * sender over real HTTP. Compared in the same run with a plain Telegraf WizardScene bot whose session is
 * in the same PostgreSQL database (bench/baseline.ts).
 *
 * Scenario: N clients, each gets "Personal data" from the operator's button press (the real card's
 * `send` callback data) and answers its three prompts (text, text, a date): four updates per client.
 * `concurrency` clients are in flight at once; each client's next update is fed only once the bot's
 * reply to the previous one has reached the stub (and the previous feed has returned, as a webhook call
 * would).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import pino from 'pino';
import postgres from 'postgres';
import type { Update } from 'telegraf/types';
import { startApp, type App } from '../src/app.js';
import { openDatabase, rowsOf, type Database } from '../src/db/client.js';
import { pack, parse } from '../src/ui/callback-data.js';
import { startBaseline, type Baseline } from './baseline.js';
import { startDurableBaseline } from './baseline-durable.js';
import { BENCH_TOKEN, type BotApi, type StubCall } from './bot-api.js';
import { watchPgliteStatements } from './engines.js';
import { cpuMeter } from './cpu.js';
import { startProxy, type RoundTripProxy } from './proxy.js';
import { BOT_INFO } from './bot-info.js';
import { distribution, type Distribution } from './stats.js';

export const KINDS = ['press', 'answer1', 'answer2', 'answer3'] as const;
export type Kind = (typeof KINDS)[number];
export const KIND_LABEL: Record<Kind, string> = {
  press: 'operator press → flow started (client gets step 1)',
  answer1: 'answer 1 (text → step 2)',
  answer2: 'answer 2 (text → step 3)',
  answer3: 'answer 3 (date → summary)',
};
const ANSWERS = ['Anna Petrova', 'Moscow', '15.06.1990'] as const;
/** What the client must get back after each of its four updates. */
const EXPECT: Record<Kind, RegExp> = {
  press: /step 1 of 3/,
  answer1: /step 2 of 3/,
  answer2: /step 3 of 3/,
  answer3: /please check your answers/,
};

export const LOOSE_LIMITS = { globalPerSecond: 1e6, perChatBurst: 1e6, perChatPerSecond: 1e6 };
const OPERATOR_BASE = 90_000_001;

// ---- the engine: a database of its own, statements counted -----------------------------------------

export interface PipelineEngine {
  readonly name: 'PGlite' | 'PostgreSQL';
  /** PostgreSQL: the benchmark's own database. */
  readonly url: string | null;
  /** Where the database lives (for the report). */
  readonly description: string;
  /** Statements the app's database has sent so far. */
  statements(): number;
  /** Starts (a list) or stops (null) keeping the text of every statement the app's database sends. */
  record(into: string[] | null): void;
  /**
   * Opens the app's database (PostgreSQL: a pool of 10, the app's default; through the proxy with
   * `viaProxy`). `release` closes it (PostgreSQL: with its leader lock) when the app stops; PGlite's one
   * database stays open until the engine closes. Statements are counted through the proxy only:
   * postgres.js's `debug` hook makes it capture a stack trace (`new Error()`) for every query, which
   * would inflate the CPU figures of the measured phases.
   */
  open(viaProxy?: boolean): Promise<{ database: Database; release: () => Promise<void> }>;
  /** Round trips through the proxy so far (PostgreSQL; null on PGlite). */
  roundTrips(): number | null;
  /** PostgreSQL: the database's URL through the round-trip proxy (started on first use). */
  viaProxy(): Promise<string>;
  close(): Promise<void>;
}

/** PGlite in a fresh temporary data directory on disk (as the app runs it), statements counted. */
export async function pglitePipeline(): Promise<PipelineEngine> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'orb-bench-pipeline-'));
  const database = await openDatabase({ dataDir: dir });
  let count = 0;
  let recording: string[] | null = null;
  const seen = (q: string) => {
    count++;
    recording?.push(q);
  };
  watchPgliteStatements(database, seen);
  return {
    name: 'PGlite',
    url: null,
    description: `PGlite in a fresh data directory (${dir})`,
    statements: () => count,
    record: (into) => (recording = into),
    open: async () => ({ database, release: async () => {} }),
    roundTrips: () => null,
    viaProxy: () => Promise.reject(new Error('PGlite has no network')),
    close: async () => {
      await database.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A fresh database `orb_bench_pipeline_<random>` on the server at `url`, dropped at close. */
export async function postgresPipeline(url: string, poolSize?: number): Promise<PipelineEngine> {
  const name = `orb_bench_pipeline_${randomBytes(5).toString('hex')}`;
  const admin = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  await admin.unsafe(`create database "${name}"`);
  const target = new URL(url);
  target.pathname = `/${name}`;
  let count = 0;
  let recording: string[] | null = null;
  const opened = new Set<Database>();
  let proxy: RoundTripProxy | null = null;
  const viaProxy = async () => {
    proxy ??= await startProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const at = new URL(target);
    at.hostname = '127.0.0.1';
    at.port = String(proxy.port);
    return at.toString();
  };
  return {
    name: 'PostgreSQL',
    url: target.toString(),
    description: `PostgreSQL at ${target.hostname}:${target.port || '5432'}/${name} (fresh database, app pool of ${poolSize ?? 10})`,
    statements: () => count,
    record: (into) => (recording = into),
    async open(proxied = false) {
      const at = proxied ? await viaProxy() : target.toString();
      const database = await openDatabase({
        databaseUrl: at,
        ...(poolSize ? { poolSize } : {}),
        ...(proxied
          ? {
              debug: (_connection: number, query: string) => {
                count++;
                recording?.push(query);
              },
            }
          : {}),
      });
      opened.add(database);
      return {
        database,
        release: async () => {
          opened.delete(database);
          await database.close();
        },
      };
    },
    roundTrips: () => proxy?.roundTrips() ?? null,
    viaProxy,
    async close() {
      for (const d of opened) await d.close().catch(() => {});
      await proxy?.close();
      await admin.unsafe(`drop database if exists "${name}" with (force)`);
      await admin.end({ timeout: 5 });
    },
  };
}

// ---- the systems under test ----------------------------------------------------------------------

export interface System {
  readonly name: 'ours' | 'baseline';
  /** Feeds one update as a webhook call would; resolves when the webhook would answer. */
  feed(update: Update): Promise<void>;
  /** Creates clients `ids` as people who have opened the bot (ours needs them; the baseline does not). */
  addClients(ids: readonly number[]): Promise<void>;
  /** Waits until nothing is left to apply or to send. */
  drain(): Promise<void>;
  /** Ours: when the inbox worker started and finished applying each update (hrtime ns), by update_id. */
  readonly applied?: Map<number, { start: number; end: number }>;
  stop(): Promise<void>;
}

export async function startOurs(
  engine: PipelineEngine,
  api: BotApi,
  options: { viaProxy?: boolean; operators: readonly number[] },
): Promise<System & { app: App }> {
  const { database, release } = await engine.open(options.viaProxy ?? false);
  const app = await startApp({
    token: BENCH_TOKEN,
    apiRoot: api.apiRoot,
    operatorIds: options.operators,
    adminIds: [],
    dataDir: 'memory://',
    cataloguePath: 'config/catalogue.yaml',
    defaultLocale: 'en',
    port: 0,
    host: '127.0.0.1',
    // Webhook mode: no long polling; the benchmark calls the inbox as the webhook handler does.
    webhook: { url: 'http://127.0.0.1:9/telegram/webhook', secret: 'bench-secret' },
    logger: pino({ level: process.env.BENCH_LOG_LEVEL ?? 'silent' }),
    database,
    rateLimits: LOOSE_LIMITS,
  });
  const db = app.database.db;
  // When the inbox worker applies each update: splits a reply's latency into waiting in the inbox,
  // applying (handleUpdate, the flow command's transaction included) and delivery through the outbox.
  const applied = new Map<number, { start: number; end: number }>();
  const handleUpdate = app.bot.handleUpdate.bind(app.bot);
  app.bot.handleUpdate = async (update, response) => {
    const mark = { start: Number(process.hrtime.bigint()), end: 0 };
    applied.set(update.update_id, mark);
    try {
      return await handleUpdate(update, response);
    } finally {
      mark.end = Number(process.hrtime.bigint());
    }
  };
  return {
    name: 'ours',
    app,
    applied,
    feed: (update) => app.inbox.ingest([update]),
    async addClients(ids) {
      if (ids.length === 0) return;
      await db.execute(sql`
        insert into people (id, first_name, language_code, started_at)
        select g, 'Client ' || g, 'en', now() from unnest(${`{${ids.join(',')}}`}::bigint[]) as g
        on conflict (id) do nothing`);
    },
    async drain() {
      for (let i = 0; i < 200; i++) {
        await app.inbox.drain();
        await app.sender.flush();
        const [row] = rowsOf<{ inbox: number; outbox: number }>(
          await db.execute(
            sql`select (select count(*)::int from inbox where status = 'pending') as inbox, (select count(*)::int from outbox where status = 'pending') as outbox`,
          ),
        );
        if ((row?.inbox ?? 0) === 0 && (row?.outbox ?? 0) === 0) return;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error('the pipeline did not drain');
    },
    async stop() {
      await app.stop();
      await release();
    },
  };
}

/** Which baseline runs: the plain WizardScene bot, or one written by hand with ours' writes (bench/baseline-durable.ts). */
export type BaselineKind = 'plain' | 'durable';

/**
 * The baseline bot on the database at `url` (the engine's, or the same through the proxy). `count`:
 * statements are counted (postgres.js `debug`, which costs CPU: for the counting pass only).
 */
export async function startBaselineSystem(
  url: string,
  api: BotApi,
  options: { count?: boolean; kind?: BaselineKind } = {},
): Promise<System & { baseline: Baseline }> {
  const start = options.kind === 'durable' ? startDurableBaseline : startBaseline;
  const baseline = await start({ url, apiRoot: api.apiRoot, token: BENCH_TOKEN, botInfo: BOT_INFO, count: options.count ?? false });
  return {
    name: 'baseline',
    baseline,
    feed: (update) => baseline.feed(update),
    addClients: async () => {},
    drain: () => baseline.drain(),
    stop: () => baseline.close(),
  };
}

// ---- the scenario --------------------------------------------------------------------------------

let nextUpdateId = 1;
let nextClientId = 100_000_001;

export function newClients(count: number): number[] {
  return Array.from({ length: count }, () => nextClientId++);
}

/** Makes the callback data of the client card's "Personal data" button for any client. */
export type SendButton = (client: number) => string;

/**
 * The callback data the real client card puts on its "Personal data" button, learnt once from the card
 * itself: the operator opens a probe client's card (not measured), and the button's data is re-packed
 * with each client's id. So the presses are exactly what the operator menu packs, whatever its format.
 */
export async function learnSendButton(system: System, api: BotApi, operator: number): Promise<SendButton> {
  const [probe = 0] = newClients(1);
  await system.addClients([probe]);
  const card = api.next(
    operator,
    (call) =>
      (call.method === 'editMessageText' || call.method === 'sendMessage') && call.buttons.some((b) => parse(b.data)?.kind === 'send'),
  );
  await system.feed(pressUpdate(operator, probe, pack({ kind: 'client', client: probe })));
  const cardCall = await withTimeout(card, 30_000, () => 'the client card did not arrive within 30 s');
  const { buttons } = cardCall;
  const raw = buttons.find((b) => /Personal data/.test(b.text))?.data;
  const data = raw === undefined ? null : parse(raw);
  if (raw === undefined || data?.kind !== 'send' || data.client !== probe)
    throw new Error(`no "Personal data" button on the client card: ${JSON.stringify(cardCall)}`);
  return (client) => pack({ ...data, client });
}

function pressUpdate(operator: number, client: number, data: string): Update {
  const now = Math.floor(Date.now() / 1000);
  const id = nextUpdateId++;
  return {
    update_id: id,
    callback_query: {
      id: String(id),
      from: { id: operator, is_bot: false, first_name: 'Olga', last_name: 'Operator', language_code: 'en' },
      chat_instance: `ci${operator}`,
      // The client card the operator opened: the bot refreshes it in place after the press.
      message: {
        message_id: 1_000 + (client % 1_000_000),
        date: now,
        chat: { id: operator, type: 'private', first_name: 'Olga' },
        from: BOT_INFO,
        text: `👤 Client ${client}`,
      },
      data,
    },
  };
}

function textUpdate(client: number, text: string): Update {
  const id = nextUpdateId++;
  return {
    update_id: id,
    message: {
      message_id: id,
      date: Math.floor(Date.now() / 1000),
      chat: { id: client, type: 'private', first_name: `Client ${client}` },
      from: { id: client, is_bot: false, first_name: `Client ${client}`, language_code: 'en' },
      text,
    },
  };
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(what())), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

export interface Sample {
  readonly kind: Kind;
  readonly ms: number;
  /** Ours: milliseconds waiting in the inbox, applying, and from applied to the stub. */
  readonly stages?: { inbox: number; apply: number; delivery: number };
}

/** A client's four updates: the operator's press, then its three answers. */
function clientUpdates(operator: number, client: number, send: SendButton): [Kind, Update][] {
  return [
    ['press', pressUpdate(operator, client, send(client))],
    ['answer1', textUpdate(client, ANSWERS[0])],
    ['answer2', textUpdate(client, ANSWERS[1])],
    ['answer3', textUpdate(client, ANSWERS[2])],
  ];
}

/** One client's four updates, each after the reply to the previous one reached the stub. */
async function driveClient(
  system: System,
  api: BotApi,
  client: number,
  operator: number,
  send: SendButton,
  samples: Sample[],
): Promise<void> {
  for (const [kind, update] of clientUpdates(operator, client, send)) {
    const reply = api.next(client, (call) => call.method === 'sendMessage');
    const fedAt = Number(process.hrtime.bigint());
    await system.feed(update);
    const call: StubCall = await withTimeout(reply, 60_000, () => `${system.name}, client ${client}, ${kind}: no reply within 60 s`);
    if (!EXPECT[kind].test(call.text ?? ''))
      throw new Error(`${system.name}, client ${client}, ${kind}: unexpected reply ${JSON.stringify(call.text?.slice(0, 200))}`);
    const mark = system.applied?.get(update.update_id);
    system.applied?.delete(update.update_id);
    samples.push({
      kind,
      ms: (call.at - fedAt) / 1e6,
      // The press's reply can reach the stub before its handler returns (the card is refreshed after it).
      ...(mark
        ? {
            stages: {
              inbox: (mark.start - fedAt) / 1e6,
              apply: (Math.min(mark.end || call.at, call.at) - mark.start) / 1e6,
              delivery: Math.max(0, call.at - (mark.end || call.at)) / 1e6,
            },
          }
        : {}),
    });
  }
}

export interface PhaseResult {
  readonly system: 'ours' | 'baseline';
  readonly concurrency: number;
  readonly clients: number;
  readonly updates: number;
  readonly seconds: number;
  readonly updatesPerSecond: number;
  readonly latency: Distribution;
  readonly latencyByKind: Record<Kind, Distribution>;
  /** Ours: where a reply's time goes (ms): waiting in the inbox, applying the update, delivery after it. */
  readonly stages: { inbox: Distribution; apply: Distribution; delivery: Distribution } | null;
  readonly cpuMsPerUpdate: number;
  /** Per update (ms): this process's main thread and its other threads, the local PostgreSQL server; null off Linux. */
  readonly cpuSplit: { mainMs: number; threadsMs: number; serverMs: number | null } | null;
  /** The Bot API stand-in's own CPU per update (ms): the calls the system makes cost it this much. */
  readonly apiCpuMsPerUpdate: number;
  /** Bot API calls per client, by method. */
  readonly apiCallsPerClient: Record<string, number>;
  readonly peakRssMiB: number;
  readonly heapUsedMiB: number;
}

/** Samples RSS every 50 ms while a phase runs; the highest is its peak. */
function rssSampler(): { stop(): { peak: number; heap: number } } {
  let peak = process.memoryUsage().rss;
  let heap = process.memoryUsage().heapUsed;
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    peak = Math.max(peak, m.rss);
    heap = Math.max(heap, m.heapUsed);
  }, 50);
  return {
    stop() {
      clearInterval(timer);
      const m = process.memoryUsage();
      return { peak: Math.max(peak, m.rss), heap: Math.max(heap, m.heapUsed) };
    },
  };
}

/** N clients through the scenario, `concurrency` at once; timed from the first feed to the drained outbox. */
export async function runPhase(
  system: System,
  api: BotApi,
  options: {
    clients: number;
    concurrency: number;
    operators: readonly number[];
    send: SendButton;
    gc?: () => void;
    /** Also count the local PostgreSQL server's CPU time (see bench/cpu.ts). */
    server?: boolean;
  },
): Promise<PhaseResult> {
  const clients = newClients(options.clients);
  await system.addClients(clients);
  options.gc?.();
  const samples: Sample[] = [];
  const rss = rssSampler();
  const api0 = await api.usage();
  const meter = cpuMeter({ server: options.server ?? false });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let next = 0;
  const workers = Array.from({ length: Math.min(options.concurrency, clients.length) }, async () => {
    for (let i = next++; i < clients.length; i = next++) {
      const client = clients[i] ?? 0;
      const operator = options.operators[i % options.operators.length] ?? OPERATOR_BASE;
      await driveClient(system, api, client, operator, options.send, samples);
    }
  });
  await Promise.all(workers);
  await system.drain();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const split = meter.stop();
  const api1 = await api.usage();
  const memory = rss.stop();
  const updates = clients.length * KINDS.length;
  const calls: Record<string, number> = {};
  for (const [method, n] of Object.entries(api1.counts)) {
    const made = n - (api0.counts[method] ?? 0);
    if (made > 0) calls[method] = made / clients.length;
  }
  const byKind = Object.fromEntries(KINDS.map((k) => [k, distribution(samples.filter((s) => s.kind === k).map((s) => s.ms))])) as Record<
    Kind,
    Distribution
  >;
  return {
    system: system.name,
    concurrency: options.concurrency,
    clients: clients.length,
    updates,
    seconds,
    updatesPerSecond: updates / seconds,
    latency: distribution(samples.map((s) => s.ms)),
    latencyByKind: byKind,
    stages: samples.some((s) => s.stages)
      ? {
          inbox: distribution(samples.flatMap((s) => (s.stages ? [s.stages.inbox] : []))),
          apply: distribution(samples.flatMap((s) => (s.stages ? [s.stages.apply] : []))),
          delivery: distribution(samples.flatMap((s) => (s.stages ? [s.stages.delivery] : []))),
        }
      : null,
    cpuMsPerUpdate: (cpu.user + cpu.system) / 1000 / updates,
    cpuSplit: split
      ? {
          mainMs: split.mainMs / updates,
          threadsMs: split.threadsMs / updates,
          serverMs: split.serverMs === null ? null : split.serverMs / updates,
        }
      : null,
    apiCpuMsPerUpdate: (api1.cpuMs - api0.cpuMs) / updates,
    apiCallsPerClient: calls,
    peakRssMiB: memory.peak / 2 ** 20,
    heapUsedMiB: memory.heap / 2 ** 20,
  };
}

/** A short run to warm up connections, prepared statements and the JIT before a measured phase. */
/** Clients run through a system before a measured phase, by default. */
export const WARM_UP_CLIENTS = 40;

export async function warmUp(
  system: System,
  api: BotApi,
  operators: readonly number[],
  send: SendButton,
  clients = WARM_UP_CLIENTS,
): Promise<void> {
  await runPhase(system, api, { clients, concurrency: 8, operators, send });
}

// ---- statements and round trips per kind of update -----------------------------------------------

export interface KindCost {
  readonly kind: Kind;
  readonly statements: number;
  readonly roundTrips: number | null;
  /** The statements themselves (one line each, shortened), when recorded. */
  readonly texts: string[];
}

/**
 * Feeds clients one update at a time and counts what each update costs, background passes included
 * (the inbox worker, the outbox sender and its message log): from the feed until the database has been
 * quiet for 60 ms after the reply. The least of `repeat` clients (after warm-up) is taken, which leaves
 * out first-use statement preparation on a connection and the 1-second background passes.
 */
export async function costPerKind(
  system: System,
  api: BotApi,
  statements: () => number,
  roundTrips: () => number | null,
  options: { operators: readonly number[]; repeat: number; send: SendButton; record?: (into: string[] | null) => void },
): Promise<KindCost[]> {
  const clients = newClients(options.repeat);
  await system.addClients(clients);
  const best = new Map<Kind, Omit<KindCost, 'kind'>>();
  const quiet = async () => {
    for (let last = statements(), lastTrips = roundTrips(); ;) {
      await new Promise((r) => setTimeout(r, 60));
      if (statements() === last && roundTrips() === lastTrips) return;
      last = statements();
      lastTrips = roundTrips();
    }
  };
  for (const client of clients) {
    for (const [kind, update] of clientUpdates(options.operators[0] ?? OPERATOR_BASE, client, options.send)) {
      await quiet();
      const texts: string[] = [];
      options.record?.(texts);
      const s0 = statements();
      const r0 = roundTrips();
      const reply = api.next(client, (call) => call.method === 'sendMessage');
      await system.feed(update);
      const call = await withTimeout(reply, 60_000, () => `${system.name}, client ${client}, ${kind}: no reply within 60 s`);
      if (!EXPECT[kind].test(call.text ?? ''))
        throw new Error(`${system.name}, client ${client}, ${kind}: unexpected reply ${JSON.stringify(call.text?.slice(0, 200))}`);
      await quiet();
      options.record?.(null);
      system.applied?.delete(update.update_id);
      const cost = {
        statements: statements() - s0,
        roundTrips: r0 === null ? null : (roundTrips() ?? 0) - r0,
        texts: texts.map((q) => q.replace(/\s+/g, ' ').trim().slice(0, 140)),
      };
      const seen = best.get(kind);
      if (
        !seen ||
        cost.statements < seen.statements ||
        (cost.statements === seen.statements && (cost.roundTrips ?? 0) < (seen.roundTrips ?? 0))
      )
        best.set(kind, cost);
    }
  }
  return KINDS.map((kind) => ({
    kind,
    statements: best.get(kind)?.statements ?? Number.NaN,
    roundTrips: best.get(kind)?.roundTrips ?? null,
    texts: best.get(kind)?.texts ?? [],
  }));
}

export function operatorIds(count: number): number[] {
  return Array.from({ length: count }, (_, i) => OPERATOR_BASE + i);
}
