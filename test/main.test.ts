import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDataDir } from './helpers/db.js';
import { APP_ENTRY } from './helpers/db-config.js';
import { freePort } from './helpers/ports.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the app as `npm start` does (its build of this run), with only the given environment (no .env). */
function start(env: Record<string, string>, untilOutput?: RegExp): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [APP_ENTRY], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        LOG_LEVEL: 'info',
        PORT: String(20_000 + Math.floor(Math.random() * 20_000)),
        ...env,
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (untilOutput?.test(stdout)) {
        untilOutput = undefined; // one signal only
        child.kill('SIGTERM');
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * A DATA_DIR holding the migrated template database, for the tests that are not about a first start: the
 * bot's first open of a new one spends seconds in initdb (the first test has that).
 */
async function seeded(dataDir: string): Promise<string> {
  await seedDataDir(dataDir);
  return dataDir;
}

describe('start-up', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'orb-main-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('reaches ready on the embedded database with no configuration and stops cleanly on SIGTERM', async () => {
    const run = await start({ DATA_DIR: path.join(dir, 'data') }, /"msg":"ready/);
    expect(run.stdout).toMatch(/"msg":"ready/);
    expect(run.stdout).toMatch(/"msg":"stopped"/);
    expect(run.code).toBe(0);
  });

  it('stops with exit code 1 and one clear message on a bad environment', async () => {
    const run = await start({ OPERATOR_IDS: 'abc', DEFAULT_LOCALE: 'xx' });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('OPERATOR_IDS: not a Telegram user id: "abc"');
    expect(run.stderr).toContain('DEFAULT_LOCALE: must be one of ru, en');
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('stops with exit code 1 and a clear message when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const run = await start({ DATA_DIR: await seeded(path.join(dir, 'data3')), PORT: String(port) }, /ready/);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`port ${port} is already in use`);
      expect(run.stderr).not.toMatch(/\n\s+at /);
    } finally {
      blocker.close();
    }
  });

  it('says the Bot API cannot be reached without printing the token', async () => {
    const run = await start({
      DATA_DIR: await seeded(path.join(dir, 'data4')),
      BOT_TOKEN: '123:secret-token',
      OPERATOR_IDS: '1',
      TELEGRAM_API_ROOT: 'http://127.0.0.1:9',
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('cannot reach the Telegram Bot API at http://127.0.0.1:9');
    expect(run.stderr).not.toContain('secret-token');
  });

  it('stops with exit code 1 and the catalogue problems on a broken catalogue', async () => {
    const run = await start({ DATA_DIR: await seeded(path.join(dir, 'data2')), CATALOGUE_PATH: path.join(dir, 'missing.yaml') });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('missing.yaml: file not found');
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});

/** The entry point running (as `npm start`), with a wait for each log line that matches. */
function running(env: Record<string, string>) {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [APP_ENTRY], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'info', ...env },
  });
  const lines: string[] = [];
  const waiting: { match: RegExp; resolve: (line: string) => void }[] = [];
  let partial = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString('utf8')).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      for (const w of waiting.filter((w) => w.match.test(line))) {
        waiting.splice(waiting.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  return {
    child,
    exited,
    stderr: () => stderr,
    /** The first log line from now on (or already written, when `past`) that matches, parsed. */
    next(match: RegExp, past = false): Promise<Record<string, unknown>> {
      const done = past ? lines.find((line) => match.test(line)) : undefined;
      const line = done !== undefined ? Promise.resolve(done) : new Promise<string>((resolve) => waiting.push({ match, resolve }));
      return Promise.race([
        line.then((l) => JSON.parse(l) as Record<string, unknown>),
        exited.then((code) => Promise.reject(new Error(`exited with ${code} before ${match}:\n${lines.join('\n')}\n${stderr}`))),
      ]);
    },
  };
}

/** The first emulator event (the playground passes /_emulator/events through) for which `match` holds. */
async function nextEvent(base: string, match: (event: { type: string; chatId?: number; message?: { text?: string } }) => boolean) {
  const abort = new AbortController();
  const response = await fetch(`${base}/_emulator/events`, { signal: abort.signal });
  const reader: ReadableStreamDefaultReader<Uint8Array> | undefined = response.body?.getReader();
  if (!reader) throw new Error('no event stream');
  const found = (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) throw new Error('the event stream ended');
      buffer += decoder.decode(value, { stream: true });
      const events = buffer.split('\n\n');
      buffer = events.pop() ?? '';
      for (const event of events) {
        const data = /^data: (.*)$/m.exec(event)?.[1];
        const parsed =
          data === undefined ? undefined : (JSON.parse(data) as { type: string; chatId?: number; message?: { text?: string } });
        if (parsed && match(parsed)) {
          abort.abort();
          return parsed;
        }
      }
    }
  })();
  found.catch(() => undefined); // awaited by the test; a stream cut short after a failure is no news
  return { found };
}

const ONE_REQUEST_TYPE = `version: 1
requests:
  - id: passport_photo
    title: { en: Passport photo }
    steps:
      - id: passport
        type: photo
        prompt: { en: Send a photo of your passport }
`;

describe('SIGHUP', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'orb-sighup-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('re-reads the catalogue; a broken one stays out, with its problems logged (where only) and sent to the admins', async () => {
    const cataloguePath = path.join(dir, 'catalogue.yaml');
    await copyFile('config/catalogue.yaml', cataloguePath);
    const app = running({
      DATA_DIR: await seeded(path.join(dir, 'data')),
      CATALOGUE_PATH: cataloguePath,
      DEFAULT_LOCALE: 'en',
      PORT: String(await freePort()),
    });
    try {
      const ready = await app.next(/"msg":"ready/, true);
      const base = String(ready.url);
      const state = async () => (await (await fetch(`${base}/api/state`)).json()) as { operator: { id: number }; catalogue: unknown[] };
      const before = await state();
      expect(before.catalogue.length).toBeGreaterThan(1);

      // Broken: the catalogue in force stays; the log says where, the admin (the playground's operator) what.
      await writeFile(cataloguePath, ONE_REQUEST_TYPE.replace('    steps:', '    colour: red\n    steps:'));
      const told = await nextEvent(
        base,
        (e) => e.type === 'message.created' && e.chatId === before.operator.id && /not reloaded/.test(e.message?.text ?? ''),
      );
      const failed = app.next(/catalogue not reloaded/);
      app.child.kill('SIGHUP');
      const logged = await failed;
      expect(logged).toMatchObject({ level: 50, problems: [`${cataloguePath}:5 requests[0].colour`] });
      expect(JSON.stringify(logged)).not.toContain('unknown key');
      expect((await told.found).message?.text).toContain(`${cataloguePath}:5 requests[0].colour: unknown key`);
      expect((await state()).catalogue).toEqual(before.catalogue);

      // Fixed: the new catalogue is in force.
      await writeFile(cataloguePath, ONE_REQUEST_TYPE);
      const reloaded = app.next(/catalogue reloaded/);
      app.child.kill('SIGHUP');
      expect(await reloaded).toMatchObject({ requestTypes: 1 });
      expect((await state()).catalogue).toEqual([{ id: 'passport_photo', title: 'Passport photo' }]);

      app.child.kill('SIGTERM');
      expect(await app.exited).toBe(0);
      expect(app.stderr()).not.toMatch(/\n\s+at /);
    } finally {
      app.child.kill('SIGKILL');
    }
  });
});
