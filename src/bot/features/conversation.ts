import { Composer } from 'telegraf';
import type { Message } from 'telegraf/types';
import { LOCALES } from '../../../machines/definition.js';
import type { Answer } from '../../../machines/steps.js';
import { passOnRule } from '../../flows/commands.js';
import type { SourceMessage } from '../../flows/conversation.js';
import { describeMessage } from '../../log/messages.js';
import { parse } from '../../ui/callback-data.js';
import { displayName, html } from '../../ui/format.js';
import { excerpt } from '../../ui/limits.js';
import { t } from '../../ui/i18n.js';
import { talkButton } from '../../ui/talk-button.js';
import { button, inline } from '../keyboards.js';
import { isClient, isStaff, type BotContext } from '../context.js';

/**
 * The conversation beside the requests. A client's message is passed on to their operator instead of
 * being taken as an answer when:
 * - the client pressed "💬 Message the operator" (then any message, even at a text step);
 * - it is text at a photo or document step (a question such as "can I send it tomorrow?": no step of
 *   those types takes text, so it is not counted as a failed attempt, and the step still waits);
 * - their request waits for the operator (in review, or parked after too many attempts);
 * - they have no request open (none at all, or only queued ones).
 * The operator replies with "↩️ Reply" and their next message, or with Telegram's own reply to the copy.
 */
const conversation = new Composer<BotContext>();

/** Characters of a message shown in the client's history. */
const TALK_EXCERPT_MAX = 80;

type Sender = BotContext & { from: NonNullable<BotContext['from']> };

conversation.on('callback_query', async (ctx, next) => {
  const data = parse('data' in ctx.callbackQuery ? ctx.callbackQuery.data : undefined);
  if (!data) return next();
  const { conversation: talk, directory } = ctx.deps;
  if (data.kind === 'talk' && isClient(ctx)) {
    await talk.setTalking(ctx.from.id, true);
    await ctx.answerCbQuery();
    await ctx.reply(ctx.t('talkPrompt'), inline([[button(ctx.t('talkCancel'), { kind: 'talkCancel' })]]));
    return;
  }
  if (data.kind === 'talkCancel' && isClient(ctx)) {
    await talk.setTalking(ctx.from.id, false);
    await ctx.answerCbQuery();
    await ctx.editMessageText(ctx.t('talkCancelled')).catch(() => {});
    return;
  }
  if (data.kind === 'talkReply' && isStaff(ctx)) {
    const client = await directory.get(data.client);
    ctx.session.awaiting = { kind: 'reply', client: data.client };
    await ctx.answerCbQuery();
    await ctx.reply(
      ctx.t('talkReplyPrompt', { client: client ? displayName(client) : String(data.client) }),
      inline([[button(ctx.t('talkCancel'), { kind: 'talkReplyCancel' })]]),
    );
    return;
  }
  if (data.kind === 'talkReplyCancel' && isStaff(ctx)) {
    if (ctx.session.awaiting?.kind === 'reply') ctx.session.awaiting = undefined;
    await ctx.answerCbQuery();
    await ctx.editMessageText(ctx.t('talkReplyCancelled')).catch(() => {});
    return;
  }
  return next();
});

/** A staff member's reply: after "↩️ Reply", or a Telegram reply to a client's passed-on message. */
conversation.on('message', async (ctx, next) => {
  if (!isStaff(ctx)) return next();
  const message = ctx.message;
  const awaiting = ctx.session.awaiting;
  if ('text' in message && message.text.startsWith('/')) {
    // A command ends a reply in progress: the command is carried out instead.
    if (awaiting?.kind === 'reply') ctx.session.awaiting = undefined;
    return next();
  }
  let clientId: number | null = null;
  if (awaiting?.kind === 'reply') {
    clientId = awaiting.client;
    ctx.session.awaiting = undefined;
  } else if ('reply_to_message' in message && message.reply_to_message) {
    clientId = await clientOfReply(ctx, message.reply_to_message);
  }
  const source = clientId === null ? null : sourceOf(message);
  if (clientId === null || source === null) return next();
  const result = await ctx.deps.conversation.toClient({
    operatorId: ctx.from.id,
    clientId,
    message: source,
    updateId: ctx.update.update_id,
  });
  ctx.logged = true;
  if (result.ok) {
    await ctx.reply(ctx.t('talkReplySent', { client: displayName(result.value.client) }));
  } else if (result.refusal.code !== 'duplicate_update') {
    await ctx.reply(ctx.t('talkClientGone'));
  }
});

