/**
 * `npm run bench [-- options]`
 *
 * Two benchmarks, both on PGlite (a fresh temporary data directory) and, when BENCH_DATABASE_URL or
 * TEST_DATABASE_URL is set, on PostgreSQL (a fresh database, dropped afterwards):
 *
 * The flow service alone (`--service` runs only this):
 *   (a) statements and network round trips per command,
 *   (b) latency of FlowService.answer for one client going through personal_data,
 *   (c) throughput of N clients driven concurrently through personal_data to completion,
 *   (d) latency of FlowService.start.
 *
 * The whole pipeline (`--pipeline` runs only this; bench/pipeline.ts): the app as startApp builds it,
 * updates fed through the durable inbox, replies delivered by the outbox sender to a Bot API stub over
 * HTTP, against a Telegraf WizardScene baseline with its session in the same PostgreSQL database.
 * `--scale` repeats it on a database holding 100,000 finished and 10,000 open flows; `--profile` runs it
 * under `node --cpu-prof` and lists the top self-time functions and modules.
 *
 * Memory (`--memory` runs only this; bench/memory.ts): the RSS of `npm start` as the playground and as
 * the bot on PGlite, each on an empty temporary DATA_DIR, and with the PostgreSQL URL as the bot on a
 * fresh database holding 10,000 open flows; idle and with traffic, against the targets.
 *
 * Results go to stdout (`--json`: as JSON); docs/performance.md explains them.
 */
import os from 'node:os';
import { sql } from 'drizzle-orm';
import type { Answer } from '../machines/steps.js';
import { loadCatalogueFile, type Catalogue } from '../src/config/catalogue.js';
import { rowsOf, type Db } from '../src/db/client.js';
import { people } from '../src/db/schema.js';
import { FlowService } from '../src/flows/service.js';
import type { Outcome } from '../src/flows/types.js';
import { cpuMeter, isLocalServer, type CpuSplit } from './cpu.js';
import { openPgliteBench, openPostgresBench, type BenchEngine, type Counted } from './engines.js';
import { pipelineReport, runPipeline, type PipelineOptions, type PipelineResult } from './pipeline-run.js';
import { memoryReport, runMemory, type MemoryOptions } from './memory.js';
import { WARM_UP_CLIENTS } from './pipeline.js';
import { profileReport, profileRun, summarise, type ProfileSummary } from './profile.js';
import { distribution, ms, table, timed, type Distribution } from './stats.js';

const OPERATOR = 1;
const REQUEST = 'personal_data';
const ANSWERS: readonly Answer[] = [
  { kind: 'text', text: 'Anna Petrova' },
  { kind: 'text', text: 'Moscow' },
  { kind: 'text', text: '15.06.1990' },
];
const INVALID: Answer = { kind: 'text', text: '1' }; // the city is at least 2 characters

interface Options {
  /** Flow service benchmark: clients of (c), samples of (b), starts of (d). */
  serviceClients: number;
  samples: number;
  starts: number;
  verbose: boolean;
  service: boolean;
  pipeline: PipelineOptions | null;
  profile: boolean;
  profileFile: string | null;
  memory: MemoryOptions | null;
  json: boolean;
}

const USAGE = `usage: npm run bench -- [--service | --pipeline] [--json] [--verbose]
  flow service:  [--service-clients 200] [--samples 600] [--starts 300]
  pipeline:      [--clients 1000] [--concurrency 200,16] [--operators 1] [--engines postgres,pglite]
                 [--only ours|baseline] [--baseline plain|durable] [--repeat 5] [--no-compare-api] [--warm-up 40]
                 (--baseline durable: the baseline keeps ours' inbox, lock, audit, outbox and message log)
                 (--warm-up: clients through each system before each measured phase; 1000 for the steady state)
                 diagnostics: [--bypass-limiter] [--pool N] (never the app's own settings)
                 [--scale [--finished 100000] [--open 10000]]
  profile:       --profile [--clients 1000]   (PostgreSQL, ours, 16 at once, under node --cpu-prof)
                 --profile-file F.cpuprofile   (summarise an existing profile)
  memory:        --memory [--memory-clients 20] [--memory-concurrency 4] [--idle 5] [--node-options "…"]
                 (RSS of npm start: the playground, the bot on PGlite and, with BENCH_DATABASE_URL or
                 TEST_DATABASE_URL, the bot on PostgreSQL with 10,000 open flows; idle and with traffic)`;

