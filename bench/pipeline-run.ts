/**
 * Runs the pipeline benchmark (bench/pipeline.ts) on each engine and reports it: one table of ours
 * against the Telegraf baseline, where a reply's time goes, the Bot API stand-in's speed, and with
 * `--scale` the same figures on a database holding a history.
 */
import { runInNewContext } from 'node:vm';
import v8 from 'node:v8';
import { writeFile } from 'node:fs/promises';
import { sql } from 'drizzle-orm';
import { loadCatalogueFile } from '../src/config/catalogue.js';
import { RateLimiter } from '../src/delivery/limiter.js';
import { rowsOf } from '../src/db/client.js';
import { isLocalServer } from './cpu.js';
import { measureApi, startBotApi, type ApiSpeed, type BotApi } from './bot-api.js';
import {
  costPerKind,
  KIND_LABEL,
  KINDS,
  learnSendButton,
  operatorIds,
  pglitePipeline,
  postgresPipeline,
  runPhase,
  startBaselineSystem,
  type BaselineKind,
  startOurs,
  warmUp,
  type KindCost,
  type PhaseResult,
  type PipelineEngine,
  type SendButton,
  type System,
} from './pipeline.js';
import { populate, type Populated } from './scale.js';
import { ms, table } from './stats.js';

export interface PipelineOptions {
  readonly clients: number;
  readonly concurrencies: readonly number[];
  readonly operators: number;
  /** Which systems run: both, or one (profiling). */
  readonly only: 'ours' | 'baseline' | null;
  /** Which baseline: the plain WizardScene bot, or the one written by hand with ours' writes. */
  readonly baseline: BaselineKind;
  readonly engines: readonly ('postgres' | 'pglite')[];
  readonly scale: boolean;
  readonly finished: number;
  readonly open: number;
  /** Diagnostic: the rate limiter lets every call through at once (never the app's configuration). */
  readonly bypassLimiter: boolean;
  /** Diagnostic: the app's PostgreSQL pool size (the app's default, 10, when null). */
  readonly pool: number | null;
  /** Counting pass: clients fed one update at a time (the least of them is reported). */
  readonly repeat: number;
  /** Clients run through each system before each measured phase (the JIT compiler's warm-up). */
  readonly warmUp: number;
  /** Compare the stub's speed with the emulator's first. */
  readonly compareApi: boolean;
  /** Profiling: writes the measured phases' time window (process.hrtime, µs) here. */
  readonly windowFile: string | null;
}

export interface EngineRun {
  readonly engine: 'PostgreSQL' | 'PGlite';
  readonly description: string;
  readonly server: string;
  readonly phases: PhaseResult[];
  readonly costs: { ours: KindCost[] | null; baseline: KindCost[] | null };
  readonly scale: ScaleRun | null;
}

/**
 * The scale check: ours on a fresh, empty database and on one filled with a history, measured close
 * together in time. PostgreSQL: two fresh databases, the phases interleaved (empty, history, history,
 * empty, …) so that a drift of the machine's load does not favour one side. PGlite: one fresh database,
 * measured empty, then filled and measured again (two PGlite instances in one process would blur RSS).
 */
export interface ScaleRun {
  readonly populated: Populated;
  readonly empty: PhaseResult[];
  readonly history: PhaseResult[];
}

export interface PipelineResult {
  readonly options: PipelineOptions;
  readonly api: ApiSpeed[];
  readonly engines: EngineRun[];
  readonly seconds: number;
}

/**
 * One measured phase of a started system: warmed up first (`options.warmUp` clients), then, announced by
 * `started`, `options.clients` clients at `concurrency` at once; its time window is noted for --profile.
 */
async function measuredPhase(
  system: System,
  send: SendButton,
  concurrency: number,
  started: () => void,
  context: {
    api: BotApi;
    options: PipelineOptions;
    operators: readonly number[];
    gc: () => void;
    server: boolean;
    window: { start: number; end: number }[];
  },
): Promise<PhaseResult> {
  const { api, options, operators, gc, server, window } = context;
  await warmUp(system, api, operators, send, options.warmUp);
  started();
  const began = Number(process.hrtime.bigint() / 1000n);
  const result = await runPhase(system, api, { clients: options.clients, concurrency, operators, send, gc, server });
  window.push({ start: began, end: Number(process.hrtime.bigint() / 1000n) });
  return result;
}

