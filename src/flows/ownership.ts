/**
 * Who owns which client, and what each operator may see and do. The owner is `people.operator_id`: the
 * operator who invited the client or sent them their first request. With `OPERATOR_VISIBILITY=own`, an
 * operator sees and acts on their own clients (and on clients nobody owns yet, to take them); admins see
 * everything. The flow service checks it next to the row lock of every command (`refuseForeignFlow`,
 * `refuseForeignClient`); menus use the same rules to show only what may be seen.
 *
 * A client's open requests always belong to the client's owner: taking or handing a client over moves
 * them (`flows.operator_id`) in the same transaction, so their messages reach the new owner.
 */
import { and, asc, eq, inArray, isNull, notInArray, or, sql, type SQL } from 'drizzle-orm';
import { readStoredDefinition, type Locale, type RequestDefinition, type Text } from '../../machines/definition.js';
import type { Db, Queryable, Tx } from '../db/client.js';
import { flowEvents, flows, outbox, people } from '../db/schema.js';
import type { Visibility } from '../config/env.js';
import type { Role } from '../people/roles.js';
import { displayName, html } from '../ui/format.js';
import { personLocale, t } from '../ui/i18n.js';
import { ACTIVE_STATUSES, OPEN_STATUSES, type FlowStatus } from './statuses.js';
import type { Locked, PersonRow } from './store.js';
import type { Actor, Refusal } from './types.js';

export type { Visibility };

/** What the ownership checks need: the configured visibility and the role of whoever acts. */
export interface OwnershipRules {
  readonly visibility: Visibility;
  /** The person's role, read through `q` (a command's transaction). */
  roleOf(id: number, q: Queryable): Promise<Role>;
}

/**
 * Whether `actorId` may act on a client owned by `owner` (null: nobody). `flowOperator`: the operator a
 * request belongs to, who may act on it too (the same person unless the data predates ownership).
 */
export async function mayAct(
  rules: OwnershipRules | undefined,
  q: Queryable,
  actorId: number,
  owners: { owner: number | null; flowOperator?: number },
): Promise<boolean> {
  if (!rules || rules.visibility === 'all') return true;
  if (owners.owner === actorId || owners.flowOperator === actorId) return true;
  return (await rules.roleOf(actorId, q)) === 'admin';
}

/** For a command on a locked flow: an operator acting on another operator's request is refused. */
export async function refuseForeignFlow(rules: OwnershipRules | undefined, tx: Tx, actor: Actor, locked: Locked): Promise<Refusal | null> {
  if (actor.kind !== 'operator' || !locked.flow) return null;
  const allowed = await mayAct(rules, tx, actor.id, { owner: locked.client?.ownerId ?? null, flowOperator: locked.flow.operatorId });
  return allowed ? null : { code: 'not_owner' };
}

/**
 * For a request being sent, under the client's row lock: a client nobody owned has been claimed for the
 * sender by the lock itself (`lockForStart`, same transaction); another operator's client is refused
 * unless the rules allow it.
 */
export async function refuseForeignClient(
  rules: OwnershipRules | undefined,
  tx: Tx,
  operatorId: number,
  client: PersonRow,
): Promise<Refusal | null> {
  if (client.ownerId === null) return null;
  return (await mayAct(rules, tx, operatorId, { owner: client.ownerId })) ? null : { code: 'not_owner' };
}

// ---------------------------------------------------------------------------------------------
// The workspace: dashboard counts and lists, Take and Hand over.

/** The dashboard's lists of requests. */
export type WaitingKind = 'review' | 'attention' | 'active';

export interface ClientName {
  readonly id: number;
  readonly firstName: string;
  readonly lastName: string | null;
  readonly username: string | null;
}

/** A request in a dashboard list: how long it has waited (since its last change) and whether it is overdue. */
export interface WaitingItem {
  readonly flowId: number;
  readonly version: number;
  readonly status: FlowStatus;
  readonly title: Text;
  readonly client: ClientName;
  readonly operatorId: number;
  readonly since: Date;
  readonly waitedMs: number;
  readonly overdue: boolean;
}

