/**
 * The command core: a command locks its flow, rehydrates the machine, applies one event and writes
 * everything it implies (snapshot, answers, audit event, outbox, message log) in one transaction.
 */
import type { StepType } from '../../machines/definition.js';
import { persist, restore, step, parkUnrestorable, type RestoreResult } from '../../machines/persist.js';
import type { RequestEffect, RequestEvent, RequestSnapshot } from '../../machines/request.machine.js';
import { validateAnswer, type Answer } from '../../machines/steps.js';
import { statusOf, viewOf, type RequestView } from '../../machines/view.js';
import type { Tx } from '../db/client.js';
import { cardEditsAfter } from './cards.js';
import { noteDrawn, redrawsAfter } from './changes.js';
import type { ButtonRef, FlowCore, UpdateRef } from './core.js';
import {
  answerChangesFor,
  answerRow,
  deadlines,
  emptyPlan,
  eventPayload,
  logRow,
  refusalFor,
  refuse,
  stateName,
  summaryOf,
} from './plans.js';
import { dropQueued, startNextQueued } from './queue.js';
import { refuseForeignFlow } from './ownership.js';
import { render } from './render.js';
import { isActive, isFinal, type FlowStatus } from './statuses.js';
import { personById, personInfo, write, type FlowRow, type Locked, type NewLogMessage } from './store.js';
import type { Actor, AnswerResult, FlowSummary, InboundMessage, Outcome, PassOn, Refusal } from './types.js';

/** What `apply` did: the flow as it is now, and why an answer was refused (null when taken). */
type Applied = Outcome<{ flow: FlowSummary & { status: FlowStatus }; invalid: AnswerResult['invalid']; status: FlowStatus }>;

/** Steps that never take text: text sent there is a question for the operator. */
const FILE_STEPS: ReadonlySet<StepType> = new Set<StepType>(['photo', 'document', 'photo_or_document']);

/**
 * Whether a client's message goes to their operator instead of being taken as an answer: when they pressed
 * "Message the operator" (`talking`); when it is text at a photo or document step (a question such as "can I
 * send it tomorrow?": no such step takes text, so it is no failed attempt, and the step still waits); when
 * their request waits for the operator (in review, or parked); or when they have no active request.
 */
export function passOnRule(talking: boolean, view: RequestView | null, answer: Answer): PassOn | null {
  const question = view?.kind === 'prompt' && answer.kind === 'text' && FILE_STEPS.has(view.step.type);
  const waiting = !view || view.kind === 'review' || view.kind === 'needs_operator';
  if (!talking && !question && !waiting) return null;
  return { passOn: true, tell: talking || question ? 'always' : 'quietly', stepWaits: view?.kind === 'prompt' };
}

/** Rolls a client command back: its message goes to the operator, and nothing of it is recorded. */
class Diverted extends Error {
  constructor(readonly passOn: PassOn) {
    super('passed on to the operator');
  }
}

/** A command of the client on their active flow; a refused one still logs the client's message. */
export function clientCommand(
  core: FlowCore,
  input: { clientId: number } & UpdateRef & ButtonRef,
  eventFor: (flow: FlowRow) => RequestEvent | null,
  message?: InboundMessage,
): Promise<Outcome<AnswerResult>> {
  return clientTransaction(core, input, eventFor, message, undefined);
}

/**
 * `clientCommand` for a client's message that may not be an answer: when `passOnRule` gives it to the
 * operator, nothing changes (the transaction rolls back, the update stays unrecorded) and it resolves to that
 * decision, taken under the command's own lock, with no read before it.
 */
export async function clientCommandUnlessPassedOn(
  core: FlowCore,
  input: { clientId: number } & UpdateRef & ButtonRef,
  eventFor: (flow: FlowRow) => RequestEvent | null,
  message: InboundMessage | undefined,
  answer: Answer,
): Promise<Outcome<AnswerResult> | PassOn> {
  try {
    return await clientTransaction(core, input, eventFor, message, answer);
  } catch (error) {
    if (error instanceof Diverted) return error.passOn;
    throw error;
  }
}

