import { describe, expect, it } from 'vitest';
import { chartOf } from '../../src/playground/chart.js';
import { passportPhoto, personalData } from '../fixtures/definitions.js';

describe('chartOf', () => {
  it('gives every state of personal_data, nested, with the audit trail ids', () => {
    const chart = chartOf(personalData);
    expect(chart.nodes.map((n) => [n.id, n.kind, n.parent])).toEqual([
      ['collecting', 'compound', null],
      ['collecting.full_name', 'atomic', 'collecting'],
      ['collecting.city', 'atomic', 'collecting'],
      ['collecting.birth_date', 'atomic', 'collecting'],
      ['routing', 'choice', null],
      ['confirming', 'atomic', null],
      ['in_review', 'atomic', null],
      ['needs_operator', 'atomic', null],
      ['completed', 'final', null],
      ['cancelled', 'final', null],
      ['expired', 'final', null],
    ]);
    expect(chart.nodes.filter((n) => n.initial).map((n) => n.id)).toEqual(['collecting', 'collecting.full_name']);
    expect(chart.nodes.find((n) => n.id === 'collecting.birth_date')?.note).toBe('date');
  });

  it('draws the ways out shared by every waiting state once, as a legend', () => {
    const chart = chartOf(passportPhoto);
    expect(chart.everywhere).toEqual([
      { event: 'RESET', to: 'routing' },
      { event: 'CANCEL', to: 'cancelled' },
      { event: 'EXPIRE', to: 'expired' },
    ]);
    expect(chart.edges.map((e) => `${e.from} -${e.event || 'always'}-> ${e.to}`)).toEqual([
      'collecting -RETRY_STEP-> routing',
      'collecting.passport -ANSWER-> routing',
      'collecting.passport -ANSWER-> needs_operator',
      'routing -always-> collecting.passport',
      'routing -always-> in_review',
      'in_review -ACCEPT-> completed',
      'in_review -ASK_AGAIN-> routing',
      'needs_operator -RETRY_STEP-> routing',
    ]);
    expect(chart.edges.find((e) => e.to === 'needs_operator')?.guard).toBe('isLastAttempt(passport)');
  });
});
