import { Composer, type MiddlewareFn } from 'telegraf';
import type { InlineKeyboardButton } from 'telegraf/types';
import { pickText } from '../../../machines/definition.js';
import type { Db } from '../../db/client.js';
import { errorSummary } from '../../delivery/telegram.js';
import { requestByRef, requestRef } from '../../config/catalogue.js';
import { PERIODS, periodStart, type Period } from '../../export/choices.js';
import { Exporter, type ArchiveScope, type Viewer } from '../../export/exporter.js';
import { telegramDownloader } from '../../export/telegram-files.js';
import { parse } from '../../ui/callback-data.js';
import { displayName, formatDate } from '../../ui/format.js';
import { tStatus, type MessageKey } from '../../ui/i18n.js';
import { isStaff, type BotContext } from '../context.js';
import { button, inline, rows } from '../keyboards.js';

/** What a bot may send as a document. */
const MAX_UPLOAD_BYTES = 50 * 1024 * 1024;
/** Requests offered one by one under /archive (newest first); "All requests" covers the rest. */
const ARCHIVE_CHOICES = 10;

export interface ExportFeatureDeps {
  /** Read-only use: the exports' queries live in src/export/. */
  readonly db: Db;
  readonly clock?: () => Date;
}

/**
 * `/export` (a request type, a period, then a CSV document) and `/archive <client ID>` (a ZIP of one
 * client's or one request's answers and files). Operators get the requests they sent; admins everyone's.
 */
