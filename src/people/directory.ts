import { randomBytes } from 'node:crypto';
import { and, desc, eq, ilike, inArray, isNull, ne, or, sql } from 'drizzle-orm';
import { rowsOf, type Db, type Queryable } from '../db/client.js';
import { flows, invites, people } from '../db/schema.js';
import { LOCALES, type Locale } from '../../machines/definition.js';
import { OPEN_STATUSES, type FlowStatus } from '../flows/statuses.js';
import type { Role } from './roles.js';

/** What Telegram tells us about a user. */
export interface TelegramProfile {
  readonly id: number;
  readonly first_name: string;
  readonly last_name?: string | undefined;
  readonly username?: string | undefined;
  readonly language_code?: string | undefined;
}

export type Person = typeof people.$inferSelect;

export interface ClientListItem {
  readonly person: Person;
  /** The status of the client's active flow, or null. */
  readonly status: FlowStatus | null;
  readonly queued: number;
}

export interface StaffConfig {
  readonly operatorIds: readonly number[];
  readonly adminIds: readonly number[];
}

/** Invite redemption results. */
export type InviteOutcome =
  | { readonly ok: true; readonly operatorId: number; readonly requestIds: readonly string[] }
  | { readonly ok: false; readonly reason: 'unknown' | 'used' | 'expired' | 'own' };

/** People: clients and staff, roles, and invite links. */
export class Directory {
  /** Last profile written per person, to skip writes when nothing changed. */
  private readonly touched = new Map<number, { key: string; at: number }>();
  /** Roles and chosen languages read recently: both are needed on every update, and change rarely. */
  private readonly stored = new Map<number, { role: Role; locale: Locale | null; at: number }>();

  constructor(
    private readonly db: Db,
    private readonly staff: StaffConfig,
    private readonly options: { touchEveryMs?: number; quietPeriodMs?: number; roleCacheMs?: number } = {},
  ) {}

  /**
   * Records that a person was seen (names, language, activity). Skips the write when the profile
   * is unchanged and the last write is recent: this runs on every update.
   */
  async touch(profile: TelegramProfile, options: { started?: boolean } = {}): Promise<void> {
    const key = `${profile.first_name}|${profile.last_name ?? ''}|${profile.username ?? ''}|${profile.language_code ?? ''}`;
    const last = this.touched.get(profile.id);
    const now = Date.now();
    if (!options.started && last && last.key === key && now - last.at < (this.options.touchEveryMs ?? 60_000)) return;
    const values = {
      id: profile.id,
      firstName: profile.first_name,
      lastName: profile.last_name ?? null,
      username: profile.username ?? null,
      languageCode: profile.language_code ?? null,
      lastActivityAt: new Date(now),
      ...(options.started ? { startedAt: new Date(now), blockedAt: null } : {}),
    };
    const { id: _id, ...update } = values;
    // The role and the chosen language come back with the write: the role and language reads after it are cached.
    const [row] = await this.db
      .insert(people)
      .values(values)
      .onConflictDoUpdate({ target: people.id, set: update })
      .returning({ role: people.role, locale: people.locale });
    this.touched.set(profile.id, { key, at: now });
    if (row) this.remember(profile.id, row);
  }

  async get(id: number): Promise<Person | null> {
    const [row] = await this.db.select().from(people).where(eq(people.id, id));
    return row ?? null;
  }

  /**
   * The role: the environment's lists first, then what admins set in the bot (read at most every
   * `roleCacheMs`, default 30 s; a change made on this instance applies at once).
   */
  async roleOf(id: number, q: Queryable = this.db): Promise<Role> {
    if (this.staff.adminIds.includes(id)) return 'admin';
    if (this.staff.operatorIds.includes(id)) return 'operator';
    return (await this.storedOf(id, q)).role;
  }

  /** Whether the person is known to be on the staff, without a query (the environment's lists, or the role last read). */
  knownStaff(id: number): boolean {
    if (this.staff.adminIds.includes(id) || this.staff.operatorIds.includes(id)) return true;
    const role = this.stored.get(id)?.role;
    return role === 'operator' || role === 'admin';
  }

  /** The language the person chose with /language, or null (cached like the role). */
  async chosenLocale(id: number): Promise<Locale | null> {
    return (await this.storedOf(id, this.db)).locale;
  }

  /** The chosen language as last read, without a query (null when unknown or none). */
  knownLocale(id: number): Locale | null {
    return this.stored.get(id)?.locale ?? null;
  }

  /** Remembers the language a person chose; the bot writes to them in it from now on. */
  async setLocale(profile: TelegramProfile, locale: Locale): Promise<void> {
    await this.touch(profile);
    await this.db.update(people).set({ locale }).where(eq(people.id, profile.id));
    const cached = this.stored.get(profile.id);
    if (cached) this.stored.set(profile.id, { ...cached, locale });
  }

  private async storedOf(id: number, q: Queryable): Promise<{ role: Role; locale: Locale | null }> {
    const cached = this.stored.get(id);
    if (cached && Date.now() - cached.at < (this.options.roleCacheMs ?? 30_000)) return cached;
    const [row] = await q.select({ role: people.role, locale: people.locale }).from(people).where(eq(people.id, id));
    return this.remember(id, row ?? { role: 'client', locale: null });
  }

  private remember(id: number, row: { role: Role; locale: string | null }): { role: Role; locale: Locale | null } {
    const entry = { role: row.role, locale: LOCALES.find((l) => l === row.locale) ?? null, at: Date.now() };
    this.stored.set(id, entry);
    return entry;
  }

  /** Everyone who may act as an operator (admins included). */
  async adminIds(): Promise<number[]> {
    const rows = await this.db.select({ id: people.id }).from(people).where(eq(people.role, 'admin'));
    return [...new Set([...this.staff.adminIds, ...rows.map((r) => r.id)])];
  }

