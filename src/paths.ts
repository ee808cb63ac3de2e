import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The project's folder (the one with package.json), found from this module wherever it runs: from src/
 * through tsx (tests, the CLIs), or bundled into dist/ (`npm start`). Files the app reads at run time
 * (migrations, the playground's page) are named from here, not relative to a module's own place.
 */
function findRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

export const PROJECT_ROOT = findRoot(path.dirname(fileURLToPath(import.meta.url)));

/** A path inside the project's folder. */
export const projectPath = (...parts: string[]): string => path.join(PROJECT_ROOT, ...parts);
