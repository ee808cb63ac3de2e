/**
 * The flow service's SQL. Each helper is one statement (one round trip) so a command stays within a
 * handful of round trips: lock (with the update dedupe), then all writes in one statement.
 */
import type { Locale, RequestDefinition, Text } from '../../machines/definition.js';
import { personLocale } from '../ui/i18n.js';
import { bigintArray, textArray } from '../db/arrays.js';
import { commaSeparated, fixed, q, statement, type Piece } from '../db/statement.js';
import { commitWithNext, rowsOf, type Queryable, type Tx } from '../db/client.js';
import { outboxRowOf, type OutboxJson } from '../db/schema.js';
import { loggedInsert, type LogRow } from '../log/messages.js';
import { CLIENT_CARD_PREFIX, noteChange, noteNoCards, noteRecorded, noteWritten } from './changes.js';
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
  /**
   * The client's card where a staff chat shows it, as the lock found it (open flows without definitions: the
   * command draws the flow it changes from its new state); null when no staff chat shows it.
   */
  readonly cards: CardState | null;
  /** The client pressed "Message the operator" within the last `TALK_WINDOW_SECONDS` (their next message is for the operator). */
  readonly talking: boolean;
}

/** "Message the operator" holds for the client's next message, within this time. */
export const TALK_WINDOW_SECONDS = 3_600;

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
const ACTIVE = fixed(ACTIVE_STATUSES.map((s) => `'${s}'`).join(', '));
const OPEN = fixed(OPEN_STATUSES.map((s) => `'${s}'`).join(', '));

/**
 * Records the update as applied, in the command's own transaction: its inbox row turns `done` (or a row
 * is made for an update that did not come through the inbox). No row back: it was applied before.
 */
function dedupe(updateId: number | null): Piece {
  return updateId === null
    ? q`select 1 as n`
    : q`insert into inbox (update_id, status, done_at) values (${updateId}::bigint, 'done', now())
          on conflict (update_id) do update set status = 'done', done_at = now(), payload = null where inbox.status = 'pending'
          returning 1 as n`;
}

/**
 * The frozen definitions a process has read, by their content hash: a lock returns a flow's definition (the
 * largest value it reads) only when its hash is not among them.
 */
export interface KnownDefinitions {
  /** The hashes whose definitions are known. */
  hashes(): readonly string[];
  /** The definition of `hash`: `stored` as read now (then known), or the one known (when the lock left it out). */
  resolve(hash: string, stored: RequestDefinition | null): RequestDefinition;
}

/** Locks the client's active flow (if any), records the update id, and reads the people involved. */
export async function lockActiveFlow(tx: Tx, clientId: number, updateId: number | null, known: KnownDefinitions): Promise<Locked> {
  return lockWith(
    tx,
    q`select * from flows where client_id = ${clientId}::bigint and status in (${ACTIVE}) for update`,
    clientId,
    updateId,
    known,
  );
}

/** Locks one flow by id (any status), records the update id, and reads the people involved. */
export async function lockFlow(tx: Tx, flowId: number, updateId: number | null, known: KnownDefinitions): Promise<Locked> {
  return lockWith(tx, q`select * from flows where id = ${flowId}::bigint for update`, null, updateId, known);
}

