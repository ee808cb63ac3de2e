import { Composer } from 'telegraf';
import type { InlineKeyboardButton } from 'telegraf/types';
import type { StepValue } from '../../../machines/steps.js';
import { requestByRef, requestRef } from '../../config/catalogue.js';
import type { FlowSummary } from '../../flows/types.js';
import { displayName, formatTimestamp, formatValue, html, stepLabel, type PersonName } from '../../ui/format.js';
import { parse } from '../../ui/callback-data.js';
import { EXCERPT_MAX, TEXT_MAX, VALUE_MAX, clip, excerptWords, fitHtml, renderedLength } from '../../ui/limits.js';
import { genderOf } from '../../ui/grammar.js';
import { isStaff, type BotContext } from '../context.js';
import { pressLogged } from '../middleware.js';
import { button, rows } from '../keyboards.js';
import { badge, show, showClient, textIn } from '../cards.js';
import { refusalText } from '../refusals.js';
import { showDashboard, showWaiting } from './dashboard.js';
import { logForeignPress } from './ownership.js';
import { conversationLines } from './conversation.js';

const PAGE_SIZE = 8;
/** A message in the history: a one-line excerpt. */
const RECENT_MAX = 80;
/** Messages shown in the history. */
const RECENT_COUNT = 10;
/**
 * The most the messages take on the first page: a blank line, the heading, and each as "← excerpt" (an
 * excerpt counts characters, Telegram UTF-16 units: up to two per character).
 */
const RECENT_ROOM = 2 + 40 + RECENT_COUNT * (2 * RECENT_MAX + 3);

/** The operator's inline menus: clients (list, search, card), reviews, active requests, invites, catalogue. */
const staff = new Composer<BotContext>();

staff.start((ctx) => showMenu(ctx, false));
staff.command('menu', (ctx) => showMenu(ctx, false));
staff.help((ctx) => ctx.reply(ctx.t('helpOperator')));

staff.on('callback_query', async (ctx, next) => {
  const data = parse('data' in ctx.callbackQuery ? ctx.callbackQuery.data : undefined);
  if (!data) return next();
  switch (data.kind) {
    case 'menu':
      ctx.session.awaiting = undefined;
      await showMenu(ctx, true);
      break;
    case 'clients':
      await showClients(ctx, data.page, undefined, true);
      break;
    case 'search':
      ctx.session.awaiting = { kind: 'search' };
      await ctx.reply(ctx.t('searchPrompt'), { reply_markup: { force_reply: true } });
      break;
    case 'client':
      await showClient(ctx, data.client, true);
      break;
    case 'send':
      await sendRequest(ctx, data.client, data.requestRef);
      return;
    case 'history':
      await showHistory(ctx, data.client, 0, false);
      break;
    case 'historyPage':
      await showHistory(ctx, data.client, data.page, true);
      break;
    case 'historyFile':
      await resendFile(ctx, data.flow, data.answer);
      return;
    case 'reviews':
      await showWaiting(ctx, 'review', data.page);
      break;
    case 'active':
      await showWaiting(ctx, 'active', data.page);
      break;
    case 'invite':
      await showInviteMenu(ctx);
      break;
    case 'inviteNew':
      await createInvite(ctx, null);
      return;
    case 'inviteWith':
      await createInvite(ctx, data.requestRef);
      return;
    case 'catalogue':
      await showCatalogue(ctx);
      break;
    case 'reload':
      await reloadCatalogue(ctx);
      break;
    default:
      return next();
  }
  await ctx.answerCbQuery().catch(() => {});
});

/** Text typed after pressing Search. */
staff.on('text', async (ctx, next) => {
  if (ctx.session.awaiting?.kind !== 'search' || ctx.message.text.startsWith('/')) return next();
  ctx.session.awaiting = undefined;
  await showClients(ctx, 0, ctx.message.text, false);
});

/** The menu is the dashboard of what waits (src/bot/features/dashboard.ts). */
function showMenu(ctx: BotContext, edit: boolean): Promise<void> {
  return showDashboard(ctx, edit);
}

