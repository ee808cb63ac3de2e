/**
 * What a transition means for the people involved: the outgoing messages (outbox rows) for the
 * client and the operator, derived from the machine's effects and the new view. Pure.
 */
import { pickText, type Locale, type RequestDefinition, type StepDefinition } from '../../machines/definition.js';
import type { RequestEffect, RequestEvent } from '../../machines/request.machine.js';
import { mediaGroupOf, stepTypeOf, type InvalidReason, type StepKeyboard } from '../../machines/steps.js';
import type { AnswerView, RequestView } from '../../machines/view.js';
import { pack } from '../ui/callback-data.js';
import { displayName, formatValue, html, stepLabel } from '../ui/format.js';
import { t, tInvalid, type Params } from '../ui/i18n.js';
import { replyKeyboardOf } from '../ui/step-keyboard.js';
import { talkButton, withTalkButton } from '../ui/talk-button.js';
import { CAPTION_MAX, EXCERPT_MAX, REASON_MAX, TEXT_MAX, VALUE_MAX, clip, fitHtml, fitPlain } from '../ui/limits.js';
import type { Actor, OutMessage, PersonInfo } from './types.js';

export interface RenderInput {
  readonly flowId: number;
  /** The flow's version after this transition (buttons carry it to detect stale presses). */
  readonly version: number;
  readonly definition: RequestDefinition;
  readonly client: PersonInfo;
  readonly operator: PersonInfo;
  /** Null for the first prompt of a new flow. */
  readonly event: RequestEvent | null;
  readonly actor: Actor;
  readonly effects: readonly RequestEffect[];
  readonly view: RequestView;
  /** What the flow showed before the event (the review card being edited). */
  readonly before: RequestView | null;
  /** Set when an answer was refused. */
  readonly invalid: InvalidReason | null;
  /**
   * The locale a text falls back to when the frozen definition lacks the recipient's (it was stored
   * before that locale was added); then any text there is.
   */
  readonly defaultLocale?: Locale;
}

/** An inline button with packed callback data, as the Bot API takes it. */
export type InlineButton = { text: string; callback_data: string };

export const reviewCardKey = (flowId: number) => `review:${flowId}`;
export const alertCardKey = (flowId: number) => `alert:${flowId}`;

/**
 * The review card's buttons (accept, ask again) for the flow at `version`: the one place they are made,
 * for the card the outbox sends and for the card the bot redraws when a press came too late.
 */
export function reviewKeyboard(locale: Locale, flowId: number, version: number): InlineButton[][] {
  return [
    [
      { text: t(locale, 'accept'), callback_data: pack({ kind: 'accept', flow: flowId, version }) },
      { text: t(locale, 'askAgain'), callback_data: pack({ kind: 'askAgain', flow: flowId, version }) },
    ],
  ];
}

/**
 * The messages for one transition. User input appears only as short excerpts (`clip`), and every
 * text and caption is fitted to Telegram's limits as the last step.
 */
export function render(input: RenderInput): OutMessage[] {
  return renderAll(input).map(fitted);
}

