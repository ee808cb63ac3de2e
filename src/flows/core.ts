/**
 * What every part of the flow service shares: its dependencies, the machine of each frozen definition,
 * the retrying transaction, the rows as the service reads them, and the routing of operator messages.
 */
import { viewOf } from '../../machines/view.js';
import { redrawOpenCards, type CardDeps } from './cards.js';
import { tellCommitted, type CommitListeners } from './changes.js';
import type { OwnershipRules } from './ownership.js';
import { readStoredDefinition, type Locale, type RequestDefinition } from '../../machines/definition.js';
import { parkUnrestorable, restore } from '../../machines/persist.js';
import { createRequestMachine, type RequestMachine, type RequestSnapshot } from '../../machines/request.machine.js';
import type { Catalogue } from '../config/catalogue.js';
import type { Db, Queryable, Tx } from '../db/client.js';
import type { OutboxRow } from '../db/schema.js';
import type { MutablePlan } from './plans.js';
import {
  StaleWriteError,
  lockActiveFlow as lockActiveFlowRow,
  lockFlow as lockFlowRow,
  openFlowsOf as openFlowRowsOf,
  type FlowRow,
  type KnownDefinitions,
  type Locked,
} from './store.js';
import type { ResultSink } from './types.js';

export interface FlowServiceDeps {
  readonly db: Db;
  /** The current catalogue (it may be reloaded; flows keep their frozen definitions). */
  readonly catalogue: () => Catalogue;
  readonly defaultLocale: Locale;
  readonly clock?: () => Date;
  /**
   * Who gets a flow's operator messages: the operator who sent the request, or everyone on the staff
   * when that person is no longer an operator. Default: the operator who sent it.
   */
  readonly operatorsFor?: (operatorId: number, q: Queryable) => Promise<readonly number[]>;
  /** Everyone on the staff (told when a message to an operator could not be delivered). */
  readonly staffIds?: (q: Queryable) => Promise<readonly number[]>;
  /** With it, every completed request is also written for the result webhook (`result_deliveries`). */
  readonly results?: ResultSink | undefined;
  /** Days the answers and message contents of finished requests are kept (`applyRetention`); unset: forever. */
  readonly retentionDays?: number | undefined;
  /** Who may act on whose clients (OPERATOR_VISIBILITY); without it, every operator may act on every request. */
  readonly ownership?: OwnershipRules | undefined;
  /** Told, once a command has committed, of the update it recorded as applied (the inbox need not mark it). */
  readonly onRecorded?: ((updateId: number) => void) | undefined;
  /**
   * Told, once a command has committed, of the outbox rows its writes inserted, whole and in id order: the
   * sender queues them without reading the table (`OutboxSender.hand`). Never told of a rolled-back command's.
   */
  readonly onOutbox?: ((rows: readonly OutboxRow[]) => void) | undefined;
}

/** Identifies the Telegram update behind a command: the same update is applied at most once. */
export interface UpdateRef {
  readonly updateId?: number | null;
}

/** A button press carries the flow and version it was made for. */
export interface ButtonRef {
  readonly flowId?: number;
  readonly version?: number;
}

const MAX_TRIES = 5;
const RETRYABLE_PG = new Set(['40001', '40P01', '23505']);

/** The flow service's dependencies with their defaults, and the helpers every command uses. */
export class FlowCore {
  readonly db: Db;
  readonly catalogue: () => Catalogue;
  readonly defaultLocale: Locale;
  readonly clock: () => Date;
  readonly operatorsFor: (operatorId: number, q: Queryable) => Promise<readonly number[]>;
  readonly staffIds: (q: Queryable) => Promise<readonly number[]>;
  readonly results: ResultSink | undefined;
  readonly retentionDays: number | undefined;
  readonly ownership: OwnershipRules | undefined;
  /** Told once a command has committed (`onRecorded`, `onOutbox`). */
  private readonly listeners: CommitListeners;
  /** What open client cards are drawn with. */
  readonly cardDeps: CardDeps;
  private readonly machines = new Map<string, RequestMachine>();
  /** The frozen definitions read so far: a lock leaves out those (see `KnownDefinitions`). */
  private readonly definitions = new StoredDefinitions();

