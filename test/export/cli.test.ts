import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseCatalogue, type Catalogue } from '../../src/config/catalogue.js';
import { loadEnv } from '../../src/config/env.js';
import type { Database } from '../../src/db/client.js';
import { archiveCommand, exportCommand, type CliDeps } from '../../src/export/cli.js';
import { FlowService } from '../../src/flows/service.js';
import { sendRequest, startHarness, type Harness } from '../helpers/bot.js';
import { ENGINES, openTestDatabase, type TestDatabase } from '../helpers/db.js';
import { addClient, addOperator, catalogue, OPERATOR, photo, text, updateId } from '../helpers/flows.js';
import { samplePhoto } from '../helpers/telegram.js';
import { readCsvFile, readZip } from './readers.js';

/** Runs a command in-process: its exit code and what it printed. */
async function run(command: typeof exportCommand, args: string[], deps: Omit<CliDeps, 'print' | 'printError'> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await command(args, { ...deps, print: (l) => out.push(l), printError: (l) => err.push(l) });
  return { code, out, err };
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'orb-export-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('export and archive commands: bad arguments', () => {
  // None of these gets as far as the environment or the database.
  const unreachable = {
    env: () => {
      throw new Error('the environment was read');
    },
  };

  it.each([
    [['--request', 'personal_data'], /^export: missing --out: where to write the CSV/],
    [['--out', 'x.csv'], /^export: missing --request/],
    [
      ['--request', 'personal_data', '--since', '2026-02-30', '--out', 'x.csv'],
      /^export: --since must be a real date as YYYY-MM-DD, got "2026-02-30"$/,
    ],
    [['--request', 'personal_data', '--since', '30.01.2026', '--out', 'x.csv'], /^export: --since must be a real date/],
    [
      ['--request', 'personal_data', '--out', 'x.csv', '--colour', 'red'],
      /^export: unknown argument "--colour" \(usage: npm run export -- /,
    ],
    [['--request', '--out', 'x.csv'], /^export: --request needs a value/],
    [['--request', 'a', '--request', 'b', '--out', 'x.csv'], /^export: --request is given twice/],
    [['--request', 'personal_data', '--locale', 'de', '--out', 'x.csv'], /^export: --locale must be one of ru, en, got "de"$/],
  ])('export %j', async (args, message) => {
    const result = await run(exportCommand, args, unreachable);
    expect(result).toMatchObject({ code: 1, out: [] });
    expect(result.err).toHaveLength(1);
    expect(result.err[0]).toMatch(message);
  });

  it.each([
    [['--out', 'x.zip'], /^archive: give one of --client <client id> or --flow <request number>/],
    [['--client', '1', '--flow', '2', '--out', 'x.zip'], /^archive: give one of --client/],
    [['--client', 'anna', '--out', 'x.zip'], /^archive: --client must be a positive whole number, got "anna"$/],
    [['--client', '12'], /^archive: missing --out: where to write the ZIP/],
  ])('archive %j', async (args, message) => {
    const result = await run(archiveCommand, args, unreachable);
    expect(result).toMatchObject({ code: 1, out: [] });
    expect(result.err).toHaveLength(1);
    expect(result.err[0]).toMatch(message);
  });

  it('npm run export exits with 1 and says what is wrong', async () => {
    const failed = await promisify(execFile)(
      'npm',
      ['run', '--silent', 'export', '--', '--request', 'personal_data', '--since', '2026-13-01', '--out', path.join(dir, 'x.csv')],
      {
        cwd: path.resolve(import.meta.dirname, '../..'),
      },
    ).then(
      () => null,
      (error: { code?: number; stdout?: string; stderr?: string }) => error,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stdout).toBe('');
    // Node may add a line of its own when there is no .env file.
    expect(failed?.stderr?.split('\n').filter((l) => l.startsWith('export:'))).toEqual([
      'export: --since must be a real date as YYYY-MM-DD, got "2026-13-01"',
    ]);
  });
});

