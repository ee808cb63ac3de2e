import pino, { type Logger } from 'pino';
import type { LogLevel } from './config/env.js';

export type { Logger };

/** JSON logs on stdout; tokens and secrets are redacted wherever they appear in log objects. */
export function createLogger(level: LogLevel): Logger {
  return pino({
    level,
    base: undefined,
    redact: { paths: ['token', '*.token', 'botToken', '*.botToken', 'secret', '*.secret'], censor: '[redacted]' },
  });
}