function parseArgs(args: readonly string[]): Options {
  const options: Options = {
    serviceClients: 200,
    samples: 600,
    starts: 300,
    verbose: false,
    service: true,
    pipeline: null,
    profile: false,
    profileFile: null,
    memory: null,
    json: false,
  };
  const memory: { -readonly [K in keyof MemoryOptions]: MemoryOptions[K] } = {
    clients: 20,
    concurrency: 4,
    idleSeconds: 5,
    nodeOptions: null,
  };
  let onlyMemory = false;
  const pipeline: { -readonly [K in keyof PipelineOptions]: PipelineOptions[K] } = {
    clients: 1_000,
    concurrencies: [200, 16],
    operators: 1,
    only: null,
    baseline: 'plain',
    engines: ['postgres', 'pglite'],
    scale: false,
    finished: 100_000,
    open: 10_000,
    bypassLimiter: false,
    pool: null,
    repeat: 5,
    warmUp: WARM_UP_CLIENTS,
    compareApi: true,
    windowFile: null,
  };
  let onlyService = false;
  let onlyPipeline = false;
  const positive = (arg: string, raw: string | undefined): number => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value <= 0) throw new Error(`${arg} needs a positive integer\n${USAGE}`);
    return value;
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    const next = () => args[++i];
    switch (arg) {
      case '--verbose':
        options.verbose = true;
        break;
      case '--json':
        options.json = true;
        break;
      case '--service':
        onlyService = true;
        break;
      case '--pipeline':
        onlyPipeline = true;
        break;
      case '--service-clients':
        options.serviceClients = positive(arg, next());
        break;
      case '--samples':
        options.samples = positive(arg, next());
        break;
      case '--starts':
        options.starts = positive(arg, next());
        break;
      case '--clients':
        pipeline.clients = positive(arg, next());
        break;
      case '--operators':
        pipeline.operators = positive(arg, next());
        break;
      case '--repeat':
        pipeline.repeat = positive(arg, next());
        break;
      case '--warm-up':
        pipeline.warmUp = positive(arg, next());
        break;
      case '--finished':
        pipeline.finished = positive(arg, next());
        break;
      case '--open':
        pipeline.open = positive(arg, next());
        break;
      case '--concurrency':
        pipeline.concurrencies = (next() ?? '').split(',').map((v) => positive(arg, v));
        break;
      case '--engines': {
        const names = (next() ?? '').split(',').map((e) => (e === 'pg' ? 'postgres' : e));
        const engines = names.filter((e): e is 'postgres' | 'pglite' => e === 'postgres' || e === 'pglite');
        if (engines.length !== names.length) throw new Error(`--engines: postgres and/or pglite\n${USAGE}`);
        pipeline.engines = engines;
        break;
      }
      case '--only': {
        const only = next();
        if (only !== 'ours' && only !== 'baseline') throw new Error(`--only: ours or baseline\n${USAGE}`);
        pipeline.only = only;
        break;
      }
      case '--baseline': {
        const kind = next();
        if (kind !== 'plain' && kind !== 'durable') throw new Error(`--baseline: plain or durable\n${USAGE}`);
        pipeline.baseline = kind;
        break;
      }
      case '--scale':
        pipeline.scale = true;
        break;
      case '--bypass-limiter':
        pipeline.bypassLimiter = true;
        break;
      case '--pool':
        pipeline.pool = positive(arg, next());
        break;
      case '--no-compare-api':
        pipeline.compareApi = false;
        break;
      case '--window-file':
        pipeline.windowFile = next() ?? null;
        pipeline.compareApi = false;
        break;
      case '--profile':
        options.profile = true;
        break;
      case '--profile-file':
        options.profileFile = next() ?? null;
        break;
      case '--memory':
        onlyMemory = true;
        break;
      case '--memory-clients':
        memory.clients = positive(arg, next());
        break;
      case '--memory-concurrency':
        memory.concurrency = positive(arg, next());
        break;
      case '--idle':
        memory.idleSeconds = positive(arg, next());
        break;
      case '--node-options':
        memory.nodeOptions = next() ?? '';
        break;
      default:
        throw new Error(`unknown argument ${arg}\n${USAGE}`);
    }
  }
  if (onlyService && onlyPipeline) throw new Error(`--service and --pipeline exclude each other\n${USAGE}`);
  options.service = !onlyPipeline && !options.profile && options.profileFile === null;
  options.pipeline = onlyService || options.profile || options.profileFile !== null ? null : pipeline;
  if (options.profile) options.pipeline = null;
  if (onlyMemory) {
    if (onlyService || onlyPipeline || options.profile || options.profileFile !== null) throw new Error(`--memory runs alone\n${USAGE}`);
    options.memory = memory;
    options.service = false;
    options.pipeline = null;
  }
  // Kept for --profile, which passes its own pipeline options to the child.
  profileClients = pipeline.clients;
  profileOperators = pipeline.operators;
  return options;
}

