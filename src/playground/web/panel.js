// A client's side panel: their requests, the chosen one's state chart (current state highlighted) and its
// audit trail (flow_events), from GET /api/clients/:id/panel.
import { api } from './api.js';
import { renderChart } from './chart.js';
import { h } from './dom.js';

const ACTORS = { client: '👤', operator: '🎧', system: '⚙️' };

export class PanelView {
  constructor(client, { onError }) {
    this.client = client;
    this.onError = onError;
    /** The flow chosen in the list; null follows the client's current one. */
    this.flowId = null;
    this.shown = '';
    this.body = h('div', { class: 'panel-body' }, h('div', { class: 'panel-empty' }, 'Loading…'));
    this.select = h('select', { class: 'flow-select', 'aria-label': 'Request to show', hidden: true, onchange: () => this.choose(this.select.value) });
    this.el = h('aside', { class: 'panel', dataset: { clientId: client.id } },
      h('div', { class: 'panel-head' }, h('span', { class: 'panel-title' }, 'Request flow'), this.select),
      this.body);
  }

  choose(value) {
    this.flowId = value ? Number(value) : null;
    void this.refresh();
  }

  async refresh() {
    let data;
    try {
      data = await api.panel(this.client.id, this.flowId);
    } catch (error) {
      // A panel taken off the page meanwhile (a reset) has nothing to report.
      return this.el.isConnected ? this.onError(`Panel of ${this.client.name}: ${error.message}`) : undefined;
    }
    const json = JSON.stringify(data);
    if (json === this.shown) return;
    this.shown = json;
    this.render(data);
  }

  render({ flows, flow }) {
    this.select.hidden = flows.length < 2;
    this.select.replaceChildren(h('option', { value: '' }, 'Current request'),
      ...flows.map((f) => h('option', { value: f.id, selected: this.flowId === f.id }, `#${f.id} ${f.title} — ${f.status.replaceAll('_', ' ')}`)));
    if (!flow) {
      return this.body.replaceChildren(h('div', { class: 'panel-empty' }, 'No requests yet. As the operator, open this client from the menu (👥 Clients) and send one.'));
    }
    const visited = new Set(flow.timeline.flatMap((e) => [e.from, e.to]).filter(Boolean));
    const last = flow.timeline.at(-1) ?? null;
    this.body.replaceChildren(
      h('div', { class: 'flow-summary' },
        h('div', { class: 'flow-title' }, flow.title, h('span', { class: 'flow-id' }, ` #${flow.id} · v${flow.version}`)),
        h('span', { class: `status status-${flow.status}` }, flow.status.replaceAll('_', ' '))),
      h('div', { class: 'flow-state' }, 'Now: ', h('span', { class: 'current-state', title: flow.state ?? '', dataset: { state: flow.state ?? '' } }, flow.stateLabel ?? '—'),
        flow.refusal ? h('div', { class: 'refusal' }, `Last answer refused: ${flow.refusal}`) : null),
      flow.state === 'queued'
        ? h('div', { class: 'panel-empty' }, 'Queued: it starts when the client finishes their current request.')
        : renderChart(flow.chart, { current: flow.state, visited, last: last && last.from !== last.to ? last : null, labels: flow.labels }),
      flow.answers.length > 0 ? h('h4', {}, 'Answers') : null,
      flow.answers.length > 0
        ? h('dl', { class: 'answers' }, flow.answers.map((a) => {
          const old = a.status === 'rejected' || a.status === 'superseded';
          return h('div', { class: `answer answer-${a.status}`, title: old ? `${a.status}: replaced by a later answer` : a.status },
            h('dt', {}, a.label), h('dd', {}, old ? h('s', {}, a.value) : a.value));
        }))
        : null,
      h('h4', {}, 'Audit trail'),
      h('ol', { class: 'timeline' }, flow.timeline.map((entry) => h('li', { class: `tl-item actor-${entry.actorKind}${entry.refused ? ' refused' : ''}` },
        h('time', { datetime: entry.at }, entry.atText),
        h('div', { class: 'tl-body' },
          h('div', {}, h('span', { class: 'tl-event' }, entry.event), ' ',
            h('span', { class: 'tl-states', title: entry.from ? `${entry.from} → ${entry.to}` : entry.to }, entry.fromLabel ? `${entry.fromLabel} → ${entry.toLabel}` : `→ ${entry.toLabel}`)),
          h('div', { class: 'tl-actor' }, `${ACTORS[entry.actorKind] ?? ''} ${entry.actor}`),
          entry.detail ? h('div', { class: 'tl-detail' }, entry.refused ? h('s', {}, entry.detail) : entry.detail) : null)))));
  }
}
