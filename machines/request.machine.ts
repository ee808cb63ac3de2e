/**
 * One request flow as an XState v5 machine, built from a (frozen) request definition.
 *
 * States (ids are paths under the root id `request`):
 *   collecting.<stepId>   waiting for the client's answer to that step (one child per step)
 *   routing               transient: picks the next step (`context.current`) or ends the round
 *   confirming            the client sees a summary: CONFIRM or EDIT_STEP   (only if definition.confirm)
 *   in_review             the operator decides: ACCEPT or ASK_AGAIN         (only if definition.review)
 *   needs_operator        parked (too many invalid answers, a snapshot that did not restore)
 *   completed | cancelled | expired   final
 *
 * The definition is closed over, never stored in the context, so snapshots stay small.
 */
import { assertEvent, assign, setup, type SnapshotFrom } from 'xstate';
import type { RequestDefinition, StepDefinition } from './definition.js';
import { mediaGroupOf, validateAnswer, type Answer, type InvalidReason, type StepValue } from './steps.js';

export const MACHINE_ID = 'request';

export type ParkCode = 'max_attempts' | 'restored_invalid';

export interface RequestContext {
  /** Current value of each answered step. Re-asked steps keep their old value until replaced. */
  answers: Record<string, StepValue>;
  /** The steps asked in this round, in catalogue order. */
  pending: string[];
  /** The step being asked (or, in needs_operator, the parked step); null outside collecting. */
  current: string | null;
  /** Invalid answers in a row for the current step. */
  attempts: number;
  lastError: InvalidReason | null;
  /** Collection rounds started: 1 + ASK_AGAINs + RESETs. */
  round: number;
  /** The operator's reason for the last ASK_AGAIN (cleared by RESET). */
  reason: string | null;
  parked: { code: ParkCode; stepId?: string } | null;
  /** Optional steps the client skipped (and has not answered since). */
  skipped: string[];
  /**
   * The album (Telegram media group) whose item was the last answer taken at a step, valid or not.
   * Telegram delivers an album as separate messages: its other items are neither answers nor
   * attempts. Absent in snapshots stored before albums were recognised.
   */
  album?: string;
}

export type RequestEvent =
  /**
   * `today`: the client's current date, ISO `YYYY-MM-DD` (the machine has no clock). A photo or
   * document from an album carries the album's id (`answer.mediaGroupId`).
   */
  | { type: 'ANSWER'; answer: Answer; today: string }
  | { type: 'SKIP' }
  | { type: 'CONFIRM' }
  | { type: 'EDIT_STEP'; stepId: string }
  | { type: 'ACCEPT' }
  /** `stepIds` absent, empty or all unknown: every step is asked again. */
  /** `reason` in the client's language; `operatorReason`: a reason picked from a list, in the operator's language. */
  | { type: 'ASK_AGAIN'; reason: string; operatorReason?: string; stepIds?: string[] }
  | { type: 'RESET'; reason?: string }
  | { type: 'RETRY_STEP' }
  | { type: 'CANCEL'; reason?: string }
  | { type: 'REMIND' }
  | { type: 'EXPIRE' };

export type RequestEventType = RequestEvent['type'];

/**
 * Effects the machine asks for, returned by `step`/`initial` as plain `{ type, params }` data
 * (their implementations are no-ops: the app turns them into outbox and timer rows).
 */
export type RequestEffect =
  | { type: 'prompt'; params: { stepId: string } }
  | { type: 'presentSummary' }
  | { type: 'requestReview' }
  | { type: 'notifyOperator' }
  | { type: 'remind' }
  | { type: 'finish'; params: { outcome: 'completed' | 'cancelled' | 'expired' } };

export const EFFECT_TYPES = ['prompt', 'presentSummary', 'requestReview', 'notifyOperator', 'remind', 'finish'] as const;

/** Tags on states: who the flow waits for. */
export const TAGS = ['waiting_client', 'waiting_operator'] as const;
export type RequestTag = (typeof TAGS)[number];

const STEP_ID = /^[A-Za-z0-9_-]+$/;

/** The context of a fresh flow: every step pending, the first one current. */
export function initialContext(definition: RequestDefinition): RequestContext {
  const ids = definition.steps.map((s) => s.id);
  return {
    answers: {},
    pending: ids,
    current: ids[0] ?? null,
    attempts: 0,
    lastError: null,
    round: 1,
    reason: null,
    parked: null,
    skipped: [],
  };
}

function maxAttemptsOf(step: StepDefinition): number {
  // Fewer than one attempt would park before the client could answer at all.
  return Math.max(1, step.maxAttempts);
}

/**
 * Build the machine for one request definition.
 * Throws (a programmer error, caught by the catalogue check) when the definition has no steps,
 * duplicate step ids, or step ids with characters other than letters, digits, `_` and `-`
 * (step ids become state keys; `.` and `#` are XState path syntax).
 */
