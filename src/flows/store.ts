/**
 * The flow service's SQL. Each helper is one statement (one round trip) so a command stays within a
 * handful of round trips: lock (with the update dedupe), then all writes in one statement.
 */
import { sql, type SQL } from 'drizzle-orm';
import type { Locale, RequestDefinition } from '../../machines/definition.js';
import { personLocale } from '../ui/i18n.js';
import { rowsOf, type Tx } from '../db/client.js';
import { CLIENT_CARD_PREFIX, noteChange, noteNoCards, noteRecorded } from './changes.js';
import { ACTIVE_STATUSES, OPEN_STATUSES, type FlowStatus } from './statuses.js';
import type { FlowSummary, OutMessage, PersonInfo } from './types.js';

export interface FlowRow extends FlowSummary {
  readonly snapshot: unknown;
  readonly remindAt: Date | null;
  readonly expireAt: Date | null;
}

export interface Locked {
  /** False when the update id was seen before: nothing must change. */
  readonly fresh: boolean;
  readonly flow: FlowRow | null;
  readonly client: PersonRow | null;
  readonly operator: PersonRow | null;
}

export interface PersonRow {
  readonly id: number;
  readonly firstName: string;
  readonly lastName: string | null;
  readonly username: string | null;
  readonly languageCode: string | null;
  /** Chosen with /language; null: the Telegram language decides. */
  readonly locale: string | null;
  readonly startedAt: Date | null;
  readonly blockedAt: Date | null;
  /** The client's owner (`people.operator_id`), null while nobody has them. */
  readonly ownerId: number | null;
}

/** Status lists inlined as literals: constants from statuses.ts, never input. */
const ACTIVE = sql.raw(ACTIVE_STATUSES.map((s) => `'${s}'`).join(', '));
const OPEN = sql.raw(OPEN_STATUSES.map((s) => `'${s}'`).join(', '));

/**
 * Records the update as applied, in the command's own transaction: its inbox row turns `done` (or a row
 * is made for an update that did not come through the inbox). No row back: it was applied before.
 */
function dedupe(updateId: number | null): SQL {
  return updateId === null
    ? sql`select 1 as n`
    : sql`insert into inbox (update_id, status, done_at) values (${updateId}::bigint, 'done', now())
          on conflict (update_id) do update set status = 'done', done_at = now(), payload = null where inbox.status = 'pending'
          returning 1 as n`;
}

/** Locks the client's active flow (if any), records the update id, and reads the people involved. */
export async function lockActiveFlow(tx: Tx, clientId: number, updateId: number | null): Promise<Locked> {
  return lockWith(
    tx,
    sql`select * from flows where client_id = ${clientId}::bigint and status in (${ACTIVE}) for update`,
    clientId,
    updateId,
  );
}

/** Locks one flow by id (any status), records the update id, and reads the people involved. */
export async function lockFlow(tx: Tx, flowId: number, updateId: number | null): Promise<Locked> {
  return lockWith(tx, sql`select * from flows where id = ${flowId}::bigint for update`, null, updateId);
}

async function lockWith(tx: Tx, locking: SQL, clientId: number | null, updateId: number | null): Promise<Locked> {
  const clientRef = clientId === null ? sql`(select client_id from locked)` : sql`${clientId}::bigint`;
  const result = await tx.execute(sql`
    with dedupe as (${dedupe(updateId)}), locked as (${locking})
    select
      (select count(*)::int from dedupe) as fresh,
      (select row_to_json(l) from locked l) as flow,
      (select row_to_json(c) from people c where c.id = ${clientRef}) as client,
      (select row_to_json(o) from people o where o.id = (select operator_id from locked)) as operator,
      exists (
        select 1 from outbox k where k.card_key = ${CLIENT_CARD_PREFIX} || (${clientRef})::text
          and k.method = 'sendMessage' and k.status = 'sent' and k.telegram_message_id is not null) as cards`);
  const row = rowsOf<{ fresh: number; flow: RawFlow | null; client: RawPerson | null; operator: RawPerson | null; cards: boolean | null }>(
    result,
  )[0];
  // No staff chat shows this client's card: the command's end needs no lookup of cards to redraw.
  const lockedClient = row?.flow ? Number(row.flow.client_id) : clientId;
  if (row && row.cards === false && lockedClient !== null) noteNoCards(tx, lockedClient);
  const fresh = (row?.fresh ?? 0) > 0;
  if (fresh && updateId !== null) noteRecorded(tx, updateId);
  return {
    fresh,
    flow: row?.flow ? toFlow(row.flow) : null,
    client: row?.client ? toPerson(row.client) : null,
    operator: row?.operator ? toPerson(row.operator) : null,
  };
}

