// The emulator's JSON API and event stream on the page's own origin: /_emulator/* is passed through as is.
import { request, type IncomingMessage, type ServerResponse } from 'node:http';

/** Forwards the request to the emulator at `apiRoot` and streams the answer back (Server-Sent Events too). */
export function proxyToEmulator(apiRoot: string, req: IncomingMessage, res: ServerResponse): void {
  const target = new URL(req.url ?? '/', apiRoot);
  const upstream = request(target, { method: req.method, headers: { ...req.headers, host: target.host } }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  upstream.on('error', (error) => {
    if (res.headersSent) res.destroy();
    else
      res.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `emulator unreachable: ${error.message}` }));
  });
  // The page went away (an event stream closed): stop the upstream request too.
  res.on('close', () => upstream.destroy());
  req.pipe(upstream);
}
