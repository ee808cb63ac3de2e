/**
 * Open cards: client cards shown from the operator menu are recorded (chat, message id, client) as sent
 * outbox rows with the card key `client:<id>`, so that any change to one of the client's requests adds,
 * in the same transaction, an `editMessageText` row per open copy (the last few shown in each chat) that
 * redraws it from the new state. Each row names its message (`message_id`), as copies share their key.
 */
import { and, eq, like, sql } from 'drizzle-orm';
import { readStoredDefinition, type Locale, type RequestDefinition } from '../../machines/definition.js';
import type { RequestView } from '../../machines/view.js';
import type { Catalogue } from '../config/catalogue.js';
import { rowsOf, type Db, type Tx } from '../db/client.js';
import { outbox } from '../db/schema.js';
import { clientCard } from '../ui/client-card.js';
import { personLocale } from '../ui/i18n.js';
import { CLIENT_CARD_PREFIX, clientCardKey, takeChanges } from './changes.js';

export { clientCardKey };
import { isActive } from './statuses.js';
import { openFlowsOf, personById, write } from './store.js';

/** Copies of one client's card kept current per chat: the ones shown last. */
const OPEN_CARDS_KEPT = 3;

export interface CardDeps {
  readonly catalogue: () => Catalogue;
  readonly defaultLocale: Locale;
  /** What a stored snapshot shows now (parked when it no longer restores). */
  readonly viewOf: (definition: RequestDefinition, snapshot: unknown) => RequestView;
}

/**
 * Before a command commits: an edit row for every open client card of a client whose requests changed,
 * drawn from the state as this transaction leaves it, in the card's reader's language.
 */
export async function redrawOpenCards(tx: Tx, deps: CardDeps): Promise<void> {
  const clients = takeChanges(tx);
  if (clients.length === 0) return;
  const keys = clients.map((id) => sql`${clientCardKey(id)}`);
  const cards = rowsOf<{
    chat_id: number | string;
    card_key: string;
    message_id: number;
    language_code: string | null;
    locale: string | null;
  }>(
    await tx.execute(sql`
      select c.chat_id, c.card_key, c.message_id, p.language_code, p.locale from (
        select o.chat_id, o.card_key, o.telegram_message_id as message_id,
          row_number() over (partition by o.chat_id, o.card_key order by o.id desc) as n
        from outbox o
        where o.card_key in (${sql.join(keys, sql`, `)}) and o.method = 'sendMessage' and o.status = 'sent'
          and o.telegram_message_id is not null) c
      left join people p on p.id = c.chat_id
      where c.n <= ${OPEN_CARDS_KEPT}`),
  );
  if (cards.length === 0) return;
  const rows: { chatId: number; flowId: null; method: 'editMessageText'; payload: Record<string, unknown>; cardKey: string }[] = [];
  for (const clientId of clients) {
    const own = cards.filter((c) => c.card_key === clientCardKey(clientId));
    if (own.length === 0) continue;
    const person = await personById(tx, clientId);
    if (!person) continue;
    const owner = person.ownerId === null ? null : await personById(tx, person.ownerId);
    const open = (await openFlowsOf(tx, clientId)).map((f) => {
      const definition = readStoredDefinition(f.definition);
      return {
        id: f.id,
        version: f.version,
        status: f.status,
        title: definition.title,
        view: isActive(f.status) ? deps.viewOf(definition, f.snapshot) : null,
      };
    });
    for (const card of own) {
      const locale = personLocale({ locale: card.locale, languageCode: card.language_code }, deps.defaultLocale);
      const drawn = clientCard({
        person: { ...person, operatorId: person.ownerId },
        open,
        requests: deps.catalogue().requests,
        locale,
        defaultLocale: deps.defaultLocale,
        owner,
        // Whoever could open this card may hand the client over (the owner, an admin, or anyone under `all`).
        mayHandOver: true,
      });
      rows.push({
        chatId: Number(card.chat_id),
        flowId: null,
        method: 'editMessageText',
        payload: { message_id: card.message_id, text: drawn.text, parse_mode: 'HTML', reply_markup: { inline_keyboard: drawn.keyboard } },
        cardKey: card.card_key,
      });
    }
  }
  if (rows.length > 0) await write(tx, { flows: [], answerChanges: [], answers: [], events: [], outbox: rows, messages: [], results: [] });
}

/** Records a client card shown in a chat (the newest one of that chat is the one kept current). */
export async function recordClientCard(db: Db, card: { chatId: number; messageId: number; clientId: number }): Promise<void> {
  await forgetCard(db, card);
  await db.insert(outbox).values({
    chatId: card.chatId,
    flowId: null,
    method: 'sendMessage',
    payload: {},
    cardKey: clientCardKey(card.clientId),
    status: 'sent',
    telegramMessageId: card.messageId,
    sentAt: new Date(),
  });
}

/** The message shows something else now (the menu replaced the card in place): it is no longer redrawn. */
export async function forgetCard(db: Db, card: { chatId: number; messageId: number }): Promise<void> {
  await db
    .update(outbox)
    .set({ cardKey: null })
    .where(
      and(eq(outbox.chatId, card.chatId), eq(outbox.telegramMessageId, card.messageId), like(outbox.cardKey, `${CLIENT_CARD_PREFIX}%`)),
    );
}
