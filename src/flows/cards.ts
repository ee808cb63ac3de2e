/**
 * Open cards: client cards shown from the operator menu are recorded (chat, message id, client) as sent
 * outbox rows with the card key `client:<id>`, so that any change to one of the client's requests adds,
 * in the same transaction, an `editMessageText` row per open copy (the last few shown in each chat) that
 * redraws it from the new state. Each row names its message (`message_id`), as copies share their key.
 */
import { sql, type SQL } from 'drizzle-orm';
import { readStoredDefinition, readStoredTitle, type Locale, type RequestDefinition } from '../../machines/definition.js';
import type { RequestView } from '../../machines/view.js';
import type { Catalogue } from '../config/catalogue.js';
import type { Db, Tx } from '../db/client.js';
import { clientCard, type CardFlow } from '../ui/client-card.js';
import { personLocale } from '../ui/i18n.js';
import { CLIENT_CARD_PREFIX, clientCardKey, takeChanges } from './changes.js';
import { emptyPlan } from './plans.js';
import { isActive, isFinal, type FlowStatus } from './statuses.js';
import { cardStateOf, cardStates, write, type CardFlowRow, type CardState, type PersonRow } from './store.js';
import type { OutMessage } from './types.js';

export { clientCardKey };

export interface CardDeps {
  readonly catalogue: () => Catalogue;
  readonly defaultLocale: Locale;
  /** What a stored snapshot shows now (parked when it no longer restores). */
  readonly viewOf: (definition: RequestDefinition, snapshot: unknown) => RequestView;
}

/** An edit of an open card, as an outbox row. */
export type CardEdit = OutMessage & { readonly flowId: null };

/**
 * Before a command commits, as its last statements: an edit row for every open client card of a client whose
 * requests changed, drawn from the state as this transaction leaves it, in the card's reader's language. One
 * statement reads the cards and what they show; a second writes the edits (none when no card is open), with
 * the transaction's COMMIT.
 */
export async function redrawOpenCards(tx: Tx, deps: CardDeps): Promise<void> {
  const clients = takeChanges(tx);
  if (clients.length === 0) return;
  const rows = (await cardStates(tx, clients)).flatMap((state) => cardEdits(deps, state, cardFlows(deps, state.open)));
  if (rows.length > 0) await write(tx, { ...emptyPlan(), outbox: rows }, { last: true });
}

/**
 * The edits of the client's open cards after a command changed one of their flows (`changed`, drawn from the
 * command's new state), from the cards and the other open flows its lock read: no statement of its own. Null
 * when the flow was not on the cards (the end of the command then draws them from the table).
 */
export function cardEditsAfter(
  deps: CardDeps,
  state: CardState,
  changed: { id: number; version: number; status: FlowStatus; view: RequestView },
): CardEdit[] | null {
  const shown = state.open.find((f) => f.id === changed.id);
  if (!shown) return null;
  const open = cardFlows(deps, state.open).flatMap((f): CardFlow[] =>
    f.id !== changed.id
      ? [f]
      : !isFinal(changed.status)
        ? [{ ...f, version: changed.version, status: changed.status, view: isActive(changed.status) ? changed.view : null }]
        : [],
  );
  return cardEdits(deps, state, open);
}

/** Open flows as a card shows them: titles, and what an active one shows now (when its definition was read). */
export function cardFlows(deps: CardDeps, rows: readonly CardFlowRow[]): CardFlow[] {
  return rows.map((f) => ({
    id: f.id,
    version: f.version,
    status: f.status,
    title: readStoredTitle(f.title),
    view: isActive(f.status) && f.definition ? deps.viewOf(readStoredDefinition(f.definition), f.snapshot) : null,
  }));
}

/** The edit rows that redraw each open copy of the client's card (once per message) from `open`. */
export function cardEdits(deps: CardDeps, state: CardState, open: readonly CardFlow[]): CardEdit[] {
  const { client, owner } = state;
  const seen = new Set<string>();
  const rows: CardEdit[] = [];
  for (const card of state.cards) {
    const message = `${card.chatId}:${card.messageId}`;
    if (seen.has(message)) continue;
    seen.add(message);
    const locale = personLocale({ locale: card.locale, languageCode: card.languageCode }, deps.defaultLocale);
    const drawn = clientCard({
      person: { ...client, operatorId: client.ownerId },
      open,
      requests: deps.catalogue().requests,
      locale,
      defaultLocale: deps.defaultLocale,
      owner,
      // Whoever could open this card may hand the client over (the owner, an admin, or anyone under `all`).
      mayHandOver: true,
    });
    rows.push({
      chatId: card.chatId,
      flowId: null,
      method: 'editMessageText',
      payload: { message_id: card.messageId, text: drawn.text, parse_mode: 'HTML', reply_markup: { inline_keyboard: drawn.keyboard } },
      cardKey: clientCardKey(client.id),
    });
  }
  return rows;
}

/** What a client's card shows now, for drawing it from the menu (null when there is no such person): one statement. */
export async function clientCardState(
  db: Db,
  deps: CardDeps,
  clientId: number,
): Promise<{ client: PersonRow; owner: PersonRow | null; open: CardFlow[] } | null> {
  const state = await cardStateOf(db, clientId);
  return state && { client: state.client, owner: state.owner, open: cardFlows(deps, state.open) };
}

/**
 * Records a client card shown in a chat (the newest one of that chat is the one kept current), in one
 * statement: whatever client card the message showed before is forgotten.
 */
export async function recordClientCard(db: Db, card: { chatId: number; messageId: number; clientId: number }): Promise<void> {
  await db.execute(sql`
    with forgotten as (${forgetting(card)})
    insert into outbox (chat_id, method, payload, card_key, status, telegram_message_id, sent_at)
    values (${card.chatId}::bigint, 'sendMessage', '{}'::jsonb, ${clientCardKey(card.clientId)}, 'sent', ${card.messageId}::int, now())`);
}

/** The message shows something else now (the menu replaced the card in place): it is no longer redrawn. */
export async function forgetCard(db: Db, card: { chatId: number; messageId: number }): Promise<void> {
  await db.execute(forgetting(card));
}

function forgetting(card: { chatId: number; messageId: number }): SQL {
  return sql`update outbox set card_key = null
    where chat_id = ${card.chatId}::bigint and telegram_message_id = ${card.messageId}::int and card_key like ${`${CLIENT_CARD_PREFIX}%`}
    returning 1`;
}
