/**
 * The conversation beside the requests: a client's message that is not an answer goes to their operator,
 * and an operator's reply goes back to the client. Each is one transaction that locks the client's row and
 * records the update (a redelivered update is passed on once), logs the message with the client's id
 * (`messages.talk_client_id`) and the request it belongs to, and writes the outgoing copies to the outbox,
 * which delivers them in order after commit.
 */
import { desc, eq, inArray, sql } from 'drizzle-orm';
import { pickText, readStoredDefinition, type Locale, type RequestDefinition } from '../../machines/definition.js';
import { rowsOf, type Db, type Queryable, type Tx } from '../db/client.js';
import { messages, people, type OutboxRow } from '../db/schema.js';
import type { LoggedMessage } from '../log/messages.js';
import { pack } from '../ui/callback-data.js';
import { displayName, html } from '../ui/format.js';
import { localeOf, t } from '../ui/i18n.js';
import { CAPTION_MAX, TEXT_MAX, fitHtml, renderedLength } from '../ui/limits.js';
import { talkButton } from '../ui/talk-button.js';
import { tellCommitted, type CommitListeners } from './changes.js';
import { emptyPlan } from './plans.js';
import { OPEN_STATUSES } from './statuses.js';
import { lockClient, personById, TALK_WINDOW_SECONDS, write, type PersonRow } from './store.js';
import type { OutMessage, Outcome, Refusal } from './types.js';

export interface ConversationDeps {
  readonly db: Db;
  readonly defaultLocale: Locale;
  /** Who hears for a client's owner: the owner, or the whole staff when the owner is no longer on it. */
  readonly operatorsFor?: (operatorId: number, q: Queryable) => Promise<readonly number[]>;
  /** Everyone on the staff: they hear from a client who has no operator yet. */
  readonly staffIds?: (q: Queryable) => Promise<readonly number[]>;
  /** Told, once a message passed on has committed, of the outbox rows it wrote (as `FlowServiceDeps.onOutbox`). */
  readonly onOutbox?: ((rows: readonly OutboxRow[]) => void) | undefined;
  /** Told, once committed, of the update it recorded as applied (as `FlowServiceDeps.onRecorded`). */
  readonly onRecorded?: ((updateId: number) => void) | undefined;
}

/** Where a message came from: copies are made of it (`copyMessage`), never of its stored contents. */
export interface SourceMessage extends LoggedMessage {
  readonly telegramMessageId: number;
}

/** One message of a client's conversation with the staff, for the client's history. */
export interface ConversationEntry {
  readonly at: Date;
  /** `client`: the client wrote to the staff; `operator`: a staff member (`operatorId`) replied. */
  readonly from: 'client' | 'operator';
  readonly operatorId: number | null;
  readonly kind: string;
  /** The text or caption; null for a file without one (and after an erasure). */
  readonly text: string | null;
  readonly flowId: number | null;
}

/** The outbox card key of a client's message passed on to the staff: a reply to that copy finds the client. */
export const talkCardKey = (clientId: number): string => `talk:${clientId}`;

/** Kinds of messages whose caption Telegram lets a copy replace (the sender's name is put there). */
const CAPTIONED = new Set(['photo', 'document', 'video', 'audio', 'animation', 'voice']);

export class Conversation {
  private readonly db: Db;
  private readonly defaultLocale: Locale;
  private readonly operatorsFor: (operatorId: number, q: Queryable) => Promise<readonly number[]>;
  private readonly staffIds: (q: Queryable) => Promise<readonly number[]>;
  private readonly listeners: CommitListeners;

  constructor(deps: ConversationDeps) {
    this.db = deps.db;
    this.defaultLocale = deps.defaultLocale;
    this.operatorsFor = deps.operatorsFor ?? (async (id) => [id]);
    this.staffIds = deps.staffIds ?? (async () => []);
    this.listeners = { onRecorded: deps.onRecorded, onOutbox: deps.onOutbox };
  }

  /** Whether the client pressed "Message the operator" (recently) and has not written since. */
  async talking(clientId: number): Promise<boolean> {
    const result = await this.db.execute(sql`
      select 1 as n from people where id = ${clientId}::bigint
        and talk_requested_at > now() - make_interval(secs => ${TALK_WINDOW_SECONDS})`);
    return rowsOf(result).length > 0;
  }

  /** "Message the operator" pressed (`true`) or cancelled (`false`). */
  async setTalking(clientId: number, on: boolean): Promise<void> {
    await this.db
      .update(people)
      .set({ talkRequestedAt: on ? sql`now()` : null })
      .where(eq(people.id, clientId));
  }