/** Locks the client's person row: serialises starting flows and activating queued ones per client. */
export async function lockClient(tx: Tx, clientId: number, updateId: number | null): Promise<{ fresh: boolean; client: PersonRow | null }> {
  const result = await tx.execute(sql`
    with dedupe as (${dedupe(updateId)}), c as (select * from people where id = ${clientId}::bigint for update)
    select (select count(*)::int from dedupe) as fresh, (select row_to_json(c) from c) as client`);
  const row = rowsOf<{ fresh: number; client: RawPerson | null }>(result)[0];
  const fresh = (row?.fresh ?? 0) > 0;
  if (fresh && updateId !== null) noteRecorded(tx, updateId);
  return { fresh, client: row?.client ? toPerson(row.client) : null };
}

/** The client's flows that are active or queued (read after `lockClient`, so it is current). */
export async function openFlowsOf(tx: Tx, clientId: number): Promise<FlowRow[]> {
  const result = await tx.execute(sql`
    select row_to_json(f) as flow from flows f
    where f.client_id = ${clientId}::bigint and f.status in (${OPEN}) order by f.id`);
  return rowsOf<{ flow: RawFlow }>(result).map((r) => toFlow(r.flow));
}

export async function personById(tx: Tx, id: number): Promise<PersonRow | null> {
  const result = await tx.execute(sql`select row_to_json(p) as person from people p where p.id = ${id}::bigint`);
  const row = rowsOf<{ person: RawPerson }>(result)[0];
  return row ? toPerson(row.person) : null;
}

export interface NewFlow {
  readonly clientId: number;
  readonly operatorId: number;
  readonly definition: RequestDefinition;
  readonly status: FlowStatus;
}

export async function insertFlow(tx: Tx, flow: NewFlow): Promise<number> {
  const result = await tx.execute(sql`
    insert into flows (client_id, operator_id, request_id, definition, definition_hash, status)
    values (${flow.clientId}::bigint, ${flow.operatorId}::bigint, ${flow.definition.id}, ${JSON.stringify(flow.definition)}::jsonb,
            ${flow.definition.hash}, ${flow.status})
    returning id`);
  const id = rowsOf<{ id: number | string }>(result)[0]?.id;
  if (id === undefined) throw new Error('flow insert returned no id');
  noteChange(tx, flow.clientId);
  return Number(id);
}

export interface FlowUpdate {
  readonly id: number;
  /** The version read under the lock; the write fails if it changed. */
  readonly version: number;
  readonly snapshot: unknown;
  readonly status: FlowStatus;
  readonly remindAt: Date | null;
  readonly expireAt: Date | null;
  readonly finished: boolean;
}

export interface AnswerStatusChange {
  readonly flowId: number;
  /** Null: every step. */
  readonly stepId: string | null;
  readonly from: 'pending';
  readonly to: 'accepted' | 'rejected' | 'superseded';
}

export interface NewAnswer {
  readonly flowId: number;
  readonly stepId: string;
  readonly round: number;
  readonly value: unknown;
  readonly fileId: string | null;
  readonly fileUniqueId: string | null;
  readonly messageId: number | null;
}

export interface NewEvent {
  readonly flowId: number;
  readonly fromState: string | null;
  readonly toState: string;
  readonly event: string;
  readonly payload: unknown;
  readonly actorId: number | null;
  readonly actorKind: 'client' | 'operator' | 'system';
}

