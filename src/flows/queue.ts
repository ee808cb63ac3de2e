/**
 * One active request per client, the others queued in order: sending a request (`start`), starting the
 * oldest queued one when the active one finishes, and dropping a queued one.
 */
import { storedDefinition, type RequestDefinition } from '../../machines/definition.js';
import { initial, persist } from '../../machines/persist.js';
import type { RequestSnapshot } from '../../machines/request.machine.js';
import { statusOf, viewOf } from '../../machines/view.js';
import type { Tx } from '../db/client.js';
import type { CardFlow } from '../ui/client-card.js';
import { cardEdits, cardFlows } from './cards.js';
import { redrawsAfter } from './changes.js';
import { openFlowsOf, type FlowCore, type UpdateRef } from './core.js';
import { queuedNotice, startedNotice } from './notices.js';
import { refuseForeignClient } from './ownership.js';
import { emptyPlan, logRow, refuse, stateName, summaryOf, type MutablePlan } from './plans.js';
import { render } from './render.js';
import { isActive, type FlowStatus } from './statuses.js';
import { lockClient, lockForStart, personById, personInfo, write, type FlowRow } from './store.js';
import type { Actor, FlowSummary, InboundMessage, Outcome, PersonInfo } from './types.js';

export interface StartInput extends UpdateRef {
  readonly operatorId: number;
  readonly clientId: number;
  readonly requestId: string;
  readonly within?: (tx: Tx, flowId: number) => Promise<void>;
  /** The client card the request was sent from (a staff chat's message): redrawn and kept current from now on. */
  readonly card?: { readonly chatId: number; readonly messageId: number };
  /** The press that sent it, logged with the start (a refused start leaves the logging to the caller). */
  readonly message?: InboundMessage;
}

export interface Started {
  readonly flow: FlowSummary;
  readonly queued: boolean;
  readonly position: number;
  /** The client, as the start read them. */
  readonly client: PersonInfo;
}

/**
 * Sends a request: under the client's row lock (with the claim of a client nobody owns), the flow is
 * inserted started or queued, with its messages, its audit row, the log of the press and the redrawn
 * cards of the client, in one write. BEGIN, the lock and the read pipelined, the write, COMMIT.
 */
export function start(core: FlowCore, input: StartInput): Promise<Outcome<Started>> {
  return core.transact(async (tx) => {
    const definition = core.catalogue().byId.get(input.requestId);
    const { fresh, locked, state, operator, nextId } = await lockForStart(tx, {
      clientId: input.clientId,
      operatorId: input.operatorId,
      updateId: input.updateId ?? null,
      claim: definition !== undefined,
      cardPressed: input.card !== undefined,
    });
    if (!fresh) return refuse({ code: 'duplicate_update' });
    if (!locked || !state) return refuse({ code: 'client_not_found' });
    if (!locked.startedAt) return refuse({ code: 'client_not_started' });
    if (locked.blockedAt) return refuse({ code: 'client_blocked' });
    if (!definition) return refuse({ code: 'unknown_request_type', requestId: input.requestId });
    // A client nobody owned was claimed by the lock; someone else's client is refused unless the rules allow it.
    const notOwner = await refuseForeignClient(core.ownership, tx, input.operatorId, locked);
    if (notOwner) return refuse(notOwner);
    const open = state.open;
    const operatorInfo = personInfo(operator, input.operatorId, core.defaultLocale);
    const clientInfo = personInfo(state.client, input.clientId, core.defaultLocale);
    // Queued requests start in order: a new one waits behind any queued before it.
    const busy = open.length > 0;
    const stranded = busy && !open.some((f) => isActive(f.status));
    const id = nextId;
    const actor: Actor = { kind: 'operator', id: input.operatorId };
    const plan = emptyPlan();
    const stored = storedDefinition(definition);
    let status: FlowStatus = 'queued';
    let position = 0;
    let snapshot: RequestSnapshot | null = null;
    if (busy) {
      position = open.filter((f) => f.status === 'queued').length + 1;
      plan.newFlows.push({
        id,
        clientId: input.clientId,
        operatorId: input.operatorId,
        definition: stored,
        snapshot: null,
        status,
        version: 0,
        remindAt: null,
        expireAt: null,
      });
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
      const first = activate(core, plan, { id, version: 0, definition, clientInfo, operatorInfo, actor });
      ({ snapshot } = first);
      status = first.row.status;
      plan.newFlows.push({ id, clientId: input.clientId, operatorId: input.operatorId, definition: stored, ...first.row, version: 1 });
      plan.outbox.push(startedNotice(id, definition, clientInfo, operatorInfo, core.defaultLocale));
    }
    if (input.message) plan.messages.push(logRow(input.message, input.updateId ?? null, null));
    // The client's open cards (and the one pressed, recorded as open now) show the new request.
    const version = busy ? 0 : 1;
    const added: CardFlow = {
      id,
      version,
      status,
      title: definition.title,
      view: snapshot ? viewOf(definition, snapshot) : null,
    };
    const cards = input.card
      ? [...state.cards, { ...input.card, languageCode: operator?.languageCode ?? null, locale: operator?.locale ?? null }]
      : state.cards;
    plan.outbox.push(...cardEdits(core.cardDeps, { ...state, cards }, [...cardFlows(core.cardDeps, open), added]));
    if (input.card) plan.cardsShown.push({ ...input.card, clientId: input.clientId });
    // Nothing after this write (no `within`, no stranded queue to move on): COMMIT goes with it.
    await write(tx, plan, { last: !input.within && !stranded && !redrawsAfter(tx, null) });
    await input.within?.(tx, id);
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
      version,
      createdAt: now,
      updatedAt: now,
    };
    return { ok: true, value: { flow, queued: busy, position, client: clientInfo } };
  });
}

