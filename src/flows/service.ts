import type { Answer } from '../../machines/steps.js';
import type { RequestView } from '../../machines/view.js';
import { clientBlocked, deliveryFailed } from './alerts.js';
import { clientCommand, clientCommandUnlessPassedOn, command, resend } from './commands.js';
import { FlowCore, type ButtonRef, type FlowServiceDeps, type UpdateRef } from './core.js';
import type { ErasureCounts, RetentionCounts } from './erasure.js';
import { forget } from './forget.js';
import { isoDate, reasonOf } from './plans.js';
import { clientCardState, forgetCard, recordClientCard } from './cards.js';
import * as queries from './queries.js';
import { start, type StartInput, type Started } from './queue.js';
import type { PersonRow } from './store.js';
import type { CardFlow } from '../ui/client-card.js';
import { applyRetention, tick } from './timers.js';
import type { Actor, AnswerRecord, AnswerResult, FlowEventRecord, FlowSummary, InboundMessage, Outcome, PassOn } from './types.js';

export type { ButtonRef, FlowServiceDeps, UpdateRef } from './core.js';

/**
 * The only writer of flow tables. Every command is one transaction: lock, dedupe the update,
 * rehydrate the machine from its snapshot, apply the event, and persist snapshot, answers, audit
 * event and outgoing messages together. Refusals are returned, never thrown.
 *
 * This class is the entry point; each job has its module beside it (see docs/architecture.md,
 * "Flow service layout").
 */
export class FlowService {
  private readonly core: FlowCore;

  constructor(deps: FlowServiceDeps) {
    this.core = new FlowCore(deps);
  }

  // ---- commands ------------------------------------------------------------------------------

  /**
   * Sends a request to a client: it starts at once, or queues behind the client's active one. `within`
   * runs in the same transaction once the flow is written (the request API records its idempotency key
   * there); whatever it throws undoes the start and reaches the caller. `card`: the client card it was
   * sent from, redrawn and kept current; `message`: the press, logged with the start.
   */
  start(input: StartInput): Promise<Outcome<Started>> {
    return start(this.core, input);
  }

  /** The client's answer to the current step (a message or an option button). Logs the message. */
  answer(input: { clientId: number; answer: Answer; message?: InboundMessage } & UpdateRef & ButtonRef): Promise<Outcome<AnswerResult>> {
    return clientCommand(
      this.core,
      input,
      () => ({ type: 'ANSWER', answer: input.answer, today: isoDate(this.core.clock()) }),
      input.message,
    );
  }

  /**
   * A client's message, taken as the answer to the current step unless it is for the operator (`passOnRule`):
   * then nothing changes, and it resolves to how the conversation passes it on. One command, no read before.
   */
  answerUnlessPassedOn(
    input: { clientId: number; answer: Answer; message?: InboundMessage } & UpdateRef,
  ): Promise<Outcome<AnswerResult> | PassOn> {
    return clientCommandUnlessPassedOn(
      this.core,
      input,
      () => ({ type: 'ANSWER', answer: input.answer, today: isoDate(this.core.clock()) }),
      input.message,
      input.answer,
    );
  }

  skip(input: { clientId: number } & UpdateRef & ButtonRef): Promise<Outcome<AnswerResult>> {
    return clientCommand(this.core, input, () => ({ type: 'SKIP' }));
  }

  confirm(input: { clientId: number } & UpdateRef & ButtonRef): Promise<Outcome<AnswerResult>> {
    return clientCommand(this.core, input, () => ({ type: 'CONFIRM' }));
  }

  /** From the summary: answer one step again. `step` is the step's index in the definition. */
  editStep(input: { clientId: number; step: number } & UpdateRef & ButtonRef): Promise<Outcome<AnswerResult>> {
    return clientCommand(this.core, input, (flow) => ({ type: 'EDIT_STEP', stepId: flow.definition.steps[input.step]?.id ?? '' }));
  }

  /** The client cancels their active request, where the catalogue allows it. */
  cancelByClient(input: { clientId: number } & UpdateRef): Promise<Outcome<AnswerResult>> {
    return clientCommand(this.core, input, (flow) => (flow.definition.clientCancel ? { type: 'CANCEL' } : null));
  }

  accept(input: { operatorId: number; flowId: number; version?: number } & UpdateRef): Promise<Outcome<FlowSummary>> {
    return command(this.core, { kind: 'operator', id: input.operatorId }, input, () => ({ type: 'ACCEPT' }));
  }

  /** Sends the client back to the given steps (ids; none or unknown: all) with the reason. */
  askAgain(
    input: {
      operatorId: number;
      flowId: number;
      version?: number;
      reason: string;
      /** A reason picked from a list, in the operator's language (for the operator's own texts). */
      operatorReason?: string;
      stepIds?: readonly string[];
    } & UpdateRef,
  ): Promise<Outcome<FlowSummary>> {
    return command(this.core, { kind: 'operator', id: input.operatorId }, input, () => ({
      type: 'ASK_AGAIN',
      reason: input.reason.trim() || '—',
      ...(input.operatorReason !== undefined ? { operatorReason: input.operatorReason } : {}),
      stepIds: [...(input.stepIds ?? [])],
    }));
  }