function renderAll(input: RenderInput): OutMessage[] {
  const out: OutMessage[] = [];
  const { client, operator, definition, view } = input;
  const toClient = (text: string, extra: Record<string, unknown> = {}) =>
    out.push({ chatId: client.id, method: 'sendMessage', payload: { text, parse_mode: 'HTML', ...extra } });
  const toOperator = (text: string, extra: Record<string, unknown> = {}, cardKey?: string) =>
    out.push({
      chatId: operator.id,
      method: 'sendMessage',
      payload: { text, parse_mode: 'HTML', ...extra },
      ...(cardKey ? { cardKey } : {}),
    });
  const editCard = (cardKey: string, text: string) =>
    out.push({ chatId: operator.id, method: 'editMessageText', payload: { text, parse_mode: 'HTML' }, cardKey });
  const fallback = input.defaultLocale;
  const title = (locale: Locale) => pickText(definition.title, locale, fallback);
  const clientName = html(displayName(client));

  const event = input.event;
  if (input.invalid && view.kind === 'prompt') {
    const lines = [
      `❗ ${html(invalidText(input.invalid, view.step.patternError ? pickText(view.step.patternError, client.locale, fallback) : null, client.locale))}`,
    ];
    if (view.attemptsLeft <= 2) lines.push(t(client.locale, 'attemptsLeft', { n: view.attemptsLeft }));
    // At a phone or location step the easy way out of any error is the button that shares it.
    const keyboard = sharingKeyboard(view.step, client.locale);
    toClient(lines.join('\n'), keyboard ? { reply_markup: keyboard } : {});
  }
  // An album is several messages: its first item was taken, the others will be ignored (one notice, here).
  if (event?.type === 'ANSWER' && !input.invalid && mediaGroupOf(event.answer) !== undefined) {
    toClient(html(t(client.locale, 'albumKept', { media: event.answer.kind === 'photo' ? 'photo' : 'document' })));
  }

  if (event?.type === 'ASK_AGAIN')
    editCard(
      reviewCardKey(input.flowId),
      `${reviewText(input, operator.locale)}\n\n${t(operator.locale, 'askedAgainCard', {
        // A preset reason in the operator's language; a typed one as typed.
        reason: html(clip(event.operatorReason ?? event.reason, REASON_MAX)),
      })}`,
    );
  // Started over by an operator: the client hears it (and why) before the first prompt again.
  if (event?.type === 'RESET' && input.actor.kind === 'operator') {
    const why = event.reason ? `\n${html(t(client.locale, 'reasonWhy', { reason: clip(event.reason, REASON_MAX) }))}` : '';
    toClient(`${html(t(client.locale, 'resetClient', { title: title(client.locale) }))}${why}`);
  }
  // A review card whose request started over no longer offers Accept / Ask again.
  if (event?.type === 'RESET' && input.before?.kind === 'review')
    editCard(reviewCardKey(input.flowId), `${reviewText(input, operator.locale)}\n\n${t(operator.locale, 'reset')} ✓`);
  if ((event?.type === 'RETRY_STEP' || event?.type === 'RESET') && input.before?.kind === 'needs_operator') {
    editCard(
      alertCardKey(input.flowId),
      `${html(title(operator.locale))} · ${clientName}\n\n${t(operator.locale, event.type === 'RESET' ? 'reset' : 'retryStep')} ✓`,
    );
  }

  for (const effect of input.effects) {
    switch (effect.type) {
      case 'prompt':
        if (view.kind === 'prompt') out.push(promptMessage(input, view));
        break;
      case 'remind':
        toClient(t(client.locale, 'reminder', { title: html(title(client.locale)) }));
        if (view.kind === 'prompt') out.push(promptMessage(input, view));
        if (view.kind === 'confirm') out.push(summaryMessage(input, view.answers));
        break;
      case 'presentSummary':
        if (view.kind === 'confirm') out.push(summaryMessage(input, view.answers));
        break;
      case 'requestReview':
        if (view.kind !== 'review') break;
        // A retry of the review re-sends the card; the client was already thanked.
        if (event?.type !== 'RETRY_STEP') toClient(t(client.locale, 'sentForReview'));
        out.push(...fileMessages(input, view.answers));
        toOperator(
          reviewText(input, operator.locale),
          { reply_markup: { inline_keyboard: reviewKeyboard(operator.locale, input.flowId, input.version) } },
          reviewCardKey(input.flowId),
        );
        break;
      case 'notifyOperator': {
        if (view.kind !== 'needs_operator') break;
        if (view.parked.code === 'max_attempts') toClient(t(client.locale, 'parkedClient'));
        const step = view.step ? stepLabel(view.step, operator.locale, fallback) : '—';
        const error = view.error
          ? invalidText(
              view.error,
              view.step?.patternError ? pickText(view.step.patternError, operator.locale, fallback) : null,
              operator.locale,
            )
          : '—';
        toOperator(
          t(operator.locale, 'parkedOperator', {
            client: clientName,
            step: html(step),
            title: html(title(operator.locale)),
            attempts: view.step?.maxAttempts ?? 0,
            error: html(error),
          }),
          { reply_markup: { inline_keyboard: [flowControls(input, operator.locale)] } },
          alertCardKey(input.flowId),
        );
        break;
      }
      case 'finish':
        finish(effect.params.outcome);
        break;
    }
  }
  return out;

  function finish(outcome: 'completed' | 'cancelled' | 'expired'): void {
    const answers = view.kind === 'completed' || view.kind === 'cancelled' || view.kind === 'expired' ? view.answers : [];
    if (outcome === 'completed') {
      if (event?.type === 'ACCEPT') {
        toClient(t(client.locale, 'acceptedClient', { title: html(title(client.locale)) }));
        editCard(
          reviewCardKey(input.flowId),
          `${reviewText(input, operator.locale)}\n\n${t(operator.locale, 'acceptedCard', { operator: html(actorName(input)) })}`,
        );
      } else {
        toClient(t(client.locale, 'completedClient', { title: html(title(client.locale)) }));
        out.push(...fileMessages(input, answers));
        toOperator(
          `${t(operator.locale, 'completedOperator', { client: clientName, title: html(title(operator.locale)) })}\n\n${answerLines(answers, operator.locale, fallback)}`,
        );
      }
      return;
    }
    const clientKey = outcome === 'cancelled' ? 'cancelledClient' : 'expiredClient';
    const why =
      event?.type === 'CANCEL' && event.reason
        ? `\n${html(t(client.locale, 'reasonWhy', { reason: clip(event.reason, REASON_MAX) }))}`
        : '';
    toClient(`${t(client.locale, clientKey, { title: html(title(client.locale)) })}${why}`);
    const card = t(operator.locale, outcome === 'cancelled' ? 'cancelledCard' : 'expiredCard');
    // Only a card that still shows buttons needs closing; older ones answer "changed" when pressed.
    if (input.before?.kind === 'review') editCard(reviewCardKey(input.flowId), `${reviewText(input, operator.locale)}\n\n${card}`);
    if (input.before?.kind === 'needs_operator')
      editCard(alertCardKey(input.flowId), `${html(title(operator.locale))} · ${clientName}\n\n${card}`);
    if (outcome === 'expired') toOperator(t(operator.locale, 'clientExpired', { client: clientName, title: html(title(operator.locale)) }));
    else if (input.actor.kind === 'client')
      toOperator(t(operator.locale, 'clientCancelled', { client: clientName, title: html(title(operator.locale)) }));
  }
}