async function lockWith(
  tx: Tx,
  locking: Piece,
  clientId: number | null,
  updateId: number | null,
  known: KnownDefinitions,
): Promise<Locked> {
  const clientRef = clientId === null ? q`(select client_id from locked)` : q`${clientId}::bigint`;
  // One statement: the dedupe, the lock, the people, and the client's open cards with what they show (the
  // flows other than the locked one as this statement found them; the command redraws the cards from them).
  const result = await tx.execute(
    statement(q`
    with dedupe as (${dedupe(updateId)}), locked as (${locking})
    select
      (select count(*)::int from dedupe) as fresh,
      (select json_build_object('id', l.id, 'client_id', l.client_id, 'operator_id', l.operator_id, 'request_id', l.request_id,
        'definition_hash', l.definition_hash,
        'definition', case when l.definition_hash = any(${textArray(known.hashes())}::text[]) then null else l.definition end,
        'snapshot', l.snapshot, 'status', l.status, 'version', l.version, 'remind_at', l.remind_at, 'expire_at', l.expire_at,
        'created_at', l.created_at, 'updated_at', l.updated_at) from locked l) as flow,
      row_to_json(c) as client,
      (select row_to_json(o) from people o where o.id = (select operator_id from locked)) as operator,
      coalesce(c.talk_requested_at > now() - make_interval(secs => ${TALK_WINDOW_SECONDS}), false) as talking,
      s.cards,
      case when s.cards is not null then (select row_to_json(w) from people w where w.id = c.operator_id) end as owner,
      case when s.cards is not null then ${cardFlowsOf(clientRef, q`false`)} end as open
    from (select ${shownCardsOf(clientRef)} as cards) s
    left join people c on c.id = ${clientRef}`),
  );
  const row = rowsOf<{
    fresh: number;
    flow: (Omit<RawFlow, 'definition'> & { definition: RequestDefinition | null; definition_hash: string }) | null;
    client: RawPerson | null;
    operator: RawPerson | null;
    talking: boolean;
    cards: RawCard[] | null;
    owner: RawPerson | null;
    open: RawCardFlow[] | null;
  }>(result)[0];
  // No staff chat shows this client's card: the command's end needs no lookup of cards to redraw.
  const lockedClient = row?.flow ? Number(row.flow.client_id) : clientId;
  if (row && row.cards === null && lockedClient !== null) noteNoCards(tx, lockedClient);
  const fresh = (row?.fresh ?? 0) > 0;
  if (fresh && updateId !== null) noteRecorded(tx, updateId);
  const client = row?.client ? toPerson(row.client) : null;
  return {
    fresh,
    flow: row?.flow ? toFlow({ ...row.flow, definition: known.resolve(row.flow.definition_hash, row.flow.definition) }) : null,
    client,
    operator: row?.operator ? toPerson(row.operator) : null,
    cards:
      client && row?.cards
        ? {
            client,
            owner: row.owner ? toPerson(row.owner) : null,
            open: (row.open ?? []).map(toCardFlow),
            cards: row.cards.map(toCard),
          }
        : null,
    talking: row?.talking === true,
  };
}

/** Locks the client's person row: serialises starting flows and activating queued ones per client. */
export async function lockClient(tx: Tx, clientId: number, updateId: number | null): Promise<{ fresh: boolean; client: PersonRow | null }> {
  const result = await tx.execute(
    statement(q`
    with dedupe as (${dedupe(updateId)}), c as (select * from people where id = ${clientId}::bigint for update)
    select (select count(*)::int from dedupe) as fresh, (select row_to_json(c) from c) as client`),
  );
  const row = rowsOf<{ fresh: number; client: RawPerson | null }>(result)[0];
  const fresh = (row?.fresh ?? 0) > 0;
  if (fresh && updateId !== null) noteRecorded(tx, updateId);
  return { fresh, client: row?.client ? toPerson(row.client) : null };
}

/** The client's flows that are active or queued (read after `lockClient`, so it is current). */
export async function openFlowsOf(tx: Tx, clientId: number): Promise<FlowRow[]> {
  const result = await tx.execute(
    statement(q`
    select row_to_json(f) as flow from flows f
    where f.client_id = ${clientId}::bigint and f.status in (${OPEN}) order by f.id`),
  );
  return rowsOf<{ flow: RawFlow }>(result).map((r) => toFlow(r.flow));
}

export async function personById(tx: Tx, id: number): Promise<PersonRow | null> {
  const result = await tx.execute(statement(q`select row_to_json(p) as person from people p where p.id = ${id}::bigint`));
  const row = rowsOf<{ person: RawPerson }>(result)[0];
  return row ? toPerson(row.person) : null;
}

/** Copies of one client's card kept current in each staff chat: the ones shown last. */
export const OPEN_CARDS_KEPT = 3;

/** A copy of a client's card open in a staff chat, with the language its reader reads it in. */
export interface OpenCard {
  readonly chatId: number;
  readonly messageId: number;
  readonly languageCode: string | null;
  readonly locale: string | null;
}

