import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CatalogueError, durationMs, loadCatalogueFile, parseCatalogue, type CatalogueProblem } from '../../src/config/catalogue.js';

const run = promisify(execFile);

function problemsOf(yaml: string): CatalogueProblem[] {
  try {
    parseCatalogue(yaml, 'c.yaml');
  } catch (error) {
    if (error instanceof CatalogueError) return [...error.problems];
    throw error;
  }
  throw new Error('expected a CatalogueError');
}

const minimal = (steps: string, extra = '') => `version: 1
requests:
  - id: r
    title: R${extra}
    steps:
${steps}`;

describe('the default catalogue', () => {
  it('loads with the shipped request types', async () => {
    const catalogue = await loadCatalogueFile('config/catalogue.yaml');
    expect(catalogue.requests.map((r) => r.id)).toEqual([
      'passport_photo',
      'personal_data',
      'proof_of_address',
      'selfie_with_document',
      'signed_contract',
      'contact_details',
      'delivery_address',
    ]);
    const personal = catalogue.byId.get('personal_data');
    expect(personal).toMatchObject({ confirm: true, review: true, remindAfterMs: 86_400_000, expireAfterMs: 259_200_000 });
    expect(personal?.steps.map((s) => [s.id, s.type])).toEqual([
      ['full_name', 'text'],
      ['city', 'text'],
      ['birth_date', 'date'],
    ]);
    expect(personal?.steps[2]).toMatchObject({ minAge: 14, maxAge: 120, maxAttempts: 3 });
    expect(catalogue.byId.get('passport_photo')?.title).toEqual({ ru: 'Фото паспорта', en: 'Passport photo' });
    expect(catalogue.byId.get('signed_contract')?.expireAfterMs).toBe(7 * 86_400_000);
    // Every shipped title says how Russian texts agree with it.
    expect(catalogue.requests.map((r) => [r.id, r.gender?.ru])).toEqual([
      ['passport_photo', 'n'],
      ['personal_data', 'pl'],
      ['proof_of_address', 'n'],
      ['selfie_with_document', 'n'],
      ['signed_contract', 'm'],
      ['contact_details', 'pl'],
      ['delivery_address', 'm'],
    ]);
  });
});

