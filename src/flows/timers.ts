/**
 * The timer pass and the retention pass: due reminders and expiries, queues left with nothing active,
 * old done inbox rows, and the answers of requests finished long enough ago. The scheduler calls them.
 */
import { and, eq, inArray, lt, lte, notExists, or, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { flows, inbox } from '../db/schema.js';
import { command } from './commands.js';
import type { FlowCore } from './core.js';
import { purgeFinished, type RetentionCounts } from './erasure.js';
import { startNextQueued } from './queue.js';
import { ACTIVE_STATUSES } from './statuses.js';

/** Due flows handled per pass. */
const DUE_BATCH = 500;
/** Requests purged per transaction by the retention pass. */
const RETENTION_BATCH = 200;
/** Done inbox rows only guard against re-delivery, which Telegram stops after a day. */
const INBOX_DONE_KEPT_MS = 7 * 86_400_000;

/** Due reminders and expiries become REMIND / EXPIRE; clients with only queued flows get one started. */
export async function tick(core: FlowCore, now: Date): Promise<{ reminded: number; expired: number; activated: number }> {
  const active = [...ACTIVE_STATUSES];
  const due = await core.db
    .select({ id: flows.id })
    .from(flows)
    .where(and(inArray(flows.status, active), or(lte(flows.remindAt, now), lte(flows.expireAt, now))))
    .orderBy(flows.id)
    .limit(DUE_BATCH);
  let reminded = 0;
  let expired = 0;
  for (const row of due) {
    const result = await command(core, { kind: 'system', id: null }, { flowId: row.id }, (flow) => {
      if (flow.expireAt && flow.expireAt <= now) return { type: 'EXPIRE' };
      if (flow.remindAt && flow.remindAt <= now) return { type: 'REMIND' };
      return null;
    });
    if (result.ok && result.value.status === 'expired') expired++;
    else if (result.ok) reminded++;
  }
  const activeOfSameClient = alias(flows, 'a');
  const stranded = await core.db
    .selectDistinct({ clientId: flows.clientId })
    .from(flows)
    .where(
      and(
        eq(flows.status, 'queued'),
        notExists(
          core.db
            .select({ one: sql`1` })
            .from(activeOfSameClient)
            .where(and(eq(activeOfSameClient.clientId, flows.clientId), inArray(activeOfSameClient.status, active))),
        ),
      ),
    );
  await core.db.delete(inbox).where(and(eq(inbox.status, 'done'), lt(inbox.doneAt, new Date(now.getTime() - INBOX_DONE_KEPT_MS))));
  let activated = 0;
  for (const row of stranded) {
    const started = await core.transact((tx) => startNextQueued(core, tx, row.clientId, { kind: 'system', id: null }, null));
    if (started) activated++;
  }
  return { reminded, expired, activated };
}

/**
 * The retention pass (`retentionDays`): the answers and message contents of requests finished more than
 * that many days before `now` are removed, a batch per transaction. Nothing without `retentionDays`.
 */
export async function applyRetention(core: FlowCore, now: Date): Promise<RetentionCounts> {
  const total = { requests: 0, answers: 0, messages: 0 };
  if (!core.retentionDays) return total;
  const cutoff = new Date(now.getTime() - core.retentionDays * 86_400_000);
  for (let more = true; more;) {
    const batch = await core.transact((tx) => purgeFinished(tx, cutoff, RETENTION_BATCH));
    total.requests += batch.requests;
    total.answers += batch.answers;
    total.messages += batch.messages;
    more = batch.requests === RETENTION_BATCH;
  }
  return total;
}