export function createRequestMachine(definition: RequestDefinition) {
  const steps = definition.steps;
  const stepIds = steps.map((s) => s.id);
  const first = steps[0];
  if (!first) throw new Error(`request ${definition.id}: a request needs at least one step`);
  const bad = stepIds.filter((id, i) => !STEP_ID.test(id) || stepIds.indexOf(id) !== i);
  if (bad.length > 0) throw new Error(`request ${definition.id}: invalid or duplicate step ids: ${bad.join(', ')}`);

  const byId = new Map(steps.map((s) => [s.id, s] as const));
  const stepOf = (id: string): StepDefinition => {
    const step = byId.get(id);
    if (!step) throw new Error(`request ${definition.id}: unknown step ${id}`);
    return step;
  };
  /** Where a finished round goes. */
  const endOfRound = definition.confirm ? 'confirming' : definition.review ? 'in_review' : 'completed';
  const afterConfirm = definition.review ? 'in_review' : 'completed';

  const nextPending = (context: RequestContext, stepId: string): string | null => {
    const i = context.pending.indexOf(stepId);
    return i >= 0 ? (context.pending[i + 1] ?? null) : null;
  };

  const machineSetup = setup({
    types: {
      context: {} as RequestContext,
      events: {} as RequestEvent,
      tags: {} as RequestTag,
    },
    guards: {
      isValidAnswer: ({ event }, params: { stepId: string }) => {
        assertEvent(event, 'ANSWER');
        return validateAnswer(stepOf(params.stepId), event.answer, event.today).ok;
      },
      /** The answer is invalid (checked by the transition before) and uses the last attempt. */
      isLastAttempt: ({ context }, params: { stepId: string }) => context.attempts + 1 >= maxAttemptsOf(stepOf(params.stepId)),
      isCurrent: ({ context }, params: { stepId: string }) => context.current === params.stepId,
      /** Another item of the album whose item was the last answer taken. */
      isAlbumFollower: ({ context, event }) => {
        assertEvent(event, 'ANSWER');
        return context.album !== undefined && mediaGroupOf(event.answer) === context.album;
      },
      isKnownStep: ({ event }) => {
        assertEvent(event, 'EDIT_STEP');
        return byId.has(event.stepId);
      },
    },
    actions: {
      /** Entry of a step: it is the current one, with a clean slate of attempts. */
      enterStep: assign((_, params: { stepId: string }) => ({
        current: params.stepId,
        attempts: 0,
        lastError: null,
      })),
      storeAnswer: assign(({ context, event }, params: { stepId: string }) => {
        assertEvent(event, 'ANSWER');
        const result = validateAnswer(stepOf(params.stepId), event.answer, event.today);
        if (!result.ok) return {};
        return {
          answers: { ...context.answers, [params.stepId]: result.value },
          skipped: context.skipped.filter((id) => id !== params.stepId),
          current: nextPending(context, params.stepId),
          attempts: 0,
          lastError: null,
          album: mediaGroupOf(event.answer),
        };
      }),
      recordInvalid: assign(({ context, event }, params: { stepId: string }) => {
        assertEvent(event, 'ANSWER');
        const result = validateAnswer(stepOf(params.stepId), event.answer, event.today);
        return {
          attempts: context.attempts + 1,
          lastError: result.ok ? null : result.reason,
          album: mediaGroupOf(event.answer),
        };
      }),
      park: assign((_, params: { stepId: string }) => ({
        parked: { code: 'max_attempts' as const, stepId: params.stepId },
      })),
      skipStep: assign(({ context }, params: { stepId: string }) => {
        const answers = { ...context.answers };
        delete answers[params.stepId];
        return {
          answers,
          skipped: context.skipped.includes(params.stepId) ? context.skipped : [...context.skipped, params.stepId],
          current: nextPending(context, params.stepId),
          attempts: 0,
          lastError: null,
        };
      }),
      editStep: assign(({ event }) => {
        assertEvent(event, 'EDIT_STEP');
        return { pending: [event.stepId], current: event.stepId, attempts: 0, lastError: null };
      }),
      askAgain: assign(({ context, event }) => {
        assertEvent(event, 'ASK_AGAIN');
        const wanted = new Set(event.stepIds ?? []);
        const chosen = stepIds.filter((id) => wanted.has(id));
        const pending = chosen.length > 0 ? chosen : [...stepIds];
        return {
          pending,
          current: pending[0] ?? null,
          attempts: 0,
          lastError: null,
          round: context.round + 1,
          reason: event.reason,
        };
      }),
      resetAll: assign(({ context }) => ({ ...initialContext(definition), round: context.round + 1, album: undefined })),
      resumeParked: assign(({ context }) => ({
        current: context.parked?.stepId ?? context.current,
        parked: null,
        attempts: 0,
        lastError: null,
      })),
      clearCurrent: assign({ current: null, attempts: 0, lastError: null }),
      // Effects: no-ops here; `step()` hands them to the app as data.
      prompt: (_, _params: { stepId: string }) => {},
      presentSummary: () => {},
      requestReview: () => {},
      notifyOperator: () => {},
      remind: () => {},
      finish: (_, _params: { outcome: 'completed' | 'cancelled' | 'expired' }) => {},
    },
  });

  type MachineConfig = Parameters<typeof machineSetup.createMachine>[0];
  type StateConfig = NonNullable<MachineConfig['states']>[string];

  const stepState = (step: StepDefinition): StateConfig => {
    const p = { stepId: step.id };
    return {
      description: `Waiting for the client's answer to step "${step.id}" (${step.type}${step.optional ? ', optional' : ''}).`,
      tags: ['waiting_client'],
      entry: [
        { type: 'enterStep', params: p },
        { type: 'prompt', params: p },
      ],
      on: {
        ANSWER: [
          // Forbidden (no target, no actions: not handled, so not stored, counted or acknowledged).
          { guard: 'isAlbumFollower', description: 'Another item of an album already answered: ignored.' },
          { guard: { type: 'isValidAnswer', params: p }, target: '#request.routing', actions: { type: 'storeAnswer', params: p } },
          {
            guard: { type: 'isLastAttempt', params: p },
            target: '#request.needs_operator',
            actions: [
              { type: 'recordInvalid', params: p },
              { type: 'park', params: p },
            ],
          },
          { actions: { type: 'recordInvalid', params: p } },
        ],
        ...(step.optional ? { SKIP: { target: '#request.routing', actions: { type: 'skipStep', params: p } } } : {}),
        REMIND: { actions: 'remind' },
      },
    };
  };

  // On every non-final state rather than on the root: the pure `transition()` does not check the
  // snapshot's status, so a root-level handler would move a finished flow out of its final state.
  const waysOut = {
    RESET: { target: '#request.routing', actions: 'resetAll', description: 'Start over: answers cleared, a new round.' },
    CANCEL: { target: '#request.cancelled' },
    EXPIRE: { target: '#request.expired' },
  } as const;

  const confirming: StateConfig = {
    description: 'The client checks a summary of the answers: CONFIRM, or EDIT_STEP to change one.',
    tags: ['waiting_client'],
    entry: 'presentSummary',
    on: {
      CONFIRM: { target: `#request.${afterConfirm}` },
      EDIT_STEP: { guard: 'isKnownStep', target: '#request.routing', actions: 'editStep' },
      RETRY_STEP: { target: '#request.confirming', reenter: true },
      REMIND: { actions: 'remind' },
      ...waysOut,
    },
  };
  const inReview: StateConfig = {
    description: 'The operator reviews the answers: ACCEPT, or ASK_AGAIN for some (or all) steps.',
    tags: ['waiting_operator'],
    entry: 'requestReview',
    on: {
      ACCEPT: { target: '#request.completed' },
      ASK_AGAIN: { target: '#request.routing', actions: 'askAgain' },
      RETRY_STEP: { target: '#request.in_review', reenter: true },
      ...waysOut,
    },
  };

  const states: Record<string, StateConfig> = {
    collecting: {
      description: 'The client answers the pending steps of this round, one at a time, in catalogue order.',
      initial: first.id,
      states: Object.fromEntries(steps.map((s) => [s.id, stepState(s)])),
      on: {
        RETRY_STEP: { target: '#request.routing', description: 'Ask the current step again, attempts reset.' },
        ...waysOut,
      },
    },
    routing: {
      description: 'Transient: goes to the step in context.current, or ends the round when it is null.',
      always: [
        ...steps.map((s) => ({
          guard: { type: 'isCurrent' as const, params: { stepId: s.id } },
          target: `#request.collecting.${s.id}`,
        })),
        { target: `#request.${endOfRound}`, actions: 'clearCurrent' as const },
      ],
    },
    ...(definition.confirm ? { confirming } : {}),
    ...(definition.review ? { in_review: inReview } : {}),
    needs_operator: {
      description: 'Parked: an operator has to step in (retry the parked step, reset, or cancel).',
      tags: ['waiting_operator'],
      entry: 'notifyOperator',
      on: {
        RETRY_STEP: { target: '#request.routing', actions: 'resumeParked' },
        ...waysOut,
      },
    },
    completed: {
      type: 'final',
      description: 'Done: the answers were accepted (or needed no review).',
      entry: { type: 'finish', params: { outcome: 'completed' } },
    },
    cancelled: {
      type: 'final',
      description: 'Cancelled by the client or an operator.',
      entry: { type: 'finish', params: { outcome: 'cancelled' } },
    },
    expired: {
      type: 'final',
      description: 'Expired before it was finished.',
      entry: { type: 'finish', params: { outcome: 'expired' } },
    },
  };

  return machineSetup.createMachine({
    id: MACHINE_ID,
    description: `Request "${definition.id}" (${steps.length} step${steps.length === 1 ? '' : 's'}).`,
    context: initialContext(definition),
    initial: 'collecting',
    states,
  });
}

export type RequestMachine = ReturnType<typeof createRequestMachine>;
/**
 * The state values this machine rests in (`routing` is transient and never seen). XState types
 * `snapshot.value` loosely because the states are generated; prefer `statusOf(snapshot)`.
 */
export type RequestStateValue =
  { collecting: string } | 'confirming' | 'in_review' | 'needs_operator' | 'completed' | 'cancelled' | 'expired';
export type RequestSnapshot = SnapshotFrom<RequestMachine>;
