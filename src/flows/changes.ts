import type { Tx } from '../db/client.js';

/** Clients whose requests changed in a transaction, noted by the store's writes (see `redrawOpenCards`). */
const changed = new WeakMap<Tx, Set<number>>();

export function noteChange(tx: Tx, clientId: number): void {
  let clients = changed.get(tx);
  if (!clients) changed.set(tx, (clients = new Set()));
  clients.add(clientId);
}

/** The clients noted in this transaction so far; the note is cleared. */
export function takeChanges(tx: Tx): number[] {
  const clients = changed.get(tx);
  changed.delete(tx);
  return clients ? [...clients] : [];
}
