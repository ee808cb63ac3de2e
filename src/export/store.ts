/**
 * What exports and archives read: flows with their people, and their answers. Read-only; the flow
 * service stays the only writer of these tables.
 */
import { and, asc, eq, gte, inArray, type SQL } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { RequestDefinition } from '../../machines/definition.js';
import type { StepValue } from '../../machines/steps.js';
import type { Db } from '../db/client.js';
import { answers, flows, people, type AnswerStatus, type FlowStatus } from '../db/schema.js';

/** Which flows: every condition given must hold. */
export interface ExportScope {
  readonly requestId?: string;
  readonly clientId?: number;
  readonly flowId?: number;
  /** Created at or after this moment. */
  readonly since?: Date | null;
  /** Only flows this operator sent (`flows.operator_id`); null: everyone's (admins, the command line). */
  readonly operatorId: number | null;
}

export interface ExportPerson {
  readonly id: number;
  readonly firstName: string;
  readonly lastName: string | null;
  readonly username: string | null;
}

export interface ExportFlow {
  readonly id: number;
  readonly requestId: string;
  /** The definition the flow was started with (frozen). */
  readonly definition: RequestDefinition;
  readonly status: FlowStatus;
  readonly createdAt: Date;
  readonly finishedAt: Date | null;
  readonly clientId: number;
  readonly operatorId: number;
  /** Null when the person's row is gone (an operator known only from the environment, say). */
  readonly client: ExportPerson | null;
  readonly operator: ExportPerson | null;
}

export interface ExportAnswer {
  readonly id: number;
  readonly flowId: number;
  readonly stepId: string;
  readonly round: number;
  readonly value: StepValue;
  readonly status: AnswerStatus;
  readonly fileId: string | null;
  readonly fileUniqueId: string | null;
  readonly createdAt: Date;
}

const client = alias(people, 'export_client');
const operator = alias(people, 'export_operator');

function where(scope: ExportScope): SQL | undefined {
  const conditions: SQL[] = [];
  if (scope.requestId !== undefined) conditions.push(eq(flows.requestId, scope.requestId));
  if (scope.clientId !== undefined) conditions.push(eq(flows.clientId, scope.clientId));
  if (scope.flowId !== undefined) conditions.push(eq(flows.id, scope.flowId));
  if (scope.since) conditions.push(gte(flows.createdAt, scope.since));
  if (scope.operatorId !== null) conditions.push(eq(flows.operatorId, scope.operatorId));
  return and(...conditions);
}

/** The flows in scope with their client and operator, oldest first. */
export async function flowsInScope(db: Db, scope: ExportScope): Promise<ExportFlow[]> {
  const rows = await db
    .select({
      id: flows.id,
      requestId: flows.requestId,
      definition: flows.definition,
      status: flows.status,
      createdAt: flows.createdAt,
      finishedAt: flows.finishedAt,
      clientId: flows.clientId,
      operatorId: flows.operatorId,
      client: { id: client.id, firstName: client.firstName, lastName: client.lastName, username: client.username },
      operator: { id: operator.id, firstName: operator.firstName, lastName: operator.lastName, username: operator.username },
    })
    .from(flows)
    .leftJoin(client, eq(client.id, flows.clientId))
    .leftJoin(operator, eq(operator.id, flows.operatorId))
    .where(where(scope))
    .orderBy(asc(flows.id));
  return rows.map((row) => ({ ...row, definition: row.definition as RequestDefinition }));
}

/** The answers of the flows in scope (with the given statuses, or all), oldest first. */
export async function answersInScope(db: Db, scope: ExportScope, statuses?: readonly AnswerStatus[]): Promise<ExportAnswer[]> {
  const rows = await db
    .select({
      id: answers.id,
      flowId: answers.flowId,
      stepId: answers.stepId,
      round: answers.round,
      value: answers.value,
      status: answers.status,
      fileId: answers.fileId,
      fileUniqueId: answers.fileUniqueId,
      createdAt: answers.createdAt,
    })
    .from(answers)
    .innerJoin(flows, eq(flows.id, answers.flowId))
    .where(and(where(scope), statuses ? inArray(answers.status, [...statuses]) : undefined))
    .orderBy(asc(answers.id));
  return rows.map((row) => ({ ...row, value: row.value as StepValue }));
}

/** Whether any flow of this request type exists (a type removed from the catalogue can still be exported). */
export async function hasFlowsOf(db: Db, requestId: string): Promise<boolean> {
  const [row] = await db.select({ id: flows.id }).from(flows).where(eq(flows.requestId, requestId)).limit(1);
  return row !== undefined;
}
