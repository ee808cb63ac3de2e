// The call log: every Bot API call the emulator answered, for measuring what a bot sends.
import { ApiError } from './errors.js';
import type { Params } from './params.js';

/** One answered Bot API call (see `Emulator.calls()`). */
export interface BotApiCall {
  /** As the Bot API documents it ("sendMessage", whatever case the bot used); unknown methods as called. */
  method: string;
  /** The call's `chat_id` when it is a number or a numeric string, else null. */
  chatId: number | null;
  /** When the emulator answered (Date.now() milliseconds). */
  at: number;
  ok: boolean;
  /** The error_code of a failed call (fault-injected ones included), null on success. */
  errorCode: number | null;
}

/** The log keeps this many calls; beyond it the oldest tenth is dropped. */
const MAX_CALLS = 100_000;

export class CallLog {
  private entries: BotApiCall[] = [];

  /** Records a call answered now: with the error it failed with, or `undefined` on success. */
  record(method: string, chatId: number | null, error?: unknown): void {
    const failed = error !== undefined;
    this.entries.push({
      method,
      chatId,
      at: Date.now(),
      ok: !failed,
      errorCode: failed ? (error instanceof ApiError ? error.code : 500) : null,
    });
    if (this.entries.length > MAX_CALLS) this.entries = this.entries.slice(MAX_CALLS / 10);
  }

  /** Every recorded call, oldest first (copies). */
  list(): BotApiCall[] {
    return this.entries.map((entry) => ({ ...entry }));
  }

  clear(): void {
    this.entries = [];
  }
}

/** The `chat_id` parameter as a number, if it is one (or a numeric string); never throws. */
export function chatIdOf(params: Params): number | null {
  let raw: string | undefined;
  try {
    raw = params.string('chat_id');
  } catch {
    return null;
  }
  if (raw === undefined || !/^-?\d+$/.test(raw.trim())) return null;
  const id = Number(raw);
  return Number.isSafeInteger(id) ? id : null;
}