describe.each(ENGINES)('export and archive commands on %s', (engine) => {
  let test: TestDatabase;
  let database: Database;
  afterEach(() => test.close());

  const env = () => loadEnv({ CATALOGUE_PATH: 'config/catalogue.yaml', DEFAULT_LOCALE: 'en' });

  /** A personal_data flow (completed), a passport photo (in review), and a flow of a type no longer in the catalogue. */
  async function seed(): Promise<{ clientId: number }> {
    test = await openTestDatabase(engine);
    database = test.current();
    const shipped = await catalogue();
    const retired = parseCatalogue(`
version: 1
requests:
  - { id: old_survey, title: Old survey, steps: [{ id: answer, type: text, prompt: Answer }] }
`);
    let current: Catalogue = retired;
    const flows = new FlowService({ db: database.db, catalogue: () => current, defaultLocale: 'en' });
    await addOperator(database.db);
    const clientId = await addClient(database.db, 42, { name: 'Анна' });
    const start = async (requestId: string) => expect((await flows.start({ operatorId: OPERATOR, clientId, requestId })).ok).toBe(true);
    const answer = async (value: Parameters<FlowService['answer']>[0]['answer']) =>
      expect((await flows.answer({ clientId, answer: value, updateId: updateId() })).ok).toBe(true);
    await start('old_survey');
    await answer(text('yes'));
    current = shipped;
    await start('personal_data');
    for (const value of [text('Анна Петрова'), text('Москва'), text('01.01.1990')]) await answer(value);
    const active = await flows.activeFlow(clientId);
    expect((await flows.confirm({ clientId, flowId: active?.id ?? 0, updateId: updateId() })).ok).toBe(true);
    expect((await flows.accept({ operatorId: OPERATOR, flowId: active?.id ?? 0 })).ok).toBe(true);
    await start('passport_photo');
    await answer(photo(3));
    return { clientId };
  }

  it('writes the CSV and prints one line; a request type that is neither in the catalogue nor in any flow is refused', async () => {
    await seed();
    const out = path.join(dir, 'requests.csv');
    const written = await run(exportCommand, ['--request', 'personal_data', '--since', '2020-01-01', '--out', out, '--locale', 'ru'], {
      env,
      database,
    });
    expect(written).toEqual({ code: 0, out: [`wrote ${out}: 1 request of personal_data created since 2020-01-01`], err: [] });
    const { rows } = readCsvFile(await readFile(out));
    expect(rows.map((r) => [r['request_title'], r['client_name'], r['full_name'], r['city'], r['birth_date']])).toEqual([
      ['Личные данные', 'Анна', 'Анна Петрова', 'Москва', '01.01.1990'],
    ]);

    // Removed from the catalogue, but flows of it exist: still exportable.
    const retired = await run(exportCommand, [`--out=${path.join(dir, 'old.csv')}`, '--request=old_survey'], { env, database });
    expect(retired.out).toEqual([`wrote ${path.join(dir, 'old.csv')}: 1 request of old_survey`]);
    expect(readCsvFile(await readFile(path.join(dir, 'old.csv'))).rows[0]).toMatchObject({ request_id: 'old_survey', answer: 'yes' });

    const unknown = await run(exportCommand, ['--request', 'pasport_photo', '--out', path.join(dir, 'x.csv')], { env, database });
    expect(unknown.code).toBe(1);
    expect(unknown.err).toEqual([
      expect.stringMatching(/^export: unknown request type "pasport_photo" \(the catalogue has passport_photo, personal_data, /),
    ]);
    await expect(readFile(path.join(dir, 'x.csv'))).rejects.toThrow();
  });

  it('archive without BOT_TOKEN: the answers, no files, and it says so; nothing to archive is an error', async () => {
    const { clientId } = await seed();
    const out = path.join(dir, 'client.zip');
    const written = await run(archiveCommand, ['--client', String(clientId), '--out', out], { env, database });
    expect(written).toEqual({ code: 0, out: [`wrote ${out}: 3 requests, 5 answers; files not included: BOT_TOKEN is not set`], err: [] });
    const zip = readZip(await readFile(out));
    expect([...zip.keys()]).toEqual(['answers.json', 'answers.csv']);
    const json = JSON.parse(zip.get('answers.json')?.toString('utf8') ?? '{}') as {
      files_included: boolean;
      requests: { request_id: string; answers: { file?: { path: null; missing: string; file_unique_id: string } }[] }[];
    };
    expect(json.files_included).toBe(false);
    expect(json.requests.map((r) => r.request_id)).toEqual(['old_survey', 'personal_data', 'passport_photo']);
    expect(json.requests[2]?.answers[0]?.file).toMatchObject({ path: null, missing: 'files not included', file_unique_id: 'uphoto-3' });

    const nothing = await run(archiveCommand, ['--client', '777', '--out', path.join(dir, 'none.zip')], { env, database });
    expect(nothing).toEqual({ code: 1, out: [], err: ['archive: nothing to archive: client 777 has no requests'] });
  });
});

describe.each(ENGINES)('archive command with BOT_TOKEN on %s', (engine) => {
  let h: Harness;
  afterEach(() => h.close());

  it('downloads the files through the Bot API into the ZIP; one that cannot be downloaded is listed, never the token', async () => {
    h = await startHarness(engine);
    const anna = await h.client('Anna');
    const boris = await h.client('Boris');
    const env = () =>
      loadEnv({
        BOT_TOKEN: h.token,
        TELEGRAM_API_ROOT: h.emu.apiRoot,
        OPERATOR_IDS: String(h.operator.id),
        CATALOGUE_PATH: 'config/catalogue.yaml',
        DEFAULT_LOCALE: 'en',
      });
    const database = h.db.current();

    await sendRequest(h.operator, 'Anna', 'Passport photo');
    await anna.waitForMessage(/Passport photo · step 1 of 1/);
    const bytes = samplePhoto({ rgb: [1, 2, 3] });
    const sent = await anna.sendPhoto({ bytes });
    await h.operator.waitForMessage(/📥 Passport photo from Anna/);
    const [flow] = await h.app.flows.flowsOf(anna.id);

    const out = path.join(dir, 'request.zip');
    const written = await run(archiveCommand, ['--flow', String(flow?.id), '--out', out], { env, database });
    expect(written).toEqual({ code: 0, out: [`wrote ${out}: 1 request, 1 answer, 1 file`], err: [] });
    const zip = readZip(await readFile(out));
    const file = zip.get(`files/${flow?.id}_passport_photo/passport_round1.jpg`);
    expect(file?.equals(h.emu.fileBytes(sent.photo ?? '') ?? Buffer.alloc(0))).toBe(true);
    expect(file?.equals(bytes)).toBe(true);

    // A file id the Bot API does not know (as a file too large for getFile would be refused).
    expect((await h.app.flows.start({ operatorId: h.operator.id, clientId: boris.id, requestId: 'passport_photo' })).ok).toBe(true);
    expect((await h.app.flows.answer({ clientId: boris.id, answer: photo(9) })).ok).toBe(true);
    const partial = path.join(dir, 'boris.zip');
    const result = await run(archiveCommand, ['--client', String(boris.id), '--out', partial], { env, database });
    expect(result.out).toEqual([`wrote ${partial}: 1 request, 1 answer, 0 files; 1 file could not be downloaded (see answers.json)`]);
    const json =
      readZip(await readFile(partial))
        .get('answers.json')
        ?.toString('utf8') ?? '';
    const archived = JSON.parse(json) as { requests: { answers: { file?: { path: string | null; missing?: string } }[] }[] };
    const listed = archived.requests[0]?.answers[0]?.file;
    expect(listed?.path).toBeNull();
    expect(listed?.missing).toMatch(/^getFile: /);
    expect(json).not.toContain(h.token);
  });
});
