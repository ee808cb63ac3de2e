// The side panel of a client on the playground page: their flows, the chosen flow's state chart with the
// current state, and its audit trail.
import { pickText, type Locale, type RequestDefinition } from '../../machines/definition.js';
import type { StepValue } from '../../machines/steps.js';
import type { RequestView } from '../../machines/view.js';
import type { FlowService } from '../flows/service.js';
import type { FlowSummary } from '../flows/types.js';
import { formatTimestamp, formatValue, stepLabel } from '../ui/format.js';
import { tInvalid, tStatus, type Params } from '../ui/i18n.js';
import { FLOW_STATUSES } from '../flows/statuses.js';
import { EXCERPT_MAX, VALUE_MAX, clip } from '../ui/limits.js';
import { chartOf, type Chart } from './chart.js';

export interface TimelineEntry {
  readonly id: number;
  readonly at: string;
  /** `at` as people read it: `15.06.2026 14:05` (UTC). */
  readonly atText: string;
  readonly event: string;
  readonly from: string | null;
  readonly to: string;
  /** `from` and `to` in words: a step's label, a status. */
  readonly fromLabel: string | null;
  readonly toLabel: string;
  /** An answer the flow did not take (it stayed on the same step). */
  readonly refused: boolean;
  /** What the event carried, in words (an answer's kind, an ask-again reason), or null. */
  readonly detail: string | null;
  readonly actorKind: 'client' | 'operator' | 'system';
  /** The actor's name, or `system`. */
  readonly actor: string;
}

/** An answer of the flow, shown as the bot shows it. */
export interface AnswerEntry {
  readonly label: string;
  readonly value: string;
  readonly status: string;
}

export interface FlowPanel {
  readonly id: number;
  readonly requestId: string;
  readonly title: string;
  readonly status: string;
  readonly version: number;
  /** Where the flow rests: the last audited state (`queued` before it starts). */
  readonly state: string | null;
  /** `state` in words ("Full name" for `collecting.full_name`). */
  readonly stateLabel: string | null;
  /** Why the client's last answer was refused, while the step is still asked; else null. */
  readonly refusal: string | null;
  readonly chart: Chart;
  /** Every state of the chart in words, by its id. */
  readonly labels: Readonly<Record<string, string>>;
  /** The answers in the order of the steps: taken ones, and those asked again or replaced (struck). */
  readonly answers: readonly AnswerEntry[];
  readonly timeline: readonly TimelineEntry[];
}

export interface ClientPanel {
  readonly clientId: number;
  /** The client's flows, newest first. */
  readonly flows: readonly { id: number; requestId: string; title: string; status: string }[];
  /** The chosen flow (the active one, else the newest), or null when the client has none. */
  readonly flow: FlowPanel | null;
}

export interface PanelDeps {
  readonly flows: FlowService;
  readonly locale: Locale;
  /** The language a client reads (titles, labels and values are shown in it). */
  readonly localeOf: (id: number) => Locale;
  /** A person's display name, or undefined when unknown. */
  readonly nameOf: (id: number) => string | undefined;
}

const RECENT_FLOWS = 20;

export class Panels {
  private readonly charts = new Map<string, Chart>();

  constructor(private readonly deps: PanelDeps) {}

  async of(clientId: number, flowId?: number): Promise<ClientPanel> {
    const { flows } = this.deps;
    const recent = await flows.flowsOf(clientId, RECENT_FLOWS);
    const active = await flows.activeFlow(clientId);
    const chosen = recent.find((f) => f.id === flowId) ?? (active ? recent.find((f) => f.id === active.id) : undefined) ?? recent[0];
    return {
      clientId,
      flows: recent.map((f) => ({ id: f.id, requestId: f.requestId, title: this.titleOf(f), status: f.status })),
      flow: chosen ? await this.flowPanel(chosen, active?.id === chosen.id ? active.view : null) : null,
    };
  }

