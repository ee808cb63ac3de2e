/**
 * What the bot, the API and the playground read about flows: plain queries outside any transaction,
 * returned as summaries (the frozen definition migrated) with the view of the stored snapshot.
 */
import { and, desc, eq, inArray } from 'drizzle-orm';
import { readStoredDefinition, type RequestDefinition } from '../../machines/definition.js';
import { viewOf, type RequestView } from '../../machines/view.js';
import { answers, flowEvents, flows } from '../db/schema.js';
import type { FlowCore } from './core.js';
import { ACTIVE_STATUSES } from './statuses.js';
import type { AnswerRecord, FlowEventRecord, FlowSummary } from './types.js';

/** The client's active flow and what it currently shows, or null. */
export async function activeFlow(core: FlowCore, clientId: number): Promise<(FlowSummary & { view: RequestView }) | null> {
  const [row] = await core.db
    .select()
    .from(flows)
    .where(and(eq(flows.clientId, clientId), inArray(flows.status, [...ACTIVE_STATUSES])));
  if (!row) return null;
  const summary = toSummary(row);
  return { ...summary, view: viewOfStored(core, summary.definition, row.snapshot) };
}

/** The client's flows, newest first. */
export async function flowsOf(core: FlowCore, clientId: number, limit: number): Promise<FlowSummary[]> {
  const rows = await core.db.select().from(flows).where(eq(flows.clientId, clientId)).orderBy(desc(flows.id)).limit(limit);
  return rows.map(toSummary);
}

/** One flow, with what it shows (null once it has no snapshot: dropped from the queue, or purged). */
export async function flow(core: FlowCore, flowId: number): Promise<(FlowSummary & { view: RequestView | null }) | null> {
  const [row] = await core.db.select().from(flows).where(eq(flows.id, flowId));
  if (!row) return null;
  const summary = toSummary(row);
  return { ...summary, view: row.snapshot === null ? null : viewOfStored(core, summary.definition, row.snapshot) };
}

/** Flows waiting for this operator's review (all operators' with `operatorId` null), oldest first. */
export async function pendingReviews(core: FlowCore, operatorId: number | null, limit: number): Promise<FlowSummary[]> {
  const inReview = eq(flows.status, 'in_review');
  const rows = await core.db
    .select()
    .from(flows)
    .where(operatorId === null ? inReview : and(inReview, eq(flows.operatorId, operatorId)))
    .orderBy(flows.updatedAt)
    .limit(limit);
  return rows.map(toSummary);
}

/** Active flows (all clients), most recently changed first. */
export async function activeFlows(core: FlowCore, limit: number): Promise<FlowSummary[]> {
  const rows = await core.db
    .select()
    .from(flows)
    .where(inArray(flows.status, [...ACTIVE_STATUSES]))
    .orderBy(desc(flows.updatedAt))
    .limit(limit);
  return rows.map(toSummary);
}

/** Every answer of a flow, oldest first, with its status (pending, accepted, rejected, superseded). */
export function answersOf(core: FlowCore, flowId: number): Promise<AnswerRecord[]> {
  return core.db.select().from(answers).where(eq(answers.flowId, flowId)).orderBy(answers.id);
}

/** The audit trail of a flow, oldest first. */
export function eventsOf(core: FlowCore, flowId: number): Promise<FlowEventRecord[]> {
  return core.db.select().from(flowEvents).where(eq(flowEvents.flowId, flowId)).orderBy(flowEvents.id);
}

function viewOfStored(core: FlowCore, definition: RequestDefinition, snapshot: unknown): RequestView {
  return viewOf(definition, core.snapshotOf(definition, snapshot));
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