function clientTransaction(
  core: FlowCore,
  input: { clientId: number } & UpdateRef & ButtonRef,
  eventFor: (flow: FlowRow) => RequestEvent | null,
  message: InboundMessage | undefined,
  divert: Answer | undefined,
): Promise<Outcome<AnswerResult>> {
  return core.transact(async (tx) => {
    const locked = await core.lockActiveFlow(tx, input.clientId, input.updateId ?? null);
    if (!locked.fresh) return refuse({ code: 'duplicate_update' });
    const flow = locked.flow;
    let restored: RestoreResult | undefined;
    if (divert) {
      let view: RequestView | null = null;
      if (flow) {
        restored = restore(core.machineFor(flow.definition), flow.snapshot);
        view = viewOf(flow.definition, restored.ok ? restored.snapshot : core.snapshotOf(flow.definition, flow.snapshot));
      }
      const passOn = passOnRule(locked.talking, view, divert);
      if (passOn) throw new Diverted(passOn);
    }
    const log = message ? [logRow(message, input.updateId ?? null, flow?.id ?? null)] : [];
    const refuseLogged = async (refusal: Refusal): Promise<Outcome<AnswerResult>> => {
      if (log.length > 0) await write(tx, { ...emptyPlan(), messages: log }, { last: !redrawsAfter(tx, null) });
      return refuse(refusal);
    };
    if (!flow) return refuseLogged({ code: 'no_active_request' });
    if (input.flowId !== undefined && input.flowId !== flow.id) return refuseLogged({ code: 'stale', status: flow.status });
    if (input.version !== undefined && input.version !== flow.version) return refuseLogged({ code: 'stale', status: flow.status });
    const event = eventFor(flow);
    if (!event) return refuseLogged({ code: 'cancel_not_allowed' });
    const applied = await apply(core, tx, locked, flow, event, { kind: 'client', id: input.clientId }, log, { restored, last: true });
    if (!applied.ok) return refuseLogged(applied.refusal);
    return { ok: true, value: { flow: applied.value.flow, invalid: applied.value.invalid, status: applied.value.status } };
  });
}

/** A command on one flow, by id: an operator's, the system's, or the client's own. */
export function command(
  core: FlowCore,
  actor: Actor,
  input: { flowId: number; version?: number } & UpdateRef,
  eventFor: (flow: FlowRow) => RequestEvent | null,
): Promise<Outcome<FlowSummary & { status: FlowStatus }>> {
  return core.transact(async (tx) => {
    const locked = await core.lockFlow(tx, input.flowId, input.updateId ?? null);
    if (!locked.fresh) return refuse({ code: 'duplicate_update' });
    const flow = locked.flow;
    if (!flow) return refuse({ code: 'flow_not_found' });
    if (actor.kind === 'client' && flow.clientId !== actor.id) return refuse({ code: 'not_your_request' });
    const notOwner = await refuseForeignFlow(core.ownership, tx, actor, locked);
    if (notOwner) return refuse(notOwner);
    if (input.version !== undefined && input.version !== flow.version) return refuse({ code: 'stale', status: flow.status });
    const event = eventFor(flow);
    if (!event) return refuse({ code: 'not_allowed', status: flow.status });
    if (flow.status === 'queued') {
      if (event.type !== 'CANCEL') return refuse({ code: 'request_queued' });
      return dropQueued(tx, flow, actor);
    }
    const applied = await apply(core, tx, locked, flow, event, actor, [], { last: true });
    return applied.ok ? { ok: true, value: applied.value.flow } : applied;
  });
}