/** A client nobody owns yet, waiting since they opened the bot. */
export interface UnassignedItem {
  readonly client: ClientName;
  readonly since: Date;
  readonly waitedMs: number;
  readonly overdue: boolean;
}

export interface DashboardCounts {
  readonly review: number;
  readonly attention: number;
  readonly active: number;
  readonly unassigned: number;
}

export type HandOverOutcome =
  | { readonly ok: true; readonly from: number | null; readonly to: number; readonly requests: number }
  | { readonly ok: false; readonly reason: 'client_not_found' | 'not_owner' | 'not_staff' | 'already_owner' };

export interface OwnershipDeps {
  readonly db: Db;
  readonly rules: OwnershipRules;
  readonly defaultLocale: Locale;
  /** Everyone on the staff (never listed as clients). */
  readonly staffIds: (q: Queryable) => Promise<readonly number[]>;
  /** A request waiting for an operator, or a client nobody took, is overdue after this long. */
  readonly overdueMs: number;
  readonly clock?: () => Date;
}

const STATUSES_OF: Record<WaitingKind, readonly FlowStatus[]> = {
  review: ['in_review'],
  attention: ['needs_operator'],
  active: ACTIVE_STATUSES,
};
/** Statuses in which the operator is the one to act: their wait counts towards "overdue". */
const OPERATOR_TURN: ReadonlySet<FlowStatus> = new Set(['in_review', 'needs_operator']);

export class Ownership {
  private readonly db: Db;
  private readonly clock: () => Date;

  constructor(private readonly deps: OwnershipDeps) {
    this.db = deps.db;
    this.clock = deps.clock ?? (() => new Date());
  }

  get visibility(): Visibility {
    return this.deps.rules.visibility;
  }

  /** After how many hours a wait is overdue. */
  get overdueHours(): number {
    return this.deps.overdueMs / 3_600_000;
  }

  /** The operator whose things `actorId` sees, or null for everything (an admin, or visibility `all`). */
  async scopeOf(actorId: number): Promise<number | null> {
    if (this.deps.rules.visibility === 'all') return null;
    return (await this.deps.rules.roleOf(actorId, this.db)) === 'admin' ? null : actorId;
  }

  /** The client's owner (null: nobody), or undefined when there is no such person. */
  async ownerOf(clientId: number): Promise<number | null | undefined> {
    const [row] = await this.db.select({ owner: people.operatorId }).from(people).where(eq(people.id, clientId));
    return row ? row.owner : undefined;
  }

  /** Whether `actorId` may see (and act on) the client: theirs, nobody's yet, or everything is visible to them. */
  async maySeeClient(actorId: number, clientId: number): Promise<boolean> {
    return this.maySeeOwned(actorId, (await this.ownerOf(clientId)) ?? null);
  }

  /** {@link maySeeClient} for a client whose owner is known (null: nobody). */
  async maySeeOwned(actorId: number, owner: number | null): Promise<boolean> {
    return owner === null || mayAct(this.deps.rules, this.db, actorId, { owner });
  }

  /** Whether `actorId` may act on the request (see {@link refuseForeignFlow}); unknown requests are left to the command. */
  async mayActOnFlow(actorId: number, flowId: number): Promise<boolean> {
    if (this.deps.rules.visibility === 'all') return true;
    const [row] = await this.db
      .select({ flowOperator: flows.operatorId, owner: people.operatorId })
      .from(flows)
      .leftJoin(people, eq(people.id, flows.clientId))
      .where(eq(flows.id, flowId));
    if (!row) return true;
    return mayAct(this.deps.rules, this.db, actorId, { owner: row.owner, flowOperator: row.flowOperator });
  }

  /** The dashboard's counts for `scope` (an operator, or null: everyone's). */
  async counts(scope: number | null): Promise<DashboardCounts> {
    const [row] = await this.db
      .select({
        review: sql<number>`count(*) filter (where ${flows.status} = 'in_review')::int`,
        attention: sql<number>`count(*) filter (where ${flows.status} = 'needs_operator')::int`,
        active: sql<number>`count(*)::int`,
      })
      .from(flows)
      .leftJoin(people, eq(people.id, flows.clientId))
      .where(and(inArray(flows.status, [...ACTIVE_STATUSES]), this.flowScope(scope)));
    const [unassigned] = await this.db
      .select({ n: sql<number>`count(*)::int` })
      .from(people)
      .where(await this.unassignedWhere());
    return { review: row?.review ?? 0, attention: row?.attention ?? 0, active: row?.active ?? 0, unassigned: unassigned?.n ?? 0 };
  }

