// The Bot API method table. Like Telegram, method names are case-insensitive.
import { notFound } from '../errors.js';
import type { Params } from '../params.js';
import type { BotRecord, EmulatorState } from '../state.js';
import type { MethodHandler } from './context.js';
import { editingMethods } from './editing.js';
import { miscMethods } from './misc.js';
import { sendingMethods } from './sending.js';
import { updateMethods } from './updates.js';

const METHODS = new Map<string, MethodHandler>(
  Object.entries({ ...updateMethods, ...sendingMethods, ...editingMethods, ...miscMethods }).map(
    ([name, handler]) => [name.toLowerCase(), handler],
  ),
);

export function hasMethod(name: string): boolean {
  return METHODS.has(name.toLowerCase());
}

/** Runs a Bot API method; throws ApiError with Telegram's code and description on failure. */
export async function callMethod(
  state: EmulatorState,
  bot: BotRecord,
  name: string,
  params: Params,
  signal: AbortSignal = new AbortController().signal,
): Promise<unknown> {
  const handler = METHODS.get(name.toLowerCase());
  if (!handler) throw notFound();
  return await handler({ state, bot, params, signal });
}
