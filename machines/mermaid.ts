/**
 * Render a machine's state chart as a Mermaid `stateDiagram-v2`, read from `machine.root`:
 * every state, every transition labelled with its event (and guard), eventless transitions from
 * transient states drawn as a `<<choice>>`. Pure: returns the text.
 */
import type { AnyStateMachine, AnyStateNode, AnyTransitionDefinition } from 'xstate';
import type { RequestDefinition } from './definition.js';
import { createRequestMachine } from './request.machine.js';

export function toMermaid(source: AnyStateMachine | RequestDefinition): string {
  const machine: AnyStateMachine = 'steps' in source ? createRequestMachine(source) : source;
  const ids = new Map<AnyStateNode, string>();
  const used = new Set<string>();
  const idOf = (node: AnyStateNode): string => {
    const known = ids.get(node);
    if (known) return known;
    const base = node.path.join('__').replace(/[^A-Za-z0-9_]/g, '_') || 'root';
    let id = base;
    for (let i = 2; used.has(id); i += 1) id = `${base}_${i}`;
    used.add(id);
    ids.set(node, id);
    return id;
  };

  const lines: string[] = ['stateDiagram-v2'];
  const edges: string[] = [];

  const visit = (node: AnyStateNode, indent: string): void => {
    const children = Object.values(node.states) as AnyStateNode[];
    const inner = `${indent}  `;
    for (const child of children) {
      const id = idOf(child);
      const grandchildren = Object.keys(child.states).length > 0;
      if (grandchildren) {
        lines.push(`${indent}state ${id} {`);
        visit(child, inner);
        lines.push(`${indent}}`);
      } else if (isChoice(child)) {
        lines.push(`${indent}state ${id} <<choice>>`);
      } else {
        lines.push(`${indent}state "${child.key}" as ${id}`);
      }
      if (child.type === 'final') edges.push(`${id} --> [*]`);
      for (const t of transitionsOf(child)) edges.push(edge(child, t));
    }
    const first = node.type === 'compound' ? node.initial.target[0] : undefined;
    if (first) lines.push(`${indent}[*] --> ${idOf(first)}`);
  };

  const edge = (source: AnyStateNode, t: AnyTransitionDefinition): string => {
    const from = idOf(source);
    const to = t.target?.[0] ? idOf(t.target[0]) : from;
    const guard = guardLabel(t.guard);
    const event = String(t.eventType);
    let label = [event, guard ? `[${guard}]` : ''].filter(Boolean).join(' ');
    if (!t.target) label += ` / ${t.actions.map(actionLabel).join(', ')}`;
    return label ? `${from} --> ${to} : ${label}` : `${from} --> ${to}`;
  };

  visit(machine.root, '  ');
  for (const e of edges) lines.push(`  ${e}`);
  return `${lines.join('\n')}\n`;
}

/** A state that only passes through (eventless transitions, nothing else). */
function isChoice(node: AnyStateNode): boolean {
  return (node.always?.length ?? 0) > 0 && node.transitions.size === 0 && Object.keys(node.states).length === 0;
}

function transitionsOf(node: AnyStateNode): AnyTransitionDefinition[] {
  const all: AnyTransitionDefinition[] = [...(node.always ?? [])];
  for (const list of node.transitions.values()) all.push(...list);
  // Targetless transitions without actions forbid an event; nothing to draw.
  return all.filter((t) => t.target !== undefined || t.actions.length > 0);
}

function paramsLabel(params: unknown): string {
  if (typeof params !== 'object' || params === null) return '';
  const values = Object.values(params).map((v) => String(v));
  return values.length > 0 ? `(${values.join(', ')})` : '';
}

function guardLabel(guard: unknown): string {
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'function') return guard.name || 'guard';
  if (typeof guard === 'object' && guard !== null && 'type' in guard) {
    return `${String(guard.type)}${'params' in guard ? paramsLabel(guard.params) : ''}`;
  }
  return '';
}

function actionLabel(action: unknown): string {
  if (typeof action === 'string') return action;
  if (typeof action === 'function') return action.name || 'action';
  if (typeof action === 'object' && action !== null && 'type' in action) return String(action.type);
  return 'action';
}