/** A full collection between phases, so one phase's garbage is not the next one's peak. */
function collector(): () => void {
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    return () => gc();
  } catch {
    return () => {};
  }
}

async function serverVersion(engine: PipelineEngine): Promise<string> {
  const { database, release } = await engine.open();
  try {
    return rowsOf<{ v: string }>(await database.db.execute(sql`select current_setting('server_version') as v`))[0]?.v ?? '?';
  } finally {
    await release();
  }
}

async function runEngine(
  engine: PipelineEngine,
  api: BotApi,
  options: PipelineOptions,
  window: { start: number; end: number }[],
): Promise<EngineRun> {
  const gc = collector();
  const operators = operatorIds(options.operators);
  const server = await serverVersion(engine);
  const localServer = isLocalServer(engine.url);
  const runOurs = options.only !== 'baseline';
  const runBaseline = options.only !== 'ours' && engine.url !== null;
  const log = (message: string) => console.error(`  ${engine.name}: ${message}`);

  // The "Personal data" button of the real client card, learnt once (ours must be able to run for it).
  let send: SendButton;
  {
    const probe = await startOurs(engine, api, { operators });
    send = await learnSendButton(probe, api, operators[0] ?? 0);
    await probe.stop();
  }

  // Statements and round trips per kind of update: one update at a time, through the counting proxy.
  log('counting statements and round trips per update');
  let oursCosts: KindCost[] | null = null;
  let baselineCosts: KindCost[] | null = null;
  if (runOurs) {
    const ours = await startOurs(engine, api, { operators, viaProxy: engine.url !== null });
    try {
      await warmUp(ours, api, operators, send, 20);
      oursCosts = await costPerKind(
        ours,
        api,
        () => engine.statements(),
        () => engine.roundTrips(),
        { operators, repeat: options.repeat, send, record: (into) => engine.record(into) },
      );
    } finally {
      await ours.stop();
    }
  }
  if (runBaseline) {
    const baseline = await startBaselineSystem(await engine.viaProxy(), api, { count: true, kind: options.baseline });
    try {
      await warmUp(baseline, api, operators, send, 20);
      baselineCosts = await costPerKind(
        baseline,
        api,
        () => baseline.baseline.statements(),
        () => engine.roundTrips(),
        {
          operators,
          repeat: options.repeat,
          send,
          record: (into) => baseline.baseline.record(into),
        },
      );
    } finally {
      await baseline.stop();
    }
  }

  const measure = async (start: () => Promise<System>, concurrency: number): Promise<PhaseResult> => {
    const system = await start();
    try {
      const started = () => log(`${system.name}, ${options.clients} clients, ${concurrency} at once`);
      return await measuredPhase(system, send, concurrency, started, { api, options, operators, gc, server: localServer, window });
    } finally {
      await system.stop();
    }
  };
  const ours = () => startOurs(engine, api, { operators });
  const baseline = () => startBaselineSystem(engine.url ?? '', api, { kind: options.baseline });
  const phases: PhaseResult[] = [];
  for (const [i, concurrency] of options.concurrencies.entries()) {
    // Alternate which goes first, so that a drift of the machine's load does not favour one side.
    const order = i % 2 === 0 ? [runOurs && ours, runBaseline && baseline] : [runBaseline && baseline, runOurs && ours];
    for (const start of order) if (start) phases.push(await measure(start, concurrency));
  }

  return {
    engine: engine.name,
    description: engine.description,
    server,
    phases,
    costs: { ours: oursCosts, baseline: baselineCosts },
    scale: null,
  };
}

