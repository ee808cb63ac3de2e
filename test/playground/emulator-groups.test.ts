// Groups, supergroups and channels: adding the bot, members' messages and button presses, sending, leaveChat.
import { Markup, Telegraf } from 'telegraf';
import { describe, expect, it } from 'vitest';
import { samplePhoto, type TgChatMemberUpdated, type TgMessage, type TgUpdate } from '../helpers/telegram.js';
import { apiError, useEmulator, type TestContext } from './emulator-helpers.js';

const kinds = (updates: TgUpdate[]): string[] => updates.map((update) => Object.keys(update).find((key) => key !== 'update_id') ?? '');

const memberChanges = (updates: TgUpdate[]): TgChatMemberUpdated[] =>
  updates.flatMap((update) => ('my_chat_member' in update ? [update.my_chat_member] : []));

/** Reads and confirms every pending update. */
async function drain(t: TestContext): Promise<TgUpdate[]> {
  const updates = await t.api.call<TgUpdate[]>('getUpdates', { timeout: 0 });
  const last = updates.at(-1);
  if (last) await t.api.call('getUpdates', { offset: last.update_id + 1, timeout: 0 });
  return updates;
}

function people(t: TestContext) {
  return {
    anna: t.emu.createUser({ firstName: 'Anna' }),
    bob: t.emu.createUser({ firstName: 'Bob', username: 'bob' }),
  };
}

describe('Emulated groups: creation and the bot joining', () => {
  const t = useEmulator();

  it('gives groups -<n> ids and supergroups and channels -100<n> ids', () => {
    const { anna } = people(t);
    const group = t.emu.createGroup({ title: 'Family', type: 'group', members: [anna] });
    const supergroup = t.emu.createGroup({ title: 'Team', type: 'supergroup', members: [anna] });
    const channel = t.emu.createGroup({ title: 'News', type: 'channel', members: [anna] });
    expect(String(group.id)).toMatch(/^-[1-9]\d{9}$/);
    expect(String(supergroup.id)).toMatch(/^-100\d{10}$/);
    expect(String(channel.id)).toMatch(/^-100\d{10}$/);
    expect(channel.chat).toEqual({ id: channel.id, type: 'channel', title: 'News' });
    expect(t.emu.groups().map((g) => g.id)).toEqual([group.id, supergroup.id, channel.id]);
    expect(t.emu.group(supergroup.id)).toBe(supergroup);
    expect(group.botIsMember()).toBe(false);
    expect(group.botStatus()).toBe('left');
  });

  it('sends my_chat_member (left → member) and the new_chat_members message when a member adds the bot', async () => {
    const { anna, bob } = people(t);
    const group = t.emu.createGroup({ title: 'Family', type: 'group', members: [anna, bob] });
    await group.send(bob, 'before the bot came');
    expect(await drain(t)).toEqual([]);

    await group.addBot(anna);
    expect(group.botIsMember()).toBe(true);
    const updates = await drain(t);
    expect(kinds(updates)).toEqual(['my_chat_member', 'message']);
    const botUser = { id: t.bot.id, is_bot: true, first_name: 'Test Bot', username: 'test_bot' };
    expect(memberChanges(updates)[0]).toEqual({
      chat: { id: group.id, type: 'group', title: 'Family' },
      from: anna.info,
      date: expect.any(Number) as number,
      old_chat_member: { user: botUser, status: 'left' },
      new_chat_member: { user: botUser, status: 'member' },
    });
    const joined = updates[1] && 'message' in updates[1] ? updates[1].message : undefined;
    expect(joined).toMatchObject({
      message_id: 2,
      from: { id: anna.id },
      chat: { id: group.id, type: 'group' },
      new_chat_members: [{ id: t.bot.id, is_bot: true }],
    });
    await expect(group.addBot(bob)).rejects.toThrow(/already in group "Family"/);
  });

  it('adds the bot to a channel as an administrator', async () => {
    const { anna } = people(t);
    const channel = t.emu.createGroup({ title: 'News', type: 'channel', members: [anna] });
    await channel.addBot(anna);
    const updates = await drain(t);
    expect(kinds(updates)).toEqual(['my_chat_member']);
    expect(memberChanges(updates)[0]).toMatchObject({
      chat: { id: channel.id, type: 'channel', title: 'News' },
      from: { id: anna.id },
      old_chat_member: { status: 'left' },
      new_chat_member: { status: 'administrator', can_post_messages: true, can_edit_messages: true },
    });
    expect(channel.botStatus()).toBe('administrator');
  });

  it('refuses actions of people who are not members', async () => {
    const { anna, bob } = people(t);
    const group = t.emu.createGroup({ title: 'Private club', type: 'supergroup', members: [anna] });
    await expect(group.addBot(bob)).rejects.toThrow(/Bob is not in supergroup "Private club"/);
    await expect(group.send(bob, 'let me in')).rejects.toThrow(/cannot post/);
  });
});

