import { forgetCommand } from './forget-command.js';

// `npm run forget -- --client <id>` (see README.md, "Personal data").
process.exitCode = await forgetCommand(process.argv.slice(2));
