import { createHash } from 'node:crypto';
import { Markup, Telegraf } from 'telegraf';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { samplePhoto, startEmulator, type BotInfo, type Emulator } from '../helpers/telegram.js';
import { startServer, type LocalServer } from './emulator-helpers.js';

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** A small bot exercising text, inline buttons, callback answers, edits, downloads and uploads. */
function buildBot(token: string, apiRoot: string): Telegraf {
  const bot = new Telegraf(token, { telegram: { apiRoot } });
  bot.start((ctx) =>
    ctx.reply(`Welcome, <b>${ctx.from.first_name}</b>! Payload: ${ctx.payload || 'none'}`, {
      parse_mode: 'HTML',
      ...Markup.inlineKeyboard([Markup.button.callback('Passport photo', 'doc:passport')]),
    }),
  );
  bot.action(/^doc:(.+)$/, async (ctx) => {
    await ctx.answerCbQuery(`Requested ${ctx.match[1]}`);
    await ctx.editMessageText('Please send your passport photo');
  });
  bot.on('photo', async (ctx) => {
    const link = await ctx.telegram.getFileLink(ctx.message.photo.at(-1)?.file_id ?? '');
    const bytes = Buffer.from(await (await fetch(link)).arrayBuffer());
    await ctx.reply(`Received ${bytes.length} bytes, sha256 ${sha256(bytes)}`);
    await ctx.replyWithDocument({ source: bytes, filename: 'copy.png' }, { caption: 'Your copy' });
  });
  bot.on('text', (ctx) => ctx.reply(`You said: ${ctx.message.text}`));
  return bot;
}

/** The same conversation, whichever way the bot receives updates. */
async function converse(emu: Emulator): Promise<void> {
  const anna = emu.createUser({ firstName: 'Anna' });
  await anna.send('/start from_ad');
  const welcome = await anna.waitForMessage(/Welcome/);
  expect(welcome).toMatchObject({
    text: 'Welcome, Anna! Payload: from_ad',
    entities: [{ type: 'bold', offset: 9, length: 4 }],
  });

  await anna.press('Passport photo');
  const prompt = await anna.waitForMessage(/passport photo/);
  expect(prompt).toMatchObject({ messageId: welcome.messageId, editCount: 1 });
  expect(prompt.replyMarkup).toBeUndefined();
  await anna.waitFor(() => anna.callbackAnswers().length === 1);
  expect(anna.callbackAnswers()[0]).toMatchObject({ data: 'doc:passport', text: 'Requested passport' });

  const photo = samplePhoto({ width: 200, height: 120 });
  await anna.sendPhoto({ bytes: photo });
  expect((await anna.waitForMessage(/Received/)).text).toBe(`Received ${photo.length} bytes, sha256 ${sha256(photo)}`);
  const copy = await anna.waitForMessage('Your copy');
  expect(copy.fileName).toBe('copy.png');
  expect(emu.fileBytes(copy.document ?? '')?.equals(photo)).toBe(true);

  await anna.send('thanks');
  await anna.waitForMessage('You said: thanks');
}

describe('A real Telegraf bot against the emulator', () => {
  let emu: Emulator;
  let botInfo: BotInfo;

  beforeEach(async () => {
    emu = await startEmulator();
    botInfo = emu.createBot({ username: 'telegraf_test_bot' });
  });

  afterEach(async () => {
    await emu.close();
  });

  it('works in polling mode', async () => {
    const bot = buildBot(botInfo.token, emu.apiRoot);
    const running = bot.launch();
    try {
      await converse(emu);
      expect(bot.botInfo?.username).toBe('telegraf_test_bot');
    } finally {
      bot.stop('test over');
      await running;
    }
  });

  describe('in webhook mode', () => {
    let hook: LocalServer | undefined;

    afterEach(async () => {
      await hook?.close();
      hook = undefined;
    });

    it('receives updates via webhook and answers through webhook replies', async () => {
      const bot = buildBot(botInfo.token, emu.apiRoot);
      const callback = bot.webhookCallback('/telegraf', { secretToken: 'hook-secret' });
      hook = await startServer((req, res) => void callback(req, res));
      await bot.telegram.setWebhook(`${hook.url}/telegraf`, { secret_token: 'hook-secret' });
      // Telegraf answers callback queries in the webhook response body, which HTTP faults cannot reach.
      emu.faults.failNext('answerCallbackQuery', 1, { code: 500, description: 'Internal Server Error' });
      await converse(emu);
      expect(await bot.telegram.getWebhookInfo()).toMatchObject({ url: `${hook.url}/telegraf`, pending_update_count: 0 });
    });
  });
});
