/**
 * A second baseline for the pipeline benchmark (`--baseline durable`): the same three questions, written by
 * hand on Telegraf and postgres.js as a bot would be that keeps the guarantees ours keeps, with none of
 * ours' machinery (no XState, no drizzle, no catalogue, no lanes or rate limiter):
 *
 * - every update is committed to an inbox table before the webhook would answer, then applied;
 * - a command locks the client's request row, and writes its change, the answer, an audit event, the reply
 *   (an outbox row), the incoming message's log entry and the inbox row's "done" in one transaction;
 * - after the commit the reply is sent, then marked sent with its log entry.
 *
 * What it still leaves out, and ours does: the operator's client card redrawn on every change (a second
 * Bot API call and a read in the lock), the summary sent to the operator, roles and ownership, per-chat
 * order across instances, retries and dead letters, rate limits, and grouping statements under load. The
 * tables (`bd_…`) are its own, in the benchmark's database, with the keys and indexes such a bot needs.
 */
import { Telegraf } from 'telegraf';
import { parse } from '../src/ui/callback-data.js';
import { answerProblem, baselinePool, prompt, summary, TITLE, type Baseline, type BaselineOptions } from './baseline.js';

const SCHEMA = `
  create table if not exists bd_inbox (update_id bigint primary key, chat_id bigint not null, payload jsonb,
    status text not null default 'pending', received_at timestamptz not null default now(), done_at timestamptz);
  create index if not exists bd_inbox_pending on bd_inbox (chat_id, update_id) where status = 'pending';
  create table if not exists bd_requests (id bigserial primary key, client_id bigint not null, operator_id bigint not null,
    step int not null default 0, answers jsonb not null default '{}', status text not null default 'active',
    version int not null default 1, created_at timestamptz not null default now(), updated_at timestamptz not null default now());
  create unique index if not exists bd_requests_active on bd_requests (client_id) where status = 'active';
  create table if not exists bd_answers (id bigserial primary key, request_id bigint not null references bd_requests (id),
    step int not null, value text not null, at timestamptz not null default now());
  create index if not exists bd_answers_request on bd_answers (request_id);
  create table if not exists bd_events (id bigserial primary key, request_id bigint not null references bd_requests (id),
    event text not null, actor_id bigint not null, at timestamptz not null default now());
  create index if not exists bd_events_request on bd_events (request_id);
  create table if not exists bd_outbox (id bigserial primary key, chat_id bigint not null, payload jsonb not null,
    status text not null default 'pending', message_id int, created_at timestamptz not null default now(), sent_at timestamptz);
  create index if not exists bd_outbox_pending on bd_outbox (chat_id, id) where status = 'pending';
  create table if not exists bd_messages (id bigserial primary key, chat_id bigint not null, direction text not null,
    text text, message_id int, update_id bigint, at timestamptz not null default now());
  create index if not exists bd_messages_chat on bd_messages (chat_id, id);`;

/** A reply written with its command, sent after the commit. */
interface Reply {
  readonly id: number;
  readonly chatId: number;
  readonly text: string;
  readonly extra: object;
}

