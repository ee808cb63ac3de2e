/**
 * `--scale`: fills the benchmark's database with a history — by default 100,000 finished and 10,000 open
 * personal_data flows — so the pipeline can be measured again on a database that is no longer empty.
 *
 * The rows are copies of real ones: two template flows are driven through the flow service (one to
 * completion: start, three answers, confirm, accept; one left open at its second question), and each of
 * their rows — the flow with its frozen definition and stored snapshot, answers, audit events, outbox
 * rows (marked sent), logged messages — is copied with `generate_series` for a fresh client each. The
 * inbox gets the done rows those updates would leave (kept a week by the timer pass; here all within the
 * last six days, the worst case). Then VACUUM ANALYZE, as autovacuum would eventually.
 */
import { sql } from 'drizzle-orm';
import type { Answer } from '../machines/steps.js';
import type { Catalogue } from '../src/config/catalogue.js';
import { rowsOf, type Db } from '../src/db/client.js';
import { FlowService } from '../src/flows/service.js';

const ANSWERS: readonly Answer[] = [
  { kind: 'text', text: 'Anna Petrova' },
  { kind: 'text', text: 'Moscow' },
  { kind: 'text', text: '15.06.1990' },
];

export interface Populated {
  readonly finished: number;
  readonly open: number;
  readonly seconds: number;
  /** Rows per table after filling. */
  readonly rows: Record<string, number>;
  /** Size of the database (PostgreSQL: pg_database_size). */
  readonly megabytes: number | null;
}

const PEOPLE_BASE = 500_000_000;
const UPDATE_BASE = 5_000_000_000;

async function one<T>(db: Db, query: ReturnType<typeof sql>): Promise<T> {
  const [row] = rowsOf<T>(await db.execute(query));
  if (row === undefined) throw new Error('no row');
  return row;
}

