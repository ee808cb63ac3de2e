import { ZipFile } from 'yazl';

export interface ZipEntry {
  /** Path inside the archive, with `/`. */
  readonly name: string;
  readonly bytes: Buffer;
  readonly mtime: Date;
  /** Deflate it (text); files that are compressed already (photos, PDFs) are stored as they are. */
  readonly compress: boolean;
}

/** A ZIP file of the entries, in memory. */
export function zip(entries: readonly ZipEntry[]): Promise<Buffer> {
  const file = new ZipFile();
  for (const entry of entries) file.addBuffer(entry.bytes, entry.name, { mtime: entry.mtime, compress: entry.compress });
  file.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    file.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk));
    file.outputStream.on('error', reject);
    file.on('error', reject);
    file.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
  });
}
