// A flow's state chart as SVG, laid out here from the graph the server gives (states, transitions):
// top-level states in rows by distance from the initial state, final states last, a compound state as a
// box around its children. The current state is filled, visited ones tinted, the last transition blue.
import { h, s } from './dom.js';

const FAMILY = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
const FONT = `12px ${FAMILY}`;
const BOLD = `600 12px ${FAMILY}`;
const SMALL = `10px ${FAMILY}`;
const MARGIN = 12;
const TOP = 24; // room for the initial-state dot
const ROW_GAP = 52;
const NODE_GAP = 18;
const LANE = 14;
const KID_H = 24;
const KID_GAP = 6;
const NODE_H = 28;
const DIAMOND = 22;

let measure;
function textWidth(text, font = FONT) {
  measure ??= document.createElement('canvas').getContext('2d');
  measure.font = font;
  return measure.measureText(text).width;
}

let charts = 0;

/**
 * @param chart `{ nodes, edges, everywhere }` from /api/clients/:id/panel
 * @param state `{ current, visited: Set<string>, last: { from, to } | null, labels }` (state ids as in the audit trail;
 *   `labels`: each state's name in words, by id)
 */
export function renderChart(chart, { current = null, visited = new Set(), last = null, labels = {} } = {}) {
  const nameOf = (node) => labels[node.id] ?? node.key;
  const byId = new Map(chart.nodes.map((node) => [node.id, node]));
  const topOf = (id) => {
    let node = byId.get(id);
    while (node?.parent) node = byId.get(node.parent);
    return node?.id ?? id;
  };
  const tops = chart.nodes.filter((node) => node.parent === null);
  const kidsOf = (id) => chart.nodes.filter((node) => node.parent === id);

  // Transitions between top-level states, events merged (a step's ANSWER is the box's ANSWER).
  const merged = new Map();
  for (const edge of chart.edges) {
    const from = topOf(edge.from);
    const to = topOf(edge.to);
    if (from === to) continue;
    const entry = merged.get(`${from}>${to}`) ?? { from, to, events: new Set(), detail: new Set() };
    entry.events.add(edge.event || 'always');
    entry.detail.add(`${edge.event || 'always'}${edge.guard ? ` [${edge.guard}]` : ''}`);
    merged.set(`${from}>${to}`, entry);
  }
  const edges = [...merged.values()];

  // Rows: breadth-first distance from the initial state; final states share the last row.
  const rank = new Map();
  const first = tops.find((node) => node.initial) ?? tops[0];
  if (first) rank.set(first.id, 0);
  for (const queue = first ? [first.id] : []; queue.length > 0; ) {
    const id = queue.shift();
    for (const edge of edges) {
      if (edge.from !== id || rank.has(edge.to) || byId.get(edge.to)?.kind === 'final') continue;
      rank.set(edge.to, rank.get(id) + 1);
      queue.push(edge.to);
    }
  }
  let lastRank = Math.max(0, ...rank.values());
  for (const node of tops) if (!rank.has(node.id) && node.kind !== 'final') rank.set(node.id, ++lastRank);
  for (const node of tops) if (node.kind === 'final') rank.set(node.id, lastRank + 1);

  const box = new Map();
  for (const node of tops) {
    if (node.kind === 'compound') {
      const kids = kidsOf(node.id);
      const kidW = Math.max(60, ...kids.map((kid) => textWidth(nameOf(kid)) + (kid.note ? textWidth(` · ${kid.note}`, SMALL) : 0) + 20));
      box.set(node.id, { w: Math.max(kidW, textWidth(nameOf(node), BOLD) + 16) + 16, h: 26 + kids.length * (KID_H + KID_GAP) - KID_GAP + 8 });
    } else if (node.kind === 'choice') {
      box.set(node.id, { w: textWidth(nameOf(node), SMALL) + 5 + DIAMOND, h: DIAMOND });
    } else {
      box.set(node.id, { w: textWidth(nameOf(node)) + 26, h: NODE_H });
    }
  }
  // Within a row, states with transitions going back up sit rightmost, next to the lanes those take.
  const upward = (edge) => rank.get(edge.to) < rank.get(edge.from);
  const score = (nodeId) => edges.filter((edge) => upward(edge) && (edge.from === nodeId || edge.to === nodeId)).length;
  const rows = [];
  for (const node of tops) (rows[rank.get(node.id)] ??= []).push(node);
  for (const row of rows.filter(Boolean)) row.sort((a, b) => score(a.id) - score(b.id));
  // Neighbours in a row are joined straight, with room for the label between them.
  const besideOf = (a, b) => edges.filter((edge) => (edge.from === a.id && edge.to === b.id) || (edge.from === b.id && edge.to === a.id));
  const gapAfter = (row, i) => {
    const next = row[i + 1];
    const labels = next ? besideOf(row[i], next).map((edge) => textWidth([...edge.events].join(', '), SMALL) + 16) : [];
    return Math.max(NODE_GAP, ...labels);
  };
  const rowWidth = (row) => row.reduce((sum, node, i) => sum + box.get(node.id).w + (i < row.length - 1 ? gapAfter(row, i) : 0), 0);
  const width = Math.max(160, ...rows.filter(Boolean).map(rowWidth));
  let y = TOP;
  for (const row of rows.filter(Boolean)) {
    const rowH = Math.max(...row.map((node) => box.get(node.id).h));
    let x = MARGIN + (width - rowWidth(row)) / 2;
    row.forEach((node, i) => {
      const b = box.get(node.id);
      Object.assign(b, { x, y: y + (rowH - b.h) / 2, index: i, rightmost: i === row.length - 1 });
      b.cx = node.kind === 'choice' ? x + b.w - DIAMOND / 2 : x + b.w / 2;
      x += b.w + gapAfter(row, i);
    });
    y += rowH + ROW_GAP;
  }
  // Other transitions up or sideways go round on the right, each in a lane of its own.
  const beside = edges.filter((edge) => rank.get(edge.to) === rank.get(edge.from) && Math.abs(box.get(edge.to).index - box.get(edge.from).index) === 1);
  const around = edges
    .filter((edge) => rank.get(edge.to) <= rank.get(edge.from) && !beside.includes(edge))
    .sort((p, q) => rank.get(p.from) - rank.get(p.to) - (rank.get(q.from) - rank.get(q.to)));
  const forward = edges.filter((edge) => rank.get(edge.to) > rank.get(edge.from));
  // Downward: from the bottom (spread out) to the top, labelled past the middle on the outer side.
  const spread = (key, other) => {
    const at = new Map();
    for (const nodeId of new Set(forward.map((edge) => edge[key]))) {
      const b = box.get(nodeId);
      const group = forward.filter((edge) => edge[key] === nodeId).sort((p, q) => box.get(p[other]).cx - box.get(q[other]).cx);
      group.forEach((edge, i) => at.set(edge, byId.get(nodeId)?.kind === 'choice' ? b.cx : b.x + (b.w * (i + 1)) / (group.length + 1)));
    }
    return at;
  };
  const starts = spread('from', 'to');
  const ends = spread('to', 'from');
  const downward = forward.map((edge) => {
    const [sx, sy, tx, ty] = [starts.get(edge), box.get(edge.from).y + box.get(edge.from).h, ends.get(edge), box.get(edge.to).y];
    const dy = (ty - sy) / 2;
    const [lx, ly] = bezier(0.6, [sx, sy], [sx, sy + dy], [tx, ty - dy], [tx, ty]);
    const left = tx < sx - 1;
    const text = [...edge.events].join(', ');
    return { edge, d: `M${sx},${sy} C${sx},${sy + dy} ${tx},${ty - dy} ${tx},${ty}`, label: { x: lx + (left ? -4 : 4), y: ly + 3, 'text-anchor': left ? 'end' : 'start' }, right: left ? lx : lx + 4 + textWidth(text, SMALL) };
  });
  const laneStart = Math.max(MARGIN + width, ...downward.map((item) => item.right)) + 8;
  const svgWidth = laneStart + around.length * LANE + MARGIN;
  const svgHeight = y - ROW_GAP + MARGIN;

  const id = `chart${++charts}`;
  const currentTop = current ? topOf(current) : null;
  // The last transition, through a choice state (routing) when it passed one.
  const lastEdges = new Set();
  if (last?.from) {
    const [from, to] = [topOf(last.from), topOf(last.to)];
    if (merged.has(`${from}>${to}`)) lastEdges.add(`${from}>${to}`);
    else {
      for (const choice of tops.filter((node) => node.kind === 'choice')) {
        if (merged.has(`${from}>${choice.id}`) && merged.has(`${choice.id}>${to}`)) lastEdges.add(`${from}>${choice.id}`).add(`${choice.id}>${to}`);
      }
    }
  }
  const svg = s('svg', { class: 'chart-svg', viewBox: `0 0 ${svgWidth} ${svgHeight}`, width: svgWidth, height: svgHeight, role: 'img', 'aria-label': 'State chart' },
    s('defs', {},
      s('marker', { id: `${id}-arrow`, viewBox: '0 0 8 8', refX: 7, refY: 4, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, s('path', { d: 'M0,0 L8,4 L0,8 z', class: 'arrow' })),
      s('marker', { id: `${id}-arrow-last`, viewBox: '0 0 8 8', refX: 7, refY: 4, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, s('path', { d: 'M0,0 L8,4 L0,8 z', class: 'arrow last' }))));
  const edgeLayer = s('g', { class: 'edges' });
  const labelLayer = s('g', { class: 'labels' });
  // Labels are placed after every edge is drawn: those on straight and lane edges stay, a label on a
  // curve moves along its row gap until it meets no other label and no state.
  const placed = [];
  const draw = (edge, d, label, back, movable = false) => {
    const isLast = lastEdges.has(`${edge.from}>${edge.to}`);
    edgeLayer.append(s('path', { d, class: `edge${back ? ' back' : ''}${isLast ? ' last' : ''}`, 'marker-end': `url(#${id}-arrow${isLast ? '-last' : ''})` }, s('title', {}, [...edge.detail].join('\n'))));
    placed.push({ label, text: [...edge.events].join(', '), className: `edge-label${isLast ? ' last' : ''}`, movable });
  };

  for (const item of downward) draw(item.edge, item.d, item.label, false, true);
  for (const edge of beside) {
    const [from, to] = [box.get(edge.from), box.get(edge.to)];
    const rightwards = to.index > from.index;
    const sy = from.y + from.h / 2;
    const sx = rightwards ? from.x + from.w : from.x;
    const tx = rightwards ? to.x : to.x + to.w;
    draw(edge, `M${sx},${sy} H${tx}`, { x: (sx + tx) / 2, y: sy - 5, 'text-anchor': 'middle' }, false);
  }
  // Up (or across): out of the right side (or the bottom), up a lane of its own, into the right side (or the top).
  around.forEach((edge, lane) => {
    const [from, to] = [box.get(edge.from), box.get(edge.to)];
    const lx = laneStart + 4 + lane * LANE;
    const side = (b) => (b.rightmost ? { x: b.x + b.w, y: b.y + b.h / 2, side: true } : null);
    const inner = (b, nodeId) => (byId.get(nodeId)?.kind === 'choice' ? b.cx : b.x + b.w - 8);
    const exit = side(from) ?? { x: inner(from, edge.from), y: from.y + from.h, side: false };
    const entry = side(to) ?? { x: inner(to, edge.to), y: to.y, side: false };
    const y1 = exit.side ? exit.y : exit.y + 8 + lane * 3;
    const y2 = entry.side ? entry.y : entry.y - 8 - lane * 3;
    const d = `M${exit.x},${exit.y}${exit.side ? '' : ` V${y1}`} H${lx} V${y2} H${entry.x}${entry.side ? '' : ` V${entry.y}`}`;
    draw(edge, d, { transform: `translate(${lx - 3},${(y1 + y2) / 2}) rotate(-90)`, 'text-anchor': 'middle' }, true);
  });
  svg.append(edgeLayer);

  const nodeLayer = s('g', { class: 'nodes' });
  const stateClass = (nodeId) => [nodeId === current ? 'current' : '', nodeId === currentTop && nodeId !== current ? 'active' : '', visited.has(nodeId) ? 'visited' : ''].filter(Boolean).join(' ');
  for (const node of tops) {
    const b = box.get(node.id);
    const g = s('g', { class: `node ${node.kind} ${stateClass(node.id)}`, dataset: { state: node.id } }, s('title', {}, node.description ?? node.id));
    if (node.initial) nodeLayer.append(s('circle', { cx: b.cx, cy: b.y - 14, r: 4, class: 'initial' }), s('path', { d: `M${b.cx},${b.y - 10} V${b.y - 1}`, class: 'edge', 'marker-end': `url(#${id}-arrow)` }));
    if (node.kind === 'choice') {
      const x = b.x + b.w - DIAMOND;
      const top = b.y;
      const half = DIAMOND / 2;
      g.append(s('path', { d: `M${x + half},${top} L${x + DIAMOND},${top + half} L${x + half},${top + DIAMOND} L${x},${top + half} z`, class: 'shape' }),
        s('text', { x: x - 5, y: top + half + 3.5, 'text-anchor': 'end', class: 'choice-label' }, nameOf(node)));
    } else if (node.kind === 'compound') {
      g.append(s('rect', { x: b.x, y: b.y, width: b.w, height: b.h, rx: 10, class: 'shape' }), s('text', { x: b.x + 10, y: b.y + 17, class: 'compound-label' }, nameOf(node)));
      kidsOf(node.id).forEach((kid, i) => {
        const ky = b.y + 26 + i * (KID_H + KID_GAP);
        g.append(s('g', { class: `node kid ${stateClass(kid.id)}`, dataset: { state: kid.id } }, s('title', {}, kid.description ?? kid.id),
          s('rect', { x: b.x + 8, y: ky, width: b.w - 16, height: KID_H, rx: 7, class: 'shape' }),
          s('text', { x: b.x + 18, y: ky + 16 }, nameOf(kid), kid.note ? s('tspan', { class: 'note' }, ` · ${kid.note}`) : null)));
      });
    } else {
      g.append(s('rect', { x: b.x, y: b.y, width: b.w, height: b.h, rx: 8, class: 'shape' }));
      if (node.kind === 'final') g.append(s('rect', { x: b.x + 3, y: b.y + 3, width: b.w - 6, height: b.h - 6, rx: 6, class: 'inner' }));
      g.append(s('text', { x: b.cx, y: b.y + b.h / 2 + 4, 'text-anchor': 'middle' }, nameOf(node)));
    }
    nodeLayer.append(g);
  }
  const obstacles = tops.map((node) => {
    const b = box.get(node.id);
    return node.kind === 'choice' ? { x: b.x - textWidth(nameOf(node), SMALL) - 5, y: b.y, w: b.w + textWidth(nameOf(node), SMALL) + 5, h: b.h } : { x: b.x, y: b.y, w: b.w, h: b.h };
  });
  const taken = placed.filter((p) => !p.movable).map((p) => labelBox(p.label, textWidth(p.text, SMALL)));
  for (const p of placed.filter((q) => q.movable)) {
    const width = textWidth(p.text, SMALL);
    const free = (dy) => {
      const b = labelBox({ ...p.label, y: p.label.y + dy }, width);
      return ![...taken, ...obstacles].some((o) => overlaps(b, o));
    };
    const dy = LABEL_SHIFTS.find(free) ?? 0;
    p.label = { ...p.label, y: p.label.y + dy };
    taken.push(labelBox(p.label, width));
  }
  for (const p of placed) labelLayer.append(s('text', { ...p.label, class: p.className }, p.text));
  svg.append(nodeLayer, labelLayer);

  const legend = chart.everywhere.length > 0
    ? h('div', { class: 'chart-legend' }, 'From every waiting state: ', chart.everywhere.map((e, i) => [i > 0 ? ' · ' : '', h('code', {}, e.event), ` → ${e.to}`]))
    : null;
  return h('div', { class: 'chart' }, svg, legend);
}

/** How far a curve's label may move up or down to stay clear of the others. */
const LABEL_SHIFTS = [0, -11, 11, -22, 22, -33, 33];
/** The 10 px label font: from the baseline, this much above it and below it. */
const ASCENT = 9;
const DESCENT = 3;

/** The box a label's text takes, from its SVG attributes (`x`, `y`, `text-anchor`, or a rotated `transform`). */
export function labelBox(label, width) {
  const rotated = /translate\(([-\d.]+),([-\d.]+)\) rotate\(-90\)/.exec(label.transform ?? '');
  if (rotated) {
    const [x, y] = [Number(rotated[1]), Number(rotated[2])];
    return { x: x - ASCENT, y: y - width / 2, w: ASCENT + DESCENT, h: width };
  }
  const anchor = label['text-anchor'] ?? 'start';
  const left = anchor === 'end' ? label.x - width : anchor === 'middle' ? label.x - width / 2 : label.x;
  return { x: left, y: label.y - ASCENT, w: width, h: ASCENT + DESCENT };
}

function overlaps(a, b) {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

function bezier(t, p0, p1, p2, p3) {
  const u = 1 - t;
  return [0, 1].map((i) => u * u * u * p0[i] + 3 * u * u * t * p1[i] + 3 * u * t * t * p2[i] + t * t * t * p3[i]);
}