describe('Emulated groups: messages, buttons and sending', () => {
  const t = useEmulator();

  async function groupWithBot(type: 'group' | 'supergroup' | 'channel' = 'supergroup') {
    const { anna, bob } = people(t);
    const group = t.emu.createGroup({ title: 'Team', type, members: [anna, bob] });
    await group.addBot(anna);
    await drain(t);
    return { anna, bob, group };
  }

  it("delivers members' messages with the group chat and the member as from", async () => {
    const { bob, group } = await groupWithBot();
    const sent = await group.send(bob, '/report@test_bot weekly');
    expect(sent).toMatchObject({ from: 'user', fromUserId: bob.id, text: '/report@test_bot weekly' });
    const updates = await drain(t);
    expect(kinds(updates)).toEqual(['message']);
    const message = updates[0] && 'message' in updates[0] ? updates[0].message : undefined;
    expect(message).toEqual({
      message_id: sent.messageId,
      from: bob.info,
      chat: { id: group.id, type: 'supergroup', title: 'Team' },
      date: sent.date,
      text: '/report@test_bot weekly',
      entities: [{ type: 'bot_command', offset: 0, length: 16 }],
    });
  });

  it('delivers channel posts as channel_post without from', async () => {
    const { anna, group } = await groupWithBot('channel');
    await group.send(anna, 'Release 1.0 is out');
    const updates = await drain(t);
    expect(kinds(updates)).toEqual(['channel_post']);
    const post = updates[0] && 'channel_post' in updates[0] ? updates[0].channel_post : undefined;
    expect(post).toMatchObject({
      chat: { id: group.id, type: 'channel', title: 'Team' },
      sender_chat: { id: group.id, type: 'channel', title: 'Team' },
      text: 'Release 1.0 is out',
    });
    expect(post).not.toHaveProperty('from');

    const own = await t.api.call<TgMessage>('sendMessage', { chat_id: group.id, text: 'Posted by the bot' });
    expect(own).toMatchObject({ chat: { id: group.id, type: 'channel' }, sender_chat: { id: group.id } });
    expect(own).not.toHaveProperty('from');
  });

  it('lets the bot send, edit, reply, upload, copy and forward in the group', async () => {
    const { anna, bob, group } = await groupWithBot();
    const question = await group.send(bob, 'Who is on duty?');
    const reply = await t.api.call<TgMessage>('sendMessage', {
      chat_id: group.id,
      text: 'Anna is',
      reply_parameters: { message_id: question.messageId },
    });
    expect(reply).toMatchObject({
      from: { id: t.bot.id },
      chat: { id: group.id, type: 'supergroup' },
      reply_to_message: { message_id: question.messageId, from: { id: bob.id } },
    });
    const edited = await t.api.call<TgMessage>('editMessageText', {
      chat_id: String(group.id),
      message_id: reply.message_id,
      text: 'Anna is, until 6 pm',
    });
    expect(edited.edit_date).toEqual(expect.any(Number));
    const photo = await t.api.multipart('sendPhoto', {
      chat_id: String(group.id),
      photo: [new Blob([samplePhoto()]), 'duty.png'],
      caption: 'Roster',
    });
    expect(photo.body.ok).toBe(true);

    await anna.send('/start');
    const forwarded = await t.api.call<TgMessage>('forwardMessage', {
      chat_id: anna.id,
      from_chat_id: group.id,
      message_id: question.messageId,
    });
    expect(forwarded).toMatchObject({
      chat: { id: anna.id, type: 'private' },
      forward_origin: { type: 'user', sender_user: { id: bob.id } },
      forward_from: { id: bob.id },
    });
    const copy = await t.api.call<{ message_id: number }>('copyMessage', {
      chat_id: group.id,
      from_chat_id: anna.id,
      message_id: forwarded.message_id,
    });
    expect(group.messages().map((m) => m.text ?? m.caption)).toEqual(['Anna is, until 6 pm', 'Roster', 'Who is on duty?']);
    expect(group.lastMessage()?.messageId).toBe(copy.message_id);
    // The service message about the bot joining can be neither forwarded nor copied.
    expect(await t.api.raw('forwardMessage', { chat_id: anna.id, from_chat_id: group.id, message_id: 1 })).toEqual(
      apiError(400, "Bad Request: message can't be forwarded"),
    );
    expect(group.transcript()).toContain('#1 Anna: [joined: Test Bot]');
    expect(group.transcript()).toContain('Bob: Who is on duty?');
  });

  it("deletes its own messages anywhere, members' only where it is an administrator", async () => {
    const { bob, group } = await groupWithBot();
    const own = await t.api.call<TgMessage>('sendMessage', { chat_id: group.id, text: 'oops' });
    const theirs = await group.send(bob, 'spam');
    expect(await t.api.call('deleteMessage', { chat_id: group.id, message_id: own.message_id })).toBe(true);
    expect(await t.api.raw('deleteMessage', { chat_id: group.id, message_id: theirs.messageId })).toEqual(
      apiError(400, "Bad Request: message can't be deleted"),
    );
    const channel = await groupWithBot('channel');
    const post = await channel.group.send(channel.anna, 'typo');
    expect(await t.api.call('deleteMessage', { chat_id: channel.group.id, message_id: post.messageId })).toBe(true);
    expect(channel.group.history().find((message) => message.messageId === post.messageId)?.deleted).toBe(true);
  });

  it('forwards channel posts with a channel origin', async () => {
    const { anna, group } = await groupWithBot('channel');
    const post = await group.send(anna, 'Big news');
    await anna.send('/start');
    const forwarded = await t.api.call<TgMessage>('forwardMessage', {
      chat_id: anna.id,
      from_chat_id: group.id,
      message_id: post.messageId,
    });
    expect(forwarded).toMatchObject({
      forward_origin: { type: 'channel', chat: { id: group.id, type: 'channel' }, message_id: post.messageId },
      forward_from_chat: { id: group.id },
      forward_from_message_id: post.messageId,
    });
    expect(forwarded).not.toHaveProperty('forward_from');
  });

  it('sends a callback_query whose message is in the group when a member presses a button', async () => {
    const { bob, group } = await groupWithBot();
    const poll = await t.api.call<TgMessage>('sendMessage', {
      chat_id: group.id,
      text: 'Lunch?',
      reply_markup: {
        inline_keyboard: [
          [
            { text: 'Pizza 🍕', callback_data: 'pizza' },
            { text: 'Salad', callback_data: 'salad' },
          ],
        ],
      },
    });
    const queryId = await group.press(bob, /^Pizza/);
    const [update] = await drain(t);
    expect(update && 'callback_query' in update ? update.callback_query : undefined).toEqual({
      id: queryId,
      from: bob.info,
      message: expect.objectContaining({ message_id: poll.message_id, chat: group.chat }) as TgMessage,
      chat_instance: expect.any(String) as string,
      data: 'pizza',
    });
    expect(await t.api.call('answerCallbackQuery', { callback_query_id: queryId, text: 'Noted' })).toBe(true);
    expect(group.callbackAnswers()).toEqual([{ callbackQueryId: queryId, messageId: poll.message_id, data: 'pizza', text: 'Noted' }]);
    expect(group.transcript()).toContain(`Bob pressed [Pizza 🍕] on #${poll.message_id} → answered "Noted"`);
    await expect(group.press(bob, 'Soup')).rejects.toThrow(/No callback button "Soup"/);
  });

  it('answers getChat, getChatMember and getChatMemberCount for groups', async () => {
    const { anna, bob, group } = await groupWithBot();
    expect(await t.api.call('getChat', { chat_id: group.id })).toMatchObject({
      id: group.id,
      type: 'supergroup',
      title: 'Team',
    });
    expect(await t.api.call('getChatMember', { chat_id: group.id, user_id: anna.id })).toMatchObject({
      status: 'creator',
      user: { id: anna.id },
    });
    const member = (userId: number) => t.api.call('getChatMember', { chat_id: group.id, user_id: userId });
    expect(await member(bob.id)).toMatchObject({ status: 'member' });
    expect(await member(t.bot.id)).toMatchObject({ status: 'member', user: { id: t.bot.id } });
    expect(await t.api.raw('getChatMember', { chat_id: group.id, user_id: 1 })).toEqual(apiError(400, 'Bad Request: user not found'));
    expect(await t.api.call('getChatMemberCount', { chat_id: group.id })).toBe(3);
    expect(await t.api.call('sendChatAction', { chat_id: group.id, action: 'typing' })).toBe(true);
  });
});

