import { describe, expect, it } from 'vitest';
import { CatalogueError, parseCatalogue, type CatalogueProblem } from '../../src/config/catalogue.js';
import { DEFAULT_REASONS, reasonsFor } from '../../src/config/reasons.js';

const YAML = `version: 1
defaults:
  reasons:
    text: [Write it in full]
requests:
  - id: one
    title: One
    reasons: [{ en: Not this one, ru: Не то }]
    steps: [{ id: a, type: photo, prompt: A }]
  - id: two
    title: Two
    steps: [{ id: a, type: photo, prompt: A }, { id: b, type: text, prompt: B }, { id: c, type: photo, prompt: C }]
`;

describe('ask-again reasons in the catalogue', () => {
  it('are read per request and per step type, texts in every locale', () => {
    const catalogue = parseCatalogue(YAML);
    expect(catalogue.reasons?.get('one')).toEqual([{ en: 'Not this one', ru: 'Не то' }]);
    expect(catalogue.reasons?.has('two')).toBe(false);
    expect(catalogue.defaultReasons).toEqual({ text: [{ en: 'Write it in full', ru: 'Write it in full' }] });
  });

  it("offer the request's own, else the defaults of the steps' types in order without repeats", () => {
    const catalogue = parseCatalogue(YAML);
    expect(reasonsFor(catalogue.reasons?.get('one'), ['photo'], catalogue.defaultReasons)).toEqual([{ en: 'Not this one', ru: 'Не то' }]);
    const two = reasonsFor(catalogue.reasons?.get('two'), ['photo', 'text', 'photo'], catalogue.defaultReasons).map((r) => r.en);
    expect(two).toEqual([...DEFAULT_REASONS.photo.map((r) => r.en), 'Write it in full']);
    expect(reasonsFor(undefined, ['document']).map((r) => r.en)).toEqual(['The document is not readable', 'This is the wrong document']);
  });

  it('refuse a step type that does not exist and an empty list, with their paths', () => {
    let problems: readonly CatalogueProblem[] = [];
    try {
      parseCatalogue(
        YAML.replace('    text: [Write it in full]', '    picture: [Blurry]').replace('[{ en: Not this one, ru: Не то }]', '[]'),
        'c.yaml',
      );
    } catch (error) {
      if (!(error instanceof CatalogueError)) throw error;
      problems = error.problems;
    }
    expect(problems.map((p) => p.path)).toEqual(expect.arrayContaining(['defaults.reasons.picture', 'requests[0].reasons']));
  });
});
