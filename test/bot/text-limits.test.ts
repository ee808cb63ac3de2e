/** The one helper that keeps user input short and messages within Telegram's limits (src/ui/limits.ts). */
import { describe, expect, it } from 'vitest';
import {
  CAPTION_MAX,
  EXCERPT_MAX,
  TEXT_MAX,
  clip,
  clipWords,
  excerpt,
  excerptWords,
  fitHtml,
  fitPlain,
  renderedLength,
} from '../../src/ui/limits.js';

const codePoints = (s: string) => [...s].length;
/** Half of a surrogate pair: a character cut in two. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** Every `&` starts one of the entities Telegram's HTML parser knows. */
const entitiesWhole = (s: string) => !/&(?!(?:lt|gt|amp|quot|#\d+|#x[\da-f]+);)/i.test(s);
/** Tags balanced, in order. */
function tagsBalanced(s: string): boolean {
  const open: string[] = [];
  for (const [, slash, name] of s.matchAll(/<(\/?)([a-z][\w-]*)\b[^>]*>/gi)) {
    if (!slash) open.push(name ?? '');
    else if (open.pop() !== name) return false;
  }
  return open.length === 0;
}

describe('clip and excerpt: a short excerpt of what someone typed', () => {
  it('leaves short input alone, on one line', () => {
    expect(clip('31.02.1990')).toBe('31.02.1990');
    expect(clip('  two\nlines\t and\r\n\r\nmore  ')).toBe('two lines and more');
    expect(clip('nul\u0000byte')).toBe('nul byte');
  });

  it(`cuts long input to at most ${EXCERPT_MAX} characters, "…" included`, () => {
    const cut = clip('1'.repeat(5000));
    expect(cut).toBe(`${'1'.repeat(EXCERPT_MAX - 1)}…`);
    expect(codePoints(clip('x'.repeat(EXCERPT_MAX)))).toBe(EXCERPT_MAX);
    expect(clip('x'.repeat(EXCERPT_MAX))).not.toContain('…');
    expect(clip('abcdef', 4)).toBe('abc…');
    expect(clip('abc def ghi', 5)).toBe('abc…'); // no blank before the ellipsis
  });

  it('never splits a character: surrogate pairs, emoji sequences and accents stay whole', () => {
    const family = '👨‍👩‍👧‍👦'; // 7 code points, one character on screen
    const emoji = clip('😀'.repeat(100), 10);
    expect(emoji).toBe(`${'😀'.repeat(9)}…`);
    expect(emoji).not.toMatch(LONE_SURROGATE);
    const families = clip(family.repeat(20), 20);
    expect(families).toBe(`${family.repeat(2)}…`);
    const accents = clip('e\u0301'.repeat(40), 11); // "é" as e + combining acute: two code points
    expect(accents).toBe(`${'e\u0301'.repeat(5)}…`);
  });

  it('escapes for HTML after cutting, so an entity is never cut in two', () => {
    expect(excerpt('<b>&"', 50)).toBe('&lt;b&gt;&amp;"');
    const lt = excerpt('<'.repeat(5000));
    expect(lt).toBe(`${'&lt;'.repeat(EXCERPT_MAX - 1)}…`);
    expect(entitiesWhole(lt)).toBe(true);
    expect(renderedLength(lt)).toBe(EXCERPT_MAX);
  });
});

describe('clipWords: an excerpt that ends on a whole word', () => {
  it('keeps a short text whole and takes back the word a cut falls in', () => {
    expect(clipWords('two words', 20)).toBe('two words');
    expect(clipWords('the quick brown fox jumps', 14)).toBe('the quick…');
    expect(clip('the quick brown fox jumps', 14)).toBe('the quick bro…');
  });

  it('keeps a cut that falls between words as it is', () => {
    expect(clipWords('the quick brown fox', 11)).toBe('the quick…');
  });

  it('cuts inside a "word" longer than half the limit rather than leave almost nothing', () => {
    expect(clipWords(`a ${'x'.repeat(40)}`, 20)).toBe(`a ${'x'.repeat(17)}…`);
  });

  it('escapes after cutting', () => {
    expect(excerptWords('<b> & <i> and more words', 12)).toBe('&lt;b&gt; &amp; &lt;i&gt;…');
  });
});

describe('renderedLength: what Telegram counts', () => {
  it('counts text after entity parsing: tags nothing, an entity one character (two for an astral one)', () => {
    expect(renderedLength('<b>Name</b>: &lt;x&gt; &amp; &quot;')).toBe('Name: <x> & "'.length);
    expect(renderedLength('<a href="https://example.com/?a=1&amp;b=2">link</a>')).toBe(4);
    expect(renderedLength('&#128512;&#x1F600;&#65;')).toBe(5);
    expect(renderedLength('😀')).toBe(2); // UTF-16 units, never fewer than characters
  });
});

describe('fitHtml: a whole message within the limit, HTML still valid', () => {
  it('returns a text that fits unchanged', () => {
    const text = `<b>Header</b>\n\n${'a'.repeat(TEXT_MAX - 8)}`;
    expect(renderedLength(text)).toBe(TEXT_MAX);
    expect(fitHtml(text)).toBe(text);
  });

  it('cuts a long text to the limit with "…", closing the tags left open', () => {
    const text = `<b>Title</b>\n<i>${'word '.repeat(2000)}</i>\n<b>after</b>`;
    const fit = fitHtml(text);
    expect(renderedLength(fit)).toBeLessThanOrEqual(TEXT_MAX);
    expect(renderedLength(fit)).toBeGreaterThan(TEXT_MAX - 10);
    expect(fit.endsWith('…</i>')).toBe(true);
    expect(tagsBalanced(fit)).toBe(true);
    expect(fit.startsWith('<b>Title</b>\n<i>word word')).toBe(true);
  });

  it('never cuts inside an entity or a character, and counts entities as Telegram does', () => {
    const fit = fitHtml(`<b>${'&lt;&amp;😀'.repeat(2000)}</b>`, 100);
    expect(renderedLength(fit)).toBeLessThanOrEqual(100);
    expect(entitiesWhole(fit)).toBe(true);
    expect(fit).not.toMatch(LONE_SURROGATE);
    expect(tagsBalanced(fit)).toBe(true);
    // 4 units per repetition: 24 of them (96), "<&" (98), no room for half an emoji, then the ellipsis.
    expect(fit).toBe(`<b>${'&lt;&amp;😀'.repeat(24)}&lt;&amp;…</b>`);
  });

  it('keeps links whole: an open <a> is closed after the cut', () => {
    const fit = fitHtml(`<a href="https://example.com/a?b=1&amp;c=2">${'x'.repeat(50)}</a> tail`, 20);
    expect(fit).toBe(`<a href="https://example.com/a?b=1&amp;c=2">${'x'.repeat(19)}…</a>`);
  });
});

describe('fitPlain: a caption without parse mode', () => {
  it(`keeps at most ${CAPTION_MAX} UTF-16 units, cutting between characters`, () => {
    expect(fitPlain('short caption')).toBe('short caption');
    const fit = fitPlain(`Anna · ${'😀'.repeat(1000)}`);
    expect(fit.length).toBeLessThanOrEqual(CAPTION_MAX);
    expect(fit).not.toMatch(LONE_SURROGATE);
    expect(fit.endsWith('😀…')).toBe(true);
    expect(fitPlain('line one\nline two', 12)).toBe('line one\nli…');
  });
});
