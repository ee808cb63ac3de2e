/**
 * `npm run bench -- --profile`: runs the pipeline benchmark once more in a child process under
 * `node --cpu-prof` (PostgreSQL, ours only, 16 clients at once) and lists where the CPU time went —
 * the functions with the most self time and the same summed by module — counting only the samples
 * taken while the measured phase ran (not start-up, migrations or the warm-up). `--profile-file F`
 * summarises an existing .cpuprofile instead.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { table } from './stats.js';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: number[];
}
interface CpuProfile {
  readonly nodes: ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: number[];
  readonly timeDeltas: number[];
}

export interface ProfileEntry {
  readonly name: string;
  readonly ms: number;
  readonly percent: number;
}

export interface ProfileSummary {
  readonly file: string;
  /** Milliseconds of samples counted (inside the measured window, idle excluded). */
  readonly totalMs: number;
  readonly windowed: boolean;
  readonly functions: ProfileEntry[];
  readonly modules: ProfileEntry[];
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function shortUrl(url: string): string {
  const plain = url.startsWith('file://') ? fileURLToPath(url) : url;
  return plain.startsWith(ROOT) ? plain.slice(ROOT.length) : plain;
}

/** The module a frame belongs to: a package, a folder of the project, a part of Node.js, or V8's own. */
export function moduleOf(frame: CallFrame): string {
  const url = shortUrl(frame.url);
  if (url === '') return frame.functionName.startsWith('(') ? frame.functionName : '(native / V8 builtins)';
  if (url.startsWith('node:')) {
    const parts = url.slice(5).split('/');
    return `node:${parts.slice(0, parts[0] === 'internal' ? 2 : 1).join('/')}`;
  }
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1] ?? ''}` : (rest[0] ?? url);
  }
  const parts = url.split('/');
  if (parts[0] === 'src' || parts[0] === 'machines' || parts[0] === 'bench')
    return parts.length > 2 ? `${parts[0]}/${parts[1]}` : parts.join('/');
  return url;
}

export async function summarise(file: string, windows: { start: number; end: number }[] = [], top = 25): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  /**
   * Native code (a syscall, a V8 builtin) is named after the first caller outside Node.js's own
   * modules, so that "writeBuffer" says whose socket writes they were.
   */
  const caller = (id: number): string | null => {
    let inNode: string | null = null;
    for (let at = parent.get(id); at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)?.callFrame;
      if (!frame || frame.url === '') continue;
      const module = moduleOf(frame);
      if (!module.startsWith('node:')) return module;
      inNode ??= module;
    }
    return inNode;
  };
  const self = new Map<number, number>();
  let at = profile.startTime;
  const inside = (t: number) => windows.length === 0 || windows.some((w) => t >= w.start && t <= w.end);
  let counted = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (!inside(at)) return;
    counted++;
    self.set(id, (self.get(id) ?? 0) + delta / 1000);
  });
  // If the clocks did not line up (no sample inside any window), count the whole profile.
  const windowed = windows.length > 0 && counted > 0;
  if (windows.length > 0 && counted === 0) return summarise(file, [], top);
  const functions = new Map<string, number>();
  const modules = new Map<string, number>();
  let total = 0;
  for (const [id, time] of self) {
    const frame = byId.get(id)?.callFrame;
    if (!frame || frame.functionName === '(idle)') continue;
    total += time;
    const url = shortUrl(frame.url);
    const native = url === '' && !frame.functionName.startsWith('(');
    const via = native ? caller(id) : null;
    const name =
      url === ''
        ? `${frame.functionName || '(anonymous)'}${via ? `  (native, called from ${via})` : ''}`
        : `${frame.functionName || '(anonymous)'}  ${url}:${frame.lineNumber + 1}`;
    functions.set(name, (functions.get(name) ?? 0) + time);
    const module = native ? `(native) called from ${via ?? 'Node.js'}` : moduleOf(frame);
    modules.set(module, (modules.get(module) ?? 0) + time);
  }
  const entries = (map: Map<string, number>) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, time]) => ({ name, ms: time, percent: (time / total) * 100 }));
  return { file, totalMs: total, windowed, functions: entries(functions), modules: entries(modules) };
}

export function profileReport(summary: ProfileSummary): string {
  const rows = (list: ProfileEntry[]) => list.map((e) => [e.name, e.ms.toFixed(0), `${e.percent.toFixed(1)} %`]);
  return [
    `CPU profile ${summary.file}: ${summary.totalMs.toFixed(0)} ms of samples${summary.windowed ? ' in the measured phase' : ' (whole run)'}, idle excluded`,
    '',
    'Top self time by module',
    table(['module', 'self ms', 'share'], rows(summary.modules.slice(0, 15))),
    '',
    'Top self time by function',
    table(['function  file:line', 'self ms', 'share'], rows(summary.functions)),
  ].join('\n');
}

/** Runs the pipeline (PostgreSQL, ours, 16 at once) under --cpu-prof in a child process, then summarises it. */
export async function profileRun(options: { clients: number; operators: number }): Promise<ProfileSummary> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'orb-bench-profile-'));
  const windowFile = path.join(dir, 'window.json');
  const args = [
    '--cpu-prof',
    '--cpu-prof-dir',
    dir,
    '--import',
    'tsx',
    path.join(ROOT, 'bench/index.ts'),
    '--pipeline',
    '--only',
    'ours',
    '--engines',
    'postgres',
    '--concurrency',
    '16',
    '--clients',
    String(options.clients),
    '--operators',
    String(options.operators),
    '--window-file',
    windowFile,
  ];
  console.error(`profiling: node ${args.join(' ')}`);
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'], cwd: ROOT });
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0) throw new Error(`the profiled run exited with ${code}`);
  // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: thread 0 is the main thread (the others are
  // Node.js's module-loader thread for tsx).
  const profiles = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
  const file = profiles.find((f) => f.split('.').at(-3) === '0') ?? profiles[0];
  if (!file) throw new Error(`no .cpuprofile in ${dir}`);
  const windows = JSON.parse(await readFile(windowFile, 'utf8')) as { start: number; end: number }[];
  return summarise(path.join(dir, file), windows);
}