async function runScale(
  kind: 'postgres' | 'pglite',
  url: string | undefined,
  api: BotApi,
  options: PipelineOptions,
  window: { start: number; end: number }[],
): Promise<ScaleRun> {
  const gc = collector();
  const operators = operatorIds(options.operators);
  const engines: PipelineEngine[] = [];
  const fresh = async () => {
    const engine = kind === 'postgres' && url ? await postgresPipeline(url, options.pool ?? undefined) : await pglitePipeline();
    engines.push(engine);
    return engine;
  };
  const log = (message: string) => console.error(`  ${engines[0]?.name ?? kind}, scale check: ${message}`);
  const fill = async (engine: PipelineEngine): Promise<Populated> => {
    log(`filling a database with ${options.finished} finished and ${options.open} open flows`);
    const { database, release } = await engine.open();
    try {
      const populated = await populate(database.db, await loadCatalogueFile('config/catalogue.yaml'), {
        finished: options.finished,
        open: options.open,
        operator: operators[0] ?? 0,
        engine: kind,
      });
      log(`filled in ${populated.seconds.toFixed(0)} s`);
      return populated;
    } finally {
      await release();
    }
  };
  const measure = async (engine: PipelineEngine, label: string, concurrency: number): Promise<PhaseResult> => {
    const system = await startOurs(engine, api, { operators });
    try {
      const send = await learnSendButton(system, api, operators[0] ?? 0);
      const started = () => log(`ours on the ${label} database, ${options.clients} clients, ${concurrency} at once`);
      return await measuredPhase(system, send, concurrency, started, {
        api,
        options,
        operators,
        gc,
        server: isLocalServer(engine.url),
        window,
      });
    } finally {
      await system.stop();
    }
  };
  const empty: PhaseResult[] = [];
  const history: PhaseResult[] = [];
  try {
    if (kind === 'postgres') {
      const a = await fresh();
      const b = await fresh();
      const populated = await fill(b);
      for (const [i, concurrency] of options.concurrencies.entries()) {
        if (i % 2 === 0) {
          empty.push(await measure(a, 'empty', concurrency));
          history.push(await measure(b, 'filled', concurrency));
        } else {
          history.push(await measure(b, 'filled', concurrency));
          empty.push(await measure(a, 'empty', concurrency));
        }
      }
      return { populated, empty, history };
    }
    const engine = await fresh();
    for (const concurrency of options.concurrencies) empty.push(await measure(engine, 'empty', concurrency));
    const populated = await fill(engine);
    for (const concurrency of options.concurrencies) history.push(await measure(engine, 'filled', concurrency));
    return { populated, empty, history };
  } finally {
    for (const engine of engines) await engine.close();
  }
}

export async function runPipeline(options: PipelineOptions, url: string | undefined): Promise<PipelineResult> {
  const began = performance.now();
  if (options.bypassLimiter) {
    // Diagnostic only: what the limiter's pacing costs (it keeps at least 7 ms between any two messages).
    RateLimiter.prototype.acquire = async () => {};
  }
  const api: ApiSpeed[] = [];
  if (options.compareApi) {
    console.error('pipeline: Bot API stand-ins (stub and emulator)…');
    for (const mode of ['stub', 'emulator'] as const) api.push(await measureApi(mode, 1_000));
  }
  const stub = await startBotApi('stub');
  const window: { start: number; end: number }[] = [];
  const engines: EngineRun[] = [];
  try {
    for (const kind of options.engines) {
      if (kind === 'postgres' && !url) {
        console.error('pipeline: PostgreSQL skipped: set BENCH_DATABASE_URL (or TEST_DATABASE_URL) to measure it (and the baseline).');
        continue;
      }
      const engine = kind === 'postgres' && url ? await postgresPipeline(url, options.pool ?? undefined) : await pglitePipeline();
      let run: EngineRun;
      try {
        console.error(`pipeline on ${engine.name}…`);
        run = await runEngine(engine, stub, options, window);
      } finally {
        await engine.close();
      }
      if (options.scale && options.only !== 'baseline') run = { ...run, scale: await runScale(kind, url, stub, options, window) };
      engines.push(run);
    }
  } finally {
    await stub.close();
  }
  if (options.windowFile) await writeFile(options.windowFile, JSON.stringify(window));
  return { options, api, engines, seconds: (performance.now() - began) / 1000 };
}

// ---- report --------------------------------------------------------------------------------------

const fixed = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '—');
/** a ÷ b with two significant digits (0.051×, 7.3×, 44×). */
const ratio = (a: number, b: number) => {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return '—';
  const r = a / b;
  return `${r >= 10 ? r.toFixed(0) : Number(r.toPrecision(2)).toString()}×`;
};
const triple = (d: { p50: number; p95: number; p99: number }) => `${ms(d.p50)} / ${ms(d.p95)} / ${ms(d.p99)}`;

function phase(
  run: EngineRun | undefined,
  system: 'ours' | 'baseline',
  concurrency: number,
  phases?: PhaseResult[],
): PhaseResult | undefined {
  return (phases ?? run?.phases)?.find((p) => p.system === system && p.concurrency === concurrency);
}