/** Applies one event to a locked flow and writes everything it implies. */
export async function apply(
  core: FlowCore,
  tx: Tx,
  locked: Locked,
  flow: FlowRow,
  event: RequestEvent,
  actor: Actor,
  log: NewLogMessage[],
  options: {
    /** The flow's snapshot restored already (from `flow.snapshot`, under this lock). */
    restored?: RestoreResult | undefined;
    /** The caller sends nothing after an event applied: the write may carry the COMMIT (`write`'s `last`). */
    last?: boolean;
  } = {},
): Promise<Applied> {
  const machine = core.machineFor(flow.definition);
  const restored = options.restored ?? restore(machine, flow.snapshot);
  const plan = emptyPlan();
  plan.messages.push(...log);
  const clientInfo = personInfo(locked.client, flow.clientId, core.defaultLocale);
  const operatorInfo = personInfo(locked.operator, flow.operatorId, core.defaultLocale);
  let before: RequestSnapshot;
  if (restored.ok) {
    before = restored.snapshot;
  } else {
    // A snapshot that no longer fits its machine: park it and alert the operator instead of failing.
    before = parkUnrestorable(machine, flow.definition, flow.snapshot);
    const parked = viewOf(flow.definition, before);
    plan.events.push({
      flowId: flow.id,
      fromState: null,
      toState: 'needs_operator',
      event: 'RESTORE_FAILED',
      payload: restored.error,
      actorId: null,
      actorKind: 'system',
    });
    const alert = render({
      flowId: flow.id,
      version: flow.version + 1,
      definition: flow.definition,
      client: clientInfo,
      operator: operatorInfo,
      event: null,
      actor: { kind: 'system', id: null },
      effects: [{ type: 'notifyOperator' }],
      view: parked,
      before: null,
      invalid: null,
      defaultLocale: core.defaultLocale,
    });
    plan.outbox.push(...alert.map((m) => ({ ...m, flowId: flow.id })));
  }
  const result = step(machine, before, event);
  if (!result.handled) {
    if (!restored.ok) {
      // Keep the parking even though this event is refused (the caller logs its own message).
      plan.flows.push({
        id: flow.id,
        version: flow.version,
        snapshot: persist(machine, before),
        status: 'needs_operator',
        remindAt: null,
        expireAt: null,
        finished: false,
      });
      await write(tx, { ...plan, messages: [] });
    }
    return refuse(refusalFor(statusOf(before), flow.status));
  }
  const next = result.next;
  const status = statusOf(next);
  const view = viewOf(flow.definition, next);
  // One write (parking included) moves the version by one; buttons made now carry the new one.
  const version = flow.version + 1;
  const now = core.clock();

  let invalid: AnswerResult['invalid'] = null;
  if (event.type === 'ANSWER') {
    const stepId = before.context.current;
    const stepDef = flow.definition.steps.find((s) => s.id === stepId);
    const checked = stepDef ? validateAnswer(stepDef, event.answer, event.today) : null;
    if (checked?.ok && stepDef) {
      plan.answerChanges.push({ flowId: flow.id, stepId: stepDef.id, from: 'pending', to: 'superseded' });
      plan.answers.push(answerRow(flow.id, stepDef.id, before.context.round, checked.value, log[0]?.telegramMessageId ?? null));
    } else if (checked && !checked.ok) {
      invalid = checked.reason;
    }
  }
  plan.answerChanges.push(...answerChangesFor(flow.id, event, next, flow.definition, status));
  plan.flows.push({
    id: flow.id,
    version: flow.version,
    snapshot: persist(machine, next),
    status,
    ...deadlines(flow, status, before, event, now),
    finished: isFinal(status),
  });
  if (status === 'completed' && core.results) {
    const body = core.results.body({
      flowId: flow.id,
      definition: flow.definition,
      clientId: flow.clientId,
      client: locked.client,
      operatorId: flow.operatorId,
      operator: locked.operator,
      actor,
      at: now,
      answers: next.context.answers,
    });
    plan.results.push({ flowId: flow.id, body });
  }
  plan.events.push({
    flowId: flow.id,
    fromState: stateName(before.value),
    toState: stateName(next.value),
    event: event.type,
    payload: eventPayload(event),
    actorId: actor.id,
    actorKind: actor.kind,
  });
  for (const message of render({
    flowId: flow.id,
    version,
    definition: flow.definition,
    client: clientInfo,
    operator: operatorInfo,
    event,
    actor,
    effects: result.actions,
    view,
    before: viewOf(flow.definition, before),
    invalid,
    defaultLocale: core.defaultLocale,
  })) {
    plan.outbox.push({ ...message, flowId: flow.id });
  }
  await core.routeToOperators(tx, plan, flow.operatorId);
  // The client's open cards are redrawn with this write (a finished flow starts the next queued one: those are
  // drawn at the command's end, from the table).
  const cardEdits =
    locked.cards && !isFinal(status) ? cardEditsAfter(core.cardDeps, locked.cards, { id: flow.id, version, status, view }) : null;
  if (cardEdits) plan.outbox.push(...cardEdits);
  // Nothing after this write (no queued request to start, no cards to look up): COMMIT goes with it.
  const last = options.last === true && !isFinal(status) && !redrawsAfter(tx, flow.clientId, cardEdits !== null);
  await write(tx, plan, { last });
  if (cardEdits) noteDrawn(tx, flow.clientId);
  if (isFinal(status)) await startNextQueued(core, tx, flow.clientId, actor, flow.id, options.last === true);
  return { ok: true, value: { flow: { ...summaryOf(flow), status, version }, invalid, status } };
}

