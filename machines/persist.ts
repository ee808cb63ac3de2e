/**
 * The per-update pure API: restore a persisted snapshot, apply one event, persist the result.
 * No actor is ever started; effects come back as data (see `RequestEffect`).
 */
import { createActor, type ActorRefFrom, type ExecutableActionObject, type Snapshot } from 'xstate';
import type { RequestDefinition } from './definition.js';
import {
  EFFECT_TYPES,
  MACHINE_ID,
  type ParkCode,
  type RequestContext,
  type RequestEffect,
  type RequestEvent,
  type RequestMachine,
  type RequestSnapshot,
} from './request.machine.js';
import type { StepValue } from './steps.js';

/** A persisted snapshot: plain JSON, safe for a jsonb column. */
export type PersistedRequest = {
  readonly status: string;
  readonly value: unknown;
  readonly context: RequestContext;
  readonly [key: string]: unknown;
};

export interface StepResult {
  readonly next: RequestSnapshot;
  /** The persisted form differs from before (state or context); worked out when read (it serialises both). */
  readonly changed: boolean;
  /** The current state accepts the event (false: "not allowed here"; `next` is the same snapshot). */
  readonly handled: boolean;
  /** Effects to carry out, in order (prompts, summaries, reminders, …). */
  readonly actions: RequestEffect[];
}

export type RestoreErrorCode =
  /** Not a snapshot at all (not an object, missing fields, XState threw). */
  | 'malformed'
  /** The state value does not exist in this machine. */
  | 'unknown_state'
  /** XState restored it with status `error` (or another unusable status). */
  | 'bad_status'
  /** The context does not fit the definition (unknown step ids, wrong shapes). */
  | 'bad_context';

export type RestoreResult = { ok: true; snapshot: RequestSnapshot } | { ok: false; error: { code: RestoreErrorCode; message: string } };

const EFFECTS: ReadonlySet<string> = new Set(EFFECT_TYPES);

function toEffects(actions: ReadonlyArray<{ type: string; params?: unknown }>): RequestEffect[] {
  return actions
    .filter((a) => EFFECTS.has(a.type))
    .map((a) => (a.params === undefined ? { type: a.type } : { type: a.type, params: a.params }) as RequestEffect);
}

/**
 * The actor that stands in as a machine's `self` while it computes a state. XState's pure `transition` and
 * `initialTransition` construct a new one on every call, and constructing an actor computes the machine's
 * initial state: a second state computation on every step. A request machine spawns no actors and sends
 * nothing to itself, so one stand-in per machine serves all of its steps (it is never started).
 */
const standIns = new WeakMap<RequestMachine, ActorRefFrom<RequestMachine>>();

/** Runs `compute` as XState's pure functions do (an inert actor scope), collecting the actions it would execute. */
function pure<T>(
  machine: RequestMachine,
  compute: (scope: Parameters<RequestMachine['transition']>[2]) => T,
): [T, ExecutableActionObject[]] {
  let self = standIns.get(machine);
  if (!self) {
    self = createActor(machine);
    standIns.set(machine, self);
  }
  const actions: ExecutableActionObject[] = [];
  const result = compute({
    self,
    id: '',
    sessionId: '',
    logger: () => {},
    defer: () => {},
    emit: () => {},
    system: self.system,
    stopChild: () => {},
    actionExecutor: (action) => actions.push(action),
  });
  return [result, actions];
}

/** The snapshot of a new flow and the effects of entering it (the first prompt). */
export function initial(machine: RequestMachine): { snapshot: RequestSnapshot; actions: RequestEffect[] } {
  const [snapshot, actions] = pure(machine, (scope) => machine.getInitialSnapshot(scope, undefined));
  return { snapshot, actions: toEffects(actions) };
}

/** Whether `snapshot` accepts `event` now. Finished (or errored) snapshots accept nothing. */
export function can(_machine: RequestMachine, snapshot: RequestSnapshot, event: RequestEvent): boolean {
  return snapshot.status === 'active' && snapshot.can(event);
}

/** Apply one event with XState's pure `transition`. */
export function step(machine: RequestMachine, snapshot: RequestSnapshot, event: RequestEvent): StepResult {
  if (!can(machine, snapshot, event)) return { next: snapshot, changed: false, handled: false, actions: [] };
  const [next, actions] = pure(machine, (scope) => machine.transition(snapshot, event, scope));
  return {
    next,
    get changed() {
      return next !== snapshot && JSON.stringify(persist(machine, next)) !== JSON.stringify(persist(machine, snapshot));
    },
    handled: true,
    actions: toEffects(actions),
  };
}

/** The plain-JSON form to store. */
export function persist(machine: RequestMachine, snapshot: RequestSnapshot): PersistedRequest {
  // getPersistedSnapshot is typed as a bare Snapshot; for a machine it carries value and context too.
  return machine.getPersistedSnapshot(snapshot) as unknown as PersistedRequest;
}

/**
 * Rehydrate a stored snapshot (`createActor(machine, { snapshot }).getSnapshot()`, never started).
 * Never throws: a snapshot that does not fit the machine comes back as a typed failure, and the
 * app can park the flow with `parkUnrestorable`.
 */