/** The hand-written baseline on `url` (its tables are created if missing), as `startBaseline` starts the plain one. */
export async function startDurableBaseline(options: BaselineOptions): Promise<Baseline> {
  const { sql, statements, record } = baselinePool(options);
  await sql.unsafe(SCHEMA);

  const bot = new Telegraf(options.token, { telegram: { apiRoot: options.apiRoot } });
  bot.botInfo = options.botInfo;

  /** Sends the replies a command committed, each marked sent with its log entry once it went. */
  const deliver = async (replies: readonly Reply[]): Promise<void> => {
    for (const reply of replies) {
      const sent = await bot.telegram.sendMessage(reply.chatId, reply.text, reply.extra);
      await sql`
        with marked as (update bd_outbox set status = 'sent', sent_at = now(), message_id = ${sent.message_id} where id = ${reply.id})
        insert into bd_messages (chat_id, direction, text, message_id) values (${reply.chatId}, 'out', ${reply.text}, ${sent.message_id})`;
    }
  };

  // The operator's "send Personal data to this client" button: a new request, its first question queued.
  bot.on('callback_query', async (ctx) => {
    const raw = 'data' in ctx.callbackQuery ? ctx.callbackQuery.data : undefined;
    const data = parse(raw);
    if (data?.kind !== 'send') return ctx.answerCbQuery();
    const text = prompt(0);
    const extra = { parse_mode: 'HTML' };
    const [row] = await sql<{ id: string }[]>`
      with r as (
        insert into bd_requests (client_id, operator_id) values (${data.client}, ${ctx.from.id})
        on conflict (client_id) where status = 'active' do update set step = 0, answers = '{}', version = bd_requests.version + 1, updated_at = now()
        returning id),
      e as (insert into bd_events (request_id, event, actor_id) select id, 'START', ${ctx.from.id} from r),
      o as (insert into bd_outbox (chat_id, payload) values (${data.client}, ${sql.json({ text, ...extra })}) returning id),
      m as (insert into bd_messages (chat_id, direction, text, update_id) values (${ctx.from.id}, 'in', ${raw ?? ''}, ${ctx.update.update_id})),
      d as (update bd_inbox set status = 'done', done_at = now(), payload = null where update_id = ${ctx.update.update_id})
      select id from o`;
    await deliver([{ id: Number(row?.id), chatId: data.client, text, extra }]);
    await ctx.answerCbQuery(`“${TITLE}” sent to Client ${data.client}.`);
  });

  // A client's answer: the request locked, checked, and the change written with its reply in one transaction.
  bot.on('text', async (ctx) => {
    const client = ctx.chat.id;
    const text = ctx.message.text.trim();
    const updateId = ctx.update.update_id;
    const replies = await sql.begin(async (tx) => {
      const [request] = await tx<{ id: string; step: number; answers: Record<string, string> }[]>`
        select id, step, answers from bd_requests where client_id = ${client} and status = 'active' for update`;
      const problem = request ? answerProblem(request.step, text) : 'Nothing to answer now.';
      let reply: { text: string; extra: object };
      if (!request || problem !== null) reply = { text: problem ?? '', extra: { parse_mode: 'HTML' } };
      else if (request.step < 2) reply = { text: prompt(request.step + 1), extra: { parse_mode: 'HTML' } };
      else reply = summary(request.answers['0'] ?? '', request.answers['1'] ?? '', text);
      const good = request !== undefined && problem === null;
      const [row] = await tx<{ id: string }[]>`
        with a as (
          insert into bd_answers (request_id, step, value) select ${request?.id ?? null}::bigint, ${request?.step ?? 0}, ${text} where ${good}),
        r as (
          update bd_requests set step = step + 1, answers = answers || jsonb_build_object(${String(request?.step ?? 0)}::text, ${text}::text),
            status = case when step = 2 then 'finished' else status end, version = version + 1, updated_at = now()
          where id = ${request?.id ?? null}::bigint and ${good}),
        e as (
          insert into bd_events (request_id, event, actor_id)
          select ${request?.id ?? null}::bigint, ${good ? 'ANSWER' : 'INVALID'}, ${client} where ${request !== undefined}),
        o as (insert into bd_outbox (chat_id, payload) values (${client}, ${sql.json({ text: reply.text, ...reply.extra })}) returning id),
        m as (insert into bd_messages (chat_id, direction, text, update_id) values (${client}, 'in', ${text}, ${updateId})),
        d as (update bd_inbox set status = 'done', done_at = now(), payload = null where update_id = ${updateId})
        select id from o`;
      return [{ id: Number(row?.id), chatId: client, ...reply }];
    });
    await deliver(replies);
  });
  bot.catch((error) => {
    throw error;
  });

  const applying = new Set<Promise<void>>();
  let failure: Error | null = null;
  return {
    statements,
    record,
    // The webhook's part: the update committed to the inbox (answered then), applied after.
    async feed(update) {
      const chat =
        'message' in update ? update.message.chat.id : 'callback_query' in update ? (update.callback_query.message?.chat.id ?? 0) : 0;
      const inserted = await sql`
        insert into bd_inbox (update_id, chat_id, payload) values (${update.update_id}, ${chat}, ${sql.json(update as never)})
        on conflict (update_id) do nothing returning 1`;
      if (inserted.length === 0) return;
      const applied: Promise<void> = bot
        .handleUpdate(update)
        .catch((error: unknown) => {
          failure ??= error instanceof Error ? error : new Error(String(error));
        })
        .finally(() => applying.delete(applied));
      applying.add(applied);
    },
    async drain() {
      while (applying.size > 0) await Promise.all(applying);
      if (failure !== null) throw failure;
    },
    close: () => sql.end({ timeout: 5 }),
  };
}
