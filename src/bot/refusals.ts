import type { Refusal } from '../flows/types.js';
import { tRefusal } from '../ui/i18n.js';
import type { BotContext } from './context.js';

/** The operator-facing text of a refusal. */
export function refusalText(ctx: BotContext, refusal: Refusal): string {
  return tRefusal(ctx.locale, refusal);
}
