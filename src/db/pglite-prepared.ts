import { parse, protocol, type PGlite, type QueryOptions, type Results, type Transaction } from '@electric-sql/pglite';

/** Statements named so far in this process: names never repeat, whichever wrapper of which database asks. */
let named = 0;

/** Statements kept prepared at most: the app's are a small fixed set; one-off texts beyond it run unprepared. */
const MAX_PREPARED = 256;

interface Prepared {
  readonly name: string;
  /** The type of each parameter, as the server inferred it (how a value is written for it). */
  readonly paramTypes: readonly number[];
}

/** What PGlite keeps to itself but offers its own query paths: one statement, or one transaction, at a time. */
interface Exclusive {
  _runExclusiveQuery<T>(fn: () => Promise<T>): Promise<T>;
  _runExclusiveTransaction<T>(fn: () => Promise<T>): Promise<T>;
  _checkReady(): Promise<void>;
}

/**
 * PGlite with named prepared statements, for drizzle. PGlite's own `query` parses and plans every statement
 * anew, in five calls into the WebAssembly module; the app's statements are a small fixed set of texts, some
 * of them large (a command's one write joins a dozen rows sets), and planning them is most of their cost.
 * Here a statement with parameters is parsed once (named `orb_<n>`, its parameter types read once) and then
 * run with one call (bind, describe, execute, sync): a command's write takes about a fifth of the time. A
 * statement whose plan the server no longer accepts (its tables changed), and any beyond the first
 * `MAX_PREPARED` texts, run through PGlite's own `query`. Errors carry the server's code and message (a
 * statement that does not parse fails as it would unprepared), never the parameters.
 */
export function withPreparedStatements(pg: PGlite): PGlite {
  const inner = pg as unknown as PGlite & Exclusive;
  const prepared = new Map<string, Prepared>();

  /** Runs `text` prepared; undefined when it is not to be (the caller runs it the ordinary way). */
  async function runPrepared<T>(
    text: string,
    params: readonly unknown[],
    options: QueryOptions | undefined,
  ): Promise<Results<T> | undefined> {
    let statement = prepared.get(text);
    if (!statement) {
      if (prepared.size >= MAX_PREPARED) return undefined;
      statement = await prepare(text);
    }
    const values = params.map((value, i) => serialize(value, statement.paramTypes[i]));
    const message = concat(
      protocol.serialize.bind({ statement: statement.name, values }),
      protocol.serialize.describe({ type: 'P' }),
      protocol.serialize.execute({}),
      protocol.serialize.sync(),
    );
    try {
      // Holding the database: nothing else could run on it meanwhile, but the sockets and timers can.
      await loopTurn();
      const { messages } = await inner.execProtocol(message, { syncToFs: false });
      return parseResults<T>(messages, options);
    } catch (error) {
      // The plan was made for tables as they were (a migration changed them): prepared again next time.
      if ((error as { code?: unknown }).code === '0A000') {
        prepared.delete(text);
        await inner.execProtocol(concat(protocol.serialize.close({ type: 'S', name: statement.name }), protocol.serialize.sync()), {
          syncToFs: false,
          throwOnError: false,
        });
        return undefined;
      }
      throw error;
    }
  }

  /**
   * A statement's results, as PGlite's own `query` makes them. A query's own parsers (drizzle passes a few
   * with every query) are laid over PGlite's table of 300-odd types instead of copied into a new one with
   * it, which PGlite does per statement (a tenth of a millisecond, and the garbage).
   */
  function parseResults<T>(messages: Parameters<typeof parse.parseResults>[0], options: QueryOptions | undefined): Results<T> {
    let parsers = inner.parsers;
    if (options?.parsers) {
      parsers = Object.assign(Object.create(inner.parsers) as typeof parsers, options.parsers);
      options = { ...options, parsers: undefined };
    }
    return parse.parseResults(messages, parsers, options)[0] as Results<T>;
  }

  /** Parses `text` as a named statement and reads its parameter types; a statement that does not parse throws. */
  async function prepare(text: string): Promise<Prepared> {
    const name = `orb_${++named}`;
    const message = concat(
      protocol.serialize.parse({ name, text, types: [] }),
      protocol.serialize.describe({ type: 'S', name }),
      protocol.serialize.sync(),
    );
    const { messages } = await inner.execProtocol(message, { syncToFs: false });
    const statement = { name, paramTypes: parse.parseDescribeStatementResults(messages) };
    prepared.set(text, statement);
    return statement;
  }

  /** A parameter as PGlite's own `query` writes it: by its type's serializer, else as text. */
  function serialize(value: unknown, type: number | undefined): string | null {
    if (value === null || value === undefined) return null;
    const write = type === undefined ? undefined : inner.serializers[type];
    if (write) return write(value);
    switch (typeof value) {
      case 'string':
        return value;
      case 'number':
      case 'bigint':
      case 'boolean':
        return value.toString();
      default:
        return JSON.stringify(value);
    }
  }

  /** A statement outside a transaction: waits for one that runs, then goes alone, and is synced to disk. */
  async function query<T>(text: string, params: unknown[] = [], options?: QueryOptions): Promise<Results<T>> {
    if (params.length === 0) return pg.query<T>(text, params, options);
    await inner._checkReady();
    const result = await inner._runExclusiveTransaction(() =>
      inner._runExclusiveQuery(async () => {
        const done = await runPrepared<T>(text, params, options);
        if (done) await inner.syncToFs();
        return done;
      }),
    );
    return result ?? pg.query<T>(text, params, options);
  }

  /** A statement inside a transaction (which holds PGlite's transaction lock already). */
  function inTransaction(tx: Transaction): Transaction {
    return replacing(tx, {
      query: async <T>(text: string, params: unknown[] = [], options?: QueryOptions): Promise<Results<T>> => {
        if (params.length === 0 || tx.closed) return tx.query<T>(text, params, options);
        const result = await inner._runExclusiveQuery(() => runPrepared<T>(text, params, options));
        return result ?? tx.query<T>(text, params, options);
      },
    });
  }

  return replacing(pg, {
    query,
    // DISCARD ALL and DEALLOCATE drop the prepared statements (a test's reset does): they are prepared again.
    exec: async (text: string, options?: QueryOptions): Promise<Results[]> => {
      const results = await pg.exec(text, options);
      if (/\b(discard|deallocate)\b/i.test(text)) prepared.clear();
      return results;
    },
    transaction: <T>(callback: (tx: Transaction) => Promise<T>): Promise<T> => pg.transaction((tx) => callback(inTransaction(tx))),
  });
}

/**
 * Resolves on the event loop's next turn, after its pending I/O. PGlite runs a statement synchronously on this
 * thread, and the next one queued starts from a promise, so without a turn between them a queue of statements
 * (a burst of commands) holds off every socket and timer until it drains: replies to send, webhook calls,
 * the Bot API's answers.
 */
function loopTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * `target` with some of its methods replaced by `own`; the rest are its own, bound to it. A property set on
 * the result later (a test's or the benchmark's statement counter wrapping `query`) wins over both.
 */
function replacing<T extends object>(target: T, own: Record<string, unknown>): T {
  const assigned = new Map<PropertyKey, unknown>();
  return new Proxy(target, {
    get(t, property, receiver) {
      if (assigned.has(property)) return assigned.get(property);
      if (typeof property === 'string' && property in own) return own[property];
      const value: unknown = Reflect.get(t, property, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(t) : value;
    },
    set(_t, property, value) {
      assigned.set(property, value);
      return true;
    },
  });
}

function concat(...parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