  /** `view`: what the flow shows now, when it is the active one (a refused answer's reason is there). */
  private async flowPanel(flow: FlowSummary, view: RequestView | null): Promise<FlowPanel> {
    const locale = this.deps.localeOf(flow.clientId);
    const chart = this.chartOf(flow);
    const labels = Object.fromEntries(chart.nodes.map((n) => [n.id, stateLabel(flow.definition, n.id, locale)]));
    const label = (state: string): string => labels[state] ?? stateLabel(flow.definition, state, locale);
    const events = await this.deps.flows.eventsOf(flow.id);
    const timeline = events.map((e) => {
      const refused = e.event === 'ANSWER' && e.fromState === e.toState;
      return {
        id: e.id,
        at: e.at.toISOString(),
        atText: formatTimestamp(e.at),
        event: e.event,
        from: e.fromState,
        to: e.toState,
        fromLabel: e.fromState === null ? null : label(e.fromState),
        toLabel: label(e.toState),
        refused,
        detail: detailOf(e.event, e.payload, flow.definition, locale, refused),
        actorKind: e.actorKind,
        actor: e.actorId === null ? 'system' : (this.deps.nameOf(e.actorId) ?? String(e.actorId)),
      };
    });
    const steps = flow.definition.steps;
    const position = (stepId: string): number => {
      const index = steps.findIndex((s) => s.id === stepId);
      return index < 0 ? steps.length : index;
    };
    const answers = (await this.deps.flows.answersOf(flow.id))
      .sort((a, b) => position(a.stepId) - position(b.stepId))
      .map((a) => {
        const step = steps.find((s) => s.id === a.stepId);
        return {
          label: step ? stepLabel(step, locale, this.deps.locale) : a.stepId,
          value: clip(formatValue(step, a.value as StepValue, locale, this.deps.locale), VALUE_MAX),
          status: a.status,
        };
      });
    const state = timeline.at(-1)?.to ?? (flow.status === 'queued' ? 'queued' : null);
    const error = view?.kind === 'prompt' ? view.error : null;
    return {
      id: flow.id,
      requestId: flow.requestId,
      title: this.titleOf(flow),
      status: flow.status,
      version: flow.version,
      state,
      stateLabel: state === null ? null : label(state),
      refusal: error ? tInvalid(locale, error.code, clipped(error.params)) : null,
      chart,
      labels,
      answers,
      timeline,
    };
  }

  private chartOf(flow: FlowSummary): Chart {
    const { definition } = flow;
    let chart = this.charts.get(definition.hash);
    if (!chart) {
      chart = chartOf(definition);
      this.charts.set(definition.hash, chart);
    }
    return chart;
  }

  /** In the client's language, as the client reads it. */
  private titleOf(flow: FlowSummary): string {
    return pickText(flow.definition.title, this.deps.localeOf(flow.clientId), this.deps.locale);
  }
}

/** A state in words: a step's label for `collecting.<step>`, a status's name for the others. */
export function stateLabel(definition: RequestDefinition, state: string, locale: Locale): string {
  const [top, child] = state.split('.');
  const step = top === 'collecting' && child ? definition.steps.find((s) => s.id === child) : undefined;
  if (step) return stepLabel(step, locale);
  const status = FLOW_STATUSES.find((s) => s === top);
  return status ? `${tStatus(locale, status).replace(/^\P{L}+/u, '')}${child ? ` · ${child}` : ''}` : state;
}

/** Refusal parameters that repeat what the client sent, as short excerpts. */
function clipped(params: Readonly<Record<string, string | number>> | undefined): Params {
  const out: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(params ?? {})) out[key] = typeof value === 'string' ? clip(value, EXCERPT_MAX) : value;
  return out;
}

/** An audit payload in words; never the raw object. */
function detailOf(event: string, payload: unknown, definition: RequestDefinition, locale: Locale, refused: boolean): string | null {
  const record = typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>) : {};
  const ru = locale === 'ru';
  switch (event) {
    case 'ANSWER': {
      const kind = typeof record.kind === 'string' ? record.kind : null;
      const what = kind ?? (ru ? 'ответ' : 'answer');
      return refused ? (ru ? `не принят: ${what}` : `refused: ${what}`) : what;
    }
    case 'ASK_AGAIN': {
      const ids = Array.isArray(record.stepIds) ? record.stepIds.filter((s): s is string => typeof s === 'string') : [];
      const steps = ids.map((id) => {
        const step = definition.steps.find((s) => s.id === id);
        return step ? stepLabel(step, locale) : id;
      });
      const reason = typeof record.reason === 'string' ? clip(record.reason, EXCERPT_MAX) : null;
      return [reason ? `“${reason}”` : null, steps.length > 0 ? steps.join(', ') : null].filter(Boolean).join(' · ') || null;
    }
    case 'EDIT_STEP': {
      const step = definition.steps.find((s) => s.id === record.stepId);
      return step ? stepLabel(step, locale) : null;
    }
    case 'DELIVERY_FAILED':
      return typeof record.reason === 'string' ? clip(record.reason, EXCERPT_MAX) : null;
    default:
      return null;
  }
}
