/**
 * The outbox sender's Bot API calls, without telegraf's HTTP path (node-fetch and its config builders). The
 * sender's payloads come from the database: plain JSON, never a file to upload, so a call is one POST of a JSON
 * body on a keep-alive connection, at about half the CPU of the same call through telegraf (see
 * docs/performance.md). It behaves as telegraf's `callApi` does for such a payload: the same URL (`apiRoot`,
 * `bot<token>/<method>`), null and undefined fields left out, a 5xx or an answer that is not `ok` thrown as
 * telegraf's `TelegramError` (code, description, parameters such as `retry_after`), anything else (a refused
 * connection, a body that is not JSON) thrown as it is, without the token.
 */
import http from 'node:http';
import https from 'node:https';
import { TelegramError, type Telegram } from 'telegraf';

/** How long a call may take, as telegraf allows it. */
const CALL_TIMEOUT_MS = 500_000;

/** Replaces `telegram.callApi` (the sender's instance, before `TelegramGate` wraps it) with plain JSON calls. */
export function withJsonCalls(telegram: Telegram, options: { token: string; apiRoot?: string | undefined }): Telegram {
  const base = new URL(`./bot${options.token}/`, options.apiRoot ?? 'https://api.telegram.org');
  const secure = base.protocol === 'https:';
  const agent = secure
    ? new https.Agent({ keepAlive: true, keepAliveMsecs: 10_000 })
    : new http.Agent({ keepAlive: true, keepAliveMsecs: 10_000 });
  const request = secure ? https.request : http.request;
  const call = (method: string, payload: unknown): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const body = Buffer.from(JSON.stringify(payload ?? {}, (_key, value: unknown) => (value == null ? undefined : value)));
      const req = request(
        {
          protocol: base.protocol,
          hostname: base.hostname,
          port: base.port || undefined,
          path: `${base.pathname}${method}`,
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': body.length },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status >= 500) {
              reject(new TelegramError({ error_code: status, description: res.statusMessage ?? 'Server Error' }, { method, payload }));
              return;
            }
            let data: { ok?: unknown; result?: unknown; error_code?: number; description?: string };
            try {
              data = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof data;
            } catch {
              reject(new Error(`the Bot API answered ${method} with HTTP ${status} and a body that is not JSON`));
              return;
            }
            if (data.ok === true) resolve(data.result);
            else reject(new TelegramError({ error_code: status, description: '', ...data }, { method, payload }));
          });
        },
      );
      req.setTimeout(CALL_TIMEOUT_MS, () =>
        req.destroy(new Error(`the Bot API did not answer ${method} within ${CALL_TIMEOUT_MS / 1000} s`)),
      );
      req.on('error', reject);
      req.end(body);
    });
  telegram.callApi = call as typeof telegram.callApi;
  return telegram;
}
