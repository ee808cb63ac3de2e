/**
 * The baseline of the pipeline benchmark: the same three questions as a plain Telegraf bot would ask
 * them — a `Scenes.WizardScene` whose state lives in telegraf's `session()`, stored in PostgreSQL through
 * postgres.js (a pool of 16, table `baseline_sessions(key text primary key, value jsonb)`: one row per
 * chat, read and upserted on every update). No inbox, no outbox, no audit trail, no rate limiter: the
 * reply goes straight to the Bot API from the handler.
 *
 * The operator's button press (the same callback data as the real bot's "send request" button) puts
 * the client's session at the wizard's first question and sends it to the client.
 */
import postgres from 'postgres';
import { Scenes, session, Telegraf } from 'telegraf';
import type { Update, UserFromGetMe } from 'telegraf/types';
import { parse } from '../src/ui/callback-data.js';

interface Answers extends Scenes.WizardSessionData {
  name?: string;
  city?: string;
}
type Ctx = Scenes.WizardContext<Answers>;

export const TITLE = 'Personal data';
const PROMPTS = ['Please write your full name', 'Which city do you live in?', 'Your birth date (DD.MM.YYYY)'] as const;
export const prompt = (i: number) => `<b>${TITLE} · step ${i + 1} of 3</b>\n${PROMPTS[i] ?? ''}`;
const NAME = /^[\p{L}][\p{L} .'’-]*$/u;

/** What is wrong with the answer `text` to question `step` (0–2), with the question again; null when it is good. */
export function answerProblem(step: number, text: string): string | null {
  if (step === 0 && (text.length < 3 || text.length > 200 || !NAME.test(text)))
    return `❗ Letters, spaces, hyphens and apostrophes only.\n\n${prompt(0)}`;
  if (step === 1 && (text.length < 2 || text.length > 100)) return `❗ Between 2 and 100 characters, please.\n\n${prompt(1)}`;
  if (step === 2) {
    const problem = birthDateProblem(text);
    if (problem) return `❗ ${problem}\n\n${prompt(2)}`;
  }
  return null;
}

/** The summary after the last answer, with its button. */
export function summary(name: string, city: string, birthDate: string): { text: string; extra: object } {
  return {
    text: `<b>${TITLE}: please check your answers</b>\nFull name: ${name}\nCity: ${city}\nBirth date: ${birthDate}`,
    extra: { parse_mode: 'HTML', reply_markup: { inline_keyboard: [[{ text: '✅ Confirm', callback_data: 'bl:confirm' }]] } },
  };
}

function birthDateProblem(text: string, today = new Date()): string | null {
  const m = /^(\d{2})\.(\d{2})\.(\d{4})$/.exec(text.trim());
  if (!m) return 'Please write the date as DD.MM.YYYY.';
  const [day, month, year] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return `${text} is not a real date.`;
  const age = (today.getTime() - date.getTime()) / (365.25 * 24 * 3600 * 1000);
  if (age < 14 || age > 120) return 'Please check the year.';
  return null;
}

const textOf = (ctx: Ctx): string | null => (ctx.message && 'text' in ctx.message ? ctx.message.text : null);

export interface Baseline {
  /** Feeds one update as a webhook call would; resolves when the webhook would answer. */
  feed(update: Update): Promise<void>;
  /** Waits until every update fed is applied and its replies sent. */
  drain(): Promise<void>;
  /** Statements the session store sent so far. */
  statements(): number;
  /** Starts (a list) or stops (null) keeping the text of every statement sent. */
  record(into: string[] | null): void;
  close(): Promise<void>;
}

/** How a baseline is started: its database, the Bot API it answers through, and whether statements are counted. */
export interface BaselineOptions {
  url: string;
  apiRoot: string;
  token: string;
  botInfo: UserFromGetMe;
  count?: boolean;
}

/**
 * A baseline's pool of 16 on `url`; with `count`, every statement is counted (and recorded on request).
 * Counting costs CPU (postgres.js captures a stack trace per query with `debug`): only when asked.
 */
export function baselinePool(options: BaselineOptions): {
  sql: postgres.Sql;
  statements: () => number;
  record: (into: string[] | null) => void;
} {
  let statements = 0;
  let recording: string[] | null = null;
  const sql = postgres(options.url, {
    max: 16,
    onnotice: () => {},
    ...(options.count
      ? {
          debug: (_connection: number, query: string) => {
            statements++;
            recording?.push(query);
          },
        }
      : {}),
  });
  return { sql, statements: () => statements, record: (into) => (recording = into) };
}

/**
 * The baseline bot on `url` (its table is created if missing), answering through the Bot API at
 * `apiRoot`. With `count`, every statement is counted (and recorded on request).
 */
export async function startBaseline(options: BaselineOptions): Promise<Baseline> {
  const { sql, statements, record } = baselinePool(options);
  await sql`create table if not exists baseline_sessions (key text primary key, value jsonb not null)`;
  const store = {
    async get(key: string): Promise<Scenes.WizardSession<Answers> | undefined> {
      const [row] = await sql<{ value: Scenes.WizardSession<Answers> }[]>`select value from baseline_sessions where key = ${key}`;
      return row?.value;
    },
    async set(key: string, value: Scenes.WizardSession<Answers>): Promise<void> {
      await sql`insert into baseline_sessions (key, value) values (${key}, ${sql.json(value as never)})
                on conflict (key) do update set value = excluded.value`;
    },
    async delete(key: string): Promise<void> {
      await sql`delete from baseline_sessions where key = ${key}`;
    },
  };

  const wizard = new Scenes.WizardScene<Ctx>(
    'personal_data',
    async (ctx) => {
      await ctx.reply(prompt(0), { parse_mode: 'HTML' });
      return ctx.wizard.next();
    },
    async (ctx) => {
      const text = textOf(ctx)?.trim() ?? '';
      const problem = answerProblem(0, text);
      if (problem) return ctx.reply(problem, { parse_mode: 'HTML' });
      ctx.scene.session.name = text;
      await ctx.reply(prompt(1), { parse_mode: 'HTML' });
      return ctx.wizard.next();
    },
    async (ctx) => {
      const text = textOf(ctx)?.trim() ?? '';
      const problem = answerProblem(1, text);
      if (problem) return ctx.reply(problem, { parse_mode: 'HTML' });
      ctx.scene.session.city = text;
      await ctx.reply(prompt(2), { parse_mode: 'HTML' });
      return ctx.wizard.next();
    },
    async (ctx) => {
      const text = textOf(ctx)?.trim() ?? '';
      const problem = answerProblem(2, text);
      if (problem) return ctx.reply(problem, { parse_mode: 'HTML' });
      const { name = '', city = '' } = ctx.scene.session;
      const done = summary(name, city, text);
      await ctx.reply(done.text, done.extra);
      return ctx.scene.leave();
    },
  );
  const stage = new Scenes.Stage<Ctx>([wizard]);
  const bot = new Telegraf<Ctx>(options.token, { telegram: { apiRoot: options.apiRoot } });
  bot.botInfo = options.botInfo;
  bot.use(session({ store, defaultSession: () => ({ __scenes: { cursor: 0 } }) }));
  bot.use(stage.middleware());
  // The operator's "send Personal data to this client" button: the client's wizard starts at its first question.
  bot.on('callback_query', async (ctx) => {
    const data = parse('data' in ctx.callbackQuery ? ctx.callbackQuery.data : undefined);
    if (data?.kind !== 'send') return ctx.answerCbQuery();
    const key = `${data.client}:${data.client}`;
    await store.set(key, { __scenes: { current: 'personal_data', cursor: 1, state: {} } });
    await ctx.telegram.sendMessage(data.client, prompt(0), { parse_mode: 'HTML' });
    await ctx.answerCbQuery(`“${TITLE}” sent to Client ${data.client}.`);
  });
  bot.catch((error) => {
    throw error;
  });
  return {
    // Applied in the webhook call itself: the reply is sent before it answers.
    feed: (update) => bot.handleUpdate(update),
    drain: async () => {},
    statements,
    record,
    close: () => sql.end({ timeout: 5 }),
  };
}

export type { Update };
