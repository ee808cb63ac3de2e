// Message text with its entities (what parse_mode produced) as DOM nodes, like Telegram draws them.
import { h } from './dom.js';

/**
 * `text` with `entities` (UTF-16 offsets, as JavaScript strings count) as a fragment. `onCommand` is
 * called when a /command is clicked (Telegram sends it); `onInvite(code)` when a bot's start link
 * (`t.me/<bot>?start=<code>`) is (here it opens as a new client who redeems it).
 */
export function formatText(text, entities = [], onCommand, onInvite) {
  const sorted = [...entities].sort((a, b) => a.offset - b.offset || b.length - a.length);
  const fragment = document.createDocumentFragment();
  fragment.append(...build(text, 0, text.length, sorted, { onCommand, onInvite }));
  return fragment;
}

/** The start parameter of a bot's deep link (`https://t.me/<bot>?start=<code>`), or null. */
export function startCodeOf(url) {
  const match = /^(?:https?:\/\/)?t\.me\/[A-Za-z0-9_]{3,64}\?start=([A-Za-z0-9_-]{1,64})$/.exec(url ?? '');
  return match ? match[1] : null;
}

function build(text, start, end, entities, handlers) {
  const out = [];
  let position = start;
  let rest = entities;
  while (rest.length > 0) {
    const [entity, ...others] = rest;
    const from = Math.max(entity.offset, position);
    const to = Math.min(entity.offset + entity.length, end);
    if (from > position) out.push(...plain(text.slice(position, from), handlers));
    // Entities starting inside this one nest in it; a part reaching past its end carries on after it.
    const starting = others.filter((e) => e.offset < to);
    const inside = starting.map((e) => clip(e, from, to));
    const spill = starting.filter((e) => e.offset + e.length > to).map((e) => ({ ...e, offset: to, length: e.offset + e.length - to }));
    rest = [...spill, ...others.filter((e) => e.offset >= to)].sort((a, b) => a.offset - b.offset || b.length - a.length);
    // No links found inside code, nor inside what is a link already.
    const within = NO_LINKS.has(entity.type) ? { ...handlers, noLinks: true } : handlers;
    if (to > from) out.push(element(entity, text.slice(from, to), build(text, from, to, inside, within), handlers));
    position = Math.max(position, to);
  }
  if (position < end) out.push(...plain(text.slice(position, end), handlers));
  return out;
}

const NO_LINKS = new Set(['code', 'pre', 'text_link', 'url', 'email', 'bot_command', 'mention']);
const LINK = /\bhttps?:\/\/[^\s<>"]+[^\s<>".,;:!?)»”]/g;

/** Plain text with the web links in it made links, as Telegram's apps do for a message sent without entities. */
function plain(text, handlers) {
  if (handlers.noLinks) return [text];
  const out = [];
  let last = 0;
  for (const match of text.matchAll(LINK)) {
    if (match.index > last) out.push(text.slice(last, match.index));
    out.push(link(match[0], [match[0]], handlers.onInvite));
    last = match.index + match[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

function clip(entity, from, to) {
  const offset = Math.max(entity.offset, from);
  return { ...entity, offset, length: Math.max(0, Math.min(entity.offset + entity.length, to) - offset) };
}

function element(entity, plain, children, { onCommand, onInvite }) {
  switch (entity.type) {
    case 'bold':
      return h('b', {}, children);
    case 'italic':
      return h('i', {}, children);
    case 'underline':
      return h('u', {}, children);
    case 'strikethrough':
      return h('s', {}, children);
    case 'code':
      return h('code', {}, children);
    case 'pre':
      return h('pre', {}, h('code', entity.language ? { 'data-language': entity.language } : {}, children));
    case 'spoiler':
      return h('span', { class: 'spoiler', title: 'Spoiler: click to show', onclick: (e) => e.currentTarget.classList.add('shown') }, children);
    case 'blockquote':
    case 'expandable_blockquote':
      return h('blockquote', {}, children);
    case 'text_link':
      return link(entity.url, children, onInvite);
    case 'url':
      return link(/^[a-z][a-z0-9+.-]*:/i.test(plain) ? plain : `https://${plain}`, children, onInvite);
    case 'email':
      return link(`mailto:${plain}`, children);
    case 'bot_command':
      return h('a', { class: 'command', href: '#', title: 'Send this command', onclick: (e) => (e.preventDefault(), onCommand?.(plain)) }, children);
    case 'mention':
    case 'hashtag':
    case 'cashtag':
    case 'phone_number':
      return h('span', { class: 'entity-link' }, children);
    default:
      return h('span', {}, children);
  }
}

function link(url, children, onInvite) {
  const code = onInvite ? startCodeOf(url) : null;
  if (code !== null) {
    const open = (e) => (e.preventDefault(), onInvite(code));
    return h('a', { href: url, class: 'invite-link', title: 'Open as a new client, who starts the bot with this link', onclick: open }, children);
  }
  const safe = /^(https?|tg|mailto):/i.test(url ?? '') ? url : undefined;
  return safe ? h('a', { href: safe, target: '_blank', rel: 'noopener noreferrer' }, children) : h('span', { class: 'entity-link' }, children);
}