let profileClients = 1_000;
let profileOperators = 1;

let nextUpdate = 1;
let nextClient = 100_000;

async function addPeople(db: Db, count: number): Promise<number[]> {
  const ids = Array.from({ length: count }, () => nextClient++);
  for (let i = 0; i < ids.length; i += 500) {
    const batch = ids.slice(i, i + 500);
    await db.insert(people).values(batch.map((id) => ({ id, firstName: `Client ${id}`, languageCode: 'en', startedAt: new Date() })));
  }
  return ids;
}

function must<T>(outcome: Outcome<T>, what: string): T {
  if (!outcome.ok) throw new Error(`${what}: refused (${outcome.refusal.code})`);
  return outcome.value;
}

// ---- (a) statements and round trips -------------------------------------------------------------

interface Trips {
  readonly command: string;
  readonly statements: string[];
  readonly roundTrips: number | null;
}

/** One pass of every kind of command over a fresh client, each counted. */
async function countPass(counted: Counted, catalogue: Catalogue): Promise<Trips[]> {
  const flows = new FlowService({ db: counted.db, catalogue: () => catalogue, defaultLocale: 'en' });
  const [client] = await addPeople(counted.db, 1);
  if (client === undefined) throw new Error('no client');
  const out: Trips[] = [];
  const measure = async <T>(command: string, run: () => Promise<Outcome<T>>): Promise<T> => {
    const { result, statements, roundTrips } = await counted.count(run);
    out.push({ command, statements, roundTrips });
    return must(result, command);
  };
  const answer = (a: Answer) => () => flows.answer({ clientId: client, answer: a, updateId: nextUpdate++ });
  const [name, city, birth] = ANSWERS;
  if (!name || !city || !birth) throw new Error('answers');

  const first = await measure('start (client idle)', () =>
    flows.start({ operatorId: OPERATOR, clientId: client, requestId: REQUEST, updateId: nextUpdate++ }),
  );
  await measure('answer, valid, not the last step', answer(name));
  await measure('answer, invalid', answer(INVALID));
  await measure('answer, valid, not the last step', answer(city));
  await measure('answer that ends the round (→ confirming)', answer(birth));
  await measure('confirm (→ in_review)', () => flows.confirm({ clientId: client, updateId: nextUpdate++ }));
  const refused = await counted.count(() =>
    flows.answer({
      clientId: client,
      answer: { kind: 'text', text: 'hello?' },
      message: { chatId: client, kind: 'text', text: 'hello?', fileId: null, fileUniqueId: null, telegramMessageId: 2 },
      updateId: nextUpdate++,
    }),
  );
  if (refused.result.ok) throw new Error('a message during review was taken');
  out.push({ command: 'message refused (in_review, logged)', statements: refused.statements, roundTrips: refused.roundTrips });
  await measure('accept (→ completed, nothing queued)', () =>
    flows.accept({ operatorId: OPERATOR, flowId: first.flow.id, updateId: nextUpdate++ }),
  );
  const second = await measure('start (client idle)', () =>
    flows.start({ operatorId: OPERATOR, clientId: client, requestId: REQUEST, updateId: nextUpdate++ }),
  );
  await measure('start (client busy: queued)', () =>
    flows.start({ operatorId: OPERATOR, clientId: client, requestId: REQUEST, updateId: nextUpdate++ }),
  );
  for (const a of ANSWERS) must(await flows.answer({ clientId: client, answer: a, updateId: nextUpdate++ }), 'answer');
  must(await flows.confirm({ clientId: client, updateId: nextUpdate++ }), 'confirm');
  await measure('accept (→ completed, starts the queued one)', () =>
    flows.accept({ operatorId: OPERATOR, flowId: second.flow.id, updateId: nextUpdate++ }),
  );
  return out;
}