  /** A dashboard list, the longest-waiting first. */
  async waiting(
    kind: WaitingKind,
    scope: number | null,
    page: { offset: number; limit: number },
  ): Promise<{ items: WaitingItem[]; total: number }> {
    const where = and(inArray(flows.status, [...STATUSES_OF[kind]]), this.flowScope(scope));
    const [count] = await this.db
      .select({ n: sql<number>`count(*)::int` })
      .from(flows)
      .leftJoin(people, eq(people.id, flows.clientId))
      .where(where);
    const rows = await this.db
      .select({
        id: flows.id,
        version: flows.version,
        status: flows.status,
        definition: flows.definition,
        operatorId: flows.operatorId,
        updatedAt: flows.updatedAt,
        expireAt: flows.expireAt,
        clientId: flows.clientId,
        firstName: people.firstName,
        lastName: people.lastName,
        username: people.username,
      })
      .from(flows)
      .leftJoin(people, eq(people.id, flows.clientId))
      .where(where)
      .orderBy(asc(flows.updatedAt), asc(flows.id))
      .limit(page.limit)
      .offset(page.offset);
    const now = this.clock();
    const items = rows.map((r): WaitingItem => {
      const waitedMs = Math.max(0, now.getTime() - r.updatedAt.getTime());
      const overdue = (OPERATOR_TURN.has(r.status) && waitedMs > this.deps.overdueMs) || (r.expireAt !== null && r.expireAt <= now);
      return {
        flowId: r.id,
        version: r.version,
        status: r.status,
        title: readStoredDefinition(r.definition as RequestDefinition).title,
        client: { id: r.clientId, firstName: r.firstName ?? '', lastName: r.lastName, username: r.username },
        operatorId: r.operatorId,
        since: r.updatedAt,
        waitedMs,
        overdue,
      };
    });
    return { items, total: count?.n ?? 0 };
  }

  /** Clients nobody owns yet, the longest-waiting first (since they opened the bot). */
  async unassigned(page: { offset: number; limit: number }): Promise<{ items: UnassignedItem[]; total: number }> {
    const where = await this.unassignedWhere();
    const [count] = await this.db
      .select({ n: sql<number>`count(*)::int` })
      .from(people)
      .where(where);
    const rows = await this.db
      .select()
      .from(people)
      .where(where)
      .orderBy(asc(people.startedAt), asc(people.id))
      .limit(page.limit)
      .offset(page.offset);
    const now = this.clock();
    const items = rows.map((p): UnassignedItem => {
      const since = p.startedAt ?? p.createdAt;
      const waitedMs = Math.max(0, now.getTime() - since.getTime());
      return { client: p, since, waitedMs, overdue: waitedMs > this.deps.overdueMs };
    });
    return { items, total: count?.n ?? 0 };
  }

  /** Names of the given people (owners shown to admins), by id. */
  async names(ids: readonly number[]): Promise<Map<number, ClientName>> {
    const unique = [...new Set(ids)];
    if (unique.length === 0) return new Map();
    const rows = await this.db
      .select({ id: people.id, firstName: people.firstName, lastName: people.lastName, username: people.username })
      .from(people)
      .where(inArray(people.id, unique));
    return new Map(rows.map((r) => [r.id, r]));
  }

