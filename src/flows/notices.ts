/**
 * Notices to the staff about a request that are not a transition of its machine: it started or was
 * queued, the client blocked the bot, a message could not be delivered, the client's data was erased.
 * The texts sit here, beside `render.ts`; the flow service only puts them in its plans. Pure.
 */
import { genderOf } from '../ui/grammar.js';
import { pickText, type Locale, type RequestDefinition } from '../../machines/definition.js';
import { displayName, html } from '../ui/format.js';
import { t } from '../ui/i18n.js';
import type { OutMessage, PersonInfo } from './types.js';

/** An outbox message of a flow. */
export type FlowMessage = OutMessage & { readonly flowId: number };

function htmlMessage(chatId: number, flowId: number, text: string): FlowMessage {
  return { chatId, flowId, method: 'sendMessage', payload: { text, parse_mode: 'HTML' } };
}

/** Tells the operator their request reached the client (at once, or when it left the queue). */
export function startedNotice(
  flowId: number,
  definition: RequestDefinition,
  client: PersonInfo,
  operator: PersonInfo,
  defaultLocale: Locale,
): FlowMessage {
  const text = t(operator.locale, 'requestStarted', {
    gender: genderOf(definition, operator.locale),
    client: html(displayName(client)),
    title: html(pickText(definition.title, operator.locale, defaultLocale)),
  });
  return htmlMessage(operator.id, flowId, text);
}

/** Tells the operator their request waits behind the client's active one, at `position` in the queue. */
export function queuedNotice(
  flowId: number,
  definition: RequestDefinition,
  client: PersonInfo,
  operator: PersonInfo,
  position: number,
  defaultLocale: Locale,
): FlowMessage {
  const text = t(operator.locale, 'requestQueued', {
    client: html(displayName(client)),
    title: html(pickText(definition.title, operator.locale, defaultLocale)),
    position,
  });
  return htmlMessage(operator.id, flowId, text);
}

/** Tells the operator that the client of their active request blocked the bot. */
export function clientBlockedNotice(
  flowId: number,
  definition: RequestDefinition,
  client: PersonInfo,
  operator: PersonInfo,
  defaultLocale: Locale,
): FlowMessage {
  const text = t(operator.locale, 'clientBlockedNotice', {
    client: html(displayName(client)),
    title: html(pickText(definition.title, operator.locale, defaultLocale)),
  });
  return htmlMessage(operator.id, flowId, text);
}

/** Tells a member of the staff that a message of the flow to `addressee` was refused for good. */
export function deliveryFailedNotice(chatId: number, locale: Locale, flowId: number, addressee: PersonInfo, reason: string): FlowMessage {
  return htmlMessage(chatId, flowId, t(locale, 'deliveryFailed', { client: html(displayName(addressee)), reason: html(reason) }));
}

/** The text a request card in a staff chat is rewritten to once its client's data is erased. */
export function erasedCardText(locale: Locale, flowId: number): string {
  return t(locale, 'erasedCard', { id: flowId });
}

/** Tells a member of the staff that a request was cancelled because its client's data was erased (no name). */
export function erasedCancelledNotice(
  chatId: number,
  locale: Locale,
  flowId: number,
  definition: RequestDefinition,
  defaultLocale: Locale,
): FlowMessage {
  const text = t(locale, 'erasedCancelled', {
    id: flowId,
    title: pickText(definition.title, locale, defaultLocale),
    gender: genderOf(definition, locale),
  });
  return { chatId, flowId, method: 'sendMessage', payload: { text } };
}
