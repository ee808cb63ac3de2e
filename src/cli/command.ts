/**
 * What the command-line tools share (`npm run export`, `archive`, `forget`): arguments as `--name value` or
 * `--name=value`, the environment read as `npm start` reads it, the database opened as the app opens it,
 * one result line on stdout, or one error line on stderr and exit code 1.
 */
import { CatalogueError } from '../config/catalogue.js';
import { EnvError, loadEnv, type Env } from '../config/env.js';
import { DatabaseError, openDatabase, type Database } from '../db/client.js';

export interface CliDeps {
  /** The environment (default: `loadEnv()`, the process's own). */
  readonly env?: () => Env;
  /** An open database to use and leave open; by default one is opened from the environment and closed. */
  readonly database?: Database;
  readonly print?: (line: string) => void;
  readonly printError?: (line: string) => void;
  readonly clock?: () => Date;
}

/** A mistake in how the command was called or what it names: one line, exit code 1. */
export class CliError extends Error {
  /** `usage`: the line ends with the command's usage (the arguments themselves were wrong). */
  constructor(
    message: string,
    readonly usage = false,
  ) {
    super(message);
  }
}

export interface Opened {
  readonly env: Env;
  readonly database: Database;
}

/** Runs a command: its result line on stdout, or one error line on stderr and exit code 1. */
export async function runCommand(
  name: string,
  usage: string,
  deps: CliDeps,
  body: (context: { open(): Promise<Opened> }) => Promise<string>,
): Promise<number> {
  const print = deps.print ?? ((line: string) => console.log(line));
  const printError = deps.printError ?? ((line: string) => console.error(line));
  let database: Database | undefined;
  const context = {
    async open(): Promise<Opened> {
      const env = (deps.env ?? loadEnv)();
      database = deps.database ?? (await openDatabase({ databaseUrl: env.databaseUrl, dataDir: env.dataDir }));
      return { env, database };
    },
  };
  try {
    print(await body(context));
    return 0;
  } catch (error) {
    if (error instanceof CliError) printError(`${name}: ${error.message}${error.usage ? ` (${usage})` : ''}`);
    else if (error instanceof EnvError || error instanceof CatalogueError || error instanceof DatabaseError) printError(error.message);
    else throw error;
    return 1;
  } finally {
    if (database && database !== deps.database) await database.close();
  }
}

/** `--name value` or `--name=value`; `--help` alone gives 'help'. */
export function parseFlags(args: readonly string[], names: readonly string[]): Map<string, string> | 'help' {
  const flags = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--help' || arg === '-h') return 'help';
    const match = /^--([a-z]+)(?:=(.*))?$/s.exec(arg);
    const name = match?.[1];
    if (!match || name === undefined || !names.includes(name)) throw new CliError(`unknown argument "${arg}"`, true);
    const value = match[2] ?? args[++i];
    if (value === undefined || value === '' || (match[2] === undefined && value.startsWith('--')))
      throw new CliError(`--${name} needs a value`, true);
    if (flags.has(name)) throw new CliError(`--${name} is given twice`, true);
    flags.set(name, value);
  }
  return flags;
}

export function required(flags: Map<string, string>, name: string, what: string): string {
  const value = flags.get(name);
  if (value === undefined) throw new CliError(`missing --${name}: ${what}`, true);
  return value;
}

export function positiveId(text: string, name: string): number {
  if (!/^[1-9]\d{0,15}$/.test(text) || !Number.isSafeInteger(Number(text)))
    throw new CliError(`--${name} must be a positive whole number, got "${text}"`);
  return Number(text);
}

/** "1 request", "2 requests". */
export function count(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : plural}`;
}
