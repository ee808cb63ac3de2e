import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import { z } from 'zod';
import {
  GENDERS,
  LOCALES,
  STEP_TYPES,
  type Locale,
  type RequestDefinition,
  type StepDefinition,
  type StepType,
  type Text,
} from '../../machines/definition.js';
import { catalogueId, defined, localized, type Localized } from '../../machines/step-types/base.js';
import { STEP_TYPE_REGISTRY } from '../../machines/step-types/index.js';

/** A validated catalogue: request types by id, in file order. */
export interface Catalogue {
  readonly version: 1;
  readonly defaultLocale: Locale;
  readonly requests: readonly RequestDefinition[];
  readonly byId: ReadonlyMap<string, RequestDefinition>;
  /** Ask-again reasons by request id (`reasons`), for the requests that list their own. */
  readonly reasons?: ReadonlyMap<string, readonly Text[]>;
  /** Ask-again reasons by step type (`defaults.reasons`), replacing the built-in ones of those types. */
  readonly defaultReasons?: Partial<Record<StepType, readonly Text[]>>;
}

/** One problem in a catalogue file, with where it is. */
export interface CatalogueProblem {
  readonly path: string;
  readonly line: number | null;
  readonly message: string;
}

/** Thrown with every problem of a catalogue at once. */
export class CatalogueError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly CatalogueProblem[],
  ) {
    super(
      `${file}: ${problems.length} problem(s) in the request catalogue:\n${problems.map((p) => `  ${formatProblem(file, p)}`).join('\n')}`,
    );
    this.name = 'CatalogueError';
  }
}

/**
 * The stable reference a button carries for a request type: a 31-bit FNV-1a hash of its id (an integer,
 * as callback data wants). It names the type, not its place in the file, so reordering, adding or
 * removing other entries never redirects a button; the loader refuses two ids with one reference.
 */
export function requestRef(id: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(id, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) & 0x7fffffff;
}

/** The request type a button's reference stands for in this catalogue, or undefined (stale). */
export function requestByRef(catalogue: Catalogue, ref: number): RequestDefinition | undefined {
  return catalogue.requests.find((request) => requestRef(request.id) === ref);
}

export function formatProblem(file: string, problem: CatalogueProblem): string {
  const where = problem.line === null ? file : `${file}:${problem.line}`;
  return problem.path === '' ? `${where}: ${problem.message}` : `${where} ${problem.path}: ${problem.message}`;
}

// ---------------------------------------------------------------------------------------------
// Schema (the YAML shape, snake_case as ops staff write it)

const durationPattern = /^(\d+)\s*(s|m|h|d|w)$/;
const duration = z.union([
  z.literal(null),
  z.literal('never'),
  z.string().regex(durationPattern, 'a duration such as 30m, 24h, 3d or 2w (or "never")'),
]);

const id = catalogueId;

const common = {
  id,
  prompt: localized,
  label: localized.optional(),
  optional: z.boolean().optional(),
  max_attempts: z.int().min(1).max(100).optional(),
};

/** One schema per step type: the common keys, its `type`, and the keys its registry entry accepts. */
const [firstStepSchema, ...otherStepSchemas] = STEP_TYPES.map((type) =>
  z.strictObject({ ...common, type: z.literal(type), ...STEP_TYPE_REGISTRY[type].catalogue }),
);
const stepSchema = z.discriminatedUnion('type', [firstStepSchema!, ...otherStepSchemas]);
type StepInput = z.infer<typeof stepSchema>;

const requestSchema = z.strictObject({
  id,
  title: localized,
  /** The title's grammatical gender where a language has one: Russian texts agree with it. */
  gender: z.strictObject({ ru: z.enum(GENDERS, 'one of m (masculine), f (feminine), n (neuter), pl (plural)').optional() }).optional(),
  description: localized.optional(),
  review: z.boolean().optional(),
  confirm: z.boolean().optional(),
  client_cancel: z.boolean().optional(),
  /** Ask-again reasons offered for this request (else the defaults of its steps' types). */
  reasons: z.array(localized).min(1).max(20).optional(),
  remind_after: duration.optional(),
  expire_after: duration.optional(),
  steps: z.array(stepSchema).min(1, 'a request needs at least one step'),
});