/** The client a replied-to message passed on: from its Reply button, or from the outbox row that sent it. */
async function clientOfReply(ctx: Sender, replied: NonNullable<Message.CommonMessage['reply_to_message']>): Promise<number | null> {
  const markup = 'reply_markup' in replied ? replied.reply_markup : undefined;
  for (const row of markup?.inline_keyboard ?? []) {
    for (const key of row) {
      const data = 'callback_data' in key ? parse(key.callback_data) : null;
      if (data?.kind === 'talkReply') return data.client;
    }
  }
  return ctx.deps.conversation.clientOfCopy(ctx.from.id, replied.message_id);
}

function sourceOf(message: Message): SourceMessage | null {
  const logged = describeMessage(message);
  return logged && logged.telegramMessageId !== null ? { ...logged, telegramMessageId: logged.telegramMessageId } : null;
}

/**
 * The phone step's reply keyboard carries "Message the operator" as a plain button: its text comes back as a
 * message. Resolves true when this message is that press (the client is then asked for their message).
 */
export async function talkButtonPressed(ctx: Sender, message: Message): Promise<boolean> {
  if (!('text' in message) || !LOCALES.some((locale) => t(locale, 'talkButton') === message.text)) return false;
  await ctx.deps.conversation.setTalking(ctx.from.id, true);
  await ctx.reply(ctx.t('talkPrompt'), inline([[button(ctx.t('talkCancel'), { kind: 'talkCancel' })]]));
  return true;
}

/**
 * For a message that no flow command looks at (one the bot cannot take as an answer): passes it on to the
 * operator when `passOnRule` says so, reading what it decides by. Resolves true when it was passed on.
 */
export async function passOnIfNotAnswer(ctx: Sender, message: Message, answer: Answer): Promise<boolean> {
  const { conversation: talk, flows } = ctx.deps;
  const [talking, active] = await Promise.all([talk.talking(ctx.from.id), flows.activeFlow(ctx.from.id)]);
  const decision = passOnRule(talking, active?.view ?? null, answer);
  if (!decision) return false;
  await passOn(ctx, message, decision.tell, { stepWaits: decision.stepWaits });
  return true;
}

/**
 * Passes a client's message on. The client is told every time they asked for it or the step still waits;
 * otherwise (a message while nothing waits for them) once per quiet period, as a stream of messages
 * needs no receipt each.
 */
export async function passOn(
  ctx: Sender,
  message: Message,
  tell: 'always' | 'quietly',
  options: { stepWaits?: boolean; updateRecorded?: boolean } = {},
): Promise<void> {
  const source = sourceOf(message);
  if (!source) return;
  // An update another command recorded already (it refused the message) is passed on without its id.
  const updateId = options.updateRecorded ? null : ctx.update.update_id;
  const result = await ctx.deps.conversation.fromClient({ clientId: ctx.from.id, message: source, updateId });
  ctx.logged = true;
  if (!result.ok) return;
  if (result.value.recipients === 0) {
    await ctx.reply(ctx.t('talkNobody'));
    return;
  }
  if (tell === 'always' || (await ctx.deps.directory.shouldNudge(ctx.from.id))) {
    await ctx.reply(ctx.t(options.stepWaits ? 'talkPassedOnStep' : 'talkPassedOn'));
  }
}

/** A client arrived (opened the bot for the first time, or through an invite): their operator(s) hear. */
export async function announceArrival(ctx: Sender, via: 'start' | 'invite'): Promise<void> {
  await ctx.deps.conversation.arrival({ clientId: ctx.from.id, via, updateId: ctx.update.update_id });
}

/**
 * The client's latest conversation with the staff, for their history: "← text" from the client,
 * "→ Olga: text" from a staff member. Empty when they never talked.
 */
export async function conversationLines(ctx: BotContext, clientId: number, limit = 6): Promise<string[]> {
  const entries = (await ctx.deps.conversation.entries(clientId, limit)).reverse();
  if (entries.length === 0) return [];
  const names = new Map<number, string>();
  for (const id of new Set(entries.map((e) => e.operatorId).filter((id) => id !== null))) {
    const person = await ctx.deps.directory.get(id);
    names.set(id, person ? displayName(person) : String(id));
  }
  const lines = entries.map((e) => {
    const text = excerpt(e.text ?? `[${e.kind}]`, TALK_EXCERPT_MAX);
    return e.operatorId === null ? `← ${text}` : `→ ${html(names.get(e.operatorId) ?? '')}: ${text}`;
  });
  return ['', `<b>${html(ctx.t('talkHistoryTitle'))}</b>`, ...lines];
}

/** The "Message the operator" button, for a client message outside a prompt (e.g. a refused /cancel). */
export const talkKeyboard = (ctx: BotContext) => ({ reply_markup: { inline_keyboard: [[talkButton(ctx.locale)]] } });

export const conversationFeature = conversation;