export async function populate(
  db: Db,
  catalogue: Catalogue,
  options: { finished: number; open: number; operator: number; engine: 'pglite' | 'postgres' },
): Promise<Populated> {
  const began = performance.now();
  const { finished, open, operator } = options;
  if (open > finished) throw new Error('--open must not exceed --finished (every open flow belongs to a client with a finished one)');
  const flows = new FlowService({ db, catalogue: () => catalogue, defaultLocale: 'en' });
  let updateId = UPDATE_BASE - 1_000;
  const must = <T>(outcome: { ok: true; value: T } | { ok: false; refusal: { code: string } }, what: string): T => {
    if (!outcome.ok) throw new Error(`scale template: ${what} refused (${outcome.refusal.code})`);
    return outcome.value;
  };
  // The two templates, driven through the flow service.
  const [tFinished, tOpen] = [PEOPLE_BASE - 2, PEOPLE_BASE - 1];
  await db.execute(sql`
    insert into people (id, first_name, language_code, started_at) values (${operator}, 'Olga', 'en', now()) on conflict (id) do nothing`);
  await db.execute(sql`
    insert into people (id, first_name, language_code, started_at) values (${tFinished}, 'Template', 'en', now()), (${tOpen}, 'Template', 'en', now())`);
  const message = (client: number, text: string) => ({
    chatId: client,
    kind: 'text' as const,
    text,
    fileId: null,
    fileUniqueId: null,
    telegramMessageId: updateId % 1_000_000,
  });
  const first = must(
    await flows.start({ operatorId: operator, clientId: tFinished, requestId: 'personal_data', updateId: updateId++ }),
    'start',
  );
  for (const answer of ANSWERS) {
    must(
      await flows.answer({
        clientId: tFinished,
        answer,
        message: message(tFinished, answer.kind === 'text' ? answer.text : ''),
        updateId: updateId++,
      }),
      'answer',
    );
  }
  must(await flows.confirm({ clientId: tFinished, updateId: updateId++ }), 'confirm');
  must(await flows.accept({ operatorId: operator, flowId: first.flow.id, updateId: updateId++ }), 'accept');
  const second = must(
    await flows.start({ operatorId: operator, clientId: tOpen, requestId: 'personal_data', updateId: updateId++ }),
    'start',
  );
  const name = ANSWERS[0];
  if (name?.kind !== 'text') throw new Error('answers');
  must(await flows.answer({ clientId: tOpen, answer: name, message: message(tOpen, name.text), updateId: updateId++ }), 'answer');

  // The templates' messages belong to the history: sent long ago, never delivered by this run.
  await db.execute(
    sql`update outbox set status = 'sent', sent_at = now(), attempts = 1 where flow_id in (${first.flow.id}, ${second.flow.id})`,
  );
  const { max } = await one<{ max: number | string }>(db, sql`select coalesce(max(id), 0) + 1000 as max from flows`);
  const base = Number(max);
  const copies: { template: number; client: number; count: number; offset: number; commands: number }[] = [
    { template: first.flow.id, client: tFinished, count: finished, offset: base, commands: 6 },
    { template: second.flow.id, client: tOpen, count: open, offset: base + finished, commands: 2 },
  ];

  // Clients: one finished flow each; the first `open` of them also have an open one.
  await db.execute(sql`
    insert into people (id, first_name, last_name, username, language_code, operator_id, started_at, last_activity_at, created_at)
    select ${PEOPLE_BASE}::bigint + g, 'Client', 'N' || g, 'client_' || g, case when g % 3 = 0 then 'ru' else 'en' end, ${operator}::bigint,
           now() - (g % 90) * interval '1 day', now() - (g % 90) * interval '1 day', now() - (g % 90) * interval '1 day'
    from generate_series(1, ${finished}) g`);
  for (const c of copies) {
    if (c.count === 0) continue;
    const age = sql`(g % 90) * interval '1 day'`;
    const client = sql`${PEOPLE_BASE}::bigint + g`;
    const flowId = sql`${c.offset}::bigint + g`;
    // Open flows were sent recently (reminders and expiry in the future, as the template has them).
    const when = c.commands === 6 ? age : sql`interval '0'`;
    await db.execute(sql`
      insert into flows (id, client_id, operator_id, request_id, definition, definition_hash, snapshot, status, version,
                         remind_at, expire_at, created_at, updated_at, finished_at)
      select ${flowId}, ${client}, t.operator_id, t.request_id, t.definition, t.definition_hash, t.snapshot, t.status, t.version,
             t.remind_at, t.expire_at, now() - ${when}, now() - ${when}, t.finished_at - ${when}
      from flows t cross join generate_series(1, ${c.count}) g where t.id = ${c.template}`);
    await db.execute(sql`
      insert into answers (flow_id, step_id, round, value, file_id, file_unique_id, message_id, status, created_at)
      select ${flowId}, a.step_id, a.round, a.value, a.file_id, a.file_unique_id, a.message_id, a.status, a.created_at - ${when}
      from answers a cross join generate_series(1, ${c.count}) g where a.flow_id = ${c.template} order by g, a.id`);
    await db.execute(sql`
      insert into flow_events (flow_id, from_state, to_state, event, payload, actor_id, actor_kind, at)
      select ${flowId}, e.from_state, e.to_state, e.event, e.payload,
             case when e.actor_id = ${c.client} then ${client} else e.actor_id end, e.actor_kind, e.at - ${when}
      from flow_events e cross join generate_series(1, ${c.count}) g where e.flow_id = ${c.template} order by g, e.id`);
    await db.execute(sql`
      insert into outbox (chat_id, flow_id, method, payload, card_key, status, attempts, next_attempt_at, telegram_message_id, created_at, sent_at)
      select case when o.chat_id = ${c.client} then ${client} else o.chat_id end, ${flowId}, o.method, o.payload,
             replace(o.card_key, ${String(c.template)}, (${flowId})::text), 'sent', 1, o.created_at - ${when}, (g % 1000000)::int + 1,
             o.created_at - ${when}, o.created_at - ${when}
      from outbox o cross join generate_series(1, ${c.count}) g where o.flow_id = ${c.template} order by g, o.id`);
    // The message log: the client's answers (logged by the flow service) and every message sent.
    await db.execute(sql`
      insert into messages (chat_id, direction, kind, text, telegram_message_id, update_id, flow_id, at)
      select case when m.chat_id = ${c.client} then ${client} else m.chat_id end, m.direction, m.kind, m.text, m.telegram_message_id,
             null, ${flowId}, m.at - ${when}
      from messages m cross join generate_series(1, ${c.count}) g where m.flow_id = ${c.template} or m.chat_id = ${c.client} order by g, m.id`);
    await db.execute(sql`
      insert into messages (chat_id, direction, kind, text, telegram_message_id, flow_id, at)
      select case when o.chat_id = ${c.client} then ${client} else o.chat_id end, 'out', 'text', o.payload->>'text', (g % 1000000)::int + 1,
             ${flowId}, o.created_at - ${when}
      from outbox o cross join generate_series(1, ${c.count}) g where o.flow_id = ${c.template} and o.method = 'sendMessage' order by g, o.id`);
    // Done inbox rows of those updates (the payload is cleared once done), all within the last six days.
    await db.execute(sql`
      insert into inbox (update_id, chat_id, status, attempts, next_attempt_at, received_at, done_at)
      select ${UPDATE_BASE + c.offset * 10}::bigint + g * 10 + k, ${client}, 'done', 0, now() - (g % 6) * interval '1 day',
             now() - (g % 6) * interval '1 day', now() - (g % 6) * interval '1 day'
      from generate_series(1, ${c.count}) g cross join generate_series(0, ${c.commands - 1}) k`);
  }
  await db.execute(sql`select setval(pg_get_serial_sequence('flows', 'id'), (select max(id) from flows))`);
  await db.execute(sql`vacuum analyze`);

  const rows: Record<string, number> = {};
  for (const table of ['people', 'flows', 'answers', 'flow_events', 'outbox', 'messages', 'inbox']) {
    rows[table] = Number((await one<{ n: number | string }>(db, sql`select count(*) as n from ${sql.identifier(table)}`)).n);
  }
  const size = await one<{ bytes: number | string }>(db, sql`select pg_database_size(current_database()) as bytes`).catch(() => null);
  return { finished, open, seconds: (performance.now() - began) / 1000, rows, megabytes: size ? Number(size.bytes) / 2 ** 20 : null };
}
