/**
 * Removing personal data, for the flow service: a client's erasure (`/forget`, `npm run forget`) and the
 * retention pass (`RETENTION_DAYS`). Each is one statement run inside the caller's transaction. The flow
 * rows stay (status, timestamps, the frozen definition: no personal data) so that counts and foreign
 * keys hold; what the client said and sent goes.
 */
import { scryptSync } from 'node:crypto';
import { sql, type SQL } from 'drizzle-orm';
import { rowsOf, type Tx } from '../db/client.js';
import { forgetWritten } from './changes.js';
import { talkCardKey } from './conversation.js';

/** What a client's erasure removed. */
export interface ErasureCounts {
  /** Active and queued requests cancelled first. */
  readonly requestsCancelled: number;
  /** Answer rows deleted (values and file ids). */
  readonly answers: number;
  /** Message log rows whose text and file ids were removed. */
  readonly messages: number;
  /** Inbox rows of the client's chat whose update was removed (a pending one is dropped). */
  readonly inboxUpdates: number;
  /** Outbox rows whose payload was removed (one not sent yet is not sent). */
  readonly outboxMessages: number;
  /** Result webhook deliveries whose body was removed (one not delivered yet is not delivered). */
  readonly resultDeliveries: number;
}

/** What the retention pass removed. */
export interface RetentionCounts {
  readonly requests: number;
  readonly answers: number;
  readonly messages: number;
}

/** The name a person's row keeps after their erasure (the row stays: requests refer to it). */
export const ERASED_NAME = '[erased]';

/**
 * The anonymised reference an erasure record keeps instead of the client id: scrypt of the id with a fixed
 * salt. Checking whether one id was erased takes a fraction of a second; recovering the ids of a table of
 * these, by trying every possible Telegram id, takes years.
 */
export function clientRef(clientId: number): string {
  return `scrypt1:${scryptSync(String(clientId), 'operator-request-bot/erasure/v1', 32, { N: 16_384, r: 8, p: 1 }).toString('hex')}`;
}

const json = (value: unknown) => sql`${JSON.stringify(value)}::jsonb`;

/** A stored snapshot without what the client said: the answers, the ask-again reason, the last refused input. */
const scrubbedSnapshot = sql.raw(`case when snapshot is null or jsonb_typeof(snapshot -> 'context') <> 'object' then snapshot
  else jsonb_set(jsonb_set(jsonb_set(snapshot, '{context,answers}', '{}'::jsonb), '{context,reason}', 'null'::jsonb), '{context,lastError}', 'null'::jsonb) end`);

/** The parts common to both: the answers, logged messages, audit reasons and result bodies of the flows in `f`. */
function flowDataCtes(): SQL {
  return sql`
    a as (delete from answers where flow_id in (select id from f) returning 1),
    ev as (
      update flow_events set payload = payload - 'reason'
      where flow_id in (select id from f) and event = 'ASK_AGAIN' and jsonb_typeof(payload) = 'object' and payload ? 'reason'
      returning 1),
    rd as (
      update result_deliveries set body = null, status = case when status in ('pending', 'failed') then 'erased' else status end
      where flow_id in (select id from f) and (body is not null or status in ('pending', 'failed'))
      returning 1),
    fl as (update flows set snapshot = ${scrubbedSnapshot}, purged_at = now() where id in (select id from f) returning 1)`;
}

/** A card (a staff message edited in place) of one of the client's requests, already sent. */
export interface SentCard {
  readonly chatId: number;
  readonly cardKey: string;
  readonly flowId: number;
  readonly languageCode: string | null;
  /** The language the staff member chose with /language, if any. */
  readonly locale: string | null;
}

/** The client's request cards in staff chats, so that they can be rewritten without the client's data. */
export async function sentCardsOf(tx: Tx, clientId: number): Promise<SentCard[]> {
  const result = await tx.execute(sql`
    select distinct o.chat_id, o.card_key, o.flow_id, p.language_code, p.locale from outbox o
    join flows f on f.id = o.flow_id left join people p on p.id = o.chat_id
    where f.client_id = ${clientId}::bigint and o.chat_id <> ${clientId}::bigint and o.card_key is not null
      and o.method = 'sendMessage' and o.status = 'sent' and o.telegram_message_id is not null`);
  return rowsOf<{
    chat_id: number | string;
    card_key: string;
    flow_id: number | string;
    language_code: string | null;
    locale: string | null;
  }>(result).map((r) => ({
    chatId: Number(r.chat_id),
    cardKey: r.card_key,
    flowId: Number(r.flow_id),
    languageCode: r.language_code,
    locale: r.locale,
  }));
}

/**
 * Removes a client's data, in one statement: their answers; texts and file ids in the message log (their
 * chat, their requests' messages in staff chats, and staff messages that name them: their name, @username
 * or id, such as a client card or an archive's caption); the updates of their chat in the inbox; the
 * payloads of outbox rows to them or about their requests (those not sent yet are not sent); result
 * webhook bodies; ask-again reasons; the answers kept in their requests' snapshots; and their names in
 * `people` (the row stays, with {@link ERASED_NAME}); the messages passed on between them and the staff. `notices` are new outbox rows written in the same
 * statement (they are not touched by it).
 */
