import { cleanEnv, makeValidator, port, str, url, EnvError as EnvalidError } from 'envalid';
import { LOCALES, type Locale } from '../../machines/definition.js';

/** OPERATOR_VISIBILITY: whose clients an operator sees and acts on (see src/flows/ownership.ts). */
export const VISIBILITIES = ['own', 'all'] as const;
export type Visibility = (typeof VISIBILITIES)[number];

/** One bad environment variable and why. */
export interface EnvProblem {
  readonly name: string;
  readonly message: string;
}

/** Thrown by {@link loadEnv} with every bad variable at once. */
export class EnvError extends Error {
  constructor(readonly problems: readonly EnvProblem[]) {
    super(
      `Invalid environment:\n${problems.map((p) => `  ${p.name}: ${p.message}`).join('\n')}\n` +
        'See .env.example for every variable and its format.',
    );
    this.name = 'EnvError';
  }
}

const telegramIds = makeValidator<readonly number[]>((input) => {
  const parts = input
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const bad = parts.filter((p) => !/^[1-9]\d{0,15}$/.test(p) || !Number.isSafeInteger(Number(p)));
  if (bad.length > 0) {
    throw new EnvalidError(`not a Telegram user id: ${bad.map((b) => JSON.stringify(b)).join(', ')}`);
  }
  return parts.map(Number);
});

const postgresUrl = makeValidator<string>((input) => {
  let parsed: URL;
  try {
    parsed = new URL(input);
  } catch {
    throw new EnvalidError('not a URL (expected postgres://user@host:port/database)');
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new EnvalidError(`expected a postgres:// URL, got ${parsed.protocol}//`);
  }
  return input;
});

const webhookSecret = makeValidator<string>((input) => {
  if (!/^[A-Za-z0-9_-]{1,256}$/.test(input)) {
    throw new EnvalidError('1-256 characters of A-Z, a-z, 0-9, _ and - only');
  }
  return input;
});

/** A shared secret of at least 16 characters, printable ASCII without spaces. */
const sharedSecret = makeValidator<string>((input) => {
  if (!/^[\x21-\x7E]{16,512}$/.test(input)) throw new EnvalidError('16-512 printable characters, no spaces');
  return input;
});

