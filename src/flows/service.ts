import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import { pickText, readStoredDefinition, storedDefinition, type Locale, type RequestDefinition } from '../../machines/definition.js';
import { persist, restore, step, initial, parkUnrestorable } from '../../machines/persist.js';
import {
  createRequestMachine,
  type RequestEffect,
  type RequestEvent,
  type RequestMachine,
  type RequestSnapshot,
} from '../../machines/request.machine.js';
import { validateAnswer, type Answer, type StepValue } from '../../machines/steps.js';
import { statusOf, viewOf, type RequestView } from '../../machines/view.js';
import type { Catalogue } from '../config/catalogue.js';
import { rowsOf, type Db, type Queryable, type Tx } from '../db/client.js';
import { answers as answersTable, flowEvents, flows } from '../db/schema.js';
import { ACTIVE_STATUSES, isActive, isFinal, type FlowStatus } from './statuses.js';
import { localeOf, t } from '../ui/i18n.js';
import { displayName, html } from '../ui/format.js';
import {
  clientRef,
  ERASED_NAME,
  eraseClient,
  purgeFinished,
  recordErasure,
  sentCardsOf,
  type ErasureCounts,
  type RetentionCounts,
} from './erasure.js';
import { forgetCard, recordClientCard, redrawOpenCards, type CardDeps } from './cards.js';
import { render } from './render.js';
import {
  StaleWriteError,
  insertFlow,
  lockActiveFlow as lockActiveFlowRow,
  lockClient,
  lockFlow as lockFlowRow,
  openFlowsOf as openFlowRowsOf,
  personById,
  personInfo,
  write,
  type AnswerStatusChange,
  type FlowRow,
  type Locked,
  type NewAnswer,
  type NewLogMessage,
  type WritePlan,
} from './store.js';
import type { Actor, AnswerResult, FlowSummary, InboundMessage, OutMessage, Outcome, PersonInfo, Refusal, ResultSink } from './types.js';

export interface FlowServiceDeps {
  readonly db: Db;
  /** The current catalogue (it may be reloaded; flows keep their frozen definitions). */
  readonly catalogue: () => Catalogue;
  readonly defaultLocale: Locale;
  readonly clock?: () => Date;
  /**
   * Who gets a flow's operator messages: the operator who sent the request, or everyone on the staff
   * when that person is no longer an operator. Default: the operator who sent it.
   */
  readonly operatorsFor?: (operatorId: number, q: Queryable) => Promise<readonly number[]>;
  /** Everyone on the staff (told when a message to an operator could not be delivered). */
  readonly staffIds?: (q: Queryable) => Promise<readonly number[]>;
  /** With it, every completed request is also written for the result webhook (`result_deliveries`). */
  readonly results?: ResultSink | undefined;
  /** Days the answers and message contents of finished requests are kept (`applyRetention`); unset: forever. */
  readonly retentionDays?: number | undefined;
}

/** Identifies the Telegram update behind a command: the same update is applied at most once. */
export interface UpdateRef {
  readonly updateId?: number | null;
}

/** A button press carries the flow and version it was made for. */
export interface ButtonRef {
  readonly flowId?: number;
  readonly version?: number;
}

const MAX_TRIES = 5;
/** A cancel or reset reason is kept up to this length (it is shown as a shorter excerpt). */
const REASON_STORED_MAX = 500;
/** Requests purged per transaction by the retention pass. */
const RETENTION_BATCH = 200;
const RETRYABLE_PG = new Set(['40001', '40P01', '23505']);

/**
 * The only writer of flow tables. Every command is one transaction: lock, dedupe the update,
 * rehydrate the machine from its snapshot, apply the event, and persist snapshot, answers, audit
 * event and outgoing messages together. Refusals are returned, never thrown.
 */
export class FlowService {
  private readonly db: Db;
  private readonly catalogue: () => Catalogue;
  private readonly defaultLocale: Locale;
  private readonly clock: () => Date;
  private readonly operatorsFor: (operatorId: number, q: Queryable) => Promise<readonly number[]>;
  private readonly staffIds: (q: Queryable) => Promise<readonly number[]>;
  private readonly results: ResultSink | undefined;
  private readonly retentionDays: number | undefined;
  private readonly machines = new Map<string, RequestMachine>();
  private readonly cardDeps: CardDeps;

