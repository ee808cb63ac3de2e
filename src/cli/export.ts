import { exportCommand } from '../export/cli.js';

// `npm run export -- --request personal_data --since 2026-01-01 --out requests.csv` (see docs/export.md).
process.exitCode = await exportCommand(process.argv.slice(2));
