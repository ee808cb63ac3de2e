// parse_mode=HTML, with Telegram's supported tags and error messages.
import { byteOffset, cantParse, sortEntities, type Formatted } from './format-common.js';
import type { MessageEntity } from './types.js';

type EntityStub = Omit<MessageEntity, 'offset' | 'length'>;

interface OpenTag {
  name: string;
  start: number;
  entity?: EntityStub;
}

const SIMPLE_TAGS: Record<string, string> = {
  b: 'bold',
  strong: 'bold',
  i: 'italic',
  em: 'italic',
  u: 'underline',
  ins: 'underline',
  s: 'strikethrough',
  strike: 'strikethrough',
  del: 'strikethrough',
  'tg-spoiler': 'spoiler',
  code: 'code',
  pre: 'pre',
};

const NAMED_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };

export function parseHtml(source: string): Formatted {
  let text = '';
  const entities: MessageEntity[] = [];
  const open: OpenTag[] = [];
  let index = 0;
  while (index < source.length) {
    const char = source[index] ?? '';
    if (char === '&') {
      const [decoded, next] = decodeEntityAt(source, index);
      text += decoded;
      index = next;
      continue;
    }
    if (char !== '<') {
      text += char;
      index += 1;
      continue;
    }
    const end = source.indexOf('>', index);
    if (end === -1) throw cantParse(`Unclosed start tag at byte offset ${byteOffset(source, index)}`);
    const inside = source.slice(index + 1, end);
    if (inside.startsWith('/')) {
      const name = inside.slice(1).trim().toLowerCase();
      const tag = open.pop();
      if (!tag) throw cantParse(`Unexpected end tag at byte offset ${byteOffset(source, index)}`);
      if (tag.name !== name) {
        const at = byteOffset(source, index);
        throw cantParse(`Unmatched end tag at byte offset ${at}, expected "</${tag.name}>", found "</${name}>"`);
      }
      if (tag.entity && text.length > tag.start) {
        entities.push({ ...tag.entity, offset: tag.start, length: text.length - tag.start });
      }
    } else {
      open.push(openTag(inside, text.length, open, byteOffset(source, index)));
    }
    index = end + 1;
  }
  const unclosed = open[0];
  if (unclosed) throw cantParse(`Can't find end tag corresponding to start tag "${unclosed.name}"`);
  return { text, entities: sortEntities(entities) };
}

function openTag(inside: string, start: number, open: OpenTag[], at: number): OpenTag {
  const match = /^([a-zA-Z][\w-]*)([\s\S]*)$/.exec(inside);
  const name = match?.[1]?.toLowerCase();
  if (name === undefined) throw cantParse(`Unsupported start tag "${inside}" at byte offset ${at}`);
  const attributes = parseAttributes(match?.[2] ?? '');
  const simple = SIMPLE_TAGS[name];
  if (simple === 'code') {
    const language = /^language-(.+)$/.exec(attributes.get('class') ?? '')?.[1];
    const pre = open.at(-1);
    // <pre><code class="language-x"> is a single pre entity with a language.
    if (language !== undefined && pre?.name === 'pre' && pre.entity && pre.start === start) {
      pre.entity.language = language;
      return { name, start };
    }
  }
  if (simple !== undefined) return { name, start, entity: { type: simple } };
  switch (name) {
    case 'span':
      if (attributes.get('class') !== 'tg-spoiler') {
        throw cantParse(`Tag "span" must have class "tg-spoiler" at byte offset ${at}`);
      }
      return { name, start, entity: { type: 'spoiler' } };
    case 'a': {
      const url = attributes.get('href');
      return url ? { name, start, entity: { type: 'text_link', url } } : { name, start };
    }
    case 'blockquote':
      return { name, start, entity: { type: attributes.has('expandable') ? 'expandable_blockquote' : 'blockquote' } };
    case 'tg-emoji': {
      const id = attributes.get('emoji-id');
      if (!id) throw cantParse(`Custom emoji entity must contain a tg://emoji URL at byte offset ${at}`);
      return { name, start, entity: { type: 'custom_emoji', custom_emoji_id: id } };
    }
    default:
      throw cantParse(`Unsupported start tag "${name}" at byte offset ${at}`);
  }
}

function parseAttributes(source: string): Map<string, string> {
  const attributes = new Map<string, string>();
  const pattern = /([a-zA-Z_][\w-]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/g;
  for (const match of source.matchAll(pattern)) {
    const name = match[1];
    if (name !== undefined) attributes.set(name.toLowerCase(), decodeEntities(match[2] ?? match[3] ?? match[4] ?? ''));
  }
  return attributes;
}

function decodeEntities(value: string): string {
  let result = '';
  let index = 0;
  while (index < value.length) {
    if (value[index] === '&') {
      const [decoded, next] = decodeEntityAt(value, index);
      result += decoded;
      index = next;
    } else {
      result += value[index];
      index += 1;
    }
  }
  return result;
}

/** Decodes the entity starting at `&`; unknown ones stay as text, like Telegram. */
function decodeEntityAt(source: string, index: number): [string, number] {
  const match = /^&(#[xX][0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-zA-Z]{2,8});/.exec(source.slice(index, index + 12));
  const body = match?.[1];
  if (!match || body === undefined) return ['&', index + 1];
  const next = index + match[0].length;
  if (body.startsWith('#')) {
    const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
    return code > 0 && code <= 0x10ffff ? [String.fromCodePoint(code), next] : ['&', index + 1];
  }
  const named = NAMED_ENTITIES[body.toLowerCase()];
  return named === undefined ? ['&', index + 1] : [named, next];
}
