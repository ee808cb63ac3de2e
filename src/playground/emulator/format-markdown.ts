// parse_mode=MarkdownV2 and the legacy parse_mode=Markdown, with Telegram's error messages.
import { byteOffset, cantParse, sortEntities, type Formatted } from './format-common.js';
import type { MessageEntity } from './types.js';

const RESERVED = '_*[]()~`>#+-=|{}.!';

const ENTITY_NAMES: Record<string, string> = {
  bold: 'Bold',
  italic: 'Italic',
  underline: 'Underline',
  strikethrough: 'Strikethrough',
  spoiler: 'Spoiler',
  text_link: 'TextUrl',
  custom_emoji: 'CustomEmoji',
  code: 'Code',
  pre: 'Pre',
};

interface Open {
  type: string;
  start: number;
  at: number;
}

export function parseMarkdownV2(source: string): Formatted {
  let text = '';
  const entities: MessageEntity[] = [];
  const open: Open[] = [];
  let quote: number | undefined;
  let index = 0;

  const endOf = (entity: Open): Error =>
    cantParse(`Can't find end of ${ENTITY_NAMES[entity.type] ?? entity.type} entity at byte offset ${entity.at}`);
  const emit = (entity: Omit<MessageEntity, 'length'>, end = text.length): void => {
    if (end > entity.offset) entities.push({ ...entity, length: end - entity.offset });
  };
  const toggle = (type: string, width: number): void => {
    const top = open.at(-1);
    if (top?.type === type) {
      open.pop();
      emit({ type, offset: top.start });
    } else {
      const outer = open.find((entity) => entity.type === type);
      if (outer) throw endOf(outer);
      open.push({ type, start: text.length, at: byteOffset(source, index) });
    }
    index += width;
  };

  while (index < source.length) {
    const char = source[index] ?? '';
    const next = source[index + 1];
    const top = open.at(-1);
    if (char === '\\') {
      text += next ?? '\\';
      index += 2;
    } else if (char === '`') {
      const block = readCode(source, index);
      const offset = text.length;
      text += block.text;
      emit(block.language ? { type: 'pre', offset, language: block.language } : { type: block.type, offset });
      index = block.end;
    } else if (char === '*') {
      toggle('bold', 1);
    } else if (char === '_') {
      if (next === '_') toggle('underline', 2);
      else toggle('italic', 1);
    } else if (char === '~') {
      toggle('strikethrough', 1);
    } else if (char === '|' && next === '|') {
      toggle('spoiler', 2);
    } else if (char === '[' || (char === '!' && next === '[')) {
      const type = char === '[' ? 'text_link' : 'custom_emoji';
      open.push({ type, start: text.length, at: byteOffset(source, index) });
      index += char === '[' ? 1 : 2;
    } else if (char === ']' && top && (top.type === 'text_link' || top.type === 'custom_emoji')) {
      open.pop();
      const target = readLinkTarget(source, index + 1);
      if (!target) throw endOf(top);
      if (top.type === 'custom_emoji') {
        const id = /^tg:\/\/emoji\?id=(\d+)$/.exec(target.url)?.[1];
        if (!id) throw cantParse(`Custom emoji entity must contain a tg://emoji URL at byte offset ${top.at}`);
        emit({ type: 'custom_emoji', offset: top.start, custom_emoji_id: id });
      } else {
        emit({ type: 'text_link', offset: top.start, url: target.url });
      }
      index = target.end;
    } else if (char === '>' && (index === 0 || source[index - 1] === '\n')) {
      quote ??= text.length;
      index += 1;
    } else if (RESERVED.includes(char)) {
      throw cantParse(`Character '${char}' is reserved and must be escaped with the preceding '\\'`);
    } else {
      if (char === '\n' && quote !== undefined && source[index + 1] !== '>') {
        emit({ type: 'blockquote', offset: quote });
        quote = undefined;
      }
      text += char;
      index += 1;
    }
  }
  const unclosed = open[0];
  if (unclosed) throw endOf(unclosed);
  if (quote !== undefined) emit({ type: 'blockquote', offset: quote });
  return { text, entities: sortEntities(entities) };
}