/** Per command: the statement count, and the round trips of a first and a later pass. */
async function roundTrips(engine: BenchEngine, catalogue: Catalogue): Promise<{ cold: Trips[]; warm: Trips[] }> {
  await engine.counted.db.execute(sql`select 1`); // connect first: the handshake is not a command's cost
  const cold = await countPass(engine.counted, catalogue);
  const warm = await countPass(engine.counted, catalogue);
  return { cold, warm };
}

// ---- (b) answer latency, (c) throughput, (d) start latency ---------------------------------------

async function answerLatency(engine: BenchEngine, catalogue: Catalogue, samples: number): Promise<Distribution> {
  const flows = new FlowService({ db: engine.db, catalogue: () => catalogue, defaultLocale: 'en' });
  const [client] = await addPeople(engine.db, 1);
  if (client === undefined) throw new Error('no client');
  const times: number[] = [];
  const deadline = performance.now() + 15_000;
  for (let round = 0; times.length < samples && performance.now() < deadline; round++) {
    const started = must(
      await flows.start({ operatorId: OPERATOR, clientId: client, requestId: REQUEST, updateId: nextUpdate++ }),
      'start',
    );
    for (const answer of ANSWERS) {
      const { result, ms: took } = await timed(() => flows.answer({ clientId: client, answer, updateId: nextUpdate++ }));
      must(result, 'answer');
      if (round >= 3) times.push(took); // the first rounds warm up caches and prepared statements
    }
    must(await flows.confirm({ clientId: client, updateId: nextUpdate++ }), 'confirm');
    must(await flows.accept({ operatorId: OPERATOR, flowId: started.flow.id, updateId: nextUpdate++ }), 'accept');
  }
  return distribution(times);
}

interface Throughput {
  readonly clients: number;
  readonly commands: number;
  readonly seconds: number;
  readonly rollbacks: number;
  /** Where the CPU went (null where /proc cannot be read; the server's part only for a local PostgreSQL). */
  readonly cpu: CpuSplit | null;
}

async function throughput(engine: BenchEngine, catalogue: Catalogue, count: number, url: string | undefined): Promise<Throughput> {
  const flows = new FlowService({ db: engine.db, catalogue: () => catalogue, defaultLocale: 'en' });
  const clients = await addPeople(engine.db, count);
  const rollbacksBefore = engine.rollbacks();
  let commands = 0;
  const drive = async (client: number) => {
    const started = must(
      await flows.start({ operatorId: OPERATOR, clientId: client, requestId: REQUEST, updateId: nextUpdate++ }),
      'start',
    );
    for (const answer of ANSWERS) must(await flows.answer({ clientId: client, answer, updateId: nextUpdate++ }), 'answer');
    must(await flows.confirm({ clientId: client, updateId: nextUpdate++ }), 'confirm');
    const done = must(await flows.accept({ operatorId: OPERATOR, flowId: started.flow.id, updateId: nextUpdate++ }), 'accept');
    if (done.status !== 'completed') throw new Error(`client ${client}: ${done.status}`);
    commands += 6;
  };
  const meter = cpuMeter({ server: engine.name === 'PostgreSQL' && isLocalServer(url ?? null) });
  const { ms: took } = await timed(() => Promise.all(clients.map(drive)));
  const cpu = meter.stop();
  const after = engine.rollbacks();
  return {
    clients: count,
    commands,
    seconds: took / 1000,
    rollbacks: after - rollbacksBefore,
    cpu,
  };
}

async function startLatency(engine: BenchEngine, catalogue: Catalogue, count: number): Promise<Distribution> {
  const flows = new FlowService({ db: engine.db, catalogue: () => catalogue, defaultLocale: 'en' });
  const clients = await addPeople(engine.db, count + 20);
  const times: number[] = [];
  for (const [i, client] of clients.entries()) {
    const { result, ms: took } = await timed(() =>
      flows.start({ operatorId: OPERATOR, clientId: client, requestId: REQUEST, updateId: nextUpdate++ }),
    );
    must(result, 'start');
    if (i >= 20) times.push(took);
  }
  return distribution(times);
}

