/**
 * The client card an operator opens from the menu: who the client is, their active and queued requests,
 * the controls that apply to the active one now, and a button per request type. Pure: the menu shows it,
 * and the flow service rewrites open cards with it when a request of the client changes.
 */
import { pickText, type Locale, type Text } from '../../machines/definition.js';
import type { RequestView } from '../../machines/view.js';
import { requestRef } from '../config/catalogue.js';
import { isActive, isFinal, type FlowStatus } from '../flows/statuses.js';
import { pack, type CallbackData } from './callback-data.js';
import { displayName, html, type PersonName } from './format.js';
import { LOCALE_NAMES, isLocale, t, tStatus, type MessageKey } from './i18n.js';

/** A control on a card, for the request it names. */
export type CardAction = 'resend' | 'retry' | 'reset' | 'cancel' | 'reviewCard';

/**
 * The controls that apply to a request in this status, in the order they are shown. A press is checked
 * against the same list when it arrives, so a card made earlier never applies what no longer makes sense:
 * cancel applies to any open request, reset to any active one, retry only while the client answers (or
 * is stuck on a step), resend only what the client is shown (a prompt or the summary).
 */
export function actionsFor(status: FlowStatus): readonly CardAction[] {
  switch (status) {
    case 'collecting':
      return ['resend', 'retry', 'reset', 'cancel'];
    case 'confirming':
      return ['resend', 'reset', 'cancel'];
    case 'in_review':
      return ['reviewCard', 'reset', 'cancel'];
    case 'needs_operator':
      return ['retry', 'reset', 'cancel'];
    case 'queued':
      return ['cancel'];
    default:
      return [];
  }
}

export const appliesTo = (action: CardAction, status: FlowStatus): boolean => actionsFor(status).includes(action);

export interface CardPerson extends PersonName {
  readonly languageCode: string | null;
  /** Chosen with /language (null: the Telegram language). */
  readonly locale: string | null;
  /** The owner (`people.operator_id`), null while nobody has the client. */
  readonly operatorId: number | null;
  readonly blockedAt: Date | null;
  readonly startedAt: Date | null;
}

export interface CardFlow {
  readonly id: number;
  readonly version: number;
  readonly status: FlowStatus;
  readonly title: Text;
  /** What an active request shows now (null: queued, or not restorable). */
  readonly view: RequestView | null;
}

export interface ClientCardInput {
  readonly person: CardPerson;
  /** The client's open requests (active and queued), any order. */
  readonly open: readonly CardFlow[];
  /** The request types of the current catalogue, for the send buttons. */
  readonly requests: readonly { readonly id: string; readonly title: Text }[];
  readonly locale: Locale;
  readonly defaultLocale: Locale;
  /** The owner's name (null: nobody owns the client yet). */
  readonly owner: PersonName | null;
  /** Whether the viewer may hand the client over (the owner, an admin, or anyone with visibility `all`). */
  readonly mayHandOver: boolean;
}

type Button = { text: string; callback_data: string };

const LABELS: Readonly<Record<CardAction, MessageKey>> = {
  resend: 'resendPrompt',
  retry: 'retryStep',
  reset: 'reset',
  cancel: 'cancel',
  reviewCard: 'cardReviewButton',
};

/** The card's HTML text and inline keyboard. */
export function clientCard(input: ClientCardInput): { text: string; keyboard: Button[][] } {
  const { person, locale } = input;
  const tr = (key: MessageKey, params?: Parameters<typeof t>[2]) => t(locale, key, params);
  const textIn = (text: Text) => pickText(text, locale, input.defaultLocale);
  const button = (text: string, data: CallbackData): Button => ({ text, callback_data: pack(data) });
  const active = input.open.find((f) => isActive(f.status));
  const queued = input.open.filter((f) => f.status === 'queued').sort((a, b) => a.id - b.id);

  // The language the client chose with /language, else what their Telegram app says.
  const language = isLocale(person.locale) ? LOCALE_NAMES[person.locale] : person.languageCode;
  const lines = [
    `<b>${html(tr('clientTitle', { name: displayName(person) }))}</b>`,
    `${tr('clientId', { id: person.id })}${language ? ` · ${tr('clientLanguage', { language: html(language) })}` : ''}`,
    html(input.owner ? tr('ownerLine', { owner: displayName(input.owner) }) : tr('ownerNone')),
  ];
  if (person.blockedAt) lines.push(tr('clientBlocked'));
  if (!person.startedAt) lines.push(tr('clientNotStartedYet'));
  lines.push('');
  if (active) {
    const view = active.view;
    const progress = view?.kind === 'prompt' ? ` (${view.position}/${view.total})` : '';
    lines.push(html(tr('activeLine', { title: textIn(active.title), status: `${tStatus(locale, active.status)}${progress}` })));
  } else {
    lines.push(tr('noActiveRequest'));
  }
  if (queued.length > 0) lines.push(html(tr('queuedLine', { titles: queued.map((f) => textIn(f.title)).join(', ') })));
  lines.push('', tr('sendHeader'));

  const keyboard: Button[][] = [];
  if (active) {
    const ref = { flow: active.id, version: active.version };
    const controls = actionsFor(active.status).map((action) => button(tr(LABELS[action]), { kind: action, ...ref }));
    for (let i = 0; i < controls.length; i += 2) keyboard.push(controls.slice(i, i + 2));
  }
  for (const flow of queued)
    keyboard.push([button(`${tr('cancel')}: ${textIn(flow.title)}`, { kind: 'cancel', flow: flow.id, version: flow.version })]);
  // Each button names its request type by a stable reference: a reloaded catalogue never redirects it.
  const sends = input.requests.map((r) => button(textIn(r.title), { kind: 'send', client: person.id, requestRef: requestRef(r.id) }));
  for (let i = 0; i < sends.length; i += 2) keyboard.push(sends.slice(i, i + 2));
  // Nobody's client: Take. Whoever may hand them over: Hand over.
  if (person.operatorId === null) keyboard.push([button(tr('take'), { kind: 'take', client: person.id })]);
  else if (input.mayHandOver) keyboard.push([button(tr('handOver'), { kind: 'handOver', client: person.id })]);
  keyboard.push([button(tr('history'), { kind: 'history', client: person.id }), button(tr('back'), { kind: 'menu' })]);
  return { text: lines.join('\n'), keyboard };
}

const CARD_STATUS_KEYS = {
  collecting: 'cardStatus_collecting',
  confirming: 'cardStatus_confirming',
  in_review: 'cardStatus_in_review',
  needs_operator: 'cardStatus_needs_operator',
  queued: 'cardStatus_queued',
  completed: 'cardStatus_completed',
  cancelled: 'cardStatus_cancelled',
  expired: 'cardStatus_expired',
} as const satisfies Record<FlowStatus, MessageKey>;

/** What the toast says when a press no longer applies: the request's status now. */
export function changedText(locale: Locale, status: FlowStatus | null): string {
  if (status === null) return t(locale, 'changed');
  return t(locale, isFinal(status) || status === 'queued' ? 'cardNowFinal' : 'cardNow', {
    status: t(locale, CARD_STATUS_KEYS[status]),
  });
}
