import { Composer } from 'telegraf';
import type { InlineKeyboardButton } from 'telegraf/types';
import { pickText, type Text } from '../../../machines/definition.js';
import type { StepValue } from '../../../machines/steps.js';
import { requestByRef, requestRef } from '../../config/catalogue.js';
import { isFinal, type FlowStatus } from '../../flows/statuses.js';
import { displayName, formatValue, html, stepLabel } from '../../ui/format.js';
import type { MessageKey } from '../../ui/i18n.js';
import { parse, type CallbackData } from '../../ui/callback-data.js';
import { EXCERPT_MAX, TEXT_MAX, VALUE_MAX, excerpt, fitHtml, renderedLength } from '../../ui/limits.js';
import { isStaff, type BotContext } from '../context.js';
import { button, inline, rows } from '../keyboards.js';
import { refusalText } from '../refusals.js';
import { conversationLines } from './conversation.js';

const PAGE_SIZE = 8;
/** A message in the history: a one-line excerpt. */
const RECENT_MAX = 80;

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
      await showHistory(ctx, data.client);
      break;
    case 'reviews':
      await showFlows(ctx, 'in_review', data.page);
      break;
    case 'active':
      await showFlows(ctx, null, data.page);
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
    case 'noop':
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

/** Replaces the menu message in place when it came from a button, or sends a new one. */
async function show(ctx: BotContext, edit: boolean, text: string, keyboard: InlineKeyboardButton[][]): Promise<void> {
  const extra = { parse_mode: 'HTML' as const, ...inline(keyboard) };
  if (edit && ctx.callbackQuery?.message) {
    try {
      await ctx.editMessageText(text, extra);
      return;
    } catch {
      // Not modified, or too old to edit: send it anew.
    }
  }
  await ctx.reply(text, extra);
}

async function showMenu(ctx: BotContext, edit: boolean): Promise<void> {
  const reviews = await ctx.deps.flows.pendingReviews(null);
  await show(ctx, edit, `<b>${ctx.t('menuTitle')}</b>`, [
    [button(ctx.t('menuClients'), { kind: 'clients', page: 0 }), button(ctx.t('search'), { kind: 'search' })],
    [button(ctx.t('menuReviews', { n: reviews.length }), { kind: 'reviews', page: 0 })],
    [button(ctx.t('menuActive'), { kind: 'active', page: 0 })],
    [button(ctx.t('menuInvite'), { kind: 'invite' }), button(ctx.t('menuCatalogue'), { kind: 'catalogue' })],
  ]);
}

/** A catalogue or frozen text in the operator's language (a frozen one may lack it: see `pickText`). */
function textIn(ctx: BotContext, text: Text): string {
  return pickText(text, ctx.locale, ctx.deps.defaultLocale);
}

function badge(ctx: BotContext, status: FlowStatus | null): string {
  return status ? ctx.t(`status_${status}` as MessageKey) : '';
}

