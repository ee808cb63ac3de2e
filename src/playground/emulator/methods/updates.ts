// getUpdates (long polling) and the webhook methods.
import { z } from 'zod';
import { badRequest, conflict } from '../errors.js';
import type { Params } from '../params.js';
import type { BotRecord } from '../state.js';
import type { TgUpdate } from '../types.js';
import type { MethodContext, MethodHandler } from './context.js';

const MAX_LIMIT = 100;

function applyAllowedUpdates(bot: BotRecord, params: Params): void {
  if (!params.has('allowed_updates')) return;
  const unparsable = "can't parse allowed updates JSON object";
  const parsed = z.array(z.string()).safeParse(params.json('allowed_updates', unparsable));
  if (!parsed.success) throw badRequest(unparsable);
  bot.updates.setAllowedUpdates(parsed.data);
}

async function getUpdates({ bot, params, signal }: MethodContext): Promise<TgUpdate[]> {
  if (bot.webhook.config) {
    throw conflict("can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first");
  }
  // Telegram answers only the newest getUpdates; an older pending one is terminated.
  bot.updates.interruptWait('replaced');
  const offset = params.integer('offset') ?? 0;
  if (offset !== 0) bot.updates.confirm(offset);
  applyAllowedUpdates(bot, params);
  const limit = Math.min(MAX_LIMIT, Math.max(1, params.integer('limit') ?? MAX_LIMIT));
  const timeout = Math.max(0, params.integer('timeout') ?? 0);
  const ready = bot.updates.peek(limit);
  if (ready.length > 0 || timeout === 0) return ready;
  const outcome = await bot.updates.wait(timeout * 1000, signal);
  if (outcome === 'replaced') {
    throw conflict('terminated by other getUpdates request; make sure that only one bot instance is running');
  }
  if (outcome === 'webhook') throw conflict('terminated by setWebhook request');
  return bot.updates.peek(limit);
}

function setWebhook({ bot, params }: MethodContext): true {
  const url = params.string('url') ?? '';
  if (url === '') return deleteWebhook({ bot, params });
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw badRequest('bad webhook: An HTTPS URL must be provided for webhook');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw badRequest('bad webhook: An HTTPS URL must be provided for webhook');
  }
  const secretToken = params.string('secret_token');
  if (secretToken !== undefined && !/^[A-Za-z0-9_-]{1,256}$/.test(secretToken)) {
    throw badRequest('secret token contains unallowed characters');
  }
  applyAllowedUpdates(bot, params);
  if (params.boolean('drop_pending_updates')) bot.updates.clear();
  bot.updates.interruptWait('webhook');
  bot.webhook.configure({
    url,
    maxConnections: params.integer('max_connections') ?? 40,
    ...(secretToken ? { secretToken } : {}),
  });
  return true;
}

function deleteWebhook({ bot, params }: Pick<MethodContext, 'bot' | 'params'>): true {
  if (params.boolean('drop_pending_updates')) bot.updates.clear();
  bot.webhook.configure(undefined);
  return true;
}

function getWebhookInfo({ bot }: MethodContext): Record<string, unknown> {
  const config = bot.webhook.config;
  const allowedUpdates = bot.updates.allowedUpdates;
  return {
    url: config?.url ?? '',
    has_custom_certificate: false,
    pending_update_count: bot.updates.size,
    ...(config
      ? {
          max_connections: config.maxConnections,
          ip_address: '127.0.0.1',
          ...(config.lastErrorDate !== undefined
            ? { last_error_date: config.lastErrorDate, last_error_message: config.lastErrorMessage }
            : {}),
        }
      : {}),
    ...(allowedUpdates ? { allowed_updates: allowedUpdates } : {}),
  };
}

export const updateMethods: Record<string, MethodHandler> = {
  getUpdates,
  setWebhook,
  deleteWebhook,
  getWebhookInfo,
};
