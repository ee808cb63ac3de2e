import { errorSummary } from './telegram.js';
import type { FlowService } from '../flows/service.js';
import type { Logger } from '../logger.js';

/**
 * Turns due reminders and expiries (timers kept in the database) into flow events, every `intervalMs`;
 * with `retention`, then removes the answers and message contents of requests past the retention period.
 */
export function startScheduler(deps: {
  flows: FlowService;
  logger: Logger;
  onWork: () => void;
  intervalMs?: number;
  /** Whether this instance runs the timers (one does, when several share a database). Default: yes. */
  leads?: () => Promise<boolean>;
  /** Run the retention pass (`FlowService.applyRetention`) after the timers. */
  retention?: boolean;
}): { stop(): Promise<void> } {
  let running: Promise<void> | null = null;
  const pass = async (): Promise<void> => {
    if (deps.leads && !(await deps.leads())) return;
    const done = await deps.flows.tick();
    if (done.reminded + done.expired + done.activated > 0) {
      deps.logger.info(done, 'timers fired');
      deps.onWork();
    }
    if (!deps.retention) return;
    const purged = await deps.flows.applyRetention();
    if (purged.requests > 0) deps.logger.info(purged, 'retention: answers and message contents of finished requests removed');
  };
  const run = () => {
    if (running) return;
    running = pass()
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