interface CodeBlock {
  type: 'code' | 'pre';
  text: string;
  language?: string;
  end: number;
}

/** Reads `code` or ```pre``` starting at a backtick; inside, only backtick and backslash can be escaped. */
function readCode(source: string, start: number): CodeBlock {
  const fence = source.startsWith('```', start) ? '```' : '`';
  let index = start + fence.length;
  let body = '';
  while (index < source.length && !source.startsWith(fence, index)) {
    const char = source[index] ?? '';
    if (char === '\\' && (source[index + 1] === '`' || source[index + 1] === '\\')) {
      body += source[index + 1];
      index += 2;
    } else {
      body += char;
      index += 1;
    }
  }
  if (index >= source.length) {
    const name = fence === '`' ? 'Code' : 'Pre';
    throw cantParse(`Can't find end of ${name} entity at byte offset ${byteOffset(source, start)}`);
  }
  const end = index + fence.length;
  if (fence === '`') return { type: 'code', text: body, end };
  const newline = body.indexOf('\n');
  if (newline === -1) return { type: 'pre', text: body, end };
  const language = body.slice(0, newline).trim();
  return { type: 'pre', text: body.slice(newline + 1), end, ...(language ? { language } : {}) };
}

/** Reads `(url)` right after `]`; `)` and `\` may be escaped inside. */
function readLinkTarget(source: string, start: number): { url: string; end: number } | undefined {
  if (source[start] !== '(') return undefined;
  let url = '';
  for (let index = start + 1; index < source.length; index += 1) {
    const char = source[index];
    if (char === ')') return { url, end: index + 1 };
    if (char === '\\' && index + 1 < source.length) {
      index += 1;
      url += source[index];
    } else {
      url += char;
    }
  }
  return undefined;
}

const LEGACY_TYPES: Record<string, string> = { '*': 'bold', _: 'italic', '`': 'code' };

/** The legacy Markdown mode: *bold*, _italic_, `code`, ```pre```, [text](url); no nesting. */
export function parseMarkdown(source: string): Formatted {
  let text = '';
  const entities: MessageEntity[] = [];
  let index = 0;
  const unclosed = (at: number): Error => cantParse(`Can't find end of the entity starting at byte offset ${byteOffset(source, at)}`);
  while (index < source.length) {
    const char = source[index] ?? '';
    const next = source[index + 1];
    if (char === '\\' && next !== undefined && '_*`['.includes(next)) {
      text += next;
      index += 2;
      continue;
    }
    const fence = source.startsWith('```', index) ? '```' : char;
    const type = fence === '```' ? 'pre' : LEGACY_TYPES[char];
    if (type !== undefined) {
      const close = source.indexOf(fence, index + fence.length);
      if (close === -1) throw unclosed(index);
      let body = source.slice(index + fence.length, close);
      let language: string | undefined;
      const newline = body.indexOf('\n');
      if (type === 'pre' && newline !== -1) {
        language = body.slice(0, newline).trim() || undefined;
        body = body.slice(newline + 1);
      }
      if (body.length > 0) {
        entities.push({ type, offset: text.length, length: body.length, ...(language ? { language } : {}) });
      }
      text += body;
      index = close + fence.length;
    } else if (char === '[') {
      const close = source.indexOf(']', index + 1);
      const target = close === -1 ? undefined : readLinkTarget(source, close + 1);
      if (!target) throw unclosed(index);
      const label = source.slice(index + 1, close);
      if (label.length > 0) {
        entities.push({ type: 'text_link', offset: text.length, length: label.length, url: target.url });
      }
      text += label;
      index = target.end;
    } else {
      text += char;
      index += 1;
    }
  }
  return { text, entities: sortEntities(entities) };
}
