// Calls to the playground's API (/api) and the emulator's JSON API (/_emulator), both on this origin.

async function call(method, path, body) {
  const init = { method };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { 'content-type': 'application/json' };
  }
  const response = await fetch(path, init);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error ?? `${response.status} ${response.statusText}`);
  return data;
}

const user = (id, action) => `/_emulator/users/${id}/${action}`;

export const api = {
  state: () => call('GET', '/api/state'),
  addClient: (options) => call('POST', '/api/clients', options),
  panel: (clientId, flowId) => call('GET', `/api/clients/${clientId}/panel${flowId ? `?flow=${flowId}` : ''}`),
  reloadCatalogue: () => call('POST', '/api/catalogue/reload'),
  reset: () => call('POST', '/api/reset'),

  chat: (userId) => call('GET', `/_emulator/chats/${userId}`),
  send: (userId, text, replyTo) => call('POST', user(userId, 'send'), { text, ...(replyTo ? { replyTo } : {}) }),
  press: (userId, messageId, data) => call('POST', user(userId, 'press'), { messageId, data }),
  replyButton: (userId, text) => call('POST', user(userId, 'reply-button'), { text }),
  /** `as`: "photo" or "document" (default: photo for images). */
  upload(userId, file, as, fileName) {
    const form = new FormData();
    form.append('file', file, fileName ?? file.name ?? 'file');
    if (as) form.append('as', as);
    return call('POST', user(userId, 'upload'), form);
  },
};

export function fileUrl(fileId) {
  return `/_emulator/files/${encodeURIComponent(fileId)}`;
}
