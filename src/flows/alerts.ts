/**
 * A request that cannot go on for reasons outside its machine: the client blocked the bot, or Telegram
 * refused one of its messages for good. The staff is told, so that a person steps in; no state changes.
 */
import type { FlowCore } from './core.js';
import { clientBlockedNotice, deliveryFailedNotice } from './notices.js';
import { emptyPlan } from './plans.js';
import { personById, personInfo, write } from './store.js';

/**
 * The client blocked the bot: their active request cannot go on, so its operator is told (once; the
 * request stays as it is, and the operator may cancel it or wait for the client to come back).
 */
export function clientBlocked(core: FlowCore, clientId: number): Promise<boolean> {
  return core.transact(async (tx) => {
    const locked = await core.lockActiveFlow(tx, clientId, null);
    const flow = locked.flow;
    if (!flow) return false;
    const client = personInfo(locked.client, clientId, core.defaultLocale);
    const operator = personInfo(locked.operator, flow.operatorId, core.defaultLocale);
    const plan = emptyPlan();
    plan.events.push({
      flowId: flow.id,
      fromState: flow.status,
      toState: flow.status,
      event: 'CLIENT_BLOCKED',
      payload: null,
      actorId: clientId,
      actorKind: 'client',
    });
    plan.outbox.push(clientBlockedNotice(flow.id, flow.definition, client, operator, core.defaultLocale));
    await core.routeToOperators(tx, plan, flow.operatorId);
    await write(tx, plan);
    return true;
  });
}

/**
 * A message of the flow was refused by Telegram for good, even as plain text: the flow's operator hears
 * of it (or, when the message was theirs, the rest of the staff), so that a person steps in.
 */
export function deliveryFailed(core: FlowCore, input: { flowId: number; chatId: number; reason: string }): Promise<boolean> {
  return core.transact(async (tx) => {
    const locked = await core.lockFlow(tx, input.flowId, null);
    const flow = locked.flow;
    if (!flow) return false;
    const client = personInfo(locked.client, flow.clientId, core.defaultLocale);
    const toOperator = input.chatId !== flow.clientId;
    const recipients = toOperator
      ? (await core.staffIds(tx)).filter((id) => id !== input.chatId)
      : await core.operatorsFor(flow.operatorId, tx);
    const addressee = toOperator ? personInfo(await personById(tx, input.chatId), input.chatId, core.defaultLocale) : client;
    const plan = emptyPlan();
    const reason = input.reason.slice(0, 200);
    plan.events.push({
      flowId: flow.id,
      fromState: flow.status,
      toState: flow.status,
      event: 'DELIVERY_FAILED',
      payload: { chatId: input.chatId, reason },
      actorId: null,
      actorKind: 'system',
    });
    for (const chatId of recipients) {
      const locale =
        chatId === flow.operatorId
          ? personInfo(locked.operator, chatId, core.defaultLocale).locale
          : personInfo(await personById(tx, chatId), chatId, core.defaultLocale).locale;
      plan.outbox.push(deliveryFailedNotice(chatId, locale, flow.id, addressee, reason));
    }
    await write(tx, plan);
    return recipients.length > 0;
  });
}