// ---- report --------------------------------------------------------------------------------------

interface EngineResult {
  readonly engine: BenchEngine;
  readonly server: string;
  readonly trips: { cold: Trips[]; warm: Trips[] };
  readonly answer: Distribution;
  readonly flow: Throughput;
  readonly start: Distribution;
}

async function runEngine(engine: BenchEngine, catalogue: Catalogue, options: Options, url: string | undefined): Promise<EngineResult> {
  const version = rowsOf<{ v: string }>(await engine.db.execute(sql`select current_setting('server_version') as v`))[0]?.v ?? '?';
  await engine.db.insert(people).values({ id: OPERATOR, firstName: 'Olga', role: 'operator', languageCode: 'en', startedAt: new Date() });
  const trips = await roundTrips(engine, catalogue);
  const answer = await answerLatency(engine, catalogue, options.samples);
  const flow = await throughput(engine, catalogue, options.serviceClients, url);
  const start = await startLatency(engine, catalogue, options.starts);
  return { engine, server: version, trips, answer, flow, start };
}

function report(results: readonly EngineResult[], options: Options, seconds: number): string {
  const out: string[] = [];
  out.push(
    `Flow service benchmark · ${new Date().toISOString().slice(0, 10)} · node ${process.version} · ${os.cpus().length} CPU (${os.cpus()[0]?.model.trim() ?? '?'}) · ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
  );
  for (const r of results)
    out.push(`  ${r.engine.name}: ${r.engine.description}, server ${r.server}, set up in ${r.engine.setupSeconds.toFixed(1)} s`);
  out.push('');

  out.push('(a) Statements per command (BEGIN and COMMIT included) and PostgreSQL network round trips');
  const commands = results[0]?.trips.warm.map((t) => t.command) ?? [];
  const seen = new Set<string>();
  const rows: string[][] = [];
  commands.forEach((command, i) => {
    if (seen.has(command)) return;
    seen.add(command);
    const row = [command];
    for (const r of results) {
      const warm = r.trips.warm[i];
      const cold = r.trips.cold[i];
      row.push(String(warm?.statements.length ?? '—'));
      if (r.engine.name === 'PostgreSQL') row.push(`${warm?.roundTrips ?? '—'} (${cold?.roundTrips ?? '—'})`);
    }
    rows.push(row);
  });
  const head = ['command'];
  for (const r of results) {
    head.push(`${r.engine.name} statements`);
    if (r.engine.name === 'PostgreSQL') head.push('PostgreSQL round trips (first use)');
  }
  out.push(table(head, rows), '');

  out.push('(b)–(d) Latency (ms) and throughput');
  const metric = (name: string, value: (r: EngineResult) => string) => [name, ...results.map(value)];
  out.push(
    table(
      ['metric', ...results.map((r) => r.engine.name)],
      [
        metric('(b) answer p50', (r) => ms(r.answer.p50)),
        metric('(b) answer p95', (r) => ms(r.answer.p95)),
        metric('(b) answer p99', (r) => ms(r.answer.p99)),
        metric('(b) answers sampled', (r) => String(r.answer.n)),
        metric(`(c) ${options.serviceClients} clients, wall time (s)`, (r) => r.flow.seconds.toFixed(2)),
        metric('(c) commands/s (6 per flow)', (r) => (r.flow.commands / r.flow.seconds).toFixed(0)),
        metric('(c) of which ANSWERs/s (3 per flow)', (r) => ((r.flow.clients * 3) / r.flow.seconds).toFixed(0)),
        metric('(c) flows completed/s', (r) => (r.flow.clients / r.flow.seconds).toFixed(1)),
        metric('(c) transactions retried', (r) => String(r.flow.rollbacks)),
        metric('(c) CPU ms per command: Node main thread', (r) => perCommand(r.flow, r.flow.cpu?.mainMs)),
        metric('(c) CPU ms per command: Node other threads', (r) => perCommand(r.flow, r.flow.cpu?.threadsMs)),
        metric('(c) CPU ms per command: PostgreSQL server', (r) => perCommand(r.flow, r.flow.cpu?.serverMs)),
        metric('(c) CPU ms per command: in all', (r) =>
          perCommand(r.flow, r.flow.cpu ? r.flow.cpu.mainMs + r.flow.cpu.threadsMs + (r.flow.cpu.serverMs ?? 0) : null),
        ),
        metric('(d) start p50', (r) => ms(r.start.p50)),
        metric('(d) start p95', (r) => ms(r.start.p95)),
        metric('(d) start p99', (r) => ms(r.start.p99)),
      ],
    ),
  );
  out.push('', `Flow service benchmark: ${seconds.toFixed(1)} s. Target: at most 4 round trips per client answer.`);

  if (options.verbose) {
    for (const r of results) {
      out.push('', `Statements on ${r.engine.name} (second pass):`);
      for (const t of r.trips.warm) {
        out.push(`  ${t.command}:`);
        for (const s of t.statements) out.push(`    ${s.replace(/\s+/g, ' ').trim().slice(0, 110)}`);
      }
    }
  }
  return out.join('\n');
}

/** CPU ms per command of (c), or a dash where it was not measured. */
function perCommand(flow: Throughput, ms: number | null | undefined): string {
  return ms === null || ms === undefined ? '—' : (ms / flow.commands).toFixed(2);
}

async function serviceBenchmark(options: Options, url: string | undefined): Promise<EngineResult[]> {
  const catalogue = await loadCatalogueFile('config/catalogue.yaml');
  const openers: (() => Promise<BenchEngine>)[] = [openPgliteBench];
  if (url) openers.push(() => openPostgresBench(url));
  else console.error('PostgreSQL skipped: set BENCH_DATABASE_URL (or TEST_DATABASE_URL) to measure it too.');
  const results: EngineResult[] = [];
  for (const open of openers) {
    const engine = await open();
    try {
      console.error(`measuring the flow service on ${engine.name}…`);
      results.push(await runEngine(engine, catalogue, options, url));
    } finally {
      await engine.close();
    }
  }
  return results;
}

/** The flow service results without the engine handles, for --json. */
function serviceJson(results: readonly EngineResult[]) {
  return results.map((r) => ({
    engine: r.engine.name,
    description: r.engine.description,
    server: r.server,
    roundTrips: r.trips.warm.map((t, i) => ({
      command: t.command,
      statements: t.statements.length,
      roundTrips: t.roundTrips,
      roundTripsFirstUse: r.trips.cold[i]?.roundTrips ?? null,
    })),
    answer: r.answer,
    throughput: r.flow,
    start: r.start,
  }));
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const began = performance.now();
  const url = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
  const machine = `${new Date().toISOString().slice(0, 10)} · node ${process.version} · ${os.cpus().length} CPU (${os.cpus()[0]?.model.trim() ?? '?'}) · ${Math.round(os.totalmem() / 2 ** 30)} GiB`;

  if (options.memory) {
    const result = await runMemory(options.memory, url ?? null);
    console.log(options.json ? JSON.stringify({ machine, memory: result }, null, 2) : `Benchmark · ${machine}\n\n${memoryReport(result)}`);
    return;
  }

  if (options.profile || options.profileFile) {
    if (options.profile && !url) throw new Error('--profile needs PostgreSQL: set BENCH_DATABASE_URL (or TEST_DATABASE_URL)');
    const summary: ProfileSummary = options.profileFile
      ? await summarise(options.profileFile)
      : await profileRun({ clients: profileClients, operators: profileOperators });
    console.log(options.json ? JSON.stringify({ machine, profile: summary }, null, 2) : profileReport(summary));
    return;
  }

  const service = options.service ? await serviceBenchmark(options, url) : [];
  const serviceSeconds = (performance.now() - began) / 1000;
  const pipeline: PipelineResult | null = options.pipeline ? await runPipeline(options.pipeline, url) : null;
  const seconds = (performance.now() - began) / 1000;
  if (options.json) {
    console.log(JSON.stringify({ machine, seconds, service: options.service ? serviceJson(service) : null, pipeline }, null, 2));
    return;
  }
  const out: string[] = [];
  if (options.service) out.push(report(service, options, serviceSeconds));
  if (pipeline) {
    if (!options.service) out.push(`Benchmark · ${machine}`, '');
    else out.push('');
    out.push(pipelineReport(pipeline, options.verbose));
  }
  console.log(out.join('\n'));
}

await main();