describe('Emulated groups: membership errors and leaveChat', () => {
  const t = useEmulator();

  it('answers 403 to sends into a chat the bot is not in, and 400 for unknown negative ids', async () => {
    const { anna } = people(t);
    const cases = [
      ['group', 'Forbidden: bot is not a member of the group chat'],
      ['supergroup', 'Forbidden: bot is not a member of the supergroup chat'],
      ['channel', 'Forbidden: bot is not a member of the channel chat'],
    ] as const;
    for (const [type, description] of cases) {
      const group = t.emu.createGroup({ title: type, type, members: [anna] });
      expect(await t.api.raw('sendMessage', { chat_id: group.id, text: 'hi' })).toEqual(apiError(403, description));
      expect(await t.api.raw('getChat', { chat_id: group.id })).toEqual(apiError(403, description));
    }
    expect(await t.api.raw('sendMessage', { chat_id: -1001234567890, text: 'hi' })).toEqual(apiError(400, 'Bad Request: chat not found'));
    expect(await t.api.raw('sendMessage', { chat_id: -42, text: 'hi' })).toEqual(apiError(400, 'Bad Request: chat not found'));
  });

  it('leaves on leaveChat: my_chat_member (member → left, from the bot), then 403 on every send', async () => {
    const { anna } = people(t);
    const group = t.emu.createGroup({ title: 'Team', type: 'supergroup', members: [anna] });
    await group.addBot(anna);
    const sent = await t.api.call<TgMessage>('sendMessage', { chat_id: group.id, text: 'Hello, team' });
    await drain(t);

    expect(await t.api.call('leaveChat', { chat_id: group.id })).toBe(true);
    expect(group.botIsMember()).toBe(false);
    const updates = await drain(t);
    expect(kinds(updates)).toEqual(['my_chat_member']);
    expect(memberChanges(updates)[0]).toMatchObject({
      chat: { id: group.id, type: 'supergroup' },
      from: { id: t.bot.id, is_bot: true },
      old_chat_member: { status: 'member' },
      new_chat_member: { status: 'left', user: { id: t.bot.id } },
    });

    const notMember = apiError(403, 'Forbidden: bot is not a member of the supergroup chat');
    expect(await t.api.raw('sendMessage', { chat_id: group.id, text: 'still here?' })).toEqual(notMember);
    expect(await t.api.raw('editMessageText', { chat_id: group.id, message_id: sent.message_id, text: 'edited' })).toEqual(notMember);
    expect(await t.api.raw('leaveChat', { chat_id: group.id })).toEqual(notMember);
    // Members keep talking; the bot hears nothing.
    await group.send(anna, 'bye bot');
    expect(await drain(t)).toEqual([]);
    expect(group.messages().map((m) => m.text)).toEqual(['Hello, team']);

    // Added again, it works again.
    await group.addBot(anna);
    expect((await t.api.raw('sendMessage', { chat_id: group.id, text: 'back' })).body.ok).toBe(true);
  });

  it('answers 400 to leaveChat in a private chat, as Telegram does', async () => {
    const { anna } = people(t);
    await anna.send('/start');
    expect(await t.api.raw('leaveChat', { chat_id: anna.id })).toEqual(
      apiError(400, "Bad Request: chat member status can't be changed in private chats"),
    );
    expect(await t.api.raw('leaveChat', { chat_id: 12345 })).toEqual(apiError(400, 'Bad Request: chat not found'));
    expect(await t.api.raw('leaveChat', { chat_id: -12345 })).toEqual(apiError(400, 'Bad Request: chat not found'));
  });

  it('reports a bot removed by a member as kicked', async () => {
    const { anna, bob } = people(t);
    const group = t.emu.createGroup({ title: 'Team', type: 'group', members: [anna, bob] });
    await group.addBot(anna);
    await drain(t);
    await group.removeBot(bob);
    expect(group.botStatus()).toBe('kicked');
    expect(memberChanges(await drain(t))).toMatchObject([
      {
        from: { id: bob.id },
        old_chat_member: { status: 'member' },
        new_chat_member: { status: 'kicked', until_date: 0 },
      },
    ]);
    expect(await t.api.raw('sendMessage', { chat_id: group.id, text: 'hi' })).toEqual(
      apiError(403, 'Forbidden: bot was kicked from the group chat'),
    );
  });

  it('keeps each group to its own bot: another bot is not a member', async () => {
    const { anna } = people(t);
    const other = t.emu.createBot({ username: 'other_bot' });
    const group = t.emu.createGroup({ title: 'Team', type: 'group', members: [anna], bot: 'other_bot' });
    await group.addBot(anna);
    expect(await t.api.raw('sendMessage', { chat_id: group.id, text: 'hi' })).toEqual(
      apiError(403, 'Forbidden: bot is not a member of the group chat'),
    );
    expect(await drain(t)).toEqual([]);
    const otherUpdates = await fetch(`${t.emu.apiRoot}/bot${other.token}/getUpdates`);
    const body = (await otherUpdates.json()) as { result: TgUpdate[] };
    expect(kinds(body.result)).toEqual(['my_chat_member', 'message']);
  });
});

