import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { TelegramError, type Telegram } from 'telegraf';
import { DownloadError, type Downloader } from './archive.js';

/**
 * Downloads files through the Bot API: `getFile`, then the file URL (`/file/bot<token>/<path>`; a local
 * Bot API server gives an absolute path on its disk instead). Errors never carry the URL: it holds the
 * bot's token. The cloud Bot API serves files up to 20 MB.
 */
export function telegramDownloader(telegram: Telegram, options: { timeoutMs?: number } = {}): Downloader {
  const timeoutMs = options.timeoutMs ?? 60_000;
  return async (fileId) => {
    let url: URL;
    try {
      url = await telegram.getFileLink(fileId);
    } catch (error) {
      throw new DownloadError(error instanceof TelegramError ? `getFile: ${error.description}` : 'getFile failed');
    }
    if (url.protocol === 'file:') {
      try {
        return await readFile(fileURLToPath(url));
      } catch {
        throw new DownloadError('the Bot API server’s local file could not be read');
      }
    }
    let response: Response;
    try {
      response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    } catch {
      throw new DownloadError('download failed');
    }
    if (!response.ok) throw new DownloadError(`download failed (HTTP ${response.status})`);
    return Buffer.from(await response.arrayBuffer());
  };
}