  /**
   * Passes a client's message on to their operator (or every operator when they have none, or theirs has
   * left the staff) as a copy with "Reply" and "Client card" buttons. Resolves with how many got it.
   */
  fromClient(input: { clientId: number; message: SourceMessage; updateId: number | null }): Promise<Outcome<{ recipients: number }>> {
    return this.transact(async (tx) => {
      const { fresh, client } = await lockClient(tx, input.clientId, input.updateId);
      if (!fresh) return refuse({ code: 'duplicate_update' });
      if (!client) return refuse({ code: 'client_not_found' });
      const context = await this.contextOf(tx, input.clientId);
      const recipients = (await this.recipients(tx, context.ownerId)).filter((id) => id !== input.clientId);
      const outbox: (OutMessage & { flowId: number | null })[] = [];
      for (const operator of await localesOf(tx, recipients, this.defaultLocale)) {
        const request = context.flow ? pickText(context.flow.definition.title, operator.locale, this.defaultLocale) : null;
        const header = t(operator.locale, 'talkFromClient', {
          client: `<b>${html(displayName(client))}</b>`,
          request: html(request ?? t(operator.locale, 'talkNoRequest')),
        });
        const buttons = {
          inline_keyboard: [
            [
              { text: t(operator.locale, 'talkReplyButton'), callback_data: pack({ kind: 'talkReply', client: input.clientId }) },
              { text: t(operator.locale, 'talkCardButton'), callback_data: pack({ kind: 'client', client: input.clientId }) },
            ],
          ],
        };
        for (const row of copies(operator.id, input.message, header, buttons))
          outbox.push({ ...row, cardKey: talkCardKey(input.clientId), flowId: context.flow?.id ?? null });
      }
      await tx.insert(messages).values(logRow(input.message, input.updateId, context.flow?.id ?? null, input.clientId));
      await tx.update(people).set({ talkRequestedAt: null }).where(eq(people.id, input.clientId));
      await write(tx, { ...emptyPlan(), outbox }, { last: true });
      return { ok: true, value: { recipients: recipients.length } };
    });
  }

  /** Passes a staff member's reply on to the client, after the replies before it. */
  toClient(input: {
    operatorId: number;
    clientId: number;
    message: SourceMessage;
    updateId: number | null;
  }): Promise<Outcome<{ client: PersonRow }>> {
    return this.transact(async (tx) => {
      const { fresh, client } = await lockClient(tx, input.clientId, input.updateId);
      if (!fresh) return refuse({ code: 'duplicate_update' });
      if (!client) return refuse({ code: 'client_not_found' });
      if (!client.startedAt) return refuse({ code: 'client_not_started' });
      if (client.blockedAt) return refuse({ code: 'client_blocked' });
      const context = await this.contextOf(tx, input.clientId);
      const operator = await personById(tx, input.operatorId);
      const locale = localeOf(client.languageCode, this.defaultLocale);
      const name = operator ? displayName(operator) : String(input.operatorId);
      const header = t(locale, 'talkFromOperator', { operator: `<b>${html(name)}</b>` });
      const buttons = { inline_keyboard: [[talkButton(locale)]] };
      const flowId = context.flow?.id ?? null;
      const outbox = copies(input.clientId, input.message, header, buttons).map((row) => ({ ...row, flowId }));
      await tx.insert(messages).values(logRow(input.message, input.updateId, flowId, input.clientId));
      await write(tx, { ...emptyPlan(), outbox }, { last: true });
      return { ok: true, value: { client } };
    });
  }

  /**
   * Tells the staff that a client arrived: through an invite (its operator), or by opening the bot (their
   * operator, or every operator when they have none yet). Buttons: "Reply" and "Client card".
   */
  arrival(input: { clientId: number; via: 'start' | 'invite'; updateId: number | null }): Promise<boolean> {
    return this.transact(async (tx) => {
      const { fresh, client } = await lockClient(tx, input.clientId, input.updateId);
      if (!fresh || !client) return false;
      const { ownerId } = await this.contextOf(tx, input.clientId);
      const recipients = (await this.recipients(tx, ownerId)).filter((id) => id !== input.clientId);
      const outbox = (await localesOf(tx, recipients, this.defaultLocale)).map((operator) => ({
        chatId: operator.id,
        flowId: null,
        method: 'sendMessage' as const,
        payload: {
          text: fitHtml(
            t(operator.locale, input.via === 'invite' ? 'talkArrivedInvite' : ownerId === null ? 'talkArrivedNew' : 'talkArrivedStart', {
              client: `<b>${html(displayName(client))}</b>`,
            }),
            TEXT_MAX,
          ),
          parse_mode: 'HTML',
          reply_markup: {
            inline_keyboard: [
              [
                { text: t(operator.locale, 'talkReplyButton'), callback_data: pack({ kind: 'talkReply', client: input.clientId }) },
                { text: t(operator.locale, 'talkCardButton'), callback_data: pack({ kind: 'client', client: input.clientId }) },
              ],
            ],
          },
        },
        cardKey: talkCardKey(input.clientId),
      }));
      await write(tx, { ...emptyPlan(), outbox }, { last: true });
      return outbox.length > 0;
    });
  }