/**
 * An open flow as a client card shows it: its title (a small projection of the frozen definition), and
 * the definition and snapshot only of an active one on a card that is drawn (for what it shows now).
 */
export interface CardFlowRow {
  readonly id: number;
  readonly version: number;
  readonly status: FlowStatus;
  /** As frozen (`definition -> 'title'`), null when the definition has none: read it through `readStoredTitle`. */
  readonly title: Text | null;
  readonly definition: RequestDefinition | null;
  readonly snapshot: unknown;
}

/** What a client's cards are drawn from: the client, their owner, their open flows, and the cards open now. */
export interface CardState {
  readonly client: PersonRow;
  readonly owner: PersonRow | null;
  readonly open: readonly CardFlowRow[];
  readonly cards: readonly OpenCard[];
}

/** The open copies of `client`'s card (json, null for none): the newest ones of each staff chat. */
function shownCardsOf(client: Piece): Piece {
  return q`(
    select json_agg(json_build_object('chat_id', s.chat_id, 'message_id', s.message_id, 'language_code', r.language_code, 'locale', r.locale))
    from (
      select o.chat_id, o.telegram_message_id as message_id, row_number() over (partition by o.chat_id order by o.id desc) as n
      from outbox o
      where o.card_key = ${CLIENT_CARD_PREFIX} || (${client})::text and o.method = 'sendMessage' and o.status = 'sent'
        and o.telegram_message_id is not null) s
    left join people r on r.id = s.chat_id
    where s.n <= ${OPEN_CARDS_KEPT})`;
}

/** `client`'s open flows as cards show them (json, null for none); `drawn`: whether an active one's view is needed. */
function cardFlowsOf(client: Piece, drawn: Piece): Piece {
  const view = q`f.status in (${ACTIVE}) and ${drawn}`;
  return q`(
    select json_agg(json_build_object('id', f.id, 'version', f.version, 'status', f.status, 'title', f.definition -> 'title',
      'definition', case when ${view} then f.definition end, 'snapshot', case when ${view} then f.snapshot end) order by f.id)
    from flows f where f.client_id = ${client} and f.status in (${OPEN}))`;
}

/** One statement: the card states of those of `clientIds` whose card is open in a staff chat now. */
export async function cardStates(tx: Tx, clientIds: readonly number[]): Promise<(CardState & { clientId: number })[]> {
  const result = await tx.execute(
    statement(q`
    select k.client_id, s.cards, row_to_json(p) as client, row_to_json(w) as owner, ${cardFlowsOf(q`k.client_id`, q`true`)} as open
    from unnest(${bigintArray(clientIds)}::bigint[]) as k(client_id)
    cross join lateral (select ${shownCardsOf(q`k.client_id`)} as cards) s
    join people p on p.id = k.client_id
    left join people w on w.id = p.operator_id
    where s.cards is not null`),
  );
  return rowsOf<{ client_id: number | string; cards: RawCard[]; client: RawPerson; owner: RawPerson | null; open: RawCardFlow[] | null }>(
    result,
  ).map((r) => ({
    clientId: Number(r.client_id),
    client: toPerson(r.client),
    owner: r.owner ? toPerson(r.owner) : null,
    open: (r.open ?? []).map(toCardFlow),
    cards: r.cards.map(toCard),
  }));
}

/** One statement: what `clientId`'s card shows now (null when there is no such person), read outside a command. */
export async function cardStateOf(db: Queryable, clientId: number): Promise<Omit<CardState, 'cards'> | null> {
  const client = q`${clientId}::bigint`;
  const result = await db.execute(
    statement(q`
    select row_to_json(p) as client, row_to_json(w) as owner, ${cardFlowsOf(client, q`true`)} as open
    from people p left join people w on w.id = p.operator_id
    where p.id = ${client}`),
  );
  const row = rowsOf<{ client: RawPerson; owner: RawPerson | null; open: RawCardFlow[] | null }>(result)[0];
  return row
    ? { client: toPerson(row.client), owner: row.owner ? toPerson(row.owner) : null, open: (row.open ?? []).map(toCardFlow) }
    : null;
}

