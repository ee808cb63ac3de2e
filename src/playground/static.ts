// The page's files (src/playground/web): hand-written HTML, CSS and JS modules, served as they are on disk.
import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import path from 'node:path';
import { projectPath } from '../paths.js';

const WEB_DIR = projectPath('src', 'playground', 'web');
const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  jpg: 'image/jpeg',
};
const NAME = /^[a-z0-9][a-z0-9-]*\.([a-z]+)$/;

/** Sends web/<name> (a plain file name: no folders, no dots but the extension's); false if there is none. */
export async function sendAsset(res: ServerResponse, name: string): Promise<boolean> {
  const type = TYPES[NAME.exec(name)?.[1] ?? ''];
  if (!type) return false;
  let bytes: Buffer;
  try {
    bytes = await readFile(path.join(WEB_DIR, name));
  } catch {
    return false;
  }
  // Edited files show on the next reload: the page is a local tool, never cached.
  res.writeHead(200, { 'content-type': type, 'content-length': bytes.length, 'cache-control': 'no-cache' });
  res.end(bytes);
  return true;
}
