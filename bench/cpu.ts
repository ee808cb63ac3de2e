/**
 * Where a phase's CPU time went, read from Linux's /proc (elsewhere: nothing, and the report says so):
 *
 * - this process's main thread (the bot's JavaScript, and PGlite's database when it runs inside);
 * - this process's other threads: V8's optimising compiler and garbage-collector helpers, libuv's pool;
 * - with `server`, the local PostgreSQL server's processes (its connections and background writers).
 *
 * Counted in clock ticks (10 ms each), which is plenty over phases of several seconds. A server process
 * that starts during the phase counts whole; one that ends during it (a short autovacuum worker) is missed.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Linux's USER_HZ: /proc's CPU times are in hundredths of a second on every common build. */
const TICK_MS = 10;

export interface CpuSplit {
  /** The main thread, ms. */
  readonly mainMs: number;
  /** Every other thread of this process, ms. */
  readonly threadsMs: number;
  /** The local PostgreSQL server's processes, ms; null when not measured. */
  readonly serverMs: number | null;
}

/** utime + stime of a /proc `stat` line, in ticks; null when it cannot be read. */
function ticksOf(statPath: string): { comm: string; ticks: number } | null {
  let line: string;
  try {
    line = readFileSync(statPath, 'utf8');
  } catch {
    return null; // the thread or process has gone
  }
  const close = line.lastIndexOf(')');
  const fields = line.slice(close + 2).split(' ');
  // After "pid (comm) ": state is field 0, utime field 11, stime field 12.
  return { comm: line.slice(line.indexOf('(') + 1, close), ticks: Number(fields[11]) + Number(fields[12]) };
}

function threadTicks(): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    const t = ticksOf(`/proc/self/task/${tid}/stat`);
    if (t) out.set(Number(tid), t.ticks);
  }
  return out;
}

function serverTicks(): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const t = ticksOf(`/proc/${pid}/stat`);
    if (t?.comm === 'postgres') out.set(Number(pid), t.ticks);
  }
  return out;
}

function delta(before: Map<number, number>, after: Map<number, number>, skip?: number): number {
  let ticks = 0;
  for (const [id, now] of after) if (id !== skip) ticks += now - (before.get(id) ?? 0);
  return ticks * TICK_MS;
}

/** Whether /proc can be read here. */
export const canMeasureCpu = (() => {
  try {
    readdirSync('/proc/self/task');
    return true;
  } catch {
    return false;
  }
})();

/** Starts counting; `stop()` gives the split, or null where /proc is missing. */
export function cpuMeter(options: { server: boolean }): { stop(): CpuSplit | null } {
  if (!canMeasureCpu) return { stop: () => null };
  const threads0 = threadTicks();
  const server0 = options.server ? serverTicks() : null;
  return {
    stop() {
      const threads = threadTicks();
      const main = (threads.get(process.pid) ?? 0) - (threads0.get(process.pid) ?? 0);
      return {
        mainMs: main * TICK_MS,
        threadsMs: delta(threads0, threads, process.pid),
        serverMs: server0 ? delta(server0, serverTicks()) : null,
      };
    },
  };
}

/** A database URL's server runs on this machine (its processes can be read from /proc). */
export function isLocalServer(url: string | null): boolean {
  if (!url || !canMeasureCpu) return false;
  const host = new URL(url).hostname;
  return host === '127.0.0.1' || host === 'localhost' || host === '[::1]' || host === '';
}
