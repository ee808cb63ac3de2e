import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CatalogueError, formatProblem, loadCatalogueFile } from '../config/catalogue.js';
import { EnvError, loadEnv } from '../config/env.js';
import { renderFlowsDoc } from './flows-doc.js';

// `npm run catalogue:graph [-- [--check] [--out file] [catalogue.yaml]]`: writes docs/flows.md, the
// steps and state chart of every request type. `--check` writes nothing and exits with 1 when the
// file differs from what the catalogue gives.
const USAGE = 'usage: catalogue-graph [--check] [--out docs/flows.md] [catalogue.yaml]';

async function main(args: readonly string[]): Promise<number> {
  let check = false;
  let out = 'docs/flows.md';
  let file: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--check') check = true;
    else if (arg === '--out' && args[i + 1] !== undefined) out = args[++i] ?? out;
    else if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      return 0;
    } else if (arg !== undefined && !arg.startsWith('-') && file === undefined) file = arg;
    else {
      console.error(`unknown argument: ${arg ?? ''}\n${USAGE}`);
      return 2;
    }
  }
  file ??= defaultCataloguePath();

  let text: string;
  try {
    text = renderFlowsDoc(await loadCatalogueFile(file), shownPath(file));
  } catch (error) {
    if (!(error instanceof CatalogueError)) throw error;
    console.error(`${error.problems.length} problem(s) in ${file}:`);
    for (const problem of error.problems) console.error(`  ${formatProblem(file, problem)}`);
    return 1;
  }

  if (check) {
    const current = await readFile(out, 'utf8').catch(() => null);
    if (current === text) {
      console.log(`OK: ${out} is up to date with ${file}`);
      return 0;
    }
    console.error(`${out} is ${current === null ? 'missing' : 'out of date'}: run npm run catalogue:graph`);
    return 1;
  }
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, text);
  console.log(`wrote ${out} from ${file}`);
  return 0;
}

function defaultCataloguePath(): string {
  try {
    return loadEnv().cataloguePath;
  } catch (error) {
    if (error instanceof EnvError) return 'config/catalogue.yaml';
    throw error;
  }
}

/** The catalogue's path relative to the working directory, with `/`: the same on every machine. */
function shownPath(file: string): string {
  const relative = path.relative(process.cwd(), path.resolve(file));
  return (relative.startsWith('..') || path.isAbsolute(relative) ? file : relative).split(path.sep).join('/');
}

process.exitCode = await main(process.argv.slice(2));
