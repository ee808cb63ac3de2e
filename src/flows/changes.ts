import type { Tx } from '../db/client.js';
import type { OutboxRow } from '../db/schema.js';

/** Clients whose requests changed in a transaction, noted by the store's writes (see `redrawOpenCards`). */
const changed = new WeakMap<Tx, Set<number>>();
/** Clients the transaction's lock found no open client card for: nothing to redraw, nothing to look up. */
const cardless = new WeakMap<Tx, Set<number>>();

/** Clients whose cards the command redrew itself (with its write), after their last change in the transaction. */
const drawn = new WeakMap<Tx, Set<number>>();

/** Updates the transaction's lock statements recorded as applied (their inbox rows turn `done` with the commit). */
const recorded = new WeakMap<Tx, number[]>();

/** Outbox rows the transaction's writes inserted, whole (they go to the sender once it has committed). */
const written = new WeakMap<Tx, OutboxRow[]>();

/** The card key of a client's card in staff chats (`outbox.card_key`): the prefix and the client's id. */
export const CLIENT_CARD_PREFIX = 'client:';
export const clientCardKey = (clientId: number): string => `${CLIENT_CARD_PREFIX}${clientId}`;

/** The lock saw that no staff chat shows this client's card (the hot path then skips the card lookup). */
export function noteNoCards(tx: Tx, clientId: number): void {
  let clients = cardless.get(tx);
  if (!clients) cardless.set(tx, (clients = new Set()));
  clients.add(clientId);
}

export function noteChange(tx: Tx, clientId: number): void {
  let clients = changed.get(tx);
  if (!clients) changed.set(tx, (clients = new Set()));
  clients.add(clientId);
  // A change after the command drew the cards: they are drawn again at the end, from the table.
  drawn.get(tx)?.delete(clientId);
}

/** The write that changed this client's requests carried the edits of their open cards (call it after that write). */
export function noteDrawn(tx: Tx, clientId: number): void {
  let clients = drawn.get(tx);
  if (!clients) drawn.set(tx, (clients = new Set()));
  clients.add(clientId);
}

/** The clients noted in this transaction so far whose cards may be open and are not drawn yet. */
function toRedraw(tx: Tx): number[] {
  const without = cardless.get(tx);
  const done = drawn.get(tx);
  return [...(changed.get(tx) ?? [])].filter((id) => !without?.has(id) && !done?.has(id));
}

/** The clients noted in this transaction so far whose cards may be open and are not drawn yet; the notes are cleared. */
export function takeChanges(tx: Tx): number[] {
  const clients = toRedraw(tx);
  changed.delete(tx);
  cardless.delete(tx);
  drawn.delete(tx);
  return clients;
}

/**
 * Whether the command's end will look up open cards to redraw, as things stand, once a write changes
 * `clientId`'s requests (null: none), redrawing their cards itself when `drawnByIt`. A write after which it
 * will not can be the transaction's last statement.
 */
export function redrawsAfter(tx: Tx, clientId: number | null, drawnByIt = false): boolean {
  if (toRedraw(tx).some((id) => id !== clientId)) return true;
  return clientId !== null && !drawnByIt && !cardless.get(tx)?.has(clientId);
}

/** The lock statement recorded this update as applied in the transaction (see `takeRecorded`). */
export function noteRecorded(tx: Tx, updateId: number): void {
  const ids = recorded.get(tx);
  if (ids) ids.push(updateId);
  else recorded.set(tx, [updateId]);
}

/** The updates the transaction recorded as applied; the notes are cleared. Read once it has committed. */
export function takeRecorded(tx: Tx): number[] {
  const ids = recorded.get(tx) ?? [];
  recorded.delete(tx);
  return ids;
}

/** The transaction's write inserted these outbox rows (see `takeWritten`). */
export function noteWritten(tx: Tx, rows: readonly OutboxRow[]): void {
  if (rows.length === 0) return;
  const noted = written.get(tx);
  if (noted) noted.push(...rows);
  else written.set(tx, [...rows]);
}

/** The outbox rows the transaction inserted, in id order; the notes are cleared. Read once it has committed. */
export function takeWritten(tx: Tx): OutboxRow[] {
  const rows = written.get(tx) ?? [];
  written.delete(tx);
  return rows.sort((a, b) => a.id - b.id);
}

/** Who hears of a command once it has committed: the updates it recorded as applied, the outbox rows it wrote. */
export interface CommitListeners {
  readonly onRecorded?: ((updateId: number) => void) | undefined;
  readonly onOutbox?: ((rows: readonly OutboxRow[]) => void) | undefined;
}

/** Tells `to` what the committed transaction recorded and wrote (the notes are cleared). */
export function tellCommitted(tx: Tx, to: CommitListeners): void {
  for (const updateId of takeRecorded(tx)) to.onRecorded?.(updateId);
  const rows = takeWritten(tx);
  if (rows.length > 0) to.onOutbox?.(rows);
}

/**
 * Forgets the outbox rows noted so far: a later statement of the transaction changed pending rows (an erasure
 * emptied them), so the rows as inserted are not what is to be sent. The passes send what is left of them.
 */
export function forgetWritten(tx: Tx): void {
  written.delete(tx);
}