/**
 * Sends what the flow currently shows again, to the client (a prompt or summary) or to the
 * operator (the review card with its files, or the alert). Nothing changes state.
 */
export function resend(core: FlowCore, input: { operatorId: number; flowId: number } & UpdateRef): Promise<Outcome<FlowSummary>> {
  return core.transact(async (tx) => {
    const locked = await core.lockFlow(tx, input.flowId, input.updateId ?? null);
    if (!locked.fresh) return refuse({ code: 'duplicate_update' });
    const flow = locked.flow;
    if (!flow) return refuse({ code: 'flow_not_found' });
    const notOwner = await refuseForeignFlow(core.ownership, tx, { kind: 'operator', id: input.operatorId }, locked);
    if (notOwner) return refuse(notOwner);
    if (!isActive(flow.status)) return refuse(refusalFor(flow.status, flow.status));
    const snapshot = core.snapshotOf(flow.definition, flow.snapshot);
    const view = viewOf(flow.definition, snapshot);
    const effects: RequestEffect[] =
      view.kind === 'prompt'
        ? [{ type: 'prompt', params: { stepId: view.step.id } }]
        : view.kind === 'confirm'
          ? [{ type: 'presentSummary' }]
          : view.kind === 'review'
            ? [{ type: 'requestReview' }]
            : view.kind === 'needs_operator'
              ? [{ type: 'notifyOperator' }]
              : [];
    // A review or an alert goes to the operator who asks for it; a prompt or summary to the client only.
    const forOperator = view.kind === 'review' || view.kind === 'needs_operator';
    const audience = forOperator ? input.operatorId : flow.clientId;
    const clientInfo = personInfo(locked.client, flow.clientId, core.defaultLocale);
    const presser = input.operatorId === flow.operatorId ? locked.operator : await personById(tx, input.operatorId);
    const operatorInfo = personInfo(presser, input.operatorId, core.defaultLocale);
    const actor: Actor = { kind: 'operator', id: input.operatorId };
    const plan = emptyPlan();
    const messages = render({
      flowId: flow.id,
      version: flow.version,
      definition: flow.definition,
      client: clientInfo,
      operator: operatorInfo,
      event: null,
      actor,
      effects,
      view,
      before: null,
      invalid: null,
      defaultLocale: core.defaultLocale,
    });
    plan.outbox.push(...messages.filter((m) => m.chatId === audience).map((m) => ({ ...m, flowId: flow.id })));
    plan.events.push({
      flowId: flow.id,
      fromState: stateName(snapshot.value),
      toState: stateName(snapshot.value),
      event: 'RESEND',
      payload: null,
      actorId: actor.id,
      actorKind: actor.kind,
    });
    await write(tx, plan, { last: true });
    return { ok: true, value: summaryOf(flow) };
  });
}