  /** The client whose message (or arrival) this copy in a staff chat passed on, if it is one. */
  async clientOfCopy(operatorId: number, telegramMessageId: number): Promise<number | null> {
    const result = await this.db.execute(sql`
      select card_key from outbox
      where chat_id = ${operatorId}::bigint and telegram_message_id = ${telegramMessageId} and card_key like 'talk:%'
      order by id desc limit 1`);
    const key = rowsOf<{ card_key: string }>(result)[0]?.card_key;
    const id = key === undefined ? NaN : Number(key.slice('talk:'.length));
    return Number.isSafeInteger(id) ? id : null;
  }

  /** The client's conversation with the staff (both ways), newest first: for the client's history. */
  async entries(clientId: number, limit = 20): Promise<ConversationEntry[]> {
    const rows = await this.db.select().from(messages).where(eq(messages.talkClientId, clientId)).orderBy(desc(messages.id)).limit(limit);
    return rows.map((m) => ({
      at: m.at,
      from: m.chatId === clientId ? 'client' : 'operator',
      operatorId: m.chatId === clientId ? null : m.chatId,
      kind: m.kind,
      text: m.text,
      flowId: m.flowId,
    }));
  }

  /** Runs `body` in a transaction; once it has committed, `onRecorded` and `onOutbox` hear what it recorded and wrote. */
  private async transact<T>(body: (tx: Tx) => Promise<T>): Promise<T> {
    let committed: Tx | undefined;
    const value = await this.db.transaction(async (tx) => {
      const value = await body(tx);
      committed = tx;
      return value;
    });
    if (committed) tellCommitted(committed, this.listeners);
    return value;
  }

  /** The client's operator and the request a message belongs to: the active one, else the next queued. */
  private async contextOf(
    tx: Tx,
    clientId: number,
  ): Promise<{ ownerId: number | null; flow: { id: number; definition: RequestDefinition } | null }> {
    const open = sql.raw(OPEN_STATUSES.map((s) => `'${s}'`).join(', '));
    const result = await tx.execute(sql`
      select (select operator_id from people where id = ${clientId}::bigint) as owner,
        (select row_to_json(f) from (
          select id, definition from flows where client_id = ${clientId}::bigint and status in (${open})
          order by (status = 'queued'), id limit 1) f) as flow`);
    const row = rowsOf<{ owner: number | string | null; flow: { id: number | string; definition: RequestDefinition } | null }>(result)[0];
    return {
      ownerId: row?.owner === null || row?.owner === undefined ? null : Number(row.owner),
      flow: row?.flow ? { id: Number(row.flow.id), definition: readStoredDefinition(row.flow.definition) } : null,
    };
  }

  private async recipients(tx: Tx, ownerId: number | null): Promise<readonly number[]> {
    return ownerId === null ? this.staffIds(tx) : this.operatorsFor(ownerId, tx);
  }
}

/**
 * The copies of a message for one recipient, headed by who wrote it: a text as one message (the header
 * above it); a photo or a file copied with the header as its caption; anything else (a sticker, a
 * location, or a text or caption too long for the header) as the header, then the copy. The buttons go on
 * the last one.
 */
function copies(to: number, message: SourceMessage, header: string, buttons: Record<string, unknown>): OutMessage[] {
  const body = message.text === null || message.text === '' ? header : `${header}\n\n${html(message.text)}`;
  if (message.kind === 'text' && renderedLength(body) <= TEXT_MAX) {
    return [{ chatId: to, method: 'sendMessage', payload: { text: body, parse_mode: 'HTML', reply_markup: buttons } }];
  }
  const copy = { from_chat_id: message.chatId, message_id: message.telegramMessageId, reply_markup: buttons };
  if (CAPTIONED.has(message.kind) && renderedLength(body) <= CAPTION_MAX) {
    return [{ chatId: to, method: 'copyMessage', payload: { ...copy, caption: body, parse_mode: 'HTML' } }];
  }
  return [
    { chatId: to, method: 'sendMessage', payload: { text: header, parse_mode: 'HTML' } },
    { chatId: to, method: 'copyMessage', payload: copy },
  ];
}

function logRow(message: SourceMessage, updateId: number | null, flowId: number | null, clientId: number) {
  return {
    chatId: message.chatId,
    direction: 'in' as const,
    kind: message.kind,
    text: message.text,
    fileId: message.fileId,
    fileUniqueId: message.fileUniqueId,
    telegramMessageId: message.telegramMessageId,
    updateId,
    flowId,
    talkClientId: clientId,
  };
}

async function localesOf(tx: Tx, ids: readonly number[], fallback: Locale): Promise<{ id: number; locale: Locale }[]> {
  if (ids.length === 0) return [];
  const rows = await tx
    .select({ id: people.id, languageCode: people.languageCode })
    .from(people)
    .where(inArray(people.id, [...ids]));
  const byId = new Map(rows.map((r) => [r.id, r.languageCode]));
  return ids.map((id) => ({ id, locale: localeOf(byId.get(id), fallback) }));
}

function refuse<T>(refusal: Refusal): Outcome<T> {
  return { ok: false, refusal };
}