export function restore(machine: RequestMachine, persisted: unknown): RestoreResult {
  const failure = (code: RestoreErrorCode, message: string): RestoreResult => ({ ok: false, error: { code, message } });
  if (!isRecord(persisted) || !('value' in persisted) || !isRecord(persisted.context) || typeof persisted.status !== 'string') {
    return failure('malformed', 'not a persisted machine snapshot');
  }
  let snapshot: RequestSnapshot;
  try {
    snapshot = createActor(machine, { snapshot: persisted as Snapshot<unknown> }).getSnapshot();
  } catch (error) {
    return failure('malformed', messageOf(error));
  }
  if (snapshot.status === 'error') {
    const message = messageOf(snapshot.error);
    return failure(/does not exist/.test(message) ? 'unknown_state' : 'bad_status', message);
  }
  if (snapshot.status !== 'active' && snapshot.status !== 'done') {
    return failure('bad_status', `status ${snapshot.status}`);
  }
  const value: unknown = snapshot.value;
  if (value === 'routing') return failure('unknown_state', 'the transient state routing is never persisted');
  const finished = value === 'completed' || value === 'cancelled' || value === 'expired';
  if (finished !== (snapshot.status === 'done')) {
    return failure('bad_status', `status ${snapshot.status} in state ${JSON.stringify(value)}`);
  }
  const problem = contextProblem(machine, snapshot.value, snapshot.context);
  if (problem) return failure('bad_context', problem);
  return { ok: true, snapshot };
}

/**
 * A `needs_operator` snapshot (parked `restored_invalid`) for a stored snapshot that did not
 * restore. It keeps whatever answers still fit the definition; RETRY_STEP then resumes at the first
 * step without a value (or ends the round when all have one), RESET starts over.
 */
export function parkUnrestorable(machine: RequestMachine, definition: RequestDefinition, persisted: unknown): RequestSnapshot {
  const old = isRecord(persisted) && isRecord(persisted.context) ? persisted.context : {};
  const ids = definition.steps.map((s) => s.id);
  const answers: Record<string, StepValue> = {};
  if (isRecord(old.answers)) {
    for (const id of ids) {
      const v = old.answers[id];
      if (isRecord(v) && typeof v.kind === 'string') answers[id] = v as StepValue;
    }
  }
  const skipped = Array.isArray(old.skipped) ? ids.filter((id) => (old.skipped as unknown[]).includes(id)) : [];
  const next = ids.find((id) => !(id in answers) && !skipped.includes(id));
  const round = typeof old.round === 'number' && Number.isInteger(old.round) && old.round > 0 ? old.round : 1;
  const context: RequestContext = {
    answers,
    pending: ids,
    current: next ?? null,
    attempts: 0,
    lastError: null,
    round,
    reason: typeof old.reason === 'string' ? old.reason : null,
    parked: next ? { code: 'restored_invalid', stepId: next } : { code: 'restored_invalid' },
    skipped,
  };
  const fresh = {
    status: 'active' as const,
    output: undefined,
    error: undefined,
    value: 'needs_operator',
    context,
    children: {},
    historyValue: {},
  } satisfies Snapshot<unknown> & Record<string, unknown>;
  return createActor(machine, { snapshot: fresh }).getSnapshot();
}

// ---------------------------------------------------------------------------------------------

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const PARK_CODES: ReadonlySet<string> = new Set<ParkCode>(['max_attempts', 'restored_invalid']);

/** The step ids of a machine built by `createRequestMachine` (its `collecting` children). */
function stepIdsOf(machine: RequestMachine): ReadonlySet<string> {
  const collecting = machine.root.states['collecting'];
  return new Set(collecting ? Object.keys(collecting.states) : []);
}

function contextProblem(machine: RequestMachine, value: unknown, context: unknown): string | null {
  if (machine.id !== MACHINE_ID) return `not a request machine: ${machine.id}`;
  if (!isRecord(context)) return 'context is not an object';
  const ids = stepIdsOf(machine);
  const isStep = (x: unknown): boolean => typeof x === 'string' && ids.has(x);
  const isCount = (x: unknown, min: number): boolean => typeof x === 'number' && Number.isInteger(x) && x >= min;

  if (!isRecord(context.answers)) return 'answers is not an object';
  for (const [id, v] of Object.entries(context.answers)) {
    if (!ids.has(id)) return `answer for unknown step ${id}`;
    if (!isRecord(v) || typeof v.kind !== 'string') return `answer ${id} is not a value`;
  }
  if (!Array.isArray(context.pending) || context.pending.length === 0 || !context.pending.every(isStep)) {
    return 'pending is not a non-empty list of step ids';
  }
  if (!(context.current === null || isStep(context.current))) return 'current is not a step id';
  if (!isCount(context.attempts, 0)) return 'attempts is not a count';
  if (!isCount(context.round, 1)) return 'round is not a positive integer';
  if (!(context.reason === null || typeof context.reason === 'string')) return 'reason is not a string';
  if (!(context.lastError === null || (isRecord(context.lastError) && typeof context.lastError.code === 'string'))) {
    return 'lastError is not an error';
  }
  const parked = context.parked;
  if (!(
    parked === null ||
    (isRecord(parked) && PARK_CODES.has(String(parked.code)) && (parked.stepId === undefined || isStep(parked.stepId)))
  )) {
    return 'parked is not a park record';
  }
  if (!Array.isArray(context.skipped) || !context.skipped.every(isStep)) return 'skipped is not a list of step ids';
  if (!(context.album === undefined || typeof context.album === 'string')) return 'album is not a media group id';
  if (isRecord(value) && 'collecting' in value) {
    if (value.collecting !== context.current || !context.pending.includes(context.current)) {
      return `collecting ${String(value.collecting)} but current is ${String(context.current)}`;
    }
  }
  return null;
}
