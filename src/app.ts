import type { Env } from './config/env.js';
import type { Server } from 'node:http';
import type { Telegraf } from 'telegraf';
import { Telegram, TelegramError } from 'telegraf';
import type { Update } from 'telegraf/types';
import type { Locale } from '../machines/definition.js';
import { requestApi } from './api/router.js';
import { createBot, laneKeyOf, registerCommands } from './bot/index.js';
import type { BotContext } from './bot/context.js';
import { CatalogueError, formatProblem, loadCatalogueFile, type Catalogue } from './config/catalogue.js';
import { openDatabase, type Database } from './db/client.js';
import { outbox as outboxTable } from './db/schema.js';
import { withJsonCalls } from './delivery/bot-api.js';
import { startScheduler } from './delivery/scheduler.js';
import { RateLimiter, type RateLimits } from './delivery/limiter.js';
import { OutboxSender, SENDER_CONCURRENCY } from './delivery/sender.js';
import { errorSummary, TelegramGate } from './delivery/telegram.js';
import { telegramDownloader } from './export/telegram-files.js';
import { Conversation } from './flows/conversation.js';
import { FlowService } from './flows/service.js';
import { Ownership, type OwnershipRules, type Visibility } from './flows/ownership.js';
import { StartupError } from './errors.js';
import { startHttpServer } from './http/server.js';
import type { Logger } from './logger.js';
import { Metrics } from './metrics.js';
import { INBOX_CONCURRENCY, Inbox } from './inbox/inbox.js';
import { startPolling } from './inbox/polling.js';
import { MessageLog } from './log/messages.js';
import { Directory } from './people/directory.js';
import { resultSink } from './results/body.js';
import { ResultDeliverer } from './results/deliverer.js';
import { FileLinks, fileRoute } from './results/links.js';
import { localeOf, personLocale, t } from './ui/i18n.js';

/** The settings the bot and the playground take from the environment alike. */
export function optionsFromEnv(env: Env) {
  return {
    databaseUrl: env.databaseUrl,
    dataDir: env.dataDir,
    cataloguePath: env.cataloguePath,
    defaultLocale: env.defaultLocale,
    port: env.port,
    results:
      env.resultWebhookUrl && env.resultWebhookSecret
        ? { url: env.resultWebhookUrl, secret: env.resultWebhookSecret, linksUrl: env.resultLinksUrl }
        : undefined,
    apiToken: env.apiToken,
    retentionDays: env.retentionDays,
    operatorVisibility: env.operatorVisibility,
    reviewOverdueHours: env.reviewOverdueHours,
  } satisfies Partial<AppOptions>;
}

export interface AppOptions {
  readonly token: string;
  readonly apiRoot?: string | undefined;
  readonly operatorIds: readonly number[];
  readonly adminIds: readonly number[];
  readonly databaseUrl?: string | undefined;
  readonly dataDir: string;
  readonly cataloguePath: string;
  readonly defaultLocale: Locale;
  readonly port: number;
  /** Bind address of the HTTP server. */
  readonly host?: string;
  readonly webhook?: { url: string; secret: string } | undefined;
  readonly logger: Logger;
  /** An already open database (tests, the playground); otherwise opened from the options. */
  readonly database?: Database;
  /** Serve other paths (the playground page) on the same HTTP server. */
  readonly httpFallback?: Parameters<typeof startHttpServer>[0]['fallback'];
  /** Timer pass interval (tests use a short one). */
  readonly tickMs?: number;
  /** HTTP server limits (tests make them short). */
  readonly httpTimeouts?: { headersMs: number; requestMs: number; checkEveryMs?: number };
  /** Long-poll timeout in seconds. */
  readonly pollTimeoutSeconds?: number;
  /** Telegram's flood limits by default; tests that do not test them may loosen them. */
  readonly rateLimits?: Partial<RateLimits>;
  /** The result webhook: every accepted request is POSTed to `url`; with `linksUrl`, files get download links. */
  readonly results?: { url: string; secret: string; linksUrl?: string | undefined } | undefined;
  /** The result deliverer's clock (tests move it on to make retries due). */
  readonly resultsClock?: () => Date;
  /** Bearer token of the request API (/api/requests); without it the API answers 404. */
  readonly apiToken?: string | undefined;
  /** Days the answers and message contents of finished requests are kept; unset: forever. */
  readonly retentionDays?: number | undefined;
  /** Whose clients an operator sees and acts on (default `own`: their own; admins see everything). */
  readonly operatorVisibility?: Visibility;
  /** Hours a request may wait for an operator before the dashboard marks it overdue (default 24). */
  readonly reviewOverdueHours?: number;
  /** The dashboard's clock (tests move it on to see waiting times grow). */
  readonly dashboardClock?: () => Date;
}

