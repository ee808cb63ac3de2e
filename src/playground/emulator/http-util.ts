// Small response helpers shared by the Bot API and the emulator's own JSON API.
import type { ServerResponse } from 'node:http';
import { ApiError } from './errors.js';

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}

export function sendBytes(res: ServerResponse, bytes: Buffer, contentType: string): void {
  res.writeHead(200, { 'content-type': contentType, 'content-length': bytes.length });
  res.end(bytes);
}

/** Bot API error responses: `{ ok: false, error_code, description }`, HTTP status = error_code. */
export function sendApiError(res: ServerResponse, error: unknown): void {
  if (error instanceof ApiError) {
    sendJson(res, error.code, error.toJSON());
    return;
  }
  const detail = error instanceof Error ? error.message : String(error);
  sendJson(res, 500, { ok: false, error_code: 500, description: `Internal Server Error: ${detail}` });
}