const httpUrl = makeValidator<string>((input) => {
  let parsed: URL;
  try {
    parsed = new URL(input);
  } catch {
    throw new EnvalidError('not a valid URL');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new EnvalidError('must be an http(s) URL');
  return input;
});

const hours = makeValidator<number>((input) => {
  if (!/^[1-9]\d{0,5}$/.test(input.trim())) throw new EnvalidError('a whole number of hours, at least 1');
  return Number(input);
});

const days = makeValidator<number>((input) => {
  if (!/^[1-9]\d{0,4}$/.test(input.trim()) || Number(input) > 36_500) throw new EnvalidError('a whole number of days, 1-36500');
  return Number(input);
});

/** Values never repeated in error messages (a URL may carry credentials). */
const SECRETS = new Set(['BOT_TOKEN', 'WEBHOOK_SECRET', 'DATABASE_URL', 'RESULT_WEBHOOK_URL', 'RESULT_WEBHOOK_SECRET', 'API_TOKEN']);

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Env {
  /** Without a token the app runs the local playground. */
  readonly botToken: string | undefined;
  readonly telegramApiRoot: string | undefined;
  readonly operatorIds: readonly number[];
  readonly adminIds: readonly number[];
  /** Without it the embedded PGlite database in `dataDir` is used. */
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  readonly cataloguePath: string;
  readonly defaultLocale: Locale;
  readonly logLevel: LogLevel;
  readonly port: number;
  readonly webhookUrl: string | undefined;
  readonly webhookSecret: string | undefined;
  /** Every accepted request is POSTed here, signed with `resultWebhookSecret` (both or neither). */
  readonly resultWebhookUrl: string | undefined;
  readonly resultWebhookSecret: string | undefined;
  /** This server's public base URL: result webhooks then carry signed download links for files. */
  readonly resultLinksUrl: string | undefined;
  /** Bearer token of the request API (`/api/requests`); unset: the API answers 404. */
  readonly apiToken: string | undefined;
  /** Answers and message contents of requests finished longer ago are removed; unset: kept forever. */
  readonly retentionDays: number | undefined;
  /** `own`: operators see and act on their own clients only (admins on all); `all`: everyone on everything. */
  readonly operatorVisibility: Visibility;
  /** A request waiting for an operator (or a client nobody took) longer than this is marked overdue. */
  readonly reviewOverdueHours: number;
}

/**
 * Reads and validates the environment. The only reader of `process.env` in the project.
 * Throws {@link EnvError} naming every bad variable.
 */
export function loadEnv(source: Readonly<Record<string, string | undefined>> = process.env): Env {
  const problems: EnvProblem[] = [];
  // envalid treats '' as a value; an empty line in .env means "not set".
  const input = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const raw = cleanEnv(
    input,
    {
      BOT_TOKEN: str({ default: undefined, desc: 'Telegram bot token from @BotFather' }),
      TELEGRAM_API_ROOT: url({ default: undefined, desc: 'Bot API server root' }),
      OPERATOR_IDS: telegramIds({ default: [], desc: 'Operator Telegram user ids' }),
      ADMIN_IDS: telegramIds({ default: [], desc: 'Admin Telegram user ids' }),
      DATABASE_URL: postgresUrl({ default: undefined, desc: 'PostgreSQL URL' }),
      DATA_DIR: str({ default: './data' }),
      CATALOGUE_PATH: str({ default: 'config/catalogue.yaml' }),
      DEFAULT_LOCALE: str({ choices: LOCALES, default: 'ru' }),
      LOG_LEVEL: str({ choices: LOG_LEVELS, default: 'info' }),
      PORT: port({ default: 3000 }),
      WEBHOOK_URL: url({ default: undefined }),
      WEBHOOK_SECRET: webhookSecret({ default: undefined }),
      RESULT_WEBHOOK_URL: httpUrl({ default: undefined }),
      RESULT_WEBHOOK_SECRET: sharedSecret({ default: undefined }),
      RESULT_LINKS_URL: httpUrl({ default: undefined }),
      API_TOKEN: sharedSecret({ default: undefined }),
      RETENTION_DAYS: days({ default: undefined }),
      OPERATOR_VISIBILITY: str({ choices: VISIBILITIES, default: 'own', desc: 'Whose clients an operator sees: own or all' }),
      REVIEW_OVERDUE_HOURS: hours({ default: 24, desc: 'Hours a request may wait for an operator before it is overdue' }),
    },
    {
      reporter: ({ errors }) => {
        for (const [name, error] of Object.entries(errors)) {
          if (error) problems.push({ name, message: describe(error, SECRETS.has(name) ? undefined : source[name]) });
        }
      },
    },
  );
  if (problems.length === 0) {
    if (raw.BOT_TOKEN !== undefined && raw.OPERATOR_IDS.length + raw.ADMIN_IDS.length === 0) {
      problems.push({
        name: 'OPERATOR_IDS',
        message: 'required when BOT_TOKEN is set (or set ADMIN_IDS): nobody could send requests',
      });
    }
    if (raw.WEBHOOK_URL !== undefined) {
      if (raw.BOT_TOKEN === undefined) problems.push({ name: 'WEBHOOK_URL', message: 'needs BOT_TOKEN' });
      if (!raw.WEBHOOK_URL.startsWith('https://') && !raw.WEBHOOK_URL.startsWith('http://')) {
        problems.push({ name: 'WEBHOOK_URL', message: 'must be an http(s) URL' });
      }
      if (raw.WEBHOOK_SECRET === undefined) {
        problems.push({ name: 'WEBHOOK_SECRET', message: 'required when WEBHOOK_URL is set' });
      }
    }
    if (raw.RESULT_WEBHOOK_URL !== undefined && raw.RESULT_WEBHOOK_SECRET === undefined) {
      problems.push({
        name: 'RESULT_WEBHOOK_SECRET',
        message: 'required when RESULT_WEBHOOK_URL is set (the receiver checks the signature with it)',
      });
    }
    if (raw.RESULT_WEBHOOK_SECRET !== undefined && raw.RESULT_WEBHOOK_URL === undefined) {
      problems.push({ name: 'RESULT_WEBHOOK_URL', message: 'required when RESULT_WEBHOOK_SECRET is set' });
    }
    if (raw.RESULT_LINKS_URL !== undefined && raw.RESULT_WEBHOOK_URL === undefined) {
      problems.push({ name: 'RESULT_LINKS_URL', message: 'only used with RESULT_WEBHOOK_URL (the links are in the results it posts)' });
    }
  }
  if (problems.length > 0) throw new EnvError(problems);
  return {
    botToken: raw.BOT_TOKEN,
    telegramApiRoot: raw.TELEGRAM_API_ROOT?.replace(/\/+$/, ''),
    operatorIds: raw.OPERATOR_IDS,
    adminIds: raw.ADMIN_IDS,
    databaseUrl: raw.DATABASE_URL,
    dataDir: raw.DATA_DIR,
    cataloguePath: raw.CATALOGUE_PATH,
    defaultLocale: raw.DEFAULT_LOCALE,
    logLevel: raw.LOG_LEVEL,
    port: raw.PORT,
    webhookUrl: raw.WEBHOOK_URL,
    webhookSecret: raw.WEBHOOK_SECRET,
    resultWebhookUrl: raw.RESULT_WEBHOOK_URL,
    resultWebhookSecret: raw.RESULT_WEBHOOK_SECRET,
    resultLinksUrl: raw.RESULT_LINKS_URL?.replace(/\/+$/, ''),
    apiToken: raw.API_TOKEN,
    retentionDays: raw.RETENTION_DAYS,
    operatorVisibility: raw.OPERATOR_VISIBILITY,
    reviewOverdueHours: raw.REVIEW_OVERDUE_HOURS,
  };
}

function describe(error: Error, value: string | undefined): string {
  const shown = value === undefined ? '' : ` (got ${JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value)})`;
  const message = error.message;
  if (message.includes('not in choices'))
    return `must be one of ${message
      .replace(/^.*not in choices \[?([^\]]*)\]?.*$/, '$1')
      .split(',')
      .join(', ')}${shown}`;
  if (message.startsWith('Invalid url')) return `not a valid URL${shown}`;
  if (message.startsWith('Invalid port')) return `not a port number (1-65535)${shown}`;
  return `${message}${shown}`;
}
