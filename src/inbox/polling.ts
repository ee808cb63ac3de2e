import { setTimeout as sleep } from 'node:timers/promises';
import { TelegramError, type Telegram } from 'telegraf';
import type { Update } from 'telegraf/types';
import { errorSummary } from '../delivery/telegram.js';
import type { Logger } from '../logger.js';
import type { Inbox } from './inbox.js';

export interface PollingOptions {
  readonly telegram: Telegram;
  readonly inbox: Inbox;
  readonly logger: Logger;
  readonly allowedUpdates: readonly string[];
  /** Long-poll timeout in seconds. */
  readonly timeoutSeconds?: number;
}

/**
 * Long polling into the inbox. Telegram forgets a batch only when the next `getUpdates` names a higher
 * offset, and the offset moves past a batch only after the inbox committed it: a crash or a database
 * outage re-fetches the same updates (the inbox ignores repeats), so none is lost.
 * Telegraf's own polling is not used: it moves the offset on whatever its handlers do.
 */
export function startPolling(options: PollingOptions): { stop(): Promise<void> } {
  const abort = new AbortController();
  const loop = (async () => {
    let offset = 0;
    let failures = 0;
    while (!abort.signal.aborted) {
      try {
        const updates: Update[] = await options.telegram.callApi(
          'getUpdates',
          { offset, timeout: options.timeoutSeconds ?? 30, allowed_updates: [...options.allowedUpdates] } as never,
          { signal: abort.signal as never },
        );
        if (updates.length > 0) {
          await options.inbox.ingest(updates);
          offset = Math.max(...updates.map((u) => u.update_id)) + 1;
        }
        failures = 0;
      } catch (error) {
        if (abort.signal.aborted) break;
        failures++;
        const unauthorized = error instanceof TelegramError && error.code === 401;
        options.logger[failures === 1 || unauthorized ? 'error' : 'warn'](
          { err: errorSummary(error), failures },
          'polling: updates not taken yet',
        );
        await sleep(Math.min(30_000, 250 * 2 ** Math.min(failures, 7)), undefined, { signal: abort.signal }).catch(() => {});
      }
    }
  })();
  return {
    async stop() {
      abort.abort();
      await loop;
    },
  };
}