const sum = (calls: Record<string, number>) => Object.values(calls).reduce((a, b) => a + b, 0);

/** "7 (sendMessage 5, editMessageText 1, answerCallbackQuery 1)": calls per client, the most made first. */
function callsCell(calls: Record<string, number>): string {
  const parts = Object.entries(calls)
    .sort((a, b) => b[1] - a[1])
    .map(([method, n]) => `${method} ${fixed(n, 1)}`);
  return `${fixed(sum(calls), 1)} (${parts.join(', ')})`;
}

/** The one table: ours and the baseline on PostgreSQL, their ratio, and ours on PGlite. */
export function pipelineTable(result: PipelineResult): string {
  const pg = result.engines.find((e) => e.engine === 'PostgreSQL');
  const lite = result.engines.find((e) => e.engine === 'PGlite');
  const columns: { head: string; cell: (row: RowSpec) => string }[] = [];
  if (pg) {
    columns.push({ head: 'PostgreSQL: ours', cell: (r) => r.value(pg, 'ours') });
    if (pg.costs.baseline || pg.phases.some((p) => p.system === 'baseline')) {
      const head =
        result.options.baseline === 'durable' ? 'PostgreSQL: Telegraf baseline with ours’ writes' : 'PostgreSQL: Telegraf baseline';
      columns.push({ head, cell: (r) => r.value(pg, 'baseline') });
      columns.push({ head: 'ours ÷ baseline', cell: (r) => r.ratio(pg) });
    }
  }
  if (lite) columns.push({ head: 'PGlite: ours (no baseline)', cell: (r) => r.value(lite, 'ours') });

  interface RowSpec {
    readonly name: string;
    value(run: EngineRun, system: 'ours' | 'baseline'): string;
    ratio(run: EngineRun): string;
  }
  const rows: RowSpec[] = [];
  /** A row of one cell per phase, and the ratio of ours to the baseline's (when both ran). */
  const phaseRow = (
    name: string,
    concurrency: number,
    cell: (p: PhaseResult) => string,
    compare: (ours: PhaseResult, baseline: PhaseResult) => string,
  ) =>
    rows.push({
      name,
      value: (run, system) => {
        const p = phase(run, system, concurrency);
        return p ? cell(p) : '—';
      },
      ratio: (run) => {
        const a = phase(run, 'ours', concurrency);
        const b = phase(run, 'baseline', concurrency);
        return a && b ? compare(a, b) : '—';
      },
    });
  /** A row of one number per phase (null: not measured there). */
  const perPhase = (name: string, concurrency: number, get: (p: PhaseResult) => number | null, digits: number) =>
    phaseRow(
      name,
      concurrency,
      (p) => {
        const n = get(p);
        return n === null ? '—' : fixed(n, digits);
      },
      (a, b) => {
        const x = get(a);
        const y = get(b);
        return x !== null && y !== null ? ratio(x, y) : '—';
      },
    );
  for (const c of result.options.concurrencies) perPhase(`updates/s, ${c} clients at once`, c, (p) => p.updatesPerSecond, 0);
  for (const c of result.options.concurrencies)
    phaseRow(
      `p50 / p95 / p99 per update (ms), ${c} at once`,
      c,
      (p) => triple(p.latency),
      (a, b) => `${ratio(a.latency.p50, b.latency.p50)} / ${ratio(a.latency.p95, b.latency.p95)} / ${ratio(a.latency.p99, b.latency.p99)}`,
    );
  for (const c of result.options.concurrencies) perPhase(`Node CPU ms per update, ${c} at once`, c, (p) => p.cpuMsPerUpdate, 2);
  for (const c of result.options.concurrencies)
    perPhase(`… of it on the main thread (ms), ${c} at once`, c, (p) => p.cpuSplit?.mainMs ?? null, 2);
  for (const c of result.options.concurrencies)
    perPhase(`… of it on other threads: JIT compiler, GC (ms), ${c} at once`, c, (p) => p.cpuSplit?.threadsMs ?? null, 2);
  for (const c of result.options.concurrencies)
    perPhase(`PostgreSQL server CPU ms per update (local server), ${c} at once`, c, (p) => p.cpuSplit?.serverMs ?? null, 2);
  for (const c of result.options.concurrencies)
    perPhase(`Bot API stand-in CPU ms per update, ${c} at once`, c, (p) => p.apiCpuMsPerUpdate, 2);
  for (const c of result.options.concurrencies)
    phaseRow(
      `Bot API calls per client, ${c} at once`,
      c,
      (p) => callsCell(p.apiCallsPerClient),
      (a, b) => ratio(sum(a.apiCallsPerClient), sum(b.apiCallsPerClient)),
    );
  for (const kind of KINDS) {
    rows.push({
      name: `statements (round trips): ${KIND_LABEL[kind]}`,
      value: (run, system) => {
        const cost = run.costs[system]?.find((k) => k.kind === kind);
        if (!cost) return '—';
        return cost.roundTrips === null ? String(cost.statements) : `${cost.statements} (${cost.roundTrips})`;
      },
      ratio: (run) => {
        const a = run.costs.ours?.find((k) => k.kind === kind);
        const b = run.costs.baseline?.find((k) => k.kind === kind);
        return a && b ? ratio(a.statements, b.statements) : '—';
      },
    });
  }
  const total = (costs: KindCost[] | null | undefined) => {
    if (!costs) return null;
    const statements = costs.reduce((n, c) => n + c.statements, 0);
    const trips = costs.every((c) => c.roundTrips !== null) ? costs.reduce((n, c) => n + (c.roundTrips ?? 0), 0) : null;
    return { statements, trips };
  };
  rows.push({
    name: 'statements (round trips) per client, all 4 updates',
    value: (run, system) => {
      const t = total(run.costs[system]);
      return t ? (t.trips === null ? String(t.statements) : `${t.statements} (${t.trips})`) : '—';
    },
    ratio: (run) => {
      const a = total(run.costs.ours);
      const b = total(run.costs.baseline);
      return a && b ? ratio(a.statements, b.statements) : '—';
    },
  });
  for (const c of result.options.concurrencies) perPhase(`peak RSS (MiB), ${c} at once`, c, (p) => p.peakRssMiB, 0);
  for (const c of result.options.concurrencies) perPhase(`wall time (s) incl. draining the outbox, ${c} at once`, c, (p) => p.seconds, 1);

  return table(
    ['metric', ...columns.map((c) => c.head)],
    rows.map((r) => [r.name, ...columns.map((c) => c.cell(r))]),
  );
}

