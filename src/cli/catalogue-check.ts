import { CatalogueError, formatProblem, loadCatalogueFile } from '../config/catalogue.js';
import { EnvError, loadEnv } from '../config/env.js';

// `npm run catalogue:check [path]`: validates a catalogue file and lists every problem.
async function main(): Promise<number> {
  let file = process.argv[2];
  if (file === undefined) {
    try {
      file = loadEnv().cataloguePath;
    } catch (error) {
      if (error instanceof EnvError) file = 'config/catalogue.yaml';
      else throw error;
    }
  }
  try {
    const catalogue = await loadCatalogueFile(file);
    console.log(`OK: ${catalogue.requests.length} request types in ${file}`);
    for (const r of catalogue.requests)
      console.log(`  ${r.id} (${r.steps.length} step${r.steps.length === 1 ? '' : 's'}) ${r.hash.slice(0, 12)}`);
    return 0;
  } catch (error) {
    if (!(error instanceof CatalogueError)) throw error;
    console.error(`${error.problems.length} problem(s) in ${file}:`);
    for (const problem of error.problems) console.error(`  ${formatProblem(file, problem)}`);
    return 1;
  }
}

process.exitCode = await main();