function actorName(input: RenderInput): string {
  return input.actor.kind === 'operator' && input.actor.id === input.operator.id
    ? displayName(input.operator)
    : input.actor.id === null
      ? 'system'
      : `id ${input.actor.id}`;
}

/** Parameters of a refusal that repeat what the client sent: shown as short excerpts only. */
const ECHOED_PARAMS: ReadonlySet<string> = new Set(['input', 'mimeType']);

/** A refusal's text (plain: escape it for HTML), with any echoed input cut to a short excerpt. */
function invalidText(reason: InvalidReason, patternError: string | null, locale: Locale): string {
  if (reason.code === 'pattern_mismatch' && patternError) return patternError;
  const params: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(reason.params ?? {})) {
    params[key] = typeof value === 'string' && ECHOED_PARAMS.has(key) ? clip(value, EXCERPT_MAX) : value;
  }
  return tInvalid(locale, reason.code, params satisfies Params);
}

/** The step's keyboard as data (its step type's `keyboard`). */
function keyboardOf(step: StepDefinition): StepKeyboard {
  return stepTypeOf(step.type)?.keyboard(step) ?? { kind: 'none' };
}

/** The reply keyboard with a sharing button (number, location), for such a step without inline buttons. */
function sharingKeyboard(step: StepDefinition, locale: Locale): Record<string, unknown> | undefined {
  return step.optional ? undefined : replyKeyboardOf(keyboardOf(step), locale);
}

/** The message as Telegram will take it: its text (or caption) within the limit, HTML kept valid. */
function fitted(message: OutMessage): OutMessage {
  const payload = message.payload;
  const isHtml = payload['parse_mode'] === 'HTML';
  const text = payload['text'];
  if (typeof text === 'string') {
    const fit = isHtml ? fitHtml(text, TEXT_MAX) : fitPlain(text, TEXT_MAX);
    return fit === text ? message : { ...message, payload: { ...payload, text: fit } };
  }
  const caption = payload['caption'];
  if (typeof caption === 'string') {
    const fit = isHtml ? fitHtml(caption, CAPTION_MAX) : fitPlain(caption, CAPTION_MAX);
    return fit === caption ? message : { ...message, payload: { ...payload, caption: fit } };
  }
  return message;
}

function promptMessage(input: RenderInput, view: Extract<RequestView, { kind: 'prompt' }>): OutMessage {
  const locale = input.client.locale;
  const fallback = input.defaultLocale;
  const step = view.step;
  const title = pickText(input.definition.title, locale, fallback);
  // One step asked again (an edit, or an ask-again of one step) is named rather than numbered "1 of 1".
  const header =
    view.total === 1 && input.definition.steps.length > 1
      ? t(locale, 'stepAgainHeader', { title, step: stepLabel(step, locale, fallback) })
      : t(locale, 'stepHeader', { title, position: view.position, total: view.total });
  const lines = [`<b>${html(header)}</b>`];
  if (view.reason && view.round > 1 && view.position === 1)
    lines.push(`🔁 ${html(t(locale, 'askAgainHeader', { reason: clip(view.reason, REASON_MAX) }))}`);
  lines.push('', html(pickText(step.prompt, locale, fallback)));
  if (view.previous && view.previous.kind !== 'file')
    lines.push(
      '',
      `<i>${html(t(locale, 'previousValue', { value: clip(formatValue(step, view.previous, locale, fallback), VALUE_MAX) }))}</i>`,
    );

  const keyboard = keyboardOf(step);
  const inline: InlineButton[][] = [];
  if (keyboard.kind === 'options') {
    const buttons = keyboard.options.map((option, i) => ({
      text: pickText(option.label, locale, fallback),
      callback_data: pack({ kind: 'choose', flow: input.flowId, version: input.version, option: i }),
    }));
    for (let i = 0; i < buttons.length; i += 2) inline.push(buttons.slice(i, i + 2));
  }
  if (step.optional)
    inline.push([{ text: t(locale, 'skip'), callback_data: pack({ kind: 'skip', flow: input.flowId, version: input.version }) }]);
  let replyMarkup: Record<string, unknown> | undefined;
  if (inline.length > 0) replyMarkup = { inline_keyboard: inline };
  else replyMarkup = sharingKeyboard(step, locale);
  return {
    chatId: input.client.id,
    method: 'sendMessage',
    payload: { text: lines.join('\n'), parse_mode: 'HTML', reply_markup: withTalkButton(replyMarkup, locale) },
  };
}

