/**
 * What the app should show for a snapshot: a pure function of the definition and the snapshot's
 * value and context. Works on a live snapshot and on a persisted (plain JSON) one alike.
 */
import type { RequestDefinition, StepDefinition } from './definition.js';
import type { RequestContext } from './request.machine.js';
import type { InvalidReason, StepValue } from './steps.js';

export const STATUSES = ['collecting', 'confirming', 'in_review', 'needs_operator', 'completed', 'cancelled', 'expired'] as const;
export type RequestStatus = (typeof STATUSES)[number];

/** The part of a snapshot the view needs (a live `RequestSnapshot` or its persisted JSON). */
export interface SnapshotLike {
  readonly value: unknown;
  readonly context: RequestContext;
}

export interface AnswerView {
  readonly step: StepDefinition;
  /** Null when the step has no value (not answered yet, or skipped). */
  readonly value: StepValue | null;
  readonly skipped: boolean;
}

export type RequestView = RequestViewOf & {
  /**
   * The album (Telegram media group) whose item was the last answer taken: its other items are not
   * answers, and the client was told so when the first one was taken.
   */
  readonly album?: string;
};

type RequestViewOf =
  | {
      kind: 'prompt';
      step: StepDefinition;
      /** 1-based position of the step within this round's pending steps ("2/3"). */
      position: number;
      total: number;
      /** Why the last answer was refused; null on a fresh prompt. */
      error: InvalidReason | null;
      /** The operator's ask-again reason, if any. */
      reason: string | null;
      round: number;
      /** Invalid answers the client may still send before the flow is parked. */
      attemptsLeft: number;
      /** The step's current value when it is asked again (ask-again, edit), else null. */
      previous: StepValue | null;
    }
  | { kind: 'confirm'; answers: AnswerView[]; round: number }
  | { kind: 'review'; answers: AnswerView[]; round: number }
  | {
      kind: 'needs_operator';
      /** The parked step; null when the snapshot could not say which. */
      step: StepDefinition | null;
      error: InvalidReason | null;
      parked: NonNullable<RequestContext['parked']>;
      answers: AnswerView[];
    }
  | { kind: 'completed' | 'cancelled' | 'expired'; answers: AnswerView[] };

const FLAT: ReadonlySet<string> = new Set(STATUSES);

/**
 * The coarse status of a snapshot. A value this machine cannot produce maps to `needs_operator`
 * (a flow nobody understands needs a person).
 */
export function statusOf(snapshot: { readonly value: unknown }): RequestStatus {
  const value = snapshot.value;
  if (typeof value === 'object' && value !== null && 'collecting' in value) return 'collecting';
  if (value === 'routing') return 'collecting';
  if (typeof value === 'string' && FLAT.has(value) && value !== 'collecting') return value as RequestStatus;
  return 'needs_operator';
}

/** Every step in catalogue order with its current value. */
export function answersOf(definition: RequestDefinition, context: RequestContext): AnswerView[] {
  return definition.steps.map((step) => ({
    step,
    value: context.answers[step.id] ?? null,
    skipped: context.skipped.includes(step.id),
  }));
}

/** What to present for `snapshot`. */
export function viewOf(definition: RequestDefinition, snapshot: SnapshotLike): RequestView {
  const view = plainViewOf(definition, snapshot);
  const album = snapshot.context.album;
  return typeof album === 'string' ? { ...view, album } : view;
}

function plainViewOf(definition: RequestDefinition, snapshot: SnapshotLike): RequestViewOf {
  const { context } = snapshot;
  const answers = answersOf(definition, context);
  const stepOf = (id: string | null | undefined): StepDefinition | null =>
    id == null ? null : (definition.steps.find((s) => s.id === id) ?? null);

  const status = statusOf(snapshot);
  switch (status) {
    case 'collecting': {
      const step = stepOf(context.current);
      const index = step ? context.pending.indexOf(step.id) : -1;
      if (!step || index < 0) {
        return { kind: 'needs_operator', step, error: context.lastError, parked: { code: 'restored_invalid' }, answers };
      }
      return {
        kind: 'prompt',
        step,
        position: index + 1,
        total: context.pending.length,
        error: context.lastError,
        reason: context.reason,
        round: context.round,
        attemptsLeft: Math.max(0, Math.max(1, step.maxAttempts) - context.attempts),
        previous: context.answers[step.id] ?? null,
      };
    }
    case 'confirming':
      return { kind: 'confirm', answers, round: context.round };
    case 'in_review':
      return { kind: 'review', answers, round: context.round };
    case 'needs_operator': {
      const parked = context.parked ?? { code: 'restored_invalid' as const };
      const step = stepOf(parked.stepId ?? context.current);
      return { kind: 'needs_operator', step, error: context.lastError, parked, answers };
    }
    case 'completed':
    case 'cancelled':
    case 'expired':
      return { kind: status, answers };
  }
}
