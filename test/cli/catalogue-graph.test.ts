import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { diagramOf, renderFlowsDoc } from '../../src/cli/flows-doc.js';
import { catalogue } from '../helpers/flows.js';

const DOC = new URL('../../docs/flows.md', import.meta.url);

describe('docs/flows.md', () => {
  it('is what `npm run catalogue:graph` makes of config/catalogue.yaml (run it after editing the catalogue)', async () => {
    const committed = await readFile(DOC, 'utf8');
    expect(committed).toBe(renderFlowsDoc(await catalogue(), 'config/catalogue.yaml'));
  });

  it('has, for every default request type, its steps table and a chart with a state per step', async () => {
    const doc = await readFile(DOC, 'utf8');
    const { requests } = await catalogue();
    expect(requests.length).toBeGreaterThan(0);
    for (const request of requests) {
      const start = doc.indexOf(`\n## ${request.id}\n`);
      expect(start, request.id).toBeGreaterThan(0);
      const end = doc.indexOf('\n## ', start + 1);
      const section = doc.slice(start, end < 0 ? undefined : end);
      const chart = /```mermaid\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
      expect(chart.startsWith('stateDiagram-v2\n'), request.id).toBe(true);
      expect(chart).toBe(diagramOf(request));
      for (const step of request.steps) {
        expect(section, `${request.id}: table row for ${step.id}`).toMatch(new RegExp(`^\\| \\d+ \\| \`${step.id}\` \\|`, 'm'));
        expect(chart, `${request.id}: state ${step.id}`).toContain(`state "${step.id}" as collecting__${step.id}`);
        expect(chart, `${request.id}: way into ${step.id}`).toContain(`routing --> collecting__${step.id} : [isCurrent(${step.id})]`);
      }
      for (const state of ['needs_operator', 'completed', 'cancelled', 'expired']) expect(chart).toContain(`state "${state}" as ${state}`);
      expect(chart.includes('state "confirming"'), `${request.id}: confirming`).toBe(request.confirm);
      expect(chart.includes('state "in_review"'), `${request.id}: in_review`).toBe(request.review);
    }
  });
});
