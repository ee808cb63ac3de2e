// Matching bot messages and buttons, and waiting for the emulator's state to satisfy a check.
import type { StoredMessage } from './chat.js';
import { inlineKeyboardOf, type InlineKeyboardButton } from './markup.js';
import type { EmulatorState } from './state.js';
import type { ChatMessage } from './types.js';
import { toChatMessage } from './views.js';

export type ButtonMatcher = string | RegExp | ((button: InlineKeyboardButton) => boolean);
export type MessageMatcher = string | RegExp | ((message: ChatMessage) => boolean);

const DEFAULT_TIMEOUT_MS = 5_000;

/**
 * Runs `check` now and after every emulator change until it returns a value; on timeout rejects
 * with an Error naming `what` and showing the transcript.
 */
export function waitUntil<T>(
  state: EmulatorState,
  check: () => { value: T } | undefined,
  what: string,
  transcript: () => string,
  timeoutMs = DEFAULT_TIMEOUT_MS,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const finish = (): void => {
      unsubscribe();
      clearTimeout(timer);
    };
    const attempt = (): void => {
      try {
        const result = check();
        if (result) {
          finish();
          resolve(result.value);
        }
      } catch (error) {
        finish();
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    };
    const unsubscribe = state.subscribe(attempt);
    const timer = setTimeout(() => {
      finish();
      reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what}\n${transcript()}`));
    }, timeoutMs);
    attempt();
  });
}

export function buttonMatches(button: InlineKeyboardButton, matcher: ButtonMatcher): boolean {
  if (typeof matcher === 'string') return button.text === matcher;
  if (matcher instanceof RegExp) return matcher.test(button.text);
  return matcher(button);
}

export function messageMatches(message: ChatMessage, matcher: MessageMatcher): boolean {
  const text = message.text ?? message.caption ?? '';
  if (typeof matcher === 'string') return text.includes(matcher);
  if (matcher instanceof RegExp) return matcher.test(text);
  return matcher(message);
}

/** The newest live bot message (or message `messageId`) with a callback button matching `matcher`. */
export function findCallbackButton(
  messages: readonly StoredMessage[],
  matcher: ButtonMatcher,
  messageId?: number,
): { message: StoredMessage; data: string; text: string } | undefined {
  const candidates = messages
    .filter((message) => message.sender === 'bot' && !message.deleted)
    .filter((message) => messageId === undefined || message.id === messageId)
    .reverse();
  for (const message of candidates) {
    const found = inlineKeyboardOf(message.replyMarkup)
      ?.flat()
      .find((candidate) => buttonMatches(candidate, matcher));
    if (found?.callback_data !== undefined) return { message, data: found.callback_data, text: found.text };
  }
  return undefined;
}

/** The first live bot message matching `matcher` among those sent or edited after `baseline`, in change order. */
export function nextChangedMessage(
  messages: readonly StoredMessage[],
  baseline: number,
  matcher: MessageMatcher,
): StoredMessage | undefined {
  return messages
    .filter((message) => message.sender === 'bot' && !message.deleted && message.changeSeq > baseline)
    .sort((a, b) => a.changeSeq - b.changeSeq)
    .find((message) => messageMatches(toChatMessage(message), matcher));
}

/** The sequence number after which a driver's waitForMessage looks for bot messages; it advances past each one found. */
export interface Baseline {
  get(): number;
  set(seq: number): void;
}

/**
 * Resolves with the first truthy value `predicate` returns for `messages()`, re-checking on every change.
 * On timeout, rejects with an Error that includes the transcript.
 */
export function waitForPredicate<T>(
  state: EmulatorState,
  messages: () => ChatMessage[],
  predicate: (messages: ChatMessage[]) => T | false | null | undefined,
  transcript: () => string,
  timeoutMs?: number,
): Promise<T> {
  return waitUntil(
    state,
    () => {
      const result = predicate(messages());
      return result === false || result === null || result === undefined ? undefined : { value: result };
    },
    'the predicate to hold',
    transcript,
    timeoutMs,
  );
}

/**
 * Resolves with the first live bot message among `stored()` matching `match` that was sent or edited after
 * `baseline`, and advances `baseline` past it, so consecutive calls walk through the replies in order.
 */
export function waitForNextMessage(
  state: EmulatorState,
  stored: () => readonly StoredMessage[],
  baseline: Baseline,
  match: MessageMatcher,
  transcript: () => string,
  timeoutMs?: number,
): Promise<ChatMessage> {
  return waitUntil(
    state,
    () => {
      const found = nextChangedMessage(stored(), baseline.get(), match);
      if (!found) return undefined;
      baseline.set(found.changeSeq);
      return { value: toChatMessage(found) };
    },
    `a bot message matching ${describeMatcher(match)}`,
    transcript,
    timeoutMs,
  );
}

export function describeMatcher(matcher: string | RegExp | ((value: never) => boolean)): string {
  if (typeof matcher === 'string') return JSON.stringify(matcher);
  return matcher instanceof RegExp ? String(matcher) : 'the predicate';
}
