// InputFile resolution: a multipart upload, an attach:// reference, an HTTP URL to fetch, or an existing file_id.
import { badRequest } from '../errors.js';
import {
  documentOf,
  mimeTypeFor,
  sniffImage,
  stickerOf,
  videoOf,
  voiceOf,
  type FileKind,
  type FileMeta,
  type FileStore,
  type StoredFile,
} from '../files.js';
import type { Params, Upload } from '../params.js';
import type { MessageContent } from '../types.js';

const URL_FETCH_TIMEOUT_MS = 10_000;

/** Resolves the InputFile in parameter `field` (e.g. "photo" for sendPhoto). */
export async function resolveInputFile(
  files: FileStore,
  kind: FileKind,
  params: Params,
  field: string,
  meta: FileMeta = {},
): Promise<StoredFile> {
  const upload = params.upload(field);
  if (upload) return storeUpload(files, kind, upload, meta);
  const reference = params.string(field);
  if (reference === undefined || reference === '') throw badRequest(`there is no ${kind} in the request`);
  return resolveReference(files, kind, reference, params, meta);
}

/** Resolves a string InputFile: attach://name, http(s) URL, or file_id. */
export async function resolveReference(
  files: FileStore,
  kind: FileKind,
  reference: string,
  params: Params,
  meta: FileMeta = {},
): Promise<StoredFile> {
  if (reference.startsWith('attach://')) {
    const upload = params.upload(reference.slice('attach://'.length));
    if (!upload) throw badRequest('media not found');
    return storeUpload(files, kind, upload, meta);
  }
  if (/^https?:\/\//i.test(reference)) return storeUpload(files, kind, await download(reference), meta);
  const file = files.get(reference);
  if (!file) throw badRequest('wrong file identifier/HTTP URL specified');
  if (file.kind !== kind) throw badRequest('type of file mismatch');
  return file;
}

/** The message content field describing a file of the given kind. */
export function fileContent(file: StoredFile): MessageContent {
  switch (file.kind) {
    case 'photo':
      return { photo: structuredClone(file.photoSizes ?? []) };
    case 'document':
      return { document: documentOf(file) };
    case 'voice':
      return { voice: voiceOf(file) };
    case 'video':
      return { video: videoOf(file) };
    case 'sticker':
      return { sticker: stickerOf(file) };
  }
}

function storeUpload(files: FileStore, kind: FileKind, upload: Upload, meta: FileMeta): StoredFile {
  if (upload.bytes.length === 0) throw badRequest('file must be non-empty');
  if (kind === 'photo') {
    const size = sniffImage(upload.bytes);
    if (!size) throw badRequest('IMAGE_PROCESS_FAILED');
    return files.addPhoto(upload.bytes, size.width, size.height);
  }
  const mimeType = kind === 'document' ? (mimeTypeFor(upload.fileName) ?? upload.mimeType) : upload.mimeType;
  return files.add(kind, upload.bytes, {
    fileName: upload.fileName,
    ...(mimeType !== undefined ? { mimeType } : {}),
    ...(kind === 'sticker' ? sniffImage(upload.bytes) : {}),
    ...meta,
  });
}

async function download(url: string): Promise<Upload> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(URL_FETCH_TIMEOUT_MS) });
  } catch {
    throw badRequest('wrong file identifier/HTTP URL specified');
  }
  if (!response.ok) throw badRequest('wrong file identifier/HTTP URL specified');
  const bytes = Buffer.from(await response.arrayBuffer());
  const fileName = new URL(url).pathname.split('/').pop() || 'file';
  const mimeType = response.headers.get('content-type')?.split(';')[0]?.trim();
  return { bytes, fileName, ...(mimeType ? { mimeType } : {}) };
}
