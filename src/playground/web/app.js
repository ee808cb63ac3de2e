// The playground page: the operator's chat and one chat per client side by side, each client with a
// side panel (state chart and audit trail), kept live by the emulator's event stream (/_emulator/events).
import { api } from './api.js';
import { ChatView } from './chat.js';
import { h } from './dom.js';
import { PanelView } from './panel.js';

const EVENTS = ['message.created', 'message.edited', 'message.deleted', 'callback.answered', 'chat.action', 'chat.blocked', 'user.created'];
const board = document.querySelector('#board');
const notices = document.querySelector('#notices');
const live = document.querySelector('#live');
const language = document.querySelector('#client-language');

let info = null;
/** userId → ChatView */
const chats = new Map();
/** clientId → PanelView */
const panels = new Map();
let panelTimer;

function notice(kind, text, { sticky = kind === 'error', lines = [] } = {}) {
  const close = h('button', { type: 'button', class: 'notice-close', 'aria-label': 'Dismiss', onclick: () => el.remove() }, '✕');
  const el = h('div', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' },
    h('div', { class: 'notice-text' }, h('div', {}, text), lines.length > 0 ? h('ul', {}, lines.map((line) => h('li', {}, h('code', {}, line)))) : null), close);
  notices.append(el);
  if (!sticky) setTimeout(() => el.remove(), 4000);
  return el;
}

const reportError = (message) => notice('error', message);

/** Loads everything again: people, then every chat's snapshot. */
async function sync() {
  info = await api.state();
  const database = document.querySelector('#database');
  database.textContent = info.database?.startsWith('PGlite') ? 'embedded database (PGlite)' : (info.database ?? '');
  database.title = info.database ?? '';
  const reset = document.querySelector('#reset');
  reset.disabled = Boolean(info.resetRefusal);
  reset.title = info.resetRefusal ?? 'Delete every chat, client and request, and start clean';
  if (!language.dataset.touched) language.value = info.locale;
  chats.clear();
  panels.clear();
  board.replaceChildren();
  const views = [column(info.operator, 'operator'), ...info.clients.map((client) => column(client, 'client'))];
  await Promise.all(views.map(loadChat));
  refreshPanels();
  document.body.dataset.syncs = String(Number(document.body.dataset.syncs ?? 0) + 1);
}

function column(person, role) {
  const chat = new ChatView({ person, role, bot: info.bot });
  chats.set(person.id, chat);
  if (role === 'operator') {
    board.append(h('div', { class: 'column operator-column' }, chat.el));
    return chat;
  }
  const panel = new PanelView(person, { onError: reportError });
  panels.set(person.id, panel);
  const wrapper = h('div', { class: 'column client-column', dataset: { clientId: person.id } }, chat.el, panel.el);
  chat.extra.append(h('button', { type: 'button', class: 'panel-toggle', title: 'Show or hide the request flow', onclick: () => wrapper.classList.toggle('panel-hidden') }, '◧ Flow'));
  board.append(wrapper);
  return chat;
}

/** Events that arrive while the snapshot loads are replayed after it (they are idempotent). */
async function loadChat(chat) {
  chat.queue = [];
  try {
    chat.load(await api.chat(chat.id));
  } catch (error) {
    reportError(`Chat of ${chat.person.name}: ${error.message}`);
  }
  const queued = chat.queue;
  chat.queue = null;
  for (const event of queued) applyTo(chat, event);
}

async function ensureClient(person) {
  if (chats.has(person.id) || person.id === info?.operator.id) return;
  const chat = column(person, 'client');
  chat.el.closest('.column')?.scrollIntoView({ behavior: 'smooth', inline: 'end', block: 'nearest' });
  await loadChat(chat);
  refreshPanels();
}

function apply(event) {
  if (!info) return;
  if (event.type === 'user.created') {
    const { id, first_name: first, last_name: last, username, language_code: languageCode } = event.user;
    return void ensureClient({ id, name: [first, last].filter(Boolean).join(' '), username, languageCode });
  }
  const chat = chats.get(event.chatId);
  if (!chat) return;
  if (chat.queue) return void chat.queue.push(event);
  applyTo(chat, event);
}

function applyTo(chat, event) {
  switch (event.type) {
    case 'message.created':
    case 'message.edited':
      chat.upsert(event.message);
      return refreshPanels();
    case 'message.deleted':
      chat.remove(event.messageId);
      return refreshPanels();
    case 'callback.answered':
      chat.callbackAnswered(event.answer);
      return refreshPanels();
    case 'chat.action':
      return chat.action(event.action);
    case 'chat.blocked':
      return chat.setBlocked(event.blocked);
  }
}

/** Flows change with the messages they send: panels follow the chats, a moment later. */
function refreshPanels() {
  clearTimeout(panelTimer);
  panelTimer = setTimeout(() => {
    for (const panel of panels.values()) void panel.refresh();
  }, 200);
}

function connect() {
  const events = new EventSource('/_emulator/events');
  let lost = false;
  for (const type of EVENTS) events.addEventListener(type, (e) => apply(JSON.parse(e.data)));
  events.addEventListener('open', () => {
    live.textContent = 'live';
    live.className = 'live on';
    // The server restarted (or the network blinked): what was missed comes with a fresh load.
    if (lost) void sync().catch((error) => reportError(error.message));
    lost = false;
  });
  events.addEventListener('error', () => {
    lost = true;
    live.textContent = 'reconnecting…';
    live.className = 'live off';
  });
}

async function busy(button, work) {
  button.disabled = true;
  try {
    await work();
  } catch (error) {
    reportError(error.message);
  } finally {
    button.disabled = false;
  }
}

document.querySelector('#add-client').addEventListener('click', (e) =>
  busy(e.currentTarget, async () => ensureClient(await api.addClient({ languageCode: language.value }))));

language.addEventListener('change', () => (language.dataset.touched = 'yes'));

document.querySelector('#reload-catalogue').addEventListener('click', (e) =>
  busy(e.currentTarget, async () => {
    const result = await api.reloadCatalogue();
    for (const old of notices.querySelectorAll('.notice.catalogue')) old.remove();
    const shown = result.ok
      ? notice('ok', `Catalogue reloaded: ${result.count} request type${result.count === 1 ? '' : 's'}.`)
      : notice('error', `The catalogue has ${result.errors.length} problem${result.errors.length === 1 ? '' : 's'}; the bot keeps the previous one.`, { lines: result.errors });
    shown.classList.add('catalogue');
    if (result.ok) info = await api.state();
  }));

document.querySelector('#reset').addEventListener('click', (e) =>
  busy(e.currentTarget, async () => {
    if (!window.confirm('Reset the playground? Every chat, client, request and answer is deleted.')) return;
    await api.reset();
    notices.replaceChildren();
    await sync();
    notice('ok', 'The playground starts clean.');
  }));

connect();
sync().catch((error) => reportError(`Cannot load the playground: ${error.message}`));
