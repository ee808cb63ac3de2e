/**
 * The pieces a command assembles before its one write: the mutable plan, its rows (answers, log,
 * answer status changes, audit payloads), the reminder and expiry times, refusals and summaries. Pure.
 */
import type { RequestDefinition } from '../../machines/definition.js';
import type { RequestEvent, RequestSnapshot } from '../../machines/request.machine.js';
import type { StepValue } from '../../machines/steps.js';
import { statusOf } from '../../machines/view.js';
import { isWaitingForClient, type FlowStatus } from './statuses.js';
import type { AnswerStatusChange, FlowRow, NewAnswer, NewLogMessage, WritePlan } from './store.js';
import type { FlowSummary, InboundMessage, Refusal } from './types.js';

/** A `WritePlan` a command fills in before writing it. */
export type MutablePlan = { [K in keyof WritePlan]: WritePlan[K] extends readonly (infer U)[] ? U[] : never };

export function emptyPlan(): MutablePlan {
  return { newFlows: [], flows: [], answerChanges: [], answers: [], events: [], outbox: [], messages: [], results: [], cardsShown: [] };
}

export function refuse(refusal: Refusal): { ok: false; refusal: Refusal } {
  return { ok: false, refusal };
}

/** Why an event the machine did not take is refused: by what the flow is now (a queued one by its stored status). */
export function refusalFor(machineStatus: FlowStatus, stored: FlowStatus): Refusal {
  const status = stored === 'queued' ? stored : machineStatus;
  if (status === 'completed') return { code: 'already_accepted' };
  if (status === 'cancelled') return { code: 'request_cancelled' };
  if (status === 'expired') return { code: 'request_expired' };
  if (status === 'queued') return { code: 'request_queued' };
  return { code: 'not_allowed', status };
}

/** The answer rows whose status an event changes. */
export function answerChangesFor(
  flowId: number,
  event: RequestEvent,
  next: RequestSnapshot,
  definition: RequestDefinition,
  status: FlowStatus,
): AnswerStatusChange[] {
  switch (event.type) {
    case 'ACCEPT':
      return [{ flowId, stepId: null, from: 'pending', to: 'accepted' }];
    case 'ASK_AGAIN':
      return next.context.pending.map((stepId) => ({ flowId, stepId, from: 'pending' as const, to: 'rejected' as const }));
    case 'RESET':
      return [{ flowId, stepId: null, from: 'pending', to: 'superseded' }];
    default:
      // Finished without review: the answers stand.
      return status === 'completed' && !definition.review ? [{ flowId, stepId: null, from: 'pending', to: 'accepted' }] : [];
  }
}

export function answerRow(flowId: number, stepId: string, round: number, value: StepValue, messageId: number | null): NewAnswer {
  const file = value.kind === 'file' ? value : null;
  return { flowId, stepId, round, value, fileId: file?.fileId ?? null, fileUniqueId: file?.fileUniqueId ?? null, messageId };
}

export function logRow(message: InboundMessage, updateId: number | null, flowId: number | null): NewLogMessage {
  return { ...message, updateId, flowId };
}

/** "collecting.full_name", "in_review". */
export function stateName(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${k}.${stateName(v)}`)
      .join(',');
  }
  return String(value);
}

/** The audit payload of an event: what matters, without file bytes or personal data beyond the answer kind. */
export function eventPayload(event: RequestEvent): unknown {
  switch (event.type) {
    case 'ANSWER':
      return { kind: event.answer.kind };
    case 'ASK_AGAIN':
      return { reason: event.reason, stepIds: event.stepIds ?? [] };
    case 'EDIT_STEP':
      return { stepId: event.stepId };
    case 'RESET':
    case 'CANCEL':
      return event.reason === undefined ? null : { reason: event.reason };
    default:
      return null;
  }
}

/** A cancel or reset reason is kept up to this length (it is shown as a shorter excerpt). */
const REASON_STORED_MAX = 500;

/** A cancel or reset reason as the event carries it (none when empty). */
export function reasonOf(reason: string | undefined): { reason?: string } {
  const trimmed = reason?.trim().slice(0, REASON_STORED_MAX);
  return trimmed ? { reason: trimmed } : {};
}

/** When to remind and expire: only while the client is the one to act. */
export function deadlines(
  flow: FlowRow,
  status: FlowStatus,
  before: RequestSnapshot,
  event: RequestEvent,
  now: Date,
): { remindAt: Date | null; expireAt: Date | null } {
  if (!isWaitingForClient(status)) return { remindAt: null, expireAt: null };
  const def = flow.definition;
  const wasWaitingClient = isWaitingForClient(statusOf(before));
  const remindAt = event.type === 'REMIND' || def.remindAfterMs === null ? null : new Date(now.getTime() + def.remindAfterMs);
  const expireAt =
    wasWaitingClient && flow.expireAt ? flow.expireAt : def.expireAfterMs === null ? null : new Date(now.getTime() + def.expireAfterMs);
  return { remindAt, expireAt };
}

export function isoDate(date: Date): string {
  return date.toISOString().slice(0, 10);
}

export function summaryOf(flow: FlowRow): FlowSummary {
  return {
    id: flow.id,
    clientId: flow.clientId,
    operatorId: flow.operatorId,
    requestId: flow.requestId,
    definition: flow.definition,
    status: flow.status,
    version: flow.version,
    createdAt: flow.createdAt,
    updatedAt: flow.updatedAt,
  };
}
