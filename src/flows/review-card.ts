import type { Locale } from '../../machines/definition.js';
import type { RequestView } from '../../machines/view.js';
import { render, reviewCardKey } from './render.js';
import type { FlowSummary, PersonInfo } from './types.js';

/** The review card of a request in review as the operator gets it (text and buttons), to draw it again in place. */
export function reviewCard(
  flow: FlowSummary & { view: RequestView | null },
  client: PersonInfo,
  operator: PersonInfo,
  defaultLocale: Locale,
): { text: string; replyMarkup: unknown } | null {
  if (flow.view?.kind !== 'review') return null;
  const card = render({
    flowId: flow.id,
    version: flow.version,
    definition: flow.definition,
    client,
    operator,
    event: null,
    actor: { kind: 'operator', id: operator.id },
    effects: [{ type: 'requestReview' }],
    view: flow.view,
    before: null,
    invalid: null,
    defaultLocale,
  }).find((m) => m.cardKey === reviewCardKey(flow.id));
  const text = card?.payload['text'];
  return typeof text === 'string' ? { text, replyMarkup: card?.payload['reply_markup'] } : null;
}
