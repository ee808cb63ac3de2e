// Bot API request parameters: query string, JSON, urlencoded or multipart, read through typed accessors.
import type { IncomingMessage } from 'node:http';
import { badRequest } from './errors.js';

/** A file sent as a multipart part. */
export interface Upload {
  bytes: Buffer;
  fileName: string;
  mimeType?: string;
}

export class Params {
  constructor(
    private readonly values: ReadonlyMap<string, unknown>,
    /** [field name, file] in part order; a name may repeat. */
    private readonly uploads: ReadonlyArray<readonly [string, Upload]> = [],
  ) {}

  static fromObject(object: Record<string, unknown>): Params {
    return new Params(new Map(Object.entries(object).filter(([, value]) => value !== undefined && value !== null)));
  }

  has(name: string): boolean {
    return this.values.has(name) || this.upload(name) !== undefined;
  }

  upload(name: string): Upload | undefined {
    return this.uploads.find(([field]) => field === name)?.[1];
  }

  /** Every uploaded file, in the order of the multipart parts. */
  allUploads(): Upload[] {
    return this.uploads.map(([, upload]) => upload);
  }

  string(name: string): string | undefined {
    const value = this.values.get(name);
    if (value === undefined) return undefined;
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    throw badRequest(`parameter "${name}" must be a string`);
  }

  integer(name: string): number | undefined {
    const value = this.values.get(name);
    if (value === undefined || value === '') return undefined;
    const number = typeof value === 'string' ? Number(value) : value;
    if (typeof number !== 'number' || !Number.isInteger(number)) {
      throw badRequest(`parameter "${name}" must be an integer`);
    }
    return number;
  }

  number(name: string): number | undefined {
    const value = this.values.get(name);
    if (value === undefined || value === '') return undefined;
    const number = typeof value === 'string' ? Number(value) : value;
    if (typeof number !== 'number' || Number.isNaN(number)) throw badRequest(`parameter "${name}" must be a number`);
    return number;
  }

  boolean(name: string): boolean | undefined {
    const value = this.values.get(name);
    if (value === undefined || value === '') return undefined;
    if (value === true || value === 'true' || value === '1' || value === 1) return true;
    if (value === false || value === 'false' || value === '0' || value === 0) return false;
    throw badRequest(`parameter "${name}" must be a boolean`);
  }

  /** A JSON-typed parameter; form and multipart bodies carry it as a JSON string. */
  json(name: string, unparsable = `can't parse ${name} JSON object`): unknown {
    const value = this.values.get(name);
    if (typeof value !== 'string') return value;
    try {
      return JSON.parse(value) as unknown;
    } catch {
      throw badRequest(unparsable);
    }
  }
}

/** Reads the parameters of a Bot API request (GET or POST, any encoding Telegram accepts). */
export async function readParams(req: IncomingMessage, url: URL): Promise<Params> {
  return paramsFromBody(await readBody(req), req.headers['content-type'] ?? '', url.searchParams);
}

/** Decodes a JSON, urlencoded or multipart body; body fields override query-string ones. */
export async function paramsFromBody(body: Buffer, contentType: string, query: URLSearchParams = new URLSearchParams()): Promise<Params> {
  const values = new Map<string, unknown>(query);
  const uploads: Array<[string, Upload]> = [];
  if (body.length === 0) return new Params(values, uploads);
  if (contentType.includes('application/json')) {
    for (const [key, value] of Object.entries(parseJsonObject(body))) {
      if (value !== null && value !== undefined) values.set(key, value);
    }
  } else if (contentType.includes('multipart/form-data')) {
    await readMultipart(body, contentType, values, uploads);
  } else {
    for (const [key, value] of new URLSearchParams(body.toString('utf8'))) values.set(key, value);
  }
  return new Params(values, uploads);
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks);
}

function parseJsonObject(body: Buffer): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw badRequest("can't parse JSON object");
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw badRequest("can't parse JSON object");
  }
  return parsed as Record<string, unknown>;
}

async function readMultipart(
  body: Buffer,
  contentType: string,
  values: Map<string, unknown>,
  uploads: Array<[string, Upload]>,
): Promise<void> {
  let form: FormData;
  try {
    form = await new Request('http://emulator.local/', {
      method: 'POST',
      headers: { 'content-type': contentType },
      body,
    }).formData();
  } catch {
    throw badRequest("can't parse multipart/form-data body");
  }
  for (const [key, value] of form) {
    if (typeof value === 'string') {
      values.set(key, value);
    } else {
      uploads.push([
        key,
        {
          bytes: Buffer.from(await value.arrayBuffer()),
          fileName: value.name,
          // Telegraf sends parts without a content type; an empty or generic one tells us nothing.
          ...(value.type && value.type !== 'application/octet-stream' ? { mimeType: value.type } : {}),
        },
      ]);
    }
  }
}