export interface NewLogMessage {
  readonly chatId: number;
  readonly kind: string;
  readonly text: string | null;
  readonly fileId: string | null;
  readonly fileUniqueId: string | null;
  readonly telegramMessageId: number | null;
  readonly updateId: number | null;
  readonly flowId: number | null;
}

/** A completed request to post to the result webhook (its JSON body, made by the `ResultSink`). */
export interface NewResultDelivery {
  readonly flowId: number;
  readonly body: unknown;
}

export interface WritePlan {
  readonly flows: readonly FlowUpdate[];
  readonly answerChanges: readonly AnswerStatusChange[];
  readonly answers: readonly NewAnswer[];
  readonly events: readonly NewEvent[];
  readonly outbox: readonly (OutMessage & { readonly flowId: number | null })[];
  readonly messages: readonly NewLogMessage[];
  readonly results: readonly NewResultDelivery[];
}

export class StaleWriteError extends Error {
  override name = 'StaleWriteError';
}

const json = (value: unknown) => sql`${JSON.stringify(value)}::jsonb`;

/** Every write of a command in one statement. Throws {@link StaleWriteError} if a flow's version moved. */
export async function write(tx: Tx, plan: WritePlan): Promise<void> {
  const flows = plan.flows.map((f) => ({
    id: f.id,
    version: f.version,
    snapshot: f.snapshot,
    status: f.status,
    remind_at: f.remindAt?.toISOString() ?? null,
    expire_at: f.expireAt?.toISOString() ?? null,
    finished: f.finished,
  }));
  const answerChanges = plan.answerChanges.map((c) => ({ flow_id: c.flowId, step_id: c.stepId, from_status: c.from, to_status: c.to }));
  const answers = plan.answers.map((a) => ({
    flow_id: a.flowId,
    step_id: a.stepId,
    round: a.round,
    value: a.value,
    file_id: a.fileId,
    file_unique_id: a.fileUniqueId,
    message_id: a.messageId,
  }));
  const events = plan.events.map((e) => ({
    flow_id: e.flowId,
    from_state: e.fromState,
    to_state: e.toState,
    event: e.event,
    payload: e.payload ?? null,
    actor_id: e.actorId,
    actor_kind: e.actorKind,
  }));
  const outbox = plan.outbox.map((o) => ({
    chat_id: o.chatId,
    flow_id: o.flowId,
    method: o.method,
    payload: o.payload,
    card_key: o.cardKey ?? null,
  }));
  const messages = plan.messages.map((m) => ({
    chat_id: m.chatId,
    kind: m.kind,
    text: m.text,
    file_id: m.fileId,
    file_unique_id: m.fileUniqueId,
    telegram_message_id: m.telegramMessageId,
    update_id: m.updateId,
    flow_id: m.flowId,
  }));
  const results = plan.results.map((r) => ({ flow_id: r.flowId, body: r.body }));
  const result = await tx.execute(sql`
    with
    fu as (
      update flows set snapshot = x.snapshot, status = x.status, version = flows.version + 1, updated_at = now(),
        remind_at = x.remind_at, expire_at = x.expire_at, finished_at = case when x.finished then now() else null end
      from jsonb_to_recordset(${json(flows)}) as x(id bigint, version int, snapshot jsonb, status text, remind_at timestamptz, expire_at timestamptz, finished boolean)
      where flows.id = x.id and flows.version = x.version
      returning flows.id, flows.client_id),
    au as (
      update answers set status = x.to_status
      from jsonb_to_recordset(${json(answerChanges)}) as x(flow_id bigint, step_id text, from_status text, to_status text)
      where answers.flow_id = x.flow_id and (x.step_id is null or answers.step_id = x.step_id) and answers.status = x.from_status
      returning 1),
    ai as (
      insert into answers (flow_id, step_id, round, value, file_id, file_unique_id, message_id)
      select flow_id, step_id, round, value, file_id, file_unique_id, message_id
      from jsonb_to_recordset(${json(answers)}) as x(flow_id bigint, step_id text, round int, value jsonb, file_id text, file_unique_id text, message_id int)
      returning 1),
    ev as (
      insert into flow_events (flow_id, from_state, to_state, event, payload, actor_id, actor_kind)
      select flow_id, from_state, to_state, event, payload, actor_id, actor_kind
      from jsonb_to_recordset(${json(events)}) as x(flow_id bigint, from_state text, to_state text, event text, payload jsonb, actor_id bigint, actor_kind text)
      returning 1),
    ob as (
      insert into outbox (chat_id, flow_id, method, payload, card_key)
      select chat_id, flow_id, method, payload, card_key
      from rows from (jsonb_to_recordset(${json(outbox)}) as (chat_id bigint, flow_id bigint, method text, payload jsonb, card_key text))
        with ordinality as x(chat_id, flow_id, method, payload, card_key, n)
      order by n
      returning 1),
    ms as (
      insert into messages (chat_id, direction, kind, text, file_id, file_unique_id, telegram_message_id, update_id, flow_id)
      select chat_id, 'in', kind, text, file_id, file_unique_id, telegram_message_id, update_id, flow_id
      from jsonb_to_recordset(${json(messages)}) as x(chat_id bigint, kind text, text text, file_id text, file_unique_id text, telegram_message_id int, update_id bigint, flow_id bigint)
      returning 1),
    rd as (
      insert into result_deliveries (flow_id, body)
      select flow_id, body from jsonb_to_recordset(${json(results)}) as x(flow_id bigint, body jsonb)
      returning 1)
    select (select count(*)::int from fu) as flows, (select json_agg(client_id) from fu) as clients`);
  const row = rowsOf<{ flows: number; clients: (number | string)[] | null }>(result)[0];
  const updated = row?.flows ?? 0;
  for (const clientId of row?.clients ?? []) noteChange(tx, Number(clientId));
  if (updated !== flows.length) throw new StaleWriteError(`expected to update ${flows.length} flow(s), updated ${updated}`);
}

