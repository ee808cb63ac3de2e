// The side panel of a client on the playground page: their flows, the chosen flow's state chart with the
// current state, and its audit trail.
import { pickText, type Locale } from '../../machines/definition.js';
import type { FlowService } from '../flows/service.js';
import type { FlowSummary } from '../flows/types.js';
import { chartOf, type Chart } from './chart.js';

export interface TimelineEntry {
  readonly id: number;
  readonly at: string;
  readonly event: string;
  readonly from: string | null;
  readonly to: string;
  readonly actorKind: 'client' | 'operator' | 'system';
  /** The actor's name, or `system`. */
  readonly actor: string;
  readonly payload: unknown;
}

export interface FlowPanel {
  readonly id: number;
  readonly requestId: string;
  readonly title: string;
  readonly status: string;
  readonly version: number;
  /** Where the flow rests: the last audited state (`queued` before it starts). */
  readonly state: string | null;
  readonly chart: Chart;
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
      flow: chosen ? await this.flowPanel(chosen) : null,
    };
  }

  private async flowPanel(flow: FlowSummary): Promise<FlowPanel> {
    const events = await this.deps.flows.eventsOf(flow.id);
    const timeline = events.map((e) => ({
      id: e.id,
      at: e.at.toISOString(),
      event: e.event,
      from: e.fromState,
      to: e.toState,
      actorKind: e.actorKind,
      actor: e.actorId === null ? 'system' : (this.deps.nameOf(e.actorId) ?? String(e.actorId)),
      payload: e.payload,
    }));
    return {
      id: flow.id,
      requestId: flow.requestId,
      title: this.titleOf(flow),
      status: flow.status,
      version: flow.version,
      state: timeline.at(-1)?.to ?? (flow.status === 'queued' ? 'queued' : null),
      chart: this.chartOf(flow),
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

  private titleOf(flow: FlowSummary): string {
    return pickText(flow.definition.title, this.deps.locale);
  }
}