/**
 * Within a finishing transaction: lock the client and start their oldest queued flow, if any.
 * Written after the finishing flow's own write: the one-active-flow index is checked row by row. The lock and
 * the read of the open flows go together in one round trip (the read runs once the lock is held, and sees
 * every commit before it). `last`: the caller sends nothing after it, so its write may carry the COMMIT.
 */
export async function startNextQueued(
  core: FlowCore,
  tx: Tx,
  clientId: number,
  actor: Actor,
  finishing: number | null,
  last = false,
): Promise<boolean> {
  const [{ client }, open] = await Promise.all([lockClient(tx, clientId, null), openFlowsOf(tx, clientId)]);
  if (!client || open.some((f) => isActive(f.status) && f.id !== finishing)) return false;
  const next = open.find((f) => f.status === 'queued');
  if (!next) return false;
  const operator = await personById(tx, next.operatorId);
  const plan = emptyPlan();
  const clientInfo = personInfo(client, clientId, core.defaultLocale);
  const operatorInfo = personInfo(operator, next.operatorId, core.defaultLocale);
  const first = activate(core, plan, { id: next.id, version: next.version, definition: next.definition, clientInfo, operatorInfo, actor });
  plan.flows.push({ id: next.id, version: next.version, ...first.row, finished: false });
  plan.outbox.push(startedNotice(next.id, next.definition, clientInfo, operatorInfo, core.defaultLocale));
  await core.routeToOperators(tx, plan, next.operatorId);
  await write(tx, plan, { last: last && !redrawsAfter(tx, clientId) });
  return true;
}

/**
 * The first state of a flow that starts now: adds its prompt and audit row to the plan and returns what
 * its row is to hold (the caller inserts or updates it).
 */
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
): { snapshot: RequestSnapshot; row: { snapshot: unknown; status: FlowStatus; remindAt: Date | null; expireAt: Date | null } } {
  const machine = core.machineFor(args.definition);
  const { snapshot, actions } = initial(machine);
  const status = statusOf(snapshot);
  const now = core.clock();
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
  return {
    snapshot,
    row: {
      snapshot: persist(machine, snapshot),
      status,
      remindAt: args.definition.remindAfterMs === null ? null : new Date(now.getTime() + args.definition.remindAfterMs),
      expireAt: args.definition.expireAfterMs === null ? null : new Date(now.getTime() + args.definition.expireAfterMs),
    },
  };
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
