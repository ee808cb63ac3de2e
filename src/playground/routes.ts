// Everything the playground serves on the app's HTTP server (startApp's httpFallback): the page and its
// files, the page's API, and the emulator's API passed through.
import type { RequestListener } from 'node:http';
import type { Logger } from '../logger.js';
import type { PlaygroundApi } from './api.js';
import { proxyToEmulator } from './proxy.js';
import { sendAsset } from './static.js';

export interface RoutesDeps {
  readonly api: PlaygroundApi;
  readonly emulatorRoot: string;
  readonly logger: Logger;
}

export function playgroundRoutes(deps: RoutesDeps): RequestListener {
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://playground.local');
    const handled = async (): Promise<boolean> => {
      if (url.pathname.startsWith('/_emulator/')) {
        proxyToEmulator(deps.emulatorRoot, req, res);
        return true;
      }
      if (await deps.api.handle(req, res, url)) return true;
      if (req.method !== 'GET' && req.method !== 'HEAD') return false;
      if (url.pathname === '/') return sendAsset(res, 'index.html');
      const asset = /^\/assets\/([^/]+)$/.exec(url.pathname)?.[1];
      return asset !== undefined && sendAsset(res, asset);
    };
    handled()
      .then((done) => {
        if (!done) res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      })
      .catch((error: unknown) => {
        deps.logger.error({ err: error, url: req.url }, 'playground request failed');
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error');
      });
  };
}
