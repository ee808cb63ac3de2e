import { archiveCommand } from '../export/cli.js';

// `npm run archive -- --client <id> --out client.zip` (see docs/export.md).
process.exitCode = await archiveCommand(process.argv.slice(2));
