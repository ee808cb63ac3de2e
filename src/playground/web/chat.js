// One Telegram chat with the bot, as the person who owns the phone sees it: messages with their inline
// keyboards, the reply keyboard, photos and files, edits in place, callback answers as toasts, a text box.
import { api } from './api.js';
import { h, initials } from './dom.js';
import { startCodeOf } from './format.js';
import { messageNode, summary } from './message.js';

const SAMPLE_PASSPORT = '/assets/sample-passport.jpg';
const TOAST_MS = 2600;

export class ChatView {
  /** @param {{ person: { id: number, name: string }, role: 'operator' | 'client', bot: { username: string, name: string } }} options */
  constructor({ person, role, bot }) {
    this.person = person;
    this.role = role;
    this.bot = bot;
    /** messageId → ChatMessage (the emulator's view, edits applied). */
    this.messages = new Map();
    this.nodes = new Map();
    /** null: the keyboard shows as Telegram would; true/false: the ⌨️ button folded or opened it. */
    this.keyboardHidden = null;
    this.keyboardFor = null;
    this.typingTimer = undefined;
    this.el = this.render();
  }

  get id() {
    return this.person.id;
  }

  /** Replaces every message with the chat's snapshot (GET /_emulator/chats/:id). */
  load(snapshot) {
    this.messages.clear();
    this.nodes.clear();
    this.list.replaceChildren();
    for (const message of snapshot.messages) if (!message.deleted) this.messages.set(message.messageId, message);
    for (const id of [...this.messages.keys()].sort((a, b) => a - b)) {
      const node = this.messageNode(this.messages.get(id));
      this.nodes.set(id, node);
      this.list.append(node);
    }
    this.afterChange(true);
  }

  /** A message was sent or edited: shown in place. */
  upsert(message) {
    if (message.deleted) return this.remove(message.messageId);
    const stick = this.nearBottom() || message.from === 'user';
    this.messages.set(message.messageId, message);
    const node = this.messageNode(message);
    const old = this.nodes.get(message.messageId);
    if (old) {
      old.replaceWith(node);
      if (message.editCount > 0) node.classList.add('just-edited');
    } else {
      const after = [...this.nodes.keys()].filter((id) => id > message.messageId).sort((a, b) => a - b)[0];
      if (after === undefined) this.list.append(node);
      else this.list.insertBefore(node, this.nodes.get(after));
    }
    this.nodes.set(message.messageId, node);
    this.afterChange(stick);
  }

  remove(messageId) {
    this.messages.delete(messageId);
    this.nodes.get(messageId)?.remove();
    this.nodes.delete(messageId);
    this.afterChange(false);
  }

  /** The bot answered a button press (answerCallbackQuery): the spinner stops, the text shows as a toast. */
  callbackAnswered(answer) {
    for (const button of this.nodes.get(answer.messageId)?.querySelectorAll('.ikb button.loading') ?? []) button.classList.remove('loading');
    if (answer.text) (answer.showAlert ? this.alert(answer.text) : this.toast(answer.text));
    else if (answer.url) this.toast(`Opens ${answer.url}`);
  }

