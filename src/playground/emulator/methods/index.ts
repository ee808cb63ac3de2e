// The Bot API method table. Like Telegram, method names are case-insensitive.
import { notFound } from '../errors.js';
import type { Params } from '../params.js';
import type { BotRecord, EmulatorState } from '../state.js';
import type { MethodHandler } from './context.js';
import { editingMethods } from './editing.js';
import { miscMethods } from './misc.js';
import { sendingMethods } from './sending.js';
import { updateMethods } from './updates.js';

const METHODS = new Map<string, { name: string; handler: MethodHandler }>(
  Object.entries({ ...updateMethods, ...sendingMethods, ...editingMethods, ...miscMethods }).map(([name, handler]) => [
    name.toLowerCase(),
    { name, handler },
  ]),
);

/** The method's name as the Bot API documents it ("GETME" → "getMe"), or undefined for an unknown method. */
export function methodName(name: string): string | undefined {
  return METHODS.get(name.toLowerCase())?.name;
}

/** Runs a Bot API method; throws ApiError with Telegram's code and description on failure. */
export async function callMethod(
  state: EmulatorState,
  bot: BotRecord,
  name: string,
  params: Params,
  signal: AbortSignal = new AbortController().signal,
): Promise<unknown> {
  const method = METHODS.get(name.toLowerCase());
  if (!method) throw notFound();
  return await method.handler({ state, bot, params, signal });
}
