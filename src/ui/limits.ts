/**
 * Keeping what the bot sends within Telegram's limits. Two tools, used wherever messages are made:
 *
 * - `clip` / `excerpt`: a short, one-line excerpt of something a person typed (never echo input
 *   whole: a 5,000-character answer echoed in an error would make the reply itself too long).
 * - `fitHtml` / `fitPlain`: the last guard on a whole message text or caption, measured the way
 *   Telegram measures it (after entity parsing), cut so that the HTML stays valid.
 *
 * Lengths are UTF-16 code units (what Telegram's entity offsets count, and never less than the
 * number of characters), so a text that fits here fits Telegram.
 */
import { html } from './format.js';

/** A message text, after entity parsing. */
export const TEXT_MAX = 4096;
/** A photo or document caption, after entity parsing. */
export const CAPTION_MAX = 1024;

/** Input echoed back: a refused answer in an error, a client's message in an operator notice. */
export const EXCERPT_MAX = 50;
/**
 * An accepted answer shown in a summary or a review card (the catalogue's longest `max_length`, so
 * a valid answer normally shows whole; the stored value is never cut).
 */
export const VALUE_MAX = 200;
/** An operator's ask-again reason, shown to the client. */
export const REASON_MAX = 500;
/** A client's message passed on to the operators when there is no request to answer. */
export const RELAY_MAX = 1000;

const ELLIPSIS = '…';
const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
/** Line breaks, tabs and other control characters (C0, DEL, C1) become one space in an excerpt. */
// eslint-disable-next-line no-control-regex -- control characters are what this removes
const BLANKS = /[\s\u0000-\u001f\u007f-\u009f]+/gu;

/**
 * A one-line excerpt of plain text: blanks collapsed, at most `max` characters (code points)
 * including a trailing "…" when it was cut. Cuts between whole characters (grapheme clusters:
 * an emoji or a letter with its accent is never split). Plain text in, plain text out: escape it
 * for HTML afterwards (see `excerpt`).
 */
export function clip(text: string, max: number = EXCERPT_MAX): string {
  const limit = Math.max(1, Math.floor(max));
  const line = text.replace(BLANKS, ' ').trim();
  if (codePoints(line) <= limit) return line;
  let out = '';
  let used = 0;
  for (const { segment } of graphemes.segment(line)) {
    const size = codePoints(segment);
    if (used + size > limit - 1) break;
    out += segment;
    used += size;
  }
  return `${out.trimEnd()}${ELLIPSIS}`;
}

/** `clip`, then escaped for Telegram HTML (escaping after cutting never splits an entity). */
export function excerpt(text: string, max: number = EXCERPT_MAX): string {
  return html(clip(text, max));
}

/**
 * `clip` that ends on a whole word: a text that is cut loses the word the cut fell in, back to the
 * last blank. A "word" longer than half of `max` (a pasted link, a row of symbols) is cut inside,
 * as `clip` does, rather than leaving almost nothing.
 */
export function clipWords(text: string, max: number = EXCERPT_MAX): string {
  const cut = clip(text, max);
  if (!cut.endsWith(ELLIPSIS) || cut === clip(text, Number.MAX_SAFE_INTEGER)) return cut;
  const kept = cut.slice(0, -ELLIPSIS.length);
  const line = clip(text, Number.MAX_SAFE_INTEGER);
  // The cut fell between two words already: nothing to take back.
  if (/\s/u.test(line.charAt(kept.length)) || /\s$/u.test(kept)) return cut;
  const blank = kept.search(/\s\S*$/u);
  if (blank < 0 || codePoints(kept.slice(0, blank)) < Math.floor(max) / 2) return cut;
  return `${kept.slice(0, blank).trimEnd()}${ELLIPSIS}`;
}

/** `clipWords`, then escaped for Telegram HTML. */
export function excerptWords(text: string, max: number = EXCERPT_MAX): string {
  return html(clipWords(text, max));
}

// ---------------------------------------------------------------------------------------------
// whole messages

type Token =
  | { kind: 'open'; raw: string; name: string }
  | { kind: 'close'; raw: string; name: string }
  | { kind: 'entity'; raw: string; size: number }
  | { kind: 'text'; raw: string };

const MARKUP = /<(\/?)([a-zA-Z][\w-]*)\b[^>]*>|&(#\d+|#[xX][\da-fA-F]+|[a-zA-Z]+);/g;

function tokens(source: string): Token[] {
  const out: Token[] = [];
  let last = 0;
  for (const match of source.matchAll(MARKUP)) {
    const at = match.index;
    if (at > last) out.push({ kind: 'text', raw: source.slice(last, at) });
    const [raw, slash, name, entity] = match;
    if (name !== undefined) out.push({ kind: slash ? 'close' : 'open', raw, name: name.toLowerCase() });
    else out.push({ kind: 'entity', raw, size: entitySize(entity ?? '') });
    last = at + raw.length;
  }
  if (last < source.length) out.push({ kind: 'text', raw: source.slice(last) });
  return out;
}

/** UTF-16 length of what an entity stands for (`&#128512;` is two units, `&amp;` one). */
function entitySize(body: string): number {
  if (!body.startsWith('#')) return 1;
  const code = body[1] === 'x' || body[1] === 'X' ? Number.parseInt(body.slice(2), 16) : Number.parseInt(body.slice(1), 10);
  return Number.isFinite(code) && code > 0xffff && code <= 0x10ffff ? 2 : 1;
}

/** The length Telegram counts for an HTML text: tags take nothing, an entity its character. */
export function renderedLength(source: string): number {
  let length = 0;
  for (const token of tokens(source)) {
    if (token.kind === 'text') length += token.raw.length;
    else if (token.kind === 'entity') length += token.size;
  }
  return length;
}

/**
 * The HTML text unchanged when Telegram would take it (at most `max` after entity parsing);
 * otherwise cut to fit with a trailing "…": between whole characters, never inside a tag or an
 * entity, and every tag still open at the cut closed again.
 */
export function fitHtml(source: string, max: number = TEXT_MAX): string {
  if (renderedLength(source) <= max) return source;
  const budget = Math.max(0, max - ELLIPSIS.length);
  const open: string[] = [];
  let out = '';
  let used = 0;
  outer: for (const token of tokens(source)) {
    switch (token.kind) {
      case 'open':
        open.push(token.name);
        out += token.raw;
        break;
      case 'close': {
        const at = open.lastIndexOf(token.name);
        if (at >= 0) open.splice(at, 1);
        out += token.raw;
        break;
      }
      case 'entity':
        if (used + token.size > budget) break outer;
        used += token.size;
        out += token.raw;
        break;
      case 'text':
        for (const { segment } of graphemes.segment(token.raw)) {
          if (used + segment.length > budget) break outer;
          used += segment.length;
          out += segment;
        }
        break;
    }
  }
  return `${out.trimEnd()}${ELLIPSIS}${open
    .reverse()
    .map((name) => `</${name}>`)
    .join('')}`;
}

/** A plain text (a caption without parse mode) cut the same way: at most `max` UTF-16 units. */
export function fitPlain(text: string, max: number = CAPTION_MAX): string {
  if (text.length <= max) return text;
  const budget = Math.max(0, max - ELLIPSIS.length);
  let out = '';
  for (const { segment } of graphemes.segment(text)) {
    if (out.length + segment.length > budget) break;
    out += segment;
  }
  return `${out.trimEnd()}${ELLIPSIS}`;
}

function codePoints(text: string): number {
  let n = 0;
  for (const _ of text) n += 1;
  return n;
}
