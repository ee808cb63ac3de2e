import pino, { type DestinationStream, type Logger } from 'pino';
import { TelegramError } from 'telegraf';
import type { LogLevel } from './config/env.js';

export type { Logger };

/**
 * What may be logged (or stored, as an update's last error) of an error: its class, its code (a
 * PostgreSQL SQLSTATE, Telegram's error code, a Node errno code), Telegram's description, and the message
 * only where it cannot carry data. Never the SQL statement or its parameters (a Drizzle query error has
 * both, and its message quotes them), a PostgreSQL error's `detail` or `where` (they quote row values),
 * nor a Bot API request payload (a TelegramError carries it in `on.payload`).
 */
export interface ErrorSummary {
  readonly type: string;
  readonly code?: string | number;
  /** Telegram's own description of a refused call ("Forbidden: bot was blocked by the user"). */
  readonly description?: string;
  /** The constraint a database error names (a schema name, never a value). */
  readonly constraint?: string;
  readonly message?: string;
}

/**
 * Every summary made here, with the stack frames of its error: kept out of the summary itself (it is
 * stored in the database), for the log.
 */
const frames = new WeakMap<object, string>();

const SQLSTATE = /^[0-9A-Z]{5}$/;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;

/** The one place that decides what of an error may leave the process: see {@link ErrorSummary}. */
export function summarizeError(error: unknown): ErrorSummary {
  let summary: ErrorSummary;
  if (error instanceof TelegramError) {
    summary = { type: 'TelegramError', code: error.code, description: error.description };
  } else if (!(error instanceof Error)) {
    summary = { type: error === null ? 'null' : typeof error };
  } else {
    // A failed query (Drizzle wraps the driver's error, and its message quotes the statement and parameters).
    const wrapped = error.name === 'DrizzleQueryError' || 'params' in error || 'query' in error;
    const inner = wrapped && error.cause instanceof Error ? error.cause : error;
    const code = (inner as { code?: unknown }).code;
    const constraint =
      (inner as { constraint?: unknown; constraint_name?: unknown }).constraint ?? (inner as { constraint_name?: unknown }).constraint_name;
    const fromDatabase = wrapped || (typeof code === 'string' && SQLSTATE.test(code)) || 'parameters' in inner || 'detail' in inner;
    // A JSON parser's message quotes the text it could not parse.
    const quotesInput = inner instanceof SyntaxError;
    summary = {
      // PGlite's errors are named "error": their class says more.
      type: inner.name !== '' && inner.name !== 'Error' && inner.name !== 'error' ? inner.name : inner.constructor.name || 'Error',
      ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
      ...(fromDatabase && typeof constraint === 'string' && IDENTIFIER.test(constraint) ? { constraint } : {}),
      ...(fromDatabase || quotesInput ? {} : { message: inner.message.slice(0, 300) }),
    };
  }
  frames.set(summary, error instanceof Error ? stackFrames(error.stack) : '');
  return summary;
}

/** The "at …" lines of a stack: its first line repeats the message, which may quote data. */
function stackFrames(stack: string | undefined): string {
  return (stack ?? '')
    .split('\n')
    .filter((line) => /^\s+at /.test(line))
    .slice(0, 20)
    .map((line) => line.trim())
    .join('\n');
}

/**
 * The `err` of a log entry: a raw error or an {@link ErrorSummary} (what the code passes), summarised
 * with its stack frames; any other value is reduced to its type.
 */
export function serializeError(value: unknown): Record<string, unknown> {
  const summary = isSummary(value) ? value : summarizeError(value);
  const stack = frames.get(summary);
  return { ...summary, ...(stack ? { stack } : {}) };
}

function isSummary(value: unknown): value is ErrorSummary {
  return typeof value === 'object' && value !== null && frames.has(value);
}

/** Keys whose values are personal data or Bot API / SQL payloads wherever they appear (top level or one deep). */
const PERSONAL_KEYS = [
  'text',
  'caption',
  'first_name',
  'last_name',
  'firstName',
  'lastName',
  'username',
  'phone_number',
  'phoneNumber',
  'phone',
  'email',
  'location',
  'latitude',
  'longitude',
  'file_id',
  'file_unique_id',
  'fileId',
  'fileUniqueId',
  'payload',
  'params',
  'parameters',
  'detail',
  'where',
];

const SECRET_KEYS = ['token', 'botToken', 'secret'];

/**
 * JSON logs (stdout unless a destination is given). Errors go through {@link serializeError} under `err`
 * (and `error`, when it is an object); tokens, secrets and the keys that carry personal data are redacted
 * wherever they appear at the top of a log object or one level down; `logger.error(err)` without a message
 * logs the error's class, never its message.
 */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const paths = [...SECRET_KEYS, ...PERSONAL_KEYS].flatMap((key) => [key, `*.${key}`]);
  return pino(
    {
      level,
      base: undefined,
      redact: { paths, censor: '[redacted]' },
      serializers: {
        err: serializeError,
        error: (value: unknown) => (typeof value === 'object' && value !== null ? serializeError(value) : value),
      },
      hooks: {
        logMethod(args, method) {
          const [first, ...rest] = args as unknown[];
          if (first instanceof Error) {
            const message = typeof rest[0] === 'string' ? rest : [serializeError(first).type, ...rest];
            return method.apply(this, [{ err: first }, ...message] as Parameters<typeof method>);
          }
          return method.apply(this, args);
        },
      },
    },
    destination,
  );
}
