/**
 * Download links for the files in a result (`RESULT_LINKS_URL`): `<base>/files/<flow>/<step>?expires=<unix>
 * &signature=<hex>`, where the signature is HMAC-SHA256 with RESULT_WEBHOOK_SECRET over
 * `file:<flow>:<step>:<expires>`. This server checks the link and serves the step's accepted file, fetched
 * through the Bot API at that moment: a Telegram file URL holds the bot's token and is never handed out.
 * Once the request's data is erased or past the retention period, the link finds nothing (404).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Db } from '../db/client.js';
import { DownloadError, type Downloader } from '../export/archive.js';
import { answersInScope } from '../export/store.js';
import type { Logger } from '../logger.js';
import { errorSummary } from '../delivery/telegram.js';

/** How long a link in a result stays valid. */
export const LINK_TTL_MS = 7 * 86_400_000;

const PATH = /^\/files\/([1-9]\d{0,15})\/([A-Za-z0-9_-]{1,64})$/;

export class FileLinks {
  constructor(private readonly options: { readonly baseUrl: string; readonly secret: string; readonly ttlMs?: number }) {}

  /** The link to a step's file, valid for the TTL from `from`. */
  url(flowId: number, stepId: string, from: Date): string {
    const expires = Math.floor((from.getTime() + (this.options.ttlMs ?? LINK_TTL_MS)) / 1000);
    return `${this.options.baseUrl}/files/${flowId}/${encodeURIComponent(stepId)}?expires=${expires}&signature=${this.sign(flowId, stepId, expires)}`;
  }

  /** Whether a link's parts are ours and still valid at `now`. */
  check(flowId: number, stepId: string, expires: string | null, signature: string | null, now: Date): 'ok' | 'expired' | 'invalid' {
    if (expires === null || signature === null || !/^\d{1,12}$/.test(expires) || !/^[0-9a-f]{64}$/.test(signature)) return 'invalid';
    const expected = Buffer.from(this.sign(flowId, stepId, Number(expires)), 'hex');
    if (!timingSafeEqual(expected, Buffer.from(signature, 'hex'))) return 'invalid';
    return Number(expires) * 1000 < now.getTime() ? 'expired' : 'ok';
  }

  private sign(flowId: number, stepId: string, expires: number): string {
    return createHmac('sha256', this.options.secret).update(`file:${flowId}:${stepId}:${expires}`).digest('hex');
  }
}

export interface FileRouteDeps {
  readonly links: FileLinks;
  readonly db: Db;
  readonly download: Downloader;
  readonly logger: Logger;
  readonly clock?: () => Date;
}

/** Serves `GET /files/<flow>/<step>` for a valid link; false for any other path. */
export function fileRoute(deps: FileRouteDeps): (req: IncomingMessage, res: ServerResponse, path: string) => Promise<boolean> {
  return async (req, res, path) => {
    const match = PATH.exec(path);
    if (!match) return false;
    const [, flow = '', stepId = ''] = match;
    if (req.method !== 'GET') return plain(res, 405, 'method not allowed');
    const flowId = Number(flow);
    const query = new URL(req.url ?? '/', 'http://localhost').searchParams;
    const checked = deps.links.check(flowId, stepId, query.get('expires'), query.get('signature'), (deps.clock ?? (() => new Date()))());
    if (checked === 'invalid') return plain(res, 403, 'invalid link');
    if (checked === 'expired') return plain(res, 410, 'this link has expired');
    const answers = await answersInScope(deps.db, { flowId, operatorId: null }, ['accepted']);
    const answer = answers.filter((a) => a.stepId === stepId && a.value.kind === 'file').at(-1);
    if (!answer || answer.value.kind !== 'file') return plain(res, 404, 'no such file (it may have been removed)');
    let bytes: Buffer;
    try {
      bytes = await deps.download(answer.fileId ?? answer.value.fileId);
    } catch (error) {
      deps.logger.warn(
        { flowId, err: errorSummary(error), reason: error instanceof DownloadError ? error.message : undefined },
        'result file not downloaded',
      );
      return plain(res, 502, 'the file could not be fetched from Telegram; try again later');
    }
    const value = answer.value;
    const type = value.media === 'photo' ? 'image/jpeg' : (value.mimeType ?? 'application/octet-stream');
    const name = value.fileName ?? `${stepId}_${flowId}${value.media === 'photo' ? '.jpg' : ''}`;
    res.writeHead(200, {
      'content-type': type,
      'content-length': bytes.length,
      'content-disposition': `attachment; filename="${name.replace(/[^\x20-\x7E]|["\\]/g, '_')}"; filename*=UTF-8''${encodeURIComponent(name)}`,
      'cache-control': 'no-store',
    });
    res.end(bytes);
    return true;
  };
}

function plain(res: ServerResponse, status: number, text: string): true {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }).end(text);
  return true;
}
