/**
 * The archive of one request or one client: a ZIP with `answers.json`, `answers.csv` and the files the
 * client sent, one per answer, named by flow, step and round (see docs/export.md).
 */
import { pickText, type Locale, type RequestDefinition } from '../../machines/definition.js';
import type { StepValue } from '../../machines/steps.js';
import { ANSWER_COLUMNS, stepLabelOf, stepOf, toCsv } from './csv.js';
import type { ExportAnswer, ExportFlow, ExportPerson } from './store.js';
import { answerText, fullName, isoUtc } from './values.js';
import { zip, type ZipEntry } from './zip.js';

/** Downloads a file the bot received, by `file_id`. Throws {@link DownloadError} with a reason safe to show. */
export type Downloader = (fileId: string) => Promise<Buffer>;

/** A file that could not be downloaded; the message never holds the file's URL (it holds the token). */
export class DownloadError extends Error {
  override name = 'DownloadError';
}

export interface Archive {
  readonly bytes: Buffer;
  readonly requests: number;
  readonly answers: number;
  /** Files in the archive. */
  readonly files: number;
  /** Files that should have been in it but could not be downloaded (listed in answers.json). */
  readonly missing: number;
  /** False when no downloader was given: the archive holds answers only. */
  readonly filesIncluded: boolean;
}

type FileValue = Extract<StepValue, { kind: 'file' }>;

interface FileRecord {
  readonly media: FileValue['media'];
  readonly file_unique_id: string;
  readonly mime_type: string | null;
  readonly size: number | null;
  readonly file_name: string | null;
  /** Where the file is in the archive; null when it is not. */
  path: string | null;
  /** Why it is not (files not included, or the download failed). */
  missing?: string;
}

const MIME_EXTENSIONS: Readonly<Record<string, string>> = {
  'application/pdf': 'pdf',
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
  'image/heic': 'heic',
  'text/plain': 'txt',
};

/** Builds the archive; with `download` the files are fetched one after another and put in it. */
export async function buildArchive(input: {
  readonly flows: readonly ExportFlow[];
  readonly answers: readonly ExportAnswer[];
  readonly catalogue: ReadonlyMap<string, RequestDefinition>;
  readonly locale: Locale;
  readonly now: Date;
  readonly download: Downloader | null;
}): Promise<Archive> {
  const { locale } = input;
  const byFlow = new Map<number, ExportAnswer[]>();
  for (const answer of input.answers) {
    const list = byFlow.get(answer.flowId) ?? [];
    list.push(answer);
    byFlow.set(answer.flowId, list);
  }
  const entries: ZipEntry[] = [];
  const used = new Set<string>();
  const csvRows: string[][] = [[...ANSWER_COLUMNS]];
  let files = 0;
  let missing = 0;
  const requests = [];
  for (const flow of input.flows) {
    const current = input.catalogue.get(flow.requestId);
    const title = pickText(flow.definition.title, locale);
    const answers = [];
    for (const answer of byFlow.get(flow.id) ?? []) {
      const step = stepOf(flow.definition, current, answer.stepId);
      const text = answerText(step, answer.value, locale);
      const label = stepLabelOf(step, answer.stepId, locale);
      let file: FileRecord | undefined;
      if (answer.value.kind === 'file') {
        file = fileRecord(answer.value);
        if (!input.download) {
          file.missing = 'files not included';
        } else {
          try {
            const bytes = await input.download(answer.fileId ?? answer.value.fileId);
            const name = uniqueName(
              used,
              `files/${flow.id}_${safe(flow.requestId)}/${safe(answer.stepId)}_round${answer.round}`,
              extensionOf(answer.value),
            );
            entries.push({ name, bytes, mtime: answer.createdAt, compress: false });
            file.path = name;
            files++;
          } catch (error) {
            file.missing = error instanceof DownloadError ? error.message : 'download failed';
            missing++;
          }
        }
      }
      answers.push({
        step_id: answer.stepId,
        step_label: label,
        round: answer.round,
        status: answer.status,
        answer: text,
        value: answer.value,
        answered_at: isoUtc(answer.createdAt),
        ...(file ? { file } : {}),
      });
      csvRows.push([
        String(flow.id),
        flow.requestId,
        title,
        answer.stepId,
        label,
        String(answer.round),
        answer.status,
        text,
        file?.path ?? '',
        isoUtc(answer.createdAt),
      ]);
    }
    requests.push({
      flow_id: flow.id,
      request_id: flow.requestId,
      request_title: title,
      status: flow.status,
      client: person(flow.clientId, flow.client, true),
      operator: person(flow.operatorId, flow.operator, false),
      created_at: isoUtc(flow.createdAt),
      finished_at: flow.finishedAt ? isoUtc(flow.finishedAt) : null,
      answers,
    });
  }
  const json = { exported_at: isoUtc(input.now), files_included: input.download !== null, requests };
  entries.unshift(
    { name: 'answers.json', bytes: Buffer.from(`${JSON.stringify(json, null, 2)}\n`, 'utf8'), mtime: input.now, compress: true },
    { name: 'answers.csv', bytes: toCsv(csvRows), mtime: input.now, compress: true },
  );
  return {
    bytes: await zip(entries),
    requests: input.flows.length,
    answers: input.answers.length,
    files,
    missing,
    filesIncluded: input.download !== null,
  };
}

function person(id: number, row: ExportPerson | null, withUsername: boolean) {
  return { id, name: fullName(row), ...(withUsername ? { username: row?.username ?? null } : {}) };
}

function fileRecord(value: FileValue): FileRecord {
  return {
    media: value.media,
    file_unique_id: value.fileUniqueId,
    mime_type: value.mimeType ?? null,
    size: value.size ?? null,
    file_name: value.fileName ?? null,
    path: null,
  };
}

function extensionOf(value: FileValue): string {
  if (value.media === 'photo') return 'jpg';
  const fromName = /\.([A-Za-z0-9]{1,8})$/.exec(value.fileName ?? '')?.[1];
  if (fromName) return fromName.toLowerCase();
  return MIME_EXTENSIONS[value.mimeType ?? ''] ?? 'bin';
}

/** Ids are `[a-z0-9_]` in the catalogue; anything else in a path becomes `_`. */
function safe(part: string): string {
  return part.replace(/[^A-Za-z0-9_-]/g, '_');
}

/** `base.ext`, or `base_2.ext`, `base_3.ext`… when a step was answered twice in one round. */
function uniqueName(used: Set<string>, base: string, extension: string): string {
  let name = `${base}.${extension}`;
  for (let n = 2; used.has(name); n++) name = `${base}_${n}.${extension}`;
  used.add(name);
  return name;
}