  /** `q`: a transaction to read through (inside one, on PGlite, the database itself cannot be used). */
  async staffIds(q: Queryable = this.db): Promise<number[]> {
    const rows = await q
      .select({ id: people.id })
      .from(people)
      .where(inArray(people.role, ['operator', 'admin']));
    return [...new Set([...this.staff.adminIds, ...this.staff.operatorIds, ...rows.map((r) => r.id)])];
  }

  /** Admins add or remove operators; the environment's lists cannot be changed from the bot. */
  async setOperator(id: number, enabled: boolean): Promise<'ok' | 'from_environment'> {
    if (this.staff.adminIds.includes(id) || this.staff.operatorIds.includes(id)) return 'from_environment';
    await this.db
      .insert(people)
      .values({ id, role: enabled ? 'operator' : 'client' })
      .onConflictDoUpdate({ target: people.id, set: { role: enabled ? 'operator' : 'client' } });
    this.stored.delete(id);
    return 'ok';
  }

  /** Marks a person as having blocked (or unblocked) the bot; true when that is news. */
  async setBlocked(id: number, blocked: boolean): Promise<boolean> {
    const changed = await this.db
      .update(people)
      .set({ blockedAt: blocked ? new Date() : null })
      .where(and(eq(people.id, id), blocked ? isNull(people.blockedAt) : sql`${people.blockedAt} is not null`))
      .returning({ id: people.id });
    return changed.length > 0;
  }

  /** True at most once per quiet period: whether to tell a client without a request to wait. */
  async shouldNudge(id: number): Promise<boolean> {
    const quiet = this.options.quietPeriodMs ?? 6 * 3_600_000;
    const result = await this.db.execute(sql`
      update people set nudged_at = now() where id = ${id}
        and (nudged_at is null or nudged_at < now() - make_interval(secs => ${quiet / 1000}))
      returning id`);
    return rowsOf(result).length > 0;
  }

  /** Clients, newest activity first, with the status of their active request. */
  async clients(options: {
    page: number;
    pageSize: number;
    query?: string;
    visibleTo?: number;
  }): Promise<{ items: ClientListItem[]; total: number }> {
    const staffIds = await this.staffIds();
    const filters = [ne(people.role, 'operator'), ne(people.role, 'admin')];
    // This operator's clients and those nobody owns yet (OPERATOR_VISIBILITY=own): a first request makes them theirs.
    if (options.visibleTo !== undefined) filters.push(or(eq(people.operatorId, options.visibleTo), isNull(people.operatorId))!);
    if (staffIds.length > 0)
      filters.push(
        sql`${people.id} not in (${sql.join(
          staffIds.map((id) => sql`${id}`),
          sql`, `,
        )})`,
      );
    const query = options.query?.trim().replace(/^@/, '');
    if (query) {
      const like = `%${query.replace(/[%_\\]/g, (c) => `\\${c}`)}%`;
      const byId = /^\d+$/.test(query) ? [eq(people.id, Number(query))] : [];
      filters.push(or(ilike(people.firstName, like), ilike(people.lastName, like), ilike(people.username, like), ...byId)!);
    }
    const where = and(...filters);
    const [count] = await this.db
      .select({ n: sql<number>`count(*)::int` })
      .from(people)
      .where(where);
    const rows = await this.db
      .select()
      .from(people)
      .where(where)
      .orderBy(desc(people.lastActivityAt), desc(people.id))
      .limit(options.pageSize)
      .offset(options.page * options.pageSize);
    const ids = rows.map((r) => r.id);
    const open =
      ids.length === 0
        ? []
        : await this.db
            .select({ clientId: flows.clientId, status: flows.status })
            .from(flows)
            .where(and(inArray(flows.clientId, ids), inArray(flows.status, [...OPEN_STATUSES])));
    const items = rows.map((person) => ({
      person,
      status: open.find((f) => f.clientId === person.id && f.status !== 'queued')?.status ?? null,
      queued: open.filter((f) => f.clientId === person.id && f.status === 'queued').length,
    }));
    return { items, total: count?.n ?? 0 };
  }

  /** A single-use invite code that binds whoever opens it to the operator (and starts the requests). */
  async createInvite(operatorId: number, requestIds: readonly string[], ttlMs = 7 * 86_400_000): Promise<string> {
    const code = randomBytes(12).toString('base64url');
    await this.db.insert(invites).values({ code, operatorId, requestIds: [...requestIds], expiresAt: new Date(Date.now() + ttlMs) });
    return code;
  }

  async redeemInvite(code: string, clientId: number): Promise<InviteOutcome> {
    const [used] = await this.db
      .update(invites)
      .set({ usedBy: clientId, usedAt: new Date() })
      .where(and(eq(invites.code, code), isNull(invites.usedBy), sql`${invites.expiresAt} > now()`, ne(invites.operatorId, clientId)))
      .returning();
    if (used) {
      // An invite binds a client nobody owns; another operator's client changes hands only by a hand-over.
      await this.db
        .update(people)
        .set({ operatorId: used.operatorId })
        .where(and(eq(people.id, clientId), isNull(people.operatorId)));
      return { ok: true, operatorId: used.operatorId, requestIds: used.requestIds };
    }
    const [invite] = await this.db.select().from(invites).where(eq(invites.code, code));
    if (!invite) return { ok: false, reason: 'unknown' };
    if (invite.operatorId === clientId) return { ok: false, reason: 'own' };
    if (invite.usedBy !== null) return { ok: false, reason: invite.usedBy === clientId ? 'used' : 'used' };
    return { ok: false, reason: 'expired' };
  }
}