  /** `reason`: told to the client (in their language) and kept in the audit event. */
  reset(input: { actor: Actor; flowId: number; version?: number; reason?: string } & UpdateRef): Promise<Outcome<FlowSummary>> {
    return command(this.core, input.actor, input, () => ({ type: 'RESET', ...reasonOf(input.reason) }));
  }

  retry(input: { actor: Actor; flowId: number; version?: number } & UpdateRef): Promise<Outcome<FlowSummary>> {
    return command(this.core, input.actor, input, () => ({ type: 'RETRY_STEP' }));
  }

  /** Cancels a flow; a queued one is simply dropped from the queue. */
  cancel(input: { actor: Actor; flowId: number; version?: number; reason?: string } & UpdateRef): Promise<Outcome<FlowSummary>> {
    return command(this.core, input.actor, input, () => ({ type: 'CANCEL', ...reasonOf(input.reason) }));
  }

  /**
   * Sends what the flow currently shows again, to the client (a prompt or summary) or to the
   * operator (the review card with its files, or the alert). Nothing changes state.
   */
  resend(input: { operatorId: number; flowId: number } & UpdateRef): Promise<Outcome<FlowSummary>> {
    return resend(this.core, input);
  }

  /**
   * The client blocked the bot: their active request cannot go on, so its operator is told (once; the
   * request stays as it is, and the operator may cancel it or wait for the client to come back).
   */
  clientBlocked(clientId: number): Promise<boolean> {
    return clientBlocked(this.core, clientId);
  }

  /**
   * A message of the flow was refused by Telegram for good, even as plain text: the flow's operator hears
   * of it (or, when the message was theirs, the rest of the staff), so that a person steps in.
   */
  deliveryFailed(input: { flowId: number; chatId: number; reason: string }): Promise<boolean> {
    return deliveryFailed(this.core, input);
  }

  /**
   * Erases a client's data in one transaction: their active and queued requests are cancelled first, then
   * what they said and sent is removed and an anonymised record of the erasure is kept (see forget.ts).
   */
  forget(
    input: { clientId: number; by: { kind: 'admin'; id: number } | { kind: 'command_line' } } & UpdateRef,
  ): Promise<Outcome<ErasureCounts & { erasureId: number }>> {
    return forget(this.core, input);
  }

  /**
   * The retention pass (`retentionDays`): the answers and message contents of requests finished more than
   * that many days before `now` are removed, a batch per transaction. Nothing without `retentionDays`.
   */
  applyRetention(now: Date = this.core.clock()): Promise<RetentionCounts> {
    return applyRetention(this.core, now);
  }

  /** Due reminders and expiries become REMIND / EXPIRE; clients with only queued flows get one started. */
  tick(now: Date = this.core.clock()): Promise<{ reminded: number; expired: number; activated: number }> {
    return tick(this.core, now);
  }

  // ---- queries ---------------------------------------------------------------------------------

  /** The client's active flow and what it currently shows, or null. */
  activeFlow(clientId: number): Promise<(FlowSummary & { view: RequestView }) | null> {
    return queries.activeFlow(this.core, clientId);
  }

  /** The client's flows, newest first. */
  flowsOf(clientId: number, limit = 20): Promise<FlowSummary[]> {
    return queries.flowsOf(this.core, clientId, limit);
  }

  flow(flowId: number): Promise<(FlowSummary & { view: RequestView | null }) | null> {
    return queries.flow(this.core, flowId);
  }

  /** Flows waiting for this operator's review (all operators' with `operatorId` null), oldest first. */
  pendingReviews(operatorId: number | null, limit = 50): Promise<FlowSummary[]> {
    return queries.pendingReviews(this.core, operatorId, limit);
  }

  /** Active flows (all clients), most recently changed first. */
  activeFlows(limit = 100): Promise<FlowSummary[]> {
    return queries.activeFlows(this.core, limit);
  }

  /** What the client's card shows now: the client, their owner, their open requests (null: no such person). One statement. */
  clientCard(clientId: number): Promise<{ client: PersonRow; owner: PersonRow | null; open: CardFlow[] } | null> {
    return clientCardState(this.core.db, this.core.cardDeps, clientId);
  }

  /** A client card shown in a staff chat: it is redrawn whenever one of the client's requests changes. */
  cardShown(card: { chatId: number; messageId: number; clientId: number }): Promise<void> {
    return recordClientCard(this.core.db, card);
  }

  /** A message that showed a client card shows something else now. */
  cardClosed(card: { chatId: number; messageId: number }): Promise<void> {
    return forgetCard(this.core.db, card);
  }

  /** Every answer of a flow, oldest first, with its status (pending, accepted, rejected, superseded). */
  answersOf(flowId: number): Promise<AnswerRecord[]> {
    return queries.answersOf(this.core, flowId);
  }

  /** The audit trail of a flow, oldest first. */
  eventsOf(flowId: number): Promise<FlowEventRecord[]> {
    return queries.eventsOf(this.core, flowId);
  }
}
