import { Composer } from 'telegraf';
import type { BotContext } from '../context.js';

/** Telegram tells the bot when a person blocks or unblocks it: the client card shows it at once. */
export const membershipFeature = new Composer<BotContext>();

membershipFeature.on('my_chat_member', async (ctx) => {
  const update = ctx.myChatMember;
  if (update.chat.type !== 'private') return;
  const status = update.new_chat_member.status;
  if (status === 'kicked') {
    // The operator of an active request hears that it cannot go on.
    if ((await ctx.deps.directory.setBlocked(update.from.id, true)) && (await ctx.deps.flows.clientBlocked(update.from.id)))
      ctx.deps.sender.kick();
  } else if (status === 'member') {
    await ctx.deps.directory.setBlocked(update.from.id, false);
  }
});