describe('Emulated groups with a real Telegraf bot', () => {
  const t = useEmulator();

  function buildBot(): Telegraf {
    const bot = new Telegraf(t.bot.token, { telegram: { apiRoot: t.emu.apiRoot } });
    bot.on('my_chat_member', async (ctx) => {
      if (ctx.myChatMember.new_chat_member.status === 'left') return;
      await ctx.reply(`Thanks for adding me, ${ctx.from.first_name}!`);
    });
    bot.command('lunch', (ctx) =>
      ctx.reply(`Lunch poll by ${ctx.from.first_name} in a ${ctx.chat.type}`, {
        ...Markup.inlineKeyboard([Markup.button.callback('Pizza', 'vote:pizza')]),
      }),
    );
    bot.action(/^vote:(.+)$/, async (ctx) => {
      await ctx.answerCbQuery(`${ctx.from.first_name} voted`);
      const chat = ctx.callbackQuery.message?.chat;
      await ctx.editMessageText(`${ctx.from.first_name} wants ${ctx.match[1]} (chat ${chat?.id})`);
    });
    bot.on('channel_post', (ctx) => ctx.telegram.sendMessage(ctx.chat.id, `Seen: ${ctx.channelPost.message_id}`));
    return bot;
  }

  it('greets when added, runs commands and buttons in a group, and reads channel posts', async () => {
    const { anna, bob } = people(t);
    const group = t.emu.createGroup({ title: 'Office', type: 'group', members: [anna, bob] });
    const channel = t.emu.createGroup({ title: 'Announcements', type: 'channel', members: [anna] });
    const bot = buildBot();
    const running = bot.launch();
    try {
      await group.addBot(anna);
      await group.waitForMessage('Thanks for adding me, Anna!');
      await group.send(bob, '/lunch@test_bot');
      const poll = await group.waitForMessage('Lunch poll by Bob in a group');
      await group.press(anna, 'Pizza');
      expect(await group.waitForMessage(/wants pizza/)).toMatchObject({
        messageId: poll.messageId,
        text: `Anna wants pizza (chat ${group.id})`,
        editCount: 1,
      });
      await group.waitFor(() => group.callbackAnswers().length === 1);
      expect(group.callbackAnswers()[0]?.text).toBe('Anna voted');

      await channel.addBot(anna);
      await channel.waitForMessage('Thanks for adding me, Anna!');
      const post = await channel.send(anna, 'Office closed on Friday');
      await channel.waitForMessage(`Seen: ${post.messageId}`);
      const kindsSent = t.emu
        .calls()
        .filter((call) => call.method !== 'getUpdates')
        .map((call) => [call.method, call.chatId]);
      expect(kindsSent).toEqual(
        expect.arrayContaining([
          ['sendMessage', group.id],
          ['answerCallbackQuery', null],
          ['editMessageText', group.id],
          ['sendMessage', channel.id],
        ]),
      );
    } finally {
      bot.stop('test over');
      await running;
    }
  });
});
