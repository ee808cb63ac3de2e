/**
 * Erasing a client's data (`/forget`, the `forget` command): their open requests are cancelled, the
 * staff told without the client's name, and what they said and sent removed (`erasure.ts` has the SQL).
 */
import { apply } from './commands.js';
import { openFlowsOf, type FlowCore, type UpdateRef } from './core.js';
import { clientRef, ERASED_NAME, eraseClient, recordErasure, sentCardsOf, type ErasureCounts } from './erasure.js';
import { erasedCancelledNotice, erasedCardText } from './notices.js';
import { refuse } from './plans.js';
import { dropQueued } from './queue.js';
import { lockClient, personById, personInfo } from './store.js';
import type { Actor, Outcome } from './types.js';
import { personLocale } from '../ui/i18n.js';

export interface ForgetInput extends UpdateRef {
  readonly clientId: number;
  readonly by: { kind: 'admin'; id: number } | { kind: 'command_line' };
}

/**
 * Erases a client's data in one transaction: their active and queued requests are cancelled first, then
 * what they said and sent is removed (`eraseClient` in erasure.ts lists it all) and an anonymised record
 * of the erasure is kept. The cards of their requests in staff chats are rewritten, and the operators of
 * cancelled requests told, without the client's name.
 */
export async function forget(core: FlowCore, input: ForgetInput): Promise<Outcome<ErasureCounts & { erasureId: number }>> {
  const ref = clientRef(input.clientId); // slow on purpose: made before any lock is taken
  const staff = await core.staffIds(core.db);
  return core.transact(async (tx) => {
    const { fresh, client } = await lockClient(tx, input.clientId, input.updateId ?? null);
    if (!fresh) return refuse({ code: 'duplicate_update' });
    if (!client) return refuse({ code: 'client_not_found' });
    const actor: Actor = input.by.kind === 'admin' ? { kind: 'operator', id: input.by.id } : { kind: 'system', id: null };
    const open = await openFlowsOf(tx, input.clientId);
    // The queued ones first: cancelling the active one would start the next.
    for (const flow of [...open.filter((f) => f.status === 'queued'), ...open.filter((f) => f.status !== 'queued')]) {
      if (flow.status === 'queued') {
        await dropQueued(tx, flow, actor);
        continue;
      }
      const locked = await core.lockFlow(tx, flow.id, null);
      if (locked.flow) await apply(core, tx, locked, locked.flow, { type: 'CANCEL' }, actor, []);
    }
    const notices: { chatId: number; flowId: number; method: string; payload: unknown; cardKey: string | null }[] = [];
    for (const card of await sentCardsOf(tx, input.clientId)) {
      const text = erasedCardText(personLocale(card, core.defaultLocale), card.flowId);
      notices.push({ chatId: card.chatId, flowId: card.flowId, method: 'editMessageText', payload: { text }, cardKey: card.cardKey });
    }
    for (const flow of open) {
      // The flow's operator, or the whole staff once they have left it (as `operatorsFor`, but from the
      // staff read before the transaction: PGlite's one connection is held by it).
      const recipients = staff.length === 0 || staff.includes(flow.operatorId) ? [flow.operatorId] : staff;
      for (const chatId of recipients) {
        const locale = personInfo(await personById(tx, chatId), chatId, core.defaultLocale).locale;
        notices.push({ ...erasedCancelledNotice(chatId, locale, flow.id, flow.definition, core.defaultLocale), cardKey: null });
      }
    }
    const name =
      client.firstName === ERASED_NAME ? [] : [[client.firstName, client.lastName].filter((s) => s && s.trim() !== '').join(' ')];
    const names = [...name, ...(client.username ? [`@${client.username}`] : [])].filter((n) => n.length >= 3);
    const removed = await eraseClient(tx, { clientId: input.clientId, staffIds: staff, names, notices });
    const counts: ErasureCounts = { requestsCancelled: open.length, ...removed };
    const actorId = input.by.kind === 'admin' ? input.by.id : null;
    const erasureId = await recordErasure(tx, { clientRef: ref, actorKind: input.by.kind, actorId, counts });
    return { ok: true, value: { ...counts, erasureId } };
  });
}