function summaryMessage(input: RenderInput, answers: readonly AnswerView[]): OutMessage {
  const locale = input.client.locale;
  const fallback = input.defaultLocale;
  const edits = answers.map((a, i) => ({
    text: t(locale, 'edit', { label: stepLabel(a.step, locale, fallback) }),
    callback_data: pack({ kind: 'edit', flow: input.flowId, version: input.version, step: i }),
  }));
  const rows: InlineButton[][] = [
    [{ text: t(locale, 'confirm'), callback_data: pack({ kind: 'confirm', flow: input.flowId, version: input.version }) }],
  ];
  for (let i = 0; i < edits.length; i += 2) rows.push(edits.slice(i, i + 2));
  rows.push([talkButton(locale)]);
  return {
    chatId: input.client.id,
    method: 'sendMessage',
    payload: {
      text: `<b>${html(t(locale, 'summaryHeader', { title: pickText(input.definition.title, locale, fallback) }))}</b>\n\n${answerLines(answers, locale, fallback)}`,
      parse_mode: 'HTML',
      reply_markup: { inline_keyboard: rows },
    },
  };
}

/**
 * Room for the answer lines of a summary or a review card: the rest of the message (a header with the
 * title and the client's name, a footer with an ask-again reason) takes at most this much less.
 */
const ANSWERS_ROOM = TEXT_MAX - 1000;

/**
 * "<b>Label</b>: value" per step. Each value is shown cut to an excerpt (the stored value is whole),
 * short enough that every line fits in one message: `VALUE_MAX` characters, less when there are
 * many steps.
 */
export function answerLines(answers: readonly AnswerView[], locale: Locale, fallback?: Locale): string {
  const labels = answers.reduce((sum, a) => sum + stepLabel(a.step, locale, fallback).length + 3, 0);
  const share = Math.floor((ANSWERS_ROOM - labels) / Math.max(1, answers.length));
  const max = Math.max(EXCERPT_MAX, Math.min(VALUE_MAX, share));
  return answers
    .map((a) => {
      const value = a.value
        ? clip(formatValue(a.step, a.value, locale, fallback), max)
        : a.skipped
          ? t(locale, 'skipped')
          : t(locale, 'notAnswered');
      return `<b>${html(stepLabel(a.step, locale, fallback))}</b>: ${html(value)}`;
    })
    .join('\n');
}

/** The review card's text, from the view it was made for (before the event that changes it). */
function reviewText(input: RenderInput, locale: Locale): string {
  const view = input.before?.kind === 'review' || input.view.kind !== 'review' ? (input.before ?? input.view) : input.view;
  const answers = 'answers' in view ? view.answers : [];
  const round = 'round' in view ? view.round : 1;
  return `<b>${html(t(locale, 'reviewHeader', { title: pickText(input.definition.title, locale, input.defaultLocale), client: displayName(input.client), round }))}</b>\n\n${answerLines(answers, locale, input.defaultLocale)}`;
}

/** The files among the answers, re-sent to the operator by file_id with a caption. */
function fileMessages(input: RenderInput, answers: readonly AnswerView[]): OutMessage[] {
  const locale = input.operator.locale;
  return answers.flatMap((a): OutMessage[] => {
    if (a.value?.kind !== 'file') return [];
    const caption = t(locale, 'fileCaption', {
      client: displayName(input.client),
      title: pickText(input.definition.title, locale, input.defaultLocale),
      step: stepLabel(a.step, locale, input.defaultLocale),
    });
    return a.value.media === 'photo'
      ? [{ chatId: input.operator.id, method: 'sendPhoto', payload: { photo: a.value.fileId, caption } }]
      : [{ chatId: input.operator.id, method: 'sendDocument', payload: { document: a.value.fileId, caption } }];
  });
}

function flowControls(input: RenderInput, locale: Locale): InlineButton[] {
  const args = { flow: input.flowId, version: input.version };
  return [
    { text: t(locale, 'retryStep'), callback_data: pack({ kind: 'retry', ...args }) },
    { text: t(locale, 'reset'), callback_data: pack({ kind: 'reset', ...args }) },
    { text: t(locale, 'cancel'), callback_data: pack({ kind: 'cancel', ...args }) },
  ];
}
