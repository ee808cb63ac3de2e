// A request machine as a plain graph for the playground page: states (nested), transitions, and the
// transitions every waiting state shares (drawn once, as a legend, instead of an arrow from each state).
import type { AnyStateNode, AnyTransitionDefinition } from 'xstate';
import type { RequestDefinition } from '../../machines/definition.js';
import { createRequestMachine } from '../../machines/request.machine.js';

export interface ChartNode {
  /** The state's path joined with dots, as the audit trail names states (`collecting.full_name`). */
  readonly id: string;
  readonly key: string;
  readonly parent: string | null;
  readonly kind: 'compound' | 'atomic' | 'final' | 'choice';
  /** The parent's initial child (or the machine's initial state). */
  readonly initial: boolean;
  readonly description: string | null;
  /** For a step's state: the step type (`photo`, `date`, …), with `optional` when it may be skipped. */
  readonly note: string | null;
}

export interface ChartEdge {
  readonly from: string;
  readonly to: string;
  /** Empty for an eventless (`always`) transition. */
  readonly event: string;
  readonly guard: string | null;
}

export interface Chart {
  readonly nodes: readonly ChartNode[];
  readonly edges: readonly ChartEdge[];
  /** Transitions every top-level waiting state has (RESET, CANCEL, EXPIRE): left out of `edges`. */
  readonly everywhere: readonly { readonly event: string; readonly to: string }[];
}

/** The state chart of the machine a request definition builds. Pure. */
export function chartOf(definition: RequestDefinition): Chart {
  const machine = createRequestMachine(definition);
  const steps = new Map(definition.steps.map((step) => [step.id, step] as const));
  const nodes: ChartNode[] = [];
  const edges: ChartEdge[] = [];

  const visit = (node: AnyStateNode, parent: AnyStateNode | null): void => {
    const children = Object.values(node.states) as AnyStateNode[];
    const id = idOf(node);
    if (parent) {
      const step = parent.key === 'collecting' ? steps.get(node.key) : undefined;
      nodes.push({
        id,
        key: node.key,
        parent: parent === machine.root ? null : idOf(parent),
        kind: children.length > 0 ? 'compound' : node.type === 'final' ? 'final' : isChoice(node) ? 'choice' : 'atomic',
        initial: parent.initial?.target[0] === node,
        description: node.description ?? null,
        note: step ? `${step.type}${step.optional ? ', optional' : ''}` : null,
      });
      for (const t of transitionsOf(node)) {
        const target = t.target?.[0];
        if (target) edges.push({ from: id, to: idOf(target), event: String(t.eventType), guard: guardLabel(t.guard) || null });
      }
    }
    for (const child of children) visit(child, node);
  };
  visit(machine.root, null);

  // A transition shared by every top-level state that waits for someone is drawn once, as a legend.
  const waiting = nodes.filter((n) => n.parent === null && (n.kind === 'atomic' || n.kind === 'compound')).map((n) => n.id);
  const key = (e: { event: string; to: string }): string => `${e.event}→${e.to}`;
  const everywhere = [...new Map(edges.filter((e) => e.event !== '' && e.from === waiting[0]).map((e) => [key(e), e])).values()]
    .filter((candidate) => waiting.every((from) => edges.some((e) => e.from === from && key(e) === key(candidate))))
    .map((e) => ({ event: e.event, to: e.to }));
  const shared = new Set(everywhere.map(key));
  return {
    nodes,
    edges: edges.filter((e) => !(waiting.includes(e.from) && shared.has(key(e)))),
    everywhere,
  };
}

function idOf(node: AnyStateNode): string {
  return node.path.join('.');
}

/** A state that only passes through (eventless transitions, nothing else). */
function isChoice(node: AnyStateNode): boolean {
  return (node.always?.length ?? 0) > 0 && node.transitions.size === 0;
}

function transitionsOf(node: AnyStateNode): AnyTransitionDefinition[] {
  const all: AnyTransitionDefinition[] = [...(node.always ?? [])];
  for (const list of node.transitions.values()) all.push(...list);
  // Re-entering the same state (RETRY_STEP in confirming) and targetless transitions draw nothing useful.
  return all.filter((t) => t.target !== undefined && t.target[0] !== node);
}

function guardLabel(guard: unknown): string {
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'function') return guard.name || 'guard';
  if (typeof guard === 'object' && guard !== null && 'type' in guard) {
    const params =
      'params' in guard && typeof guard.params === 'object' && guard.params !== null ? Object.values(guard.params).map(String) : [];
    return `${String(guard.type)}${params.length > 0 ? `(${params.join(', ')})` : ''}`;
  }
  return '';
}