const catalogueSchema = z.strictObject({
  version: z.literal(1, 'the only catalogue format is version: 1'),
  defaults: z
    .strictObject({
      locale: z.enum(LOCALES).optional(),
      max_attempts: z.int().min(1).max(100).optional(),
      remind_after: duration.optional(),
      expire_after: duration.optional(),
      reasons: z.partialRecord(z.enum(STEP_TYPES), z.array(localized).min(1).max(20)).optional(),
    })
    .optional(),
  requests: z.array(requestSchema).min(1, 'the catalogue needs at least one request'),
});
type CatalogueInput = z.infer<typeof catalogueSchema>;

// ---------------------------------------------------------------------------------------------
// Loading

/** Reads, validates and normalises a catalogue file. Throws {@link CatalogueError}. */
export async function loadCatalogueFile(file: string): Promise<Catalogue> {
  let source: string;
  try {
    source = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CatalogueError(file, [
      {
        path: '',
        line: null,
        message: code === 'ENOENT' ? 'file not found (set CATALOGUE_PATH)' : `cannot read: ${code ?? String(error)}`,
      },
    ]);
  }
  return parseCatalogue(source, file);
}

/** Validates and normalises catalogue YAML text. `file` is only used in messages. */
export function parseCatalogue(source: string, file = 'catalogue.yaml'): Catalogue {
  const lines = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const lineOf = (offset: number): number => lines.linePos(offset).line;
  if (doc.errors.length > 0) {
    throw new CatalogueError(
      file,
      doc.errors.map((e) => ({ path: '', line: lineOf(e.pos[0]), message: `YAML: ${e.message.split('\n')[0] ?? e.message}` })),
    );
  }
  const raw: unknown = doc.toJS();
  const lineAtPath = (path: readonly (string | number)[]) => lineAt(doc, path, lineOf);
  const duplicates = duplicateIds(raw, lineAtPath);
  const parsed = catalogueSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue): CatalogueProblem => {
      const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
      if (issue.code === 'unrecognized_keys') {
        const key = issue.keys[0] ?? '';
        return {
          path: formatPath([...path, key]),
          line: lineAt(doc, [...path, key], lineOf),
          message: `unknown key${issue.keys.length > 1 ? `s ${issue.keys.join(', ')}` : ''}${describeAllowed(issue.path.length)}`,
        };
      }
      return { path: formatPath(path), line: lineAt(doc, path, lineOf), message: humanize(issue) };
    });
    throw new CatalogueError(file, sortProblems([...problems, ...duplicates]));
  }
  const problems = [...duplicates, ...crossCheck(parsed.data, lineAtPath)];
  if (problems.length > 0) throw new CatalogueError(file, sortProblems(problems));
  return normalise(parsed.data);
}

function sortProblems(problems: CatalogueProblem[]): CatalogueProblem[] {
  return problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
}

function describeAllowed(depth: number): string {
  return depth === 0 ? ' (allowed: version, defaults, requests)' : '';
}

function humanize(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_union' && 'discriminator' in issue) {
    return `expected one of ${STEP_TYPES.join(', ')}`;
  }
  if (issue.code === 'invalid_union') return 'expected a text or a map of locales ({ ru: …, en: … })';
  return issue.message.replace(/^Invalid input: /, '');
}

function formatPath(path: readonly (string | number)[]): string {
  return path.reduce<string>((acc, part) => (typeof part === 'number' ? `${acc}[${part}]` : acc === '' ? part : `${acc}.${part}`), '');
}

function lineAt(doc: Document, path: readonly (string | number)[], lineOf: (offset: number) => number): number | null {
  // Walk up until a node exists: a missing key is reported at its parent.
  for (let depth = path.length; depth >= 0; depth--) {
    const sub = path.slice(0, depth);
    const node = sub.length === 0 ? doc.contents : doc.getIn(sub, true);
    if (isNode(node) && node.range) return lineOf(node.range[0]);
  }
  return null;
}

function crossCheck(input: CatalogueInput, lineOf: (path: readonly (string | number)[]) => number | null): CatalogueProblem[] {
  const problems: CatalogueProblem[] = [];
  const add = (path: (string | number)[], message: string) => problems.push({ path: formatPath(path), line: lineOf(path), message });
  const refs = new Map<number, string>();
  input.requests.forEach((request, r) => {
    const ref = requestRef(request.id);
    const other = refs.get(ref);
    if (other !== undefined && other !== request.id)
      add(['requests', r, 'id'], `"${request.id}" and "${other}" would share one button reference; rename one of them`);
    refs.set(ref, request.id);
    request.steps.forEach((step, s) => {
      for (const problem of STEP_TYPE_REGISTRY[step.type].check(step)) add(['requests', r, 'steps', s, ...problem.path], problem.message);
    });
  });
  return problems;
}

