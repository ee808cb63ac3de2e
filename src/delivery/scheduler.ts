import { errorSummary } from './telegram.js';
import type { FlowService } from '../flows/service.js';
import type { Logger } from '../logger.js';

/** Turns due reminders and expiries (timers kept in the database) into flow events, every `intervalMs`. */
export function startScheduler(deps: {
  flows: FlowService;
  logger: Logger;
  onWork: () => void;
  intervalMs?: number;
  /** Whether this instance runs the timers (one does, when several share a database). Default: yes. */
  leads?: () => Promise<boolean>;
}): { stop(): Promise<void> } {
  let running: Promise<void> | null = null;
  const run = () => {
    if (running) return;
    running = (deps.leads ? deps.leads() : Promise.resolve(true))
      .then((lead) => (lead ? deps.flows.tick() : { reminded: 0, expired: 0, activated: 0 }))
      .then((done) => {
        if (done.reminded + done.expired + done.activated > 0) {
          deps.logger.info(done, 'timers fired');
          deps.onWork();
        }
      })
      .catch((error: unknown) => deps.logger.error({ err: errorSummary(error) }, 'timer pass failed'))
      .finally(() => (running = null));
  };
  const timer = setInterval(run, deps.intervalMs ?? 30_000);
  timer.unref();
  run();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
