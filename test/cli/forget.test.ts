import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { forgetCommand } from '../../src/cli/forget-command.js';
import { loadEnv } from '../../src/config/env.js';
import { erasures, people } from '../../src/db/schema.js';
import { FlowService } from '../../src/flows/service.js';
import { ENGINES, openTestDatabase, type TestDatabase } from '../helpers/db.js';
import { addClient, addOperator, catalogue, OPERATOR, text, updateId } from '../helpers/flows.js';
import { everything, traces } from '../helpers/traces.js';

async function run(args: string[], deps: Parameters<typeof forgetCommand>[1] = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await forgetCommand(args, { ...deps, print: (l) => out.push(l), printError: (l) => err.push(l) });
  return { code, out, err };
}

describe('npm run forget: bad arguments', () => {
  const unreachable = {
    env: () => {
      throw new Error('the environment was read');
    },
  };

  it.each([
    [[], /^forget: missing --client: whose data to erase/],
    [['--client', 'anna'], /^forget: --client must be a positive whole number, got "anna"$/],
    [['--client', '1', '--yes'], /^forget: unknown argument "--yes" \(usage: npm run forget -- --client <client id>\)$/],
  ])('%j', async (args, message) => {
    const result = await run(args, unreachable);
    expect(result).toMatchObject({ code: 1, out: [] });
    expect(result.err).toHaveLength(1);
    expect(result.err[0]).toMatch(message);
  });

  it('exits with 1 and says what is wrong', async () => {
    const failed = await promisify(execFile)('npm', ['run', '--silent', 'forget', '--', '--client', '0'], {
      cwd: path.resolve(import.meta.dirname, '../..'),
    }).then(
      () => null,
      (error: { code?: number; stdout?: string; stderr?: string }) => error,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stdout).toBe('');
    expect(failed?.stderr?.split('\n').filter((l) => l.startsWith('forget:'))).toEqual([
      'forget: --client must be a positive whole number, got "0"',
    ]);
  });
});

describe.each(ENGINES)('npm run forget on %s', (engine) => {
  let test: TestDatabase;
  afterEach(() => test.close());

  it('erases that client’s data, prints what it removed, and leaves the other client’s alone', async () => {
    test = await openTestDatabase(engine);
    const database = test.current();
    const { db } = database;
    await addOperator(db);
    const current = await catalogue();
    const flows = new FlowService({ db, catalogue: () => current, defaultLocale: 'en' });
    for (const [id, name] of [
      [41, 'Anna'],
      [42, 'Boris'],
    ] as const) {
      await addClient(db, id, { name });
      await flows.start({ operatorId: OPERATOR, clientId: id, requestId: 'personal_data', updateId: updateId() });
      const message = {
        chatId: id,
        kind: 'text' as const,
        text: `${name} Secretname`,
        fileId: null,
        fileUniqueId: null,
        telegramMessageId: id,
      };
      await flows.answer({ clientId: id, answer: text(`${name} Secretname`), message, updateId: updateId() });
    }
    const boris = await traces(db, 42);
    const env = () => loadEnv({ CATALOGUE_PATH: 'config/does-not-exist.yaml', DEFAULT_LOCALE: 'en', ADMIN_IDS: '77' });

    const erased = await run(['--client', '41'], { env, database });
    expect(erased.err).toEqual([]);
    expect(erased.code).toBe(0);
    expect(erased.out).toEqual([
      expect.stringMatching(
        /^erased client 41: 1 answer, 1 logged message, 0 incoming updates, \d+ outgoing messages, 0 result deliveries; 1 request cancelled \(erasure record #\d+\)$/,
      ),
    ]);
    expect(await traces(db, 42)).toEqual(boris);
    expect((await traces(db, 41)).answers).toEqual([]);
    const all = await everything(db);
    expect(all).not.toContain('Anna Secretname');
    expect(all).toContain('Boris Secretname');
    expect(await db.select({ actorKind: erasures.actorKind, actorId: erasures.actorId }).from(erasures)).toEqual([
      { actorKind: 'command_line', actorId: null },
    ]);

    // Staff and unknown ids are refused, and nothing changes.
    await db.insert(people).values({ id: 77, firstName: 'Alex', role: 'admin' });
    for (const [id, message] of [
      ['77', 'forget: 77 is a staff member, not a client'],
      [String(OPERATOR), `forget: ${OPERATOR} is a staff member, not a client`],
      ['424242', 'forget: there is no client 424242'],
    ] as const) {
      expect(await run(['--client', id], { env, database })).toEqual({ code: 1, out: [], err: [message] });
    }
    expect(await db.select().from(erasures)).toHaveLength(1);
  });
});