// ---------------------------------------------------------------------------------------------

interface RawFlow {
  id: number | string;
  client_id: number | string;
  operator_id: number | string;
  request_id: string;
  definition: RequestDefinition;
  snapshot: unknown;
  status: FlowStatus;
  version: number;
  remind_at: string | null;
  expire_at: string | null;
  created_at: string;
  updated_at: string;
}

interface RawPerson {
  id: number | string;
  first_name: string;
  last_name: string | null;
  username: string | null;
  language_code: string | null;
  locale?: string | null;
  started_at: string | null;
  blocked_at: string | null;
  operator_id: number | string | null;
}

const date = (value: string | null): Date | null => (value === null ? null : new Date(value));

function toFlow(raw: RawFlow): FlowRow {
  return {
    id: Number(raw.id),
    clientId: Number(raw.client_id),
    operatorId: Number(raw.operator_id),
    requestId: raw.request_id,
    definition: raw.definition,
    snapshot: raw.snapshot,
    status: raw.status,
    version: raw.version,
    remindAt: date(raw.remind_at),
    expireAt: date(raw.expire_at),
    createdAt: new Date(raw.created_at),
    updatedAt: new Date(raw.updated_at),
  };
}

function toPerson(raw: RawPerson): PersonRow {
  return {
    id: Number(raw.id),
    firstName: raw.first_name,
    lastName: raw.last_name,
    username: raw.username,
    languageCode: raw.language_code,
    locale: raw.locale ?? null,
    startedAt: date(raw.started_at),
    blockedAt: date(raw.blocked_at),
    ownerId: raw.operator_id === null || raw.operator_id === undefined ? null : Number(raw.operator_id),
  };
}

/** A person for rendering, with their locale. */
export function personInfo(person: PersonRow | null, id: number, fallback: Locale): PersonInfo {
  return {
    id,
    firstName: person?.firstName ?? '',
    lastName: person?.lastName ?? null,
    username: person?.username ?? null,
    locale: personLocale(person, fallback),
  };
}