  constructor(deps: FlowServiceDeps) {
    this.db = deps.db;
    this.catalogue = deps.catalogue;
    this.defaultLocale = deps.defaultLocale;
    this.clock = deps.clock ?? (() => new Date());
    this.operatorsFor = deps.operatorsFor ?? (async (id) => [id]);
    this.staffIds = deps.staffIds ?? (async () => []);
    this.results = deps.results;
    this.retentionDays = deps.retentionDays;
    this.ownership = deps.ownership;
    this.listeners = { onRecorded: deps.onRecorded, onOutbox: deps.onOutbox };
    this.cardDeps = {
      catalogue: this.catalogue,
      defaultLocale: this.defaultLocale,
      viewOf: (definition, stored) => viewOf(definition, this.snapshotOf(definition, stored)),
    };
  }

  /** One machine per frozen definition (by its hash). */
  machineFor(definition: RequestDefinition): RequestMachine {
    let machine = this.machines.get(definition.hash);
    if (!machine) {
      machine = createRequestMachine(definition);
      this.machines.set(definition.hash, machine);
    }
    return machine;
  }

  /** The stored snapshot revived, or, when it no longer fits its machine, parked as `needs_operator`. */
  snapshotOf(definition: RequestDefinition, stored: unknown): RequestSnapshot {
    const machine = this.machineFor(definition);
    const restored = restore(machine, stored);
    return restored.ok ? restored.snapshot : parkUnrestorable(machine, definition, stored);
  }

  /** Runs a command in a transaction, retrying when a concurrent writer got there first. */
  async transact<T>(body: (tx: Tx) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        let committed: Tx | null = null;
        const value = await this.db.transaction(async (tx) => {
          const value = await body(tx);
          // Open client cards of every client this command changed are redrawn in the same transaction.
          await redrawOpenCards(tx, this.cardDeps);
          committed = tx;
          return value;
        });
        if (committed) tellCommitted(committed, this.listeners);
        return value;
      } catch (error) {
        if (attempt >= MAX_TRIES || !isRetryable(error)) throw error;
        await new Promise((r) => setTimeout(r, Math.random() * 10 * attempt));
      }
    }
  }

  /** Locks one flow by id (any status), records the update id, and reads the people involved. */
  lockFlow(tx: Tx, flowId: number, updateId: number | null): Promise<Locked> {
    return lockFlowRow(tx, flowId, updateId, this.definitions);
  }

  /** Locks the client's active flow (if any), records the update id, and reads the people involved. */
  lockActiveFlow(tx: Tx, clientId: number, updateId: number | null): Promise<Locked> {
    return lockActiveFlowRow(tx, clientId, updateId, this.definitions);
  }

  /** Sends the operator's messages to whoever stands in for them (see `operatorsFor`). */
  async routeToOperators(tx: Tx, plan: MutablePlan, operatorId: number): Promise<void> {
    if (!plan.outbox.some((m) => m.chatId === operatorId)) return;
    // Read through the transaction: PGlite has one connection, and a query outside it would wait forever.
    const recipients = await this.operatorsFor(operatorId, tx);
    if (recipients.length === 1 && recipients[0] === operatorId) return;
    const routed = plan.outbox.flatMap((m) => (m.chatId === operatorId ? recipients.map((chatId) => ({ ...m, chatId })) : [m]));
    plan.outbox.splice(0, plan.outbox.length, ...routed);
  }
}

function isRetryable(error: unknown): boolean {
  if (error instanceof StaleWriteError) return true;
  for (let e: unknown = error; e; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && RETRYABLE_PG.has(code)) return true;
  }
  return false;
}

// Rows as the service reads them: the frozen definition migrated to the current format.

export async function openFlowsOf(tx: Tx, clientId: number): Promise<FlowRow[]> {
  return (await openFlowRowsOf(tx, clientId)).map(readFlow);
}

/**
 * The frozen definitions a service has read, migrated to the current format, by content hash (the same hash
 * is the same definition, whichever flow it was read from). A catalogue has a handful; each edit of an entry
 * that flows were started with adds one.
 */
class StoredDefinitions implements KnownDefinitions {
  private readonly known = new Map<string, RequestDefinition>();

  hashes(): readonly string[] {
    return [...this.known.keys()];
  }

  resolve(hash: string, stored: RequestDefinition | null): RequestDefinition {
    if (stored === null) {
      const definition = this.known.get(hash);
      if (!definition) throw new Error(`definition ${hash} left out by the lock, but not known`);
      return definition;
    }
    const definition = readStoredDefinition(stored);
    this.known.set(hash, definition);
    return definition;
  }
}

function readFlow(flow: FlowRow): FlowRow {
  return { ...flow, definition: readStoredDefinition(flow.definition) };
}
