/**
 * `npm run forget -- --client <id>`: erases a client's data as an admin's /forget does (FlowService.forget),
 * recorded as done from the command line. Prints what was removed.
 */
import { FlowService } from '../flows/service.js';
import { Directory } from '../people/directory.js';
import { CliError, count, parseFlags, positiveId, required, runCommand, type CliDeps } from './command.js';

export const FORGET_USAGE = 'usage: npm run forget -- --client <client id>';

/** Resolves to the exit code. */
export function forgetCommand(args: readonly string[], deps: CliDeps = {}): Promise<number> {
  return runCommand('forget', FORGET_USAGE, deps, async (context) => {
    const flags = parseFlags(args, ['client']);
    if (flags === 'help') return FORGET_USAGE;
    const clientId = positiveId(required(flags, 'client', 'whose data to erase, e.g. --client 111111111'), 'client');
    const { env, database } = await context.open();
    const db = database.db;
    const directory = new Directory(db, { operatorIds: env.operatorIds, adminIds: env.adminIds });
    if (!(await directory.get(clientId))) throw new CliError(`there is no client ${clientId}`);
    if ((await directory.roleOf(clientId)) !== 'client') throw new CliError(`${clientId} is a staff member, not a client`);
    // Read now: inside the erasure's transaction PGlite's one connection is taken.
    const staff = await directory.staffIds();
    const flows = new FlowService({
      db,
      // Erasing starts nothing: the catalogue is not needed (and a broken one must not stand in the way).
      catalogue: () => ({ version: 1, defaultLocale: env.defaultLocale, requests: [], byId: new Map() }),
      defaultLocale: env.defaultLocale,
      operatorsFor: async (id) => (staff.includes(id) ? [id] : staff),
      staffIds: async () => staff,
      ...(deps.clock ? { clock: deps.clock } : {}),
    });
    const result = await flows.forget({ clientId, by: { kind: 'command_line' } });
    if (!result.ok) throw new CliError(`there is no client ${clientId}`);
    const c = result.value;
    return (
      `erased client ${clientId}: ${count(c.answers, 'answer')}, ${count(c.messages, 'logged message')}, ${count(c.inboxUpdates, 'incoming update')}, ` +
      `${count(c.outboxMessages, 'outgoing message')}, ${count(c.resultDeliveries, 'result delivery', 'result deliveries')}; ${count(c.requestsCancelled, 'request')} cancelled ` +
      `(erasure record #${c.erasureId})`
    );
  });
}