export interface App {
  readonly bot: Telegraf<BotContext>;
  readonly flows: FlowService;
  /** Messages passed on between clients and the staff. */
  readonly conversation: Conversation;
  readonly directory: Directory;
  readonly sender: OutboxSender;
  readonly inbox: Inbox;
  readonly gate: TelegramGate;
  readonly database: Database;
  readonly http: Server;
  readonly metrics: Metrics;
  /** Delivers accepted requests to the result webhook; null when none is configured. */
  readonly results: ResultDeliverer | null;
  catalogue(): Catalogue;
  /**
   * Reads the catalogue file again; a broken one keeps the current catalogue in force, and its problems
   * are logged (file, line and path). With `tellAdmins` (SIGHUP: nobody pressed a button) the admins
   * are also sent the problems.
   */
  reloadCatalogue(options?: { tellAdmins?: boolean }): Promise<{ ok: true; count: number } | { ok: false; errors: string[] }>;
  stop(signal?: string): Promise<void>;
}

/** Starts everything: database, services, outbox delivery, timers, HTTP, and the bot (polling or webhook). */
export async function startApp(options: AppOptions): Promise<App> {
  const { logger } = options;
  let catalogue = await loadCatalogueFile(options.cataloguePath);
  const database =
    options.database ??
    (await openDatabase({
      databaseUrl: options.databaseUrl,
      dataDir: options.dataDir,
      // A connection for every chat applied and every chat sent to at once, and two for timers and the API.
      poolSize: INBOX_CONCURRENCY + SENDER_CONCURRENCY + 2,
    }));
  const db = database.db;
  const directory = new Directory(db, { operatorIds: options.operatorIds, adminIds: options.adminIds });
  const messageLog = new MessageLog(db);
  const links = options.results?.linksUrl
    ? new FileLinks({ baseUrl: options.results.linksUrl, secret: options.results.secret })
    : undefined;
  const ownershipRules: OwnershipRules = {
    visibility: options.operatorVisibility ?? 'own',
    roleOf: (id, q) => directory.roleOf(id, q),
  };
  const ownership = new Ownership({
    db,
    rules: ownershipRules,
    defaultLocale: options.defaultLocale,
    staffIds: (q) => directory.staffIds(q),
    overdueMs: (options.reviewOverdueHours ?? 24) * 3_600_000,
    ...(options.dashboardClock ? { clock: options.dashboardClock } : {}),
  });
  const flows = new FlowService({
    db,
    catalogue: () => catalogue,
    defaultLocale: options.defaultLocale,
    // Results of a request whose operator has left go to the whole staff.
    operatorsFor: async (id, q) => ((await directory.roleOf(id, q)) === 'client' ? directory.staffIds(q) : [id]),
    staffIds: (q) => directory.staffIds(q),
    results: options.results ? resultSink({ locale: options.defaultLocale, links }) : undefined,
    retentionDays: options.retentionDays,
    ownership: ownershipRules,
    // The update's inbox row is done with the command's commit: the inbox worker skips its own mark.
    onRecorded: (updateId) => inbox.recorded(updateId),
    // What a command wrote to the outbox goes to the sender with the commit: no pass reads it back.
    onOutbox: (rows) => sender.hand(rows),
  });
  const conversation = new Conversation({
    db,
    defaultLocale: options.defaultLocale,
    operatorsFor: async (id, q) => ((await directory.roleOf(id, q)) === 'client' ? directory.staffIds(q) : [id]),
    staffIds: (q) => directory.staffIds(q),
    onRecorded: (updateId) => inbox.recorded(updateId),
    onOutbox: (rows) => sender.hand(rows),
  });
  const metrics = new Metrics({ db, inbox: () => inbox });
  // One limiter for everything the bot sends, outbox and direct replies alike.
  const gate = new TelegramGate({
    logger,
    limiter: new RateLimiter(options.rateLimits ? { limits: options.rateLimits } : {}),
    observe: (method, error) => metrics.apiCall(method, error),
  });
  const sender = new OutboxSender({
    db,
    telegram: gate.wrap(withJsonCalls(new Telegram(options.token, options.apiRoot ? { apiRoot: options.apiRoot } : {}), options)),
    log: messageLog,
    logger,
    // A 403 is how a block shows when Telegram's notice has not arrived (or never will).
    leads: () => database.leads('outbox'),
    onBlocked: async (chatId) => {
      if ((await directory.setBlocked(chatId, true)) && (await flows.clientBlocked(chatId))) sender.kick();
    },
    onUndeliverable: async (row) => {
      if (await flows.deliveryFailed({ flowId: row.flowId, chatId: row.chatId, reason: row.description })) sender.kick();
    },
  });
  /** A message to every admin, through the outbox. */
  const tellAdmins = async (text: (locale: Locale) => string): Promise<void> => {
    for (const id of await directory.adminIds()) {
      const person = await directory.get(id);
      await db
        .insert(outboxTable)
        .values({ chatId: id, method: 'sendMessage', payload: { text: text(personLocale(person, options.defaultLocale)) } });
    }
    sender.kick();
  };
  const results = options.results
    ? new ResultDeliverer({
        db,
        url: options.results.url,
        secret: options.results.secret,
        logger,
        leads: () => database.leads('results'),
        onFailed: (count) => tellAdmins((locale) => t(locale, 'deliveriesFailedNotice', { n: count })),
        ...(options.resultsClock ? { clock: options.resultsClock } : {}),
      })
    : null;
  const reloadCatalogue = async (
    reload: { tellAdmins?: boolean } = {},
  ): Promise<{ ok: true; count: number } | { ok: false; errors: string[] }> => {
    try {
      catalogue = await loadCatalogueFile(options.cataloguePath);
      logger.info({ requestTypes: catalogue.requests.length }, 'catalogue reloaded');
      return { ok: true, count: catalogue.requests.length };
    } catch (error) {
      if (!(error instanceof CatalogueError)) throw error;
      const errors = error.problems.map((p) => formatProblem(options.cataloguePath, p));
      // Where each problem is, not what it says (a message can quote the file).
      const problems = error.problems.map(
        (p) => (p.line === null ? options.cataloguePath : `${options.cataloguePath}:${p.line}`) + (p.path ? ` ${p.path}` : ''),
      );
      logger.error({ problems }, 'catalogue not reloaded: the one in force stays');
      if (reload.tellAdmins) await tellAdmins((locale) => cut(t(locale, 'reloadFailed', { errors: errors.join('\n') })));
      return { ok: false, errors };
    }
  };
  const bot = createBot({
    token: options.token,
    apiRoot: options.apiRoot,
    db,
    flows,
    conversation,
    directory,
    ownership,
    messageLog,
    sender,
    catalogue: () => catalogue,
    reloadCatalogue,
    defaultLocale: options.defaultLocale,
    logger,
    gate,
    inbox: () => inbox,
    results: () => results,
  });
  const inbox: Inbox = new Inbox({
    db,
    logger,
    handle: (update) => metrics.handleUpdate(update, () => bot.handleUpdate(update)),
    // A staff press for one client need not wait for a press for another in the same chat.
    laneKeyOf,
    // The staff's updates go before the clients' when every slot is taken: an operator is one chat among many.
    firstOf: (chatId) => directory.knownStaff(chatId),
    // The leader applies every chat's updates (and sends the outbox), so order and limits hold across instances.
    leads: () => database.leads('outbox'),
    onDelayed: (update) => tellDelayed(bot.telegram, update, options.defaultLocale, (id) => directory.knownLocale(id)),
    onDead: (count) => tellAdmins((locale) => t(locale, 'deadLettersNotice', { n: count })),
    leaveGroup: (_chatId, languageCode) => [
      { method: 'sendMessage', payload: { text: t(localeOf(languageCode, options.defaultLocale), 'privateOnly') } },
      { method: 'leaveChat', payload: {} },
    ],
  });
  bot.botInfo = await bot.telegram.getMe().catch((error: unknown) => {
    throw describeApiFailure(error, options);
  });
  await registerCommands(bot, { operators: options.operatorIds, admins: options.adminIds }, options.defaultLocale).catch((error: unknown) =>
    logger.warn({ err: errorSummary(error) }, 'bot commands not registered'),
  );

  const webhookPath = options.webhook ? new URL(options.webhook.url).pathname : undefined;
  const http = await startHttpServer({
    port: options.port,
    ...(options.host ? { host: options.host } : {}),
    db,
    logger,
    webhook:
      options.webhook && webhookPath
        ? { path: webhookPath, secret: options.webhook.secret, ingest: (update) => inbox.ingest([update]) }
        : undefined,
    routes: [
      requestApi({
        token: options.apiToken,
        db,
        flows,
        directory,
        catalogue: () => catalogue,
        defaultLocale: options.defaultLocale,
        logger,
        onWork: () => sender.kick(),
      }),
      ...(links ? [fileRoute({ links, db, download: telegramDownloader(bot.telegram), logger })] : []),
    ],
    fallback: options.httpFallback,
    metrics: async () => ({ contentType: metrics.contentType, body: await metrics.text() }),
    ...(options.httpTimeouts ? { timeouts: options.httpTimeouts } : {}),
  });

  sender.start();
  sender.kick(); // anything left from before a restart goes out now
  inbox.start(); // and anything taken but not yet applied
  results?.start();
  results?.kick();
  const scheduler = startScheduler({
    flows,
    logger,
    onWork: () => sender.kick(),
    leads: () => database.leads('timers'),
    retention: options.retentionDays !== undefined,
    ...(options.tickMs ? { intervalMs: options.tickMs } : {}),
  });

  const allowedUpdates = ['message', 'edited_message', 'callback_query', 'my_chat_member'] as const;
  let polling: { stop(): Promise<void> } | null = null;
  if (options.webhook) {
    await bot.telegram.setWebhook(options.webhook.url, { secret_token: options.webhook.secret, allowed_updates: [...allowedUpdates] });
    logger.info({ url: options.webhook.url }, 'webhook set');
  } else {
    await bot.telegram.deleteWebhook();
    polling = startPolling({
      telegram: bot.telegram,
      inbox,
      logger,
      allowedUpdates,
      ...(options.pollTimeoutSeconds ? { timeoutSeconds: options.pollTimeoutSeconds } : {}),
    });
  }
  logger.info({ bot: bot.botInfo.username, mode: options.webhook ? 'webhook' : 'polling', database: database.description }, 'bot started');

  let stopped = false;
  return {
    bot,
    flows,
    conversation,
    directory,
    sender,
    inbox,
    gate,
    database,
    http,
    metrics,
    results,
    catalogue: () => catalogue,
    reloadCatalogue,
    async stop(signal = 'stop') {
      if (stopped) return;
      stopped = true;
      logger.info({ signal }, 'stopping');
      await polling?.stop();
      // Stops taking webhook calls first: anything Telegram sends meanwhile is sent again later.
      const closed = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeAllConnections();
      await closed;
      await inbox.stop();
      await scheduler.stop();
      await results?.stop();
      await sender.stop();
      if (!options.database) await database.close();
    },
  };
}

