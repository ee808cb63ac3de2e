import type { InlineKeyboardButton } from 'telegraf/types';
import { pickText } from '../../../machines/definition.js';
import { waitedFor, type ClientName, type WaitingKind } from '../../flows/ownership.js';
import { displayName } from '../../ui/format.js';
import { tStatus, type MessageKey } from '../../ui/i18n.js';
import type { CallbackData } from '../../ui/callback-data.js';
import { excerpt } from '../../ui/limits.js';
import type { BotContext } from '../context.js';
import { button } from '../keyboards.js';
import { show } from '../cards.js';

const PAGE_SIZE = 8;
const NAME_MAX = 40;

/** The operator menu: what waits for the operator, counted, each count a button to its list. */
export async function showDashboard(ctx: BotContext, edit: boolean): Promise<void> {
  if (!ctx.from) return;
  const { ownership } = ctx.deps;
  const counts = await ownership.counts(await ownership.scopeOf(ctx.from.id));
  await show(ctx, edit, `<b>${ctx.t('menuTitle')}</b>\n${ctx.t('dashboardLine', { ...counts })}`, [
    [button(ctx.t('menuClients'), { kind: 'clients', page: 0 }), button(ctx.t('search'), { kind: 'search' })],
    [
      button(ctx.t('menuReviews', { n: counts.review }), { kind: 'reviews', page: 0 }),
      button(ctx.t('menuAttention', { n: counts.attention }), { kind: 'attention', page: 0 }),
    ],
    [
      button(ctx.t('menuActiveCount', { n: counts.active }), { kind: 'active', page: 0 }),
      button(ctx.t('menuUnassigned', { n: counts.unassigned }), { kind: 'unassigned', page: 0 }),
    ],
    [button(ctx.t('menuInvite'), { kind: 'invite' }), button(ctx.t('menuCatalogue'), { kind: 'catalogue' })],
  ]);
}

const LIST: Record<WaitingKind, { title: MessageKey; empty: MessageKey; page: 'reviews' | 'attention' | 'active' }> = {
  review: { title: 'dashReviewsTitle', empty: 'noReviews', page: 'reviews' },
  attention: { title: 'dashAttentionTitle', empty: 'noAttention', page: 'attention' },
  active: { title: 'dashActiveTitle', empty: 'noActive', page: 'active' },
};

/**
 * Requests waiting, the longest-waiting first, each with how long it has waited and ⚠️ when overdue.
 * A request to review or one that needs the operator brings its card up again; an active one, the client card.
 */
export async function showWaiting(ctx: BotContext, kind: WaitingKind, page: number): Promise<void> {
  if (!ctx.from) return;
  const { ownership } = ctx.deps;
  const scope = await ownership.scopeOf(ctx.from.id);
  const { items, total } = await ownership.waiting(kind, scope, { offset: page * PAGE_SIZE, limit: PAGE_SIZE });
  const owners = scope === null ? await ownership.names(items.map((i) => i.operatorId)) : new Map<number, ClientName>();
  const keyboard: InlineKeyboardButton[][] = items.map((item) => {
    const parts = [
      `${item.overdue ? '⚠️ ' : ''}${name(item.client)}`,
      pickText(item.title, ctx.locale, ctx.deps.defaultLocale),
      ...(kind === 'active' ? [tStatus(ctx.locale, item.status)] : []),
      waited(ctx, item.waitedMs),
      ...ownerTag(ctx, owners.get(item.operatorId)),
    ];
    const data: CallbackData =
      kind === 'active' ? { kind: 'client', client: item.client.id } : { kind: 'resend', flow: item.flowId, version: item.version };
    return [button(parts.join(' · '), data)];
  });
  keyboard.push(...nav(ctx, LIST[kind].page, page, total));
  const empty = total === 0 ? `\n\n${ctx.t(LIST[kind].empty)}` : '';
  await show(ctx, true, `<b>${ctx.t(LIST[kind].title, { n: total })}</b>${empty}${footer(ctx, items)}`, keyboard);
}

/** Clients nobody owns yet, the longest-waiting first, each with a Take button. */
export async function showUnassigned(ctx: BotContext, page: number): Promise<void> {
  const { items, total } = await ctx.deps.ownership.unassigned({ offset: page * PAGE_SIZE, limit: PAGE_SIZE });
  const keyboard: InlineKeyboardButton[][] = items.map((item) => [
    button(`${item.overdue ? '⚠️ ' : ''}${name(item.client)} · ${waited(ctx, item.waitedMs)}`, { kind: 'client', client: item.client.id }),
    button(ctx.t('take'), { kind: 'take', client: item.client.id }),
  ]);
  keyboard.push(...nav(ctx, 'unassigned', page, total));
  const empty = total === 0 ? `\n\n${ctx.t('noUnassigned')}` : '';
  await show(ctx, true, `<b>${ctx.t('dashUnassignedTitle', { n: total })}</b>${empty}${footer(ctx, items)}`, keyboard);
}

/** A button's text is plain: the name only shortened (no HTML escaping there). */
function name(client: ClientName): string {
  const full = displayName(client);
  return full.length > NAME_MAX ? `${full.slice(0, NAME_MAX - 1)}…` : full;
}

function waited(ctx: BotContext, ms: number): string {
  const { unit, n } = waitedFor(ms);
  return ctx.t(`waited_${unit}`, { n });
}

/** Admins see whose each request is. */
function ownerTag(ctx: BotContext, owner: ClientName | undefined): string[] {
  return owner ? [ctx.t('ownerTag', { owner: name(owner) })] : [];
}

/** Explains the ⚠️ mark when a list shows one. */
function footer(ctx: BotContext, items: readonly { overdue: boolean }[]): string {
  if (!items.some((i) => i.overdue)) return '';
  return `\n\n<i>${excerpt(ctx.t('overdueRule', { hours: Math.round(ctx.deps.ownership.overdueHours) }), 200)}</i>`;
}

function nav(
  ctx: BotContext,
  kind: 'reviews' | 'attention' | 'active' | 'unassigned',
  page: number,
  total: number,
): InlineKeyboardButton[][] {
  const row: InlineKeyboardButton[] = [];
  if (page > 0) row.push(button(ctx.t('prev'), { kind, page: page - 1 }));
  if ((page + 1) * PAGE_SIZE < total) row.push(button(ctx.t('next'), { kind, page: page + 1 }));
  return [...(row.length > 0 ? [row] : []), [button(ctx.t('back'), { kind: 'menu' })]];
}
