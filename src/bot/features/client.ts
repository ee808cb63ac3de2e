import { Composer } from 'telegraf';
import { pickText } from '../../../machines/definition.js';
import { isFinal } from '../../flows/statuses.js';
import { describeMessage } from '../../log/messages.js';
import { displayName } from '../../ui/format.js';
import { tInvalid } from '../../ui/i18n.js';
import { parse } from '../../ui/callback-data.js';
import { answerOf, mediaGroupOfMessage } from '../answers.js';
import { isClient, type BotContext } from '../context.js';
import { announceArrival, passOn, passOnIfNotAnswer, talkButtonPressed, talkKeyboard } from './conversation.js';

/** Everything a client does: /start with or without an invite, answers, buttons, /help, /cancel. */
const client = new Composer<BotContext>();

client.start(async (ctx) => {
  const { directory, flows } = ctx.deps;
  const known = (await directory.get(ctx.from.id))?.startedAt != null;
  await directory.touch(ctx.from, { started: true });
  const code = ctx.payload.trim();
  if (code === '') {
    await ctx.reply(ctx.t('greeting', { name: ctx.from.first_name }));
    if (!known) await announceArrival(ctx, 'start');
    return;
  }
  const invite = await directory.redeemInvite(code, ctx.from.id);
  if (!invite.ok) {
    await ctx.reply(ctx.t(invite.reason === 'expired' ? 'inviteExpired' : invite.reason === 'used' ? 'inviteUsed' : 'inviteUnknown'));
    return;
  }
  const operator = await directory.get(invite.operatorId);
  await ctx.reply(ctx.t('inviteWelcome', { operator: operator ? displayName(operator) : String(invite.operatorId) }));
  await announceArrival(ctx, 'invite');
  for (const requestId of invite.requestIds) {
    const started = await flows.start({ operatorId: invite.operatorId, clientId: ctx.from.id, requestId });
    if (!started.ok) ctx.deps.logger.warn({ requestId, refusal: started.refusal }, 'invite request not started');
  }
});

client.help(async (ctx) => {
  const active = await ctx.deps.flows.activeFlow(ctx.from.id);
  if (active?.view.kind === 'prompt')
    await ctx.reply(ctx.t('helpStep', { prompt: pickText(active.view.step.prompt, ctx.locale, ctx.deps.defaultLocale) }));
  else if (active?.view.kind === 'confirm') await ctx.reply(ctx.t('pressButtons'));
  else if (active) await ctx.reply(ctx.t('alreadyReceived'));
  else await ctx.reply(ctx.t('helpNoRequest'));
});

client.command('cancel', async (ctx) => {
  const result = await ctx.deps.flows.cancelByClient({ clientId: ctx.from.id, updateId: ctx.update.update_id });
  if (result.ok) return;
  if (result.refusal.code === 'cancel_not_allowed') await ctx.reply(ctx.t('cancelNotAllowed'), talkKeyboard(ctx));
  else if (result.refusal.code === 'no_active_request') await ctx.reply(ctx.t('helpNoRequest'));
});

client.on('edited_message', (ctx) => ctx.reply(ctx.t('editsIgnored')));