export async function eraseClient(
  tx: Tx,
  input: {
    clientId: number;
    /** Staff chats, where messages naming the client are looked for. */
    staffIds: readonly number[];
    /** How staff messages name the client: full name, @username (each matched as whole words), and the id. */
    names: readonly string[];
    notices: readonly { chatId: number; flowId: number; method: string; payload: unknown; cardKey: string | null }[];
  },
): Promise<Omit<ErasureCounts, 'requestsCancelled'>> {
  const c = input.clientId;
  const words = [String(c), ...input.names.filter((n) => n.trim() !== '')].map(
    (n) => `${n.startsWith('@') ? '' : '\\m'}${escapeRegex(n)}\\M`,
  );
  const pattern = `(${words.join('|')})`;
  const notices = input.notices.map((n) => ({
    chat_id: n.chatId,
    flow_id: n.flowId,
    method: n.method,
    payload: n.payload,
    card_key: n.cardKey,
  }));
  const result = await tx.execute(sql`
    with
    f as (select id from flows where client_id = ${c}::bigint),
    ${flowDataCtes()},
    m as (
      update messages set text = null, file_id = null, file_unique_id = null
      where (chat_id = ${c}::bigint or flow_id in (select id from f) or talk_client_id = ${c}::bigint
             or (chat_id in (select value::bigint from jsonb_array_elements_text(${json(input.staffIds)})) and text ~ ${pattern}))
        and (text is not null or file_id is not null or file_unique_id is not null)
      returning 1),
    ib as (
      update inbox set payload = null, status = 'done', done_at = coalesce(done_at, now()),
        last_error = case when status = 'done' then last_error else 'erased' end
      where chat_id = ${c}::bigint and (payload is not null or status <> 'done')
      returning 1),
    ob as (
      update outbox set payload = '{}'::jsonb,
        status = case when status = 'pending' then 'failed' else status end,
        last_error = case when status = 'pending' then 'erased' else last_error end
      where (chat_id = ${c}::bigint or flow_id in (select id from f) or card_key = ${talkCardKey(c)})
        and (payload <> '{}'::jsonb or status = 'pending')
      returning 1),
    p as (update people set first_name = ${ERASED_NAME}, last_name = null, username = null where id = ${c}::bigint returning 1),
    nt as (
      insert into outbox (chat_id, flow_id, method, payload, card_key)
      select chat_id, flow_id, method, payload, card_key
      from rows from (jsonb_to_recordset(${json(notices)}) as (chat_id bigint, flow_id bigint, method text, payload jsonb, card_key text))
        with ordinality as x(chat_id, flow_id, method, payload, card_key, n)
      order by n
      returning 1)
    select (select count(*)::int from a) as answers, (select count(*)::int from m) as messages, (select count(*)::int from ib) as inbox,
      (select count(*)::int from ob) as outbox, (select count(*)::int from rd) as deliveries`);
  const row = rowsOf<{ answers: number; messages: number; inbox: number; outbox: number; deliveries: number }>(result)[0];
  // Rows the command wrote before this statement may have been emptied by it: none goes to the sender as written.
  forgetWritten(tx);
  return {
    answers: row?.answers ?? 0,
    messages: row?.messages ?? 0,
    inboxUpdates: row?.inbox ?? 0,
    outboxMessages: row?.outbox ?? 0,
    resultDeliveries: row?.deliveries ?? 0,
  };
}

/** Records the erasure: no id, no name (see {@link clientRef}). */
export async function recordErasure(
  tx: Tx,
  input: { clientRef: string; actorKind: 'admin' | 'command_line'; actorId: number | null; counts: ErasureCounts },
): Promise<number> {
  const result = await tx.execute(sql`
    insert into erasures (client_ref, actor_kind, actor_id, counts)
    values (${input.clientRef}, ${input.actorKind}, ${input.actorId}::bigint, ${json(input.counts)}) returning id`);
  return Number(rowsOf<{ id: number | string }>(result)[0]?.id ?? 0);
}

/**
 * The retention pass: the answers and message contents of up to `limit` requests finished before
 * `cutoff` (and not purged yet) are removed, oldest first; outbox rows still waiting to be sent keep theirs.
 */
export async function purgeFinished(tx: Tx, cutoff: Date, limit: number): Promise<RetentionCounts> {
  const result = await tx.execute(sql`
    with
    f as (
      select id from flows where finished_at is not null and finished_at < ${cutoff.toISOString()}::timestamptz and purged_at is null
      order by finished_at limit ${limit} for update skip locked),
    ${flowDataCtes()},
    m as (
      update messages set text = null, file_id = null, file_unique_id = null
      where flow_id in (select id from f) and (text is not null or file_id is not null or file_unique_id is not null)
      returning 1),
    ob as (update outbox set payload = '{}'::jsonb where flow_id in (select id from f) and status <> 'pending' and payload <> '{}'::jsonb returning 1)
    select (select count(*)::int from fl) as requests, (select count(*)::int from a) as answers, (select count(*)::int from m) as messages`);
  const row = rowsOf<{ requests: number; answers: number; messages: number }>(result)[0];
  return { requests: row?.requests ?? 0, answers: row?.answers ?? 0, messages: row?.messages ?? 0 };
}

/** A literal for a PostgreSQL regular expression (ARE). */
function escapeRegex(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
}
