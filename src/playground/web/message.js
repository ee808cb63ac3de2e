// One message as Telegram draws it: a bubble (quote, photo, file, contact…, text with entities, time,
// "edited") and the inline keyboard under it.
import { fileUrl } from './api.js';
import { avatarColour, clock, h, initials } from './dom.js';
import { formatText } from './format.js';

/**
 * @param message a ChatMessage of the emulator
 * @param ctx `{ sender(from), quoted(messageId), onCommand(text), onInvite(code), onPress(button, element), onImageLoad() }`
 */
export function messageNode(message, ctx) {
  const out = message.from === 'user';
  const text = message.text ?? message.caption;
  const bubble = h('div', { class: `bubble ${out ? 'out' : 'in'}${message.photo && !text ? ' media-only' : ''}` });
  if (message.replyToMessageId !== undefined) {
    const quoted = ctx.quoted(message.replyToMessageId);
    bubble.append(h('div', { class: 'quote' }, h('div', { class: 'quote-who' }, ctx.sender(quoted?.from ?? 'bot')), h('div', { class: 'quote-text' }, summary(quoted))));
  }
  if (message.photo) {
    const img = h('img', { src: fileUrl(message.photo), alt: 'Photo', onload: ctx.onImageLoad });
    bubble.append(h('a', { class: 'photo', href: fileUrl(message.photo), target: '_blank', title: 'Open the photo' }, img));
  }
  if (message.document) {
    bubble.append(h('a', { class: 'document', href: fileUrl(message.document), target: '_blank', download: message.fileName ?? 'file' },
      h('span', { class: 'doc-icon' }, extensionOf(message.fileName)),
      h('span', { class: 'doc-info' }, h('span', { class: 'doc-name' }, message.fileName ?? 'File'), h('span', { class: 'doc-type' }, message.mimeType ?? 'document'))));
  }
  if (message.sticker) bubble.append(h('div', { class: 'sticker' }, '👍'));
  if (message.voice) bubble.append(h('div', { class: 'media-label' }, '🎤 Voice message'));
  if (message.video) bubble.append(h('div', { class: 'media-label' }, '🎬 Video'));
  if (message.contact) {
    const c = message.contact;
    const name = [c.first_name, c.last_name].filter(Boolean).join(' ');
    bubble.append(h('div', { class: 'contact' }, h('div', { class: 'avatar small', style: `background:${avatarColour(c.user_id ?? 0)}` }, initials(name)),
      h('div', {}, h('div', { class: 'contact-name' }, name), h('div', { class: 'contact-phone' }, c.phone_number))));
  }
  if (message.location) bubble.append(h('div', { class: 'media-label' }, `📍 ${message.location.latitude}, ${message.location.longitude}`));
  if (text) bubble.append(h('div', { class: 'text' }, formatText(text, message.entities, ctx.onCommand, ctx.onInvite)));
  bubble.append(h('span', { class: 'meta' }, message.editCount > 0 ? h('span', { class: 'edited' }, 'edited') : null, clock(message.date), out ? h('span', { class: 'ticks' }, '✓✓') : null));
  const node = h('div', { class: `msg ${out ? 'out' : 'in'}`, dataset: { messageId: message.messageId } }, bubble);
  const rows = message.replyMarkup?.inline_keyboard;
  if (rows) node.append(h('div', { class: 'ikb' }, rows.map((row) => h('div', { class: 'ikb-row' }, row.map((button) => inlineButton(button, ctx.onPress))))));
  return node;
}

function inlineButton(button, onPress) {
  const el = h('button', { type: 'button', class: button.url ? 'url' : '', title: button.url ?? '' }, h('span', {}, button.text));
  el.addEventListener('click', () => onPress(button, el));
  return el;
}

/** One line about a message, for quotes and the reply bar. */
export function summary(message) {
  if (!message) return 'Deleted message';
  if (message.photo) return `🖼️ ${message.caption ?? 'Photo'}`;
  if (message.document) return `📄 ${message.fileName ?? 'File'}`;
  return (message.text ?? message.caption ?? '').split('\n')[0] ?? '';
}

function extensionOf(fileName) {
  const match = /\.([a-z0-9]{1,4})$/i.exec(fileName ?? '');
  return match ? match[1].toUpperCase() : 'FILE';
}