client.on('message', async (ctx) => {
  const message = ctx.message;
  if ('text' in message && message.text.startsWith('/')) {
    await ctx.reply(ctx.t('helpNoRequest'));
    return;
  }
  const answer = answerOf(message, ctx.from.id);
  const album = mediaGroupOfMessage(message);
  // Another item of an album whose first item was taken already: not an answer, and the client was
  // told so with the first one. (The machine refuses it too, should this check ever race.)
  if (album !== undefined && (await albumTaken(ctx, album))) return;
  if (await talkButtonPressed(ctx, message)) return;
  if (answer.kind === 'unsupported') {
    // Not an answer (a question, or nothing waits for one): it goes to the operator.
    if (await passOnIfNotAnswer(ctx, message, answer)) return;
    // Not counted as an attempt: the client did not try to answer.
    await ctx.reply(tInvalid(ctx.locale, 'unsupported_message', { what: answer.what }));
    return;
  }
  const logged = describeMessage(message);
  // Taken as the answer, unless it is for the operator (a question, or nothing waits for one): one command decides.
  const result = await ctx.deps.flows.answerUnlessPassedOn({
    clientId: ctx.from.id,
    answer,
    updateId: ctx.update.update_id,
    ...(logged ? { message: logged } : {}),
  });
  if ('passOn' in result) {
    await passOn(ctx, message, result.tell, { stepWaits: result.stepWaits });
    return;
  }
  ctx.logged = logged !== null;
  // What the command wrote to the outbox went to the sender with its commit (no pass needed).
  if (result.ok) return;
  switch (result.refusal.code) {
    case 'duplicate_update':
      return;
    case 'no_active_request':
      // Passed on by the command itself as a rule; should it come here, the message was logged and this update recorded.
      await passOn(ctx, message, 'quietly', { updateRecorded: true });
      return;
    case 'not_allowed':
      // A step refuses an answer only when it is another item of an album already taken (see above).
      if (album !== undefined && result.refusal.status === 'collecting') return;
      await ctx.reply(
        ctx.t(
          result.refusal.status === 'confirming'
            ? 'pressButtons'
            : result.refusal.status === 'needs_operator'
              ? 'parkedWait'
              : 'alreadyReceived',
        ),
      );
      return;
    default:
      await ctx.reply(ctx.t('helpNoRequest'));
  }
});

/**
 * Whether an item of this album was taken as an answer: by the active request, or by the request it
 * finished (it may have been the last answer; the next queued request may have started since).
 */
async function albumTaken(ctx: BotContext & { from: NonNullable<BotContext['from']> }, album: string): Promise<boolean> {
  const { flows } = ctx.deps;
  const active = await flows.activeFlow(ctx.from.id);
  if (active?.view.album === album) return true;
  const finished = (await flows.flowsOf(ctx.from.id))
    .filter((f) => isFinal(f.status))
    .sort((a, b) => b.updatedAt.getTime() - a.updatedAt.getTime())[0];
  if (!finished) return false;
  return (await flows.flow(finished.id))?.view?.album === album;
}

/** Buttons on the client's own request: an option, Skip, Confirm, or Edit. */
client.on('callback_query', async (ctx, next) => {
  const data = parse('data' in ctx.callbackQuery ? ctx.callbackQuery.data : undefined);
  if (!data || !(data.kind === 'choose' || data.kind === 'skip' || data.kind === 'confirm' || data.kind === 'edit')) return next();
  const { flows } = ctx.deps;
  const ref = { clientId: ctx.from.id, flowId: data.flow, version: data.version, updateId: ctx.update.update_id };
  let result;
  if (data.kind === 'choose') {
    const active = await flows.activeFlow(ctx.from.id);
    const step = active?.view.kind === 'prompt' && active.id === data.flow ? active.view.step : null;
    const option = step?.options?.[data.option];
    if (!option) {
      await ctx.answerCbQuery(ctx.t('changed'));
      return;
    }
    result = await flows.answer({ ...ref, answer: { kind: 'choice', optionId: option.id } });
  } else if (data.kind === 'skip') {
    result = await flows.skip(ref);
  } else if (data.kind === 'confirm') {
    result = await flows.confirm(ref);
  } else {
    result = await flows.editStep({ ...ref, step: data.step });
  }
  if (!result.ok) {
    // Client wording: the operator-facing refusal texts ("The client has …") are not for them.
    const code = result.refusal.code;
    if (code === 'duplicate_update') await ctx.answerCbQuery();
    else await ctx.answerCbQuery(ctx.t(code === 'stale' || code === 'not_allowed' ? 'changed' : 'buttonExpired'));
    return;
  }
  await ctx.answerCbQuery();
  // The pressed buttons have done their job: remove them so they cannot be pressed twice.
  await ctx.editMessageReplyMarkup(undefined).catch(() => {});
});

// Composed last: Composer.optional takes the handlers registered so far.
export const clientFeature = Composer.optional<BotContext>(isClient, client);
