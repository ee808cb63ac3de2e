/**
 * Model-based coverage with xstate/graph: for every fixture definition and every entry of
 * config/catalogue.yaml, generate the shortest path
 * to every reachable (state, round shape) and check that every state node is reached, that the
 * paths replay through our pure `step`, and that the ways out work from every non-final state.
 */
import { describe, expect, it } from 'vitest';
import { getShortestPaths } from 'xstate/graph';
import type { RequestDefinition } from '../../machines/definition.js';
import { createRequestMachine, initial, initialContext, step, type RequestEvent, type RequestSnapshot } from '../../machines/index.js';
import { STICKER, answerEvent, validAnswer } from '../fixtures/answers.js';
import { ALL_DEFINITIONS } from '../fixtures/definitions.js';
import { loadCatalogueFile } from '../../src/config/catalogue.js';

/** Sample events: valid and invalid answers for the current step, and every other event type. */
function eventsFor(definition: RequestDefinition) {
  const ids = definition.steps.map((s) => s.id);
  return (snapshot: RequestSnapshot): RequestEvent[] => {
    const current = definition.steps.find((s) => s.id === snapshot.context.current);
    return [
      ...(current ? [answerEvent(validAnswer(current)), answerEvent(STICKER)] : []),
      { type: 'SKIP' },
      { type: 'CONFIRM' },
      ...ids.map((stepId) => ({ type: 'EDIT_STEP' as const, stepId })),
      { type: 'EDIT_STEP', stepId: 'ghost' },
      { type: 'ACCEPT' },
      { type: 'ASK_AGAIN', reason: 'all' },
      ...ids.map((stepId) => ({ type: 'ASK_AGAIN' as const, reason: `again ${stepId}`, stepIds: [stepId] })),
      { type: 'ASK_AGAIN', reason: 'ghost', stepIds: ['ghost'] },
      { type: 'RESET' },
      { type: 'RETRY_STEP' },
      { type: 'CANCEL' },
      { type: 'REMIND' },
      { type: 'EXPIRE' },
    ];
  };
}

/** The shape that matters for coverage; answers and round are left out to keep the graph finite. */
function serializeState(snapshot: RequestSnapshot): string {
  const { current, pending, attempts, parked, skipped } = snapshot.context;
  return JSON.stringify({ value: snapshot.value, status: snapshot.status, current, pending, attempts, parked, skipped });
}

function keyOf(snapshot: RequestSnapshot): string {
  const value: unknown = snapshot.value;
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && 'collecting' in value) return `collecting.${String(value.collecting)}`;
  return JSON.stringify(value);
}

function expectedStates(definition: RequestDefinition): string[] {
  return [
    ...definition.steps.map((s) => `collecting.${s.id}`),
    ...(definition.confirm ? ['confirming'] : []),
    ...(definition.review ? ['in_review'] : []),
    'needs_operator',
    'completed',
    'cancelled',
    'expired',
  ];
}

// The hand-written fixtures, and every entry of the shipped catalogue.
const shipped = await loadCatalogueFile('config/catalogue.yaml');
const definitions = [
  ...ALL_DEFINITIONS.map((d) => [`fixture ${d.id}`, d] as const),
  ...shipped.requests.map((d) => [`catalogue ${d.id}`, d] as const),
];

describe.each(definitions)('%s', (_id, definition) => {
  const machine = createRequestMachine(definition);
  const paths = getShortestPaths(machine, { events: eventsFor(definition), serializeState });
  const ends = paths.map((p) => p.state);
  const first = definition.steps[0]?.id;

  it('reaches every state node through a generated path', () => {
    const reached = new Set(ends.map(keyOf));
    expect([...reached].sort()).toEqual(expectedStates(definition).sort());
    // and the machine has no other resting states than those
    const leaves = Object.keys(machine.root.states).flatMap((key) => {
      const node = machine.root.states[key];
      const children = node ? Object.keys(node.states) : [];
      return children.length > 0 ? children.map((c) => `${key}.${c}`) : [key];
    });
    expect(leaves.filter((k) => k !== 'routing').sort()).toEqual(expectedStates(definition).sort());
  });

  it('replays every path through the pure step() to the same snapshot', () => {
    expect(paths.length).toBeGreaterThan(5);
    for (const path of paths) {
      let s = initial(machine).snapshot;
      for (const { event } of path.steps.slice(1)) {
        const r = step(machine, s, event);
        expect(r.handled, `${event.type} in ${keyOf(s)}`).toBe(true);
        s = r.next;
      }
      // Paths are found on the abstraction above, so compare that (rounds may differ).
      expect(serializeState(s)).toBe(serializeState(path.state));
    }
  });

  it('RESET, CANCEL, EXPIRE and RETRY_STEP work from every non-final state', () => {
    const active = ends.filter((s) => s.status === 'active');
    expect(active.length).toBeGreaterThan(3);
    for (const s of active) {
      const reset = step(machine, s, { type: 'RESET' });
      expect(reset.handled).toBe(true);
      expect(reset.next.value).toEqual({ collecting: first });
      expect(reset.next.context).toEqual({ ...initialContext(definition), round: s.context.round + 1 });

      expect(step(machine, s, { type: 'CANCEL' }).next.value).toBe('cancelled');
      expect(step(machine, s, { type: 'EXPIRE' }).next.value).toBe('expired');

      const retry = step(machine, s, { type: 'RETRY_STEP' });
      expect(retry.handled).toBe(true);
      expect(retry.actions.length).toBe(1);
      expect(retry.next.context.attempts).toBe(0);
    }
    for (const s of ends.filter((x) => x.status === 'done')) {
      for (const type of ['RESET', 'CANCEL', 'EXPIRE', 'RETRY_STEP'] as const) {
        expect(step(machine, s, { type }).handled).toBe(false);
      }
    }
  });

  it('parks every step after its max attempts and skips exactly the optional ones', () => {
    const parkedSteps = new Set(ends.filter((s) => keyOf(s) === 'needs_operator').map((s) => s.context.parked?.stepId));
    expect([...parkedSteps].sort()).toEqual(definition.steps.map((s) => s.id).sort());
    for (const def of definition.steps) {
      const at = ends.find((s) => keyOf(s) === `collecting.${def.id}`);
      if (!at) throw new Error(`never at ${def.id}`);
      expect(step(machine, at, { type: 'SKIP' }).handled, def.id).toBe(def.optional);
    }
  });
});