export function exportFeature(deps: ExportFeatureDeps): MiddlewareFn<BotContext> {
  const clock = deps.clock ?? (() => new Date());
  const exporterFor = (ctx: BotContext) => new Exporter({ db: deps.db, catalogue: ctx.deps.catalogue, clock });
  /** Staff members whose archive is being made (one at a time each; it is made outside the update). */
  const archiving = new Set<number>();
  const feature = new Composer<BotContext>();

  feature.command('export', (ctx) => showTypes(ctx, false));

  feature.command('archive', async (ctx) => {
    const arg = ctx.payload.trim();
    const viewer = viewerOf(ctx);
    if (!/^[1-9]\d{0,15}$/.test(arg) || viewer === undefined) {
      await ctx.reply(ctx.t('archiveUsage'));
      return;
    }
    const clientId = Number(arg);
    const flows = await exporterFor(ctx).flows({ clientId }, viewer);
    if (flows.length === 0) {
      await ctx.reply(ctx.t('archiveNone'));
      return;
    }
    const client = flows[0]?.client;
    const name = client ? displayName(client) : String(clientId);
    const keyboard = [[button(ctx.t('archiveAll', { n: flows.length }), { kind: 'archiveClient', client: clientId })]];
    for (const flow of flows.slice(-ARCHIVE_CHOICES).reverse()) {
      const label = `📦 ${pickText(flow.definition.title, ctx.locale)} · ${day(flow.createdAt)} · ${tStatus(ctx.locale, flow.status)}`;
      keyboard.push([button(label, { kind: 'archiveFlow', flow: flow.id })]);
    }
    await ctx.reply(ctx.t('archivePick', { client: name, n: flows.length }), inline(keyboard));
  });

  feature.on('callback_query', async (ctx, next) => {
    const data = parse('data' in ctx.callbackQuery ? ctx.callbackQuery.data : undefined);
    switch (data?.kind) {
      case 'exportMenu':
        await showTypes(ctx, true);
        break;
      case 'exportType':
        await showPeriods(ctx, data.request);
        break;
      case 'exportRun':
        await runExport(ctx, data.request, data.period);
        return;
      case 'archiveClient':
        await startArchive(ctx, { clientId: data.client });
        return;
      case 'archiveFlow':
        await startArchive(ctx, { flowId: data.flow });
        return;
      default:
        return next();
    }
    await ctx.answerCbQuery().catch(() => {});
  });

  async function showTypes(ctx: BotContext, edit: boolean): Promise<void> {
    const requests = ctx.deps.catalogue().requests;
    const text = [
      ctx.t(requests.length === 0 ? 'exportNoTypes' : 'exportPick'),
      ctx.t(ctx.role === 'admin' ? 'exportPickAll' : 'exportPickOwn'),
      '',
      ctx.t('exportArchiveHint'),
    ].join('\n');
    const keyboard = rows(
      requests.map((r) => button(pickText(r.title, ctx.locale), { kind: 'exportType', request: requestRef(r.id) })),
      2,
    );
    await show(ctx, edit, text, keyboard);
  }

  async function showPeriods(ctx: BotContext, key: number): Promise<void> {
    const request = requestByRef(ctx.deps.catalogue(), key);
    if (!request) {
      await ctx.answerCbQuery(ctx.t('refusal_unknown_request_type'), { show_alert: true });
      return;
    }
    const periods = PERIODS.map((period, i) => button(ctx.t(periodKey(period)), { kind: 'exportRun', request: key, period: i }));
    await show(ctx, true, ctx.t('exportPeriodPick', { title: pickText(request.title, ctx.locale) }), [
      ...rows(periods, 2),
      [button(ctx.t('exportBack'), { kind: 'exportMenu' })],
    ]);
  }

  async function runExport(ctx: BotContext, key: number, periodIndex: number): Promise<void> {
    const request = requestByRef(ctx.deps.catalogue(), key);
    const period = PERIODS[periodIndex];
    const viewer = viewerOf(ctx);
    if (!request || period === undefined || viewer === undefined) {
      await ctx.answerCbQuery(ctx.t(request ? 'buttonExpired' : 'refusal_unknown_request_type'), { show_alert: true });
      return;
    }
    await ctx.answerCbQuery(ctx.t('exportPreparing')).catch(() => {});
    const title = pickText(request.title, ctx.locale);
    const periodText = ctx.t(periodKey(period));
    const csv = await exporterFor(ctx).requestCsv({
      requestId: request.id,
      since: periodStart(period, clock()),
      viewer,
      locale: ctx.locale,
    });
    ctx.deps.logger.info({ staffId: ctx.from?.id, requestId: request.id, period, rows: csv.rows }, 'requests exported');
    if (csv.rows === 0) await ctx.reply(ctx.t('exportNothing', { title, period: periodText }));
    else if (csv.bytes.length > MAX_UPLOAD_BYTES) await ctx.reply(ctx.t('exportTooLarge'));
    else
      await ctx.replyWithDocument(
        { source: csv.bytes, filename: csv.filename },
        { caption: ctx.t('exportCaption', { title, period: periodText, n: csv.rows }) },
      );
  }

  /**
   * Checks what the presser may archive and answers the press at once; the archive (files downloaded one
   * by one) is made after the update is done, so a slow download never holds the chat's updates up or
   * makes the inbox apply the press again. A crash meanwhile loses the archive: the operator asks again.
   */
  async function startArchive(ctx: BotContext, scope: ArchiveScope): Promise<void> {
    const viewer = viewerOf(ctx);
    const staffId = ctx.from?.id;
    if (viewer === undefined || staffId === undefined) return;
    const exporter = exporterFor(ctx);
    const flows = await exporter.flows(scope, viewer);
    const first = flows[0];
    if (!first) {
      await ctx.answerCbQuery(ctx.t('clientId' in scope ? 'archiveNone' : 'refusal_flow_not_found'), { show_alert: true });
      return;
    }
    if (archiving.has(staffId)) {
      await ctx.answerCbQuery(ctx.t('archiveBusy'), { show_alert: true });
      return;
    }
    await ctx.answerCbQuery(ctx.t('exportPreparing')).catch(() => {});
    const what =
      'clientId' in scope
        ? first.client
          ? displayName(first.client)
          : String(first.clientId)
        : `${pickText(first.definition.title, ctx.locale)} #${first.id}`;
    archiving.add(staffId);
    void (async () => {
      try {
        const archive = await exporter.archive({ scope, viewer, locale: ctx.locale, download: telegramDownloader(ctx.telegram) });
        // Made: the next one may be made while this one goes out (a press right after it arrived is never "busy").
        archiving.delete(staffId);
        ctx.deps.logger.info(
          {
            staffId,
            scope: 'clientId' in scope ? 'client' : 'request',
            requests: archive?.requests,
            files: archive?.files,
            missing: archive?.missing,
          },
          'archive made',
        );
        if (!archive) await ctx.reply(ctx.t('archiveNone'));
        else if (archive.bytes.length > MAX_UPLOAD_BYTES) await ctx.reply(ctx.t('exportTooLarge'));
        else {
          const caption = [
            ctx.t('archiveCaption', { what, requests: archive.requests, files: archive.files }),
            ...(archive.missing > 0 ? [ctx.t('archiveMissing', { n: archive.missing })] : []),
          ].join('\n');
          await ctx.replyWithDocument({ source: archive.bytes, filename: archive.filename }, { caption });
        }
      } catch (error) {
        ctx.deps.logger.warn({ staffId, err: errorSummary(error) }, 'archive failed');
        await ctx.reply(ctx.t('archiveFailed')).catch(() => {});
      } finally {
        archiving.delete(staffId);
      }
    })();
  }

  return Composer.optional<BotContext>(isStaff, feature);
}

/** Operators see the flows they sent; admins everyone's. Undefined without a sender. */
function viewerOf(ctx: BotContext): Viewer | undefined {
  if (!ctx.from) return undefined;
  return ctx.role === 'admin' ? null : ctx.from.id;
}

function periodKey(period: Period): MessageKey {
  return `exportPeriod_${period}`;
}

/** DD.MM.YYYY (UTC). */
function day(date: Date): string {
  return formatDate(date.toISOString().slice(0, 10));
}

/** Replaces the picker in place when it came from a button, or sends a new one. */
async function show(ctx: BotContext, edit: boolean, text: string, keyboard: InlineKeyboardButton[][]): Promise<void> {
  if (edit && ctx.callbackQuery?.message) {
    try {
      await ctx.editMessageText(text, inline(keyboard));
      return;
    } catch {
      // Not modified, or too old to edit: send it anew.
    }
  }
  await ctx.reply(text, inline(keyboard));
}
