import { beforeEach, describe, expect, it } from 'vitest';
import type { EmulatedUser, TgMessage } from '../helpers/telegram.js';
import { apiError, useEmulator, type ApiResponse } from './emulator-helpers.js';

describe('Bot API emulator: parse_mode', () => {
  const t = useEmulator();
  let anna: EmulatedUser;

  beforeEach(async () => {
    anna = t.emu.createUser({ firstName: 'Anna' });
    await anna.send('hi');
  });

  const send = (text: string, parse_mode?: string, extra: Record<string, unknown> = {}): Promise<ApiResponse> =>
    t.api.raw('sendMessage', { chat_id: anna.id, text, parse_mode, ...extra });

  async function formatted(text: string, parseMode?: string, extra: Record<string, unknown> = {}) {
    const { body } = await send(text, parseMode, extra);
    if (!body.ok) throw new Error(String(body.description));
    const { text: plain, entities } = body.result as TgMessage;
    return { text: plain, entities };
  }

  it('parses HTML into text and entities, decoding entities', async () => {
    const html = '<b>Bold <i>both</i></b> &lt;tag&gt; &amp; <a href="https://example.org?a=1&amp;b=2">link</a>';
    expect(await formatted(html, 'HTML')).toEqual({
      text: 'Bold both <tag> & link',
      entities: [
        { type: 'bold', offset: 0, length: 9 },
        { type: 'italic', offset: 5, length: 4 },
        { type: 'text_link', offset: 18, length: 4, url: 'https://example.org?a=1&b=2' },
      ],
    });
    expect(await formatted('<pre><code class="language-ts">const x = 1;</code></pre>', 'html')).toEqual({
      text: 'const x = 1;',
      entities: [{ type: 'pre', offset: 0, length: 12, language: 'ts' }],
    });
    expect(await formatted('😀 <u>x</u> <span class="tg-spoiler">s</span> <blockquote>q</blockquote>', 'HTML')).toEqual({
      text: '😀 x s q',
      entities: [
        { type: 'underline', offset: 3, length: 1 },
        { type: 'spoiler', offset: 5, length: 1 },
        { type: 'blockquote', offset: 7, length: 1 },
      ],
    });
  });

  it('reports malformed HTML with Telegram errors and byte offsets', async () => {
    expect(await send('a <br> b', 'HTML')).toEqual(
      apiError(400, `Bad Request: can't parse entities: Unsupported start tag "br" at byte offset 2`),
    );
    expect(await send('é <b>x</i>', 'HTML')).toEqual(
      apiError(400, `Bad Request: can't parse entities: Unmatched end tag at byte offset 7, expected "</b>", found "</i>"`),
    );
    expect(await send('<b>open', 'HTML')).toEqual(
      apiError(400, `Bad Request: can't parse entities: Can't find end tag corresponding to start tag "b"`),
    );
    expect(await send('x</b>', 'HTML')).toEqual(apiError(400, `Bad Request: can't parse entities: Unexpected end tag at byte offset 1`));
    // Unformatted text with "<" is fine without parse_mode.
    expect((await send('1 < 2')).body.ok).toBe(true);
  });

  it('parses MarkdownV2 and insists on escaping reserved characters', async () => {
    const markdown = '*bold* _it_ __under__ ~strike~ ||spoiler|| `co\\`de` [site](https://x.org/a\\)b) 1\\.5';
    expect(await formatted(markdown, 'MarkdownV2')).toEqual({
      text: 'bold it under strike spoiler co`de site 1.5',
      entities: [
        { type: 'bold', offset: 0, length: 4 },
        { type: 'italic', offset: 5, length: 2 },
        { type: 'underline', offset: 8, length: 5 },
        { type: 'strikethrough', offset: 14, length: 6 },
        { type: 'spoiler', offset: 21, length: 7 },
        { type: 'code', offset: 29, length: 5 },
        { type: 'text_link', offset: 35, length: 4, url: 'https://x.org/a)b' },
      ],
    });
    expect(await formatted('```python\nprint(1)\n```', 'MarkdownV2')).toEqual({
      text: 'print(1)\n',
      entities: [{ type: 'pre', offset: 0, length: 9, language: 'python' }],
    });
    expect(await send('Total: 5.00!', 'MarkdownV2')).toEqual(
      apiError(400, `Bad Request: can't parse entities: Character '.' is reserved and must be escaped with the preceding '\\'`),
    );
    expect(await send('*never closed', 'MarkdownV2')).toEqual(
      apiError(400, `Bad Request: can't parse entities: Can't find end of Bold entity at byte offset 0`),
    );
  });

  it('parses legacy Markdown', async () => {
    expect(await formatted('*bold* _it_ `code` [a](https://a.org) 1.5!', 'Markdown')).toEqual({
      text: 'bold it code a 1.5!',
      entities: [
        { type: 'bold', offset: 0, length: 4 },
        { type: 'italic', offset: 5, length: 2 },
        { type: 'code', offset: 8, length: 4 },
        { type: 'text_link', offset: 13, length: 1, url: 'https://a.org' },
      ],
    });
    expect(await send('snake_case', 'Markdown')).toEqual(
      apiError(400, `Bad Request: can't parse entities: Can't find end of the entity starting at byte offset 5`),
    );
  });

  it('uses explicit entities instead of parse_mode, and rejects unknown modes', async () => {
    const entities = [{ type: 'bold', offset: 0, length: 2 }];
    expect(await formatted('<b>', 'HTML', { entities })).toEqual({ text: '<b>', entities });
    expect(await send('x', 'Textile')).toEqual(apiError(400, 'Bad Request: unsupported parse_mode'));
    expect(anna.lastMessage()).toMatchObject({ text: '<b>', parseMode: 'HTML', entities });
  });
});
