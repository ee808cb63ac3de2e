// exportState/importState: a later emulator takes over users, chats, files and update ids.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { PlaygroundStore, type PlaygroundSave } from '../../src/playground/store.js';
import { samplePdf, samplePhoto, startEmulator, type TgUpdate } from '../helpers/telegram.js';
import { RawBotApi } from './emulator-helpers.js';

async function worldWithChats() {
  const emu = await startEmulator();
  const bot = emu.createBot({ username: 'dump_bot', firstName: 'Dump' });
  const api = new RawBotApi(emu.apiRoot, bot.token);
  const anna = emu.createUser({ firstName: 'Anna', languageCode: 'en' });
  await anna.send('/start');
  await api.call('sendMessage', {
    chat_id: anna.id,
    text: 'Pick',
    reply_markup: { inline_keyboard: [[{ text: 'Yes', callback_data: 'yes' }]] },
  });
  await anna.press('Yes');
  const photo = await anna.sendPhoto({ bytes: samplePhoto() });
  await anna.sendDocument({ bytes: samplePdf(), fileName: 'contract.pdf' });
  // The bot has seen the first two updates; the rest are still pending.
  const seen = await api.call<TgUpdate[]>('getUpdates', { limit: 2 });
  await api.call('getUpdates', { offset: (seen.at(-1)?.update_id ?? 0) + 1, limit: 1, timeout: 0 });
  return { emu, bot, api, anna, photo };
}

describe('emulator state export and import', () => {
  it('continues chats, message ids, files and update ids in a new emulator', async () => {
    const { emu, bot, anna, photo } = await worldWithChats();
    const dump = emu.exportState();
    const history = anna.history();
    await emu.close();

    const next = await startEmulator();
    next.importState(dump);
    const api = new RawBotApi(next.apiRoot, bot.token);
    const again = next.user(anna.id);
    expect(again?.history()).toEqual(history);
    expect(next.fileBytes(photo.photo ?? '')?.equals(samplePhoto())).toBe(true);
    const pending = await api.call<TgUpdate[]>('getUpdates', { offset: 3, timeout: 0 });
    expect(pending.map((u) => u.update_id)).toEqual([3, 4]);
    const sent = await again?.send('after');
    expect(sent?.messageId).toBe((history.at(-1)?.messageId ?? 0) + 1);
    const fresh = await api.call<TgUpdate[]>('getUpdates', { offset: 5, timeout: 0 });
    expect(fresh.map((u) => u.update_id)).toEqual([5]);
    // The old inline button still answers to a press, and the bot can answer the query.
    const query = await again?.press('Yes');
    await api.call('answerCallbackQuery', { callback_query_id: query, text: 'ok' });
    expect(again?.callbackAnswers().map((a) => a.text)).toEqual(['ok']);
    expect(next.createUser({ firstName: 'New' }).id).toBe(anna.id + 1);
    await next.close();
  });

  it('continues groups: members, the bot membership, messages, buttons and group ids', async () => {
    const { emu, bot, api, anna } = await worldWithChats();
    const bob = emu.createUser({ firstName: 'Bob' });
    const group = emu.createGroup({ title: 'Team', type: 'supergroup', members: [anna, bob] });
    const left = emu.createGroup({ title: 'Old', type: 'group', members: [bob] });
    await group.addBot(anna);
    await left.addBot(bob);
    await api.call('leaveChat', { chat_id: left.id });
    await api.call('sendMessage', {
      chat_id: group.id,
      text: 'Vote',
      reply_markup: { inline_keyboard: [[{ text: 'Yes', callback_data: 'yes' }]] },
    });
    await group.send(bob, 'hi all');
    const history = group.history();
    const dump = emu.exportState();
    await emu.close();

    const next = await startEmulator();
    next.importState(JSON.parse(JSON.stringify(dump)) as typeof dump);
    const nextApi = new RawBotApi(next.apiRoot, bot.token);
    const again = next.group(group.id);
    expect(again?.history()).toEqual(history);
    expect(again?.members().map((member) => member.first_name)).toEqual(['Anna', 'Bob']);
    expect(again?.botIsMember()).toBe(true);
    expect(next.group(left.id)?.botStatus()).toBe('left');
    expect(await nextApi.raw('sendMessage', { chat_id: left.id, text: 'x' })).toMatchObject({ status: 403 });
    const sent = await nextApi.call<{ message_id: number }>('sendMessage', { chat_id: group.id, text: 'after' });
    expect(sent.message_id).toBe((history.at(-1)?.messageId ?? 0) + 1);
    const reborn = next.user(bob.id);
    if (!again || !reborn) throw new Error('group or user missing after import');
    const query = await again.press(reborn, 'Yes');
    await nextApi.call('answerCallbackQuery', { callback_query_id: query, text: 'counted' });
    expect(again.callbackAnswers().map((answer) => answer.text)).toEqual(['counted']);
    const newer = next.createGroup({ title: 'New', type: 'supergroup', members: [reborn] });
    expect(newer.id).toBeLessThan(group.id);
    await next.close();
  });

  it('reset keeps the bots and the chosen users, with empty chats and ids that keep counting', async () => {
    const { emu, bot, anna } = await worldWithChats();
    const olga = emu.createUser({ firstName: 'Olga' });
    await olga.send('/start');
    emu.reset([olga.id]);
    expect(emu.users().map((u) => u.id)).toEqual([olga.id]);
    expect(emu.user(anna.id)).toBeUndefined();
    expect(olga.history()).toEqual([]);
    const api = new RawBotApi(emu.apiRoot, bot.token);
    expect(await api.call('getUpdates', { timeout: 0 })).toEqual([]);
    const sent = await olga.send('/start');
    expect(sent.messageId).toBe(1);
    // Five updates before the reset (four of Anna's, Olga's /start): the next one is the sixth.
    const [update] = await api.call<TgUpdate[]>('getUpdates', { timeout: 0 });
    expect(update?.update_id).toBe(6);
    expect(emu.createUser({ firstName: 'Next' }).id).toBeGreaterThan(olga.id);
    expect(emu.groups()).toEqual([]);
    await emu.close();
  });

  it('is saved to DATA_DIR/playground and read back, file bytes beside the JSON', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'orb-store-'));
    const logger = pino({ level: 'silent' });
    const { emu, anna } = await worldWithChats();
    const save: PlaygroundSave = { operatorId: anna.id, emulator: emu.exportState() };
    const store = new PlaygroundStore(dir, () => save, logger);
    expect(await store.load()).toBeUndefined();
    store.schedule();
    await store.flush();
    const loaded = await new PlaygroundStore(dir, () => save, logger).load();
    expect(loaded).toEqual(save);
    const json = await readFile(path.join(dir, 'playground', 'state.json'), 'utf8');
    expect(json).not.toContain(samplePhoto().toString('base64').slice(0, 40));

    await writeFile(path.join(dir, 'playground', 'state.json'), '{ broken');
    expect(await new PlaygroundStore(dir, () => save, logger).load()).toBeUndefined();
    await store.wipe();
    expect(await new PlaygroundStore(dir, () => save, logger).load()).toBeUndefined();
    await emu.close();
    await rm(dir, { recursive: true, force: true });
  });
});