async function showClients(ctx: BotContext, page: number, query: string | undefined, edit: boolean): Promise<void> {
  // An operator sees their own clients and nobody's (OPERATOR_VISIBILITY=own); admins everyone's, with each one's operator.
  const scope = ctx.from ? await ctx.deps.ownership.scopeOf(ctx.from.id) : null;
  const { items, total } = await ctx.deps.directory.clients({
    page,
    pageSize: PAGE_SIZE,
    ...(query ? { query } : {}),
    ...(scope === null ? {} : { visibleTo: scope }),
  });
  const owners = scope === null ? await ctx.deps.ownership.names(items.flatMap((i) => i.person.operatorId ?? [])) : null;
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const title = query ? ctx.t('searchTitle', { query: html(query), total }) : ctx.t('clientsTitle', { total, page: page + 1, pages });
  const list = items.map((item) => [
    button(
      `${displayName(item.person)}${item.status ? ` · ${badge(ctx, item.status)}` : ''}${item.queued ? ` (+${item.queued})` : ''}${ownerTag(ctx, owners, item.person.operatorId)}`,
      {
        kind: 'client',
        client: item.person.id,
      },
    ),
  ]);
  const nav: InlineKeyboardButton[] = [];
  if (!query && page > 0) nav.push(button(ctx.t('prev'), { kind: 'clients', page: page - 1 }));
  if (!query && page + 1 < pages) nav.push(button(ctx.t('next'), { kind: 'clients', page: page + 1 }));
  await show(ctx, edit, `<b>${title}</b>${total === 0 && !query ? `\n\n${ctx.t('noClients')}` : ''}`, [
    ...list,
    ...(nav.length > 0 ? [nav] : []),
    [button(ctx.t('search'), { kind: 'search' }), button(ctx.t('back'), { kind: 'menu' })],
  ]);
}

/** Admins see whose each client is. */
function ownerTag(ctx: BotContext, owners: Map<number, PersonName> | null, owner: number | null): string {
  const person = owners && owner !== null ? owners.get(owner) : undefined;
  return person ? ` · ${ctx.t('ownerTag', { owner: displayName(person) })}` : '';
}

/**
 * A request sent from a client card: one FlowService command, which also logs the press and redraws the
 * card (through the outbox, in order with the chat's other messages), so nothing is read here afterwards.
 * Ownership is checked by the command under the client's row lock (the buttons' guard leaves this press
 * to it).
 */
async function sendRequest(ctx: BotContext, clientId: number, ref: number): Promise<void> {
  if (!ctx.from || !ctx.callbackQuery || !('data' in ctx.callbackQuery)) return;
  const request = requestByRef(ctx.deps.catalogue(), ref);
  if (!request) {
    // Nothing is sent, so no command checks the owner: the guard's check, here.
    if (!(await ctx.deps.ownership.maySeeClient(ctx.from.id, clientId))) {
      logForeignPress(ctx);
      await ctx.answerCbQuery(ctx.t('refusal_not_owner'), { show_alert: true });
      return;
    }
    // A button from before a catalogue reload whose request type is gone: say so and show the card anew.
    await ctx.answerCbQuery(ctx.t('requestTypeChanged'), { show_alert: true }).catch(() => {});
    await showClient(ctx, clientId, true);
    return;
  }
  const card = ctx.callbackQuery.message;
  const chatId = ctx.chat?.id ?? ctx.from.id;
  const result = await ctx.deps.flows.start({
    operatorId: ctx.from.id,
    clientId,
    requestId: request.id,
    updateId: ctx.update.update_id,
    ...(card ? { card: { chatId, messageId: card.message_id } } : {}),
    message: pressLogged(chatId, ctx.callbackQuery.data),
  });
  if (!result.ok) {
    if (result.refusal.code === 'not_owner') logForeignPress(ctx);
    await ctx.answerCbQuery(refusalText(ctx, result.refusal), { show_alert: result.refusal.code !== 'duplicate_update' });
    return;
  }
  ctx.logged = true;
  const name = displayName(result.value.client);
  const title = textIn(ctx, request.title);
  await ctx.answerCbQuery(
    result.value.queued
      ? ctx.t('requestQueuedShort', { title, client: name, position: result.value.position })
      : ctx.t('requestSent', { title, client: name, gender: genderOf(request, ctx.locale) }),
  );
}

/** Requests the history looks back over, newest first. */
const HISTORY_FLOWS = 100;
/** Requests on one history page at most (and so a handful of file buttons). */
const HISTORY_PAGE_FLOWS = 5;

/** A file answer shown on a history page: its button re-sends the file. */
interface HistoryFile {
  readonly flow: number;
  readonly answer: number;
  readonly label: string;
}

/** One request in the history: its lines (heading first) and the files among its answers. */
interface HistoryBlock {
  readonly lines: readonly { readonly text: string; readonly file?: HistoryFile }[];
}