  constructor(deps: FlowServiceDeps) {
    this.db = deps.db;
    this.catalogue = deps.catalogue;
    this.defaultLocale = deps.defaultLocale;
    this.clock = deps.clock ?? (() => new Date());
    this.operatorsFor = deps.operatorsFor ?? (async (id) => [id]);
    this.staffIds = deps.staffIds ?? (async () => []);
    this.results = deps.results;
    this.retentionDays = deps.retentionDays;
    this.cardDeps = { catalogue: this.catalogue, defaultLocale: this.defaultLocale, viewOf: (d, s) => this.viewOfRow(d, s) };
  }

  // ---- commands ------------------------------------------------------------------------------

  /**
   * Sends a request to a client: it starts at once, or queues behind the client's active one. `within`
   * runs in the same transaction once the flow is inserted (the request API records its idempotency key
   * there); whatever it throws undoes the start and reaches the caller.
   */
  start(
    input: { operatorId: number; clientId: number; requestId: string; within?: (tx: Tx, flowId: number) => Promise<void> } & UpdateRef,
  ): Promise<Outcome<{ flow: FlowSummary; queued: boolean; position: number }>> {
    return this.transact(async (tx) => {
      const { fresh, client } = await lockClient(tx, input.clientId, input.updateId ?? null);
      if (!fresh) return refuse({ code: 'duplicate_update' });
      if (!client) return refuse({ code: 'client_not_found' });
      if (!client.startedAt) return refuse({ code: 'client_not_started' });
      if (client.blockedAt) return refuse({ code: 'client_blocked' });
      const definition = this.catalogue().byId.get(input.requestId);
      if (!definition) return refuse({ code: 'unknown_request_type', requestId: input.requestId });
      const open = await openFlowsOf(tx, input.clientId);
      const operator = await personById(tx, input.operatorId);
      const operatorInfo = personInfo(operator, input.operatorId, this.defaultLocale);
      const clientInfo = personInfo(client, client.id, this.defaultLocale);
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
        plan.outbox.push({
          chatId: input.operatorId,
          flowId: id,
          method: 'sendMessage',
          payload: {
            text: t(operatorInfo.locale, 'requestQueued', {
              client: html(displayName(clientInfo)),
              title: html(pickText(definition.title, operatorInfo.locale, this.defaultLocale)),
              position,
            }),
            parse_mode: 'HTML',
          },
        });
      } else {
        status = this.activate(plan, { id, version: 0, definition, clientInfo, operatorInfo, actor });
        plan.outbox.push(startedNotice(id, definition, clientInfo, operatorInfo, this.defaultLocale));
      }
      await write(tx, plan);
      // A queue with nothing active (it should not happen; the timer pass also repairs it) moves on now.
      if (stranded) await this.startNextQueued(tx, input.clientId, actor, null);
      const now = this.clock();
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

  /** The client's answer to the current step (a message or an option button). Logs the message. */
  answer(input: { clientId: number; answer: Answer; message?: InboundMessage } & UpdateRef & ButtonRef): Promise<Outcome<AnswerResult>> {
    return this.clientCommand(input, () => ({ type: 'ANSWER', answer: input.answer, today: isoDate(this.clock()) }), input.message);
  }

  skip(input: { clientId: number } & UpdateRef & ButtonRef): Promise<Outcome<AnswerResult>> {
    return this.clientCommand(input, () => ({ type: 'SKIP' }));
  }

  confirm(input: { clientId: number } & UpdateRef & ButtonRef): Promise<Outcome<AnswerResult>> {
    return this.clientCommand(input, () => ({ type: 'CONFIRM' }));
  }

  /** From the summary: answer one step again. `step` is the step's index in the definition. */
  editStep(input: { clientId: number; step: number } & UpdateRef & ButtonRef): Promise<Outcome<AnswerResult>> {
    return this.clientCommand(input, (flow) => ({ type: 'EDIT_STEP', stepId: flow.definition.steps[input.step]?.id ?? '' }));
  }

  /** The client cancels their active request, where the catalogue allows it. */
  cancelByClient(input: { clientId: number } & UpdateRef): Promise<Outcome<AnswerResult>> {
    return this.clientCommand(input, (flow) => (flow.definition.clientCancel ? { type: 'CANCEL' } : null));
  }

  accept(input: { operatorId: number; flowId: number; version?: number } & UpdateRef): Promise<Outcome<FlowSummary>> {
    return this.operatorCommand(input, () => ({ type: 'ACCEPT' }));
  }

  /** Sends the client back to the given steps (ids; none or unknown: all) with the reason. */
  askAgain(
    input: { operatorId: number; flowId: number; version?: number; reason: string; stepIds?: readonly string[] } & UpdateRef,
  ): Promise<Outcome<FlowSummary>> {
    return this.operatorCommand(input, () => ({
      type: 'ASK_AGAIN',
      reason: input.reason.trim() || '—',
      stepIds: [...(input.stepIds ?? [])],
    }));
  }

  /** `reason`: told to the client (in their language) and kept in the audit event. */
  reset(input: { actor: Actor; flowId: number; version?: number; reason?: string } & UpdateRef): Promise<Outcome<FlowSummary>> {
    return this.command(input.actor, input, () => ({ type: 'RESET', ...reasonOf(input.reason) }));
  }

  retry(input: { actor: Actor; flowId: number; version?: number } & UpdateRef): Promise<Outcome<FlowSummary>> {
    return this.command(input.actor, input, () => ({ type: 'RETRY_STEP' }));
  }

  /** Cancels a flow; a queued one is simply dropped from the queue. */
  cancel(input: { actor: Actor; flowId: number; version?: number; reason?: string } & UpdateRef): Promise<Outcome<FlowSummary>> {
    return this.command(input.actor, input, () => ({ type: 'CANCEL', ...reasonOf(input.reason) }));
  }

  /**
   * Sends what the flow currently shows again, to the client (a prompt or summary) or to the
   * operator (the review card with its files, or the alert). Nothing changes state.
   */
  resend(input: { operatorId: number; flowId: number } & UpdateRef): Promise<Outcome<FlowSummary>> {
    return this.transact(async (tx) => {
      const locked = await lockFlow(tx, input.flowId, input.updateId ?? null);
      if (!locked.fresh) return refuse({ code: 'duplicate_update' });
      const flow = locked.flow;
      if (!flow) return refuse({ code: 'flow_not_found' });
      if (!isActive(flow.status)) return refuse(refusalFor(flow.status, flow.status));
      const machine = this.machineFor(flow.definition);
      const restored = restore(machine, flow.snapshot);
      const snapshot = restored.ok ? restored.snapshot : parkUnrestorable(machine, flow.definition, flow.snapshot);
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
      const clientInfo = personInfo(locked.client, flow.clientId, this.defaultLocale);
      const presser = input.operatorId === flow.operatorId ? locked.operator : await personById(tx, input.operatorId);
      const operatorInfo = personInfo(presser, input.operatorId, this.defaultLocale);
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
        defaultLocale: this.defaultLocale,
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
      await write(tx, plan);
      return { ok: true, value: summaryOf(flow) };
    });
  }

  /**
   * The client blocked the bot: their active request cannot go on, so its operator is told (once; the
   * request stays as it is, and the operator may cancel it or wait for the client to come back).
   */
  clientBlocked(clientId: number): Promise<boolean> {
    return this.transact(async (tx) => {
      const locked = await lockActiveFlow(tx, clientId, null);
      const flow = locked.flow;
      if (!flow) return false;
      const client = personInfo(locked.client, clientId, this.defaultLocale);
      const operator = personInfo(locked.operator, flow.operatorId, this.defaultLocale);
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
      const text = t(operator.locale, 'clientBlockedNotice', {
        client: html(displayName(client)),
        title: html(pickText(flow.definition.title, operator.locale, this.defaultLocale)),
      });
      plan.outbox.push({ chatId: operator.id, flowId: flow.id, method: 'sendMessage', payload: { text, parse_mode: 'HTML' } });
      await this.routeToOperators(tx, plan, flow.operatorId);
      await write(tx, plan);
      return true;
    });
  }

  /**
   * A message of the flow was refused by Telegram for good, even as plain text: the flow's operator hears
   * of it (or, when the message was theirs, the rest of the staff), so that a person steps in.
   */
  deliveryFailed(input: { flowId: number; chatId: number; reason: string }): Promise<boolean> {
    return this.transact(async (tx) => {
      const locked = await lockFlow(tx, input.flowId, null);
      const flow = locked.flow;
      if (!flow) return false;
      const client = personInfo(locked.client, flow.clientId, this.defaultLocale);
      const toOperator = input.chatId !== flow.clientId;
      const recipients = toOperator
        ? (await this.staffIds(tx)).filter((id) => id !== input.chatId)
        : await this.operatorsFor(flow.operatorId, tx);
      const addressee = toOperator ? personInfo(await personById(tx, input.chatId), input.chatId, this.defaultLocale) : client;
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
            ? personInfo(locked.operator, chatId, this.defaultLocale).locale
            : personInfo(await personById(tx, chatId), chatId, this.defaultLocale).locale;
        plan.outbox.push({
          chatId,
          flowId: flow.id,
          method: 'sendMessage',
          payload: {
            text: t(locale, 'deliveryFailed', { client: html(displayName(addressee)), reason: html(reason) }),
            parse_mode: 'HTML',
          },
        });
      }
      await write(tx, plan);
      return recipients.length > 0;
    });
  }

  /**
   * Erases a client's data in one transaction: their active and queued requests are cancelled first, then
   * what they said and sent is removed (`eraseClient` in erasure.ts lists it all) and an anonymised record
   * of the erasure is kept. The cards of their requests in staff chats are rewritten, and the operators of
   * cancelled requests told, without the client's name.
   */
  async forget(
    input: { clientId: number; by: { kind: 'admin'; id: number } | { kind: 'command_line' } } & UpdateRef,
  ): Promise<Outcome<ErasureCounts & { erasureId: number }>> {
    const ref = clientRef(input.clientId); // slow on purpose: made before any lock is taken
    const staff = await this.staffIds(this.db);
    return this.transact(async (tx) => {
      const { fresh, client } = await lockClient(tx, input.clientId, input.updateId ?? null);
      if (!fresh) return refuse({ code: 'duplicate_update' });
      if (!client) return refuse({ code: 'client_not_found' });
      const actor: Actor = input.by.kind === 'admin' ? { kind: 'operator', id: input.by.id } : { kind: 'system', id: null };
      const open = await openFlowsOf(tx, input.clientId);
      // The queued ones first: cancelling the active one would start the next.
      for (const flow of [...open.filter((f) => f.status === 'queued'), ...open.filter((f) => f.status !== 'queued')]) {
        if (flow.status === 'queued') {
          await this.dropQueued(tx, flow, actor);
          continue;
        }
        const locked = await lockFlow(tx, flow.id, null);
        if (locked.flow) await this.apply(tx, locked, locked.flow, { type: 'CANCEL' }, actor, []);
      }
      const notices: { chatId: number; flowId: number; method: string; payload: unknown; cardKey: string | null }[] = [];
      for (const card of await sentCardsOf(tx, input.clientId)) {
        const text = t(localeOf(card.languageCode, this.defaultLocale), 'erasedCard', { id: card.flowId });
        notices.push({ chatId: card.chatId, flowId: card.flowId, method: 'editMessageText', payload: { text }, cardKey: card.cardKey });
      }
      for (const flow of open) {
        // The flow's operator, or the whole staff once they have left it (as `operatorsFor`, but from the
        // staff read before the transaction: PGlite's one connection is held by it).
        const recipients = staff.length === 0 || staff.includes(flow.operatorId) ? [flow.operatorId] : staff;
        for (const chatId of recipients) {
          const locale = personInfo(await personById(tx, chatId), chatId, this.defaultLocale).locale;
          const text = t(locale, 'erasedCancelled', { id: flow.id, title: pickText(flow.definition.title, locale, this.defaultLocale) });
          notices.push({ chatId, flowId: flow.id, method: 'sendMessage', payload: { text }, cardKey: null });
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

  /**
   * The retention pass (`retentionDays`): the answers and message contents of requests finished more than
   * that many days before `now` are removed, a batch per transaction. Nothing without `retentionDays`.
   */
  async applyRetention(now: Date = this.clock()): Promise<RetentionCounts> {
    const total = { requests: 0, answers: 0, messages: 0 };
    if (!this.retentionDays) return total;
    const cutoff = new Date(now.getTime() - this.retentionDays * 86_400_000);
    for (let more = true; more;) {
      const batch = await this.transact((tx) => purgeFinished(tx, cutoff, RETENTION_BATCH));
      total.requests += batch.requests;
      total.answers += batch.answers;
      total.messages += batch.messages;
      more = batch.requests === RETENTION_BATCH;
    }
    return total;
  }

  /** Due reminders and expiries become REMIND / EXPIRE; clients with only queued flows get one started. */
  async tick(now: Date = this.clock()): Promise<{ reminded: number; expired: number; activated: number }> {
    const due = rowsOf<{ id: number | string; expire: boolean }>(
      await this.db.execute(sql`
        select id, (expire_at is not null and expire_at <= ${now.toISOString()}::timestamptz) as expire from flows
        where status in (${sql.raw(ACTIVE_STATUSES.map((s) => `'${s}'`).join(', '))})
          and ((remind_at is not null and remind_at <= ${now.toISOString()}::timestamptz)
            or (expire_at is not null and expire_at <= ${now.toISOString()}::timestamptz))
        order by id limit 500`),
    );
    let reminded = 0;
    let expired = 0;
    for (const row of due) {
      const result = await this.command({ kind: 'system', id: null }, { flowId: Number(row.id) }, (flow) => {
        if (flow.expireAt && flow.expireAt <= now) return { type: 'EXPIRE' };
        if (flow.remindAt && flow.remindAt <= now) return { type: 'REMIND' };
        return null;
      });
      if (result.ok && result.value.status === 'expired') expired++;
      else if (result.ok) reminded++;
    }
    const stranded = rowsOf<{ client_id: number | string }>(
      await this.db.execute(sql`
        select distinct q.client_id from flows q where q.status = 'queued' and not exists (
          select 1 from flows a where a.client_id = q.client_id and a.status in (${sql.raw(ACTIVE_STATUSES.map((s) => `'${s}'`).join(', '))}))`),
    );
    // Done inbox rows only guard against re-delivery, which Telegram stops after a day.
    await this.db.execute(
      sql`delete from inbox where status = 'done' and done_at < ${new Date(now.getTime() - 7 * 86_400_000).toISOString()}::timestamptz`,
    );
    let activated = 0;
    for (const row of stranded) {
      const started = await this.transact((tx) => this.startNextQueued(tx, Number(row.client_id), { kind: 'system', id: null }, null));
      if (started) activated++;
    }
    return { reminded, expired, activated };
  }

  // ---- queries ---------------------------------------------------------------------------------

  /** The client's active flow and what it currently shows, or null. */
  async activeFlow(clientId: number): Promise<(FlowSummary & { view: RequestView }) | null> {
    const [row] = await this.db
      .select()
      .from(flows)
      .where(and(eq(flows.clientId, clientId), inArray(flows.status, [...ACTIVE_STATUSES])));
    if (!row) return null;
    const summary = toSummary(row);
    return { ...summary, view: this.viewOfRow(summary.definition, row.snapshot) };
  }

  /** The client's flows, newest first. */
  async flowsOf(clientId: number, limit = 20): Promise<FlowSummary[]> {
    const rows = await this.db.select().from(flows).where(eq(flows.clientId, clientId)).orderBy(desc(flows.id)).limit(limit);
    return rows.map(toSummary);
  }

  async flow(flowId: number): Promise<(FlowSummary & { view: RequestView | null }) | null> {
    const [row] = await this.db.select().from(flows).where(eq(flows.id, flowId));
    if (!row) return null;
    const summary = toSummary(row);
    return { ...summary, view: row.snapshot === null ? null : this.viewOfRow(summary.definition, row.snapshot) };
  }

  /** Flows waiting for this operator's review (all operators' with `operatorId` null), oldest first. */
  async pendingReviews(operatorId: number | null, limit = 50): Promise<FlowSummary[]> {
    const rows = await this.db
      .select()
      .from(flows)
      .where(operatorId === null ? eq(flows.status, 'in_review') : and(eq(flows.status, 'in_review'), eq(flows.operatorId, operatorId)))
      .orderBy(flows.updatedAt)
      .limit(limit);
    return rows.map(toSummary);
  }

  /** Active flows (all clients), most recently changed first. */
  async activeFlows(limit = 100): Promise<FlowSummary[]> {
    const rows = await this.db
      .select()
      .from(flows)
      .where(inArray(flows.status, [...ACTIVE_STATUSES]))
      .orderBy(desc(flows.updatedAt))
      .limit(limit);
    return rows.map(toSummary);
  }

  /** Every answer of a flow, oldest first, with its status (pending, accepted, rejected, superseded). */
  answersOf(flowId: number) {
    return this.db.select().from(answersTable).where(eq(answersTable.flowId, flowId)).orderBy(answersTable.id);
  }

  /** A client card shown in a staff chat: it is redrawn whenever one of the client's requests changes. */
  cardShown(card: { chatId: number; messageId: number; clientId: number }): Promise<void> {
    return recordClientCard(this.db, card);
  }

  /** A message that showed a client card shows something else now. */
  cardClosed(card: { chatId: number; messageId: number }): Promise<void> {
    return forgetCard(this.db, card);
  }

  /** The audit trail of a flow, oldest first. */
  eventsOf(flowId: number) {
    return this.db.select().from(flowEvents).where(eq(flowEvents.flowId, flowId)).orderBy(flowEvents.id);
  }

  // ---- internals -------------------------------------------------------------------------------

  private clientCommand(
    input: { clientId: number } & UpdateRef & ButtonRef,
    eventFor: (flow: FlowRow) => RequestEvent | null,
    message?: InboundMessage,
  ): Promise<Outcome<AnswerResult>> {
    return this.transact(async (tx) => {
      const locked = await lockActiveFlow(tx, input.clientId, input.updateId ?? null);
      if (!locked.fresh) return refuse({ code: 'duplicate_update' });
      const log = message ? [logRow(message, input.updateId ?? null, locked.flow?.id ?? null)] : [];
      const refuseLogged = async (refusal: Refusal): Promise<Outcome<AnswerResult>> => {
        if (log.length > 0) await write(tx, { ...emptyPlan(), messages: log });
        return refuse(refusal);
      };
      const flow = locked.flow;
      if (!flow) return refuseLogged({ code: 'no_active_request' });
      if (input.flowId !== undefined && input.flowId !== flow.id) return refuseLogged({ code: 'stale', status: flow.status });
      if (input.version !== undefined && input.version !== flow.version) return refuseLogged({ code: 'stale', status: flow.status });
      const event = eventFor(flow);
      if (!event) return refuseLogged({ code: 'cancel_not_allowed' });
      const applied = await this.apply(tx, locked, flow, event, { kind: 'client', id: input.clientId }, log);
      if (!applied.ok) return refuseLogged(applied.refusal);
      return { ok: true, value: { flow: applied.value.flow, invalid: applied.value.invalid, status: applied.value.status } };
    });
  }

  private operatorCommand(
    input: { operatorId: number; flowId: number; version?: number } & UpdateRef,
    eventFor: (flow: FlowRow) => RequestEvent | null,
  ): Promise<Outcome<FlowSummary>> {
    return this.command({ kind: 'operator', id: input.operatorId }, input, eventFor);
  }

  private async command(
    actor: Actor,
    input: { flowId: number; version?: number } & UpdateRef,
    eventFor: (flow: FlowRow) => RequestEvent | null,
  ): Promise<Outcome<FlowSummary & { status: FlowStatus }>> {
    return this.transact(async (tx) => {
      const locked = await lockFlow(tx, input.flowId, input.updateId ?? null);
      if (!locked.fresh) return refuse({ code: 'duplicate_update' });
      const flow = locked.flow;
      if (!flow) return refuse({ code: 'flow_not_found' });
      if (actor.kind === 'client' && flow.clientId !== actor.id) return refuse({ code: 'not_your_request' });
      if (input.version !== undefined && input.version !== flow.version) return refuse({ code: 'stale', status: flow.status });
      const event = eventFor(flow);
      if (!event) return refuse({ code: 'not_allowed', status: flow.status });
      if (flow.status === 'queued') {
        if (event.type !== 'CANCEL') return refuse({ code: 'request_queued' });
        return this.dropQueued(tx, flow, actor);
      }
      const applied = await this.apply(tx, locked, flow, event, actor, []);
      return applied.ok ? { ok: true, value: applied.value.flow } : applied;
    });
  }

  /** Applies one event to a locked flow and writes everything it implies. */
  private async apply(
    tx: Tx,
    locked: Locked,
    flow: FlowRow,
    event: RequestEvent,
    actor: Actor,
    log: NewLogMessage[],
  ): Promise<Outcome<{ flow: FlowSummary & { status: FlowStatus }; invalid: AnswerResult['invalid']; status: FlowStatus }>> {
    const machine = this.machineFor(flow.definition);
    const restored = restore(machine, flow.snapshot);
    const plan = emptyPlan();
    plan.messages.push(...log);
    const clientInfo = personInfo(locked.client, flow.clientId, this.defaultLocale);
    const operatorInfo = personInfo(locked.operator, flow.operatorId, this.defaultLocale);
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
        defaultLocale: this.defaultLocale,
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
    const now = this.clock();

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
      ...this.timers(flow, status, before, event, now),
      finished: isFinal(status),
    });
    if (status === 'completed' && this.results) {
      const body = this.results.body({
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
      defaultLocale: this.defaultLocale,
    })) {
      plan.outbox.push({ ...message, flowId: flow.id });
    }
    await this.routeToOperators(tx, plan, flow.operatorId);
    await write(tx, plan);
    if (isFinal(status)) await this.startNextQueued(tx, flow.clientId, actor, flow.id);
    return { ok: true, value: { flow: { ...summaryOf(flow), status, version }, invalid, status } };
  }

  /**
   * Within a finishing transaction: lock the client and start their oldest queued flow, if any.
   * Written after the finishing flow's own write: the one-active-flow index is checked row by row.
   */
  private async startNextQueued(tx: Tx, clientId: number, actor: Actor, finishing: number | null): Promise<boolean> {
    const { client } = await lockClient(tx, clientId, null);
    const open = await openFlowsOf(tx, clientId);
    if (!client || open.some((f) => isActive(f.status) && f.id !== finishing)) return false;
    const next = open.find((f) => f.status === 'queued');
    if (!next) return false;
    const operator = await personById(tx, next.operatorId);
    const plan = emptyPlan();
    const clientInfo = personInfo(client, clientId, this.defaultLocale);
    const operatorInfo = personInfo(operator, next.operatorId, this.defaultLocale);
    this.activate(plan, { id: next.id, version: next.version, definition: next.definition, clientInfo, operatorInfo, actor });
    plan.outbox.push(startedNotice(next.id, next.definition, clientInfo, operatorInfo, this.defaultLocale));
    await this.routeToOperators(tx, plan, next.operatorId);
    await write(tx, plan);
    return true;
  }

  /** Adds the first snapshot, prompt and audit row of a flow that starts now. */
  private activate(
    plan: MutablePlan,
    args: {
      id: number;
      version: number;
      definition: RequestDefinition;
      clientInfo: ReturnType<typeof personInfo>;
      operatorInfo: ReturnType<typeof personInfo>;
      actor: Actor;
    },
  ): FlowStatus {
    const machine = this.machineFor(args.definition);
    const { snapshot, actions } = initial(machine);
    const status = statusOf(snapshot);
    const now = this.clock();
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
      defaultLocale: this.defaultLocale,
    })) {
      plan.outbox.push({ ...message, flowId: args.id });
    }
    return status;
  }

  private async dropQueued(tx: Tx, flow: FlowRow, actor: Actor): Promise<Outcome<FlowSummary & { status: FlowStatus }>> {
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

  /** Sends the operator's messages to whoever stands in for them (see `operatorsFor`). */
  private async routeToOperators(tx: Tx, plan: MutablePlan, operatorId: number): Promise<void> {
    if (!plan.outbox.some((m) => m.chatId === operatorId)) return;
    // Read through the transaction: PGlite has one connection, and a query outside it would wait forever.
    const recipients = await this.operatorsFor(operatorId, tx);
    if (recipients.length === 1 && recipients[0] === operatorId) return;
    const routed = plan.outbox.flatMap((m) => (m.chatId === operatorId ? recipients.map((chatId) => ({ ...m, chatId })) : [m]));
    plan.outbox.splice(0, plan.outbox.length, ...routed);
  }

  /** When to remind and expire: only while the client is the one to act. */
  private timers(
    flow: FlowRow,
    status: FlowStatus,
    before: RequestSnapshot,
    event: RequestEvent,
    now: Date,
  ): { remindAt: Date | null; expireAt: Date | null } {
    const waitingClient = status === 'collecting' || status === 'confirming';
    if (!waitingClient) return { remindAt: null, expireAt: null };
    const def = flow.definition;
    const wasWaitingClient = ['collecting', 'confirming'].includes(statusOf(before)); // the client is the one to act
    const remindAt = event.type === 'REMIND' || def.remindAfterMs === null ? null : new Date(now.getTime() + def.remindAfterMs);
    const expireAt =
      wasWaitingClient && flow.expireAt ? flow.expireAt : def.expireAfterMs === null ? null : new Date(now.getTime() + def.expireAfterMs);
    return { remindAt, expireAt };
  }

  private machineFor(definition: RequestDefinition): RequestMachine {
    let machine = this.machines.get(definition.hash);
    if (!machine) {
      machine = createRequestMachine(definition);
      this.machines.set(definition.hash, machine);
    }
    return machine;
  }

  private viewOfRow(definition: RequestDefinition, snapshot: unknown): RequestView {
    const machine = this.machineFor(definition);
    const restored = restore(machine, snapshot);
    return viewOf(definition, restored.ok ? restored.snapshot : parkUnrestorable(machine, definition, snapshot));
  }

  /** Runs a command in a transaction, retrying when a concurrent writer got there first. */
  private async transact<T>(body: (tx: Tx) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.transaction(async (tx) => {
          const value = await body(tx);
          await redrawOpenCards(tx, this.cardDeps);
          return value;
        });
      } catch (error) {
        if (attempt >= MAX_TRIES || !isRetryable(error)) throw error;
        await new Promise((r) => setTimeout(r, Math.random() * 10 * attempt));
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Rows as the service reads them: the frozen definition migrated to the current format.

async function lockFlow(tx: Tx, flowId: number, updateId: number | null): Promise<Locked> {
  return withStoredDefinition(await lockFlowRow(tx, flowId, updateId));
}

async function lockActiveFlow(tx: Tx, clientId: number, updateId: number | null): Promise<Locked> {
  return withStoredDefinition(await lockActiveFlowRow(tx, clientId, updateId));
}

async function openFlowsOf(tx: Tx, clientId: number): Promise<FlowRow[]> {
  return (await openFlowRowsOf(tx, clientId)).map(readFlow);
}

function withStoredDefinition(locked: Locked): Locked {
  return locked.flow ? { ...locked, flow: readFlow(locked.flow) } : locked;
}

function readFlow(flow: FlowRow): FlowRow {
  return { ...flow, definition: readStoredDefinition(flow.definition) };
}

type MutablePlan = { [K in keyof WritePlan]: WritePlan[K] extends readonly (infer U)[] ? U[] : never };

function emptyPlan(): MutablePlan {
  return { flows: [], answerChanges: [], answers: [], events: [], outbox: [], messages: [], results: [] };
}

/** Tells the operator their request reached the client (at once, or when it left the queue). */
function startedNotice(
  flowId: number,
  definition: RequestDefinition,
  client: PersonInfo,
  operator: PersonInfo,
  defaultLocale: Locale,
): OutMessage & { flowId: number } {
  const text = t(operator.locale, 'requestStarted', {
    client: html(displayName(client)),
    title: html(pickText(definition.title, operator.locale, defaultLocale)),
  });
  return { chatId: operator.id, flowId, method: 'sendMessage', payload: { text, parse_mode: 'HTML' } };
}

function refuse(refusal: Refusal): { ok: false; refusal: Refusal } {
  return { ok: false, refusal };
}

function refusalFor(machineStatus: FlowStatus, stored: FlowStatus): Refusal {
  const status = stored === 'queued' ? stored : machineStatus;
  if (status === 'completed') return { code: 'already_accepted' };
  if (status === 'cancelled') return { code: 'request_cancelled' };
  if (status === 'expired') return { code: 'request_expired' };
  if (status === 'queued') return { code: 'request_queued' };
  return { code: 'not_allowed', status };
}

function isRetryable(error: unknown): boolean {
  if (error instanceof StaleWriteError) return true;
  for (let e: unknown = error; e; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && RETRYABLE_PG.has(code)) return true;
  }
  return false;
}

function answerChangesFor(
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

function answerRow(flowId: number, stepId: string, round: number, value: StepValue, messageId: number | null): NewAnswer {
  const file = value.kind === 'file' ? value : null;
  return { flowId, stepId, round, value, fileId: file?.fileId ?? null, fileUniqueId: file?.fileUniqueId ?? null, messageId };
}

function logRow(message: InboundMessage, updateId: number | null, flowId: number | null): NewLogMessage {
  return { ...message, updateId, flowId };
}

/** "collecting.full_name", "in_review". */
function stateName(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${k}.${stateName(v)}`)
      .join(',');
  }
  return String(value);
}

/** The audit payload of an event: what matters, without file bytes or personal data beyond the answer kind. */
function eventPayload(event: RequestEvent): unknown {
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

/** A cancel or reset reason as the event carries it (none when empty). */
function reasonOf(reason: string | undefined): { reason?: string } {
  const trimmed = reason?.trim().slice(0, REASON_STORED_MAX);
  return trimmed ? { reason: trimmed } : {};
}

function isoDate(date: Date): string {
  return date.toISOString().slice(0, 10);
}

function summaryOf(flow: FlowRow): FlowSummary {
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

function toSummary(row: typeof flows.$inferSelect): FlowSummary {
  return {
    id: row.id,
    clientId: row.clientId,
    operatorId: row.operatorId,
    requestId: row.requestId,
    definition: readStoredDefinition(row.definition as RequestDefinition),
    status: row.status,
    version: row.version,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}