/** Where ours spends a reply's time: in the inbox, applying it, delivering it. */
function stagesTable(result: PipelineResult): string {
  const rows: string[][] = [];
  for (const run of result.engines) {
    for (const p of run.phases.filter((x) => x.system === 'ours' && x.stages)) {
      const s = p.stages;
      if (!s) continue;
      rows.push([
        `${run.engine}, ${p.concurrency} at once`,
        triple(s.inbox),
        triple(s.apply),
        triple(s.delivery),
        KINDS.map((k) => ms(p.latencyByKind[k].p50)).join(' / '),
      ]);
    }
  }
  return table(
    [
      'ours',
      'waiting in the inbox p50/p95/p99',
      'applying (handleUpdate)',
      'delivery after it (outbox)',
      'p50 by update: press / a1 / a2 / a3',
    ],
    rows,
  );
}

function scaleTable(result: PipelineResult): string | null {
  const rows: string[][] = [];
  for (const run of result.engines) {
    if (!run.scale) continue;
    for (const c of result.options.concurrencies) {
      const empty = phase(run, 'ours', c, run.scale.empty);
      const full = phase(run, 'ours', c, run.scale.history);
      if (!empty || !full) continue;
      const row = (name: string, a: string, b: string, r: string) => rows.push([`${run.engine}, ${c} at once: ${name}`, a, b, r]);
      const pct = (a: number, b: number) =>
        Number.isFinite(a) && Number.isFinite(b) && a !== 0 ? `${b >= a ? '+' : ''}${(((b - a) / a) * 100).toFixed(0)} %` : '—';
      row('p50 per update (ms)', ms(empty.latency.p50), ms(full.latency.p50), pct(empty.latency.p50, full.latency.p50));
      row('p95 per update (ms)', ms(empty.latency.p95), ms(full.latency.p95), pct(empty.latency.p95, full.latency.p95));
      row('p99 per update (ms)', ms(empty.latency.p99), ms(full.latency.p99), pct(empty.latency.p99, full.latency.p99));
      row('updates/s', fixed(empty.updatesPerSecond), fixed(full.updatesPerSecond), pct(empty.updatesPerSecond, full.updatesPerSecond));
      row(
        'Node CPU ms per update',
        fixed(empty.cpuMsPerUpdate, 2),
        fixed(full.cpuMsPerUpdate, 2),
        pct(empty.cpuMsPerUpdate, full.cpuMsPerUpdate),
      );
      row('peak RSS (MiB)', fixed(empty.peakRssMiB), fixed(full.peakRssMiB), pct(empty.peakRssMiB, full.peakRssMiB));
      row('peak JS heap used (MiB)', fixed(empty.heapUsedMiB), fixed(full.heapUsedMiB), pct(empty.heapUsedMiB, full.heapUsedMiB));
    }
  }
  return rows.length === 0 ? null : table(['scale check (ours)', 'empty database', 'with history', 'change'], rows);
}