/**
 * The client's requests with their answers, newest first, page by page: every page within Telegram's
 * limit, split between whole requests (a request longer than a page between whole lines), never inside
 * a word or a tag. The first page also shows the client's last messages.
 */
async function showHistory(ctx: BotContext, clientId: number, page: number, edit: boolean): Promise<void> {
  const { flows, directory, messageLog } = ctx.deps;
  const person = await directory.get(clientId);
  const history = await flows.flowsOf(clientId, HISTORY_FLOWS);
  const header = [`<b>${html(ctx.t('historyTitle', { name: person ? displayName(person) : String(clientId) }))}</b>`, ''];
  if (history.length === 0) header.push(ctx.t('noHistory'));

  const recent = (await messageLog.recent(clientId, RECENT_COUNT)).reverse();
  const footer =
    recent.length === 0
      ? []
      : [
          '',
          `<b>${ctx.t('recentMessages')}</b>`,
          ...recent.map((m) => `${m.direction === 'in' ? '←' : '→'} ${excerptWords(m.text ?? `[${m.kind}]`, RECENT_MAX)}`),
        ];
  footer.unshift(...(await conversationLines(ctx, clientId)));

  const blocks: HistoryBlock[] = [];
  for (const flow of history) blocks.push(await historyBlock(ctx, flow));

  // The messages' room on the first page is their longest (not their current) length: a page holds the
  // same requests from one press to the next while messages come and go.
  const pages = paginate(blocks, (first) => TEXT_MAX - renderedLength(header.join('\n')) - (first ? RECENT_ROOM : 0) - 2);
  const at = Math.min(Math.max(0, page), pages.length - 1);
  const lines = pages[at] ?? [];
  // The last guard: every line is short and the pages are measured, so this never cuts in practice.
  const text = fitHtml([...header, ...lines.map((l) => l.text), ...(at === 0 ? footer : [])].join('\n'), TEXT_MAX);

  const keyboard: InlineKeyboardButton[][] = rows(
    lines.flatMap((l) =>
      l.file ? [button(`📎 ${clip(l.file.label, EXCERPT_MAX)}`, { kind: 'historyFile', flow: l.file.flow, answer: l.file.answer })] : [],
    ),
    2,
  );
  if (pages.length > 1) {
    keyboard.push([
      ...(at > 0 ? [button(ctx.t('prev'), { kind: 'historyPage', client: clientId, page: at - 1 })] : []),
      button(`${at + 1} / ${pages.length}`, { kind: 'noop' }),
      ...(at + 1 < pages.length ? [button(ctx.t('next'), { kind: 'historyPage', client: clientId, page: at + 1 })] : []),
    ]);
  }
  keyboard.push([button(ctx.t('back'), { kind: 'client', client: clientId })]);
  await show(ctx, edit, text, keyboard);
}

/** A request's lines: its title, status and last change, then its answers in the order of its steps. */
async function historyBlock(ctx: BotContext, flow: FlowSummary): Promise<HistoryBlock> {
  const steps = flow.definition.steps;
  const position = (stepId: string): number => {
    const index = steps.findIndex((s) => s.id === stepId);
    return index < 0 ? steps.length : index;
  };
  const answers = (await ctx.deps.flows.answersOf(flow.id))
    .filter((a) => a.status === 'accepted' || a.status === 'pending')
    // The frozen definition's order; a step it no longer names goes last. Stable: rounds keep their order.
    .sort((a, b) => position(a.stepId) - position(b.stepId));
  const lines: { text: string; file?: HistoryFile }[] = [
    { text: `• ${html(textIn(ctx, flow.definition.title))} — ${badge(ctx, flow.status)} · ${formatTimestamp(flow.updatedAt)}` },
  ];
  for (const answer of answers) {
    const step = steps.find((s) => s.id === answer.stepId);
    const label = step ? stepLabel(step, ctx.locale, ctx.deps.defaultLocale) : answer.stepId;
    const value = answer.value as StepValue;
    const text = `   ${excerptWords(label, EXCERPT_MAX)}: ${excerptWords(formatValue(step, value, ctx.locale, ctx.deps.defaultLocale), VALUE_MAX)}`;
    lines.push(value.kind === 'file' ? { text, file: { flow: flow.id, answer: answer.id, label } } : { text });
  }
  return { lines };
}

/**
 * Lays requests out on pages: as many whole requests as fit `room(first page?)` (at most
 * HISTORY_PAGE_FLOWS); a request longer than a page alone goes on over the next pages, line by line.
 */