/** Duplicate ids, checked on the raw document so they are reported together with schema errors. */
function duplicateIds(raw: unknown, lineOf: (path: readonly (string | number)[]) => number | null): CatalogueProblem[] {
  const problems: CatalogueProblem[] = [];
  const idsOf = (list: unknown, path: (string | number)[], what: string) => {
    if (!Array.isArray(list)) return;
    const seen = new Map<string, number>();
    list.forEach((item: unknown, i) => {
      const itemId = item !== null && typeof item === 'object' && 'id' in item ? item.id : undefined;
      if (typeof itemId !== 'string') return;
      const first = seen.get(itemId);
      const at = [...path, i, 'id'];
      if (first === undefined) seen.set(itemId, i);
      else
        problems.push({
          path: formatPath(at),
          line: lineOf(at),
          message: `duplicate ${what} id "${itemId}" (first at ${formatPath([...path, first])})`,
        });
    });
  };
  const requests = raw !== null && typeof raw === 'object' && 'requests' in raw ? raw.requests : undefined;
  idsOf(requests, ['requests'], 'request');
  if (Array.isArray(requests)) {
    requests.forEach((request: unknown, r) => {
      if (request !== null && typeof request === 'object' && 'steps' in request) idsOf(request.steps, ['requests', r, 'steps'], 'step');
    });
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Normalisation

function normalise(input: CatalogueInput): Catalogue {
  const defaultLocale = input.defaults?.locale ?? 'ru';
  const text = (value: Localized): Text => {
    if (typeof value === 'string') return { ru: value, en: value };
    const fallback = value[defaultLocale] ?? value.ru ?? value.en ?? '';
    return { ru: value.ru ?? fallback, en: value.en ?? fallback };
  };
  const maxAttempts = input.defaults?.max_attempts ?? 3;
  const remindDefault = input.defaults?.remind_after ?? '24h';
  const expireDefault = input.defaults?.expire_after ?? '72h';
  const requests = input.requests.map((request) => {
    const body: Omit<RequestDefinition, 'hash'> = {
      id: request.id,
      title: text(request.title),
      ...(request.gender?.ru !== undefined ? { gender: { ru: request.gender.ru } } : {}),
      ...(request.description !== undefined ? { description: text(request.description) } : {}),
      review: request.review ?? false,
      confirm: request.confirm ?? false,
      clientCancel: request.client_cancel ?? false,
      remindAfterMs: durationMs(request.remind_after ?? remindDefault),
      expireAfterMs: durationMs(request.expire_after ?? expireDefault),
      steps: request.steps.map((step) => normaliseStep(step, text, maxAttempts)),
    };
    return { ...body, hash: contentHash(body) };
  });
  const reasons = new Map(input.requests.flatMap((r) => (r.reasons ? [[r.id, r.reasons.map(text)] as const] : [])));
  const defaultReasons = Object.fromEntries(
    Object.entries(input.defaults?.reasons ?? {}).map(([type, list]) => [type, (list ?? []).map(text)]),
  ) as Partial<Record<StepType, readonly Text[]>>;
  return { version: 1, defaultLocale, requests, byId: new Map(requests.map((r) => [r.id, r])), reasons, defaultReasons };
}

function normaliseStep(step: StepInput, text: (value: Localized) => Text, maxAttempts: number): StepDefinition {
  const base = {
    id: step.id,
    type: step.type,
    prompt: text(step.prompt),
    optional: step.optional ?? false,
    maxAttempts: step.max_attempts ?? maxAttempts,
    ...(step.label !== undefined ? { label: text(step.label) } : {}),
  };
  return { ...base, ...defined(STEP_TYPE_REGISTRY[step.type].normalise(step, { text })) };
}

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** `"24h"` → milliseconds; `null`/`"never"` → null. */
export function durationMs(value: string | null): number | null {
  if (value === null || value === 'never') return null;
  const match = durationPattern.exec(value);
  if (!match) throw new Error(`not a duration: ${value}`);
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

/** sha256 of the canonical JSON (sorted keys) of a value. */
export function contentHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