/** Every statement of each kind of update (ours and the baseline), as counted. */
export function statementsListing(result: PipelineResult): string {
  const out: string[] = [];
  for (const run of result.engines) {
    for (const system of ['ours', 'baseline'] as const) {
      const costs = run.costs[system];
      if (!costs) continue;
      out.push('', `Statements per update on ${run.engine}, ${system} (one update at a time, background passes included):`);
      for (const cost of costs) {
        out.push(
          `  ${KIND_LABEL[cost.kind]}: ${cost.statements}${cost.roundTrips === null ? '' : ` statements, ${cost.roundTrips} round trips`}`,
        );
        for (const text of cost.texts) out.push(`    ${text}`);
      }
    }
  }
  return out.join('\n');
}

export function pipelineReport(result: PipelineResult, verbose = false): string {
  const out: string[] = [];
  const o = result.options;
  out.push(
    `Pipeline benchmark: ${o.clients} clients per phase, 4 updates each (operator press, 3 answers); ${o.operators} operator${o.operators === 1 ? '' : 's'}; ` +
      `loose rate limits${o.bypassLimiter ? '; DIAGNOSTIC: rate limiter bypassed' : ''}${o.pool ? `; DIAGNOSTIC: app pool of ${o.pool}` : ''}`,
  );
  for (const run of result.engines) out.push(`  ${run.engine}: ${run.description}, server ${run.server}`);
  if (!result.engines.some((e) => e.engine === 'PostgreSQL')) out.push('  (no PostgreSQL: the baseline runs on PostgreSQL only)');
  if (result.api.length > 0) {
    out.push('', 'Bot API stand-in: sendMessage through telegraf over HTTP, each in a child process');
    out.push(
      table(
        ['Bot API', 'sequential p50 / p95 / p99 (ms)', 'calls/s, 16 at once', 'caller CPU ms/call', 'server CPU ms/call'],
        result.api.map((a) => [
          a.mode,
          triple(a.sequential),
          fixed(a.perSecond16),
          fixed(a.clientCpuMsPerCall, 2),
          fixed(a.serverCpuMsPerCall, 2),
        ]),
      ),
    );
  }
  out.push(
    '',
    result.options.baseline === 'durable'
      ? 'Ours (startApp: inbox → bot → flow service → outbox → sender) against a Telegraf bot written by hand with the same writes (inbox, lock, audit, outbox, message log)'
      : 'Ours (startApp: inbox → bot → flow service → outbox → sender) against the Telegraf WizardScene baseline',
  );
  out.push(pipelineTable(result));
  out.push('', "Where a reply's time goes (ours): p50 / p95 / p99 in ms");
  out.push(stagesTable(result));
  const scale = scaleTable(result);
  if (scale) {
    for (const run of result.engines) {
      if (!run.scale) continue;
      const p = run.scale.populated;
      out.push(
        '',
        `${run.engine} filled with ${p.finished} finished and ${p.open} open flows in ${p.seconds.toFixed(0)} s` +
          `${p.megabytes === null ? '' : ` (${p.megabytes.toFixed(0)} MiB)`}: ${Object.entries(p.rows)
            .map(([t, n]) => `${t} ${n}`)
            .join(', ')}`,
      );
    }
    out.push(scale);
  }
  if (verbose) out.push(statementsListing(result));
  out.push('', `Pipeline run: ${result.seconds.toFixed(0)} s.`);
  return out.join('\n');
}
