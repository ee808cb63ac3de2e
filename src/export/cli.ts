/**
 * `npm run export` and `npm run archive`: the same exports as the bot's, written to a file. The database
 * is opened as the app opens it (the environment from `loadEnv()`); a bad argument ends with exit code 1
 * and one line saying what is wrong.
 */
import { writeFile } from 'node:fs/promises';
import { Telegram } from 'telegraf';
import { LOCALES, type Locale } from '../../machines/definition.js';
import { CliError, count, parseFlags, positiveId, required, runCommand, type CliDeps } from '../cli/command.js';
import { loadCatalogueFile, type Catalogue } from '../config/catalogue.js';
import type { Env } from '../config/env.js';
import type { Downloader } from './archive.js';
import { Exporter, type ArchiveScope } from './exporter.js';
import { telegramDownloader } from './telegram-files.js';

export const EXPORT_USAGE = 'usage: npm run export -- --request <request id> [--since YYYY-MM-DD] [--locale ru|en] --out <file.csv>';
export const ARCHIVE_USAGE = 'usage: npm run archive -- (--client <client id> | --flow <request number>) [--locale ru|en] --out <file.zip>';

export type { CliDeps };

/** `npm run export`: one request type's flows as CSV. Resolves to the exit code. */
export function exportCommand(args: readonly string[], deps: CliDeps = {}): Promise<number> {
  return run('export', EXPORT_USAGE, deps, async (context) => {
    const flags = parseFlags(args, ['request', 'since', 'locale', 'out']);
    if (flags === 'help') return EXPORT_USAGE;
    const requestId = required(flags, 'request', 'which request type to export, e.g. --request personal_data');
    const out = required(flags, 'out', 'where to write the CSV, e.g. --out requests.csv');
    const sinceText = flags.get('since');
    const since = sinceText === undefined ? null : parseDay(sinceText);
    const locale = localeFlag(flags);
    const { exporter, catalogue, env } = await context.open();
    if (!(await exporter.knows(requestId))) {
      throw new CliError(
        `unknown request type "${requestId}" (the catalogue has ${catalogue.requests.map((r) => r.id).join(', ') || 'none'})`,
      );
    }
    const csv = await exporter.requestCsv({ requestId, since, viewer: null, locale: locale ?? env.defaultLocale });
    await write(out, csv.bytes);
    const period = sinceText === undefined ? '' : ` created since ${sinceText}`;
    return `wrote ${out}: ${count(csv.rows, 'request')} of ${requestId}${period}`;
  });
}

/** `npm run archive`: one client's or one flow's answers and files as a ZIP. Resolves to the exit code. */
export function archiveCommand(args: readonly string[], deps: CliDeps = {}): Promise<number> {
  return run('archive', ARCHIVE_USAGE, deps, async (context) => {
    const flags = parseFlags(args, ['client', 'flow', 'locale', 'out']);
    if (flags === 'help') return ARCHIVE_USAGE;
    const client = flags.get('client');
    const flow = flags.get('flow');
    if ((client === undefined) === (flow === undefined))
      throw new CliError('give one of --client <client id> or --flow <request number>', true);
    const scope: ArchiveScope =
      client !== undefined ? { clientId: positiveId(client, 'client') } : { flowId: positiveId(flow ?? '', 'flow') };
    const out = required(flags, 'out', 'where to write the ZIP, e.g. --out client.zip');
    const locale = localeFlag(flags);
    const { exporter, env } = await context.open();
    const download: Downloader | null = env.botToken
      ? telegramDownloader(new Telegram(env.botToken, env.telegramApiRoot ? { apiRoot: env.telegramApiRoot } : {}))
      : null;
    const archive = await exporter.archive({ scope, viewer: null, locale: locale ?? env.defaultLocale, download });
    if (!archive)
      throw new CliError(
        `nothing to archive: ${'clientId' in scope ? `client ${scope.clientId} has no requests` : `there is no request ${scope.flowId}`}`,
      );
    await write(out, archive.bytes);
    const files = !archive.filesIncluded
      ? '; files not included: BOT_TOKEN is not set'
      : `, ${count(archive.files, 'file')}${archive.missing > 0 ? `; ${count(archive.missing, 'file')} could not be downloaded (see answers.json)` : ''}`;
    return `wrote ${out}: ${count(archive.requests, 'request')}, ${count(archive.answers, 'answer')}${files}`;
  });
}

interface Opened {
  readonly env: Env;
  readonly catalogue: Catalogue;
  readonly exporter: Exporter;
}

/** Runs a command with the catalogue and an exporter on the database (see `runCommand`). */
function run(name: string, usage: string, deps: CliDeps, body: (context: { open(): Promise<Opened> }) => Promise<string>): Promise<number> {
  return runCommand(name, usage, deps, (context) =>
    body({
      async open(): Promise<Opened> {
        const { env, database } = await context.open();
        const catalogue = await loadCatalogueFile(env.cataloguePath);
        return {
          env,
          catalogue,
          exporter: new Exporter({ db: database.db, catalogue: () => catalogue, ...(deps.clock ? { clock: deps.clock } : {}) }),
        };
      },
    }),
  );
}

/** A real calendar date as YYYY-MM-DD: midnight UTC of that day. */
function parseDay(text: string): Date {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  const date = match ? new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))) : null;
  if (!date || date.toISOString().slice(0, 10) !== text) throw new CliError(`--since must be a real date as YYYY-MM-DD, got "${text}"`);
  return date;
}

function localeFlag(flags: Map<string, string>): Locale | undefined {
  const value = flags.get('locale');
  if (value === undefined) return undefined;
  if (!(LOCALES as readonly string[]).includes(value)) throw new CliError(`--locale must be one of ${LOCALES.join(', ')}, got "${value}"`);
  return value as Locale;
}

async function write(file: string, bytes: Buffer): Promise<void> {
  try {
    await writeFile(file, bytes);
  } catch (error) {
    throw new CliError(`cannot write ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}
