// The order in which vitest starts the test files.
import path from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The files that take longest, longest first (seconds on a quiet two-core machine in the comments). Vitest
 * starts the files it knows to be long first, but only from the durations of an earlier run in its cache;
 * without one (a fresh checkout, CI) it starts the largest files first, and a long file that started late
 * left one worker running alone at the end.
 */
const LONGEST = [
  'test/bot/crash.test.ts', // child processes killed and restarted
  'test/flows/service.test.ts',
  'test/main.test.ts', // child processes
  'test/bot/flood-limits.test.ts', // Telegram's limits in real time
  'test/e2e/playground.test.ts', // Chromium
  'test/playground/playground-server.test.ts',
];

/** Vitest's order (from its cache: failed first, then the longest), with the {@link LONGEST} files before all others. */
export default class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (file: TestSpecification): number => {
      const index = LONGEST.indexOf(path.relative(file.project.config.root, file.moduleId).split(path.sep).join('/'));
      return index < 0 ? LONGEST.length : index;
    };
    const sorted = await super.sort(files);
    return sorted
      .map((file, index) => ({ file, index }))
      .sort((a, b) => rank(a.file) - rank(b.file) || a.index - b.index)
      .map(({ file }) => file);
  }
}