  /** sendChatAction: "typing…" under the bot's name for a few seconds. */
  action(action) {
    const words = { typing: 'typing…', upload_photo: 'sending a photo…', upload_document: 'sending a file…' };
    this.status.textContent = words[action] ?? `${action.replaceAll('_', ' ')}…`;
    this.status.classList.add('busy');
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => {
      this.status.textContent = 'bot';
      this.status.classList.remove('busy');
    }, 5000);
  }

  setBlocked(blocked) {
    this.el.classList.toggle('blocked', blocked);
  }

  toast(text) {
    const toast = h('div', { class: 'toast', role: 'status' }, text);
    this.toasts.append(toast);
    setTimeout(() => toast.classList.add('leaving'), TOAST_MS);
    setTimeout(() => toast.remove(), TOAST_MS + 400);
  }

  alert(text) {
    const close = () => backdrop.remove();
    const backdrop = h('div', { class: 'alert-backdrop', onclick: (e) => e.target === backdrop && close() },
      h('div', { class: 'alert', role: 'alertdialog' }, h('div', { class: 'alert-text' }, text), h('button', { type: 'button', onclick: close }, 'OK')));
    this.el.append(backdrop);
  }

  // ---- rendering -----------------------------------------------------------------------------

  render() {
    const { person, role, bot } = this;
    this.list = h('div', { class: 'messages' });
    this.status = h('div', { class: 'chat-status' }, 'bot');
    this.toasts = h('div', { class: 'toasts' });
    this.keyboard = h('div', { class: 'reply-keyboard', hidden: true });
    this.replyBar = h('div', { class: 'reply-bar', hidden: true });
    this.file = h('input', { type: 'file', hidden: true, onchange: () => this.uploadChosen() });
    this.input = h('textarea', { rows: 1, placeholder: 'Message', 'aria-label': `Message as ${person.name}`, onkeydown: (e) => this.onKey(e), oninput: () => this.grow() });
    this.menu = h('div', { class: 'attach-menu', hidden: true },
      h('button', { type: 'button', onclick: () => this.choose('photo', 'image/*') }, '🖼️ Photo…'),
      h('button', { type: 'button', onclick: () => this.choose('document', '') }, '📄 File…'),
      h('button', { type: 'button', class: 'sample', onclick: () => this.sendSample('photo') }, '🪪 Sample passport'),
      h('button', { type: 'button', onclick: () => this.sendSample('document') }, '🪪 Sample passport as a file'));
    this.keyboardToggle = h('button', { type: 'button', class: 'icon keyboard-toggle', title: 'Show the bot keyboard', hidden: true, onclick: () => this.toggleKeyboard() }, '⌨️');
    const composer = h('form', { class: 'composer', onsubmit: (e) => (e.preventDefault(), this.submit()) },
      h('button', { type: 'button', class: 'icon attach', title: 'Attach a photo or a file', 'aria-label': 'Attach', onclick: () => this.toggleMenu() }, '📎'),
      this.input,
      this.keyboardToggle,
      h('button', { type: 'submit', class: 'icon send', title: 'Send', 'aria-label': 'Send' }, h('span', {}, '➤')),
      this.menu,
      this.file);
    this.extra = h('div', { class: 'device-actions' });
    const section = h('section', { class: `chat ${role}`, dataset: { userId: person.id, role } },
      h('div', { class: 'device' },
        h('span', { class: `role-badge ${role}` }, role === 'operator' ? 'Operator' : 'Client'),
        h('span', { class: 'owner', title: `Telegram user id ${person.id}` }, person.name),
        h('span', { class: 'uid' }, `id ${person.id}`),
        this.extra),
      h('header', { class: 'chat-header' },
        h('div', { class: 'avatar bot-avatar' }, initials(bot.name)),
        h('div', { class: 'who' }, h('div', { class: 'title' }, bot.name), this.status)),
      h('div', { class: 'body', ondragover: (e) => this.dragOver(e), ondragleave: () => section.classList.remove('dropping'), ondrop: (e) => this.drop(e) },
        this.list, this.toasts),
      this.replyBar,
      this.keyboard,
      composer);
    return section;
  }

  messageNode(message) {
    return messageNode(message, {
      sender: (from) => (from === 'user' ? this.person.name : this.bot.name),
      quoted: (id) => this.messages.get(id),
      onCommand: (command) => this.sendText(command),
      onInvite: (code) => this.openInvite(code),
      onPress: (button, el) => this.press(button, el, message.messageId),
      onImageLoad: () => this.nearBottom(200) && this.scrollDown(),
    });
  }

  // ---- actions -------------------------------------------------------------------------------

  /** A bot's start link, clicked: a new client opens the bot with it (the page adds their chat). */
  async openInvite(code) {
    try {
      await api.addClient({ start: code });
    } catch (error) {
      this.toast(error.message);
    }
  }

  async press(button, el, messageId) {
    if (button.url && startCodeOf(button.url) !== null) return this.openInvite(startCodeOf(button.url));
    if (button.url) return void window.open(button.url, '_blank', 'noopener');
    if (button.callback_data === undefined) return this.toast('This kind of button is not emulated');
    el.classList.add('loading');
    setTimeout(() => el.classList.remove('loading'), 5000);
    try {
      await api.press(this.id, messageId, button.callback_data);
    } catch (error) {
      el.classList.remove('loading');
      this.toast(error.message);
    }
  }

  async submit() {
    const text = this.input.value.trim();
    if (!text) return;
    this.input.value = '';
    this.grow();
    await this.sendText(text, () => (this.input.value = text));
  }

  async sendText(text, restore) {
    try {
      await api.send(this.id, text, this.forceReplyTo ?? undefined);
    } catch (error) {
      restore?.();
      this.toast(error.message);
    }
  }

  async pressReplyButton(button) {
    try {
      await api.replyButton(this.id, button.text);
    } catch (error) {
      this.toast(error.message);
    }
  }

  onKey(event) {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      void this.submit();
    }
  }

  grow() {
    this.input.style.height = 'auto';
    this.input.style.height = `${Math.min(this.input.scrollHeight, 120)}px`;
  }

  toggleMenu(open = this.menu.hidden) {
    this.menu.hidden = !open;
    if (open) setTimeout(() => document.addEventListener('click', () => (this.menu.hidden = true), { once: true }), 0);
  }

  choose(as, accept) {
    this.uploadAs = as;
    this.file.accept = accept;
    this.file.click();
  }

  async uploadChosen() {
    const files = [...(this.file.files ?? [])];
    this.file.value = '';
    for (const file of files) await this.upload(file, this.uploadAs);
  }

  async upload(file, as, fileName) {
    try {
      await api.upload(this.id, file, as, fileName);
    } catch (error) {
      this.toast(error.message);
    }
  }

  /** The bundled sample image of a passport, as a photo or as a file. */
  async sendSample(as) {
    try {
      const response = await fetch(SAMPLE_PASSPORT);
      if (!response.ok) throw new Error(`the sample image is missing (${response.status})`);
      await this.upload(await response.blob(), as, 'sample-passport.jpg');
    } catch (error) {
      this.toast(error.message);
    }
  }

  dragOver(event) {
    if (!event.dataTransfer?.types.includes('Files')) return;
    event.preventDefault();
    this.el.classList.add('dropping');
  }

  async drop(event) {
    event.preventDefault();
    this.el.classList.remove('dropping');
    for (const file of event.dataTransfer?.files ?? []) await this.upload(file, file.type.startsWith('image/') ? 'photo' : 'document');
  }

  toggleKeyboard() {
    this.keyboardHidden = !this.keyboard.hidden;
    this.renderKeyboard();
  }

  // ---- derived state -------------------------------------------------------------------------

  afterChange(stick) {
    this.renderKeyboard();
    this.renderReplyBar();
    if (this.messages.size === 0) {
      this.list.replaceChildren(h('div', { class: 'empty' }, h('div', { class: 'empty-card' }, h('b', {}, this.bot.name), h('div', {}, 'No messages here yet.'),
        h('button', { type: 'button', onclick: () => this.sendText('/start') }, 'START'))));
    } else {
      this.list.querySelector('.empty')?.remove();
    }
    if (stick) this.scrollDown();
  }

  /** The reply keyboard the newest bot message with one left (remove_keyboard takes it away). */
  replyKeyboard() {
    const newestFirst = [...this.messages.values()].sort((a, b) => b.messageId - a.messageId);
    for (const message of newestFirst) {
      if (message.from !== 'bot' || !message.replyMarkup) continue;
      if ('keyboard' in message.replyMarkup) return { markup: message.replyMarkup, messageId: message.messageId, answered: newestFirst.some((m) => m.from === 'user' && m.messageId > message.messageId) };
      if ('remove_keyboard' in message.replyMarkup) return null;
    }
    return null;
  }

  renderKeyboard() {
    const found = this.replyKeyboard();
    if (found?.messageId !== this.keyboardFor) {
      this.keyboardFor = found?.messageId ?? null;
      this.keyboardHidden = null;
    }
    // A one-time keyboard folds away once used; the ⌨️ button brings it back.
    const folded = !found || (this.keyboardHidden ?? Boolean(found.markup.one_time_keyboard && found.answered));
    this.keyboardToggle.hidden = !found;
    this.keyboard.hidden = Boolean(folded);
    this.input.placeholder = found?.markup.input_field_placeholder ?? this.forceReply()?.replyMarkup.input_field_placeholder ?? 'Message';
    if (!found) return void this.keyboard.replaceChildren();
    this.keyboard.replaceChildren(...found.markup.keyboard.map((row) => h('div', { class: 'rk-row' }, row.map((button) => {
      const label = typeof button === 'string' ? button : button.text;
      const icon = button.request_contact ? '📞 ' : button.request_location ? '📍 ' : '';
      return h('button', { type: 'button', onclick: () => this.pressReplyButton({ text: label }) }, icon + label);
    }))));
  }

  /** The newest bot message, if it asks for a reply (force_reply) and nothing was sent after it. */
  forceReply() {
    const newest = [...this.messages.values()].sort((a, b) => b.messageId - a.messageId)[0];
    return newest?.from === 'bot' && newest.replyMarkup && 'force_reply' in newest.replyMarkup ? newest : undefined;
  }

  renderReplyBar() {
    const target = this.forceReply();
    this.forceReplyTo = target?.messageId ?? null;
    this.replyBar.hidden = !target;
    if (target) this.replyBar.replaceChildren(h('span', { class: 'reply-icon' }, '↩'), h('div', {}, h('div', { class: 'quote-who' }, `Reply to ${this.bot.name}`), h('div', { class: 'quote-text' }, summary(target))));
  }

  nearBottom(margin = 120) {
    return this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < margin;
  }

  scrollDown() {
    this.list.scrollTop = this.list.scrollHeight;
  }
}