function paginate(blocks: readonly HistoryBlock[], room: (first: boolean) => number): HistoryBlock['lines'][] {
  const pages: HistoryBlock['lines'][number][][] = [[]];
  let left = room(true);
  let count = 0;
  const newPage = (): void => {
    pages.push([]);
    left = room(false);
    count = 0;
  };
  for (const block of blocks) {
    const size = block.lines.reduce((sum, line) => sum + renderedLength(line.text) + 1, 0);
    if (count > 0 && (size > left || count >= HISTORY_PAGE_FLOWS)) newPage();
    for (const line of block.lines) {
      const lineSize = renderedLength(line.text) + 1;
      if (lineSize > left && (pages.at(-1)?.length ?? 0) > 0) newPage();
      pages.at(-1)?.push(line);
      left -= lineSize;
    }
    count += 1;
  }
  return pages;
}

/** A file answer from the history, sent to the operator again by its file id; refused once erased. */
async function resendFile(ctx: BotContext, flowId: number, answerId: number): Promise<void> {
  const answer = (await ctx.deps.flows.answersOf(flowId)).find((a) => a.id === answerId);
  const value = answer?.value as StepValue | undefined;
  if (!answer || value?.kind !== 'file') {
    await ctx.answerCbQuery(ctx.t('historyFileErased'), { show_alert: true }).catch(() => {});
    return;
  }
  await ctx.answerCbQuery().catch(() => {});
  if (value.media === 'photo') await ctx.replyWithPhoto(value.fileId);
  else await ctx.replyWithDocument(value.fileId);
}

async function showInviteMenu(ctx: BotContext): Promise<void> {
  const requests = ctx.deps.catalogue().requests;
  await show(ctx, true, `<b>${ctx.t('menuInvite')}</b>`, [
    [button(ctx.t('menuInvite'), { kind: 'inviteNew' })],
    ...rows(
      requests.map((r) =>
        button(ctx.t('inviteWith', { title: textIn(ctx, r.title) }), { kind: 'inviteWith', requestRef: requestRef(r.id) }),
      ),
      2,
    ),
    [button(ctx.t('back'), { kind: 'menu' })],
  ]);
}

/** `ref`: the reference of a request type to start when the client opens the link (null: none). */
async function createInvite(ctx: BotContext, ref: number | null): Promise<void> {
  if (!ctx.from) return;
  const request = ref === null ? undefined : requestByRef(ctx.deps.catalogue(), ref);
  if (ref !== null && !request) {
    await ctx.answerCbQuery(ctx.t('requestTypeChanged'), { show_alert: true }).catch(() => {});
    await showInviteMenu(ctx);
    return;
  }
  const code = await ctx.deps.directory.createInvite(ctx.from.id, request ? [request.id] : []);
  const link = `https://t.me/${ctx.botInfo.username}?start=${code}`;
  await ctx.reply(ctx.t('inviteCreated', { link, title: request ? textIn(ctx, request.title) : undefined }), {
    link_preview_options: { is_disabled: true },
  });
  await ctx.answerCbQuery().catch(() => {});
}

async function showCatalogue(ctx: BotContext): Promise<void> {
  const requests = ctx.deps.catalogue().requests;
  const lines = [`<b>${ctx.t('catalogueTitle', { n: requests.length })}</b>`, ''];
  for (const r of requests) {
    lines.push(`• <b>${html(textIn(ctx, r.title))}</b> (${r.steps.map((s) => s.type).join(', ')})${r.review ? ' ✅' : ''}`);
  }
  const keyboard: InlineKeyboardButton[][] = [];
  if (ctx.deps.reloadCatalogue && ctx.role === 'admin') keyboard.push([button(ctx.t('reload'), { kind: 'reload' })]);
  keyboard.push([button(ctx.t('back'), { kind: 'menu' })]);
  await show(ctx, true, lines.join('\n'), keyboard);
}

async function reloadCatalogue(ctx: BotContext): Promise<void> {
  if (!ctx.deps.reloadCatalogue || ctx.role !== 'admin') {
    await ctx.answerCbQuery(ctx.t('notAllowed'));
    return;
  }
  const result = await ctx.deps.reloadCatalogue();
  await ctx.reply(result.ok ? ctx.t('reloaded', { n: result.count }) : ctx.t('reloadFailed', { errors: result.errors.join('\n') }));
}

// Composed last: Composer.optional takes the handlers registered so far.
export const operatorMenuFeature = Composer.optional<BotContext>(isStaff, staff);
