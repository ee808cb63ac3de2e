// Keeps the playground's emulated Telegram (users, chats, files) in DATA_DIR/playground across restarts,
// so chats and ids still match the database: state.json (written on change) and files/<sha256>.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../logger.js';
import type { EmulatorDump } from './emulator/index.js';

export interface PlaygroundSave {
  /** The emulated user who is the playground's operator. */
  readonly operatorId: number;
  readonly emulator: EmulatorDump;
}

type StoredFileDump = EmulatorDump['files']['files'][number];
/** A file as written to state.json: its bytes live in files/<sha256>. */
type FileRef = Omit<StoredFileDump, 'bytes'> & { sha256: string };
interface SavedFile {
  version: 1;
  savedAt: string;
  operatorId: number;
  emulator: Omit<EmulatorDump, 'files'> & { files: { counter: number; files: FileRef[] } };
}

const DEBOUNCE_MS = 200;

export class PlaygroundStore {
  readonly dir: string;
  private readonly stateFile: string;
  private readonly filesDir: string;
  /** Blobs known to be on disk. */
  private readonly written = new Set<string>();
  private readonly hashes = new WeakMap<Buffer, string>();
  private timer: NodeJS.Timeout | undefined;
  private saving: Promise<void> = Promise.resolve();
  private paused = false;
  private closed = false;

  constructor(
    dataDir: string,
    private readonly source: () => PlaygroundSave,
    private readonly logger: Logger,
  ) {
    this.dir = path.join(dataDir, 'playground');
    this.stateFile = path.join(this.dir, 'state.json');
    this.filesDir = path.join(this.dir, 'files');
  }

  /** What an earlier run saved, or undefined (nothing saved, or unreadable: logged, and the run starts clean). */
  async load(): Promise<PlaygroundSave | undefined> {
    let text: string;
    try {
      text = await readFile(this.stateFile, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    let saved: SavedFile;
    try {
      saved = JSON.parse(text) as SavedFile;
      if (saved.version !== 1 || typeof saved.operatorId !== 'number') throw new Error(`unknown format (version ${String(saved.version)})`);
    } catch (error) {
      this.logger.warn({ file: this.stateFile, err: error }, 'playground state unreadable: starting with empty chats');
      return undefined;
    }
    for (const name of await readdir(this.filesDir).catch(() => [])) this.written.add(name);
    const files: StoredFileDump[] = [];
    for (const { sha256, ...meta } of saved.emulator.files.files) {
      const bytes = await readFile(path.join(this.filesDir, sha256)).catch(() => {
        this.logger.warn({ fileId: meta.fileId }, 'playground file missing: it stays empty');
        return Buffer.alloc(0);
      });
      this.hashes.set(bytes, sha256);
      files.push({ ...meta, bytes });
    }
    return { operatorId: saved.operatorId, emulator: { ...saved.emulator, files: { counter: saved.emulator.files.counter, files } } };
  }

  /** Saves soon (changes come in bursts: one write per burst). */
  schedule(): void {
    if (this.paused || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.save();
    }, DEBOUNCE_MS);
    this.timer.unref();
  }

  /** Saves now and waits for every write to finish. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.paused) await this.save();
    else await this.saving;
  }

  /** A last save; nothing is written after it. */
  async close(): Promise<void> {
    await this.flush();
    this.paused = true;
    this.closed = true;
  }

  /** Deletes everything saved; nothing is written until {@link resume}. */
  async wipe(): Promise<void> {
    this.paused = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.saving;
    await rm(this.dir, { recursive: true, force: true });
    this.written.clear();
  }

  resume(): void {
    this.paused = this.closed;
  }

  private save(): Promise<void> {
    this.saving = this.saving
      .then(() => this.write())
      .catch((error: unknown) => this.logger.error({ err: error }, 'playground state not saved'));
    return this.saving;
  }

  private async write(): Promise<void> {
    const { operatorId, emulator } = this.source();
    await mkdir(this.filesDir, { recursive: true });
    const refs: FileRef[] = [];
    for (const { bytes, ...meta } of emulator.files.files) {
      const sha256 = this.hashOf(bytes);
      if (!this.written.has(sha256)) {
        await writeFile(path.join(this.filesDir, sha256), bytes);
        this.written.add(sha256);
      }
      refs.push({ ...meta, sha256 });
    }
    const saved: SavedFile = {
      version: 1,
      savedAt: new Date().toISOString(),
      operatorId,
      emulator: { ...emulator, files: { counter: emulator.files.counter, files: refs } },
    };
    // Write then rename: a crash mid-write never leaves half a file.
    const temporary = `${this.stateFile}.tmp`;
    await writeFile(temporary, JSON.stringify(saved));
    await rename(temporary, this.stateFile);
  }

  private hashOf(bytes: Buffer): string {
    let hash = this.hashes.get(bytes);
    if (!hash) {
      hash = createHash('sha256').update(bytes).digest('hex');
      this.hashes.set(bytes, hash);
    }
    return hash;
  }
}
