import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Telegram } from 'telegraf';
import type { StubCall, StubMessage } from './stub.js';
import { distribution, timed, type Distribution } from './stats.js';

export type { StubCall };

const STUB = fileURLToPath(new URL('./stub.ts', import.meta.url));
export const BENCH_TOKEN = '7000000001:bench-token';

/** The Bot API the pipeline talks to: a child process (the stub, or the emulator for comparison). */
export interface BotApi {
  readonly apiRoot: string;
  /** Emulator only: users that have opened a chat with the bot. */
  readonly users: readonly number[];
  /**
   * Resolves with the next call to `chatId` that `accept` takes (register before the update that causes
   * it is fed). Calls nobody waits for are counted per method only.
   */
  next(chatId: number, accept: (call: StubCall) => boolean): Promise<StubCall>;
  /** Message-carrying calls received so far, by method. */
  readonly received: Record<string, number>;
  /** The child's own CPU time so far (ms) and its call counts. */
  usage(): Promise<{ cpuMs: number; counts: Record<string, number> }>;
  close(): Promise<void>;
}

interface Waiter {
  readonly accept: (call: StubCall) => boolean;
  readonly resolve: (call: StubCall) => void;
}

export async function startBotApi(mode: 'stub' | 'emulator' = 'stub', users = 16): Promise<BotApi> {
  // An explicit execArgv: the child never inherits --cpu-prof (or tsx's flags) from this process.
  const child: ChildProcess = fork(STUB, [mode, BENCH_TOKEN, String(users)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiters = new Map<number, Waiter[]>();
  const received: Record<string, number> = {};
  let usageWaiter: ((u: { cpuMs: number; counts: Record<string, number> }) => void) | null = null;
  const ready = new Promise<{ apiRoot: string; users: number[] }>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`Bot API ${mode} exited with ${code}`)));
    child.on('message', (raw) => {
      const message = raw as StubMessage;
      if (message.type === 'ready') resolve({ apiRoot: message.apiRoot, users: message.users ?? [] });
      else if (message.type === 'usage') {
        usageWaiter?.(message);
        usageWaiter = null;
      } else if (message.type === 'calls') {
        for (const call of message.calls) {
          received[call.method] = (received[call.method] ?? 0) + 1;
          if (call.chatId === null) continue;
          const list = waiters.get(call.chatId);
          const index = list?.findIndex((w) => w.accept(call)) ?? -1;
          if (!list || index < 0) continue;
          const [waiter] = list.splice(index, 1);
          if (list.length === 0) waiters.delete(call.chatId);
          waiter?.resolve(call);
        }
      }
    });
  });
  const { apiRoot, users: ids } = await ready;
  return {
    apiRoot,
    users: ids,
    received,
    next(chatId, accept) {
      return new Promise<StubCall>((resolve) => {
        const list = waiters.get(chatId) ?? [];
        list.push({ accept, resolve });
        waiters.set(chatId, list);
      });
    },
    usage() {
      return new Promise((resolve) => {
        usageWaiter = resolve;
        child.send({ type: 'usage' });
      });
    },
    async close() {
      child.removeAllListeners('exit');
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill();
      await exited;
    },
  };
}

export interface ApiSpeed {
  readonly mode: 'stub' | 'emulator';
  readonly calls: number;
  readonly sequential: Distribution;
  /** Calls per second with 16 in flight at once. */
  readonly perSecond16: number;
  /** CPU of this process (the caller: telegraf's HTTP client) and of the child, per call. */
  readonly clientCpuMsPerCall: number;
  readonly serverCpuMsPerCall: number;
}

/**
 * How fast a Bot API answers sendMessage through telegraf's own client over HTTP: latency of sequential
 * calls, and throughput with 16 in flight. Decides whether the emulator is fast enough to stand in for
 * Telegram in the pipeline benchmark.
 */
export async function measureApi(mode: 'stub' | 'emulator', calls: number): Promise<ApiSpeed> {
  const api = await startBotApi(mode, 16);
  try {
    const telegram = new Telegram(BENCH_TOKEN, { apiRoot: api.apiRoot });
    const chats = api.users.length > 0 ? api.users : Array.from({ length: 16 }, (_, i) => 100_000 + i);
    const say = (i: number) =>
      telegram.sendMessage(chats[i % chats.length] ?? 1, `Personal data · step 1 of 3\nPlease write your full name (${i})`, {
        parse_mode: 'HTML',
      });
    for (let i = 0; i < 50; i++) await say(i); // warm-up: connections, JIT
    const cpu0 = process.cpuUsage();
    const server0 = (await api.usage()).cpuMs;
    const times: number[] = [];
    for (let i = 0; i < calls; i++) times.push((await timed(() => say(i))).ms);
    let next = 0;
    const { ms } = await timed(() =>
      Promise.all(
        Array.from({ length: 16 }, async () => {
          for (let i = next++; i < calls; i = next++) await say(i);
        }),
      ),
    );
    const cpu = process.cpuUsage(cpu0);
    const server = (await api.usage()).cpuMs - server0;
    return {
      mode,
      calls,
      sequential: distribution(times),
      perSecond16: calls / (ms / 1000),
      clientCpuMsPerCall: (cpu.user + cpu.system) / 1000 / (2 * calls),
      serverCpuMsPerCall: server / (2 * calls),
    };
  } finally {
    await api.close();
  }
}