/** Why the first Bot API call failed, without the token (it is part of every Bot API URL). */
function describeApiFailure(error: unknown, options: AppOptions): StartupError {
  const where = options.apiRoot ?? 'https://api.telegram.org';
  if (error instanceof TelegramError && error.code === 401)
    return new StartupError(`BOT_TOKEN was rejected by the Bot API at ${where} (401 Unauthorized)`);
  const reason = (error instanceof Error ? error.message : String(error)).split(options.token).join('<BOT_TOKEN>');
  return new StartupError(`cannot reach the Telegram Bot API at ${where}: ${reason}`);
}

/**
 * "It will be processed shortly", once, to the person whose update is delayed: in the language they chose
 * as far as this instance knows without asking the database (it may be the reason for the delay), else
 * in their Telegram language.
 */
async function tellDelayed(
  telegram: Telegram,
  update: Update,
  defaultLocale: Locale,
  chosen: (id: number) => Locale | null,
): Promise<void> {
  const localeFor = (from: { id: number; language_code?: string }): Locale =>
    chosen(from.id) ?? localeOf(from.language_code, defaultLocale);
  if ('callback_query' in update) {
    const locale = localeFor(update.callback_query.from);
    await telegram.answerCbQuery(update.callback_query.id, t(locale, 'processingSoon'));
  } else if ('message' in update && update.message.chat.type === 'private') {
    const locale = localeFor(update.message.from);
    await telegram.sendMessage(update.message.chat.id, t(locale, 'processingSoon'));
  }
}

/** A text within Telegram's 4,096 characters. */
function cut(text: string): string {
  return text.length <= 4_000 ? text : `${text.slice(0, 3_999)}…`;
}