/** What `start` works from: the client locked (as found, before the claim) and read again after it. */
export interface StartLocked {
  /** False when the update id was seen before: nothing must change. */
  readonly fresh: boolean;
  /** The client as the lock found them (their owner before the claim). */
  readonly locked: PersonRow | null;
  /** The client, their owner (after the claim), open flows and open cards, read under the lock. */
  readonly state: CardState | null;
  readonly operator: PersonRow | null;
  /** The id the new flow gets (taken from the flows' sequence). */
  readonly nextId: number;
}

/**
 * For `start`, two statements pipelined in one round trip. The first records the update id, locks the
 * client's person row and claims a client nobody owns for the operator (only when the start goes ahead:
 * a fresh update, a client who started the bot and has not blocked it, `claim` for a known request type).
 * The second, run once the lock is held and so seeing every commit before it, reads what the start
 * decides by and redraws cards with: the client and their owner, their open flows (titles; an active
 * one's definition only when a card is drawn), the open copies of their card, the operator, and the id
 * of the new flow. One statement would read the flows as they were before it waited for the lock.
 */
export async function lockForStart(
  tx: Tx,
  input: { clientId: number; operatorId: number; updateId: number | null; claim: boolean; cardPressed: boolean },
): Promise<StartLocked> {
  const client = q`${input.clientId}::bigint`;
  const [locked, read] = await Promise.all([
    tx.execute(
      statement(q`
      with dedupe as (${dedupe(input.updateId)}),
      c as (select * from people where id = ${client} for update),
      claim as (
        update people p set operator_id = ${input.operatorId}::bigint from c
        where p.id = c.id and c.operator_id is null and c.started_at is not null and c.blocked_at is null
          and ${input.claim}::boolean and exists (select 1 from dedupe)
        returning p.id)
      select (select count(*)::int from dedupe) as fresh, (select row_to_json(c) from c) as client`),
    ),
    tx.execute(
      statement(q`
      select row_to_json(p) as client, row_to_json(w) as owner, row_to_json(o) as operator, s.cards,
        ${cardFlowsOf(client, q`(${input.cardPressed}::boolean or s.cards is not null)`)} as open,
        nextval(pg_get_serial_sequence('flows', 'id')) as next_id
      from (select ${shownCardsOf(client)} as cards) s
      left join people p on p.id = ${client}
      left join people w on w.id = p.operator_id
      left join people o on o.id = ${input.operatorId}::bigint`),
    ),
  ]);
  const lock = rowsOf<{ fresh: number; client: RawPerson | null }>(locked)[0];
  const row = rowsOf<{
    client: RawPerson | null;
    owner: RawPerson | null;
    operator: RawPerson | null;
    cards: RawCard[] | null;
    open: RawCardFlow[] | null;
    next_id: number | string;
  }>(read)[0];
  const fresh = (lock?.fresh ?? 0) > 0;
  if (fresh && input.updateId !== null) noteRecorded(tx, input.updateId);
  return {
    fresh,
    locked: lock?.client ? toPerson(lock.client) : null,
    state: row?.client
      ? {
          client: toPerson(row.client),
          owner: row.owner ? toPerson(row.owner) : null,
          open: (row.open ?? []).map(toCardFlow),
          cards: (row.cards ?? []).map(toCard),
        }
      : null,
    operator: row?.operator ? toPerson(row.operator) : null,
    nextId: Number(row?.next_id),
  };
}

/** A flow written by `start` in its final first state (queued, or started), with the id it took beforehand. */
export interface NewFlow {
  readonly id: number;
  readonly clientId: number;
  readonly operatorId: number;
  /** As stored: `storedDefinition()`. */
  readonly definition: RequestDefinition;
  readonly snapshot: unknown;
  readonly status: FlowStatus;
  readonly version: number;
  readonly remindAt: Date | null;
  readonly expireAt: Date | null;
}

