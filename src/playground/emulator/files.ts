// In-memory file storage: file ids, paths for getFile/download, and the Telegram objects describing them.
import { randomBytes } from 'node:crypto';
import type { FileStoreDump } from './dump.js';
import type { PhotoSize, TgDocument, TgSticker, TgVideo, TgVoice } from './types.js';

export type FileKind = 'photo' | 'document' | 'voice' | 'video' | 'sticker';

export interface StoredFile {
  fileId: string;
  fileUniqueId: string;
  kind: FileKind;
  bytes: Buffer;
  filePath: string;
  fileName?: string;
  mimeType?: string;
  /** For photos: every size of the photo this file belongs to, smallest first. */
  photoSizes?: PhotoSize[];
  width?: number;
  height?: number;
  duration?: number;
}

export interface FileMeta {
  fileName?: string;
  mimeType?: string;
  width?: number;
  height?: number;
  duration?: number;
}

const DIRECTORIES: Record<FileKind, string> = {
  photo: 'photos',
  document: 'documents',
  voice: 'voice',
  video: 'videos',
  sticker: 'stickers',
};
const DEFAULT_EXTENSIONS: Record<FileKind, string> = {
  photo: 'jpg',
  document: 'dat',
  voice: 'oga',
  video: 'mp4',
  sticker: 'webp',
};
// Prefixes mimic real file ids closely enough for a human to tell kinds apart.
const ID_PREFIXES: Record<FileKind, string> = {
  photo: 'AgACAgIAAxkBAA',
  document: 'BQACAgIAAxkBAA',
  voice: 'AwACAgIAAxkBAA',
  video: 'BAACAgIAAxkBAA',
  sticker: 'CAACAgIAAxkBAA',
};
const THUMBNAIL_SIDE = 90;

export class FileStore {
  private readonly byId = new Map<string, StoredFile>();
  private readonly byPath = new Map<string, StoredFile>();
  private counter = 0;

  get(fileId: string): StoredFile | undefined {
    return this.byId.get(fileId);
  }

  getByPath(filePath: string): StoredFile | undefined {
    return this.byPath.get(filePath);
  }

  /** Stores a non-photo file. */
  add(kind: Exclude<FileKind, 'photo'>, bytes: Buffer, meta: FileMeta = {}): StoredFile {
    return this.store(kind, bytes, meta);
  }

  /** Stores a photo as two sizes (a thumbnail and the original) sharing the same bytes, like Telegram's arrays. */
  addPhoto(bytes: Buffer, width: number, height: number): StoredFile {
    const scale = Math.min(1, THUMBNAIL_SIDE / Math.max(width, height));
    const thumb = this.store('photo', bytes, {
      width: Math.max(1, Math.round(width * scale)),
      height: Math.max(1, Math.round(height * scale)),
    });
    const full = this.store('photo', bytes, { width, height });
    const sizes = [thumb, full].map((file) => photoSize(file));
    thumb.photoSizes = sizes;
    full.photoSizes = sizes;
    return full;
  }

  dump(): FileStoreDump {
    return { counter: this.counter, files: [...this.byId.values()].map((file) => ({ ...file })) };
  }

  /** Replaces every stored file with the dumped ones (an empty dump clears the store). */
  restore(dump: FileStoreDump): void {
    this.byId.clear();
    this.byPath.clear();
    this.counter = dump.counter;
    for (const file of dump.files) {
      this.byId.set(file.fileId, file);
      this.byPath.set(file.filePath, file);
    }
  }

  private store(kind: FileKind, bytes: Buffer, meta: FileMeta): StoredFile {
    this.counter += 1;
    const extension = extensionOf(meta.fileName) ?? DEFAULT_EXTENSIONS[kind];
    const file: StoredFile = {
      fileId: ID_PREFIXES[kind] + randomBytes(48).toString('base64url'),
      fileUniqueId: 'AQAD' + randomBytes(9).toString('base64url'),
      kind,
      bytes,
      filePath: `${DIRECTORIES[kind]}/file_${this.counter}.${extension}`,
      ...meta,
    };
    this.byId.set(file.fileId, file);
    this.byPath.set(file.filePath, file);
    return file;
  }
}

function photoSize(file: StoredFile): PhotoSize {
  return {
    file_id: file.fileId,
    file_unique_id: file.fileUniqueId,
    file_size: file.bytes.length,
    width: file.width ?? 0,
    height: file.height ?? 0,
  };
}