describe('parseCatalogue', () => {
  it('fills every locale from a plain string and from a partial map', () => {
    const c = parseCatalogue(`version: 1
defaults: { locale: en }
requests:
  - id: r
    title: { en: Only English }
    steps:
      - { id: s, type: text, prompt: Same everywhere }
`);
    expect(c.requests[0]?.title).toEqual({ ru: 'Only English', en: 'Only English' });
    expect(c.requests[0]?.steps[0]?.prompt).toEqual({ ru: 'Same everywhere', en: 'Same everywhere' });
  });

  it('gives each entry a stable content hash that changes with the content only', () => {
    const a = parseCatalogue(minimal('      - { id: s, type: text, prompt: P }'));
    const b = parseCatalogue(`# a comment changes nothing\n${minimal('      - { prompt: P, type: text, id: s }')}`);
    const c = parseCatalogue(minimal('      - { id: s, type: text, prompt: Q }'));
    expect(a.requests[0]?.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(b.requests[0]?.hash).toBe(a.requests[0]?.hash);
    expect(c.requests[0]?.hash).not.toBe(a.requests[0]?.hash);
  });

  it('normalises choice options written as plain strings', () => {
    const c = parseCatalogue(minimal('      - { id: s, type: choice, prompt: P, options: [Yes please, "No"] }'));
    expect(c.requests[0]?.steps[0]?.options).toEqual([
      { id: 'yes_please', label: { ru: 'Yes please', en: 'Yes please' } },
      { id: 'no', label: { ru: 'No', en: 'No' } },
    ]);
  });

  it("reads a title's gender, optional, and refuses an unknown one with its path", () => {
    const steps = '      - { id: s, type: text, prompt: P }';
    expect(parseCatalogue(minimal(steps, '\n    gender: { ru: f }'), 'c.yaml').requests[0]?.gender).toEqual({ ru: 'f' });
    expect(parseCatalogue(minimal(steps), 'c.yaml').requests[0]?.gender).toBeUndefined();
    const problems = problemsOf(minimal(steps, '\n    gender: { ru: feminine }'));
    expect(problems).toEqual([expect.objectContaining({ path: 'requests[0].gender.ru', line: 5 })]);
    expect(problems[0]?.message).toMatch(/m \(masculine\), f \(feminine\), n \(neuter\), pl \(plural\)/);
  });

  it('reads durations', () => {
    expect(durationMs('30m')).toBe(1_800_000);
    expect(durationMs('2w')).toBe(1_209_600_000);
    expect(durationMs('never')).toBeNull();
    const c = parseCatalogue(minimal('      - { id: s, type: text, prompt: P }', '\n    remind_after: never\n    expire_after: 90s'));
    expect(c.requests[0]).toMatchObject({ remindAfterMs: null, expireAfterMs: 90_000 });
  });
});

describe('catalogue errors', () => {
  it('reports a bad step type with its path and line', () => {
    expect(problemsOf(minimal('      - id: s\n        type: video\n        prompt: P'))).toEqual([
      {
        path: 'requests[0].steps[0].type',
        line: 7,
        message: expect.stringMatching(/^expected one of photo, document, photo_or_document, text, date, choice/),
      },
    ]);
  });

  it('reports every problem at once, sorted by line', () => {
    const problems = problemsOf(`version: 1
requests:
  - id: a
    title: A
    steps: []
  - id: a
    title: B
    colour: red
    steps:
      - { id: s, type: text, prompt: P, min_age: 3 }
      - { id: s, type: date, prompt: P }
      - { id: c, type: choice, prompt: P, options: [one] }
`);
    expect(problems.map((p) => `${p.line} ${p.path}: ${p.message}`)).toEqual([
      '5 requests[0].steps: a request needs at least one step',
      '6 requests[1].id: duplicate request id "a" (first at requests[0])',
      '8 requests[1].colour: unknown key',
      '10 requests[1].steps[0].min_age: unknown key',
      '11 requests[1].steps[1].id: duplicate step id "s" (first at requests[1].steps[0])',
      '12 requests[1].steps[2].options: a choice needs at least 2 options',
    ]);
  });

  it.each([
    ['a missing title', minimal('      - { id: s, type: text, prompt: P }').replace('    title: R\n', ''), 'requests[0].title', /expected/],
    ['an empty prompt', minimal('      - { id: s, type: text, prompt: "" }'), 'requests[0].steps[0].prompt', /must not be empty/],
    ['a bad id', minimal('      - { id: Bad Id, type: text, prompt: P }'), 'requests[0].steps[0].id', /lowercase letters/],
    [
      'a bad duration',
      minimal('      - { id: s, type: text, prompt: P }', '\n    remind_after: tomorrow'),
      'requests[0].remind_after',
      /duration/,
    ],
    [
      'min_length over max_length',
      minimal('      - { id: s, type: text, prompt: P, min_length: 9, max_length: 2 }'),
      'requests[0].steps[0].min_length',
      /greater than max_length/,
    ],
    [
      'a broken pattern',
      minimal('      - { id: s, type: text, prompt: P, pattern: "([a-z" }'),
      'requests[0].steps[0].pattern',
      /not a valid regular expression/,
    ],
    [
      'min_age over max_age',
      minimal('      - { id: s, type: date, prompt: P, min_age: 50, max_age: 20 }'),
      'requests[0].steps[0].min_age',
      /greater than max_age/,
    ],
    [
      'an unreal date limit',
      minimal('      - { id: s, type: date, prompt: P, min: 2023-02-30 }'),
      'requests[0].steps[0].min',
      /not a real date/,
    ],
    [
      'a bad mime type',
      minimal('      - { id: s, type: document, prompt: P, mime_types: [pdf] }'),
      'requests[0].steps[0].mime_types[0]',
      /mime type/,
    ],
    ['an unknown locale', minimal('      - { id: s, type: text, prompt: { de: Hallo } }'), 'requests[0].steps[0].prompt.de', /unknown key/],
    [
      'a text in no locale',
      minimal('      - { id: s, type: text, prompt: { de: Hallo } }'),
      'requests[0].steps[0].prompt',
      /at least one locale/,
    ],
    ['a wrong version', minimal('      - { id: s, type: text, prompt: P }').replace('version: 1', 'version: 2'), 'version', /version: 1/],
    ['no requests', 'version: 1\nrequests: []\n', 'requests', /at least one request/],
  ])('reports %s', (_name, yaml, path, message) => {
    const problems = problemsOf(yaml);
    expect(problems).toContainEqual({ path, line: expect.any(Number), message: expect.stringMatching(message) });
  });

  it('reports YAML syntax errors with their line', () => {
    const problems = problemsOf('version: 1\nrequests:\n  - id: a\n    title: { ru: x, en\n');
    expect(problems[0]?.line).toBeGreaterThanOrEqual(4);
    expect(problems[0]?.message).toMatch(/^YAML: /);
  });

  it('reports a missing file without a stack trace', async () => {
    await expect(loadCatalogueFile('/nonexistent/catalogue.yaml')).rejects.toThrow(/file not found/);
  });
});

describe('npm run catalogue:check', () => {
  it('prints OK for the default catalogue and every error with exit 1 for a broken one', async () => {
    const ok = await run('npx', ['tsx', 'src/cli/catalogue-check.ts', 'config/catalogue.yaml']);
    expect(ok.stdout).toMatch(/^OK: 7 request types/);
    const dir = await mkdtemp(path.join(tmpdir(), 'orb-cat-'));
    const file = path.join(dir, 'bad.yaml');
    await writeFile(file, minimal('      - { id: s, type: video, prompt: P }'));
    try {
      await run('npx', ['tsx', 'src/cli/catalogue-check.ts', file]);
      expect.unreachable('a broken catalogue must exit 1');
    } catch (error) {
      const failure = error as { code: number; stderr: string };
      expect(failure.code).toBe(1);
      expect(failure.stderr).toContain(`${file}:6 requests[0].steps[0].type: expected one of`);
      expect(failure.stderr).not.toMatch(/\n\s+at /);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