async function showClients(ctx: BotContext, page: number, query: string | undefined, edit: boolean): Promise<void> {
  const { items, total } = await ctx.deps.directory.clients({ page, pageSize: PAGE_SIZE, ...(query ? { query } : {}) });
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const title = query ? ctx.t('searchTitle', { query: html(query), total }) : ctx.t('clientsTitle', { total, page: page + 1, pages });
  const list = items.map((item) => [
    button(`${displayName(item.person)}${item.status ? ` · ${badge(ctx, item.status)}` : ''}${item.queued ? ` (+${item.queued})` : ''}`, {
      kind: 'client',
      client: item.person.id,
    }),
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

/** The client card: who they are, their requests, controls, and a button per request type. */
export async function showClient(ctx: BotContext, clientId: number, edit: boolean): Promise<void> {
  const { directory, flows, catalogue } = ctx.deps;
  const person = await directory.get(clientId);
  if (!person) {
    await ctx.answerCbQuery(ctx.t('refusal_client_not_found')).catch(() => {});
    return;
  }
  const open = (await flows.flowsOf(clientId, 50)).filter((f) => !isFinal(f.status));
  const active = await flows.activeFlow(clientId);
  const queued = open.filter((f) => f.status === 'queued').reverse();
  const lines = [
    `<b>${html(ctx.t('clientTitle', { name: displayName(person) }))}</b>`,
    `${ctx.t('clientId', { id: person.id })}${person.languageCode ? ` · ${ctx.t('clientLanguage', { language: person.languageCode })}` : ''}`,
  ];
  if (person.blockedAt) lines.push(ctx.t('clientBlocked'));
  if (!person.startedAt) lines.push(ctx.t('clientNotStartedYet'));
  lines.push('');
  if (active) {
    const progress = active.view.kind === 'prompt' ? ` (${active.view.position}/${active.view.total})` : '';
    lines.push(
      html(ctx.t('activeLine', { title: textIn(ctx, active.definition.title), status: `${badge(ctx, active.status)}${progress}` })),
    );
  } else {
    lines.push(ctx.t('noActiveRequest'));
  }
  if (queued.length > 0) lines.push(html(ctx.t('queuedLine', { titles: queued.map((f) => textIn(ctx, f.definition.title)).join(', ') })));
  lines.push('', ctx.t('sendHeader'));

  const keyboard: InlineKeyboardButton[][] = [];
  if (active) {
    const ref = { flow: active.id, version: active.version };
    keyboard.push([button(ctx.t('resendPrompt'), { kind: 'resend', ...ref }), button(ctx.t('retryStep'), { kind: 'retry', ...ref })]);
    keyboard.push([button(ctx.t('reset'), { kind: 'reset', ...ref }), button(ctx.t('cancel'), { kind: 'cancel', ...ref })]);
  }
  for (const flow of queued)
    keyboard.push([
      button(`${ctx.t('cancel')}: ${textIn(ctx, flow.definition.title)}`, { kind: 'cancel', flow: flow.id, version: flow.version }),
    ]);
  // Each button names its request type by a stable reference: a reloaded catalogue never redirects it.
  keyboard.push(
    ...rows(
      catalogue().requests.map((r) => button(textIn(ctx, r.title), { kind: 'send', client: clientId, requestRef: requestRef(r.id) })),
      2,
    ),
  );
  keyboard.push([button(ctx.t('history'), { kind: 'history', client: clientId }), button(ctx.t('back'), { kind: 'menu' })]);
  await show(ctx, edit, lines.join('\n'), keyboard);
}

async function sendRequest(ctx: BotContext, clientId: number, ref: number): Promise<void> {
  if (!ctx.from) return;
  const request = requestByRef(ctx.deps.catalogue(), ref);
  if (!request) {
    // A button from before a catalogue reload whose request type is gone: say so and show the card anew.
    await ctx.answerCbQuery(ctx.t('requestTypeChanged'), { show_alert: true }).catch(() => {});
    await showClient(ctx, clientId, true);
    return;
  }
  const result = await ctx.deps.flows.start({ operatorId: ctx.from.id, clientId, requestId: request.id, updateId: ctx.update.update_id });
  if (!result.ok) {
    await ctx.answerCbQuery(refusalText(ctx, result.refusal), { show_alert: result.refusal.code !== 'duplicate_update' });
    return;
  }
  await ctx.deps.directory.bindClient(clientId, ctx.from.id);
  ctx.deps.sender.kick();
  const person = await ctx.deps.directory.get(clientId);
  const name = person ? displayName(person) : String(clientId);
  const title = textIn(ctx, request.title);
  await ctx.answerCbQuery(
    result.value.queued
      ? ctx.t('requestQueuedShort', { title, client: name, position: result.value.position })
      : ctx.t('requestSent', { title, client: name }),
  );
  await showClient(ctx, clientId, true);
}

/**
 * The client's last requests with their answers, and their last messages, in one message within
 * Telegram's limit: whole requests are left out from the oldest on when they do not fit (never a tag
 * or an entity cut in two), and every value is shown the way summaries show it.
 */
async function showHistory(ctx: BotContext, clientId: number): Promise<void> {
  const { flows, directory, messageLog } = ctx.deps;
  const person = await directory.get(clientId);
  const history = await flows.flowsOf(clientId, 10);
  const header = [`<b>${html(ctx.t('historyTitle', { name: person ? displayName(person) : String(clientId) }))}</b>`, ''];
  if (history.length === 0) header.push(ctx.t('noHistory'));

  const recent = (await messageLog.recent(clientId, 10)).reverse();
  const footer =
    recent.length === 0
      ? []
      : [
          '',
          `<b>${ctx.t('recentMessages')}</b>`,
          ...recent.map((m) => `${m.direction === 'in' ? '←' : '→'} ${excerpt(m.text ?? `[${m.kind}]`, RECENT_MAX)}`),
        ];
  footer.unshift(...(await conversationLines(ctx, clientId)));

  const blocks: string[] = [];
  for (const flow of history) {
    const lines = [
      `• ${html(textIn(ctx, flow.definition.title))} — ${badge(ctx, flow.status)} · ${flow.updatedAt.toISOString().slice(0, 16).replace('T', ' ')}`,
    ];
    const answers = (await flows.answersOf(flow.id)).filter((a) => a.status === 'accepted' || a.status === 'pending');
    for (const answer of answers) {
      const step = flow.definition.steps.find((s) => s.id === answer.stepId);
      const label = step ? stepLabel(step, ctx.locale, ctx.deps.defaultLocale) : answer.stepId;
      const value = formatValue(step, answer.value as StepValue, ctx.locale, ctx.deps.defaultLocale);
      lines.push(`   ${excerpt(label, EXCERPT_MAX)}: ${excerpt(value, VALUE_MAX)}`);
    }
    blocks.push(lines.join('\n'));
  }

  // Room for the requests: what the header, the messages and a "not shown" line leave of the limit.
  const more = (n: number) => `<i>${html(ctx.t('historyMore', { n }))}</i>`;
  let room = TEXT_MAX - renderedLength([...header, ...footer].join('\n')) - renderedLength(more(history.length)) - 2;
  const shown: string[] = [];
  for (const block of blocks) {
    const size = renderedLength(block) + 1;
    // The newest request is shown even when it alone is too long (the last guard below shortens it).
    if (size > room && shown.length > 0) break;
    shown.push(block);
    room -= size;
  }
  if (shown.length < blocks.length) shown.push(more(blocks.length - shown.length));
  // The last guard: cut between whole characters, tags closed again.
  const text = fitHtml([...header, ...shown, ...footer].join('\n'), TEXT_MAX);
  await show(ctx, false, text, [[button(ctx.t('back'), { kind: 'client', client: clientId })]]);
}

async function showFlows(ctx: BotContext, status: 'in_review' | null, page: number): Promise<void> {
  const { flows, directory } = ctx.deps;
  const list = status === 'in_review' ? await flows.pendingReviews(null, 100) : await flows.activeFlows(100);
  const slice = list.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
  const keyboard: InlineKeyboardButton[][] = [];
  for (const flow of slice) {
    const person = await directory.get(flow.clientId);
    const data: CallbackData =
      status === 'in_review' ? { kind: 'resend', flow: flow.id, version: flow.version } : { kind: 'client', client: flow.clientId };
    keyboard.push([
      button(`${person ? displayName(person) : flow.clientId} · ${textIn(ctx, flow.definition.title)} · ${badge(ctx, flow.status)}`, data),
    ]);
  }
  const nav: InlineKeyboardButton[] = [];
  const kind = status === 'in_review' ? 'reviews' : 'active';
  if (page > 0) nav.push(button(ctx.t('prev'), { kind, page: page - 1 }));
  if ((page + 1) * PAGE_SIZE < list.length) nav.push(button(ctx.t('next'), { kind, page: page + 1 }));
  if (nav.length > 0) keyboard.push(nav);
  keyboard.push([button(ctx.t('back'), { kind: 'menu' })]);
  const title = status === 'in_review' ? ctx.t('reviewsTitle', { n: list.length }) : ctx.t('activeTitle', { n: list.length });
  const empty = list.length === 0 ? `\n\n${ctx.t(status === 'in_review' ? 'noReviews' : 'noActive')}` : '';
  await show(ctx, true, `<b>${title}</b>${empty}`, keyboard);
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