export function documentOf(file: StoredFile): TgDocument {
  return {
    file_id: file.fileId,
    file_unique_id: file.fileUniqueId,
    ...(file.fileName !== undefined ? { file_name: file.fileName } : {}),
    ...(file.mimeType !== undefined ? { mime_type: file.mimeType } : {}),
    file_size: file.bytes.length,
  };
}

export function voiceOf(file: StoredFile): TgVoice {
  return {
    file_id: file.fileId,
    file_unique_id: file.fileUniqueId,
    duration: file.duration ?? 1,
    mime_type: file.mimeType ?? 'audio/ogg',
    file_size: file.bytes.length,
  };
}

export function videoOf(file: StoredFile): TgVideo {
  return {
    file_id: file.fileId,
    file_unique_id: file.fileUniqueId,
    width: file.width ?? 640,
    height: file.height ?? 360,
    duration: file.duration ?? 1,
    ...(file.fileName !== undefined ? { file_name: file.fileName } : {}),
    mime_type: file.mimeType ?? 'video/mp4',
    file_size: file.bytes.length,
  };
}

export function stickerOf(file: StoredFile): TgSticker {
  return {
    file_id: file.fileId,
    file_unique_id: file.fileUniqueId,
    type: 'regular',
    width: file.width ?? 512,
    height: file.height ?? 512,
    is_animated: false,
    is_video: false,
    emoji: '👍',
    file_size: file.bytes.length,
  };
}

function extensionOf(fileName: string | undefined): string | undefined {
  const match = fileName ? /\.([A-Za-z0-9]{1,8})$/.exec(fileName) : null;
  return match?.[1]?.toLowerCase();
}

const MIME_TYPES: Record<string, string> = {
  pdf: 'application/pdf',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  heic: 'image/heic',
  txt: 'text/plain',
  csv: 'text/csv',
  json: 'application/json',
  zip: 'application/zip',
  doc: 'application/msword',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xls: 'application/vnd.ms-excel',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  mp4: 'video/mp4',
  mp3: 'audio/mpeg',
  ogg: 'audio/ogg',
  oga: 'audio/ogg',
};

/** Telegram derives a document's MIME type from its file name. */
export function mimeTypeFor(fileName: string | undefined): string | undefined {
  const extension = extensionOf(fileName);
  return extension === undefined ? undefined : MIME_TYPES[extension];
}

export interface ImageSize {
  width: number;
  height: number;
}

/** Recognises JPEG, PNG, GIF and WebP and reads their pixel size; undefined for anything else. */
export function sniffImage(bytes: Buffer): ImageSize | undefined {
  if (bytes.length >= 24 && bytes.readUInt32BE(0) === 0x89504e47) {
    return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
  }
  if (bytes.length >= 10 && bytes.toString('ascii', 0, 4) === 'GIF8') {
    return { width: bytes.readUInt16LE(6), height: bytes.readUInt16LE(8) };
  }
  if (bytes.length >= 30 && bytes.toString('ascii', 0, 4) === 'RIFF' && bytes.toString('ascii', 8, 12) === 'WEBP') {
    return webpSize(bytes);
  }
  if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8) return jpegSize(bytes);
  return undefined;
}

function webpSize(bytes: Buffer): ImageSize {
  const chunk = bytes.toString('ascii', 12, 16);
  if (chunk === 'VP8X') return { width: 1 + bytes.readUIntLE(24, 3), height: 1 + bytes.readUIntLE(27, 3) };
  if (chunk === 'VP8L') {
    const bits = bytes.readUInt32LE(21);
    return { width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 };
  }
  return { width: bytes.readUInt16LE(26) & 0x3fff, height: bytes.readUInt16LE(28) & 0x3fff };
}

function jpegSize(bytes: Buffer): ImageSize | undefined {
  let offset = 2;
  while (offset + 9 < bytes.length) {
    if (bytes[offset] !== 0xff) return undefined;
    const marker = bytes[offset + 1] ?? 0;
    const length = bytes.readUInt16BE(offset + 2);
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the frame size.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: bytes.readUInt16BE(offset + 5), width: bytes.readUInt16BE(offset + 7) };
    }
    offset += 2 + length;
  }
  return undefined;
}
