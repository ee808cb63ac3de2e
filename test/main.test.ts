import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the entry point as `npm start` does, with only the given environment (no .env). */
function start(env: Record<string, string>, untilOutput?: RegExp): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'info', PORT: String(20_000 + Math.floor(Math.random() * 20_000)), ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
      if (untilOutput?.test(stdout)) {
        untilOutput = undefined; // one signal only
        child.kill('SIGTERM');
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
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
      const run = await start({ DATA_DIR: path.join(dir, 'data3'), PORT: String(port) }, /ready/);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`port ${port} is already in use`);
      expect(run.stderr).not.toMatch(/\n\s+at /);
    } finally {
      blocker.close();
    }
  });

  it('says the Bot API cannot be reached without printing the token', async () => {
    const run = await start({ DATA_DIR: path.join(dir, 'data4'), BOT_TOKEN: '123:secret-token', OPERATOR_IDS: '1', TELEGRAM_API_ROOT: 'http://127.0.0.1:9' });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('cannot reach the Telegram Bot API at http://127.0.0.1:9');
    expect(run.stderr).not.toContain('secret-token');
  });

  it('stops with exit code 1 and the catalogue problems on a broken catalogue', async () => {
    const run = await start({ DATA_DIR: path.join(dir, 'data2'), CATALOGUE_PATH: path.join(dir, 'missing.yaml') });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('missing.yaml: file not found');
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});