  /**
   * `actorId` takes a client nobody owns: atomic, so of two operators taking at once one wins (false for
   * the other). The client's open requests, if any, move with them.
   */
  async take(actorId: number, clientId: number): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const taken = await tx
        .update(people)
        .set({ operatorId: actorId })
        .where(and(eq(people.id, clientId), isNull(people.operatorId), eq(people.role, 'client')))
        .returning({ id: people.id });
      if (taken.length === 0) return false;
      await this.moveOpenFlows(tx, { clientId, from: null, to: actorId, by: actorId, event: 'TAKE' });
      return true;
    });
  }

  /**
   * Hands a client over to another operator: only the owner or an admin may (or anyone with visibility
   * `all`). The client's open requests move with them; both operators are told through the outbox, and
   * each open request's audit trail records it.
   */
  async handOver(input: { by: number; clientId: number; to: number }): Promise<HandOverOutcome> {
    return this.db.transaction(async (tx) => {
      const [client] = await tx.select().from(people).where(eq(people.id, input.clientId)).for('update');
      if (!client || client.role !== 'client') return { ok: false, reason: 'client_not_found' };
      const from = client.operatorId;
      if (!(await mayAct(this.deps.rules, tx, input.by, { owner: from }))) return { ok: false, reason: 'not_owner' };
      if ((await this.deps.rules.roleOf(input.to, tx)) === 'client') return { ok: false, reason: 'not_staff' };
      if (from === input.to) return { ok: false, reason: 'already_owner' };
      await tx.update(people).set({ operatorId: input.to }).where(eq(people.id, input.clientId));
      const moved = await this.moveOpenFlows(tx, { clientId: input.clientId, from, to: input.to, by: input.by, event: 'HAND_OVER' });
      const staff = await tx
        .select()
        .from(people)
        .where(inArray(people.id, [input.by, input.to, ...(from === null ? [] : [from])]));
      const nameOf = (id: number) => {
        const person = staff.find((p) => p.id === id);
        return html(person ? displayName(person) : String(id));
      };
      const localeFor = (id: number) =>
        personLocale(
          staff.find((p) => p.id === id),
          this.deps.defaultLocale,
        );
      const clientName = html(displayName(client));
      const notices = [
        {
          chatId: input.to,
          method: 'sendMessage',
          payload: {
            text: t(localeFor(input.to), 'handedToYou', { client: clientName, by: nameOf(input.by), n: moved }),
            parse_mode: 'HTML',
          },
        },
        ...(from === null || from === input.to
          ? []
          : [
              {
                chatId: from,
                method: 'sendMessage',
                payload: {
                  text: t(localeFor(from), 'handedAway', { client: clientName, to: nameOf(input.to), by: nameOf(input.by) }),
                  parse_mode: 'HTML',
                },
              },
            ]),
      ];
      await tx.insert(outbox).values(notices);
      return { ok: true, from, to: input.to, requests: moved };
    });
  }

  /** Gives the client's open requests to their new owner and records it in each one's audit trail. */
  private async moveOpenFlows(
    tx: Tx,
    change: { clientId: number; from: number | null; to: number; by: number; event: 'TAKE' | 'HAND_OVER' },
  ): Promise<number> {
    const moved = await tx
      .update(flows)
      .set({ operatorId: change.to })
      .where(and(eq(flows.clientId, change.clientId), inArray(flows.status, [...OPEN_STATUSES])))
      .returning({ id: flows.id, status: flows.status });
    if (moved.length > 0) {
      await tx.insert(flowEvents).values(
        moved.map((f) => ({
          flowId: f.id,
          fromState: f.status,
          toState: f.status,
          event: change.event,
          payload: { from: change.from, to: change.to },
          actorId: change.by,
          actorKind: 'operator' as const,
        })),
      );
    }
    return moved.length;
  }

  /** Requests of `scope`'s clients (or sent by them); everything for null. */
  private flowScope(scope: number | null): SQL | undefined {
    return scope === null ? undefined : or(eq(flows.operatorId, scope), eq(people.operatorId, scope));
  }

  private async unassignedWhere(): Promise<SQL | undefined> {
    const staff = await this.deps.staffIds(this.db);
    return and(
      eq(people.role, 'client'),
      isNull(people.operatorId),
      sql`${people.startedAt} is not null`,
      staff.length > 0 ? notInArray(people.id, [...staff]) : undefined,
    );
  }
}

/** "45 min", "2 h", "3 d": how long something has waited, for lists. */
export function waitedFor(ms: number): { unit: 'min' | 'h' | 'd'; n: number } {
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return { unit: 'min', n: minutes };
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return { unit: 'h', n: hours };
  return { unit: 'd', n: Math.floor(hours / 24) };
}
