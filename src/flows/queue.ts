/**
 * One active request per client, the others queued in order: sending a request (`start`), starting the
 * oldest queued one when the active one finishes, and dropping a queued one.
 */
import { storedDefinition, type RequestDefinition } from '../../machines/definition.js';
import { initial, persist } from '../../machines/persist.js';
import { statusOf, viewOf } from '../../machines/view.js';
import type { Tx } from '../db/client.js';
import { openFlowsOf, type FlowCore, type UpdateRef } from './core.js';
import { queuedNotice, startedNotice } from './notices.js';
import { claimOnStart } from './ownership.js';
import { emptyPlan, refuse, stateName, summaryOf, type MutablePlan } from './plans.js';
import { render } from './render.js';
import { isActive, type FlowStatus } from './statuses.js';
import { insertFlow, lockClient, personById, personInfo, write, type FlowRow } from './store.js';
import type { Actor, FlowSummary, Outcome, PersonInfo } from './types.js';

export interface StartInput extends UpdateRef {
  readonly operatorId: number;
  readonly clientId: number;
  readonly requestId: string;
  readonly within?: (tx: Tx, flowId: number) => Promise<void>;
}

export function start(core: FlowCore, input: StartInput): Promise<Outcome<{ flow: FlowSummary; queued: boolean; position: number }>> {
  return core.transact(async (tx) => {
    const { fresh, client } = await lockClient(tx, input.clientId, input.updateId ?? null);
    if (!fresh) return refuse({ code: 'duplicate_update' });
    if (!client) return refuse({ code: 'client_not_found' });
    if (!client.startedAt) return refuse({ code: 'client_not_started' });
    if (client.blockedAt) return refuse({ code: 'client_blocked' });
    const definition = core.catalogue().byId.get(input.requestId);
    if (!definition) return refuse({ code: 'unknown_request_type', requestId: input.requestId });
    const notOwner = await claimOnStart(core.ownership, tx, input.operatorId, client);
    if (notOwner) return refuse(notOwner);
    const open = await openFlowsOf(tx, input.clientId);
    const operator = await personById(tx, input.operatorId);
    const operatorInfo = personInfo(operator, input.operatorId, core.defaultLocale);
    const clientInfo = personInfo(client, client.id, core.defaultLocale);
    // Queued requests start in order: a new one waits behind any queued before it.
    const busy = open.length > 0;
    const stranded = busy && !open.some((f) => isActive(f.status));
    const id = await insertFlow(tx, {
      clientId: input.clientId,
      operatorId: input.operatorId,
      definition: storedDefinition(definition),
      status: 'queued',
    });
    await input.within?.(tx, id);
    const actor: Actor = { kind: 'operator', id: input.operatorId };
    const plan = emptyPlan();
    let status: FlowStatus = 'queued';
    let position = 0;
    if (busy) {
      position = open.filter((f) => f.status === 'queued').length + 1;
      plan.events.push({
        flowId: id,
        fromState: null,
        toState: 'queued',
        event: 'START',
        payload: null,
        actorId: actor.id,
        actorKind: actor.kind,
      });
      plan.outbox.push(queuedNotice(id, definition, clientInfo, operatorInfo, position, core.defaultLocale));
    } else {
      status = activate(core, plan, { id, version: 0, definition, clientInfo, operatorInfo, actor });
      plan.outbox.push(startedNotice(id, definition, clientInfo, operatorInfo, core.defaultLocale));
    }
    await write(tx, plan);
    // A queue with nothing active (it should not happen; the timer pass also repairs it) moves on now.
    if (stranded) await startNextQueued(core, tx, input.clientId, actor, null);
    const now = core.clock();
    const flow: FlowSummary = {
      id,
      clientId: input.clientId,
      operatorId: input.operatorId,
      requestId: definition.id,
      definition,
      status,
      version: busy ? 0 : 1,
      createdAt: now,
      updatedAt: now,
    };
    return { ok: true, value: { flow, queued: busy, position } };
  });
}

/**
 * Within a finishing transaction: lock the client and start their oldest queued flow, if any.
 * Written after the finishing flow's own write: the one-active-flow index is checked row by row.
 */
export async function startNextQueued(core: FlowCore, tx: Tx, clientId: number, actor: Actor, finishing: number | null): Promise<boolean> {
  const { client } = await lockClient(tx, clientId, null);
  const open = await openFlowsOf(tx, clientId);
  if (!client || open.some((f) => isActive(f.status) && f.id !== finishing)) return false;
  const next = open.find((f) => f.status === 'queued');
  if (!next) return false;
  const operator = await personById(tx, next.operatorId);
  const plan = emptyPlan();
  const clientInfo = personInfo(client, clientId, core.defaultLocale);
  const operatorInfo = personInfo(operator, next.operatorId, core.defaultLocale);
  activate(core, plan, { id: next.id, version: next.version, definition: next.definition, clientInfo, operatorInfo, actor });
  plan.outbox.push(startedNotice(next.id, next.definition, clientInfo, operatorInfo, core.defaultLocale));
  await core.routeToOperators(tx, plan, next.operatorId);
  await write(tx, plan);
  return true;
}

/** Adds the first snapshot, prompt and audit row of a flow that starts now. */
function activate(
  core: FlowCore,
  plan: MutablePlan,
  args: {
    id: number;
    version: number;
    definition: RequestDefinition;
    clientInfo: PersonInfo;
    operatorInfo: PersonInfo;
    actor: Actor;
  },
): FlowStatus {
  const machine = core.machineFor(args.definition);
  const { snapshot, actions } = initial(machine);
  const status = statusOf(snapshot);
  const now = core.clock();
  plan.flows.push({
    id: args.id,
    version: args.version,
    snapshot: persist(machine, snapshot),
    status,
    remindAt: args.definition.remindAfterMs === null ? null : new Date(now.getTime() + args.definition.remindAfterMs),
    expireAt: args.definition.expireAfterMs === null ? null : new Date(now.getTime() + args.definition.expireAfterMs),
    finished: false,
  });
  plan.events.push({
    flowId: args.id,
    fromState: args.version === 0 ? 'queued' : null,
    toState: stateName(snapshot.value),
    event: 'START',
    payload: null,
    actorId: args.actor.id,
    actorKind: args.actor.kind,
  });
  const view = viewOf(args.definition, snapshot);
  for (const message of render({
    flowId: args.id,
    version: args.version + 1,
    definition: args.definition,
    client: args.clientInfo,
    operator: args.operatorInfo,
    event: null,
    actor: args.actor,
    effects: actions,
    view,
    before: null,
    invalid: null,
    defaultLocale: core.defaultLocale,
  })) {
    plan.outbox.push({ ...message, flowId: args.id });
  }
  return status;
}

/** Cancels a flow still in the queue: it never started, so nothing is sent. */
export async function dropQueued(tx: Tx, flow: FlowRow, actor: Actor): Promise<Outcome<FlowSummary & { status: FlowStatus }>> {
  const plan = emptyPlan();
  plan.flows.push({
    id: flow.id,
    version: flow.version,
    snapshot: null,
    status: 'cancelled',
    remindAt: null,
    expireAt: null,
    finished: true,
  });
  plan.events.push({
    flowId: flow.id,
    fromState: 'queued',
    toState: 'cancelled',
    event: 'CANCEL',
    payload: null,
    actorId: actor.id,
    actorKind: actor.kind,
  });
  await write(tx, plan);
  return { ok: true, value: { ...summaryOf(flow), status: 'cancelled', version: flow.version + 1 } };
}
