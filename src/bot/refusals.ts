import type { Refusal } from '../flows/types.js';
import type { MessageKey } from '../ui/i18n.js';
import type { BotContext } from './context.js';

/** The operator-facing text of a refusal. */
export function refusalText(ctx: BotContext, refusal: Refusal): string {
  const key = `refusal_${refusal.code}` as MessageKey;
  return ctx.t(key, 'status' in refusal ? { status: ctx.t(`status_${refusal.status}` as MessageKey) } : {});
}