/** A client card now shown in a staff chat, recorded so that it is kept current (see `cards.ts`). */
export interface ShownCard {
  readonly chatId: number;
  readonly messageId: number;
  readonly clientId: number;
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

/** A message the command logs (a client's answer, a press), with the update and request it belongs to. */
export type NewLogMessage = LogRow & { readonly updateId: number | null };

/** A completed request to post to the result webhook (its JSON body, made by the `ResultSink`). */
export interface NewResultDelivery {
  readonly flowId: number;
  readonly body: unknown;
}

export interface WritePlan {
  readonly newFlows: readonly NewFlow[];
  readonly flows: readonly FlowUpdate[];
  readonly answerChanges: readonly AnswerStatusChange[];
  readonly answers: readonly NewAnswer[];
  readonly events: readonly NewEvent[];
  readonly outbox: readonly (OutMessage & { readonly flowId: number | null })[];
  readonly messages: readonly NewLogMessage[];
  readonly results: readonly NewResultDelivery[];
  readonly cardsShown: readonly ShownCard[];
}

/** A command found what it read changed (its write's own check fails with 40001): it runs again. */
export class StaleWriteError extends Error {
  override name = 'StaleWriteError';
}

/**
 * Every write of a command in one statement. Fails with a serialization failure (40001, retried by the
 * command) if a flow's version moved. Flows inserted (`newFlows`) are not noted for the redraw of open cards:
 * `start` draws them itself. `last`: the command sends nothing after it, and its COMMIT goes out with it
 * (`commitWithNext`).
 */
export async function write(tx: Tx, plan: WritePlan, options: { last?: boolean } = {}): Promise<void> {
  const newFlows = plan.newFlows.map((f) => ({
    id: f.id,
    client_id: f.clientId,
    operator_id: f.operatorId,
    request_id: f.definition.id,
    definition: f.definition,
    definition_hash: f.definition.hash,
    snapshot: f.snapshot,
    status: f.status,
    version: f.version,
    remind_at: f.remindAt?.toISOString() ?? null,
    expire_at: f.expireAt?.toISOString() ?? null,
  }));
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
  const results = plan.results.map((r) => ({ flow_id: r.flowId, body: r.body }));
  const cardsShown = plan.cardsShown.map((c) => ({
    chat_id: c.chatId,
    message_id: c.messageId,
    card_key: `${CLIENT_CARD_PREFIX}${c.clientId}`,
  }));
  // Only the parts that have rows: an empty part still costs the server its executor set-up, and a statement
  // of a given set of parts is prepared once per connection like any other.
  const parts: Piece[] = [];
  if (newFlows.length > 0)
    parts.push(
      q`fi as (insert into flows (id, client_id, operator_id, request_id, definition, definition_hash, snapshot, status, version, remind_at, expire_at)
      select id, client_id, operator_id, request_id, definition, definition_hash, snapshot, status, version, remind_at, expire_at
      from jsonb_to_recordset(${JSON.stringify(newFlows)}::jsonb) as x(id bigint, client_id bigint, operator_id bigint, request_id text, definition jsonb,
        definition_hash text, snapshot jsonb, status text, version int, remind_at timestamptz, expire_at timestamptz)
      returning 1)`,
    );
  if (flows.length > 0)
    parts.push(
      q`fu as (update flows set snapshot = x.snapshot, status = x.status, version = flows.version + 1, updated_at = now(),
        remind_at = x.remind_at, expire_at = x.expire_at, finished_at = case when x.finished then now() else null end
      from jsonb_to_recordset(${JSON.stringify(flows)}::jsonb) as x(id bigint, version int, snapshot jsonb, status text, remind_at timestamptz, expire_at timestamptz, finished boolean)
      where flows.id = x.id and flows.version = x.version and flows.id = any(${bigintArray(flows.map((f) => f.id))}::bigint[])
      returning flows.id, flows.client_id)`,
    );
  if (answerChanges.length > 0)
    parts.push(
      q`au as (update answers set status = x.to_status
      from jsonb_to_recordset(${JSON.stringify(answerChanges)}::jsonb) as x(flow_id bigint, step_id text, from_status text, to_status text)
      where answers.flow_id = x.flow_id and (x.step_id is null or answers.step_id = x.step_id) and answers.status = x.from_status
        and answers.flow_id = any(${bigintArray(answerChanges.map((c) => c.flow_id))}::bigint[])
      returning 1)`,
    );
  if (answers.length > 0)
    parts.push(
      q`ai as (insert into answers (flow_id, step_id, round, value, file_id, file_unique_id, message_id)
      select flow_id, step_id, round, value, file_id, file_unique_id, message_id
      from jsonb_to_recordset(${JSON.stringify(answers)}::jsonb) as x(flow_id bigint, step_id text, round int, value jsonb, file_id text, file_unique_id text, message_id int)
      returning 1)`,
    );
  if (events.length > 0)
    parts.push(
      q`ev as (insert into flow_events (flow_id, from_state, to_state, event, payload, actor_id, actor_kind)
      select flow_id, from_state, to_state, event, payload, actor_id, actor_kind
      from jsonb_to_recordset(${JSON.stringify(events)}::jsonb) as x(flow_id bigint, from_state text, to_state text, event text, payload jsonb, actor_id bigint, actor_kind text)
      returning 1)`,
    );
  if (outbox.length > 0)
    parts.push(
      q`ob as (insert into outbox (chat_id, flow_id, method, payload, card_key)
      select chat_id, flow_id, method, payload, card_key
      from rows from (jsonb_to_recordset(${JSON.stringify(outbox)}::jsonb) as (chat_id bigint, flow_id bigint, method text, payload jsonb, card_key text))
        with ordinality as x(chat_id, flow_id, method, payload, card_key, n)
      order by n
      returning outbox.*)`,
    );
  if (plan.messages.length > 0) parts.push(q`ms as (${loggedInsert('in', plan.messages)} returning 1)`);
  if (results.length > 0)
    parts.push(
      q`rd as (insert into result_deliveries (flow_id, body)
      select flow_id, body from jsonb_to_recordset(${JSON.stringify(results)}::jsonb) as x(flow_id bigint, body jsonb)
      returning 1)`,
    );
  if (cardsShown.length > 0) {
    parts.push(
      q`cf as (update outbox set card_key = null
      from jsonb_to_recordset(${JSON.stringify(cardsShown)}::jsonb) as x(chat_id bigint, message_id int, card_key text)
      where outbox.card_key = x.card_key and outbox.chat_id = x.chat_id and outbox.telegram_message_id = x.message_id
        and outbox.method = 'sendMessage' and outbox.card_key = any(${textArray(cardsShown.map((c) => c.card_key))}::text[])
      returning 1)`,
    );
    parts.push(
      q`cr as (insert into outbox (chat_id, method, payload, card_key, status, telegram_message_id, sent_at)
      select chat_id, 'sendMessage', '{}'::jsonb, card_key, 'sent', message_id, now()
      from jsonb_to_recordset(${JSON.stringify(cardsShown)}::jsonb) as x(chat_id bigint, message_id int, card_key text)
      returning 1)`,
    );
  }
  const outcome = q`select ${
    flows.length > 0
      ? q`expect_updated(${flows.length}::int, (select count(*)::int from fu)) as flows, (select json_agg(client_id) from fu) as clients`
      : q`null::json as clients`
  }, ${outbox.length > 0 ? q`(select json_agg(ob order by ob.id) from ob)` : q`null::json`} as outbox`;
  if (options.last) commitWithNext(tx);
  const result = await tx.execute(statement(parts.length > 0 ? q`with ${commaSeparated(parts)} ${outcome}` : outcome));
  const row = rowsOf<{ clients: (number | string)[] | null; outbox: OutboxJson[] | null }>(result)[0];
  for (const clientId of row?.clients ?? []) noteChange(tx, Number(clientId));
  // Whole rows: once the transaction commits they go to the sender, which need not read them back.
  noteWritten(tx, (row?.outbox ?? []).map(outboxRowOf));
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

interface RawCard {
  chat_id: number | string;
  message_id: number;
  language_code: string | null;
  locale: string | null;
}

interface RawCardFlow {
  id: number | string;
  version: number;
  status: FlowStatus;
  title: Text | null;
  definition: RequestDefinition | null;
  snapshot: unknown;
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

function toCard(raw: RawCard): OpenCard {
  return { chatId: Number(raw.chat_id), messageId: raw.message_id, languageCode: raw.language_code, locale: raw.locale };
}

function toCardFlow(raw: RawCardFlow): CardFlowRow {
  return { ...raw, id: Number(raw.id) };
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
